/*
 * Per-device DMA operations, as Linux's struct dma_map_ops: a device with
 * none uses dma-direct (and swiotlb under it); a device attached to an
 * IOMMU DMA domain uses dma-iommu's. The DMA API dispatches on this, so
 * drivers never know which path they are on.
 */
#ifndef DMASIM_KERNEL_DMA_OPS_H
#define DMASIM_KERNEL_DMA_OPS_H

#include "dmasim/linux/dma-mapping.h"

struct scatterlist;

struct dma_map_ops {
	void *(*alloc)(struct device *dev, size_t size, dma_addr_t *handle,
		       gfp_t gfp, unsigned long attrs);
	void (*free)(struct device *dev, size_t size, void *vaddr,
		     dma_addr_t handle, unsigned long attrs);
	dma_addr_t (*map_page)(struct device *dev, struct page *page,
			       size_t offset, size_t size,
			       enum dma_data_direction dir,
			       unsigned long attrs);
	void (*unmap_page)(struct device *dev, dma_addr_t addr, size_t size,
			   enum dma_data_direction dir, unsigned long attrs);
	/* the number of DMA segments, or a negative errno */
	int (*map_sg)(struct device *dev, struct scatterlist *sg, int nents,
		      enum dma_data_direction dir, unsigned long attrs);
	void (*unmap_sg)(struct device *dev, struct scatterlist *sg, int nents,
			 enum dma_data_direction dir, unsigned long attrs);
	void (*sync_single_for_cpu)(struct device *dev, dma_addr_t addr,
				    size_t size, enum dma_data_direction dir);
	void (*sync_single_for_device)(struct device *dev, dma_addr_t addr,
				       size_t size,
				       enum dma_data_direction dir);
	void (*sync_sg_for_cpu)(struct device *dev, struct scatterlist *sg,
				int nents, enum dma_data_direction dir);
	void (*sync_sg_for_device)(struct device *dev, struct scatterlist *sg,
				   int nents, enum dma_data_direction dir);
	size_t (*max_mapping_size)(struct device *dev);
	u64 (*get_required_mask)(struct device *dev);
};

static inline const struct dma_map_ops *get_dma_ops(struct device *dev)
{
	return dev->dma_ops;
}

#endif
