/*
 * kmalloc (see linux/slab.h and kernel/slab.h). The model keeps what
 * matters for DMA: power-of-two classes whose objects are packed into
 * pages from the buddy allocator, first free object first, so objects
 * allocated one after the other share a page, as SLUB's do. A slab is
 * one page (two for kmalloc-8k); a slab whose last object is freed goes
 * back to the page allocator. Slabs are kept sorted by physical address
 * so kfree finds its slab by a binary search.
 */
#include "kernel/slab.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "dmasim/linux/slab.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"

#define CLASS_LARGE (-1)
#define MAX_OBJS    128 /* 4096 / 32 */

struct slab {
	uint64_t phys, bytes;
	unsigned int order;
	int cls;		/* size class, or CLASS_LARGE */
	unsigned int objs, inuse;
	uint64_t used[MAX_OBJS / 64];
};

struct kmem {
	pthread_mutex_t lock;
	struct slab *slabs;	/* sorted by phys */
	size_t nr, cap;
	unsigned long allocs, frees, bad_frees, objects;
};

static const char *const class_names[KMALLOC_NR_CLASSES] = {
	"kmalloc-32", "kmalloc-64", "kmalloc-128", "kmalloc-256",
	"kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k", "kmalloc-8k",
};

static size_t class_size(int cls)
{
	return (size_t)KMALLOC_MIN_SIZE << cls;
}

static int size_class(size_t size)
{
	int cls = 0;

	while (class_size(cls) < size)
		cls++;
	return cls;
}

int kmem_init(struct machine *m)
{
	struct kmem *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	m->kmem = k;
	return 0;
}

void kmem_destroy(struct machine *m)
{
	struct kmem *k = m->kmem;

	if (!k)
		return;
	for (size_t i = 0; i < k->nr; i++)
		mm_free_pages(m, pfn_to_page(k->slabs[i].phys >> PAGE_SHIFT),
			      k->slabs[i].order);
	pthread_mutex_destroy(&k->lock);
	free(k->slabs);
	free(k);
	m->kmem = NULL;
}

