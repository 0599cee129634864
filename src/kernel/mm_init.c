/*
 * Memory bring-up, in Linux 6.1's order and with its numbers:
 * - memblock: usable RAM from the kernel's e820, page-aligned inwards;
 *   reserved: the first 1 MiB (x86 reserves it all since 5.13), the kernel
 *   image at 16 MiB, and the page array (64 bytes per page) at the top.
 * - zones: DMA [first pfn, 16 MiB), DMA32 [16 MiB, 4 GiB), Normal above;
 *   spanned/present/managed as /proc/zoneinfo defines them.
 * - watermarks: min_free_kbytes = clamp(sqrt(lowmem_kB * 16), 128, 262144),
 *   raised as khugepaged does for THP (11 pageblocks per zone, at most 5%
 *   of lowmem); per zone min is its share, low/high add max(min/4,
 *   managed * 10 / 10000) once and twice; lowmem_reserve with ratios
 *   256/256/32.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/dma/swiotlb.h"
#include "kernel/machine.h"
#include "kernel/memblock.h"
#include "kernel/page_alloc.h"

#define SZ_1M		     (1ULL << 20)
#define KERNEL_START	     0x1000000ULL
#define KERNEL_END	     0x4400000ULL
#define STRUCT_PAGE_SIZE     64 /* Linux's struct page, for the reservation */
#define PAGEBLOCK_NR_PAGES   512
#define MIGRATE_PCPTYPES     3
#define WATERMARK_SCALE	     10

static const char *const zone_names[MAX_NR_ZONES] = { "DMA", "DMA32", "Normal",
						      "Movable", "Device" };
static const int lowmem_reserve_ratio[MAX_NR_ZONES] = { 256, 256, 32, 0, 0 };

static void memblock_setup(struct machine *m)
{
	struct mm *mm = &m->mm;
	const struct e820_table *t = &m->e820_kern;
	uint64_t top = 0, present = 0, memmap;

	for (unsigned int i = 0; i < t->nr; i++) {
		uint64_t s = t->map[i].addr, e = s + t->map[i].size;

		if (t->map[i].type != E820_TYPE_RAM)
			continue;
		s = (s + PAGE_SIZE - 1) & PAGE_MASK;
		e &= PAGE_MASK;
		if (s < e) {
			memblock_add(&mm->memory, s, e - s);
			present += (e - s) >> PAGE_SHIFT;
			if (e > top)
				top = e;
		}
	}
	mm->max_pfn = (unsigned long)(top >> PAGE_SHIFT);
	memblock_add(&mm->reserved, 0, SZ_1M);
	memblock_add(&mm->reserved, KERNEL_START, KERNEL_END - KERNEL_START);
	/* The page array, allocated top-down in 2 MiB pieces. */
	memmap = (present * STRUCT_PAGE_SIZE + (2 * SZ_1M - 1)) & ~(2 * SZ_1M - 1);
	if (memmap < top)
		memblock_add(&mm->reserved, top - memmap, memmap);
}

