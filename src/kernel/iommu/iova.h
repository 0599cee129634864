/*
 * IOVA allocator: the I/O virtual address space of one IOMMU DMA domain,
 * handed out in granule-sized pages, as Linux 6.1's drivers/iommu/iova.c
 * and include/linux/iova.h do it (names and semantics follow Linux).
 *
 * An iova_domain is the caller's struct; nothing here is global. All
 * addresses are page frame numbers (pfn) in units of the domain's
 * granule: pfn = iova >> iova_shift(iovad). Ranges are inclusive
 * [pfn_lo, pfn_hi]. unsigned long is 64 bits (Linux only).
 *
 * Two layers, as in Linux:
 * - the tree: alloc_iova / find_iova / free_iova / __free_iova /
 *   reserve_iova. Allocated (and reserved) ranges are kept in a
 *   red-black tree under the domain's lock; allocation searches top-down
 *   below the caller's limit, starting from a cached node, and never
 *   returns a range below start_pfn or overlapping another range.
 * - the range caches ("rcaches"): alloc_iova_fast / free_iova_fast keep
 *   freed ranges of 1, 2, 4, ... 32 granules in per-CPU magazines of 127
 *   pfns (a loaded and a previous magazine per CPU and size) backed by a
 *   depot of up to 32 full magazines per size. A cached range stays
 *   allocated in the tree; it comes back without touching the tree lock.
 *   The CPU is current_cpu(), the calling thread's CPU in its machine
 *   (dmasim_enter); a thread with no CPU (-1), or with an id beyond the
 *   nr_cpus given to iova_domain_init_rcaches, uses the tree directly.
 *
 * Thread safety: every function may be called from any thread at once,
 * except init_iova_domain, iova_domain_init_rcaches and put_iova_domain,
 * which must not race with anything else on the same domain.
 */
#ifndef DMASIM_KERNEL_IOMMU_IOVA_H
#define DMASIM_KERNEL_IOMMU_IOVA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Sizes 2^0 .. 2^(IOVA_RANGE_CACHE_MAX_SIZE - 1) granules are cached. */
#define IOVA_RANGE_CACHE_MAX_SIZE 6
/* pfns per magazine: size word + 127 pfns = 1024 bytes (Linux >= 6.0) */
#define IOVA_MAG_SIZE 127
/* full magazines kept per size in the depot (Linux 6.1's array) */
#define MAX_GLOBAL_MAGS 32
/* pfn of the anchor node that sits above every possible range */
#define IOVA_ANCHOR (~0UL)

/* A red-black tree link; the tree is private to iova.c. */
struct iova_rb_node {
	struct iova_rb_node *parent, *left, *right;
	bool red;
};

/* One allocated or reserved range, [pfn_lo, pfn_hi] inclusive. */
struct iova {
	struct iova_rb_node node;
	unsigned long pfn_hi;
	unsigned long pfn_lo;
};

struct iova_rcache;

struct iova_domain {
	pthread_mutex_t iova_rbtree_lock; /* the tree and the fields below */
	struct iova_rb_node *rbroot;
	/* Where the next top-down search starts: the last range allocated
	 * below dma_32bit_pfn (cached32_node) and above it (cached_node),
	 * moved up when something at or above them is freed. */
	struct iova_rb_node *cached_node;
	struct iova_rb_node *cached32_node;
	unsigned long granule;	  /* bytes per pfn, a power of two */
	unsigned long start_pfn;  /* lowest pfn ever handed out */
	unsigned long dma_32bit_pfn; /* first pfn at or above 4 GiB */
	/* A 32-bit allocation of this size or more fails at once: one that
	 * size failed and nothing below 4 GiB has been freed since. */
	unsigned long max32_alloc_size;
	struct iova anchor;	  /* [IOVA_ANCHOR, IOVA_ANCHOR], never freed */
	struct iova_rcache *rcaches; /* NULL until iova_domain_init_rcaches */
	unsigned int nr_cpus;	  /* per-CPU caches in each rcache */
};

