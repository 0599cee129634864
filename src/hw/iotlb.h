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
 * bump around a change; a reader misses when it changes under it. Fills
 * and invalidations take the set's mutex. A fill carries the invalidation
 * generation it read before walking the tables: if an invalidation ran
 * since, the fill is dropped, so an invalidation that has completed never
 * leaves an entry behind. LRU stamps are the count of fills: a hit
 * refreshes an entry's stamp only when a fill happened since its last
 * refresh, so the order is exact to the resolution of fills and repeated
 * hits write nothing. Hits are counted in a per-thread slot (a thread
 * claims one per IOTLB on its first lookup; a later thread at the same
 * TLS address inherits it), so counting costs no atomic read-modify-write;
 * the counts are exact once the threads are quiet. The slot also keeps
 * the thread's last hit, reused while the IOTLB has not changed at all
 * (same fill count, same invalidation count): exactly what a lookup
 * would return, at the cost of a few compares.
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
	_Atomic unsigned int nr[IOTLB_NR_SIZES];	/* valid, by size */
	_Atomic uint16_t *hint;	/* hash of key -> way, a shortcut only */
	struct iotlb_entry *way;
};

/* A thread's counters (written by that thread only). @owner is for the
 * cache's user (VT-d keeps its per-device hit count there). */
struct iotlb_slot {
	_Alignas(64) _Atomic uint64_t hits;	/* a line or two per thread */
	_Atomic uint64_t owner[2];
	_Atomic uintptr_t thread;	/* who has it (a TLS address) */
	/* the thread's last hit, private to it: still the IOTLB's answer
	 * while no fill and no invalidation has happened since */
	uint64_t memo_key, memo_phys, memo_data, memo_gen, memo_clock;
	unsigned int memo_si, memo_perm;
};

struct iotlb {
	struct iotlb_params p;
	unsigned int nr_sets, hint_mask;
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

/* Insert the translation of the page of @addr (2^@shift bytes) to the
 * page at @phys (aligned). Dropped if an invalidation ran since @gen. */
void iotlb_fill(struct iotlb *t, uint64_t gen, uint16_t tag, uint64_t addr,
		unsigned int shift, uint64_t phys, unsigned int perm,
		uint64_t data);

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

/* The calling thread's slot in @t (NULL once IOTLB_SLOTS threads have
 * one: count with atomics then). */
struct iotlb_slot *iotlb_thread_slot(struct iotlb *t);
/* Every slot claimed so far, for summing: returns their number. */
unsigned int iotlb_slots(struct iotlb *t, struct iotlb_slot **slots);

#endif
