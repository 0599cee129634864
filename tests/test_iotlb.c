/*
 * The IOTLB on its own: hits at each page size, tags, permissions,
 * geometry checks, LRU and seeded random replacement, set-associative
 * placement, every invalidation (all, tag, range with an address mask,
 * by predicate), fills that race an invalidation, counters, and lookups
 * from several threads while others fill and invalidate (TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "hw/iotlb.h"

#define K4 12u
#define M2 21u
#define G1 30u

static void init_tlb(struct iotlb *t, unsigned int entries, unsigned int ways,
		     enum iotlb_repl repl)
{
	struct iotlb_params p;

	iotlb_params_init(&p);
	p.entries = entries;
	p.ways = ways;
	p.repl = repl;
	p.seed = 42;
	assert_int_equal(iotlb_init(t, &p), 0);
}

static void fill(struct iotlb *t, uint16_t tag, uint64_t addr,
		 unsigned int shift, uint64_t phys, unsigned int perm)
{
	iotlb_fill(t, iotlb_gen(t), tag, addr, shift, phys, perm, 0);
}

static bool hit(struct iotlb *t, uint16_t tag, uint64_t addr, uint64_t *phys)
{
	struct iotlb_result r;

	if (!iotlb_lookup(t, tag, addr, 7, &r))
		return false;
	if (phys)
		*phys = r.phys;
	return true;
}

static void test_params(void **state)
{
	struct iotlb t;
	struct iotlb_params p;

	(void)state;
	iotlb_params_init(&p);
	assert_int_equal(p.entries, 64);
	assert_int_equal(p.ways, 0);
	assert_int_equal(p.repl, IOTLB_REPL_LRU);
	p.entries = 48;
	assert_int_equal(iotlb_init(&t, &p), -EINVAL);
	p.entries = 64;
	p.ways = 128;
	assert_int_equal(iotlb_init(&t, &p), -EINVAL);
	p.ways = 3;
	assert_int_equal(iotlb_init(&t, &p), -EINVAL);
	p.ways = 0;
	p.entries = 0;
	assert_int_equal(iotlb_init(&t, &p), -EINVAL);
	p.entries = 64;
	p.ways = 16;
	assert_int_equal(iotlb_init(&t, &p), 0);
	assert_int_equal(t.nr_sets, 4);
	iotlb_destroy(&t);
	iotlb_destroy(&t); /* twice is harmless */
}

static void test_page_sizes(void **state)
{
	struct iotlb t;
	struct iotlb_result r;
	uint64_t phys;

	(void)state;
	init_tlb(&t, 64, 0, IOTLB_REPL_LRU);
	assert_false(hit(&t, 1, 0x1000, NULL));
	fill(&t, 1, 0x1234, K4, 0x55000, IOTLB_PERM_R);
	assert_true(iotlb_lookup(&t, 1, 0x1abc, 7, &r));
	assert_int_equal(r.phys, 0x55abc);
	assert_int_equal(r.shift, 12);
	assert_int_equal(r.perm, IOTLB_PERM_R);
	assert_false(hit(&t, 2, 0x1abc, NULL));	/* another domain */
	assert_false(hit(&t, 1, 0x2000, NULL));	/* next page */
	/* a 2 MiB page answers anywhere inside it */
	fill(&t, 1, 0x40000000 + 0x1ff000, M2, 0x80000000, 3);
	assert_true(hit(&t, 1, 0x40000000 + 0x12345, &phys));
	assert_int_equal(phys, 0x80012345);
	assert_true(iotlb_lookup(&t, 1, 0x401fffff, 7, &r));
	assert_int_equal(r.shift, 21);
	assert_int_equal(r.phys, 0x801fffff);
	/* not probed when its size is left out of the mask */
	assert_false(iotlb_lookup(&t, 1, 0x40000000, 1, &r));
	/* a 1 GiB page */
	fill(&t, 3, 0x8000000000ULL, G1, 0x100000000ULL, 3);
	assert_true(hit(&t, 3, 0x8000000000ULL + 0x3fffffff, &phys));
	assert_int_equal(phys, 0x13fffffffULL);
	/* refilling the same page replaces it in place */
	fill(&t, 1, 0x1000, K4, 0x66000, 3);
	assert_true(iotlb_lookup(&t, 1, 0x1000, 7, &r));
	assert_int_equal(r.phys, 0x66000);
	assert_int_equal(r.perm, 3);
	/* an address beyond what keys hold is never cached */
	fill(&t, 1, 1ULL << 60, K4, 0x1000, 3);
	assert_false(hit(&t, 1, 1ULL << 60, NULL));
	iotlb_destroy(&t);
}

