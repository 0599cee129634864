/*
 * Buddy allocator (see page_alloc.h). Facts from Linux 6.1's mm/: a block
 * of order k is 2^k pages aligned to its size; its buddy is pfn ^ 2^k;
 * splitting keeps the lower half and frees the upper halves; freeing
 * merges with a free buddy of the same order up to order 10. A request
 * for zone Z may be served from Z or any lower zone, never a higher one,
 * and a lower zone serving it keeps lowmem_reserve[Z] pages back.
 */
#include "kernel/page_alloc.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "kernel/machine.h"

#define ALLOC_WMARK_MIN	 WMARK_MIN
#define ALLOC_WMARK_LOW	 WMARK_LOW
#define ALLOC_NO_WMARKS	 0x10
#define ALLOC_HIGH	 0x20

static inline struct page *pfn_page(struct mm *mm, unsigned long pfn)
{
	return &mm->mem_map[pfn];
}

static inline uint16_t pflags(const struct page *p)
{
	return atomic_load_explicit(&p->flags, memory_order_relaxed);
}

static inline void set_pflags(struct page *p, unsigned int flags)
{
	atomic_store_explicit(&p->flags, (uint16_t)flags, memory_order_relaxed);
}

static void add_relaxed(_Atomic unsigned long *v, unsigned long d)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

struct zone *pfn_zone(struct mm *mm, unsigned long pfn)
{
	if (pfn < MAX_DMA_PFN)
		return &mm->zones[ZONE_DMA];
	if (pfn < MAX_DMA32_PFN)
		return &mm->zones[ZONE_DMA32];
	return &mm->zones[ZONE_NORMAL];
}

static void list_add_head(struct mm *mm, struct zone *z, unsigned long pfn,
			  unsigned int order, uint16_t extra_flags)
{
	struct free_area *area = &z->free_area[order];
	struct page *p = pfn_page(mm, pfn);

	set_pflags(p, PG_buddy | extra_flags);
	p->order = (uint8_t)order;
	p->prev = PFN_NIL;
	p->next = area->head;
	if (area->head != PFN_NIL)
		pfn_page(mm, area->head)->prev = (uint32_t)pfn;
	area->head = (uint32_t)pfn;
	area->nr_free++;
}

static void list_del(struct mm *mm, struct zone *z, unsigned long pfn,
		     unsigned int order)
{
	struct free_area *area = &z->free_area[order];
	struct page *p = pfn_page(mm, pfn);

	if (p->prev != PFN_NIL)
		pfn_page(mm, p->prev)->next = p->next;
	else
		area->head = p->next;
	if (p->next != PFN_NIL)
		pfn_page(mm, p->next)->prev = p->prev;
	set_pflags(p, pflags(p) & ~PG_buddy);
	area->nr_free--;
}

static void add_free_pages(struct zone *z, long delta)
{
	long v = atomic_load_explicit(&z->nr_free_pages, memory_order_relaxed);

	atomic_store_explicit(&z->nr_free_pages, v + delta,
			      memory_order_relaxed);
}

/* Boot: hand [start, end) to the free lists, keeping aligned order-10
 * runs as pristine ranges whose page structures stay untouched. What is
 * handed over is what the zone manages, as memblock_free_all() counts. */
void zone_free_range(struct mm *mm, unsigned long start, unsigned long end)
{
	struct zone *z = pfn_zone(mm, start);

	z->managed_pages += end - start;
	while (start < end) {
		unsigned int order = MAX_ORDER - 1;

		while (order && ((start & ((1UL << order) - 1)) ||
				 start + (1UL << order) > end))
			order--;
		if (order == MAX_ORDER - 1 && z->nr_pristine < ZONE_MAX_PRISTINE) {
			unsigned long run = (end - start) & ~(MAX_ORDER_NR_PAGES - 1);

			z->pristine[z->nr_pristine].next = start;
			z->pristine[z->nr_pristine].end = start + run;
			z->nr_pristine++;
			add_free_pages(z, (long)run);
			start += run;
			continue;
		}
		list_add_head(mm, z, start, order, PG_zeroed);
		add_free_pages(z, 1L << order);
		start += 1UL << order;
	}
}

static unsigned long pristine_blocks(const struct zone *z)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < z->nr_pristine; i++)
		n += (z->pristine[i].end - z->pristine[i].next) /
		     MAX_ORDER_NR_PAGES;
	return n;
}

