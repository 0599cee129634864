/* The IOMMU core's kernel-internal entry points (see core.c). */
#ifndef DMASIM_KERNEL_IOMMU_IOMMU_H
#define DMASIM_KERNEL_IOMMU_IOMMU_H

#include "dmasim/linux/iommu.h"

struct machine;

/* A domain of @type from the machine's registered IOMMU driver. */
struct iommu_domain *iommu_domain_alloc_type(struct machine *m,
					     unsigned int type);

#endif
