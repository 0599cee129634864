/*
 * The IOTLB (see iotlb.h): a set-associative cache of final translations
 * with lock-free lookups (a sequence count per entry), fills and
 * invalidations under a per-set mutex, LRU or seeded random replacement.
 *
 * An entry's key packs the page number at the entry's page size, the tag
 * and the size, so a lookup compares one word per probed size. A small
 * hash table per set remembers the way a key was last seen in: a lookup
 * checks that way first and scans the set only when the shortcut misses,
 * so a fully associative IOTLB of 64 entries costs a few loads on a hit.
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

static unsigned int hint_of(const struct iotlb *t, uint64_t key)
{
	return (unsigned int)(mix(key) & t->hint_mask);
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
static void bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
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

static int init_set(struct iotlb_set *s, unsigned int ways, unsigned int hints)
{
	s->way = calloc(ways, sizeof(*s->way));
	s->hint = calloc(hints, sizeof(*s->hint));
	if (!s->way || !s->hint) {
		free(s->way);
		free((void *)s->hint);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

int iotlb_init(struct iotlb *t, const struct iotlb_params *p)
{
	unsigned int ways, hints;

	memset(t, 0, sizeof(*t));
	ways = p->ways ? p->ways : p->entries;
	if (!pow2(p->entries) || p->entries > IOTLB_MAX_ENTRIES ||
	    !pow2(ways) || ways > p->entries || p->repl > IOTLB_REPL_RANDOM)
		return -EINVAL;
	t->p = *p;
	t->p.ways = ways;
	t->nr_sets = p->entries / ways;
	hints = ways < 4 ? 8 : 2 * ways;
	t->hint_mask = hints - 1;
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
		if (init_set(&t->sets[i], ways, hints)) {
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
		free(t->sets[i].way);
		free((void *)t->sets[i].hint);
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

/* The slow probe: every way of the set, remembering where it was. */
static struct iotlb_entry *scan(struct iotlb *t, struct iotlb_set *s,
				uint64_t key, struct iotlb_result *r)
{
	for (unsigned int w = 0; w < t->p.ways; w++) {
		struct iotlb_entry *e = &s->way[w];

		if (atomic_load_explicit(&e->key, memory_order_relaxed) == key &&
		    read_entry(e, key, r)) {
			atomic_store_explicit(&s->hint[hint_of(t, key)],
					      (uint16_t)w, memory_order_relaxed);
			return e;
		}
	}
	return NULL;
}

static struct iotlb_entry *probe(struct iotlb *t, uint16_t tag, uint64_t addr,
				 unsigned int si, bool slow,
				 struct iotlb_result *r)
{
	struct iotlb_set *s = set_of(t, tag, addr, si);
	uint64_t key = make_key(tag, addr, si);
	struct iotlb_entry *e;

	if (!atomic_load_explicit(&s->nr[si], memory_order_relaxed))
		return NULL;
	if (slow)
		return scan(t, s, key, r);
	e = &s->way[atomic_load_explicit(&s->hint[hint_of(t, key)],
					 memory_order_relaxed)];
	return read_entry(e, key, r) ? e : NULL;
}

/* Is the thread's last hit still what the IOTLB holds for @addr? */
static bool memo_hit(struct iotlb *t, const struct iotlb_slot *slot,
		     uint16_t tag, uint64_t addr, unsigned int size_mask,
		     struct iotlb_result *r)
{
	unsigned int si = slot->memo_si;

	if (!slot->memo_key || !(size_mask & (1u << si)) ||
	    make_key(tag, addr, si) != slot->memo_key ||
	    atomic_load_explicit(&t->gen, memory_order_acquire) !=
		    slot->memo_gen ||
	    atomic_load_explicit(&t->clock, memory_order_relaxed) !=
		    slot->memo_clock)
		return false;
	r->shift = size_shift[si];
	r->phys = slot->memo_phys + (addr & ((1ULL << r->shift) - 1));
	r->data = slot->memo_data;
	r->perm = slot->memo_perm;
	return true;
}

static void memo_set(struct iotlb_slot *slot, uint64_t key, uint64_t gen,
		     uint64_t clock, const struct iotlb_result *r)
{
	slot->memo_key = key;
	slot->memo_si = iotlb_size_index(r->shift);
	slot->memo_phys = r->phys;
	slot->memo_data = r->data;
	slot->memo_perm = r->perm;
	slot->memo_gen = gen;
	slot->memo_clock = clock;
}

static void count_hit(struct iotlb *t, struct iotlb_slot *slot)
{
	if (slot)
		bump(&slot->hits);
	else
		atomic_fetch_add_explicit(&t->shared_hits, 1,
					  memory_order_relaxed);
}

