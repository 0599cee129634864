/*
 * The kmalloc caches of a machine (see linux/slab.h): setup, teardown
 * and what tests and the attack suite ask of them.
 */
#ifndef DMASIM_KERNEL_SLAB_H
#define DMASIM_KERNEL_SLAB_H

#include <stddef.h>
#include <stdint.h>

struct machine;

#define KMALLOC_NR_CLASSES 9 /* 32 .. 8192 */

struct kmem_stats {
	unsigned long allocs, frees, bad_frees;
	unsigned long objects;	/* live objects */
	unsigned long slabs;	/* slabs (and large allocations) held */
	unsigned long pages;	/* pages those hold */
};

int kmem_init(struct machine *m);
/* Give every slab back to the page allocator (machine teardown). */
void kmem_destroy(struct machine *m);
void kmem_get_stats(struct machine *m, struct kmem_stats *st);
/* The cache an object belongs to ("kmalloc-2k", "kmalloc-large"), or
 * NULL if @objp is not in a kmalloc page. */
const char *kmem_cache_name(struct machine *m, const void *objp);

#endif
