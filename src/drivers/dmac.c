/* Placeholder: the dmac driver (being written). */
#include "dmasim/linux/pci.h"

static const struct pci_device_id dmac_ids[] = {
	{ PCI_DEVICE(0xd3a5, 0x0001) },
	{ 0 },
};

static int dmac_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	(void)id;
	return pci_enable_device(pdev);
}

const struct pci_driver dmac_pci_driver = {
	.name = "dmac",
	.id_table = dmac_ids,
	.probe = dmac_probe,
	.driver = { .name = "dmac" },
};