/* Helpers between byte addresses and pfns of @iovad's granule. */
static inline unsigned long iova_shift(const struct iova_domain *iovad)
{
	return (unsigned long)__builtin_ctzl(iovad->granule);
}

static inline unsigned long iova_mask(const struct iova_domain *iovad)
{
	return iovad->granule - 1;
}

/* The offset of @iova inside its granule. */
static inline uint64_t iova_offset(const struct iova_domain *iovad,
				   uint64_t iova)
{
	return iova & iova_mask(iovad);
}

/* @size rounded up to whole granules, in bytes. */
static inline uint64_t iova_align(const struct iova_domain *iovad,
				  uint64_t size)
{
	return (size + iova_mask(iovad)) & ~(uint64_t)iova_mask(iovad);
}

static inline uint64_t iova_align_down(const struct iova_domain *iovad,
				       uint64_t size)
{
	return size & ~(uint64_t)iova_mask(iovad);
}

/* The pfn of byte address @iova. */
static inline unsigned long iova_pfn(const struct iova_domain *iovad,
				     uint64_t iova)
{
	return (unsigned long)(iova >> iova_shift(iovad));
}

/* The first byte address of @iova. */
static inline uint64_t iova_dma_addr(const struct iova_domain *iovad,
				     const struct iova *iova)
{
	return (uint64_t)iova->pfn_lo << iova_shift(iovad);
}

/* Number of pfns in @iova. */
static inline unsigned long iova_size(const struct iova *iova)
{
	return iova->pfn_hi - iova->pfn_lo + 1;
}

/*
 * Set up an empty domain: only the anchor in the tree, both cached nodes
 * at the anchor, dma_32bit_pfn = 4 GiB >> shift, max32_alloc_size =
 * dma_32bit_pfn, no rcaches. @granule must be a power of two (the
 * smallest IOMMU page, 4096 for dma-iommu); @start_pfn is the lowest pfn
 * ever allocated (dma-iommu uses 1 so that IOVA 0 is never handed out,
 * which alloc_iova_fast needs: it reports failure as pfn 0).
 */
void init_iova_domain(struct iova_domain *iovad, unsigned long granule,
		      unsigned long start_pfn);

/*
 * Add the per-CPU range caches for CPU ids 0..@nr_cpus-1 (the machine's
 * CPU count; Linux sizes them by num_possible_cpus()). Magazines are
 * allocated when a CPU first caches something. Returns 0 or -ENOMEM
 * (the domain then still works, without caches). Without this call
 * alloc_iova_fast / free_iova_fast go straight to the tree.
 */
int iova_domain_init_rcaches(struct iova_domain *iovad, unsigned int nr_cpus);
/* (Call it once per domain, before the domain is shared.) */

/* Free every range, cached or not, and the caches. The struct itself is
 * the caller's; it may be initialised again. */
void put_iova_domain(struct iova_domain *iovad);

/*
 * Allocate @size (>= 1) pfns, all <= @limit_pfn (inclusive; values at or
 * above IOVA_ANCHOR are clamped below it) and >= start_pfn, overlapping
 * no allocated or reserved range. The search is top-down: from the last
 * range allocated in the same class (below 4 GiB when limit_pfn <
 * dma_32bit_pfn, else above), the highest fit below it; failing that,
 * the highest fit between it and the limit. With @size_aligned, pfn_lo
 * is a multiple of @size rounded up to a power of two (the range itself
 * is @size pfns). Returns the range, owned by the domain until freed, or
 * NULL when no hole fits (or when the struct iova cannot be allocated).
 * Takes the domain's lock; does not look at the rcaches (a range sitting
 * in a magazine is allocated as far as the tree is concerned).
 */
struct iova *alloc_iova(struct iova_domain *iovad, unsigned long size,
			unsigned long limit_pfn, bool size_aligned);

/* The allocated or reserved range that contains @pfn, or NULL. The
 * pointer is valid until that range is freed. O(log n). */
