/*
 * IOVA allocator: the helpers, size alignment for every order, results
 * within [start_pfn, limit], top-down order, reuse after free, a full
 * domain and its recovery, reserve_iova, 32-bit first then the full
 * limit (max32_alloc_size), randomized runs against a bitmap model (tree
 * and fast paths), the per-CPU magazines (hit on the same CPU, not on
 * another, depot, overflow to the tree), flush and retry on failure, and
 * concurrent alloc/free from CPU threads and a thread with no CPU.
 * Workers only record; the main thread asserts after joining.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "kernel/iommu/iova.h"

#define GRANULE 4096UL
#define PFN_4G	(1UL << 20) /* dma_32bit_pfn with 4 KiB granules */

static unsigned long rnd(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return *s >> 33;
}

static unsigned long roundup_pow2(unsigned long n)
{
	unsigned long p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static struct dmasim_machine *boot(void)
{
	struct dmasim_machine *m = test_boot(MiB(256), NULL);

	assert_int_equal(dmasim_cpu_id(), 0);
	return m;
}

static void test_helpers(void **state)
{
	struct iova_domain d;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	assert_int_equal(iova_shift(&d), 12);
	assert_int_equal(d.dma_32bit_pfn, PFN_4G);
	assert_int_equal(d.max32_alloc_size, PFN_4G);
	assert_int_equal(iova_offset(&d, 0x12345), 0x345);
	assert_int_equal(iova_align(&d, 1), 4096);
	assert_int_equal(iova_align(&d, 4096), 4096);
	assert_int_equal(iova_align(&d, 4097), 8192);
	assert_int_equal(iova_align_down(&d, 8191), 4096);
	assert_int_equal(iova_pfn(&d, 0xfee00000), 0xfee00);
	assert_int_equal(iova_domain_check(&d), 0);
	assert_null(find_iova(&d, 5));
	/* the anchor is never found nor freed */
	assert_null(find_iova(&d, IOVA_ANCHOR));
	free_iova(&d, IOVA_ANCHOR);
	assert_int_equal(iova_domain_check(&d), 0);
	put_iova_domain(&d);

	init_iova_domain(&d, 65536, 1);
	assert_int_equal(iova_shift(&d), 16);
	assert_int_equal(d.dma_32bit_pfn, 1UL << 16);
	put_iova_domain(&d);
}

/* Every order 0..12 and some sizes that are not powers of two. */
static void test_alignment(void **state)
{
	static const unsigned long odd[] = { 3, 5, 7, 17, 31, 33, 100 };
	struct iova_domain d;
	unsigned long limit = PFN_4G - 1;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	for (int round = 0; round < 3; round++) {
		for (unsigned int order = 0; order <= 12; order++) {
			unsigned long size = 1UL << order;
			struct iova *iova = alloc_iova(&d, size, limit, true);

			assert_non_null(iova);
			assert_int_equal(iova->pfn_lo % size, 0);
			assert_int_equal(iova_size(iova), size);
			assert_true(iova->pfn_hi <= limit);
			assert_true(iova->pfn_lo >= 1);
			assert_ptr_equal(find_iova(&d, iova->pfn_hi), iova);
		}
		for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			struct iova *iova = alloc_iova(&d, odd[i], limit, true);

			assert_non_null(iova);
			assert_int_equal(iova->pfn_lo % roundup_pow2(odd[i]), 0);
			assert_int_equal(iova_size(iova), odd[i]);
		}
	}
	/* unaligned: packed right under the previous one */
	{
		struct iova *a = alloc_iova(&d, 3, limit, false);
		struct iova *b = alloc_iova(&d, 3, limit, false);

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(b->pfn_hi + 1, a->pfn_lo);
	}
	assert_true(iova_domain_check(&d) > 0);
	put_iova_domain(&d);
}

