/*
 * memblock: the boot-time record of usable memory and of what is reserved
 * in it (first MiB, kernel image, page array), before the buddy allocator
 * takes the rest over.
 */
#ifndef DMASIM_KERNEL_MEMBLOCK_H
#define DMASIM_KERNEL_MEMBLOCK_H

#include <stdint.h>

#include "kernel/mmzone.h"

void memblock_add(struct memblock_type *t, uint64_t base, uint64_t size);
/* Bytes of @t inside [start, end). */
uint64_t memblock_overlap(const struct memblock_type *t, uint64_t start,
			  uint64_t end);
/* Call @fn for each part of memory in [start, end) not reserved. */
void memblock_for_each_free(const struct mm *mm, uint64_t start,
			    uint64_t end,
			    void (*fn)(void *ctx, uint64_t s, uint64_t e),
			    void *ctx);

/* Reserve @size bytes aligned to @align (a power of two) as high as
 * possible below @limit, above the first MiB (memblock_alloc_low on x86,
 * top-down). Returns the base, or 0 if nothing fits. */
#define SZ_1M_MEMBLOCK 0x100000ULL
uint64_t memblock_alloc_top_down(struct mm *mm, uint64_t size, uint64_t align,
				 uint64_t limit);

#endif
