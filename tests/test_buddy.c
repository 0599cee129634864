/*
 * The page allocator as a driver sees it: blocks that do not overlap and
 * are naturally aligned, zones chosen from the GFP flags with fallback to
 * lower zones only, lowmem_reserve, splitting and coalescing back to the
 * boot state, exhaustion with Linux's failure line, __GFP_ZERO, bad frees,
 * a randomized run against a reference model, and several threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "helpers.h"

#define PAGE 4096ULL
static const char *const zone_names[] = { "DMA", "DMA32", "Normal" };

/* Per-zone numbers read from /proc/zoneinfo. */
struct zstat {
	long free, min, pcp, protection[5];
	int found;
};

static const char *zone_block(const char *zi, const char *zone)
{
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "Node 0, zone %8s\n", zone);
	return strstr(zi, hdr);
}

static long field_after(const char *from, const char *end, const char *key)
{
	const char *p = strstr(from, key);

	if (!p || (end && p > end))
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static void read_zstat(struct dmasim_machine *m, const char *zone,
		       struct zstat *st)
{
	char *zi = test_read(m, "/proc/zoneinfo");
	const char *b = zone_block(zi, zone), *end, *p;

	memset(st, 0, sizeof(*st));
	if (b) {
		end = strstr(b + 1, "Node 0, zone");
		st->found = 1;
		st->free = field_after(b, end, "  pages free ");
		st->min = field_after(b, end, "        min ");
		p = strstr(b, "protection: (");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "protection: (%ld, %ld, %ld, %ld, %ld)",
					&st->protection[0], &st->protection[1],
					&st->protection[2], &st->protection[3],
					&st->protection[4]), 5);
		for (p = strstr(b, "count: "); p && (!end || p < end);
		     p = strstr(p + 1, "count: "))
			st->pcp += strtol(p + 7, NULL, 10);
	}
	free(zi);
}

/* Free pages the allocator holds in all zones, buddy lists and pcp. */
static long free_pages_total(struct dmasim_machine *m)
{
	long total = 0;

	for (int i = 0; i < 3; i++) {
		struct zstat st;

		read_zstat(m, zone_names[i], &st);
		if (st.found)
			total += st.free + st.pcp;
	}
	return total;
}

/*
 * A zone that served requests of class @cls (1 DMA32, 2 Normal) from a
 * higher zone keeps min + protection[cls] free pages. The per-CPU refill
 * takes one batch after the watermark check, hence the slack.
 */
static void assert_protected(const struct zstat *z, int cls)
{
	long keep = z->min + z->protection[cls];

	if (z->free + z->pcp + 63 < keep)
		fail_msg("zone kept %ld+%ld pages, protection needs %ld",
			 z->free, z->pcp, keep);
}

struct buddy_snapshot {
	unsigned long counts[3][DMASIM_NR_ORDERS];
};

static void snapshot(struct dmasim_machine *m, struct buddy_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 3; i++)
		if (dmasim_buddy_counts(m, zone_names[i], s->counts[i]) != 0)
			memset(s->counts[i], 0, sizeof(s->counts[i]));
}

/* After draining the per-CPU lists, buddyinfo equals @boot. */
static void assert_back_to(struct dmasim_machine *m,
			   const struct buddy_snapshot *boot)
{
	struct buddy_snapshot now;

	dmasim_drain_pages(m);
	snapshot(m, &now);
	for (int z = 0; z < 3; z++)
		for (int o = 0; o < DMASIM_NR_ORDERS; o++) {
			if (now.counts[z][o] != boot->counts[z][o])
				print_error("zone %s order %d: %lu, boot %lu\n",
					    zone_names[z], o, now.counts[z][o],
					    boot->counts[z][o]);
			assert_int_equal(now.counts[z][o], boot->counts[z][o]);
		}
}

static uint64_t phys_of(struct page *p)
{
	return (uint64_t)page_to_phys(p);
}

struct block {
	struct page *page;
	unsigned int order;
	uint64_t tag;
};

static uint64_t block_bytes(const struct block *b)
{
	return PAGE << b->order;
}

/* Stamp the first and last word of a block; check the stamps later. */
static void stamp(struct block *b, uint64_t tag)
{
	uint64_t *w = page_address(b->page);

	b->tag = tag;
	w[0] = tag;
	w[block_bytes(b) / 8 - 1] = ~tag;
}