static void test_lru(void **state)
{
	struct iotlb t;
	struct iotlb_stats s;

	(void)state;
	init_tlb(&t, 4, 0, IOTLB_REPL_LRU);
	for (uint64_t i = 0; i < 4; i++)
		fill(&t, 1, i << 12, K4, (i + 100) << 12, 3);
	assert_true(hit(&t, 1, 0, NULL)); /* page 0 is now the newest */
	fill(&t, 1, 4 << 12, K4, 104 << 12, 3);
	assert_true(hit(&t, 1, 0, NULL));
	assert_false(hit(&t, 1, 1 << 12, NULL)); /* the least recently used */
	assert_true(hit(&t, 1, 2 << 12, NULL));
	assert_true(hit(&t, 1, 3 << 12, NULL));
	assert_true(hit(&t, 1, 4 << 12, NULL));
	iotlb_get_stats(&t, &s);
	assert_int_equal(s.evictions, 1);
	assert_int_equal(s.fills, 5);
	assert_int_equal(s.valid, 4);
	assert_int_equal(s.misses, 1);
	assert_int_equal(s.hits, 5);
	iotlb_destroy(&t);
}

/* Which of 32 pages survive 32 fills into 8 random-replacement slots. */
static uint32_t random_survivors(uint64_t seed)
{
	struct iotlb t;
	struct iotlb_params p;
	uint32_t mask = 0;

	iotlb_params_init(&p);
	p.entries = 8;
	p.repl = IOTLB_REPL_RANDOM;
	p.seed = seed;
	assert_int_equal(iotlb_init(&t, &p), 0);
	for (uint64_t i = 0; i < 32; i++)
		fill(&t, 1, i << 12, K4, i << 12, 3);
	for (uint64_t i = 0; i < 32; i++)
		if (hit(&t, 1, i << 12, NULL))
			mask |= 1u << i;
	iotlb_destroy(&t);
	return mask;
}

static void test_random(void **state)
{
	uint32_t a = random_survivors(7), b = random_survivors(7);
	int n = 0;

	(void)state;
	assert_int_equal(a, b); /* the same seed, the same victims */
	for (int i = 0; i < 32; i++)
		n += (a >> i) & 1;
	assert_int_equal(n, 8);
	assert_true(a & (1u << 31)); /* the last fill is always present */
}

static void test_set_associative(void **state)
{
	struct iotlb t;
	struct iotlb_stats s;
	int present = 0;

	(void)state;
	init_tlb(&t, 16, 2, IOTLB_REPL_LRU);
	assert_int_equal(t.nr_sets, 8);
	for (uint64_t i = 0; i < 64; i++)
		fill(&t, 5, i << 12, K4, (i + 1) << 20, 3);
	for (uint64_t i = 0; i < 64; i++) {
		uint64_t phys;

		if (hit(&t, 5, i << 12, &phys)) {
			assert_int_equal(phys, (i + 1) << 20);
			present++;
		}
	}
	iotlb_get_stats(&t, &s);
	assert_int_equal(s.valid, present);
	assert_true(present <= 16 && present >= 2);
	assert_int_equal(s.evictions, 64 - present);
	iotlb_destroy(&t);
}

/* A thread's remembered last hit never outlives an eviction or an
 * invalidation, nor answers for another tag or a size left out. */