static void test_top_down(void **state)
{
	struct iova_domain d;
	unsigned long limit = 0xfffff;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	for (unsigned long i = 0; i < 16; i++) {
		struct iova *iova = alloc_iova(&d, 1, limit, true);

		assert_non_null(iova);
		assert_int_equal(iova->pfn_lo, limit - i);
	}
	/* a size-4 range goes to the next 4-aligned hole below */
	{
		struct iova *iova = alloc_iova(&d, 4, limit, true);

		assert_non_null(iova);
		assert_int_equal(iova->pfn_lo, limit - 15 - 4);
	}
	/* a lower limit is honoured */
	{
		struct iova *iova = alloc_iova(&d, 2, 0x1234, true);

		assert_non_null(iova);
		assert_int_equal(iova->pfn_lo, 0x1232);
	}
	/* above 4 GiB: a separate cached node, top-down from its limit */
	{
		struct iova *iova = alloc_iova(&d, 1, (1UL << 36) - 1, true);

		assert_non_null(iova);
		assert_int_equal(iova->pfn_lo, (1UL << 36) - 1);
		iova = alloc_iova(&d, 1, (1UL << 36) - 1, true);
		assert_int_equal(iova->pfn_lo, (1UL << 36) - 2);
	}
	put_iova_domain(&d);
}

/* A domain of 48 pfns [16, 63]: filled, full, then one freed. */
static void test_full_and_recovery(void **state)
{
	struct iova_domain d;
	struct iova *all[48];

	(void)state;
	init_iova_domain(&d, GRANULE, 16);
	for (int i = 0; i < 48; i++) {
		all[i] = alloc_iova(&d, 1, 63, false);
		assert_non_null(all[i]);
		assert_true(all[i]->pfn_lo >= 16 && all[i]->pfn_lo <= 63);
	}
	assert_null(alloc_iova(&d, 1, 63, false));
	assert_null(alloc_iova(&d, 1, 1000, false)); /* max32 fast fail */
	assert_int_equal(d.max32_alloc_size, 1);
	assert_int_equal(alloc_iova_fast(&d, 1, 63, true), 0);
	{
		unsigned long pfn = all[20]->pfn_lo;

		free_iova(&d, pfn);
		assert_int_equal(d.max32_alloc_size, PFN_4G);
		all[20] = alloc_iova(&d, 1, 63, false);
		assert_non_null(all[20]);
		assert_int_equal(all[20]->pfn_lo, pfn);
		assert_null(alloc_iova(&d, 1, 63, false));
	}
	/* free two neighbours: a size-2 aligned fit appears */
	__free_iova(&d, all[0]);
	__free_iova(&d, all[1]);
	assert_null(find_iova(&d, 63));
	all[0] = alloc_iova(&d, 2, 63, true);
	assert_non_null(all[0]);
	assert_int_equal(all[0]->pfn_lo, 62);
	assert_int_equal(iova_domain_check(&d), 47);
	put_iova_domain(&d);
}

static void test_reuse_after_free(void **state)
{
	struct iova_domain d;
	struct iova *a, *b, *c;
	unsigned long pa;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	a = alloc_iova(&d, 8, PFN_4G - 1, true);
	b = alloc_iova(&d, 8, PFN_4G - 1, true);
	c = alloc_iova(&d, 8, PFN_4G - 1, true);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	pa = a->pfn_lo;
	/* the top one goes: the cached node moves above it, and the
	 * next search finds the hole again */
	__free_iova(&d, a);
	a = alloc_iova(&d, 8, PFN_4G - 1, true);
	assert_int_equal(a->pfn_lo, pa);
	/* a hole in the middle is found by the retry from the limit */
	pa = b->pfn_lo;
	__free_iova(&d, b);
	b = alloc_iova(&d, 8, PFN_4G - 1, true);
	assert_int_equal(b->pfn_lo, pa);
	assert_int_equal(iova_domain_check(&d), 3);
	put_iova_domain(&d);
}

