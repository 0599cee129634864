/*
 * The general-purpose kernel allocator (linux/slab.h): kmalloc, kzalloc,
 * kfree. Objects come from power-of-two size classes, kmalloc-32 to
 * kmalloc-8k, each carving whole pages from the page allocator; objects
 * of one class share pages (two 2 KiB objects per 4 KiB page), which is
 * why a device given one object by DMA may see its neighbour. Larger
 * requests take pages directly. Thread-safe; on the calling thread's
 * machine (dmasim_enter).
 */
#ifndef DMASIM_LINUX_SLAB_H
#define DMASIM_LINUX_SLAB_H

#include "gfp.h"
#include "types.h"

#define KMALLOC_MIN_SIZE       32
#define KMALLOC_SHIFT_HIGH     13
#define KMALLOC_MAX_CACHE_SIZE (1UL << KMALLOC_SHIFT_HIGH) /* 8 KiB */
/* kmalloc(0): not NULL, not usable; kfree takes it. */
#define ZERO_SIZE_PTR	       ((void *)16)
#define ZERO_OR_NULL_PTR(x)    ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

/* Aligned to the size class (to the page above 8 KiB); NULL when out of
 * memory or outside a machine. __GFP_ZERO zeroes. */
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
/* NULL and ZERO_SIZE_PTR are ignored; a pointer kmalloc did not return,
 * or one freed already, is reported in the log and otherwise ignored. */
void kfree(const void *objp);
/* The usable size of an object (its class size), 0 for a bad pointer. */
size_t ksize(const void *objp);

#endif
