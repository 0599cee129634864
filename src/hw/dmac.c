/* Placeholder: the dmac device model (being written). */
#include "hw/pci.h"

const struct pci_type dmac_type = {
	.name = "dmac",
	.help = "descriptor-ring DMA controller (copy, fill, scatter-gather)",
	.role = PCI_ROLE_ENDPOINT,
	.vendor = 0xd3a5, .device = 0x0001, .class_code = 0x088000,
	.revision = 0x01,
	.lspci_name = "dmasim DMA controller",
	.bar0_size = 0x4000,
	.nr_msi = 8,
};
