/*
 * An IOTLB as remapping hardware has one: a bounded cache of final
 * translations (input page -> output page, page size 4 KiB, 2 MiB or
 * 1 GiB, read/write permission), tagged by domain id, so devices that
 * share a domain share entries. It keeps whatever it holds until an
 * invalidation removes it or a fill evicts it: a stale entry keeps
 * translating after the page table entry behind it is cleared, exactly
 * the window lazy (deferred) invalidation leaves open.
 *
 * Geometry: @entries split into sets of @ways (ways == entries: fully
 * associative, the default). An entry lives in the set its page number
 * (at its own page size) and tag select; a lookup probes one set per
 * page size. Replacement within a set: least recently used, or random
 * from a seeded generator (reproducible).
 *
 * Concurrency: lookups take no lock and, in the steady state, write no
 * shared memory. Each entry has a sequence count (a seqlock) that writers
 * bump around a change; a reader misses when it changes under it. Each
 * set has an exact index (key hash -> way, open addressing) and a
 * sequence count of its own that writers hold odd while they change the
 * index: a lookup that finds nothing while the count stayed even and
 * unchanged is a true miss in one probe; otherwise it scans the set's
 * ways. Fills and invalidations take the set's mutex. A fill carries the
 * invalidation generation it read before walking the tables: if an
 * invalidation ran since, the fill is dropped, so an invalidation that
 * has completed never leaves an entry behind. LRU stamps are the count
 * of fills: a hit refreshes an entry's stamp only when a fill happened
 * since its last refresh, so the order is exact to the resolution of
 * fills and repeated hits write nothing. Hits are counted in a
 * per-thread slot (a thread claims one per IOTLB on its first lookup; a
 * later thread at the same TLS address inherits it), so counting costs
 * no atomic read-modify-write; the counts are exact once the threads are
 * quiet. The slot also keeps the thread's last few runs of hits (pages
 * in a row that hit with consecutive outputs), reused while the IOTLB
 * has not changed at all (same fill count, same invalidation count):
 * exactly what lookups would return, at the cost of a few compares.
 *
 * Runs: iotlb_translate() answers for as many consecutive pages as map
 * to consecutive output pages with the access's right (up to
 * IOTLB_RUN_PAGES), page after page from the IOTLB or by the caller's
 * walk, so a device moves a physically contiguous buffer in one chunk.
 * Every page is still one lookup (counted as a hit or a miss), every
 * miss one walk and one fill, in the order single-page accesses would
 * make them; the fills of a run go in under one lock. A page that does
 * not continue the run ends it uncounted: the next access starts there.
 *
 * Shared by the VT-d and AMD-Vi models; the context cache of VT-d is a
 * second instance keyed by source id.
 */
#ifndef DMASIM_HW_IOTLB_H
#define DMASIM_HW_IOTLB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IOTLB_DEFAULT_ENTRIES	64
#define IOTLB_MAX_ENTRIES	65536
#define IOTLB_PERM_R		0x1u
#define IOTLB_PERM_W		0x2u
#define IOTLB_NR_SIZES		3	/* 4 KiB, 2 MiB, 1 GiB */
#define IOTLB_SLOTS		64	/* threads with a private hit counter */

enum iotlb_repl {
	IOTLB_REPL_LRU = 0,
	IOTLB_REPL_RANDOM,
};

struct iotlb_params {
	unsigned int entries;	/* power of two, 1..IOTLB_MAX_ENTRIES */
	unsigned int ways;	/* power of two dividing entries; 0: all */
	enum iotlb_repl repl;
	uint64_t seed;		/* random replacement */
};

/* What a hit returns. */
struct iotlb_result {
	uint64_t phys;		/* output address of the looked-up address */
	uint64_t data;		/* the filler's word (VT-d: nothing) */
	unsigned int shift;	/* page size: 12, 21 or 30 */
	unsigned int perm;	/* IOTLB_PERM_* */
};

struct iotlb_stats {
	uint64_t hits, misses;
	uint64_t fills, evictions;
	uint64_t inval_cmds;	/* invalidation requests */
	uint64_t inval_entries;	/* entries they removed */
	uint64_t fills_dropped;	/* raced with an invalidation */
	unsigned int valid;	/* entries valid now */
};

struct iotlb_entry {
	_Atomic uint32_t seq;	/* odd while a writer changes the entry */
	_Atomic uint32_t attr;	/* size index << 4 | perm */
	_Atomic uint64_t key;	/* 0: invalid */
	_Atomic uint64_t phys;	/* output page base */
	_Atomic uint64_t data;
	_Atomic uint64_t stamp;	/* LRU: larger is more recent */
	uint64_t pad[3];
};

