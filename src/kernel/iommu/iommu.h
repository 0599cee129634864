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
/* Zeroed pages for tables an IOMMU walks in RAM (2^@order of them): the
 * physical address, 0 when out of memory; and giving them back (phys 0:
 * nothing). */
uint64_t iommu_table_alloc(struct machine *m, unsigned int order);
void iommu_table_free(struct machine *m, uint64_t phys, unsigned int order);
void iommu_release_devices(struct machine *m);

struct kpci;
struct iommu_group;
/* iommu_get_def_domain_type: the type @k must have whatever the policy
 * (IOMMU_DOMAIN_DMA for an untrusted device), or 0 when it has none. */
unsigned int iommu_dev_def_domain_type(struct machine *m, struct kpci *k);
/* The policy's default domain type: identity, DMA (strict) or DMA-FQ. */
unsigned int iommu_def_domain_type(struct machine *m);
/* Replace the default domain of @g, a group of one device, by a new one
 * of @type: the device is detached, attached to the new domain and given
 * its DMA ops; the old domain is freed. On failure nothing changes.
 * 0, -EINVAL (no default domain, or not one device), -ENOMEM, or the
 * driver's attach error. */
int iommu_group_change_default_domain(struct machine *m,
				      struct iommu_group *g, unsigned int type);

#endif
