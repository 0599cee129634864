/*
 * Zones, free areas and the page array, as Linux's mmzone.h arranges them
 * for one NUMA node on x86-64: DMA (< 16 MiB), DMA32 (< 4 GiB), Normal,
 * and the empty Movable and Device zones that /proc/zoneinfo still lists.
 *
 * struct page is dmasim's own (16 bytes); the page array is reserved
 * sparse and touched only for pages the allocator handles, and memory the
 * allocator has never handed out is kept as "pristine" ranges of whole
 * order-10 blocks, so a 1 TiB machine boots without touching 1 TiB of
 * page structures.
 */
#ifndef DMASIM_KERNEL_MMZONE_H
#define DMASIM_KERNEL_MMZONE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/linux/gfp.h"

enum zone_type {
	ZONE_DMA,
	ZONE_DMA32,
	ZONE_NORMAL,
	ZONE_MOVABLE,
	ZONE_DEVICE,
	MAX_NR_ZONES
};

#define MAX_ZONELIST_ZONE ZONE_NORMAL
#define PFN_NIL		  UINT32_MAX
#define MAX_DMA_PFN	  (16UL << (20 - PAGE_SHIFT))
#define MAX_DMA32_PFN	  (1UL << (32 - PAGE_SHIFT))
#define MAX_ORDER_NR_PAGES (1UL << (MAX_ORDER - 1))
#define ZONE_MAX_PRISTINE 8
#define MEMBLOCK_MAX	  32

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

/* Page flags. An untouched (all-zero) page is neither free nor allocated. */
#define PG_buddy  0x1u /* head of a free block on a free list */
#define PG_head	  0x2u /* head of an allocated block */
#define PG_zeroed 0x4u /* contents known to be zero (never used) */
#define PG_pcp	  0x8u /* head of a free block on a per-CPU list */

/*
 * flags are atomic (relaxed): a page freed to a per-CPU list changes its
 * flags without the zone lock while a merge may look at it as a buddy.
 * order, next and prev change only under the zone lock or, for pages on
 * a per-CPU list, by that CPU.
 */
struct page {
	uint32_t next, prev; /* free-list links (pfns) */
	_Atomic uint16_t flags;
	uint8_t order;
	uint8_t pad;
	uint32_t private;
};

/* Per-CPU page lists as Linux 6.1 keeps them: orders 0..3 and the
 * pageblock order (9), refilled and drained in batches. */
#define PCP_MAX_ORDER	3
#define PCP_THP_ORDER	9
#define NR_PCP_LISTS	(PCP_MAX_ORDER + 2)

struct per_cpu_pages {
	_Atomic int count; /* pages on all lists (read by /proc) */
	uint32_t head[NR_PCP_LISTS];
	_Atomic unsigned long numa_hit;
	char pad[64 - NR_PCP_LISTS * 4 % 64];
} __attribute__((aligned(64)));

struct free_area {
	uint32_t head;		/* first free block's pfn, or PFN_NIL */
	unsigned long nr_free;	/* blocks on the list */
};

struct pristine_range {
	unsigned long next; /* pfn of the next untouched order-10 block */
	unsigned long end;
};

struct zone {
	const char *name;
	enum zone_type idx;
	unsigned long zone_start_pfn;
	unsigned long spanned_pages;
	unsigned long present_pages;
	unsigned long managed_pages;
	unsigned long init_free_pages; /* memmap estimate (vm_total_pages) */
	unsigned long watermark[NR_WMARK];
	long lowmem_reserve[MAX_NR_ZONES];
	unsigned long pcp_high, pcp_batch;
	int stat_threshold;

	pthread_mutex_t lock;
	struct free_area free_area[MAX_ORDER];
	struct pristine_range pristine[ZONE_MAX_PRISTINE];
	unsigned int nr_pristine;
	_Atomic long nr_free_pages;
	_Atomic unsigned long numa_hit; /* allocations not via a pcp list */
	struct per_cpu_pages *pcp;	/* one per CPU */
};

struct memblock_region {
	uint64_t base;
	uint64_t size;
};

struct memblock_type {
	unsigned int cnt;
	struct memblock_region regions[MEMBLOCK_MAX];
};

struct mm {
	struct zone zones[MAX_NR_ZONES];
	struct memblock_type memory;   /* usable RAM, page-aligned */
	struct memblock_type reserved; /* firmware, kernel image, memmap */
	struct page *mem_map;	       /* indexed by pfn */
	size_t mem_map_bytes;
	unsigned long max_pfn;
	unsigned long totalram_pages; /* managed pages, all zones */
	unsigned long totalreserve_pages;
	unsigned long min_free_kbytes;
	unsigned long nr_cpus;
};

static inline bool populated_zone(const struct zone *z)
{
	return z->present_pages != 0;
}

#endif
