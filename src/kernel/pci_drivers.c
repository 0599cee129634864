/* The drivers built into the kernel, bound at boot in this order. */
#include <stddef.h>

#include "kernel/pci.h"

const struct pci_driver *const pci_builtin_drivers[] = {
	NULL,
};