unsigned long zone_free_blocks(struct zone *z, unsigned int order)
{
	unsigned long n = z->free_area[order].nr_free;

	return order == MAX_ORDER - 1 ? n + pristine_blocks(z) : n;
}

static unsigned long take_pristine(struct mm *mm, struct zone *z)
{
	for (unsigned int i = 0; i < z->nr_pristine; i++) {
		struct pristine_range *r = &z->pristine[i];

		if (r->next < r->end) {
			unsigned long pfn = r->next;

			r->next += MAX_ORDER_NR_PAGES;
			set_pflags(pfn_page(mm, pfn), PG_zeroed);
			return pfn;
		}
	}
	return PFN_NIL;
}

/* Take a block of @order from @z (lock held), splitting a larger one. */
static unsigned long rmqueue_locked(struct mm *mm, struct zone *z, unsigned int order)
{
	unsigned int o;
	unsigned long pfn = PFN_NIL;
	uint16_t zeroed;

	for (o = order; o < MAX_ORDER; o++) {
		if (z->free_area[o].head != PFN_NIL) {
			pfn = z->free_area[o].head;
			list_del(mm, z, pfn, o);
			break;
		}
	}
	if (pfn == PFN_NIL) {
		o = MAX_ORDER - 1;
		pfn = take_pristine(mm, z);
		if (pfn == PFN_NIL)
			return PFN_NIL;
	}
	zeroed = pflags(pfn_page(mm, pfn)) & PG_zeroed;
	while (o > order) {
		o--;
		list_add_head(mm, z, pfn + (1UL << o), o, zeroed);
	}
	set_pflags(pfn_page(mm, pfn), PG_head | zeroed);
	pfn_page(mm, pfn)->order = (uint8_t)order;
	add_free_pages(z, -(1L << order));
	return pfn;
}

static bool page_is_buddy(struct mm *mm, unsigned long buddy,
			  unsigned int order)
{
	const struct page *b;

	if (buddy >= mm->max_pfn)
		return false;
	b = pfn_page(mm, buddy);
	return (pflags(b) & PG_buddy) && b->order == order;
}

static void free_one_block(struct mm *mm, struct zone *z, unsigned long pfn,
			   unsigned int order)
{
	add_free_pages(z, 1L << order);
	while (order < MAX_ORDER - 1) {
		unsigned long buddy = pfn ^ (1UL << order);

		if (!page_is_buddy(mm, buddy, order))
			break;
		list_del(mm, z, buddy, order);
		pfn &= ~(1UL << order);
		order++;
	}
	list_add_head(mm, z, pfn, order, 0);
}

/*
 * Per-CPU lists. A CPU's lists are touched only by the thread holding that
 * CPU; the zone lock is taken only to refill or drain a batch, as in Linux
 * (rmqueue_bulk, free_pcppages_bulk). Pages on them are not free in the
 * buddy sense: /proc/buddyinfo and NR_FREE_PAGES do not count them.
 */
static int pcp_index(unsigned int order)
{
	if (order <= PCP_MAX_ORDER)
		return (int)order;
	return order == PCP_THP_ORDER ? PCP_MAX_ORDER + 1 : -1;
}

static unsigned int pcp_order(int idx)
{
	return idx <= PCP_MAX_ORDER ? (unsigned int)idx : PCP_THP_ORDER;
}