static void test_reserve(void **state)
{
	struct iova_domain d;
	struct iova *r, *r2;
	int n = 0;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	/* the x86 MSI window */
	r = reserve_iova(&d, iova_pfn(&d, 0xfee00000), iova_pfn(&d, 0xfeefffff));
	assert_non_null(r);
	assert_int_equal(r->pfn_lo, 0xfee00);
	assert_int_equal(r->pfn_hi, 0xfeeff);
	assert_ptr_equal(find_iova(&d, 0xfee80), r);
	assert_null(reserve_iova(&d, 10, 9));
	assert_null(reserve_iova(&d, 1, 1UL << 60));

	/* allocations from just above the window go around it */
	for (;;) {
		struct iova *iova = alloc_iova(&d, 16, 0xfef0f, true);

		assert_non_null(iova);
		assert_true(iova->pfn_hi < 0xfee00 || iova->pfn_lo > 0xfeeff);
		if (iova->pfn_hi < 0xfee00)
			break;
		n++;
	}
	assert_int_equal(n, 1);

	put_iova_domain(&d);

	/* overlaps merge: an existing range is widened down to the start
	 * of the request and the part above it is a new range */
	n = 0;
	init_iova_domain(&d, GRANULE, 1);
	r = reserve_iova(&d, 0x100, 0x1ff);
	r2 = reserve_iova(&d, 0x80, 0x27f);
	assert_non_null(r2);
	assert_int_equal(r->pfn_lo, 0x80);
	assert_int_equal(r->pfn_hi, 0x1ff);
	assert_int_equal(r2->pfn_lo, 0x200);
	assert_int_equal(r2->pfn_hi, 0x27f);
	assert_ptr_equal(reserve_iova(&d, 0x90, 0xa0), r);
	assert_int_equal(iova_domain_check(&d), 2);
	/* nothing allocated inside, everything else below 0x300 is */
	for (int i = 0; i < 0x300; i++) {
		struct iova *iova = alloc_iova(&d, 1, 0x2ff, false);

		if (!iova)
			break;
		assert_true(iova->pfn_lo < 0x80 || iova->pfn_lo > 0x27f);
		assert_true(iova->pfn_lo >= 1);
		n++;
	}
	assert_int_equal(iova_domain_check(&d), 2 + 0x7f + 0x80);
	put_iova_domain(&d);
}

/* dma-iommu's pattern: below 4 GiB first, then the full mask. */
static void test_32bit_then_full(void **state)
{
	struct iova_domain d;
	unsigned long lim32 = PFN_4G - 1, lim64 = (1UL << 36) - 1, p1, p2, p3;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	/* everything below 4 GiB taken but 8 pfns at the top */
	assert_non_null(reserve_iova(&d, 1, PFN_4G - 9));
	p1 = alloc_iova_fast(&d, 4, lim32, false);
	p2 = alloc_iova_fast(&d, 4, lim32, false);
	assert_int_equal(p1, PFN_4G - 4);
	assert_int_equal(p2, PFN_4G - 8);
	assert_int_equal(alloc_iova_fast(&d, 4, lim32, false), 0);
	assert_int_equal(d.max32_alloc_size, 4);
	p3 = alloc_iova_fast(&d, 4, lim64, true);
	assert_true(p3 >= PFN_4G && p3 + 3 <= lim64);
	/* known full for that size: fails without a search */
	assert_int_equal(alloc_iova_fast(&d, 8, lim32, false), 0);
	assert_int_equal(d.max32_alloc_size, 4);
	/* a free below 4 GiB makes room and lifts the limit */
	free_iova(&d, p2);
	assert_int_equal(d.max32_alloc_size, PFN_4G);
	assert_int_equal(alloc_iova_fast(&d, 4, lim32, false), p2);
	free_iova(&d, p3);
	assert_int_equal(iova_domain_check(&d), 3);
	put_iova_domain(&d);
}

#define MODEL_PFNS 1024

struct model {
	unsigned char used[MODEL_PFNS];
	unsigned long lo[256], size[256];
	int n;
};

static bool model_free(const struct model *m, unsigned long lo,
		       unsigned long size)
{
	for (unsigned long p = lo; p < lo + size; p++)
		if (m->used[p])
			return false;
	return true;
}

