/*
 * IOVA allocator (see iova.h). Follows Linux 6.1's drivers/iommu/iova.c:
 * a tree of ranges keyed by pfn_lo with an anchor at ~0; top-down
 * size-aligned search from the cached node (cached32_node for limits at
 * or below 4 GiB), then once more from the limit down to the cached node
 * when that found nothing; max32_alloc_size to fail 32-bit requests fast;
 * the cached nodes moved up on free; reserve_iova merging overlaps; and
 * the per-CPU magazine caches of Bonwick & Adams as Linux's rcache
 * (loaded/prev per CPU, a depot of MAX_GLOBAL_MAGS full magazines, flush
 * and retry when an allocation fails).
 *
 * Where Linux scans (reserve_iova walks the whole tree, iova_find_limit
 * is approximate), this finds its starting point by an O(log n) search;
 * the ranges chosen are the same.
 *
 * Lock order: a CPU's rcache lock, then the depot lock, then the tree
 * lock. The per-CPU locks are spinlocks: only a flush from another
 * thread ever contends for them.
 */
#include "kernel/iommu/iova.h"

#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/machine.h"

#define CACHELINE 64

struct iova_magazine {
	unsigned long size;
	unsigned long pfns[IOVA_MAG_SIZE];
};

struct iova_cpu_rcache {
	alignas(CACHELINE) atomic_bool lock;
	struct iova_magazine *loaded, *prev; /* NULL: empty, not yet made */
	unsigned long hits, misses;
};

struct iova_rcache {
	pthread_mutex_t lock; /* the depot */
	unsigned long depot_size;
	struct iova_magazine *depot[MAX_GLOBAL_MAGS];
	struct iova_cpu_rcache *cpu_rcaches;
	unsigned long flushes; /* in rcaches[0] only: flush and retry */
};

/* Linux's fls_long: the 1-based index of the highest bit set, 0 for 0. */
static unsigned int fls_long(unsigned long x)
{
	return x ? 64U - (unsigned int)__builtin_clzl(x) : 0;
}

/* ---- red-black tree ------------------------------------------------ */

static struct iova *to_iova(struct iova_rb_node *n)
{
	return n ? (struct iova *)((char *)n - offsetof(struct iova, node))
		 : NULL;
}

static bool is_red(const struct iova_rb_node *n)
{
	return n && n->red;
}

static struct iova_rb_node *rb_leftmost(struct iova_rb_node *n)
{
	while (n && n->left)
		n = n->left;
	return n;
}

static struct iova_rb_node *rb_next(struct iova_rb_node *n)
{
	struct iova_rb_node *p;

	if (n->right)
		return rb_leftmost(n->right);
	while ((p = n->parent) && n == p->right)
		n = p;
	return p;
}

static struct iova_rb_node *rb_prev(struct iova_rb_node *n)
{
	struct iova_rb_node *p;

	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return n;
	}
	while ((p = n->parent) && n == p->left)
		n = p;
	return p;
}

/* Put @v where @u hangs (v may be NULL). */
static void rb_replace_child(struct iova_rb_node **root, struct iova_rb_node *u,
			     struct iova_rb_node *v)
{
	struct iova_rb_node *p = u->parent;

	if (!p)
		*root = v;
	else if (p->left == u)
		p->left = v;
	else
		p->right = v;
	if (v)
		v->parent = p;
}

static void rb_rotate_left(struct iova_rb_node **root, struct iova_rb_node *x)
{
	struct iova_rb_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	rb_replace_child(root, x, y);
	y->left = x;
	x->parent = y;
}

static void rb_rotate_right(struct iova_rb_node **root, struct iova_rb_node *x)
{
	struct iova_rb_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	rb_replace_child(root, x, y);
	y->right = x;
	x->parent = y;
}