static void pcp_count_add(struct per_cpu_pages *pcp, int d)
{
	atomic_store_explicit(&pcp->count,
			      atomic_load_explicit(&pcp->count, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

static void pcp_push(struct mm *mm, struct per_cpu_pages *pcp, int idx,
		     unsigned long pfn, unsigned int flags)
{
	struct page *p = pfn_page(mm, pfn);

	p->next = pcp->head[idx];
	set_pflags(p, PG_pcp | flags);
	pcp->head[idx] = (uint32_t)pfn;
	pcp_count_add(pcp, 1 << pcp_order(idx));
}

static unsigned long pcp_pop(struct mm *mm, struct per_cpu_pages *pcp, int idx)
{
	unsigned long pfn = pcp->head[idx];

	if (pfn == PFN_NIL)
		return PFN_NIL;
	pcp->head[idx] = pfn_page(mm, pfn)->next;
	pcp_count_add(pcp, -(1 << pcp_order(idx)));
	return pfn;
}

/* Refill with a batch taken from the buddy lists (zone lock). */
static void pcp_refill(struct mm *mm, struct zone *z, struct per_cpu_pages *pcp,
		       int idx)
{
	unsigned int order = pcp_order(idx);
	unsigned long batch = z->pcp_batch, pfn;

	if (batch > 1) {
		batch >>= order;
		if (batch < 2)
			batch = 2;
	}
	pthread_mutex_lock(&z->lock);
	while (batch--) {
		pfn = rmqueue_locked(mm, z, order);
		if (pfn == PFN_NIL)
			break;
		pcp_push(mm, pcp, idx, pfn, pflags(pfn_page(mm, pfn)) & PG_zeroed);
	}
	pthread_mutex_unlock(&z->lock);
}

/* Give @nr_pages worth of blocks of list @idx back to the buddy lists. */
static void pcp_drain_list(struct mm *mm, struct zone *z,
			   struct per_cpu_pages *pcp, int idx, long nr_pages)
{
	unsigned int order = pcp_order(idx);
	unsigned long pfn;

	if (pcp->head[idx] == PFN_NIL)
		return;
	pthread_mutex_lock(&z->lock);
	while (nr_pages > 0 && (pfn = pcp_pop(mm, pcp, idx)) != PFN_NIL) {
		set_pflags(pfn_page(mm, pfn), 0);
		free_one_block(mm, z, pfn, order);
		nr_pages -= 1L << order;
	}
	pthread_mutex_unlock(&z->lock);
}

static struct per_cpu_pages *this_pcp(struct zone *z)
{
	int cpu = current_cpu();

	return cpu >= 0 && z->pcp ? &z->pcp[cpu] : NULL;
}

static unsigned long rmqueue(struct mm *mm, struct zone *z, unsigned int order)
{
	struct per_cpu_pages *pcp = this_pcp(z);
	int idx = pcp_index(order);
	unsigned long pfn;

	if (!pcp || idx < 0) {
		pthread_mutex_lock(&z->lock);
		pfn = rmqueue_locked(mm, z, order);
		if (pfn != PFN_NIL)
			add_relaxed(&z->numa_hit, 1);
		pthread_mutex_unlock(&z->lock);
		return pfn;
	}
	if (pcp->head[idx] == PFN_NIL)
		pcp_refill(mm, z, pcp, idx);
	pfn = pcp_pop(mm, pcp, idx);
	if (pfn != PFN_NIL) {
		set_pflags(pfn_page(mm, pfn), PG_head |
			   (pflags(pfn_page(mm, pfn)) & PG_zeroed));
		add_relaxed(&pcp->numa_hit, 1);
	}
	return pfn;
}

void mm_drain_local_pages(struct machine *m)
{
	struct mm *mm = &m->mm;

	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &mm->zones[i];
		struct per_cpu_pages *pcp = this_pcp(z);

		for (int idx = 0; pcp && idx < NR_PCP_LISTS; idx++)
			pcp_drain_list(mm, z, pcp, idx, LONG_MAX);
	}
}

static bool zone_watermark_ok(struct zone *z, unsigned int order,
			      unsigned int alloc_flags, enum zone_type highest)
{
	long free = atomic_load_explicit(&z->nr_free_pages,
					 memory_order_relaxed);
	long min;

	if (alloc_flags & ALLOC_NO_WMARKS)
		return free >= (1L << order);
	min = (long)z->watermark[alloc_flags & 3];
	if (alloc_flags & ALLOC_HIGH)
		min -= min / 2;
	free -= (1L << order) - 1;
	return free > min + z->lowmem_reserve[highest];
}

static enum zone_type gfp_zone(gfp_t gfp)
{
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
	if (gfp & __GFP_DMA32)
		return ZONE_DMA32;
	return ZONE_NORMAL;
}

static unsigned long get_page_from_freelist(struct machine *m,
					    unsigned int order,
					    unsigned int alloc_flags,
					    enum zone_type highest)
{
	struct mm *mm = &m->mm;

	for (int i = (int)highest; i >= 0; i--) {
		struct zone *z = &mm->zones[i];
		unsigned long pfn;

		if (!z->managed_pages ||
		    !zone_watermark_ok(z, order, alloc_flags, highest))
			continue;
		pfn = rmqueue(mm, z, order);
		if (pfn != PFN_NIL)
			return pfn;
	}
	return PFN_NIL;
}

static void task_comm(char *comm)
{
	memset(comm, 0, 16);
	if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0 || !comm[0])
		strcpy(comm, "dmasim");
}

/* warn_alloc(): "<comm>: page allocation failure: order:N, mode:0x..(..)" */
static void warn_alloc(struct machine *m, gfp_t gfp, unsigned int order)
{
	char comm[16], names[160];

	if ((gfp & __GFP_NOWARN) ||
	    !ratelimit_ok(m, &m->nopage_rs, "warn_alloc"))
		return;
	task_comm(comm);
	gfp_names(gfp, names, sizeof(names));
	pr_warn(m,
		"%s: page allocation failure: order:%u, mode:%#x(%s), nodemask=(null),cpuset=/,mems_allowed=0\n",
		comm, order, gfp, names);
}

static void bad_page(struct machine *m, unsigned long pfn, const char *why)
{
	char comm[16];

	task_comm(comm);
	pr_alert(m, "BUG: Bad page state in process %s  pfn:%05lx\n", comm,
		 pfn);
	pr_alert(m, "page dumped because: %s\n", why);
}

struct page *mm_alloc_pages(struct machine *m, gfp_t gfp, unsigned int order)
{
	struct mm *mm = &m->mm;
	enum zone_type highest = gfp_zone(gfp);
	unsigned long pfn;
	struct page *page;

	if (order >= MAX_ORDER) {
		if (!(gfp & __GFP_NOWARN))
			pr_warn(m, "WARNING: alloc_pages: order %u >= MAX_ORDER (%d)\n",
				order, MAX_ORDER);
		return NULL;
	}
	if ((gfp & __GFP_DMA) && (gfp & __GFP_DMA32)) {
		pr_err(m, "BUG: alloc_pages: __GFP_DMA and __GFP_DMA32 together (mode:%#x)\n",
		       gfp);
		return NULL;
	}
	pfn = get_page_from_freelist(m, order, ALLOC_WMARK_LOW, highest);
	if (pfn == PFN_NIL) {
		unsigned int flags = ALLOC_WMARK_MIN;

		if (gfp & __GFP_HIGH)
			flags |= ALLOC_HIGH;
		if ((gfp & __GFP_MEMALLOC) && !(gfp & __GFP_NOMEMALLOC))
			flags = ALLOC_NO_WMARKS;
		pfn = get_page_from_freelist(m, order, flags, highest);
	}
	if (pfn == PFN_NIL) {
		warn_alloc(m, gfp, order);
		return NULL;
	}
	page = pfn_page(mm, pfn);
	/* always: a bus master may have written to free memory */
	if (gfp & __GFP_ZERO)
		memset(m->ram.cpu + ((uint64_t)pfn << PAGE_SHIFT), 0,
		       PAGE_SIZE << order);
	set_pflags(page, PG_head);
	return page;
}

void mm_free_pages(struct machine *m, struct page *page, unsigned int order)
{
	struct mm *mm = &m->mm;
	struct per_cpu_pages *pcp;
	unsigned long pfn;
	unsigned int flags;
	struct zone *z;
	int idx;

	if (!page)
		return;
	pfn = (unsigned long)(page - mm->mem_map);
	if (page < mm->mem_map || pfn >= mm->max_pfn) {
		pr_alert(m, "BUG: __free_pages: %p is not a page of this machine\n",
			 (void *)page);
		return;
	}
	flags = pflags(page);
	if (!(flags & PG_head) || page->order != order) {
		if (flags & (PG_buddy | PG_pcp))
			bad_page(m, pfn, "freeing a free page (double free)");
		else if (flags & PG_head)
			bad_page(m, pfn, "freed with a different order than allocated");
		else
			bad_page(m, pfn, "freeing a page that was never allocated");
		return;
	}
	z = pfn_zone(mm, pfn);
	pcp = this_pcp(z);
	idx = pcp_index(order);
	if (pcp && idx >= 0) {
		pcp_push(mm, pcp, idx, pfn, 0);
		if (atomic_load_explicit(&pcp->count, memory_order_relaxed) >=
		    (int)z->pcp_high)
			pcp_drain_list(mm, z, pcp, idx, (long)z->pcp_batch);
		return;
	}
	pthread_mutex_lock(&z->lock);
	set_pflags(page, 0);
	free_one_block(mm, z, pfn, order);
	pthread_mutex_unlock(&z->lock);
}

unsigned long mm_nr_free_pages(struct mm *mm)
{
	long total = 0;

	for (int i = 0; i < MAX_NR_ZONES; i++)
		total += atomic_load_explicit(&mm->zones[i].nr_free_pages,
					      memory_order_relaxed);
	return (unsigned long)total;
}
