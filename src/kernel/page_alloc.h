/*
 * The page allocator: a buddy allocator per zone (orders 0..10), GFP zone
 * selection with Linux's fallback to lower zones only, watermarks and
 * lowmem_reserve protection, and the allocation-failure report.
 */
#ifndef DMASIM_KERNEL_PAGE_ALLOC_H
#define DMASIM_KERNEL_PAGE_ALLOC_H

#include "dmasim/linux/gfp.h"
#include "kernel/mmzone.h"

struct machine;

/* Boot: zones from the kernel's e820, memblock, free lists, watermarks. */
int mm_init(struct machine *m);
void mm_destroy(struct mm *mm);

struct page *mm_alloc_pages(struct machine *m, gfp_t gfp,
			    unsigned int order);
void mm_free_pages(struct machine *m, struct page *page, unsigned int order);

/* Return the calling CPU's per-CPU pages to the buddy lists (Linux does
 * this when a CPU goes offline; dmasim when a thread leaves a machine). */
void mm_drain_local_pages(struct machine *m);
/* Zone that holds @pfn (by span). */
struct zone *pfn_zone(struct mm *mm, unsigned long pfn);
/* Free blocks of @order in @z, as /proc/buddyinfo counts them. */
unsigned long zone_free_blocks(struct zone *z, unsigned int order);
unsigned long mm_nr_free_pages(struct mm *mm);

/* Put the free pages of @z into free lists (called once at boot). */
void zone_free_range(struct mm *mm, unsigned long start_pfn,
		     unsigned long end_pfn);

/* "%pGg": GFP flag names, e.g. "GFP_KERNEL|__GFP_ZERO". */
void gfp_names(gfp_t gfp, char *buf, size_t len);

#endif