/* Is there any hole for @size (aligned to @align) in [start, limit]? */
static bool model_fits(const struct model *m, unsigned long size,
		       unsigned long align, unsigned long start,
		       unsigned long limit)
{
	for (unsigned long lo = (start + align - 1) / align * align;
	     lo + size - 1 <= limit; lo += align)
		if (model_free(m, lo, size))
			return true;
	return false;
}

static void model_set(struct model *m, unsigned long lo, unsigned long size,
		      unsigned char v)
{
	memset(&m->used[lo], v, size);
}

/* One random allocation, checked against the model. */
static void model_alloc(struct iova_domain *d, struct model *m,
			unsigned long *seed, bool fast)
{
	unsigned long size = 1 + rnd(seed) % 40, start = d->start_pfn;
	unsigned long limit = start + rnd(seed) % (MODEL_PFNS - start);
	bool aligned = fast || rnd(seed) % 2;
	unsigned long max32 = d->max32_alloc_size, lo, align;

	if (fast && size < 32)
		size = roundup_pow2(size);
	align = aligned ? roundup_pow2(size) : 1;
	if (fast) {
		lo = alloc_iova_fast(d, size, limit, true);
	} else {
		struct iova *iova = alloc_iova(d, size, limit, aligned);

		lo = iova ? iova->pfn_lo : 0;
	}
	if (!lo) {
		/* only when nothing fits, or known full (max32) */
		assert_true(size >= max32 ||
			    !model_fits(m, size, align, start, limit));
		return;
	}
	assert_true(lo >= start && lo + size - 1 <= limit);
	assert_int_equal(lo % align, 0);
	assert_true(model_free(m, lo, size));
	model_set(m, lo, size, 1);
	m->lo[m->n] = lo;
	m->size[m->n++] = size;
}

static void model_free_one(struct iova_domain *d, struct model *m,
			   unsigned long *seed, bool fast)
{
	int i = (int)(rnd(seed) % (unsigned long)m->n);
	unsigned long lo = m->lo[i], size = m->size[i];

	if (fast)
		free_iova_fast(d, lo, size);
	else if (rnd(seed) % 2)
		free_iova(d, lo + size - 1);
	else
		__free_iova(d, find_iova(d, lo));
	model_set(m, lo, size, 0);
	m->lo[i] = m->lo[--m->n];
	m->size[i] = m->size[m->n];
}

static void random_run(bool fast, unsigned long seed)
{
	struct dmasim_machine *mach = fast ? boot() : NULL;
	struct iova_domain d;
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	init_iova_domain(&d, GRANULE, 8);
	if (fast)
		assert_int_equal(iova_domain_init_rcaches(&d, 2), 0);
	assert_non_null(reserve_iova(&d, 600, 639));
	model_set(m, 600, 40, 1);
	for (int step = 0; step < 20000; step++) {
		bool do_alloc = m->n == 0 ||
				(m->n < 256 && rnd(&seed) % 100 < 55);

		if (do_alloc)
			model_alloc(&d, m, &seed, fast);
		else
			model_free_one(&d, m, &seed, fast);
		if (step % 500 == 0 && !fast)
			assert_int_equal(iova_domain_check(&d), m->n + 1);
	}
	if (fast) {
		struct iova_rcache_stats st;

		iova_rcache_get_stats(&d, &st);
		assert_true(st.hits > 0);
		assert_int_equal(iova_domain_check(&d),
				 (long)(m->n + 1 + (int)st.cached));
	}
	put_iova_domain(&d);
	free(m);
	if (mach)
		dmasim_machine_destroy(mach);
}

static void test_random_tree(void **state)
{
	(void)state;
	random_run(false, 1);
	random_run(false, 12345);
}

static void test_random_fast(void **state)
{
	(void)state;
	random_run(true, 7);
}

struct other_cpu {
	struct dmasim_machine *m;
	struct iova_domain *d;
	unsigned long pfn;
	int cpu;
};