static int stamp_ok(const struct block *b)
{
	const uint64_t *w = page_address(b->page);

	return w[0] == b->tag && w[block_bytes(b) / 8 - 1] == ~b->tag;
}

static int cmp_phys(const void *a, const void *b)
{
	uint64_t x = phys_of(((const struct block *)a)->page);
	uint64_t y = phys_of(((const struct block *)b)->page);

	return x < y ? -1 : x > y;
}

/* RAM on a machine of @ram bytes: [1M, min(ram,3G)) and above 4G. */
static int in_usable_ram(uint64_t ram, uint64_t start, uint64_t len)
{
	uint64_t low = ram < GiB(3) ? ram : GiB(3);
	uint64_t end = start + len;

	if (start < 0xa0000)
		return end <= 0xa0000;
	if (start >= MiB(1) && end <= low)
		return 1;
	return ram > GiB(3) && start >= GiB(4) && end <= GiB(4) + ram - GiB(3);
}

static void test_blocks_disjoint_aligned(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	enum { N = 400 };
	struct block *b = calloc(N, sizeof(*b));

	(void)state;
	assert_non_null(b);
	for (int i = 0; i < N; i++) {
		b[i].order = (unsigned int)(i * 7) % MAX_ORDER;
		b[i].page = alloc_pages(GFP_KERNEL, b[i].order);
		assert_non_null(b[i].page);
		/* natural alignment: a block of 2^order pages starts at a
		 * multiple of its size */
		assert_int_equal(phys_of(b[i].page) % block_bytes(&b[i]), 0);
		assert_true(in_usable_ram(MiB(512), phys_of(b[i].page),
					  block_bytes(&b[i])));
		stamp(&b[i], 0x5eed0000ULL + (uint64_t)i);
	}
	qsort(b, N, sizeof(*b), cmp_phys);
	for (int i = 0; i < N; i++) {
		assert_true(stamp_ok(&b[i]));
		if (i)
			assert_true(phys_of(b[i - 1].page) +
					    block_bytes(&b[i - 1]) <=
				    phys_of(b[i].page));
	}
	for (int i = 0; i < N; i++)
		__free_pages(b[i].page, b[i].order);
	free(b);
	dmasim_machine_destroy(m);
}

static void test_address_helpers(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	unsigned long addr;
	void *va;

	(void)state;
	assert_non_null(p);
	va = page_address(p);
	assert_ptr_equal(virt_to_page(va), p);
	assert_ptr_equal(pfn_to_page(page_to_pfn(p)), p);
	assert_int_equal(virt_to_phys(va), page_to_phys(p));
	assert_ptr_equal(phys_to_virt(page_to_phys(p)), va);
	/* an address inside the block maps to the page that holds it */
	assert_ptr_equal(virt_to_page((char *)va + 3 * PAGE + 17),
			 pfn_to_page(page_to_pfn(p) + 3));
	assert_int_equal(virt_to_phys((char *)va + 100), page_to_phys(p) + 100);
	__free_pages(p, 2);

	addr = __get_free_pages(GFP_KERNEL, 3);
	assert_true(addr != 0);
	assert_int_equal(virt_to_phys((void *)addr) % (8 * PAGE), 0);
	free_pages(addr, 3);
	free_pages(0, 3); /* a no-op, as on Linux */
	__free_pages(NULL, 0);
	assert_int_equal(get_order(1), 0);
	assert_int_equal(get_order(4096), 0);
	assert_int_equal(get_order(4097), 1);
	assert_int_equal(get_order(4 << 20), 10);
	dmasim_machine_destroy(m);
}