static void test_last_hit_memo(void **state)
{
	struct iotlb t;
	struct iotlb_result r;

	(void)state;
	init_tlb(&t, 1, 0, IOTLB_REPL_LRU);
	fill(&t, 1, 0x1000, K4, 0xa000, 3);
	assert_true(hit(&t, 1, 0x1000, NULL));
	assert_true(hit(&t, 1, 0x1008, NULL));
	assert_false(hit(&t, 2, 0x1000, NULL));
	fill(&t, 1, 0x2000, K4, 0xb000, 3); /* evicts 0x1000 */
	assert_false(hit(&t, 1, 0x1000, NULL));
	assert_true(hit(&t, 1, 0x2000, NULL));
	assert_true(hit(&t, 1, 0x2000, NULL));
	iotlb_flush_range(&t, 9, 0, 0); /* any invalidation */
	assert_true(hit(&t, 1, 0x2000, NULL));
	iotlb_flush_all(&t);
	assert_false(hit(&t, 1, 0x2000, NULL));
	fill(&t, 1, 0x200000, M2, 0x400000, 3);
	assert_true(iotlb_lookup(&t, 1, 0x200000, 7, &r));
	assert_false(iotlb_lookup(&t, 1, 0x200000, 1, &r));
	iotlb_destroy(&t);
}

static bool data_is(uint16_t tag, uint64_t data, void *arg)
{
	(void)tag;
	return data == *(uint64_t *)arg;
}

static void test_invalidation(void **state)
{
	struct iotlb t;
	struct iotlb_stats s;
	uint64_t d = 9;

	(void)state;
	init_tlb(&t, 64, 0, IOTLB_REPL_LRU);
	for (uint64_t i = 0; i < 8; i++) {
		fill(&t, 1, i << 12, K4, i << 12, 3);
		fill(&t, 2, i << 12, K4, i << 12, 3);
	}
	fill(&t, 1, 0x200000, M2, 0x400000, 3);
	/* range: pages 2 and 3 of tag 1 (am 1 = 2 pages, aligned down) */
	assert_int_equal(iotlb_flush_range(&t, 1, 3 << 12, 1), 2);
	assert_true(hit(&t, 1, 1 << 12, NULL));
	assert_false(hit(&t, 1, 2 << 12, NULL));
	assert_false(hit(&t, 1, 3 << 12, NULL));
	assert_true(hit(&t, 1, 4 << 12, NULL));
	assert_true(hit(&t, 2, 2 << 12, NULL));
	/* a 4 KiB range inside a 2 MiB page removes the whole page */
	assert_int_equal(iotlb_flush_range(&t, 1, 0x2ff000, 0), 1);
	assert_false(hit(&t, 1, 0x200000, NULL));
	/* tag */
	assert_int_equal(iotlb_flush_tag(&t, 2), 8);
	assert_false(hit(&t, 2, 0, NULL));
	assert_true(hit(&t, 1, 0, NULL));
	/* predicate on the filler's word */
	iotlb_fill(&t, iotlb_gen(&t), 7, 0, K4, 0, 3, 9);
	iotlb_fill(&t, iotlb_gen(&t), 7, 0x1000, K4, 0, 3, 10);
	assert_int_equal(iotlb_flush_match(&t, data_is, &d), 1);
	assert_false(hit(&t, 7, 0, NULL));
	assert_true(hit(&t, 7, 0x1000, NULL));
	/* everything */
	assert_int_equal(iotlb_flush_all(&t), 7);
	iotlb_get_stats(&t, &s);
	assert_int_equal(s.valid, 0);
	assert_int_equal(s.inval_cmds, 5);
	assert_int_equal(s.inval_entries, 2 + 1 + 8 + 1 + 7);
	/* a huge mask covers the whole tag */
	fill(&t, 1, 0, K4, 0, 3);
	assert_int_equal(iotlb_flush_range(&t, 1, 0, 63), 1);
	iotlb_destroy(&t);
}

