/*
 * PCIe Address Translation Services, as Linux's include/linux/pci-ats.h
 * offers them to IOMMU drivers: whether a device may have ATS (it has
 * the capability and is not untrusted: Linux never enables ATS for a
 * device behind an external-facing port), and enabling it in the
 * device's ATS control register with a smallest translation unit.
 */
#ifndef DMASIM_LINUX_PCI_ATS_H
#define DMASIM_LINUX_PCI_ATS_H

#include <stdbool.h>

#include "dmasim/linux/pci.h"

/* Has the ATS capability and is trusted. */
bool pci_ats_supported(struct pci_dev *pdev);
/* Enable ATS with a smallest translation unit of 2^@ps bytes: 0,
 * -EINVAL (not supported, @ps below 12) or -EBUSY (already on). */
int pci_enable_ats(struct pci_dev *pdev, int ps);
void pci_disable_ats(struct pci_dev *pdev);
/* The invalidate queue depth (0 means 32 entries, read as 32). */
int pci_ats_queue_depth(struct pci_dev *pdev);
/* 1 if the device's translated requests are page aligned. */
int pci_ats_page_aligned(struct pci_dev *pdev);

#endif