static unsigned long calc_memmap_pages(unsigned long spanned,
				       unsigned long present)
{
	unsigned long pages = spanned;

	if (spanned > present + (present >> 4))
		pages = present;
	return (pages * STRUCT_PAGE_SIZE + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

static void zone_size(struct mm *mm, struct zone *z, unsigned long start,
		      unsigned long end)
{
	uint64_t s = (uint64_t)start << PAGE_SHIFT, e = (uint64_t)end << PAGE_SHIFT;
	unsigned long memmap;

	if (end > mm->max_pfn)
		end = mm->max_pfn;
	if (start >= end)
		return;
	e = (uint64_t)end << PAGE_SHIFT;
	z->zone_start_pfn = start;
	z->spanned_pages = end - start;
	z->present_pages = (unsigned long)(memblock_overlap(&mm->memory, s, e) >>
					   PAGE_SHIFT);
	memmap = calc_memmap_pages(z->spanned_pages, z->present_pages);
	z->init_free_pages = z->present_pages > memmap ? z->present_pages - memmap : 0;
}

static int zones_init(struct mm *mm)
{
	unsigned long first = mm->memory.cnt
				      ? (unsigned long)(mm->memory.regions[0].base >>
							PAGE_SHIFT)
				      : 0;

	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &mm->zones[i];

		z->name = zone_names[i];
		z->idx = (enum zone_type)i;
		for (int o = 0; o < MAX_ORDER; o++)
			z->free_area[o].head = PFN_NIL;
		atomic_init(&z->nr_free_pages, 0);
		if (pthread_mutex_init(&z->lock, NULL))
			return -ENOMEM;
		z->pcp = aligned_alloc(64, mm->nr_cpus * sizeof(*z->pcp));
		if (!z->pcp)
			return -ENOMEM;
		memset(z->pcp, 0, mm->nr_cpus * sizeof(*z->pcp));
		for (unsigned long c = 0; c < mm->nr_cpus; c++)
			for (int l = 0; l < NR_PCP_LISTS; l++)
				z->pcp[c].head[l] = PFN_NIL;
	}
	zone_size(mm, &mm->zones[ZONE_DMA], first, MAX_DMA_PFN);
	zone_size(mm, &mm->zones[ZONE_DMA32], MAX_DMA_PFN, MAX_DMA32_PFN);
	zone_size(mm, &mm->zones[ZONE_NORMAL], MAX_DMA32_PFN, mm->max_pfn);
	return 0;
}

static void free_range_cb(void *ctx, uint64_t s, uint64_t e)
{
	struct mm *mm = ctx;
	unsigned long ps = (unsigned long)(s >> PAGE_SHIFT);
	unsigned long pe = (unsigned long)(e >> PAGE_SHIFT);

	/* Never let a range cross a zone boundary. */
	while (ps < pe) {
		unsigned long lim = ps < MAX_DMA_PFN	  ? MAX_DMA_PFN
				    : ps < MAX_DMA32_PFN ? MAX_DMA32_PFN
							  : pe;

		if (lim > pe)
			lim = pe;
		zone_free_range(mm, ps, lim);
		ps = lim;
	}
}

static unsigned long lowmem_pages(const struct mm *mm)
{
	unsigned long n = 0;

	for (int i = 0; i <= ZONE_NORMAL; i++)
		n += mm->zones[i].managed_pages;
	return n;
}

/* nr_free_buffer_pages(): managed pages above the high watermark. */
static unsigned long nr_free_buffer_pages(const struct mm *mm)
{
	unsigned long n = 0;

	for (int i = 0; i <= ZONE_NORMAL; i++) {
		const struct zone *z = &mm->zones[i];

		if (z->managed_pages > z->watermark[WMARK_HIGH])
			n += z->managed_pages - z->watermark[WMARK_HIGH];
	}
	return n;
}

static void setup_per_zone_wmarks(struct mm *mm)
{
	unsigned long pages_min = mm->min_free_kbytes >> (PAGE_SHIFT - 10);
	unsigned long low = lowmem_pages(mm);

	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &mm->zones[i];
		unsigned long min = 0, tmp;

		if (low && i <= ZONE_NORMAL)
			min = (unsigned long)((uint64_t)pages_min * z->managed_pages / low);
		tmp = (unsigned long)((uint64_t)z->managed_pages * WATERMARK_SCALE / 10000);
		if (min >> 2 > tmp)
			tmp = min >> 2;
		z->watermark[WMARK_MIN] = min;
		z->watermark[WMARK_LOW] = min + tmp;
		z->watermark[WMARK_HIGH] = min + 2 * tmp;
	}
}

static void setup_min_free_kbytes(struct mm *mm)
{
	unsigned long lowmem_kb = lowmem_pages(mm) << (PAGE_SHIFT - 10);
	unsigned long v = (unsigned long)sqrt((double)lowmem_kb * 16);
	unsigned long nr_zones = 0, rec;

	mm->min_free_kbytes = v < 128 ? 128 : v > 262144 ? 262144 : v;
	setup_per_zone_wmarks(mm);
	/* khugepaged's set_recommended_min_free_kbytes() */
	for (int i = 0; i <= ZONE_NORMAL; i++)
		nr_zones += populated_zone(&mm->zones[i]);
	rec = PAGEBLOCK_NR_PAGES * nr_zones * 2 +
	      PAGEBLOCK_NR_PAGES * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
	if (rec > nr_free_buffer_pages(mm) / 20)
		rec = nr_free_buffer_pages(mm) / 20;
	rec <<= PAGE_SHIFT - 10;
	if (rec > mm->min_free_kbytes)
		mm->min_free_kbytes = rec;
	setup_per_zone_wmarks(mm);
}