static void rb_insert_fixup(struct iova_rb_node **root, struct iova_rb_node *z)
{
	while (is_red(z->parent)) {
		struct iova_rb_node *p = z->parent, *g = p->parent;
		bool left = p == g->left;
		struct iova_rb_node *u = left ? g->right : g->left;

		if (is_red(u)) {
			p->red = u->red = false;
			g->red = true;
			z = g;
			continue;
		}
		if (z == (left ? p->right : p->left)) {
			z = p;
			if (left)
				rb_rotate_left(root, z);
			else
				rb_rotate_right(root, z);
			p = z->parent;
		}
		p->red = false;
		g->red = true;
		if (left)
			rb_rotate_right(root, g);
		else
			rb_rotate_left(root, g);
	}
	(*root)->red = false;
}

/* Restore the black height after removing a black node above @x, a
 * child (possibly NULL) of @xp. */
static void rb_erase_fixup(struct iova_rb_node **root, struct iova_rb_node *x,
			   struct iova_rb_node *xp)
{
	while (x != *root && !is_red(x)) {
		bool left = x == xp->left;
		struct iova_rb_node *w = left ? xp->right : xp->left;

		if (is_red(w)) {
			w->red = false;
			xp->red = true;
			if (left)
				rb_rotate_left(root, xp);
			else
				rb_rotate_right(root, xp);
			w = left ? xp->right : xp->left;
		}
		if (!is_red(w->left) && !is_red(w->right)) {
			w->red = true;
			x = xp;
			xp = x->parent;
			continue;
		}
		if (left && !is_red(w->right)) {
			w->left->red = false;
			w->red = true;
			rb_rotate_right(root, w);
			w = xp->right;
		} else if (!left && !is_red(w->left)) {
			w->right->red = false;
			w->red = true;
			rb_rotate_left(root, w);
			w = xp->left;
		}
		w->red = xp->red;
		xp->red = false;
		if (left) {
			w->right->red = false;
			rb_rotate_left(root, xp);
		} else {
			w->left->red = false;
			rb_rotate_right(root, xp);
		}
		x = *root;
	}
	if (x)
		x->red = false;
}