struct iova *find_iova(struct iova_domain *iovad, unsigned long pfn);

/* Free @iova (from alloc_iova or find_iova) back to the tree. */
void __free_iova(struct iova_domain *iovad, struct iova *iova);

/* Free the range that contains @pfn; nothing if there is none. */
void free_iova(struct iova_domain *iovad, unsigned long pfn);

/*
 * Mark [@pfn_lo, @pfn_hi] as never to be allocated (an MSI window, a
 * host bridge's MMIO window, an RMRR). As Linux, a range that overlaps
 * existing ones is merged: an existing range is widened downwards to
 * cover the part below it and the part above the last one is inserted as
 * a new range. Returns the range that covers the top of the request, or
 * NULL (pfn_lo > pfn_hi, pfns beyond the address space, -ENOMEM). A
 * reserved range may be freed like an allocated one (nobody does).
 */
struct iova *reserve_iova(struct iova_domain *iovad, unsigned long pfn_lo,
			  unsigned long pfn_hi);

/*
 * The DMA mapping fast path. @size pfns (>= 1) is first rounded up to a
 * power of two when it is below 2^(IOVA_RANGE_CACHE_MAX_SIZE - 1) = 32,
 * so that it can be cached (a range of 17..31 pfns takes 32). Then: a
 * cached range of that size from this CPU's magazines (or the depot)
 * whose last pfn is <= @limit_pfn; else alloc_iova(size, limit_pfn,
 * size_aligned = true); if that fails and @flush_rcache, every CPU's and
 * the depot's cached ranges are freed to the tree and the tree tried once
 * more. Returns pfn_lo of a size-aligned range, or 0 on failure.
 *
 * dma-iommu's "32-bit first" for a PCI device with a wider mask:
 *   pfn = alloc_iova_fast(iovad, n, min(mask, 4G - 1) >> shift, false);
 *   if (!pfn) { pfn = alloc_iova_fast(iovad, n, mask >> shift, true);
 *               remember to go 64-bit for this device from now on
 *               (and print "Using 64-bit DMA addresses"); }
 * A failure below 4 GiB is cheap once seen: max32_alloc_size makes the
 * next 32-bit attempt of that size fail without a search until something
 * below 4 GiB is freed.
 */
unsigned long alloc_iova_fast(struct iova_domain *iovad, unsigned long size,
			      unsigned long limit_pfn, bool flush_rcache);

/*
 * Give back a range from alloc_iova_fast: @pfn its pfn_lo, @size the
 * same size that was passed to alloc_iova_fast (not the rounded one).
 * Any CPU may free a range that another allocated.
 * Ranges of up to 32 pfns go to this CPU's magazine (a full magazine
 * goes to the depot; with the depot full, its ranges go to the tree);
 * larger ones, and any with no CPU, are freed to the tree at once.
 */
void free_iova_fast(struct iova_domain *iovad, unsigned long pfn,
		    unsigned long size);

/* Free CPU @cpu's cached ranges to the tree (its CPU going offline). */
void free_cpu_cached_iovas(unsigned int cpu, struct iova_domain *iovad);

/* Free the depot's cached ranges to the tree. */
void free_global_cached_iovas(struct iova_domain *iovad);

/* Range cache counters, summed over CPUs and sizes: a get served from a
 * magazine (hit) or not (miss), and how often a failed alloc_iova_fast
 * flushed the caches. */
struct iova_rcache_stats {
	unsigned long hits, misses, flushes;
	unsigned long cached; /* ranges now sitting in magazines and depot */
};
void iova_rcache_get_stats(struct iova_domain *iovad,
			   struct iova_rcache_stats *st);

/*
 * Check the tree: red-black rules, ranges sorted and disjoint, the
 * anchor last, the cached nodes in the tree. Returns the number of
 * ranges (anchor excluded) or -EUCLEAN. For tests and debugging: O(n).
 */
long iova_domain_check(struct iova_domain *iovad);

#endif
