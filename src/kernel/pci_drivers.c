/* The drivers built into the kernel, bound at boot in this order. */
#include <stddef.h>

#include "kernel/pci.h"

extern const struct pci_driver dmac_pci_driver, ata_pci_driver,
	rnic_pci_driver;

const struct pci_driver *const pci_builtin_drivers[] = {
	&dmac_pci_driver,
	&ata_pci_driver,
	&rnic_pci_driver,
	NULL,
};