static void test_fill_races_invalidation(void **state)
{
	struct iotlb t;
	struct iotlb_stats s;
	uint64_t gen;

	(void)state;
	init_tlb(&t, 64, 0, IOTLB_REPL_LRU);
	gen = iotlb_gen(&t);	/* a walk starts ... */
	iotlb_flush_tag(&t, 1);	/* ... the kernel invalidates ... */
	iotlb_fill(&t, gen, 1, 0, K4, 0x1000, 3, 0); /* ... the walk ends */
	assert_false(hit(&t, 1, 0, NULL));
	iotlb_get_stats(&t, &s);
	assert_int_equal(s.fills_dropped, 1);
	assert_int_equal(s.fills, 0);
	iotlb_destroy(&t);
}

/* Threads: readers check every hit is the one mapping the filler ever
 * writes for that page; a writer fills and invalidates under them. */
#define NR_READERS 3
#define ITERS 20000

struct race {
	struct iotlb *t;
	unsigned int seed;
	unsigned long bad, hits;
};

static uint64_t expected(uint64_t page)
{
	return (page * 7 + 3) << 12;
}

static void *reader(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < ITERS; i++) {
		uint64_t page = (uint64_t)(rand_r(&r->seed) % 128), phys;

		if (hit(r->t, 1, page << 12 | 0x10, &phys)) {
			r->hits++;
			if (phys != expected(page) + 0x10)
				r->bad++;
		} else {
			fill(r->t, 1, page << 12, K4, expected(page), 3);
		}
	}
	return NULL;
}

static void *flusher(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < ITERS / 10; i++) {
		uint64_t page = (uint64_t)(rand_r(&r->seed) % 128);

		if (i % 3 == 0)
			iotlb_flush_range(r->t, 1, page << 12, i % 4);
		else if (i % 3 == 1)
			iotlb_flush_tag(r->t, 1);
		else
			iotlb_flush_all(r->t);
	}
	return NULL;
}

static void run_race(unsigned int ways, enum iotlb_repl repl)
{
	struct iotlb t;
	pthread_t th[NR_READERS + 1];
	struct race r[NR_READERS + 1];
	unsigned long hits = 0;

	init_tlb(&t, 64, ways, repl);
	for (int i = 0; i <= NR_READERS; i++) {
		r[i] = (struct race){ .t = &t, .seed = (unsigned int)i + 1 };
		assert_int_equal(pthread_create(&th[i], NULL,
						i ? reader : flusher, &r[i]),
				 0);
	}
	for (int i = 0; i <= NR_READERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 1; i <= NR_READERS; i++) {
		assert_int_equal(r[i].bad, 0);
		hits += r[i].hits;
	}
	assert_true(hits > 0);
	iotlb_destroy(&t);
}

/* Which of @n pages survive, filled into a @entries-entry LRU IOTLB
 * after @warm single fills and a hit on page 1: one run or single fills. */
static uint64_t survivors(bool run, unsigned int entries, unsigned int n,
			  struct iotlb_stats *st)
{
	struct iotlb t;
	uint64_t mask = 0;

	init_tlb(&t, entries, 0, IOTLB_REPL_LRU);
	for (uint64_t i = 0; i < 3; i++)
		fill(&t, 1, (100 + i) << 12, K4, i << 12, 3);
	assert_true(hit(&t, 1, 100 << 12, NULL)); /* ties with the newest */
	if (run)
		iotlb_fill_run(&t, iotlb_gen(&t), 1, 0, K4, 0x800000, 3, 0, n);
	else
		for (uint64_t i = 0; i < n; i++)
			fill(&t, 1, i << 12, K4, 0x800000 + (i << 12), 3);
	for (uint64_t i = 0; i < n + 3; i++) {
		uint64_t page = i < n ? i : 100 + i - n, phys;

		if (hit(&t, 1, page << 12, &phys)) {
			mask |= 1ULL << i;
			if (i < n)
				assert_int_equal(phys, 0x800000 + (i << 12));
		}
	}
	iotlb_get_stats(&t, st);
	iotlb_destroy(&t);
	return mask;
}

/* A run of fills leaves and counts what single fills would. */
static void test_fill_run(void **state)
{
	static const unsigned int sizes[] = { 1, 2, 5, 8, 13, 40 };
	struct iotlb_stats a, b;

	(void)state;
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(survivors(true, 8, sizes[i], &a),
				 survivors(false, 8, sizes[i], &b));
		assert_int_equal(a.fills, b.fills);
		assert_int_equal(a.evictions, b.evictions);
		assert_int_equal(a.valid, b.valid);
		assert_int_equal(a.hits, b.hits);
	}
}

