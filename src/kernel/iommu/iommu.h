/* The IOMMU core's kernel-internal entry points (see core.c). */
#ifndef DMASIM_KERNEL_IOMMU_IOMMU_H
#define DMASIM_KERNEL_IOMMU_IOMMU_H

#include <stdint.h>

#include "dmasim/linux/iommu.h"

struct machine;

/* A domain of @type from the machine's registered IOMMU driver. */
struct iommu_domain *iommu_domain_alloc_type(struct machine *m,
					     unsigned int type);

/* Groups, default domains and DMA ops for every PCI function (when an
 * IOMMU driver has registered); and their teardown. */
int iommu_probe_devices(struct machine *m);
/* The requester IDs a device's transactions carry: its own, and the
 * alias a PCIe-to-PCI bridge gives it upstream. Returns 1 or 2. */
int iommu_dev_rids(struct device *dev, uint16_t out[2]);
void iommu_release_devices(struct machine *m);

#endif