/* Every allocation lies in its GFP zone or a lower one. */
static void test_zone_bounds(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	static const struct {
		gfp_t gfp;
		uint64_t lo, hi;
	} cases[] = {
		{ GFP_KERNEL | GFP_DMA, 0, MiB(16) },
		{ GFP_KERNEL | GFP_DMA32, 0, GiB(4) },
		/* with plenty free, GFP_KERNEL is served from Normal */
		{ GFP_KERNEL, GiB(4), GiB(9) },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (unsigned int order = 0; order < MAX_ORDER; order++) {
			struct page *p = alloc_pages(cases[c].gfp, order);
			uint64_t phys;

			assert_non_null(p);
			phys = phys_of(p);
			assert_true(phys >= cases[c].lo);
			assert_true(phys + (PAGE << order) <= cases[c].hi);
			__free_pages(p, order);
		}
	dmasim_machine_destroy(m);
}

/* No Normal zone under 4 GiB of RAM: GFP_KERNEL falls back to DMA32. */
static void test_kernel_falls_back_when_no_normal(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct page *p = alloc_pages(GFP_KERNEL, 0);

	(void)state;
	assert_non_null(p);
	assert_true(phys_of(p) >= MiB(16) && phys_of(p) < MiB(512));
	__free_pages(p, 0);
	dmasim_machine_destroy(m);
}

/* Allocate @gfp blocks, largest first, until nothing is left. */
static size_t exhaust(gfp_t gfp, struct block **out)
{
	size_t n = 0, cap = 1024;
	struct block *b = malloc(cap * sizeof(*b));

	assert_non_null(b);
	for (int order = MAX_ORDER - 1; order >= 0; order--) {
		struct page *p;

		while ((p = alloc_pages(gfp | __GFP_NOWARN,
					(unsigned int)order))) {
			if (n == cap) {
				cap *= 2;
				b = realloc(b, cap * sizeof(*b));
				assert_non_null(b);
			}
			b[n].page = p;
			b[n++].order = (unsigned int)order;
		}
	}
	*out = b;
	return n;
}

static void free_blocks(struct block *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		__free_pages(b[i].page, b[i].order);
	free(b);
}

/* Exhausting DMA32 never takes from Normal; DMA helps only down to its
 * protection against DMA32 requests. */
static void test_fallback_only_downward(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct zstat normal0, normal1, dma;
	struct buddy_snapshot boot;
	struct block *b;
	size_t n;

	(void)state;
	snapshot(m, &boot);
	read_zstat(m, "Normal", &normal0);
	n = exhaust(GFP_KERNEL | GFP_DMA32, &b);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++)
		assert_true(phys_of(b[i].page) + block_bytes(&b[i]) <= GiB(4));
	read_zstat(m, "Normal", &normal1);
	assert_int_equal(normal1.free + normal1.pcp,
			 normal0.free + normal0.pcp);
	/* DMA was not drained below min + its protection for DMA32 */
	read_zstat(m, "DMA", &dma);
	assert_protected(&dma, 1);
	/* A GFP_DMA request may still dip into DMA: it is not protected
	 * against its own zone. */
	{
		struct page *p = alloc_pages(GFP_KERNEL | GFP_DMA, 0);

		assert_non_null(p);
		assert_true(phys_of(p) < MiB(16));
		__free_pages(p, 0);
	}
	free_blocks(b, n);
	assert_back_to(m, &boot);
	dmasim_machine_destroy(m);
}

/* lowmem_reserve: GFP_KERNEL cannot eat the memory DMA devices need. */
static void test_lowmem_reserve(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct buddy_snapshot boot;
	struct zstat dma;
	struct block *b;
	struct page *p;
	size_t n;

	(void)state;
	snapshot(m, &boot);
	read_zstat(m, "DMA", &dma);
	assert_true(dma.protection[2] > 0);
	n = exhaust(GFP_KERNEL, &b);
	read_zstat(m, "DMA", &dma);
	/* a Normal-class request leaves min + protection[Normal] */
	assert_protected(&dma, 2);
	p = alloc_pages(GFP_KERNEL | GFP_DMA, 0);
	assert_non_null(p);
	assert_true(phys_of(p) < MiB(16));
	__free_pages(p, 0);
	free_blocks(b, n);
	assert_back_to(m, &boot);
	dmasim_machine_destroy(m);
}

/* Splitting then freeing everything coalesces back to the boot state. */
static void test_split_and_coalesce(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct buddy_snapshot boot, mid;
	struct page *small[64], *big;
	gfp_t zones[] = { GFP_KERNEL | GFP_DMA, GFP_KERNEL | GFP_DMA32,
			  GFP_KERNEL };

	(void)state;
	snapshot(m, &boot);
	for (size_t z = 0; z < 3; z++) {
		for (int i = 0; i < 64; i++) {
			small[i] = alloc_pages(zones[z], (unsigned int)i % 4);
			assert_non_null(small[i]);
		}
		big = alloc_pages(zones[z], 10);
		assert_non_null(big);
		dmasim_drain_pages(m);
		snapshot(m, &mid);
		/* order-10 blocks were split into smaller free blocks */
		assert_true(mid.counts[z][10] < boot.counts[z][10]);
		{
			unsigned long lower = 0;

			for (int o = 0; o < 10; o++)
				lower += mid.counts[z][o];
			assert_true(lower > 0);
		}
		/* free in an order that forces merges both ways */
		for (int i = 63; i >= 0; i -= 2)
			__free_pages(small[i], (unsigned int)i % 4);
		__free_pages(big, 10);
		for (int i = 62; i >= 0; i -= 2)
			__free_pages(small[i], (unsigned int)i % 4);
		assert_back_to(m, &boot);
	}
	dmasim_machine_destroy(m);
}

