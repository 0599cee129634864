/*
 * PCIe ATS in the kernel (Linux 6.1's drivers/pci/ats.c): the ATS
 * capability is found when the device is scanned; pci_ats_supported()
 * says no for a device without it and for an untrusted one (below an
 * external-facing port: Linux's "Do not enable ATS for untrusted
 * devices"); pci_enable_ats() writes Enable and the smallest translation
 * unit (STU = page shift - 12) into the capability's control register.
 * IOMMU drivers decide the rest (a unit with device-TLB support, an ACPI
 * ATSR for VT-d) and call these.
 */
#include <errno.h>

#include "dmasim/linux/pci-ats.h"
#include "hw/pci.h"
#include "kernel/pci.h"

void pci_ats_init(struct pci_dev *pdev)
{
	pdev->ats_cap = (u16)pci_find_ext_capability(pdev->hw,
						     PCI_EXT_CAP_ID_ATS);
}

bool pci_ats_supported(struct pci_dev *pdev)
{
	return pdev->ats_cap && !pdev->untrusted;
}

int pci_enable_ats(struct pci_dev *pdev, int ps)
{
	if (!pci_ats_supported(pdev))
		return -EINVAL;
	if (pdev->ats_enabled)
		return -EBUSY;
	if (ps < PCI_ATS_MIN_STU)
		return -EINVAL;
	pci_write_config_word(pdev, pdev->ats_cap + PCI_ATS_CTRL,
			      (u16)(PCI_ATS_CTRL_ENABLE |
				    PCI_ATS_CTRL_STU(ps - PCI_ATS_MIN_STU)));
	pdev->ats_stu = (u8)ps;
	pdev->ats_enabled = true;
	return 0;
}

void pci_disable_ats(struct pci_dev *pdev)
{
	u16 ctrl;

	if (!pdev->ats_enabled)
		return;
	pci_read_config_word(pdev, pdev->ats_cap + PCI_ATS_CTRL, &ctrl);
	pci_write_config_word(pdev, pdev->ats_cap + PCI_ATS_CTRL,
			      (u16)(ctrl & ~PCI_ATS_CTRL_ENABLE));
	pdev->ats_enabled = false;
}

int pci_ats_queue_depth(struct pci_dev *pdev)
{
	u16 cap;

	if (!pdev->ats_cap)
		return -EINVAL;
	pci_read_config_word(pdev, pdev->ats_cap + PCI_ATS_CAP, &cap);
	return PCI_ATS_CAP_QDEP(cap) ? PCI_ATS_CAP_QDEP(cap) : 32;
}

int pci_ats_page_aligned(struct pci_dev *pdev)
{
	u16 cap;

	if (!pdev->ats_cap)
		return 0;
	pci_read_config_word(pdev, pdev->ats_cap + PCI_ATS_CAP, &cap);
	return !!(cap & PCI_ATS_CAP_PAGE_ALIGNED);
}
