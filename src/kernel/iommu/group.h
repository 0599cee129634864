/*
 * IOMMU groups: the smallest sets of devices the IOMMU can isolate from
 * one another, computed as Linux 6.1's pci_device_group() does from the
 * fabric: DMA aliases (a PCIe-to-PCI bridge speaks for the conventional
 * devices below it), the walk upstream that stops at a port whose path to
 * the root has ACS with SV, RR, CR and UF enabled, aliases on the same
 * bus, and multi-function devices without ACS. IDs count from 0 in probe
 * order.
 */
#ifndef DMASIM_KERNEL_IOMMU_GROUP_H
#define DMASIM_KERNEL_IOMMU_GROUP_H

#include <stdbool.h>

struct machine;
struct kpci;

#define REQ_ACS_FLAGS (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

struct iommu_group {
	int id;
	struct kpci **devs;	/* in probe order */
	unsigned int nr_devs;
	int domain_type;	/* default domain type (iommu core) */
	void *domain;		/* the attached domain (iommu core) */
};

struct iommu_groups {
	struct iommu_group **groups;
	unsigned int nr;
};

/* Enable ACS on every function that has it (pci_enable_acs: SV, RR, CR,
 * UF as the capability allows; TB too below an external-facing port), as
 * Linux does when an IOMMU asks for it. */
void pci_enable_acs_all(struct machine *m);
/* Put every PCI function in a group (pci_device_group). 0 or -ENOMEM. */
int iommu_groups_build(struct machine *m);
void iommu_groups_free(struct machine *m);
struct iommu_group *iommu_group_of(struct machine *m, const struct kpci *k);
/* Is ACS enabled for @flags on the path from @k to the root bus? */
bool pci_acs_path_enabled(struct machine *m, struct kpci *k, unsigned int flags);

#endif
