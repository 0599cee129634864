/*
 * The IOTLB (see iotlb.h): a set-associative cache of final translations
 * with lock-free lookups (a sequence count per entry), fills and
 * invalidations under a per-set mutex, LRU or seeded random replacement.
 *
 * An entry's key packs the page number at the entry's page size, the tag
 * and the size, so a lookup compares one word per probed size. Each set
 * indexes its valid entries by key (open addressing, linear probing,
 * deleted slots marked and swept when they pile up), so a hit or a miss
 * costs a few loads even in a fully associative IOTLB of 64 entries; the
 * scan of every way is left for lookups that race a writer of the set.
 *
 * A run of fills into a fully associative LRU set finds its victims in
 * one pass: free ways (lowest first), then valid ways by (stamp, way),
 * then the run's own fills in order, the order single fills would pick.
 */
#include "hw/iotlb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_VALID	1ULL
#define KEY_SIZE_SHIFT	1
#define KEY_TAG_SHIFT	4
#define KEY_VPN_SHIFT	20
#define ADDR_LIMIT_BITS 56	/* page numbers fit beside tag and size */

static const unsigned int size_shift[IOTLB_NR_SIZES] = { 12, 21, 30 };

static uint64_t make_key(uint16_t tag, uint64_t addr, unsigned int si)
{
	return (addr >> size_shift[si]) << KEY_VPN_SHIFT |
	       (uint64_t)tag << KEY_TAG_SHIFT | (uint64_t)si << KEY_SIZE_SHIFT |
	       KEY_VALID;
}

static uint16_t key_tag(uint64_t key)
{
	return (uint16_t)(key >> KEY_TAG_SHIFT);
}

static unsigned int key_size(uint64_t key)
{
	return (unsigned int)(key >> KEY_SIZE_SHIFT) & 3;
}

