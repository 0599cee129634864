/* Placeholder: the disk device model (being written). */
#include "hw/pci.h"

const struct pci_type disk_type = {
	.name = "disk",
	.help = "block device backed by a sparse image file, PIO and DMA modes",
	.role = PCI_ROLE_ENDPOINT,
	.vendor = 0xd3a5, .device = 0x0002, .class_code = 0x010180,
	.revision = 0x01,
	.lspci_name = "dmasim ATA disk controller",
	.bar0_size = 0x1000,
	.nr_msi = 1,
};