static void setup_lowmem_reserve(struct mm *mm)
{
	unsigned long reserve = 0;

	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &mm->zones[i];
		unsigned long upper = 0;
		long max = 0;
		bool clear = !lowmem_reserve_ratio[i] || !z->managed_pages;

		for (int j = i + 1; j < MAX_NR_ZONES; j++) {
			upper += mm->zones[j].managed_pages;
			z->lowmem_reserve[j] =
				clear ? 0 : (long)(upper / (unsigned long)lowmem_reserve_ratio[i]);
		}
		for (int j = i; j < MAX_NR_ZONES; j++)
			if (z->lowmem_reserve[j] > max)
				max = z->lowmem_reserve[j];
		max += (long)z->watermark[WMARK_HIGH];
		if (max > (long)z->managed_pages)
			max = (long)z->managed_pages;
		reserve += (unsigned long)max;
	}
	mm->totalreserve_pages = reserve;
}

static int fls_ul(unsigned long x)
{
	int n = 0;

	while (x) {
		n++;
		x >>= 1;
	}
	return n;
}

static void setup_pcp_and_thresholds(struct mm *mm)
{
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &mm->zones[i];
		unsigned long batch = z->managed_pages >> 10, high;
		unsigned long mem = z->managed_pages >> (27 - PAGE_SHIFT);
		int th;

		if (batch > (1024 * 1024) / PAGE_SIZE)
			batch = (1024 * 1024) / PAGE_SIZE;
		batch /= 4;
		if (batch < 1)
			batch = 1;
		batch = (1UL << (fls_ul(batch + batch / 2) - 1)) - 1;
		if (batch < 1)
			batch = 1;
		high = z->watermark[WMARK_LOW] / mm->nr_cpus;
		if (high < batch << 2)
			high = batch << 2;
		z->pcp_batch = batch;
		z->pcp_high = high;
		th = 2 * fls_ul(mm->nr_cpus) * (1 + fls_ul(mem));
		z->stat_threshold = th > 125 ? 125 : th;
	}
}

static void print_zone_ranges(struct machine *m)
{
	struct mm *mm = &m->mm;

	pr_info(m, "Zone ranges:\n");
	for (int i = 0; i <= ZONE_NORMAL; i++) {
		const struct zone *z = &mm->zones[i];

		if (!z->spanned_pages) {
			pr_info(m, "  %-8s empty\n", z->name);
			continue;
		}
		pr_info(m, "  %-8s [mem 0x%016llx-0x%016llx]\n", z->name,
			(unsigned long long)z->zone_start_pfn << PAGE_SHIFT,
			((unsigned long long)(z->zone_start_pfn + z->spanned_pages)
			 << PAGE_SHIFT) - 1);
	}
	pr_info(m, "  %-8s empty\n", "Device");
	pr_info(m, "Movable zone start for each node\n");
	pr_info(m, "Early memory node ranges\n");
	for (unsigned int i = 0; i < mm->memory.cnt; i++) {
		const struct memblock_region *r = &mm->memory.regions[i];

		pr_info(m, "  node %3d: [mem 0x%016llx-0x%016llx]\n", 0,
			(unsigned long long)r->base,
			(unsigned long long)(r->base + r->size - 1));
	}
	if (mm->memory.cnt)
		pr_info(m, "Initmem setup node 0 [mem 0x%016llx-0x%016llx]\n",
			(unsigned long long)mm->memory.regions[0].base,
			((unsigned long long)mm->max_pfn << PAGE_SHIFT) - 1);
}

#define PAGES_PER_SECTION (1UL << (27 - PAGE_SHIFT)) /* 128 MiB sections */

