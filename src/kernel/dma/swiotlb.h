/*
 * swiotlb: the software bounce-buffer pool of Linux 6.1 (kernel/dma/
 * swiotlb.c). A pool below 4 GiB, reserved at boot, cut into 2 KiB slots
 * grouped in 128-slot segments (a mapping never crosses one, so 256 KiB
 * is the largest), spread over areas with their own lock, searched
 * next-fit. Mapping copies the buffer into the pool; the device works on
 * the copy; sync and unmap copy back per direction.
 */
#ifndef DMASIM_KERNEL_DMA_SWIOTLB_H
#define DMASIM_KERNEL_DMA_SWIOTLB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmasim/linux/dma-direction.h"
#include "dmasim/linux/types.h"

#define IO_TLB_SHIFT	    11
#define IO_TLB_SIZE	    (1UL << IO_TLB_SHIFT)
#define IO_TLB_SEGSIZE	    128
#define IO_TLB_DEFAULT_SIZE (64ULL << 20)
#define IO_TLB_MIN_SLABS    ((1UL << 20) >> IO_TLB_SHIFT)

struct machine;
struct device;

struct io_tlb_slot {
	phys_addr_t orig_addr;
	size_t alloc_size;
	unsigned int list; /* free slots from here to the segment's end */
};

struct io_tlb_area {
	pthread_mutex_t lock;
	unsigned long used;
	unsigned int index;
};

struct io_tlb_mem {
	phys_addr_t start, end;	 /* [start, end) */
	unsigned long nslabs;
	unsigned int nareas;
	bool force;		 /* swiotlb=force: bounce everything */
	struct io_tlb_area *areas;
	struct io_tlb_slot *slots;
	_Atomic unsigned long total_used, used_hiwater;
	_Atomic uint64_t bounced_to_device, bounced_to_cpu; /* bytes */
	_Atomic unsigned long maps, full;
};

/* At boot, before the buddy allocator takes memory: decide from RAM and
 * swiotlb= and reserve the pool. */
void swiotlb_reserve(struct machine *m);
/* "software IO TLB: area num N." (mem_init time). */
void swiotlb_print_areas(struct machine *m);
/* After PCI: the "mapped [mem ...]" lines and the debugfs files. */
int swiotlb_late_init(struct machine *m);
void swiotlb_destroy(struct machine *m);

bool is_swiotlb_buffer(struct machine *m, phys_addr_t addr);
bool swiotlb_force_bounce(struct machine *m);
/* Bounce @size bytes at @orig into slots for @alloc_size (>= size)
 * bytes: the pool address, or DMA_MAPPING_ERROR. Only @size bytes are
 * copied, in and back. */
phys_addr_t swiotlb_tbl_map_single(struct device *dev, phys_addr_t orig,
				   size_t size, size_t alloc_size,
				   enum dma_data_direction dir,
				   unsigned long attrs);
void swiotlb_tbl_unmap_single(struct device *dev, phys_addr_t tlb,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs);
void swiotlb_sync_single_for_device(struct device *dev, phys_addr_t tlb,
				    size_t size, enum dma_data_direction dir);
void swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t tlb,
				 size_t size, enum dma_data_direction dir);
size_t swiotlb_max_mapping_size(struct device *dev);

#endif
