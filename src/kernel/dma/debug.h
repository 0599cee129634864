/*
 * DMA-API debugging, as Linux's CONFIG_DMA_API_DEBUG (kernel/dma/debug.c):
 * every mapping and coherent allocation is tracked in a hash of 16384
 * buckets by DMA address; unmap, free and sync are checked against what
 * was mapped, and each violation is reported with Linux's text after the
 * "DMA-API: <driver> <device>: " prefix. Only the first error is printed
 * unless all_errors is set; error_count counts them all.
 */
#ifndef DMASIM_KERNEL_DMA_DEBUG_H
#define DMASIM_KERNEL_DMA_DEBUG_H

#include <stdbool.h>
#include <stddef.h>

#include "dmasim/linux/dma-direction.h"
#include "dmasim/linux/types.h"

struct machine;
struct device;
struct dma_debug;
struct scatterlist;

enum {
	dma_debug_single,
	dma_debug_sg,
	dma_debug_coherent,
	dma_debug_resource,
};

/* Boot: honour dma_debug=off and dma_debug_entries=, print the lines,
 * create /sys/kernel/debug/dma-api/. */
int dma_debug_init(struct machine *m);
void dma_debug_destroy(struct machine *m);
bool dma_debug_enabled(struct machine *m);

/* Checks before a mapping of a CPU address: stack, kernel image, not
 * in the linear map. Returns false if @ptr is not mappable at all. */
bool debug_dma_map_single(struct device *dev, const void *ptr, size_t len);
void debug_dma_map_page(struct device *dev, phys_addr_t phys, size_t size,
			enum dma_data_direction dir, dma_addr_t addr,
			unsigned long attrs);
void debug_dma_mapping_error(struct device *dev, dma_addr_t addr);
void debug_dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir);
void debug_dma_alloc_coherent(struct device *dev, size_t size,
			      dma_addr_t addr, void *virt);
void debug_dma_free_coherent(struct device *dev, size_t size, void *virt,
			     dma_addr_t addr);
void debug_dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir);
void debug_dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				      size_t size,
				      enum dma_data_direction dir);
void debug_dma_map_sg(struct device *dev, struct scatterlist *sg, int nents,
		      int mapped_ents, enum dma_data_direction dir,
		      unsigned long attrs);
void debug_dma_unmap_sg(struct device *dev, struct scatterlist *sg,
			int nelems, enum dma_data_direction dir);
void debug_dma_sync_sg(struct device *dev, struct scatterlist *sg, int nelems,
		       enum dma_data_direction dir, bool to_cpu);
/* A driver let go of @dev: report mappings it left behind. */
void debug_dma_driver_unbound(struct device *dev);

unsigned long dma_debug_error_count(struct machine *m);
void dma_debug_set_all_errors(struct machine *m, bool all);

#endif