static void *alloc_on_other_cpu(void *arg)
{
	struct other_cpu *o = arg;

	dmasim_enter(o->m);
	o->cpu = dmasim_cpu_id();
	o->pfn = alloc_iova_fast(o->d, 1, PFN_4G - 1, true);
	dmasim_enter(NULL);
	return NULL;
}

static void test_rcache_hit(void **state)
{
	struct dmasim_machine *m = boot();
	struct iova_domain d;
	struct iova_rcache_stats st;
	unsigned long p, q;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	assert_int_equal(iova_domain_init_rcaches(&d, 2), 0);
	p = alloc_iova_fast(&d, 1, PFN_4G - 1, true);
	assert_int_equal(p, PFN_4G - 1);
	free_iova_fast(&d, p, 1);
	/* cached: still allocated in the tree */
	assert_non_null(find_iova(&d, p));
	iova_rcache_get_stats(&d, &st);
	assert_int_equal(st.cached, 1);
	assert_int_equal(st.misses, 1);

	/* another CPU does not see this CPU's magazine */
	{
		struct other_cpu o = { m, &d, 0, -1 };
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, alloc_on_other_cpu, &o), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(o.cpu, 1);
		assert_true(o.pfn && o.pfn != p);
		free_iova(&d, o.pfn);
	}
	/* the same CPU gets it back from the magazine */
	q = alloc_iova_fast(&d, 1, PFN_4G - 1, true);
	assert_int_equal(q, p);
	iova_rcache_get_stats(&d, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.cached, 0);

	/* a cached range above the limit is not handed out */
	free_iova_fast(&d, q, 1);
	q = alloc_iova_fast(&d, 1, 0xffff, true);
	assert_true(q && q <= 0xffff);
	free_iova_fast(&d, q, 1);
	assert_int_equal(alloc_iova_fast(&d, 1, 0xffff, true), q);
	free_iova_fast(&d, q, 1);

	/* 3 pages take 4, aligned, and come back as the order-2 size */
	q = alloc_iova_fast(&d, 3, PFN_4G - 1, true);
	assert_int_equal(q % 4, 0);
	assert_int_equal(iova_size(find_iova(&d, q)), 4);
	free_iova_fast(&d, q, 3);
	assert_int_equal(alloc_iova_fast(&d, 4, PFN_4G - 1, true), q);
	free_iova_fast(&d, q, 4);

	/* over 32 pages: never cached */
	q = alloc_iova_fast(&d, 64, PFN_4G - 1, true);
	assert_int_equal(q % 64, 0);
	free_iova_fast(&d, q, 64);
	assert_null(find_iova(&d, q));
	/* 17..31 pages take 32 and are cached */
	q = alloc_iova_fast(&d, 17, PFN_4G - 1, true);
	assert_int_equal(iova_size(find_iova(&d, q)), 32);
	free_iova_fast(&d, q, 17);
	assert_non_null(find_iova(&d, q));

	/* a thread with no CPU uses the tree */
	dmasim_enter(NULL);
	q = alloc_iova_fast(&d, 1, PFN_4G - 1, true);
	free_iova_fast(&d, q, 1);
	assert_null(find_iova(&d, q));
	dmasim_enter(m);

	iova_rcache_get_stats(&d, &st);
	assert_int_equal(iova_domain_check(&d), (long)st.cached);
	put_iova_domain(&d);
	dmasim_machine_destroy(m);
}

/* More frees than two magazines hold: full ones go to the depot; with
 * the depot full, a magazine's ranges go back to the tree. */