/* A fake table: pages 0..15 map to 0x100000 + page, 8 is read-only,
 * 20.. are not mapped. */
struct fake_walk {
	struct iotlb_walk w;
	unsigned int walks, taken;
};

static unsigned int fake_walk(struct iotlb_walk *w, uint64_t addr,
			      struct iotlb_result *leaf)
{
	struct fake_walk *f = (struct fake_walk *)w;
	uint64_t page = addr >> 12;

	f->walks++;
	if (page >= 20)
		return 6;
	leaf->shift = 12;
	leaf->phys = 0x100000 + (page << 12);
	leaf->perm = page == 8 ? IOTLB_PERM_R : 3;
	leaf->data = 0;
	return (w->need & leaf->perm) ? 0 : 5;
}

static void fake_taken(struct iotlb_walk *w)
{
	((struct fake_walk *)w)->taken++;
}

static void translate(struct iotlb *t, struct fake_walk *f, uint64_t addr,
		      uint64_t len, bool write, struct iotlb_run *r)
{
	f->w = (struct iotlb_walk){ .walk = fake_walk, .taken = fake_taken,
				    .need = write ? IOTLB_PERM_W : IOTLB_PERM_R,
				    .allow = ~0u };
	iotlb_translate(t, 1, addr, len, 1, &f->w, r);
}

static void test_translate_runs(void **state)
{
	struct iotlb t;
	struct iotlb_stats s;
	struct iotlb_run r;
	struct fake_walk f = { 0 };

	(void)state;
	init_tlb(&t, 64, 0, IOTLB_REPL_LRU);
	translate(&t, &f, 0x10, 0x8000, false, &r);
	assert_int_equal(r.phys, 0x100010);
	assert_int_equal(r.len, 0x8000);
	assert_int_equal(r.walked, 9);	/* the run ends mid page 8 */
	assert_int_equal(r.served, 0);
	assert_int_equal(f.taken, 9);
	/* writes stop before the read-only page, uncounted */
	translate(&t, &f, 0, 0x10000, true, &r);
	assert_int_equal(r.len, 0x8000);
	assert_int_equal(r.served, 8);
	assert_int_equal(r.walked, 0);
	/* reads go on through the walked pages up to the unmapped one */
	translate(&t, &f, 0x3000, 0x20000, false, &r);
	assert_int_equal(r.len, 0x11000);
	assert_int_equal(r.served, 6);
	assert_int_equal(r.walked, 11);
	/* the first page's failed walk is reported */
	assert_false(iotlb_translate(&t, 1, 0x14000, 8, 1, &f.w, &r));
	assert_int_equal(r.code, 6);
	iotlb_get_stats(&t, &s);
	assert_int_equal(s.hits, 8 + 6);
	assert_int_equal(s.misses, 9 + 11 + 1);
	assert_int_equal(s.fills, 20);
	/* the same run again comes from the thread's memo, and a fill
	 * anywhere ends that */
	translate(&t, &f, 0, 0x8000, true, &r);
	translate(&t, &f, 0, 0x8000, true, &r);
	assert_int_equal(r.served, 8);
	fill(&t, 2, 0, K4, 0, 3);
	f.walks = 0;
	translate(&t, &f, 0x1000, 0x1000, true, &r);
	assert_int_equal(r.served, 1);
	assert_int_equal(f.walks, 0);
	iotlb_destroy(&t);
}

static void test_threads(void **state)
{
	(void)state;
	run_race(0, IOTLB_REPL_LRU);
	run_race(4, IOTLB_REPL_RANDOM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_page_sizes),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_set_associative),
		cmocka_unit_test(test_last_hit_memo),
		cmocka_unit_test(test_invalidation),
		cmocka_unit_test(test_fill_races_invalidation),
		cmocka_unit_test(test_fill_run),
		cmocka_unit_test(test_translate_runs),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
