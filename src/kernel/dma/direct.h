/* The direct mapping path without the DMA-API debug hooks, for the
 * scatter-gather code, which reports each list as one call. */
#ifndef DMASIM_KERNEL_DMA_DIRECT_H
#define DMASIM_KERNEL_DMA_DIRECT_H

#include "dmasim/linux/dma-mapping.h"

dma_addr_t dma_map_page_nodebug(struct device *dev, struct page *page,
				size_t offset, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs);
void dma_unmap_page_nodebug(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs);
void dma_sync_single_nodebug(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, bool to_cpu);

#endif