struct iotlb_set {
	pthread_mutex_t lock;
	_Atomic uint32_t seq;	/* odd while a writer changes the index */
	_Atomic unsigned int nr[IOTLB_NR_SIZES]; /* valid, by size (lock) */
	unsigned int tombs;	/* deleted index slots (lock) */
	_Atomic uint32_t *idx;	/* key hash -> way + 1: exact, see above */
	uint64_t *heap;		/* LRU order of a run's victims (lock) */
	uint32_t *ring;
	struct iotlb_entry *way;
};

/* A run of hits a thread remembers: @pages pages of size index @si from
 * the one of @key on, to consecutive output pages from @phys. */
struct iotlb_memo {
	uint64_t key, phys, data, gen, clock;
	unsigned int pages, si, perm, mask;
};

#define IOTLB_MEMO_RUNS		4
#define IOTLB_RUN_PAGES		512	/* pages one translation may cover */

/* A thread's counters (written by that thread only). @owner is for the
 * cache's user (VT-d keeps its per-device hit count there). */
struct iotlb_slot {
	_Alignas(64) _Atomic uint64_t hits;	/* a few lines per thread */
	_Atomic uint64_t owner[2];
	_Atomic uintptr_t thread;	/* who has it (a TLS address) */
	/* the thread's last runs of hits, private to it: still the IOTLB's
	 * answer while no fill and no invalidation has happened since */
	struct iotlb_memo memo[IOTLB_MEMO_RUNS];
	unsigned int memo_next;
};

struct iotlb {
	struct iotlb_params p;
	unsigned int nr_sets, idx_mask;
	struct iotlb_set *sets;
	_Atomic uint64_t gen;	/* invalidations so far */
	_Atomic uint64_t clock;	/* LRU stamps: fills so far */
	uint64_t rng;		/* random replacement, under @rng_lock */
	pthread_mutex_t rng_lock;
	uint64_t id;		/* names the IOTLB in threads' slot caches */
	struct iotlb_slot *slots;
	_Atomic unsigned int nr_slots;
	_Atomic uint64_t shared_hits; /* threads beyond IOTLB_SLOTS */
	_Atomic uint64_t misses, fills, evictions, inval_cmds, inval_entries,
		fills_dropped;
};

/* Fill @p with the defaults (64 entries, fully associative, LRU). */
void iotlb_params_init(struct iotlb_params *p);
/* 0, -EINVAL (bad geometry) or -ENOMEM. */
int iotlb_init(struct iotlb *t, const struct iotlb_params *p);
void iotlb_destroy(struct iotlb *t);

/* Page size index of a shift (12 -> 0, 21 -> 1, 30 -> 2). */
static inline unsigned int iotlb_size_index(unsigned int shift)
{
	return (shift - 12) / 9;
}

/*
 * Look up @addr for @tag. On a hit, fills @r and returns true. Sizes not
 * in @size_mask (bit i: size index i) are not probed. Counts a hit or a
 * miss.
 */
bool iotlb_lookup(struct iotlb *t, uint16_t tag, uint64_t addr,
		  unsigned int size_mask, struct iotlb_result *r);

/* The generation to pass to iotlb_fill: read it before walking. */
static inline uint64_t iotlb_gen(struct iotlb *t)
{
	return atomic_load_explicit(&t->gen, memory_order_acquire);
}

/* Look up without counting (a unit's own caches, e.g. its paging-
 * structure cache, count their use themselves). Refreshes LRU. */
bool iotlb_peek(struct iotlb *t, uint16_t tag, uint64_t addr,
		unsigned int size_mask, struct iotlb_result *r);

/* One peek's answer a walker keeps for the next pages of a run. */
struct iotlb_held {
	bool valid;
	uint16_t tag;
	unsigned int mask;
	uint64_t base, gen, clock;
	struct iotlb_result r;	/* phys: the page's base */
};

/* iotlb_peek, answered from @h while it covers @addr and the cache has
 * not changed since (the same answer, as with the threads' memos). */
bool iotlb_peek_held(struct iotlb *t, struct iotlb_held *h, uint16_t tag,
		     uint64_t addr, unsigned int size_mask,
		     struct iotlb_result *r);

/* Insert the translation of the page of @addr (2^@shift bytes) to the
 * page at @phys (aligned). Dropped if an invalidation ran since @gen. */
