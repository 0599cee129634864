/*
 * The DMA mapping API (linux/dma-mapping.h) with Linux's names, values
 * and return conventions. Drivers never know which path a device uses.
 */
#ifndef DMASIM_LINUX_DMA_MAPPING_H
#define DMASIM_LINUX_DMA_MAPPING_H

#include "device.h"
#include "dma-direction.h"
#include "gfp.h"
#include "types.h"

#define DMA_MAPPING_ERROR (~(dma_addr_t)0)
#define DMA_BIT_MASK(n)	  (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))

#define DMA_ATTR_WEAK_ORDERING	    (1UL << 1)
#define DMA_ATTR_WRITE_COMBINE	    (1UL << 2)
#define DMA_ATTR_NO_KERNEL_MAPPING  (1UL << 4)
#define DMA_ATTR_SKIP_CPU_SYNC	    (1UL << 5)
#define DMA_ATTR_FORCE_CONTIGUOUS   (1UL << 6)
#define DMA_ATTR_ALLOC_SINGLE_PAGES (1UL << 7)
#define DMA_ATTR_NO_WARN	    (1UL << 8)
#define DMA_ATTR_PRIVILEGED	    (1UL << 9)

struct page;
struct scatterlist;
struct sg_table;

int dma_set_mask(struct device *dev, u64 mask);
int dma_set_coherent_mask(struct device *dev, u64 mask);
int dma_set_mask_and_coherent(struct device *dev, u64 mask);
u64 dma_get_mask(struct device *dev);
/* The mask that covers all of RAM on this device's path. */
u64 dma_get_required_mask(struct device *dev);
/* True if the device cannot reach all of RAM directly. */
bool dma_addressing_limited(struct device *dev);
/* The largest single mapping: SIZE_MAX, or swiotlb's 256 KiB when the
 * device may bounce. */
size_t dma_max_mapping_size(struct device *dev);
/* True if sync calls do anything for this device (non-coherent or
 * bouncing). */
bool dma_need_sync(struct device *dev, dma_addr_t addr);
unsigned int dma_get_max_seg_size(struct device *dev);
int dma_set_max_seg_size(struct device *dev, unsigned int size);
unsigned long dma_get_seg_boundary(struct device *dev);
int dma_set_seg_boundary(struct device *dev, unsigned long mask);

void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *handle,
		      gfp_t gfp, unsigned long attrs);
void dma_free_attrs(struct device *dev, size_t size, void *vaddr,
		    dma_addr_t handle, unsigned long attrs);

static inline void *dma_alloc_coherent(struct device *dev, size_t size,
				       dma_addr_t *handle, gfp_t gfp)
{
	return dma_alloc_attrs(dev, size, handle, gfp, 0);
}

static inline void dma_free_coherent(struct device *dev, size_t size,
				     void *vaddr, dma_addr_t handle)
{
	dma_free_attrs(dev, size, vaddr, handle, 0);
}

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs);
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs);
dma_addr_t dma_map_single_attrs(struct device *dev, void *ptr, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs);
void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir);
void dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir);
int dma_mapping_error(struct device *dev, dma_addr_t addr);

/* Scatter-gather: the number of DMA segments (0 on any error); unmap
 * and sync with the nents given to map, not the count it returned. */
int dma_map_sg_attrs(struct device *dev, struct scatterlist *sg, int nents,
		     enum dma_data_direction dir, unsigned long attrs);
void dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg, int nents,
			enum dma_data_direction dir, unsigned long attrs);
/* 0, or -EINVAL (bad arguments), -ENOMEM (no room now), -EIO; sets
 * sgt->nents. */
int dma_map_sgtable(struct device *dev, struct sg_table *sgt,
		    enum dma_data_direction dir, unsigned long attrs);
void dma_unmap_sgtable(struct device *dev, struct sg_table *sgt,
		       enum dma_data_direction dir, unsigned long attrs);
void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg,
			 int nelems, enum dma_data_direction dir);
void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg,
			    int nelems, enum dma_data_direction dir);
void dma_sync_sgtable_for_cpu(struct device *dev, struct sg_table *sgt,
			      enum dma_data_direction dir);
void dma_sync_sgtable_for_device(struct device *dev, struct sg_table *sgt,
				 enum dma_data_direction dir);

#define dma_map_sg(d, s, n, r)		 dma_map_sg_attrs(d, s, n, r, 0)
#define dma_unmap_sg(d, s, n, r)	 dma_unmap_sg_attrs(d, s, n, r, 0)
#define dma_map_single(d, p, s, r)	 dma_map_single_attrs(d, p, s, r, 0)
#define dma_unmap_single(d, a, s, r)	 dma_unmap_page_attrs(d, a, s, r, 0)
#define dma_unmap_single_attrs(d, a, s, r, at) \
	dma_unmap_page_attrs(d, a, s, r, at)
#define dma_map_page(d, p, o, s, r)	 dma_map_page_attrs(d, p, o, s, r, 0)
#define dma_unmap_page(d, a, s, r)	 dma_unmap_page_attrs(d, a, s, r, 0)

static inline void dma_sync_single_range_for_cpu(struct device *dev,
		dma_addr_t addr, size_t offset, size_t size,
		enum dma_data_direction dir)
{
	dma_sync_single_for_cpu(dev, addr + offset, size, dir);
}

static inline void dma_sync_single_range_for_device(struct device *dev,
		dma_addr_t addr, size_t offset, size_t size,
		enum dma_data_direction dir)
{
	dma_sync_single_for_device(dev, addr + offset, size, dir);
}

#endif