bool iotlb_lookup(struct iotlb *t, uint16_t tag, uint64_t addr,
		  unsigned int size_mask, struct iotlb_result *r)
{
	struct iotlb_slot *slot = iotlb_thread_slot(t);
	struct iotlb_entry *e = NULL;
	uint64_t gen, clock;

	if (slot && memo_hit(t, slot, tag, addr, size_mask, r)) {
		bump(&slot->hits);
		return true;
	}
	if (addr >> ADDR_LIMIT_BITS)
		goto miss;
	gen = atomic_load_explicit(&t->gen, memory_order_acquire);
	clock = atomic_load_explicit(&t->clock, memory_order_relaxed);
	for (int slow = 0; slow < 2 && !e; slow++) {
		for (unsigned int si = 0; si < IOTLB_NR_SIZES && !e; si++) {
			if (size_mask & (1u << si))
				e = probe(t, tag, addr, si, slow, r);
		}
	}
	if (!e)
		goto miss;
	touch(t, e);
	if (slot)
		memo_set(slot, make_key(tag, addr, iotlb_size_index(r->shift)),
			 gen, clock, r);
	r->phys += addr & ((1ULL << r->shift) - 1);
	count_hit(t, slot);
	return true;
miss:
	atomic_fetch_add_explicit(&t->misses, 1, memory_order_relaxed);
	return false;
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

static void write_begin(struct iotlb_entry *e)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	atomic_store_explicit(&e->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_end(struct iotlb_entry *e)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	atomic_store_explicit(&e->seq, s + 1, memory_order_release);
}

/* Under the set lock: make @e invalid, keeping the size counts. */
static void kill_entry(struct iotlb_set *s, struct iotlb_entry *e)
{
	uint64_t k = atomic_load_explicit(&e->key, memory_order_relaxed);

	if (!k)
		return;
	write_begin(e);
	atomic_store_explicit(&e->key, 0, memory_order_relaxed);
	write_end(e);
	atomic_fetch_sub_explicit(&s->nr[key_size(k)], 1, memory_order_relaxed);
}

void iotlb_fill(struct iotlb *t, uint64_t gen, uint16_t tag, uint64_t addr,
		unsigned int shift, uint64_t phys, unsigned int perm,
		uint64_t data)
{
	unsigned int si = iotlb_size_index(shift), w;
	struct iotlb_set *s;
	struct iotlb_entry *e;
	uint64_t key;

	if (si >= IOTLB_NR_SIZES || size_shift[si] != shift ||
	    (addr >> ADDR_LIMIT_BITS))
		return;
	s = set_of(t, tag, addr, si);
	key = make_key(tag, addr, si);
	pthread_mutex_lock(&s->lock);
	if (atomic_load_explicit(&t->gen, memory_order_acquire) != gen) {
		atomic_fetch_add_explicit(&t->fills_dropped, 1,
					  memory_order_relaxed);
		goto out;
	}
	w = pick_way(t, s, key);
	e = &s->way[w];
	if (atomic_load_explicit(&e->key, memory_order_relaxed) &&
	    atomic_load_explicit(&e->key, memory_order_relaxed) != key)
		atomic_fetch_add_explicit(&t->evictions, 1,
					  memory_order_relaxed);
	kill_entry(s, e);
	write_begin(e);
	atomic_store_explicit(&e->phys, phys & ~((1ULL << shift) - 1),
			      memory_order_relaxed);
	atomic_store_explicit(&e->data, data, memory_order_relaxed);
	atomic_store_explicit(&e->attr, si << 4 | (perm & 0xf),
			      memory_order_relaxed);
	atomic_store_explicit(&e->stamp,
			      atomic_fetch_add_explicit(&t->clock, 1,
							memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&e->key, key, memory_order_relaxed);
	write_end(e);
	atomic_fetch_add_explicit(&s->nr[si], 1, memory_order_relaxed);
	atomic_store_explicit(&s->hint[hint_of(t, key)], (uint16_t)w,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&t->fills, 1, memory_order_relaxed);
out:
	pthread_mutex_unlock(&s->lock);
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
		for (unsigned int w = 0; w < t->p.ways; w++) {
			struct iotlb_entry *e = &s->way[w];
			uint64_t k = atomic_load_explicit(&e->key,
							  memory_order_relaxed);

			if (!k || !f->match(f, k, atomic_load_explicit(
						  &e->data, memory_order_relaxed)))
				continue;
			kill_entry(s, e);
			n++;
		}
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