static int dmesg_count(struct dmasim_machine *m, const char *needle)
{
	char *log = test_dmesg(m);
	int n = 0;

	for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle))
		n++;
	free(log);
	return n;
}

static void assert_failure_line(struct dmasim_machine *m, const char *re)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME | DMASIM_DMESG_RAW,
				 DMASIM_LEVELS_ALL);
	int found = 0, lines = test_count_lines(log);
	char line[512];

	for (int i = 0; i < lines; i++)
		if (test_line(log, i, line, sizeof(line)) == 0 &&
		    test_matches(line, re))
			found = 1;
	if (!found)
		print_error("no line matches %s in:\n%s", re, log);
	free(log);
	assert_true(found);
}

/* Exhausting DMA returns NULL and logs Linux's failure line once; NOWARN
 * stays silent; the other zones are untouched. */
static void test_exhaustion(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct buddy_snapshot boot;
	struct block *b;
	struct page *p;
	size_t n;
	int before;

	(void)state;
	snapshot(m, &boot);
	n = exhaust(GFP_KERNEL | GFP_DMA, &b);
	assert_true(n > 0);
	before = dmesg_count(m, "page allocation failure");
	assert_int_equal(before, 0); /* every failure so far was NOWARN */
	assert_null(alloc_pages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 0));
	assert_int_equal(dmesg_count(m, "page allocation failure"), 0);
	assert_null(alloc_pages(GFP_KERNEL | GFP_DMA, 0));
	assert_failure_line(m,
		"^<4>[^:]+: page allocation failure: order:0, "
		"mode:0xcc1\\(GFP_KERNEL\\|GFP_DMA\\), "
		"nodemask=\\(null\\),cpuset=/,mems_allowed=0$");
	/* a DMA32 request is still fine */
	p = alloc_pages(GFP_KERNEL | GFP_DMA32, 0);
	assert_non_null(p);
	__free_pages(p, 0);
	free_blocks(b, n);
	assert_back_to(m, &boot);
	dmasim_machine_destroy(m);
}

static void test_bad_order(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);

	(void)state;
	assert_null(alloc_pages(GFP_KERNEL, MAX_ORDER));
	assert_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 200));
	/* DMA and DMA32 together is a caller bug: refused, not served */
	assert_null(alloc_pages(GFP_DMA | GFP_DMA32, 0));
	assert_true(dmesg_count(m, "__GFP_DMA and __GFP_DMA32") == 1);
	dmasim_machine_destroy(m);
}

/* __GFP_ZERO and get_zeroed_page zero what a previous owner dirtied. */
static void test_gfp_zero_after_dirty_free(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);

	(void)state;
	for (unsigned int order = 0; order < 4; order++)
		for (int round = 0; round < 8; round++) {
			struct page *p = alloc_pages(GFP_KERNEL, order);
			unsigned char *va;
			size_t len = PAGE << order;

			assert_non_null(p);
			memset(page_address(p), 0xa5, len);
			__free_pages(p, order);
			p = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
			assert_non_null(p);
			va = page_address(p);
			for (size_t i = 0; i < len; i++)
				if (va[i])
					fail_msg("byte %zu of an order-%u "
						 "__GFP_ZERO block is %#x",
						 i, order, va[i]);
			__free_pages(p, order);
		}
	/* a bus master may write into free memory: still zeroed */
	{
		struct page *p = alloc_pages(GFP_KERNEL, 0);
		uint64_t phys = page_to_phys(p);
		unsigned char junk[4096], *z;

		__free_pages(p, 0);
		memset(junk, 0xab, sizeof(junk));
		assert_int_equal(dmasim_phys_write(m, phys, junk, PAGE), 0);
		z = (unsigned char *)get_zeroed_page(GFP_KERNEL);
		assert_int_equal(virt_to_phys(z), phys);
		for (size_t i = 0; i < PAGE; i++)
			assert_int_equal(z[i], 0);
		free_pages((unsigned long)z, 0);
	}
	{
		unsigned long a = __get_free_pages(GFP_KERNEL, 0);
		unsigned char *z;

		memset((void *)a, 0xff, PAGE);
		free_pages(a, 0);
		z = (unsigned char *)get_zeroed_page(GFP_KERNEL);
		assert_non_null(z);
		for (size_t i = 0; i < PAGE; i++)
			assert_int_equal(z[i], 0);
		free_pages((unsigned long)z, 0);
	}
	dmasim_machine_destroy(m);
}

