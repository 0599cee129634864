/*
 * The IOMMU API (linux/iommu.h, Linux 6.1 signatures): domains, mapping
 * with page-size selection, attaching devices and groups, fault handlers;
 * and the ops an IOMMU driver provides.
 */
#ifndef DMASIM_LINUX_IOMMU_H
#define DMASIM_LINUX_IOMMU_H

#include "device.h"
#include "gfp.h"
#include "types.h"

#define IOMMU_READ	(1 << 0)
#define IOMMU_WRITE	(1 << 1)
#define IOMMU_CACHE	(1 << 2)
#define IOMMU_NOEXEC	(1 << 3)
#define IOMMU_MMIO	(1 << 4)
#define IOMMU_PRIV	(1 << 5)

#define IOMMU_FAULT_READ  0x0
#define IOMMU_FAULT_WRITE 0x1

#define __IOMMU_DOMAIN_PAGING  (1U << 0)
#define __IOMMU_DOMAIN_DMA_API (1U << 1)
#define __IOMMU_DOMAIN_PT      (1U << 2)
#define __IOMMU_DOMAIN_DMA_FQ  (1U << 3)
#define IOMMU_DOMAIN_BLOCKED   0U
#define IOMMU_DOMAIN_IDENTITY  __IOMMU_DOMAIN_PT
#define IOMMU_DOMAIN_UNMANAGED __IOMMU_DOMAIN_PAGING
#define IOMMU_DOMAIN_DMA       (__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API)
#define IOMMU_DOMAIN_DMA_FQ    (IOMMU_DOMAIN_DMA | __IOMMU_DOMAIN_DMA_FQ)

struct iommu_domain;
struct iommu_group;
struct bus_type;

struct iommu_domain_geometry {
	dma_addr_t aperture_start;
	dma_addr_t aperture_end;
	bool force_aperture;
};

/* What an unmap gathered for one IOTLB sync. */
struct iommu_iotlb_gather {
	unsigned long start;
	unsigned long end;
	size_t pgsize;
	bool queued;	/* lazy: the flush queue will flush it */
};

typedef int (*iommu_fault_handler_t)(struct iommu_domain *domain,
				     struct device *dev, unsigned long iova,
				     int flags, void *token);

struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct device *dev);
	void (*detach_dev)(struct iommu_domain *domain, struct device *dev);
	int (*map_pages)(struct iommu_domain *domain, unsigned long iova,
			 phys_addr_t paddr, size_t pgsize, size_t pgcount,
			 int prot, gfp_t gfp, size_t *mapped);
	size_t (*unmap_pages)(struct iommu_domain *domain, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iommu_iotlb_gather *gather);
	void (*flush_iotlb_all)(struct iommu_domain *domain);
	void (*iotlb_sync)(struct iommu_domain *domain,
			   struct iommu_iotlb_gather *gather);
	phys_addr_t (*iova_to_phys)(struct iommu_domain *domain,
				    dma_addr_t iova);
	void (*free)(struct iommu_domain *domain);
};

struct iommu_domain {
	unsigned int type;
	const struct iommu_domain_ops *ops;
	unsigned long pgsize_bitmap;	/* supported page sizes */
	iommu_fault_handler_t handler;
	void *handler_token;
	struct iommu_domain_geometry geometry;
	void *iova_cookie;		/* dma-iommu's state */
	struct dmasim_machine *machine;
};

enum iommu_cap {
	IOMMU_CAP_CACHE_COHERENCY,
	IOMMU_CAP_INTR_REMAP,
	IOMMU_CAP_NOEXEC,
	IOMMU_CAP_PRE_BOOT_PROTECTION,
	IOMMU_CAP_DEFERRED_FLUSH, /* may use a flush queue (lazy mode) */
};

/* What an IOMMU driver registers (iommu_device_register). */
struct iommu_ops {
	bool (*capable)(struct device *dev, enum iommu_cap cap);
	struct iommu_domain *(*domain_alloc)(unsigned int iommu_domain_type);
	int (*probe_device)(struct device *dev);
	void (*release_device)(struct device *dev);
	int (*def_domain_type)(struct device *dev);
	unsigned long pgsize_bitmap;
	const struct iommu_domain_ops *default_domain_ops;
};

struct iommu_device {
	const struct iommu_ops *ops;
	const char *name;		/* "dmar0" */
	struct dmasim_machine *machine;
};

int iommu_device_register(struct iommu_device *iommu,
			  const struct iommu_ops *ops, struct device *hwdev);
void iommu_device_unregister(struct iommu_device *iommu);

/* Linux 6.1 allocates from a bus; dmasim's PCI bus is the only one.
 * The domain belongs to the calling thread's machine. */
extern struct bus_type pci_bus_type;
struct iommu_domain *iommu_domain_alloc(struct bus_type *bus);
void iommu_domain_free(struct iommu_domain *domain);
int iommu_attach_device(struct iommu_domain *domain, struct device *dev);
void iommu_detach_device(struct iommu_domain *domain, struct device *dev);
struct iommu_domain *iommu_get_domain_for_dev(struct device *dev);

/* @iova, @paddr and @size aligned to the smallest page size, else
 * -EINVAL ("iommu: unaligned: ..."); each chunk gets the largest page
 * size its alignment and length allow; a partial failure is undone. */
int iommu_map(struct iommu_domain *domain, unsigned long iova,
	      phys_addr_t paddr, size_t size, int prot);
/* Bytes unmapped (stops at the first hole), IOTLB synced. */
size_t iommu_unmap(struct iommu_domain *domain, unsigned long iova,
		   size_t size);
/* The same without the sync: the caller syncs @gather (or queues it). */
size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long iova,
			size_t size, struct iommu_iotlb_gather *gather);
void iommu_iotlb_sync(struct iommu_domain *domain,
		      struct iommu_iotlb_gather *gather);
void iommu_flush_iotlb_all(struct iommu_domain *domain);
phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova);

void iommu_set_fault_handler(struct iommu_domain *domain,
			     iommu_fault_handler_t handler, void *token);
/* Called by drivers on a fault: the domain's handler's result, or
 * -ENOSYS if it has none. */
int report_iommu_fault(struct iommu_domain *domain, struct device *dev,
		       unsigned long iova, int flags);

static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *g)
{
	g->start = ~0UL;
	g->end = 0;
	g->pgsize = 0;
	g->queued = false;
}

#endif