/* Index of the slab holding @phys, or -1 (k->lock held). */
static long slab_find(struct kmem *k, uint64_t phys)
{
	size_t lo = 0, hi = k->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct slab *s = &k->slabs[mid];

		if (phys < s->phys)
			hi = mid;
		else if (phys >= s->phys + s->bytes)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* A new slab of @order pages for class @cls, in order (k->lock held). */
static struct slab *slab_new(struct machine *m, struct kmem *k, int cls,
			     unsigned int order)
{
	struct page *pg;
	size_t at = 0;

	if (k->nr == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct slab *n = realloc(k->slabs, cap * sizeof(*n));

		if (!n)
			return NULL;
		k->slabs = n;
		k->cap = cap;
	}
	pg = mm_alloc_pages(m, GFP_KERNEL, order);
	if (!pg)
		return NULL;
	while (at < k->nr && k->slabs[at].phys < page_to_phys(pg))
		at++;
	memmove(&k->slabs[at + 1], &k->slabs[at],
		(k->nr - at) * sizeof(*k->slabs));
	k->nr++;
	k->slabs[at] = (struct slab){
		.phys = page_to_phys(pg), .bytes = PAGE_SIZE << order,
		.order = order, .cls = cls,
	};
	k->slabs[at].objs = cls == CLASS_LARGE ? 1
			    : (unsigned int)(k->slabs[at].bytes / class_size(cls));
	return &k->slabs[at];
}

static void slab_release(struct machine *m, struct kmem *k, size_t i)
{
	mm_free_pages(m, pfn_to_page(k->slabs[i].phys >> PAGE_SHIFT),
		      k->slabs[i].order);
	memmove(&k->slabs[i], &k->slabs[i + 1],
		(k->nr - i - 1) * sizeof(*k->slabs));
	k->nr--;
}

/* A free object of class @cls: its physical address, or 0. */
static uint64_t obj_take(struct machine *m, struct kmem *k, int cls)
{
	struct slab *s = NULL;

	for (size_t i = 0; i < k->nr && !s; i++)
		if (k->slabs[i].cls == cls &&
		    k->slabs[i].inuse < k->slabs[i].objs)
			s = &k->slabs[i];
	if (!s)
		s = slab_new(m, k, cls, class_size(cls) > PAGE_SIZE ? 1 : 0);
	if (!s)
		return 0;
	for (unsigned int o = 0; o < s->objs; o++) {
		if (s->used[o / 64] & (1ULL << (o % 64)))
			continue;
		s->used[o / 64] |= 1ULL << (o % 64);
		s->inuse++;
		return s->phys + o * class_size(cls);
	}
	return 0;
}

static uint64_t large_take(struct machine *m, struct kmem *k, size_t size)
{
	struct slab *s = slab_new(m, k, CLASS_LARGE,
				  (unsigned int)get_order(size));

	if (!s)
		return 0;
	s->inuse = 1;
	s->used[0] = 1;
	return s->phys;
}

void *kmalloc(size_t size, gfp_t flags)
{
	struct machine *m = current_machine();
	struct kmem *k = m ? m->kmem : NULL;
	uint64_t phys;
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	if (!k || size > (PAGE_SIZE << 10))
		return NULL;
	pthread_mutex_lock(&k->lock);
	phys = size > KMALLOC_MAX_CACHE_SIZE ? large_take(m, k, size)
					     : obj_take(m, k, size_class(size));
	if (phys) {
		k->allocs++;
		k->objects++;
	}
	pthread_mutex_unlock(&k->lock);
	if (!phys)
		return NULL;
	p = m->ram.cpu + phys;
	if (flags & __GFP_ZERO)
		memset(p, 0, size);
	return p;
}

void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

static bool in_ram_view(struct machine *m, const void *p)
{
	const uint8_t *a = p;

	return a >= m->ram.cpu && a < m->ram.cpu + m->ram.span;
}

/* The object @phys is in slab @s, or -1 if it is not an object start. */
static long obj_index(const struct slab *s, uint64_t phys)
{
	size_t sz = s->cls == CLASS_LARGE ? s->bytes : class_size(s->cls);

	if ((phys - s->phys) % sz)
		return -1;
	return (long)((phys - s->phys) / sz);
}

static void bad_free(struct machine *m, struct kmem *k, const void *p,
		     const char *why)
{
	k->bad_frees++;
	if (in_ram_view(m, p))
		pr_err(m, "kfree: %s: phys 0x%llx\n", why,
		       (unsigned long long)((const uint8_t *)p - m->ram.cpu));
	else
		pr_err(m, "kfree: %s: %p (not kernel memory)\n", why, p);
}

void kfree(const void *objp)
{
	struct machine *m = current_machine();
	struct kmem *k = m ? m->kmem : NULL;
	uint64_t phys;
	struct slab *s;
	long i, o;

	if (ZERO_OR_NULL_PTR(objp) || !k)
		return;
	pthread_mutex_lock(&k->lock);
	phys = (uint64_t)((const uint8_t *)objp - m->ram.cpu);
	i = in_ram_view(m, objp) ? slab_find(k, phys) : -1;
	s = i < 0 ? NULL : &k->slabs[i];
	o = s ? obj_index(s, phys) : -1;
	if (!s || o < 0) {
		bad_free(m, k, objp, "not an object kmalloc returned");
	} else if (!(s->used[o / 64] & (1ULL << (o % 64)))) {
		bad_free(m, k, objp, "object already free");
	} else {
		s->used[o / 64] &= ~(1ULL << (o % 64));
		k->frees++;
		k->objects--;
		if (!--s->inuse)
			slab_release(m, k, (size_t)i);
	}
	pthread_mutex_unlock(&k->lock);
}

size_t ksize(const void *objp)
{
	struct machine *m = current_machine();
	struct kmem *k = m ? m->kmem : NULL;
	size_t sz = 0;
	long i;

	if (ZERO_OR_NULL_PTR(objp) || !k || !in_ram_view(m, objp))
		return 0;
	pthread_mutex_lock(&k->lock);
	i = slab_find(k, (uint64_t)((const uint8_t *)objp - m->ram.cpu));
	if (i >= 0)
		sz = k->slabs[i].cls == CLASS_LARGE
			     ? k->slabs[i].bytes
			     : class_size(k->slabs[i].cls);
	pthread_mutex_unlock(&k->lock);
	return sz;
}

void kmem_get_stats(struct machine *m, struct kmem_stats *st)
{
	struct kmem *k = m->kmem;

	memset(st, 0, sizeof(*st));
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	st->allocs = k->allocs;
	st->frees = k->frees;
	st->bad_frees = k->bad_frees;
	st->objects = k->objects;
	st->slabs = k->nr;
	for (size_t i = 0; i < k->nr; i++)
		st->pages += 1UL << k->slabs[i].order;
	pthread_mutex_unlock(&k->lock);
}

const char *kmem_cache_name(struct machine *m, const void *objp)
{
	struct kmem *k = m->kmem;
	const char *name = NULL;
	long i;

	if (!k || !in_ram_view(m, objp))
		return NULL;
	pthread_mutex_lock(&k->lock);
	i = slab_find(k, (uint64_t)((const uint8_t *)objp - m->ram.cpu));
	if (i >= 0)
		name = k->slabs[i].cls == CLASS_LARGE
			       ? "kmalloc-large"
			       : class_names[k->slabs[i].cls];
	pthread_mutex_unlock(&k->lock);
	return name;
}