static void rb_erase(struct iova_rb_node **root, struct iova_rb_node *z)
{
	struct iova_rb_node *y, *x, *xp;
	bool removed_red = z->red;

	if (!z->left || !z->right) {
		x = z->left ? z->left : z->right;
		xp = z->parent;
		rb_replace_child(root, z, x);
	} else {
		y = rb_leftmost(z->right);
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			rb_replace_child(root, y, y->right);
			y->right = z->right;
			y->right->parent = y;
		}
		rb_replace_child(root, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	if (!removed_red)
		rb_erase_fixup(root, x, xp);
}

/* Insert @new by pfn_lo (the caller made sure nothing overlaps it). */
static void iova_insert_rbtree(struct iova_domain *iovad, struct iova *new)
{
	struct iova_rb_node **link = &iovad->rbroot, *parent = NULL;

	while (*link) {
		parent = *link;
		link = new->pfn_lo < to_iova(parent)->pfn_lo ? &parent->left
							     : &parent->right;
	}
	new->node.parent = parent;
	new->node.left = new->node.right = NULL;
	new->node.red = true;
	*link = &new->node;
	rb_insert_fixup(&iovad->rbroot, &new->node);
}

/* The first range with pfn_hi >= @pfn (the anchor at worst). */
static struct iova_rb_node *first_ending_from(struct iova_domain *iovad,
					      unsigned long pfn)
{
	struct iova_rb_node *n = iovad->rbroot, *best = NULL;

	while (n) {
		if (to_iova(n)->pfn_hi >= pfn) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/* The first range with pfn_lo >= @pfn (the anchor at worst). */
static struct iova_rb_node *first_starting_from(struct iova_domain *iovad,
						unsigned long pfn)
{
	struct iova_rb_node *n = iovad->rbroot, *best = NULL;

	while (n) {
		if (to_iova(n)->pfn_lo >= pfn) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

static struct iova *private_find_iova(struct iova_domain *iovad,
				      unsigned long pfn)
{
	struct iova *iova = to_iova(first_ending_from(iovad, pfn));

	return iova && iova->pfn_lo <= pfn && iova != &iovad->anchor ? iova
								    : NULL;
}

/* ---- the domain and its tree --------------------------------------- */

void init_iova_domain(struct iova_domain *iovad, unsigned long granule,
		      unsigned long start_pfn)
{
	memset(iovad, 0, sizeof(*iovad));
	pthread_mutex_init(&iovad->iova_rbtree_lock, NULL);
	iovad->granule = granule;
	iovad->start_pfn = start_pfn;
	iovad->dma_32bit_pfn = 1UL << (32 - iova_shift(iovad));
	iovad->max32_alloc_size = iovad->dma_32bit_pfn;
	iovad->anchor.pfn_lo = iovad->anchor.pfn_hi = IOVA_ANCHOR;
	iova_insert_rbtree(iovad, &iovad->anchor);
	iovad->cached_node = iovad->cached32_node = &iovad->anchor.node;
}

static void cached_rbnode_insert_update(struct iova_domain *iovad,
					struct iova *new)
{
	if (new->pfn_hi < iovad->dma_32bit_pfn)
		iovad->cached32_node = &new->node;
	else
		iovad->cached_node = &new->node;
}

/* A range at or above a cached node goes: the search starts above it. */
static void cached_rbnode_delete_update(struct iova_domain *iovad,
					struct iova *free)
{
	struct iova *cached = to_iova(iovad->cached32_node);

	if (free == cached || (free->pfn_hi < iovad->dma_32bit_pfn &&
			       free->pfn_lo >= cached->pfn_lo))
		iovad->cached32_node = rb_next(&free->node);
	if (free->pfn_lo < iovad->dma_32bit_pfn)
		iovad->max32_alloc_size = iovad->dma_32bit_pfn;
	cached = to_iova(iovad->cached_node);
	if (free->pfn_lo >= cached->pfn_lo)
		iovad->cached_node = rb_next(&free->node);
}

static void remove_iova(struct iova_domain *iovad, struct iova *iova)
{
	cached_rbnode_delete_update(iovad, iova);
	rb_erase(&iovad->rbroot, &iova->node);
}

/* The size-aligned pfn of @size below @high, or false if it would fall
 * below @low. */
static bool fit_below(unsigned long high, unsigned long low,
		      unsigned long size, unsigned long align_mask,
		      unsigned long *pfn)
{
	if (high < size)
		return false;
	*pfn = (high - size) & align_mask;
	return *pfn >= low;
}

/* Walk down from @curr through the holes between ranges, below @high
 * and at or above @low: the first (highest) hole that fits. */
static bool walk_down(struct iova_rb_node *curr, unsigned long high,
		      unsigned long low, unsigned long size,
		      unsigned long align_mask, unsigned long *pfn)
{
	while (curr) {
		if (to_iova(curr)->pfn_lo < high)
			high = to_iova(curr)->pfn_lo;
		if (!fit_below(high, low, size, align_mask, pfn))
			return false;
		curr = rb_prev(curr);
		if (!curr || *pfn > to_iova(curr)->pfn_hi)
			return true;
	}
	return false;
}

/* Under the lock. @limit is exclusive here (limit_pfn + 1). */
static bool alloc_and_insert_iova_range(struct iova_domain *iovad,
					unsigned long size, unsigned long limit,
					bool size_aligned, struct iova *new)
{
	unsigned long align_mask = ~0UL, pfn = 0, retry_pfn;
	struct iova_rb_node *curr;
	bool low32 = limit <= iovad->dma_32bit_pfn;

	if (size_aligned)
		align_mask <<= fls_long(size - 1);
	if (low32 && size >= iovad->max32_alloc_size)
		return false;
	curr = low32 ? iovad->cached32_node : iovad->cached_node;
	retry_pfn = to_iova(curr)->pfn_hi;
	if (walk_down(curr, limit, iovad->start_pfn, size, align_mask, &pfn))
		goto found;
	/* The space between the cached node and the limit, freed since. */
	if (retry_pfn < limit &&
	    walk_down(first_starting_from(iovad, limit), limit,
		      retry_pfn + 1 > iovad->start_pfn ? retry_pfn + 1
						       : iovad->start_pfn,
		      size, align_mask, &pfn))
		goto found;
	iovad->max32_alloc_size = size;
	return false;
found:
	new->pfn_lo = pfn;
	new->pfn_hi = pfn + size - 1;
	iova_insert_rbtree(iovad, new);
	cached_rbnode_insert_update(iovad, new);
	return true;
}

struct iova *alloc_iova(struct iova_domain *iovad, unsigned long size,
			unsigned long limit_pfn, bool size_aligned)
{
	struct iova *new;
	bool ok;

	if (!size || size > (1UL << 62))
		return NULL;
	if (limit_pfn >= IOVA_ANCHOR)
		limit_pfn = IOVA_ANCHOR - 1;
	new = malloc(sizeof(*new));
	if (!new)
		return NULL;
	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	ok = alloc_and_insert_iova_range(iovad, size, limit_pfn + 1,
					 size_aligned, new);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	if (!ok) {
		free(new);
		return NULL;
	}
	return new;
}

struct iova *find_iova(struct iova_domain *iovad, unsigned long pfn)
{
	struct iova *iova;

	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	iova = private_find_iova(iovad, pfn);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	return iova;
}

void __free_iova(struct iova_domain *iovad, struct iova *iova)
{
	if (!iova || iova == &iovad->anchor)
		return;
	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	remove_iova(iovad, iova);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	free(iova);
}

void free_iova(struct iova_domain *iovad, unsigned long pfn)
{
	struct iova *iova;

	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	iova = private_find_iova(iovad, pfn);
	if (iova)
		remove_iova(iovad, iova);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	free(iova);
}

static struct iova *insert_new_range(struct iova_domain *iovad,
				     unsigned long pfn_lo, unsigned long pfn_hi)
{
	struct iova *iova = malloc(sizeof(*iova));

	if (iova) {
		iova->pfn_lo = pfn_lo;
		iova->pfn_hi = pfn_hi;
		iova_insert_rbtree(iovad, iova);
	}
	return iova;
}

/* Under the lock: ranges overlapping [lo, hi] in order, from the first
 * one that ends at or after lo. Between @lo and the next range there is
 * no other, so widening that range down to @lo keeps the tree sorted. */
static struct iova *reserve_locked(struct iova_domain *iovad,
				   unsigned long lo, unsigned long hi)
{
	struct iova_rb_node *n = first_ending_from(iovad, lo);

	for (; n && n != &iovad->anchor.node; n = rb_next(n)) {
		struct iova *iova = to_iova(n);

		if (iova->pfn_lo > hi)
			break;
		if (lo < iova->pfn_lo)
			iova->pfn_lo = lo;
		if (hi <= iova->pfn_hi)
			return iova;
		lo = iova->pfn_hi + 1;
	}
	return insert_new_range(iovad, lo, hi);
}

struct iova *reserve_iova(struct iova_domain *iovad, unsigned long pfn_lo,
			  unsigned long pfn_hi)
{
	unsigned long max = ~0UL >> iova_shift(iovad);
	struct iova *iova;

	if (pfn_lo > pfn_hi || pfn_hi > max || pfn_hi >= IOVA_ANCHOR)
		return NULL;
	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	iova = reserve_locked(iovad, pfn_lo, pfn_hi);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	return iova;
}

/* ---- per-CPU range caches ------------------------------------------ */

static void cpu_lock(struct iova_cpu_rcache *c)
{
	while (atomic_exchange_explicit(&c->lock, true, memory_order_acquire))
		while (atomic_load_explicit(&c->lock, memory_order_relaxed))
			sched_yield();
}

static void cpu_unlock(struct iova_cpu_rcache *c)
{
	atomic_store_explicit(&c->lock, false, memory_order_release);
}

static bool mag_empty(const struct iova_magazine *mag)
{
	return !mag || mag->size == 0;
}

static bool mag_full(const struct iova_magazine *mag)
{
	return mag->size == IOVA_MAG_SIZE;
}

/* A magazine is made the first time it is needed. */
static bool mag_ensure(struct iova_magazine **mag)
{
	if (!*mag)
		*mag = calloc(1, sizeof(**mag));
	return *mag != NULL;
}

/* The last pfn <= @max_pfn, taken out; 0 if none. */
static unsigned long mag_pop(struct iova_magazine *mag, unsigned long max_pfn)
{
	unsigned long i = mag->size, pfn;

	while (i > 0 && mag->pfns[i - 1] > max_pfn)
		i--;
	if (i == 0)
		return 0;
	pfn = mag->pfns[i - 1];
	mag->pfns[i - 1] = mag->pfns[--mag->size];
	return pfn;
}

static void swap_mags(struct iova_cpu_rcache *c)
{
	struct iova_magazine *t = c->loaded;

	c->loaded = c->prev;
	c->prev = t;
}

/* Free every range in @mag to the tree, and empty it. */
static void mag_free_pfns(struct iova_magazine *mag, struct iova_domain *iovad)
{
	if (mag_empty(mag))
		return;
	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	for (unsigned long i = 0; i < mag->size; i++) {
		struct iova *iova = private_find_iova(iovad, mag->pfns[i]);

		if (iova) {
			remove_iova(iovad, iova);
			free(iova);
		}
	}
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	mag->size = 0;
}

static struct iova_cpu_rcache *this_cpu_rcache(struct iova_domain *iovad,
					       unsigned long size)
{
	unsigned int order = (unsigned int)__builtin_ctzl(size);
	int cpu = current_cpu();

	if (!iovad->rcaches || order >= IOVA_RANGE_CACHE_MAX_SIZE ||
	    (size & (size - 1)) || cpu < 0 ||
	    (unsigned int)cpu >= iovad->nr_cpus)
		return NULL;
	return &iovad->rcaches[order].cpu_rcaches[cpu];
}

/* A full loaded magazine goes to the depot (or, depot full, back to the
 * tree) and an empty one takes its place. */
static bool swap_in_new_mag(struct iova_rcache *rc, struct iova_cpu_rcache *c,
			    struct iova_magazine **to_free)
{
	struct iova_magazine *new_mag = calloc(1, sizeof(*new_mag));

	if (!new_mag)
		return false;
	pthread_mutex_lock(&rc->lock);
	if (rc->depot_size < MAX_GLOBAL_MAGS)
		rc->depot[rc->depot_size++] = c->loaded;
	else
		*to_free = c->loaded;
	pthread_mutex_unlock(&rc->lock);
	c->loaded = new_mag;
	return true;
}

static bool iova_rcache_insert(struct iova_domain *iovad, unsigned long pfn,
			       unsigned long size)
{
	struct iova_cpu_rcache *c = this_cpu_rcache(iovad, size);
	struct iova_magazine *to_free = NULL;
	bool ok = false;

	if (!c)
		return false;
	cpu_lock(c);
	if (!mag_ensure(&c->loaded))
		goto out;
	if (!mag_full(c->loaded)) {
		ok = true;
	} else if (mag_ensure(&c->prev) && !mag_full(c->prev)) {
		swap_mags(c);
		ok = true;
	} else {
		struct iova_rcache *rc =
			&iovad->rcaches[__builtin_ctzl(size)];

		ok = swap_in_new_mag(rc, c, &to_free);
	}
	if (ok)
		c->loaded->pfns[c->loaded->size++] = pfn;
out:
	cpu_unlock(c);
	if (to_free) {
		mag_free_pfns(to_free, iovad);
		free(to_free);
	}
	return ok;
}

/* A cached range of @size whose last pfn is <= @limit_pfn, or 0. */
static unsigned long iova_rcache_get(struct iova_domain *iovad,
				     unsigned long size,
				     unsigned long limit_pfn)
{
	struct iova_cpu_rcache *c = this_cpu_rcache(iovad, size);
	struct iova_rcache *rc;
	unsigned long pfn = 0;
	bool has = true;

	if (!c || limit_pfn + 1 < size)
		return 0;
	rc = &iovad->rcaches[__builtin_ctzl(size)];
	cpu_lock(c);
	if (mag_empty(c->loaded) && !mag_empty(c->prev)) {
		swap_mags(c);
	} else if (mag_empty(c->loaded)) {
		pthread_mutex_lock(&rc->lock);
		has = rc->depot_size > 0;
		if (has) {
			free(c->loaded);
			c->loaded = rc->depot[--rc->depot_size];
		}
		pthread_mutex_unlock(&rc->lock);
	}
	if (has)
		pfn = mag_pop(c->loaded, limit_pfn + 1 - size);
	if (pfn)
		c->hits++;
	else
		c->misses++;
	cpu_unlock(c);
	return pfn;
}

int iova_domain_init_rcaches(struct iova_domain *iovad, unsigned int nr_cpus)
{
	size_t bytes = sizeof(struct iova_cpu_rcache) * (nr_cpus ? nr_cpus : 1);
	struct iova_rcache *rcs;

	rcs = calloc(IOVA_RANGE_CACHE_MAX_SIZE, sizeof(*rcs));

	if (!rcs)
		return -ENOMEM;
	for (int i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		rcs[i].cpu_rcaches = aligned_alloc(CACHELINE, bytes);
		if (!rcs[i].cpu_rcaches) {
			while (i--)
				free(rcs[i].cpu_rcaches);
			free(rcs);
			return -ENOMEM;
		}
		memset(rcs[i].cpu_rcaches, 0, bytes);
		pthread_mutex_init(&rcs[i].lock, NULL);
	}
	iovad->nr_cpus = nr_cpus;
	iovad->rcaches = rcs;
	return 0;
}

void free_cpu_cached_iovas(unsigned int cpu, struct iova_domain *iovad)
{
	if (!iovad->rcaches || cpu >= iovad->nr_cpus)
		return;
	for (int i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_cpu_rcache *c = &iovad->rcaches[i].cpu_rcaches[cpu];

		cpu_lock(c);
		mag_free_pfns(c->loaded, iovad);
		mag_free_pfns(c->prev, iovad);
		cpu_unlock(c);
	}
}

void free_global_cached_iovas(struct iova_domain *iovad)
{
	if (!iovad->rcaches)
		return;
	for (int i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		pthread_mutex_lock(&rc->lock);
		for (unsigned long j = 0; j < rc->depot_size; j++) {
			mag_free_pfns(rc->depot[j], iovad);
			free(rc->depot[j]);
		}
		rc->depot_size = 0;
		pthread_mutex_unlock(&rc->lock);
	}
}

unsigned long alloc_iova_fast(struct iova_domain *iovad, unsigned long size,
			      unsigned long limit_pfn, bool flush_rcache)
{
	unsigned long pfn;
	struct iova *iova;

	if (!size)
		return 0;
	if (limit_pfn >= IOVA_ANCHOR)
		limit_pfn = IOVA_ANCHOR - 1;
	/* Only power-of-two ranges may go into the caches. */
	if (size < (1UL << (IOVA_RANGE_CACHE_MAX_SIZE - 1)))
		size = 1UL << fls_long(size - 1);
	pfn = iova_rcache_get(iovad, size, limit_pfn);
	if (pfn)
		return pfn;
	for (;;) {
		iova = alloc_iova(iovad, size, limit_pfn, true);
		if (iova)
			return iova->pfn_lo;
		if (!flush_rcache || !iovad->rcaches)
			return 0;
		flush_rcache = false;
		pthread_mutex_lock(&iovad->rcaches[0].lock);
		iovad->rcaches[0].flushes++;
		pthread_mutex_unlock(&iovad->rcaches[0].lock);
		for (unsigned int cpu = 0; cpu < iovad->nr_cpus; cpu++)
			free_cpu_cached_iovas(cpu, iovad);
		free_global_cached_iovas(iovad);
	}
}

void free_iova_fast(struct iova_domain *iovad, unsigned long pfn,
		    unsigned long size)
{
	if (size && size < (1UL << (IOVA_RANGE_CACHE_MAX_SIZE - 1)))
		size = 1UL << fls_long(size - 1);
	if (iova_rcache_insert(iovad, pfn, size))
		return;
	free_iova(iovad, pfn);
}

static void free_rcaches(struct iova_domain *iovad)
{
	for (int i = 0; iovad->rcaches && i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		for (unsigned int cpu = 0; cpu < iovad->nr_cpus; cpu++) {
			free(rc->cpu_rcaches[cpu].loaded);
			free(rc->cpu_rcaches[cpu].prev);
		}
		for (unsigned long j = 0; j < rc->depot_size; j++)
			free(rc->depot[j]);
		free(rc->cpu_rcaches);
		pthread_mutex_destroy(&rc->lock);
	}
	free(iovad->rcaches);
	iovad->rcaches = NULL;
	iovad->nr_cpus = 0;
}

/* Post-order, so a node is freed after its children; depth is O(log n). */
static void free_subtree(struct iova_domain *iovad, struct iova_rb_node *n)
{
	if (!n)
		return;
	free_subtree(iovad, n->left);
	free_subtree(iovad, n->right);
	if (n != &iovad->anchor.node)
		free(to_iova(n));
}

void put_iova_domain(struct iova_domain *iovad)
{
	/* Cached ranges are still in the tree: freeing it frees them. */
	free_rcaches(iovad);
	free_subtree(iovad, iovad->rbroot);
	iovad->rbroot = NULL;
	iovad->cached_node = iovad->cached32_node = NULL;
	pthread_mutex_destroy(&iovad->iova_rbtree_lock);
}

static unsigned long mag_count(const struct iova_magazine *mag)
{
	return mag ? mag->size : 0;
}

void iova_rcache_get_stats(struct iova_domain *iovad,
			   struct iova_rcache_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; iovad->rcaches && i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		for (unsigned int cpu = 0; cpu < iovad->nr_cpus; cpu++) {
			struct iova_cpu_rcache *c = &rc->cpu_rcaches[cpu];

			cpu_lock(c);
			st->hits += c->hits;
			st->misses += c->misses;
			st->cached += mag_count(c->loaded) + mag_count(c->prev);
			cpu_unlock(c);
		}
		pthread_mutex_lock(&rc->lock);
		for (unsigned long j = 0; j < rc->depot_size; j++)
			st->cached += mag_count(rc->depot[j]);
		st->flushes += rc->flushes;
		pthread_mutex_unlock(&rc->lock);
	}
}

/* ---- consistency check --------------------------------------------- */

/* Black height of @n's subtree, or -1 if a rule is broken below it. */
static int check_subtree(const struct iova_rb_node *n)
{
	int l, r;

	if (!n)
		return 1;
	if ((n->left && n->left->parent != n) ||
	    (n->right && n->right->parent != n))
		return -1;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return -1;
	l = check_subtree(n->left);
	r = check_subtree(n->right);
	if (l < 0 || r < 0 || l != r)
		return -1;
	return l + (n->red ? 0 : 1);
}

static bool in_tree(struct iova_domain *iovad, struct iova_rb_node *n)
{
	struct iova *iova = n ? to_iova(n) : NULL;

	return iova && (iova == &iovad->anchor ||
			private_find_iova(iovad, iova->pfn_lo) == iova);
}

static long check_order(struct iova_domain *iovad)
{
	struct iova_rb_node *n = rb_leftmost(iovad->rbroot);
	const struct iova *prev = NULL;
	long count = 0;

	for (; n; n = rb_next(n)) {
		const struct iova *iova = to_iova(n);

		if (iova->pfn_lo > iova->pfn_hi ||
		    (prev && iova->pfn_lo <= prev->pfn_hi))
			return -EUCLEAN;
		prev = iova;
		count++;
	}
	if (prev != &iovad->anchor)
		return -EUCLEAN;
	return count - 1;
}

long iova_domain_check(struct iova_domain *iovad)
{
	long ret = -EUCLEAN;

	pthread_mutex_lock(&iovad->iova_rbtree_lock);
	if (iovad->rbroot && !iovad->rbroot->parent && !iovad->rbroot->red &&
	    check_subtree(iovad->rbroot) > 0 &&
	    in_tree(iovad, iovad->cached_node) &&
	    in_tree(iovad, iovad->cached32_node))
		ret = check_order(iovad);
	pthread_mutex_unlock(&iovad->iova_rbtree_lock);
	return ret;
}