void iotlb_fill(struct iotlb *t, uint64_t gen, uint16_t tag, uint64_t addr,
		unsigned int shift, uint64_t phys, unsigned int perm,
		uint64_t data);
/* @n such fills in order: the pages from the one of @addr on to the
 * pages from @phys on. Exactly what @n iotlb_fill calls would leave
 * and count; a fully associative IOTLB takes them under one lock. */
void iotlb_fill_run(struct iotlb *t, uint64_t gen, uint16_t tag,
		    uint64_t addr, unsigned int shift, uint64_t phys,
		    unsigned int perm, uint64_t data, unsigned int n);

/* What a unit's tables say, for iotlb_translate. */
struct iotlb_walk {
	/* The translation of the page of @addr: 0 and *leaf (phys: the
	 * output page at leaf->shift, an IOTLB size; perm; data), or the
	 * unit's fault code. Must check the right the access needs. */
	unsigned int (*walk)(struct iotlb_walk *w, uint64_t addr,
			     struct iotlb_result *leaf);
	/* The last walk counts: its page joined the run, or it was the
	 * first page's (whatever it returned). May be NULL. */
	void (*taken)(struct iotlb_walk *w);
	/* Set by walk(): the leaf's own size when larger than the IOTLB
	 * entry it gives (AMD-Vi's 4 MiB or 32 KiB pages), 0 otherwise.
	 * The walk answers for the rest of the leaf: the run moves past it,
	 * filling only the entry that holds the walked address. */
	unsigned int leaf_shift;
	unsigned int need;	/* IOTLB_PERM_R or IOTLB_PERM_W */
	unsigned int allow;	/* rights besides an entry's (AMD-Vi: the
				 * device table entry's); all: ~0u */
};

struct iotlb_run {
	uint64_t phys;		/* output address of the first byte */
	uint64_t len;		/* bytes covered, 1..len */
	unsigned int served;	/* pages the IOTLB answered with the right */
	unsigned int walked;	/* pages that went to the tables */
	unsigned int code;	/* the first page's walk failed: its code */
};

/*
 * Translate from @addr up to @len bytes as one run (see above): the
 * first page is a lookup (counted) and, on a miss or a hit without the
 * right, a walk and a fill; following pages join while they continue
 * the output with the right. True and *r, or false when the first
 * page's walk failed (r->code; nothing filled).
 */
bool iotlb_translate(struct iotlb *t, uint16_t tag, uint64_t addr,
		     uint64_t len, unsigned int size_mask,
		     struct iotlb_walk *w, struct iotlb_run *r);

/* Invalidations; each returns the entries removed. */
unsigned int iotlb_flush_all(struct iotlb *t);
unsigned int iotlb_flush_tag(struct iotlb *t, uint16_t tag);
/* Entries of @tag overlapping [addr, addr + 2^(12 + am)) (addr aligned
 * down to that size), as a page-selective invalidation does. */
unsigned int iotlb_flush_range(struct iotlb *t, uint16_t tag, uint64_t addr,
			       unsigned int am);
/* Entries for which @match(data of the entry, @arg) is true. */
unsigned int iotlb_flush_match(struct iotlb *t,
			       bool (*match)(uint16_t tag, uint64_t data,
					     void *arg),
			       void *arg);

void iotlb_get_stats(struct iotlb *t, struct iotlb_stats *s);

/*
 * The three caches a remapping unit keeps: its IOTLB, a cache of its
 * per-device entries (VT-d's context cache, AMD-Vi's device table
 * cache; fully associative LRU) and a page-walk cache (none when
 * @pwc_entries is 0). 0 or the first error, with nothing left set up.
 */
struct iotlb_unit_caches {
	struct iotlb_params tlb;
	unsigned int dev_entries, pwc_entries;
};
int iotlb_unit_caches_init(const struct iotlb_unit_caches *g,
			   struct iotlb *tlb, struct iotlb *dev,
			   struct iotlb *pwc);
void iotlb_unit_caches_destroy(struct iotlb *tlb, struct iotlb *dev,
			       struct iotlb *pwc);

/* The calling thread's slot in @t (NULL once IOTLB_SLOTS threads have
 * one: count with atomics then). */
struct iotlb_slot *iotlb_thread_slot(struct iotlb *t);
/* Every slot claimed so far, for summing: returns their number. */
unsigned int iotlb_slots(struct iotlb *t, struct iotlb_slot **slots);

#endif
