/* Placeholder: the disk driver (being written). */
#include "dmasim/linux/pci.h"

static const struct pci_device_id ata_ids[] = {
	{ PCI_DEVICE(0xd3a5, 0x0002) },
	{ 0 },
};

static int ata_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	(void)id;
	return pci_enable_device(pdev);
}

const struct pci_driver ata_pci_driver = {
	.name = "dmasim_ata",
	.id_table = ata_ids,
	.probe = ata_probe,
	.driver = { .name = "dmasim_ata" },
};
