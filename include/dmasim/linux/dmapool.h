/*
 * DMA pools (linux/dmapool.h): small coherent blocks (descriptors,
 * completion records) carved out of coherent pages, with a size, an
 * alignment and a boundary no block crosses.
 */
#ifndef DMASIM_LINUX_DMAPOOL_H
#define DMASIM_LINUX_DMAPOOL_H

#include "device.h"
#include "gfp.h"
#include "types.h"

struct dma_pool;

/* NULL if @size is 0, @align is not a power of two, or @boundary is not
 * a power of two at least @size. */
struct dma_pool *dma_pool_create(const char *name, struct device *dev,
				 size_t size, size_t align, size_t boundary);
void dma_pool_destroy(struct dma_pool *pool);
void *dma_pool_alloc(struct dma_pool *pool, gfp_t mem_flags,
		     dma_addr_t *handle);
void *dma_pool_zalloc(struct dma_pool *pool, gfp_t mem_flags,
		      dma_addr_t *handle);
void dma_pool_free(struct dma_pool *pool, void *vaddr, dma_addr_t dma);

#endif