static uint64_t key_base(uint64_t key)
{
	return (key >> KEY_VPN_SHIFT) << size_shift[key_size(key)];
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

static struct iotlb_set *set_of(struct iotlb *t, uint16_t tag, uint64_t addr,
				unsigned int si)
{
	uint64_t vpn = addr >> size_shift[si];

	if (t->nr_sets == 1)
		return t->sets;
	return &t->sets[mix(vpn ^ (uint64_t)tag << 40) & (t->nr_sets - 1)];
}

#define IDX_EMPTY	0u
#define IDX_TOMB	UINT32_MAX
#define KEY_LOW_MASK	((1ULL << KEY_VPN_SHIFT) - 1)

static unsigned int idx_home(const struct iotlb *t, uint64_t key)
{
	return (unsigned int)(mix(key) & t->idx_mask);
}

/* Ids tell IOTLBs apart in the threads' slot caches even when one is
 * freed and another is allocated at the same address. */
static _Atomic uint64_t next_id = 1;

#define SLOT_CACHE 8
struct slot_ref {
	uint64_t id;
	unsigned int slot;
};
static _Thread_local struct slot_ref slot_cache[SLOT_CACHE];
static _Thread_local unsigned int slot_cache_next;

/* The slot this thread has in @t, or a new one. */
static int find_slot(struct iotlb *t, uintptr_t me)
{
	unsigned int n = atomic_load_explicit(&t->nr_slots,
					      memory_order_acquire);

	for (unsigned int i = 0; i < n && i < IOTLB_SLOTS; i++)
		if (atomic_load_explicit(&t->slots[i].thread,
					 memory_order_relaxed) == me)
			return (int)i;
	n = atomic_fetch_add_explicit(&t->nr_slots, 1, memory_order_acq_rel);
	if (n >= IOTLB_SLOTS) {
		atomic_store_explicit(&t->nr_slots, IOTLB_SLOTS,
				      memory_order_relaxed);
		return -1;
	}
	atomic_store_explicit(&t->slots[n].thread, me, memory_order_relaxed);
	return (int)n;
}

struct iotlb_slot *iotlb_thread_slot(struct iotlb *t)
{
	struct slot_ref *r;
	int n;

	for (unsigned int i = 0; i < SLOT_CACHE; i++)
		if (slot_cache[i].id == t->id)
			return &t->slots[slot_cache[i].slot];
	n = find_slot(t, (uintptr_t)&slot_cache_next);
	if (n < 0)
		return NULL;
	r = &slot_cache[slot_cache_next++ % SLOT_CACHE];
	r->id = t->id;
	r->slot = (unsigned int)n;
	return &t->slots[n];
}

unsigned int iotlb_slots(struct iotlb *t, struct iotlb_slot **slots)
{
	unsigned int n = atomic_load_explicit(&t->nr_slots,
					      memory_order_acquire);

	*slots = t->slots;
	return n < IOTLB_SLOTS ? n : IOTLB_SLOTS;
}

/* A counter only the calling thread writes: no read-modify-write. */
static void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

void iotlb_params_init(struct iotlb_params *p)
{
	memset(p, 0, sizeof(*p));
	p->entries = IOTLB_DEFAULT_ENTRIES;
	p->ways = 0;
	p->repl = IOTLB_REPL_LRU;
	p->seed = 1;
}

static bool pow2(unsigned int x)
{
	return x && !(x & (x - 1));
}

static void free_set(struct iotlb_set *s)
{
	free(s->way);
	free((void *)s->idx);
	free(s->heap);
	free(s->ring);
}

/* @order: the scratch a run's LRU victims need (fully associative). */
static int init_set(struct iotlb_set *s, unsigned int ways, unsigned int slots,
		    bool order)
{
	s->way = calloc(ways, sizeof(*s->way));
	s->idx = calloc(slots, sizeof(*s->idx));
	if (order) {
		s->heap = calloc(ways, sizeof(*s->heap));
		s->ring = calloc(ways, sizeof(*s->ring));
	}
	if (!s->way || !s->idx || (order && (!s->heap || !s->ring))) {
		free_set(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

int iotlb_init(struct iotlb *t, const struct iotlb_params *p)
{
	unsigned int ways, slots;

	memset(t, 0, sizeof(*t));
	ways = p->ways ? p->ways : p->entries;
	if (!pow2(p->entries) || p->entries > IOTLB_MAX_ENTRIES ||
	    !pow2(ways) || ways > p->entries || p->repl > IOTLB_REPL_RANDOM)
		return -EINVAL;
	t->p = *p;
	t->p.ways = ways;
	t->nr_sets = p->entries / ways;
	slots = ways < 2 ? 8 : 4 * ways;	/* at most a quarter live */
	t->idx_mask = slots - 1;
	t->rng = p->seed ? p->seed : 1;
	t->id = atomic_fetch_add(&next_id, 1);
	t->slots = aligned_alloc(64, IOTLB_SLOTS * sizeof(*t->slots));
	t->sets = calloc(t->nr_sets, sizeof(*t->sets));
	if (!t->sets || !t->slots) {
		free(t->slots);
		free(t->sets);
		t->sets = NULL;
		return -ENOMEM;
	}
	memset(t->slots, 0, IOTLB_SLOTS * sizeof(*t->slots));
	for (unsigned int i = 0; i < t->nr_sets; i++) {
		if (init_set(&t->sets[i], ways, slots, t->nr_sets == 1)) {
			t->nr_sets = i;
			iotlb_destroy(t);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&t->rng_lock, NULL);
	return 0;
}

void iotlb_destroy(struct iotlb *t)
{
	if (!t->sets)
		return;
	for (unsigned int i = 0; i < t->nr_sets; i++) {
		pthread_mutex_destroy(&t->sets[i].lock);
		free_set(&t->sets[i]);
	}
	free(t->sets);
	free(t->slots);
	t->sets = NULL;
	pthread_mutex_destroy(&t->rng_lock);
}

/* A consistent copy of @e if it holds @key. */
static bool read_entry(struct iotlb_entry *e, uint64_t key,
		       struct iotlb_result *r)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_acquire);
	uint32_t attr;

	if ((s & 1) || atomic_load_explicit(&e->key, memory_order_relaxed) != key)
		return false;
	r->phys = atomic_load_explicit(&e->phys, memory_order_relaxed);
	r->data = atomic_load_explicit(&e->data, memory_order_relaxed);
	attr = atomic_load_explicit(&e->attr, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s)
		return false;
	r->perm = attr & 0xf;
	r->shift = size_shift[attr >> 4];
	return true;
}

/* LRU: a hit makes the entry as recent as the last fill. */
static void touch(struct iotlb *t, struct iotlb_entry *e)
{
	uint64_t now = atomic_load_explicit(&t->clock, memory_order_relaxed);

	if (t->p.repl == IOTLB_REPL_LRU &&
	    atomic_load_explicit(&e->stamp, memory_order_relaxed) != now)
		atomic_store_explicit(&e->stamp, now, memory_order_relaxed);
}

/* The slow probe, for lookups that raced a writer: every way. */
static struct iotlb_entry *scan(struct iotlb *t, struct iotlb_set *s,
				uint64_t key, struct iotlb_result *r)
{
	for (unsigned int w = 0; w < t->p.ways; w++) {
		struct iotlb_entry *e = &s->way[w];

		if (atomic_load_explicit(&e->key, memory_order_relaxed) == key &&
		    read_entry(e, key, r))
			return e;
	}
	return NULL;
}

/* @key through the set's index (exact while no writer is at work). */
static struct iotlb_entry *find(struct iotlb *t, struct iotlb_set *s,
				uint64_t key, struct iotlb_result *r)
{
	unsigned int i = idx_home(t, key);

	for (unsigned int n = 0; n <= t->idx_mask;
	     n++, i = (i + 1) & t->idx_mask) {
		uint32_t v = atomic_load_explicit(&s->idx[i],
						  memory_order_relaxed);
		struct iotlb_entry *e;

		if (v == IDX_EMPTY)
			break;
		if (v == IDX_TOMB || v > t->p.ways)
			continue;
		e = &s->way[v - 1];
		if (atomic_load_explicit(&e->key, memory_order_relaxed) == key &&
		    read_entry(e, key, r))
			return e;
	}
	return NULL;
}

static struct iotlb_entry *probe(struct iotlb *t, uint16_t tag, uint64_t addr,
				 unsigned int si, struct iotlb_result *r)
{
	struct iotlb_set *s = set_of(t, tag, addr, si);
	uint64_t key = make_key(tag, addr, si);
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	struct iotlb_entry *e = NULL;

	if (!(seq & 1)) {
		if (atomic_load_explicit(&s->nr[si], memory_order_relaxed))
			e = find(t, s, key, r);
		if (e)
			return e;
		/* nothing found: a miss, unless a writer was at work */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) == seq)
			return NULL;
	}
	return scan(t, s, key, r);
}

/* Each size @size_mask allows, smallest first; r->phys: the page base. */
static struct iotlb_entry *probe_sizes(struct iotlb *t, uint16_t tag,
				       uint64_t addr, unsigned int size_mask,
				       struct iotlb_result *r)
{
	struct iotlb_entry *e;

	if (addr >> ADDR_LIMIT_BITS)
		return NULL;
	for (unsigned int si = 0; si < IOTLB_NR_SIZES; si++) {
		if ((size_mask & (1u << si)) && (e = probe(t, tag, addr, si, r)))
			return e;
	}
	return NULL;
}

/* The remembered run holding the page of @addr (*at: its place), if
 * the IOTLB has not changed since it was taken. */
static const struct iotlb_memo *memo_find(struct iotlb *t,
					  const struct iotlb_slot *slot,
					  uint16_t tag, uint64_t addr,
					  unsigned int size_mask,
					  unsigned int *at)
{
	uint64_t gen = atomic_load_explicit(&t->gen, memory_order_acquire);
	uint64_t clock = atomic_load_explicit(&t->clock, memory_order_relaxed);

	if (addr >> ADDR_LIMIT_BITS)
		return NULL;
	for (unsigned int i = 0; i < IOTLB_MEMO_RUNS; i++) {
		const struct iotlb_memo *m = &slot->memo[i];
		uint64_t k, d;

		if (!m->pages || m->gen != gen || m->clock != clock ||
		    m->mask != size_mask)
			continue;
		k = make_key(tag, addr, m->si);
		d = (k >> KEY_VPN_SHIFT) - (m->key >> KEY_VPN_SHIFT);
		if (((k ^ m->key) & KEY_LOW_MASK) || d >= m->pages)
			continue;
		*at = (unsigned int)d;
		return m;
	}
	return NULL;
}

/* The answer for @addr, page @at of the run @m. */
static void memo_answer(const struct iotlb_memo *m, unsigned int at,
			uint64_t addr, struct iotlb_result *r)
{
	r->shift = size_shift[m->si];
	r->phys = m->phys + ((uint64_t)at << r->shift) +
		  (addr & ((1ULL << r->shift) - 1));
	r->data = m->data;
	r->perm = m->perm;
}

/* Remember @pages hits from the page of @key on (@r: the first page's
 * entry, phys its base), taken at @gen and @clock. */
static void memo_put(struct iotlb_slot *slot, uint64_t key,
		     const struct iotlb_result *r, unsigned int pages,
		     unsigned int size_mask, uint64_t gen, uint64_t clock)
{
	struct iotlb_memo *m = NULL;

	for (unsigned int i = 0; i < IOTLB_MEMO_RUNS && !m; i++)
		if (slot->memo[i].key == key)
			m = &slot->memo[i];
	if (!m)
		m = &slot->memo[slot->memo_next++ % IOTLB_MEMO_RUNS];
	m->key = key;
	m->si = iotlb_size_index(r->shift);
	m->phys = r->phys;
	m->data = r->data;
	m->perm = r->perm;
	m->mask = size_mask;
	m->pages = pages;
	m->gen = gen;
	m->clock = clock;
}

static void count_hits(struct iotlb *t, struct iotlb_slot *slot, uint64_t n)
{
	if (!n)
		return;
	if (slot)
		bump(&slot->hits, n);
	else
		atomic_fetch_add_explicit(&t->shared_hits, n,
					  memory_order_relaxed);
}

static void count_misses(struct iotlb *t, uint64_t n)
{
	if (n)
		atomic_fetch_add_explicit(&t->misses, n, memory_order_relaxed);
}

bool iotlb_lookup(struct iotlb *t, uint16_t tag, uint64_t addr,
		  unsigned int size_mask, struct iotlb_result *r)
{
	struct iotlb_slot *slot = iotlb_thread_slot(t);
	const struct iotlb_memo *m;
	struct iotlb_entry *e;
	unsigned int at;
	uint64_t gen, clock;

	if (slot && (m = memo_find(t, slot, tag, addr, size_mask, &at))) {
		memo_answer(m, at, addr, r);
		count_hits(t, slot, 1);
		return true;
	}
	gen = atomic_load_explicit(&t->gen, memory_order_acquire);
	clock = atomic_load_explicit(&t->clock, memory_order_relaxed);
	e = probe_sizes(t, tag, addr, size_mask, r);
	if (!e) {
		count_misses(t, 1);
		return false;
	}
	touch(t, e);
	if (slot)
		memo_put(slot, make_key(tag, addr, iotlb_size_index(r->shift)),
			 r, 1, size_mask, gen, clock);
	r->phys += addr & ((1ULL << r->shift) - 1);
	count_hits(t, slot, 1);
	return true;
}

bool iotlb_peek(struct iotlb *t, uint16_t tag, uint64_t addr,
		unsigned int size_mask, struct iotlb_result *r)
{
	struct iotlb_entry *e = probe_sizes(t, tag, addr, size_mask, r);

	if (!e)
		return false;
	touch(t, e);
	r->phys += addr & ((1ULL << r->shift) - 1);
	return true;
}

bool iotlb_peek_held(struct iotlb *t, struct iotlb_held *h, uint16_t tag,
		     uint64_t addr, unsigned int size_mask,
		     struct iotlb_result *r)
{
	uint64_t gen = atomic_load_explicit(&t->gen, memory_order_acquire);
	uint64_t clock = atomic_load_explicit(&t->clock, memory_order_relaxed);

	if (h->valid && h->tag == tag && h->mask == size_mask &&
	    addr - h->base < 1ULL << h->r.shift && h->gen == gen &&
	    h->clock == clock) {
		*r = h->r;
		r->phys += addr - h->base;
		return true;
	}
	h->valid = false;
	if (!iotlb_peek(t, tag, addr, size_mask, r))
		return false;
	*h = (struct iotlb_held){ .valid = true, .tag = tag, .mask = size_mask,
				  .base = addr & ~((1ULL << r->shift) - 1),
				  .gen = gen, .clock = clock, .r = *r };
	h->r.phys -= addr - h->base;
	return true;
}

static uint64_t next_random(struct iotlb *t)
{
	uint64_t x;

	pthread_mutex_lock(&t->rng_lock);
	x = t->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	pthread_mutex_unlock(&t->rng_lock);
	return x;
}

/* The way to fill: the key's own, a free one, or the victim. */
static unsigned int pick_way(struct iotlb *t, struct iotlb_set *s,
			     uint64_t key)
{
	unsigned int w, victim = 0, free_way = t->p.ways;
	uint64_t oldest = UINT64_MAX;

	for (w = 0; w < t->p.ways; w++) {
		uint64_t k = atomic_load_explicit(&s->way[w].key,
						  memory_order_relaxed);
		uint64_t st;

		if (k == key)
			return w;
		if (!k) {
			if (free_way == t->p.ways)
				free_way = w;
			continue;
		}
		st = atomic_load_explicit(&s->way[w].stamp,
					  memory_order_relaxed);
		if (st < oldest) {
			oldest = st;
			victim = w;
		}
	}
	if (free_way < t->p.ways)
		return free_way;
	if (t->p.repl == IOTLB_REPL_RANDOM)
		victim = (unsigned int)(next_random(t) % t->p.ways);
	return victim;
}

static void write_begin(_Atomic uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_end(_Atomic uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* ------------------------------------------------ the index (set lock) */

static void idx_put(struct iotlb *t, struct iotlb_set *s, uint64_t key,
		    unsigned int w)
{
	unsigned int i = idx_home(t, key);

	for (;;) {
		uint32_t v = atomic_load_explicit(&s->idx[i],
						  memory_order_relaxed);

		if (v == IDX_EMPTY || v == IDX_TOMB) {
			if (v == IDX_TOMB)
				s->tombs--;
			atomic_store_explicit(&s->idx[i], w + 1,
					      memory_order_relaxed);
			return;
		}
		i = (i + 1) & t->idx_mask;
	}
}

static void idx_rebuild(struct iotlb *t, struct iotlb_set *s)
{
	for (unsigned int i = 0; i <= t->idx_mask; i++)
		atomic_store_explicit(&s->idx[i], IDX_EMPTY,
				      memory_order_relaxed);
	s->tombs = 0;
	for (unsigned int w = 0; w < t->p.ways; w++) {
		uint64_t k = atomic_load_explicit(&s->way[w].key,
						  memory_order_relaxed);

		if (k)
			idx_put(t, s, k, w);
	}
}

static void idx_del(struct iotlb *t, struct iotlb_set *s, uint64_t key,
		    unsigned int w)
{
	unsigned int i = idx_home(t, key);

	for (unsigned int n = 0; n <= t->idx_mask;
	     n++, i = (i + 1) & t->idx_mask) {
		uint32_t v = atomic_load_explicit(&s->idx[i],
						  memory_order_relaxed);

		if (v == IDX_EMPTY)
			return;
		if (v != w + 1)
			continue;
		atomic_store_explicit(&s->idx[i], IDX_TOMB,
				      memory_order_relaxed);
		if (++s->tombs > (t->idx_mask + 1) / 4)
			idx_rebuild(t, s);
		return;
	}
}

/* The way holding @key, or -1. */
static int idx_way(struct iotlb *t, struct iotlb_set *s, uint64_t key)
{
	unsigned int i = idx_home(t, key);

	for (unsigned int n = 0; n <= t->idx_mask;
	     n++, i = (i + 1) & t->idx_mask) {
		uint32_t v = atomic_load_explicit(&s->idx[i],
						  memory_order_relaxed);

		if (v == IDX_EMPTY)
			break;
		if (v != IDX_TOMB &&
		    atomic_load_explicit(&s->way[v - 1].key,
					 memory_order_relaxed) == key)
			return (int)v - 1;
	}
	return -1;
}

static void nr_add(struct iotlb_set *s, unsigned int si, int d)
{
	unsigned int n = atomic_load_explicit(&s->nr[si], memory_order_relaxed);

	atomic_store_explicit(&s->nr[si], n + (unsigned int)d,
			      memory_order_relaxed);
}

/* -------------------------------------------- fills (set lock, seq odd) */

/* Make way @w invalid. */
static void kill_entry(struct iotlb *t, struct iotlb_set *s, unsigned int w)
{
	struct iotlb_entry *e = &s->way[w];
	uint64_t k = atomic_load_explicit(&e->key, memory_order_relaxed);

	if (!k)
		return;
	write_begin(&e->seq);
	atomic_store_explicit(&e->key, 0, memory_order_relaxed);
	write_end(&e->seq);
	nr_add(s, key_size(k), -1);
	idx_del(t, s, k, w);
}

struct fill_one {
	uint64_t key, phys, data, stamp;
	unsigned int si, perm;
};

/* @f into way @w; true if that evicted another entry. */
static bool put(struct iotlb *t, struct iotlb_set *s, unsigned int w,
		const struct fill_one *f)
{
	struct iotlb_entry *e = &s->way[w];
	uint64_t old = atomic_load_explicit(&e->key, memory_order_relaxed);

	kill_entry(t, s, w);
	write_begin(&e->seq);
	atomic_store_explicit(&e->phys, f->phys, memory_order_relaxed);
	atomic_store_explicit(&e->data, f->data, memory_order_relaxed);
	atomic_store_explicit(&e->attr, f->si << 4 | (f->perm & 0xf),
			      memory_order_relaxed);
	atomic_store_explicit(&e->stamp, f->stamp, memory_order_relaxed);
	atomic_store_explicit(&e->key, f->key, memory_order_relaxed);
	write_end(&e->seq);
	nr_add(s, f->si, 1);
	idx_put(t, s, f->key, w);
	return old && old != f->key;
}

/* Lock @s for a change; false (and counted) if an invalidation ran
 * since @gen, in which case the @n fills are dropped. */
static bool set_lock(struct iotlb *t, struct iotlb_set *s, uint64_t gen,
		     unsigned int n)
{
	pthread_mutex_lock(&s->lock);
	if (atomic_load_explicit(&t->gen, memory_order_acquire) != gen) {
		pthread_mutex_unlock(&s->lock);
		atomic_fetch_add_explicit(&t->fills_dropped, n,
					  memory_order_relaxed);
		return false;
	}
	write_begin(&s->seq);
	return true;
}

static void set_unlock(struct iotlb *t, struct iotlb_set *s,
		       unsigned int fills, unsigned int evicted)
{
	write_end(&s->seq);
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add_explicit(&t->fills, fills, memory_order_relaxed);
	if (evicted)
		atomic_fetch_add_explicit(&t->evictions, evicted,
					  memory_order_relaxed);
}

static void fill_page(struct iotlb *t, uint64_t gen, uint16_t tag,
		      uint64_t addr, const struct fill_one *proto)
{
	struct iotlb_set *s;
	struct fill_one f = *proto;
	bool evicted;

	if (addr >> ADDR_LIMIT_BITS)
		return;
	s = set_of(t, tag, addr, f.si);
	f.key = make_key(tag, addr, f.si);
	if (!set_lock(t, s, gen, 1))
		return;
	f.stamp = atomic_fetch_add_explicit(&t->clock, 1,
					    memory_order_relaxed) + 1;
	evicted = put(t, s, pick_way(t, s, f.key), &f);
	set_unlock(t, s, 1, evicted);
}

/* A min-heap of (stamp << 16 | way). */
static void sift_down(uint64_t *h, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int c = 2 * i + 1;
		uint64_t x;

		if (c >= n)
			return;
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (h[i] <= h[c])
			return;
		x = h[i];
		h[i] = h[c];
		h[c] = x;
		i = c;
	}
}

/*
 * s->ring: every way, the first @m in the order single fills would take
 * them as victims (free ways lowest first, then valid ways by stamp and
 * way, as pick_way), the rest after them in any order.
 */
static void plan_victims(struct iotlb *t, struct iotlb_set *s, unsigned int m)
{
	unsigned int n = t->p.ways;
	uint64_t *h = s->heap;

	for (unsigned int w = 0; w < n; w++) {
		uint64_t k = atomic_load_explicit(&s->way[w].key,
						  memory_order_relaxed);
		uint64_t st = k ? atomic_load_explicit(&s->way[w].stamp,
						       memory_order_relaxed)
				: 0;

		h[w] = st << 16 | w;
	}
	for (unsigned int i = n / 2; i-- > 0;)
		sift_down(h, n, i);
	for (unsigned int i = 0; i < m; i++) {
		s->ring[i] = (uint32_t)(h[0] & 0xffff);
		h[0] = h[--n];
		sift_down(h, n, 0);
	}
	for (unsigned int i = 0; i < n; i++)
		s->ring[m + i] = (uint32_t)(h[i] & 0xffff);
}

/* Way @w was refilled in place: it is the newest now, last in line. */
static void ring_to_tail(struct iotlb_set *s, unsigned int ways,
			 unsigned int head, unsigned int w)
{
	unsigned int j = 0;

	while (j < ways && s->ring[(head + j) % ways] != w)
		j++;
	for (; j + 1 < ways; j++)
		s->ring[(head + j) % ways] = s->ring[(head + j + 1) % ways];
	s->ring[(head + ways - 1) % ways] = w;
}

/* @n > 1 fills into the one LRU set, the victims found in one pass:
 * after the planned ones, the run's own fills in order. */
static void fill_lru_run(struct iotlb *t, uint64_t gen, uint16_t tag,
			 uint64_t addr, const struct fill_one *proto,
			 unsigned int n)
{
	struct iotlb_set *s = t->sets;
	unsigned int ways = t->p.ways, head = 0, evicted = 0;
	unsigned int shift = size_shift[proto->si];
	struct fill_one f = *proto;
	uint64_t stamp;

	if (!set_lock(t, s, gen, n))
		return;
	plan_victims(t, s, n < ways ? n : ways);
	stamp = atomic_fetch_add_explicit(&t->clock, n, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++) {
		int w;

		f.key = make_key(tag, addr + ((uint64_t)i << shift), f.si);
		f.phys = proto->phys + ((uint64_t)i << shift);
		f.stamp = stamp + i + 1;
		w = idx_way(t, s, f.key);
		if (w >= 0) {
			ring_to_tail(s, ways, head, (unsigned int)w);
		} else {
			w = (int)s->ring[head];
			head = (head + 1) % ways;
		}
		evicted += put(t, s, (unsigned int)w, &f);
	}
	set_unlock(t, s, n, evicted);
}

void iotlb_fill_run(struct iotlb *t, uint64_t gen, uint16_t tag,
		    uint64_t addr, unsigned int shift, uint64_t phys,
		    unsigned int perm, uint64_t data, unsigned int n)
{
	unsigned int si = iotlb_size_index(shift);
	struct fill_one f = { .data = data, .perm = perm, .si = si };
	uint64_t last;

	if (!n || si >= IOTLB_NR_SIZES || size_shift[si] != shift)
		return;
	addr &= ~((1ULL << shift) - 1);
	f.phys = phys & ~((1ULL << shift) - 1);
	last = addr + ((uint64_t)(n - 1) << shift);
	if (n > 1 && t->nr_sets == 1 && t->p.repl == IOTLB_REPL_LRU &&
	    last >= addr && !(last >> ADDR_LIMIT_BITS)) {
		fill_lru_run(t, gen, tag, addr, &f, n);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		fill_page(t, gen, tag, addr + ((uint64_t)i << shift), &f);
		f.phys += 1ULL << shift;
	}
}

void iotlb_fill(struct iotlb *t, uint64_t gen, uint16_t tag, uint64_t addr,
		unsigned int shift, uint64_t phys, unsigned int perm,
		uint64_t data)
{
	iotlb_fill_run(t, gen, tag, addr, shift, phys, perm, data, 1);
}

/* ------------------------------------------------------------- runs */

/* Where a run stands. */
struct run_state {
	struct iotlb *t;
	struct iotlb_walk *w;
	uint16_t tag;
	unsigned int size_mask;
	uint64_t gen;		/* read before the first walk */
	uint64_t addr, out;	/* the next byte and the output it needs */
	uint64_t end;
	unsigned int pages, hits, misses, served, walked;
	bool uniform;		/* one size, right and word: rememberable */
	unsigned int shift, perm;
	uint64_t data;
	/* walked pages to fill, consecutive, of one size */
	uint64_t p_addr, p_phys, p_data;
	unsigned int p_shift, p_perm, p_n;
};

static bool has_right(const struct iotlb_walk *w, unsigned int perm)
{
	return perm & w->allow & w->need;
}

static uint64_t page_off(uint64_t addr, unsigned int shift)
{
	return addr & ((1ULL << shift) - 1);
}

/* Past the page of st->addr (2^@shift bytes), up to the end. */
static void advance(struct run_state *st, unsigned int shift)
{
	uint64_t left = (1ULL << shift) - page_off(st->addr, shift);

	if (left > st->end - st->addr)
		left = st->end - st->addr;
	st->addr += left;
	st->out += left;
	st->pages++;
}

/* A page the IOTLB answered: keep the run rememberable if alike. */
static void note(struct run_state *st, const struct iotlb_result *r)
{
	if (!st->pages) {
		st->shift = r->shift;
		st->perm = r->perm;
		st->data = r->data;
	} else if (r->shift != st->shift || r->perm != st->perm ||
		   r->data != st->data) {
		st->uniform = false;
	}
}

static void pending_flush(struct run_state *st)
{
	if (!st->p_n)
		return;
	iotlb_fill_run(st->t, st->gen, st->tag, st->p_addr, st->p_shift,
		       st->p_phys, st->p_perm, st->p_data, st->p_n);
	st->p_n = 0;
}

/* A walked page of st->addr waits to be filled. */
static void pending_add(struct run_state *st, const struct iotlb_result *leaf)
{
	uint64_t page = st->addr - page_off(st->addr, leaf->shift);
	uint64_t next = (uint64_t)st->p_n << st->p_shift;

	st->uniform = false;
	if (st->p_n && leaf->shift == st->p_shift &&
	    leaf->perm == st->p_perm && leaf->data == st->p_data &&
	    page == st->p_addr + next && leaf->phys == st->p_phys + next) {
		st->p_n++;
		return;
	}
	pending_flush(st);
	st->p_addr = page;
	st->p_phys = leaf->phys;
	st->p_shift = leaf->shift;
	st->p_perm = leaf->perm;
	st->p_data = leaf->data;
	st->p_n = 1;
}

/* Walk st->addr's page; 0 or the walk's code. */
static unsigned int walk_page(struct run_state *st, struct iotlb_result *leaf)
{
	unsigned int code;

	st->w->leaf_shift = 0;
	code = st->w->walk(st->w, st->addr, leaf);
	if (!code)
		leaf->phys &= ~((1ULL << leaf->shift) - 1);
	return code;
}

/* How far a walk's answer goes: the leaf, which may be larger than the
 * entry it fills. */
static unsigned int walk_span(const struct run_state *st,
			      const struct iotlb_result *leaf)
{
	return st->w->leaf_shift > leaf->shift ? st->w->leaf_shift
					       : leaf->shift;
}

static void took_walk(struct run_state *st)
{
	st->walked++;
	if (st->w->taken)
		st->w->taken(st->w);
}

/* The next page: true if it continues the run (and is counted). */
static bool run_next(struct run_state *st)
{
	struct iotlb_result r;
	struct iotlb_entry *e;

	e = probe_sizes(st->t, st->tag, st->addr, st->size_mask, &r);
	if (e && st->p_n) {
		/* a lookup of this page comes after the fills before it */
		pending_flush(st);
		e = probe_sizes(st->t, st->tag, st->addr, st->size_mask, &r);
	}
	if (e) {
		if (!has_right(st->w, r.perm) ||
		    r.phys + page_off(st->addr, r.shift) != st->out)
			return false;
		touch(st->t, e);
		st->hits++;
		st->served++;
		note(st, &r);
		advance(st, r.shift);
		return true;
	}
	if (walk_page(st, &r) ||
	    r.phys + page_off(st->addr, r.shift) != st->out)
		return false;
	took_walk(st);
	st->misses++;
	pending_add(st, &r);
	advance(st, walk_span(st, &r));
	return true;
}

/* Pages a remembered run answers, from st->addr on. */
static bool run_memo(struct run_state *st, struct iotlb_slot *slot)
{
	const struct iotlb_memo *m;
	struct iotlb_result r;
	unsigned int at, n;

	if (!slot || !(m = memo_find(st->t, slot, st->tag, st->addr,
				     st->size_mask, &at)) ||
	    !has_right(st->w, m->perm))
		return false;
	memo_answer(m, at, st->addr, &r);
	st->out = r.phys;
	st->uniform = false; /* remembered already */
	for (n = m->pages - at; n && st->addr < st->end &&
	     st->pages < IOTLB_RUN_PAGES; n--) {
		advance(st, r.shift);
		st->hits++;
		st->served++;
	}
	return true;
}

/* The first page: 0, or the code of its failed walk. */
static unsigned int run_first(struct run_state *st, struct iotlb_slot *slot)
{
	struct iotlb_result r;
	struct iotlb_entry *e;
	unsigned int code;

	if (run_memo(st, slot))
		return 0;
	e = probe_sizes(st->t, st->tag, st->addr, st->size_mask, &r);
	if (e) {
		touch(st->t, e);
		st->hits++;
		if (has_right(st->w, r.perm)) {
			st->served++;
			st->out = r.phys + page_off(st->addr, r.shift);
			note(st, &r);
			advance(st, r.shift);
			return 0;
		}
	} else {
		st->misses++;
	}
	/* a miss, or an entry without the right: the tables decide */
	code = walk_page(st, &r);
	took_walk(st);
	if (code)
		return code;
	st->out = r.phys + page_off(st->addr, r.shift);
	pending_add(st, &r);
	advance(st, walk_span(st, &r));
	return 0;
}

bool iotlb_translate(struct iotlb *t, uint16_t tag, uint64_t addr,
		     uint64_t len, unsigned int size_mask,
		     struct iotlb_walk *w, struct iotlb_run *r)
{
	struct iotlb_slot *slot = iotlb_thread_slot(t);
	struct run_state st = {
		.t = t, .w = w, .tag = tag, .size_mask = size_mask,
		.addr = addr, .end = addr + len, .uniform = true,
	};
	uint64_t clock;

	if (st.end < addr || !len)
		st.end = len ? UINT64_MAX : addr + 1;
	memset(r, 0, sizeof(*r));
	st.gen = atomic_load_explicit(&t->gen, memory_order_acquire);
	clock = atomic_load_explicit(&t->clock, memory_order_relaxed);
	r->code = run_first(&st, slot);
	r->phys = st.out - (st.addr - addr);
	while (!r->code && st.addr < st.end && st.pages < IOTLB_RUN_PAGES &&
	       run_next(&st))
		;
	pending_flush(&st);
	count_hits(t, slot, st.hits);
	count_misses(t, st.misses);
	if (slot && st.uniform && st.pages && st.served == st.pages)
		memo_put(slot, make_key(tag, addr, iotlb_size_index(st.shift)),
			 &(struct iotlb_result){
				 .phys = r->phys - page_off(addr, st.shift),
				 .shift = st.shift, .perm = st.perm,
				 .data = st.data },
			 st.pages, size_mask, st.gen, clock);
	r->len = st.addr - addr;
	r->served = st.served;
	r->walked = st.walked;
	return !r->code;
}

struct flush_filter {
	bool (*match)(const struct flush_filter *f, uint64_t key,
		      uint64_t data);
	uint16_t tag;
	uint64_t start, end;
	bool (*user)(uint16_t tag, uint64_t data, void *arg);
	void *arg;
};

static unsigned int flush(struct iotlb *t, const struct flush_filter *f)
{
	unsigned int n = 0;

	atomic_fetch_add_explicit(&t->gen, 1, memory_order_seq_cst);
	for (unsigned int i = 0; i < t->nr_sets; i++) {
		struct iotlb_set *s = &t->sets[i];

		pthread_mutex_lock(&s->lock);
		write_begin(&s->seq);
		for (unsigned int w = 0; w < t->p.ways; w++) {
			struct iotlb_entry *e = &s->way[w];
			uint64_t k = atomic_load_explicit(&e->key,
							  memory_order_relaxed);

			if (!k || !f->match(f, k, atomic_load_explicit(
						  &e->data, memory_order_relaxed)))
				continue;
			kill_entry(t, s, w);
			n++;
		}
		write_end(&s->seq);
		pthread_mutex_unlock(&s->lock);
	}
	atomic_fetch_add_explicit(&t->inval_cmds, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->inval_entries, n, memory_order_relaxed);
	return n;
}

static bool match_all(const struct flush_filter *f, uint64_t key,
		      uint64_t data)
{
	(void)f;
	(void)key;
	(void)data;
	return true;
}

static bool match_tag(const struct flush_filter *f, uint64_t key,
		      uint64_t data)
{
	(void)data;
	return key_tag(key) == f->tag;
}

static bool match_range(const struct flush_filter *f, uint64_t key,
			uint64_t data)
{
	uint64_t base = key_base(key);
	uint64_t end = base + (1ULL << size_shift[key_size(key)]);

	(void)data;
	return key_tag(key) == f->tag && base < f->end && f->start < end;
}

static bool match_user(const struct flush_filter *f, uint64_t key,
		       uint64_t data)
{
	return f->user(key_tag(key), data, f->arg);
}

unsigned int iotlb_flush_all(struct iotlb *t)
{
	struct flush_filter f = { .match = match_all };

	return flush(t, &f);
}

unsigned int iotlb_flush_tag(struct iotlb *t, uint16_t tag)
{
	struct flush_filter f = { .match = match_tag, .tag = tag };

	return flush(t, &f);
}

/* Kill the entry with @key, if any (the set's lock taken here). */
static unsigned int kill_key(struct iotlb *t, uint16_t tag, uint64_t base,
			     unsigned int si)
{
	struct iotlb_set *s = set_of(t, tag, base, si);
	uint64_t key = make_key(tag, base, si);
	unsigned int n = 0;
	int w;

	if (!atomic_load_explicit(&s->nr[si], memory_order_relaxed))
		return 0;
	pthread_mutex_lock(&s->lock);
	w = idx_way(t, s, key);
	if (w >= 0) {
		write_begin(&s->seq);
		kill_entry(t, s, (unsigned int)w);
		write_end(&s->seq);
		n = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/*
 * A small range (the common page-selective invalidation of a strict
 * unmap): look up each page that could hold part of it, at each size,
 * instead of scanning every entry. Removes exactly what the scan would.
 */
static unsigned int flush_few(struct iotlb *t, uint16_t tag, uint64_t start,
			      uint64_t end)
{
	unsigned int n = 0;

	atomic_fetch_add_explicit(&t->gen, 1, memory_order_seq_cst);
	for (unsigned int si = 0; si < IOTLB_NR_SIZES; si++) {
		uint64_t sz = 1ULL << size_shift[si];

		for (uint64_t b = start & ~(sz - 1); b < end; b += sz)
			n += kill_key(t, tag, b, si);
	}
	atomic_fetch_add_explicit(&t->inval_cmds, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->inval_entries, n, memory_order_relaxed);
	return n;
}

#define FLUSH_FEW_PAGES 16

unsigned int iotlb_flush_range(struct iotlb *t, uint16_t tag, uint64_t addr,
			       unsigned int am)
{
	struct flush_filter f = { .match = match_range, .tag = tag };
	unsigned int bits = 12 + (am > 52 ? 52 : am);

	if (bits >= 64)
		return iotlb_flush_tag(t, tag);
	f.start = addr & ~((1ULL << bits) - 1);
	f.end = f.start + (1ULL << bits);
	if (f.end < f.start) /* the top of the address space */
		f.end = UINT64_MAX;
	if (am <= 4 && (f.start >> ADDR_LIMIT_BITS) == 0 &&
	    (1u << am) <= FLUSH_FEW_PAGES)
		return flush_few(t, tag, f.start, f.end);
	return flush(t, &f);
}

unsigned int iotlb_flush_match(struct iotlb *t,
			       bool (*match)(uint16_t tag, uint64_t data,
					     void *arg),
			       void *arg)
{
	struct flush_filter f = { .match = match_user, .user = match,
				  .arg = arg };

	return flush(t, &f);
}

static uint64_t load(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void iotlb_get_stats(struct iotlb *t, struct iotlb_stats *s)
{
	struct iotlb_slot *slots;
	unsigned int n = iotlb_slots(t, &slots);

	memset(s, 0, sizeof(*s));
	s->hits = load(&t->shared_hits);
	for (unsigned int i = 0; i < n; i++)
		s->hits += load(&slots[i].hits);
	s->misses = load(&t->misses);
	s->fills = load(&t->fills);
	s->evictions = load(&t->evictions);
	s->inval_cmds = load(&t->inval_cmds);
	s->inval_entries = load(&t->inval_entries);
	s->fills_dropped = load(&t->fills_dropped);
	for (unsigned int i = 0; i < t->nr_sets; i++)
		for (unsigned int j = 0; j < IOTLB_NR_SIZES; j++)
			s->valid += atomic_load_explicit(&t->sets[i].nr[j],
							 memory_order_relaxed);
}

int iotlb_unit_caches_init(const struct iotlb_unit_caches *g,
			   struct iotlb *tlb, struct iotlb *dev,
			   struct iotlb *pwc)
{
	struct iotlb_params cp;
	int ret = iotlb_init(tlb, &g->tlb);

	if (ret)
		return ret;
	iotlb_params_init(&cp);
	cp.entries = g->dev_entries;
	ret = iotlb_init(dev, &cp);
	if (ret)
		goto err_tlb;
	if (!g->pwc_entries)
		return 0;
	cp.entries = g->pwc_entries;
	ret = iotlb_init(pwc, &cp);
	if (!ret)
		return 0;
	iotlb_destroy(dev);
err_tlb:
	iotlb_destroy(tlb);
	return ret;
}

void iotlb_unit_caches_destroy(struct iotlb *tlb, struct iotlb *dev,
			       struct iotlb *pwc)
{
	iotlb_destroy(pwc);
	iotlb_destroy(dev);
	iotlb_destroy(tlb);
}