/* Freeing what is not allocated is reported as Linux's bad_page does and
 * leaves the allocator intact. */
static void test_bad_frees(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct buddy_snapshot boot;
	struct page *p, *q;
	char *log;

	(void)state;
	snapshot(m, &boot);
	p = alloc_pages(GFP_KERNEL, 0);
	q = alloc_pages(GFP_KERNEL, 2);
	assert_non_null(p);
	assert_non_null(q);
	__free_pages(p, 0);
	__free_pages(p, 0); /* double free */
	assert_failure_line(m, "^<1>BUG: Bad page state in process [^ ]+  "
			       "pfn:[0-9a-f]{5,}$");
	assert_failure_line(m, "^<1>page dumped because: freeing a free page "
			       "\\(double free\\)$");
	__free_pages(q, 1); /* wrong order: refused */
	assert_failure_line(m, "^<1>page dumped because: freed with a "
			       "different order than allocated$");
	/* a tail page, never allocated alone */
	__free_pages(pfn_to_page(page_to_pfn(q) + 1), 0);
	assert_failure_line(m, "^<1>page dumped because: freeing a page "
			       "that was never allocated$");
	__free_pages(q, 2);
	log = test_dmesg(m);
	free(log);
	assert_back_to(m, &boot);
	dmasim_machine_destroy(m);
}

/* xorshift64*: reproducible, seeded per test. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static unsigned int random_order(uint64_t *s)
{
	uint64_t r = rnd(s) % 100;

	if (r < 55)
		return 0;
	if (r < 80)
		return 1 + (unsigned int)(rnd(s) % 3);
	if (r < 95)
		return 4 + (unsigned int)(rnd(s) % 5);
	return 9 + (unsigned int)(rnd(s) % 2);
}

/* The reference model: which pages are live, one byte each. */
struct model {
	unsigned char *owned;
	unsigned long pages;
	long live_pages;
};

static void model_take(struct model *md, const struct block *b)
{
	unsigned long pfn = (unsigned long)(phys_of(b->page) / PAGE);

	for (unsigned long i = 0; i < (1UL << b->order); i++) {
		assert_true(pfn + i < md->pages);
		if (md->owned[pfn + i])
			fail_msg("pfn %#lx handed out twice", pfn + i);
		md->owned[pfn + i] = 1;
	}
	md->live_pages += 1L << b->order;
}

static void model_give(struct model *md, const struct block *b)
{
	unsigned long pfn = (unsigned long)(phys_of(b->page) / PAGE);

	memset(md->owned + pfn, 0, 1UL << b->order);
	md->live_pages -= 1L << b->order;
}

static gfp_t random_gfp(uint64_t *s)
{
	static const gfp_t g[] = { GFP_KERNEL, GFP_KERNEL | GFP_DMA32,
				   GFP_KERNEL | GFP_DMA };
	uint64_t r = rnd(s) % 20;

	return g[r == 0 ? 2 : r < 6 ? 1 : 0] | __GFP_NOWARN;
}