static bool section_has_memory(const struct mm *mm, unsigned long pfn)
{
	uint64_t s = (uint64_t)(pfn & ~(PAGES_PER_SECTION - 1)) << PAGE_SHIFT;

	return memblock_overlap(&mm->memory, s,
				s + ((uint64_t)PAGES_PER_SECTION << PAGE_SHIFT)) != 0;
}

/* Hole pages that get a page structure: those in sections with memory. */
static unsigned long hole_pages(const struct mm *mm, unsigned long s,
				unsigned long e)
{
	unsigned long n = 0;

	while (s < e) {
		unsigned long next = (s | (PAGES_PER_SECTION - 1)) + 1;

		if (next > e)
			next = e;
		if (section_has_memory(mm, s))
			n += next - s;
		s = next;
	}
	return n;
}

/*
 * "On node 0, zone X: N pages in unavailable ranges": Linux counts the
 * holes before each memory range (and after the last, up to its section's
 * end), charged to the zone of the range that follows the hole.
 */
static void print_unavailable(struct machine *m)
{
	struct mm *mm = &m->mm;
	unsigned long hole = 0, end, n;
	const char *zname = "DMA";

	for (unsigned int i = 0; i < mm->memory.cnt; i++) {
		const struct memblock_region *r = &mm->memory.regions[i];
		unsigned long s = (unsigned long)(r->base >> PAGE_SHIFT);

		zname = pfn_zone(mm, s)->name;
		n = hole_pages(mm, hole, s);
		if (n)
			pr_info(m, "On node 0, zone %s: %lu pages in unavailable ranges\n",
				zname, n);
		hole = s + (unsigned long)(r->size >> PAGE_SHIFT);
		zname = pfn_zone(mm, hole - 1)->name;
	}
	end = (mm->max_pfn + PAGES_PER_SECTION - 1) & ~(PAGES_PER_SECTION - 1);
	n = hole_pages(mm, hole, end);
	if (n)
		pr_info(m, "On node 0, zone %s: %lu pages in unavailable ranges\n",
			zname, n);
}

static void print_zonelists(struct machine *m)
{
	struct mm *mm = &m->mm;
	unsigned long total = 0;
	const char *policy = "DMA";

	for (int i = 0; i <= ZONE_NORMAL; i++) {
		total += mm->zones[i].init_free_pages;
		if (populated_zone(&mm->zones[i]))
			policy = mm->zones[i].name;
	}
	pr_info(m, "Fallback order for Node 0: 0 \n");
	pr_info(m, "Built 1 zonelists, mobility grouping on.  Total pages: %lu\n",
		total);
	pr_info(m, "Policy zone: %s\n", policy);
}

int mm_init(struct machine *m)
{
	struct mm *mm = &m->mm;
	size_t bytes;
	int err;

	mm->nr_cpus = m->nr_cpus;
	memblock_setup(m);
	swiotlb_reserve(m);
	bytes = (size_t)mm->max_pfn * sizeof(struct page);
	mm->mem_map = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mm->mem_map == MAP_FAILED) {
		mm->mem_map = NULL;
		return -ENOMEM;
	}
	mm->mem_map_bytes = bytes;
	err = zones_init(mm);
	if (err)
		return err;
	print_zone_ranges(m);
	print_unavailable(m);
	memblock_for_each_free(mm, 0, UINT64_MAX, free_range_cb, mm);
	for (int i = 0; i < MAX_NR_ZONES; i++)
		mm->totalram_pages += mm->zones[i].managed_pages;
	setup_min_free_kbytes(mm);
	setup_lowmem_reserve(mm);
	setup_pcp_and_thresholds(mm);
	print_zonelists(m);
	return 0;
}

void mm_destroy(struct mm *mm)
{
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		if (mm->zones[i].name)
			pthread_mutex_destroy(&mm->zones[i].lock);
		free(mm->zones[i].pcp);
	}
	if (mm->mem_map)
		munmap(mm->mem_map, mm->mem_map_bytes);
	memset(mm, 0, sizeof(*mm));
}