static void test_magazines_and_depot(void **state)
{
	struct dmasim_machine *m = boot();
	enum { N = IOVA_MAG_SIZE * (2 + MAX_GLOBAL_MAGS + 2) };
	unsigned long *pfn = calloc(N, sizeof(*pfn));
	struct iova_domain d;
	struct iova_rcache_stats st;

	(void)state;
	assert_non_null(pfn);
	init_iova_domain(&d, GRANULE, 1);
	assert_int_equal(iova_domain_init_rcaches(&d, 2), 0);
	for (int i = 0; i < N; i++) {
		pfn[i] = alloc_iova_fast(&d, 2, PFN_4G - 1, true);
		assert_int_not_equal(pfn[i], 0);
	}
	for (int i = 0; i < 2 * IOVA_MAG_SIZE + 1; i++)
		free_iova_fast(&d, pfn[i], 2);
	iova_rcache_get_stats(&d, &st);
	assert_int_equal(st.cached, 2 * IOVA_MAG_SIZE + 1);
	assert_int_equal(iova_domain_check(&d), N);
	for (int i = 2 * IOVA_MAG_SIZE + 1; i < N; i++)
		free_iova_fast(&d, pfn[i], 2);
	iova_rcache_get_stats(&d, &st);
	/* at most loaded + prev + the depot, and every other range freed */
	assert_true(st.cached <= IOVA_MAG_SIZE * (2 + MAX_GLOBAL_MAGS));
	assert_true(st.cached > IOVA_MAG_SIZE * (1 + MAX_GLOBAL_MAGS));
	assert_int_equal(iova_domain_check(&d), (long)st.cached);
	/* they all come back from the caches before the tree is asked */
	for (unsigned long i = 0; i < st.cached; i++)
		assert_non_null(find_iova(&d, alloc_iova_fast(&d, 2, PFN_4G - 1,
							      false)));
	{
		struct iova_rcache_stats st2;

		iova_rcache_get_stats(&d, &st2);
		assert_int_equal(st2.cached, 0);
		assert_int_equal(st2.hits, st.cached);
	}
	free(pfn);
	/* put frees what is cached as well as what is allocated */
	for (int i = 0; i < 300; i++)
		free_iova_fast(&d, alloc_iova_fast(&d, 1, PFN_4G - 1, true), 1);
	put_iova_domain(&d);
	dmasim_machine_destroy(m);
}

/* A domain whose ranges all sit in magazines: an allocation of another
 * size fails without flushing and succeeds with a flush. */
static void test_flush_on_failure(void **state)
{
	struct dmasim_machine *m = boot();
	struct iova_domain d;
	struct iova_rcache_stats st;
	unsigned long p[64];
	int n = 0;

	(void)state;
	init_iova_domain(&d, GRANULE, 1);
	assert_int_equal(iova_domain_init_rcaches(&d, 2), 0);
	while (n < 64 && (p[n] = alloc_iova_fast(&d, 1, 63, false)))
		n++;
	assert_int_equal(n, 63);
	for (int i = 0; i < n; i++)
		free_iova_fast(&d, p[i], 1);
	iova_rcache_get_stats(&d, &st);
	assert_int_equal(st.cached, 63);
	assert_int_equal(alloc_iova_fast(&d, 2, 63, false), 0);
	p[0] = alloc_iova_fast(&d, 2, 63, true);
	assert_int_equal(p[0], 62);
	iova_rcache_get_stats(&d, &st);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.cached, 0);
	assert_int_equal(iova_domain_check(&d), 1);
	/* flushing one CPU by hand */
	free_iova_fast(&d, p[0], 2);
	free_cpu_cached_iovas(0, &d);
	assert_int_equal(iova_domain_check(&d), 0);
	put_iova_domain(&d);
	dmasim_machine_destroy(m);
}

#define SPACE	  PFN_4G /* far more than the workers can fill */
#define HELD	  64
#define NWORKERS  3

struct worker {
	struct dmasim_machine *m; /* NULL: a thread with no CPU */
	struct iova_domain *d;
	_Atomic uint64_t *owner;  /* one bit per pfn, shared */
	unsigned long seed;
	int iterations;
	int cpu;
	unsigned long overlaps, out_of_range, misaligned, failures;
};

/* Claim (or release) the pfns of a range in the shared bitmap; a bit
 * already set means two live ranges overlap. */