static void test_random_against_model(void **state)
{
	const uint64_t ram = MiB(512);
	struct dmasim_machine *m = test_boot(ram, NULL);
	struct model md = { calloc(ram / PAGE, 1), ram / PAGE, 0 };
	enum { OPS = 20000, MAXLIVE = 3000 };
	struct block *live = calloc(MAXLIVE, sizeof(*live));
	struct buddy_snapshot boot;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	long free0;
	size_t n = 0;

	(void)state;
	assert_non_null(md.owned);
	assert_non_null(live);
	snapshot(m, &boot);
	free0 = free_pages_total(m);
	for (int op = 0; op < OPS; op++) {
		if (n && (n == MAXLIVE || rnd(&seed) % 100 < 45)) {
			size_t i = rnd(&seed) % n;

			assert_true(stamp_ok(&live[i]));
			model_give(&md, &live[i]);
			__free_pages(live[i].page, live[i].order);
			live[i] = live[--n];
		} else {
			gfp_t gfp = random_gfp(&seed);
			struct block b = { .order = random_order(&seed) };
			uint64_t limit = (gfp & GFP_DMA) ? MiB(16) : ram;

			b.page = alloc_pages(gfp, b.order);
			if (!b.page)
				continue; /* a zone may be full: fine */
			assert_int_equal(phys_of(b.page) % block_bytes(&b), 0);
			assert_true(phys_of(b.page) + block_bytes(&b) <= limit);
			model_take(&md, &b);
			stamp(&b, rnd(&seed));
			live[n++] = b;
		}
		if (op % 2000 == 0)
			assert_int_equal(free_pages_total(m),
					 free0 - md.live_pages);
	}
	while (n) {
		assert_true(stamp_ok(&live[n - 1]));
		__free_pages(live[n - 1].page, live[n - 1].order);
		n--;
	}
	assert_int_equal(free_pages_total(m), free0);
	assert_back_to(m, &boot);
	free(live);
	free(md.owned);
	dmasim_machine_destroy(m);
}

/* Threads: each allocates, stamps, checks and frees its own blocks. The
 * workers only count errors; the main thread asserts after joining. */
struct worker {
	struct dmasim_machine *m;
	uint64_t seed;
	int ops;
	long errors, allocs, failures;
	int cpu;
};

static void worker_round(struct worker *w, struct block *live, size_t *n)
{
	if (*n && (*n == 256 || rnd(&w->seed) % 2)) {
		size_t i = rnd(&w->seed) % *n;

		if (!stamp_ok(&live[i]))
			w->errors++;
		__free_pages(live[i].page, live[i].order);
		live[i] = live[--*n];
		return;
	}
	live[*n].order = random_order(&w->seed) % 4;
	live[*n].page = alloc_pages(random_gfp(&w->seed), live[*n].order);
	if (!live[*n].page) {
		w->failures++;
		return;
	}
	w->allocs++;
	stamp(&live[*n], rnd(&w->seed));
	(*n)++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct block live[256];
	size_t n = 0;

	dmasim_enter(w->m);
	w->cpu = dmasim_cpu_id();
	for (int i = 0; i < w->ops; i++)
		worker_round(w, live, &n);
	while (n) {
		n--;
		if (!stamp_ok(&live[n]))
			w->errors++;
		__free_pages(live[n].page, live[n].order);
	}
	dmasim_enter(NULL); /* leaving drains this CPU's lists */
	return NULL;
}

static void run_threads(int nthreads, int ops)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct worker w[4];
	pthread_t t[4];
	struct buddy_snapshot boot;
	long free0;

	snapshot(m, &boot);
	free0 = free_pages_total(m);
	dmasim_enter(NULL); /* give the CPUs to the workers */
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .m = m, .seed = 1234567ULL * (i + 1),
					.ops = ops };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
						&w[i]), 0);
	}
	for (int i = 0; i < nthreads; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	dmasim_enter(m);
	for (int i = 0; i < nthreads; i++) {
		assert_int_equal(w[i].errors, 0);
		assert_true(w[i].allocs > 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_true(w[0].cpu >= 0);
	assert_int_equal(free_pages_total(m), free0);
	assert_back_to(m, &boot);
	dmasim_machine_destroy(m);
}

static void test_two_threads(void **state)
{
	(void)state;
	run_threads(2, 20000);
}

/* More threads than CPUs: the ones without a CPU use the zone lists. */
static void test_more_threads_than_cpus(void **state)
{
	(void)state;
	run_threads(4, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_disjoint_aligned),
		cmocka_unit_test(test_address_helpers),
		cmocka_unit_test(test_zone_bounds),
		cmocka_unit_test(test_kernel_falls_back_when_no_normal),
		cmocka_unit_test(test_fallback_only_downward),
		cmocka_unit_test(test_lowmem_reserve),
		cmocka_unit_test(test_split_and_coalesce),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_order),
		cmocka_unit_test(test_gfp_zero_after_dirty_free),
		cmocka_unit_test(test_bad_frees),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_more_threads_than_cpus),
	};

	return cmocka_run_group_tests_name("buddy", tests, NULL, NULL);
}