static bool claim(struct worker *w, unsigned long lo, unsigned long size,
		  bool set)
{
	bool ok = true;

	for (unsigned long p = lo; p < lo + size; p++) {
		uint64_t bit = 1ULL << (p % 64), old;

		if (set)
			old = atomic_fetch_or(&w->owner[p / 64], bit);
		else
			old = atomic_fetch_and(&w->owner[p / 64], ~bit);
		if (!!(old & bit) == set)
			ok = false;
	}
	return ok;
}

static void worker_alloc(struct worker *w, unsigned long *lo,
			 unsigned long *size, int i)
{
	unsigned long s = 1 + rnd(&w->seed) % 40, a;

	if (s < 32)
		s = roundup_pow2(s);
	a = roundup_pow2(s);
	lo[i] = alloc_iova_fast(w->d, s, SPACE - 1, true);
	size[i] = s;
	if (!lo[i]) {
		w->failures++;
		return;
	}
	if (lo[i] + s > SPACE)
		w->out_of_range++;
	else if (!claim(w, lo[i], s, true))
		w->overlaps++;
	if (lo[i] % a)
		w->misaligned++;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	unsigned long lo[HELD] = { 0 }, size[HELD] = { 0 };

	if (w->m)
		dmasim_enter(w->m);
	w->cpu = dmasim_cpu_id();
	for (int it = 0; it < w->iterations; it++) {
		int i = (int)(rnd(&w->seed) % HELD);

		if (lo[i]) {
			if (!claim(w, lo[i], size[i], false))
				w->overlaps++;
			free_iova_fast(w->d, lo[i], size[i]);
			lo[i] = 0;
		} else {
			worker_alloc(w, lo, size, i);
		}
		if (w->cpu >= 0 && it % 4096 == 4095)
			free_cpu_cached_iovas((unsigned)(1 - w->cpu), w->d);
	}
	for (int i = 0; i < HELD; i++)
		if (lo[i]) {
			claim(w, lo[i], size[i], false);
			free_iova_fast(w->d, lo[i], size[i]);
		}
	if (w->m)
		dmasim_enter(NULL);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct dmasim_machine *m = boot();
	_Atomic uint64_t *owner = calloc(SPACE / 64, sizeof(*owner));
	struct worker w[NWORKERS];
	pthread_t t[NWORKERS];
	struct iova_domain d;
	struct iova_rcache_stats st;

	(void)state;
	assert_non_null(owner);
	dmasim_enter(NULL); /* the workers take CPUs 0 and 1 */
	init_iova_domain(&d, GRANULE, 1);
	assert_int_equal(iova_domain_init_rcaches(&d, 2), 0);
	for (int i = 0; i < NWORKERS; i++) {
		w[i] = (struct worker){ .m = i < 2 ? m : NULL, .d = &d,
					.owner = owner, .seed = 100 + (unsigned)i,
					.iterations = 30000, .cpu = -2 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < NWORKERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < NWORKERS; i++) {
		assert_int_equal(w[i].overlaps, 0);
		assert_int_equal(w[i].out_of_range, 0);
		assert_int_equal(w[i].misaligned, 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_true(w[0].cpu >= 0 && w[1].cpu >= 0 && w[0].cpu != w[1].cpu);
	assert_int_equal(w[2].cpu, -1);
	/* everything given back: only cached ranges are left in the tree */
	iova_rcache_get_stats(&d, &st);
	assert_true(st.hits > 0);
	assert_int_equal(iova_domain_check(&d), (long)st.cached);
	free_cpu_cached_iovas(0, &d);
	free_cpu_cached_iovas(1, &d);
	free_global_cached_iovas(&d);
	assert_int_equal(iova_domain_check(&d), 0);
	put_iova_domain(&d);
	free(owner);
	dmasim_enter(m);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_top_down),
		cmocka_unit_test(test_full_and_recovery),
		cmocka_unit_test(test_reuse_after_free),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_32bit_then_full),
		cmocka_unit_test(test_random_tree),
		cmocka_unit_test(test_random_fast),
		cmocka_unit_test(test_rcache_hit),
		cmocka_unit_test(test_magazines_and_depot),
		cmocka_unit_test(test_flush_on_failure),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
