/*
 * dma-iommu (see dma-iommu.h). Facts followed from Linux 6.1: the IOVA
 * granule is the smallest IOMMU page; IOVA 0 is never handed out; the MSI
 * window and the host bridge's MMIO window are reserved; PCI devices try
 * below 4 GiB first unless iommu.forcedac=1; permissions from the
 * direction (BIDIRECTIONAL read+write, TO_DEVICE read, FROM_DEVICE
 * write); unmap clears the tables, then either syncs the IOTLB at once
 * (strict) or queues the IOVA on this CPU's 256-entry flush queue, freed
 * only after a domain-wide flush, which happens when a queue is full or
 * 10 ms after the first entry (lazy; on a virtual clock the 10 ms are
 * the machine's, so the flush happens when the clock is advanced past
 * them); sg entries share one IOVA range
 * and merge where an entry starts on a granule boundary, within the
 * device's maximum segment size; untrusted devices bounce mappings that
 * are not granule-aligned, with the padding zeroed, and bounce every sg
 * entry separately.
 */
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/amd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "dmasim/linux/scatterlist.h"
#include "hw/cache.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/iommu/iova.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"
#include "kernel/pci.h"

#define MSI_START 0xfee00000ULL
#define MSI_END	  0xfeefffffULL

struct fq_entry {
	unsigned long pfn, pages;
	uint64_t counter;
};

struct iova_fq {
	pthread_mutex_t lock;
	unsigned int head, tail; /* ring of IOVA_DEFAULT_FQ_SIZE */
	_Atomic unsigned long queued; /* written by its CPU only */
	struct fq_entry e[IOVA_DEFAULT_FQ_SIZE];
};

struct iommu_dma_cookie {
	struct iova_domain iovad;
	struct iommu_domain *domain;
	struct machine *m;
	/* flush queue (DMA-FQ only) */
	struct iova_fq *fq;
	unsigned int nr_fq;
	_Atomic uint64_t flush_start, flush_finish;
	pthread_t timer;
	pthread_mutex_t tlock;
	pthread_cond_t tcond;
	_Atomic bool armed;
	bool stop, has_timer;
	struct timespec deadline;
	struct vtimer vt;	/* the timer on a virtual clock */
	_Atomic bool fq_on;	/* the queues are ready: unmaps go there */
	_Atomic unsigned long fq_flushes, strict_syncs, bounced;
};

static struct iommu_dma_cookie *cookie_of(struct device *dev)
{
	return dev->iommu_domain->iova_cookie;
}

static struct machine *mach(struct device *dev)
{
	return (struct machine *)dev->machine;
}

static phys_addr_t page_phys(struct machine *m, struct page *page)
{
	return (phys_addr_t)(page - m->mm.mem_map) << PAGE_SHIFT;
}

/* ---- the flush queue -------------------------------------------------- */

static void fq_flush_iotlb(struct iommu_dma_cookie *c)
{
	atomic_fetch_add(&c->flush_start, 1);
	iommu_flush_iotlb_all(c->domain);
	atomic_fetch_add(&c->flush_finish, 1);
	atomic_fetch_add(&c->fq_flushes, 1);
}

/* Free the entries a finished flush has covered (fq->lock held). */
static void fq_ring_free(struct iommu_dma_cookie *c, struct iova_fq *fq)
{
	uint64_t done = atomic_load(&c->flush_finish);

	while (fq->head != fq->tail && fq->e[fq->head].counter < done) {
		free_iova_fast(&c->iovad, fq->e[fq->head].pfn,
			       fq->e[fq->head].pages);
		fq->head = (fq->head + 1) % IOVA_DEFAULT_FQ_SIZE;
	}
}

static bool fq_full(const struct iova_fq *fq)
{
	return (fq->tail + 1) % IOVA_DEFAULT_FQ_SIZE == fq->head;
}

static void fq_arm(struct iommu_dma_cookie *c)
{
	struct mclock *clk = &c->m->clock;

	if (mclock_is_virtual(clk)) {
		vtimer_arm(clk, &c->vt, mclock_now(clk) +
			   IOVA_DEFAULT_FQ_TIMEOUT * 1000000ULL);
		return;
	}
	if (atomic_load_explicit(&c->armed, memory_order_acquire))
		return; /* the timer will flush what is queued now */
	pthread_mutex_lock(&c->tlock);
	if (!c->armed) {
		clock_gettime(CLOCK_MONOTONIC, &c->deadline);
		c->deadline.tv_nsec += IOVA_DEFAULT_FQ_TIMEOUT * 1000000L;
		if (c->deadline.tv_nsec >= 1000000000L) {
			c->deadline.tv_sec++;
			c->deadline.tv_nsec -= 1000000000L;
		}
		c->armed = true;
		pthread_cond_signal(&c->tcond);
	}
	pthread_mutex_unlock(&c->tlock);
}

static void queue_iova(struct iommu_dma_cookie *c, unsigned long pfn,
		       unsigned long pages)
{
	int cpu = current_cpu();
	struct iova_fq *fq = &c->fq[(cpu < 0 ? 0 : (unsigned)cpu) % c->nr_fq];

	pthread_mutex_lock(&fq->lock);
	fq_ring_free(c, fq);
	if (fq_full(fq)) {
		fq_flush_iotlb(c);
		fq_ring_free(c, fq);
	}
	fq->e[fq->tail] = (struct fq_entry){ pfn, pages,
					     atomic_load(&c->flush_start) };
	fq->tail = (fq->tail + 1) % IOVA_DEFAULT_FQ_SIZE;
	atomic_store_explicit(&fq->queued,
			      atomic_load_explicit(&fq->queued, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	pthread_mutex_unlock(&fq->lock);
	fq_arm(c);
}

void iommu_dma_flush_fq(struct iommu_domain *domain)
{
	struct iommu_dma_cookie *c = domain->iova_cookie;

	if (!c || !c->fq)
		return;
	fq_flush_iotlb(c);
	for (unsigned int i = 0; i < c->nr_fq; i++) {
		pthread_mutex_lock(&c->fq[i].lock);
		fq_ring_free(c, &c->fq[i]);
		pthread_mutex_unlock(&c->fq[i].lock);
	}
}

/* The 10 ms timer: a thread per DMA-FQ domain, asleep unless armed. */
static void *fq_timer(void *arg)
{
	struct iommu_dma_cookie *c = arg;
	struct cpu_ctx save;

	cpu_ctx_switch(c->m, &save);
	pthread_mutex_lock(&c->tlock);
	while (!c->stop) {
		if (!c->armed) {
			pthread_cond_wait(&c->tcond, &c->tlock);
			continue;
		}
		if (pthread_cond_timedwait(&c->tcond, &c->tlock,
					   &c->deadline) != ETIMEDOUT)
			continue;
		c->armed = false;
		pthread_mutex_unlock(&c->tlock);
		iommu_dma_flush_fq(c->domain);
		pthread_mutex_lock(&c->tlock);
	}
	pthread_mutex_unlock(&c->tlock);
	cpu_ctx_restore(&save);
	return NULL;
}

/* The same timer on a virtual clock: it fires when the clock is
 * advanced past its expiry, on the thread that advances it. */
static void fq_vtimer_fire(void *arg)
{
	struct iommu_dma_cookie *c = arg;
	struct cpu_ctx save;

	cpu_ctx_switch(c->m, &save);
	iommu_dma_flush_fq(c->domain);
	cpu_ctx_restore(&save);
}

static int fq_init(struct iommu_dma_cookie *c)
{
	pthread_condattr_t a;

	c->nr_fq = c->m->nr_cpus;
	c->fq = calloc(c->nr_fq, sizeof(*c->fq));
	if (!c->fq)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->nr_fq; i++)
		pthread_mutex_init(&c->fq[i].lock, NULL);
	c->vt.fn = fq_vtimer_fire;
	c->vt.arg = c;
	if (mclock_is_virtual(&c->m->clock)) {
		atomic_store_explicit(&c->fq_on, true, memory_order_release);
		return 0;
	}
	pthread_mutex_init(&c->tlock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c->tcond, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&c->timer, NULL, fq_timer, c))
		return -ENOMEM;
	c->has_timer = true;
	atomic_store_explicit(&c->fq_on, true, memory_order_release);
	return 0;
}

static void fq_destroy(struct iommu_dma_cookie *c)
{
	if (c->fq && mclock_is_virtual(&c->m->clock))
		vtimer_cancel(&c->m->clock, &c->vt);
	if (c->has_timer) {
		pthread_mutex_lock(&c->tlock);
		c->stop = true;
		pthread_cond_signal(&c->tcond);
		pthread_mutex_unlock(&c->tlock);
		pthread_join(c->timer, NULL);
		pthread_cond_destroy(&c->tcond);
		pthread_mutex_destroy(&c->tlock);
	}
	if (c->fq) {
		iommu_dma_flush_fq(c->domain);
		atomic_store(&c->fq_on, false);
		for (unsigned int i = 0; i < c->nr_fq; i++)
			pthread_mutex_destroy(&c->fq[i].lock);
	}
	free(c->fq);
	c->fq = NULL;
}

/* ---- the cookie ------------------------------------------------------- */

static void reserve_regions(struct iommu_dma_cookie *c)
{
	struct iova_domain *iovad = &c->iovad;

	reserve_iova(iovad, iova_pfn(iovad, MSI_START), iova_pfn(iovad, MSI_END));
	/* the host bridge's window: peer-to-peer MMIO, not memory */
	reserve_iova(iovad, iova_pfn(iovad, pci_window_start(c->m)),
		     iova_pfn(iovad, 0xfebfffffULL));
	/* AMD: the HyperTransport range, a reserved region of every group */
	if (c->m->amd_iommu)
		reserve_iova(iovad, iova_pfn(iovad, AMD_HT_START),
			     iova_pfn(iovad, AMD_HT_END));
}

/* iommu_dma_init_fq: a strict DMA domain becomes DMA-FQ in place, its
 * mappings untouched; unmaps from now on go through the queues. */
int iommu_dma_init_fq(struct iommu_domain *domain)
{
	struct iommu_dma_cookie *c = domain->iova_cookie;

	if (!c || !(domain->type & __IOMMU_DOMAIN_DMA_API))
		return -EINVAL;
	if (!atomic_load(&c->fq_on) && fq_init(c)) {
		fq_destroy(c);
		return -ENOMEM;
	}
	domain->type = IOMMU_DOMAIN_DMA_FQ;
	return 0;
}

int iommu_get_dma_cookie(struct iommu_domain *domain)
{
	struct machine *m = (struct machine *)domain->machine;
	struct iommu_dma_cookie *c;
	unsigned long granule;

	if (!domain->pgsize_bitmap || domain->iova_cookie)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->domain = domain;
	c->m = m;
	granule = 1UL << __builtin_ctzl(domain->pgsize_bitmap);
	init_iova_domain(&c->iovad, granule, 1);
	iova_domain_init_rcaches(&c->iovad, m->nr_cpus);
	reserve_regions(c);
	domain->iova_cookie = c;
	if (domain->type == IOMMU_DOMAIN_DMA_FQ && fq_init(c)) {
		/* no flush queue: silently strict, as Linux */
		fq_destroy(c);
		domain->type = IOMMU_DOMAIN_DMA;
	}
	return 0;
}

void iommu_put_dma_cookie(struct iommu_domain *domain)
{
	struct iommu_dma_cookie *c = domain->iova_cookie;

	if (!c)
		return;
	fq_destroy(c);
	put_iova_domain(&c->iovad);
	free(c);
	domain->iova_cookie = NULL;
}

void iommu_dma_get_stats(struct iommu_domain *domain,
			 struct iommu_dma_stats *st)
{
	struct iommu_dma_cookie *c = domain->iova_cookie;

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	for (unsigned int i = 0; i < c->nr_fq; i++)
		st->fq_queued += atomic_load(&c->fq[i].queued);
	st->fq_flushes = atomic_load(&c->fq_flushes);
	st->strict_syncs = atomic_load(&c->strict_syncs);
	st->bounced = atomic_load(&c->bounced);
}

/* ---- IOVAs ------------------------------------------------------------ */

static int bits_per(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 1;
}

static dma_addr_t dma_alloc_iova(struct device *dev, size_t size, u64 limit)
{
	struct iommu_dma_cookie *c = cookie_of(dev);
	struct iova_domain *iovad = &c->iovad;
	unsigned long shift = iova_shift(iovad), len = size >> shift, pfn = 0;
	struct iommu_domain_geometry *g = &dev->iommu_domain->geometry;

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	if (g->force_aperture && g->aperture_end < limit)
		limit = g->aperture_end;
	/* try to get PCI devices a single-address-cycle address */
	if (limit > DMA_BIT_MASK(32) && !c->m->iommu_policy.forcedac &&
	    !dev->dma_iommu_64bit)
		pfn = alloc_iova_fast(iovad, len, DMA_BIT_MASK(32) >> shift,
				      false);
	if (!pfn) {
		pfn = alloc_iova_fast(iovad, len, limit >> shift, true);
		if (pfn && pfn > (DMA_BIT_MASK(32) >> shift) &&
		    !dev->dma_iommu_64bit) {
			dev->dma_iommu_64bit = true;
			dev_notice(dev, "Using %d-bit DMA addresses\n",
				   bits_per(limit));
		}
	}
	return (dma_addr_t)pfn << shift;
}

static void free_iova_range(struct iommu_dma_cookie *c, dma_addr_t iova,
			    size_t size, bool queued)
{
	struct iova_domain *iovad = &c->iovad;

	if (queued)
		queue_iova(c, iova_pfn(iovad, iova), size >> iova_shift(iovad));
	else
		free_iova_fast(iovad, iova_pfn(iovad, iova),
			       size >> iova_shift(iovad));
}

static dma_addr_t do_map(struct device *dev, phys_addr_t phys, size_t size,
			 int prot, u64 mask)
{
	struct iommu_dma_cookie *c = cookie_of(dev);
	size_t off = iova_offset(&c->iovad, phys);
	dma_addr_t iova;

	size = iova_align(&c->iovad, size + off);
	iova = dma_alloc_iova(dev, size, mask);
	if (!iova)
		return DMA_MAPPING_ERROR;
	if (iommu_map(dev->iommu_domain, iova, phys - off, size, prot)) {
		free_iova_range(c, iova, size, false);
		return DMA_MAPPING_ERROR;
	}
	return iova + off;
}

static void do_unmap(struct device *dev, dma_addr_t addr, size_t size)
{
	struct iommu_dma_cookie *c = cookie_of(dev);
	struct iommu_domain *d = dev->iommu_domain;
	size_t off = iova_offset(&c->iovad, addr);
	struct iommu_iotlb_gather gather;

	addr -= off;
	size = iova_align(&c->iovad, size + off);
	iommu_iotlb_gather_init(&gather);
	gather.queued = atomic_load_explicit(&c->fq_on, memory_order_acquire);
	iommu_unmap_fast(d, addr, size, &gather);
	if (!gather.queued) {
		iommu_iotlb_sync(d, &gather);
		atomic_fetch_add(&c->strict_syncs, 1);
	}
	free_iova_range(c, addr, size, gather.queued);
}

static int dir_to_prot(enum dma_data_direction dir, bool coherent,
		       unsigned long attrs)
{
	int prot = coherent ? IOMMU_CACHE : 0;

	if (attrs & DMA_ATTR_PRIVILEGED)
		prot |= IOMMU_PRIV;
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return prot | IOMMU_READ | IOMMU_WRITE;
	case DMA_TO_DEVICE:
		return prot | IOMMU_READ;
	case DMA_FROM_DEVICE:
		return prot | IOMMU_WRITE;
	default:
		return 0;
	}
}

/* ---- the ops ---------------------------------------------------------- */

static bool dev_is_untrusted(struct device *dev)
{
	return dev_is_pci(dev) && to_pci_dev(dev)->untrusted;
}

static bool dev_use_swiotlb(struct device *dev)
{
	return dev_is_untrusted(dev) && mach(dev)->swiotlb;
}

static void arch_sync_for_device(struct machine *m, phys_addr_t p, size_t n)
{
	if (!m->ram.coherent)
		cache_clean(&m->ram, p, n);
}

static void arch_sync_for_cpu(struct machine *m, phys_addr_t p, size_t n,
			      enum dma_data_direction dir)
{
	if (!m->ram.coherent && dir != DMA_TO_DEVICE)
		cache_invalidate(&m->ram, p, n);
}

/* An untrusted device's unaligned mapping: bounce it into slots of whole
 * granules and zero what the device must not see. */
static phys_addr_t bounce_map(struct device *dev, phys_addr_t phys,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct iommu_dma_cookie *c = cookie_of(dev);
	size_t aligned = iova_align(&c->iovad, size);
	phys_addr_t tlb = swiotlb_tbl_map_single(dev, phys, size, aligned, dir,
						 attrs);
	uint8_t *pad;
	size_t pad_len = aligned;

	if (tlb == DMA_MAPPING_ERROR)
		return tlb;
	pad = mach(dev)->ram.cpu + tlb;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)) {
		pad += size;
		pad_len -= size;
	}
	memset(pad, 0, pad_len);
	atomic_fetch_add(&c->bounced, 1);
	return tlb;
}

static dma_addr_t iommu_dma_map_page(struct device *dev, struct page *page,
				     size_t offset, size_t size,
				     enum dma_data_direction dir,
				     unsigned long attrs)
{
	struct machine *m = mach(dev);
	struct iommu_dma_cookie *c = cookie_of(dev);
	phys_addr_t phys = page_phys(m, page) + offset;
	bool bounced = false;
	dma_addr_t iova;

	if (dev_use_swiotlb(dev) && iova_offset(&c->iovad, phys | size)) {
		phys = bounce_map(dev, phys, size, dir, attrs);
		if (phys == DMA_MAPPING_ERROR)
			return DMA_MAPPING_ERROR;
		bounced = true;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		arch_sync_for_device(m, phys, size);
	iova = do_map(dev, phys, size,
		      dir_to_prot(dir, dev->dma_coherent, attrs),
		      dma_get_mask(dev));
	if (iova == DMA_MAPPING_ERROR && bounced)
		swiotlb_tbl_unmap_single(dev, phys, size, dir,
					 attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return iova;
}

static void iommu_dma_unmap_page(struct device *dev, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct machine *m = mach(dev);
	phys_addr_t phys = iommu_iova_to_phys(dev->iommu_domain, addr);

	if (!phys)
		return;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		arch_sync_for_cpu(m, phys, size, dir);
	do_unmap(dev, addr, size);
	if (is_swiotlb_buffer(m, phys))
		swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
}

static void iommu_dma_sync_for_cpu(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir)
{
	struct machine *m = mach(dev);
	phys_addr_t phys = iommu_iova_to_phys(dev->iommu_domain, addr);

	if (!phys)
		return;
	arch_sync_for_cpu(m, phys, size, dir);
	if (is_swiotlb_buffer(m, phys))
		swiotlb_sync_single_for_cpu(dev, phys, size, dir);
}

static void iommu_dma_sync_for_device(struct device *dev, dma_addr_t addr,
				      size_t size,
				      enum dma_data_direction dir)
{
	struct machine *m = mach(dev);
	phys_addr_t phys = iommu_iova_to_phys(dev->iommu_domain, addr);

	if (!phys)
		return;
	if (is_swiotlb_buffer(m, phys))
		swiotlb_sync_single_for_device(dev, phys, size, dir);
	arch_sync_for_device(m, phys, size);
}

/* Untrusted: every entry on its own, through map_page (6.1). */
static int map_sg_bounced(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i) {
		s->dma_address = iommu_dma_map_page(dev, sg_page(s), s->offset,
						    s->length, dir, attrs);
		if (s->dma_address == DMA_MAPPING_ERROR) {
			struct scatterlist *t;
			int j;

			for_each_sg(sgl, t, i, j)
				iommu_dma_unmap_page(dev, sg_dma_address(t),
						     sg_dma_len(t), dir,
						     attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return -EIO;
		}
		s->dma_length = s->length;
	}
	return nents;
}

/* __finalise_sg: fill in DMA segments, merging entries that start on a
 * granule boundary into the previous one while it fits max_len. */
static int finalise_sg(struct device *dev, struct scatterlist *sgl, int nents,
		       dma_addr_t dma)
{
	struct scatterlist *s, *cur = sgl;
	unsigned long seg_mask = dma_get_seg_boundary(dev);
	unsigned int cur_len = 0, max_len = dma_get_max_seg_size(dev);
	int i, count = 0;

	for_each_sg(sgl, s, nents, i) {
		unsigned int off = (unsigned int)s->dma_address; /* stashed */
		unsigned int len = s->dma_length, iova_len = s->length;

		s->dma_address = DMA_MAPPING_ERROR;
		s->dma_length = 0;
		s->offset += off;
		s->length = len;
		if (cur_len && !off && (dma & seg_mask) &&
		    max_len - cur_len >= len) {
			cur_len += len;
		} else {
			if (i > 0)
				cur = sg_next(cur);
			cur_len = len;
			count++;
			cur->dma_address = dma + off;
		}
		cur->dma_length = cur_len;
		dma += iova_len;
		if (len + off < iova_len)
			cur_len = 0;
	}
	return count;
}

/* Undo the stashing of map_sg when mapping fails. */
static void invalidate_sg(struct scatterlist *sgl, int nents)
{
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i) {
		unsigned int off = (unsigned int)s->dma_address;

		s->offset += off;
		s->length = s->dma_length;
		s->dma_address = DMA_MAPPING_ERROR;
		s->dma_length = 0;
	}
}

static int iommu_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			    int nents, enum dma_data_direction dir,
			    unsigned long attrs)
{
	struct machine *m = mach(dev);
	struct iommu_dma_cookie *c = cookie_of(dev);
	struct iova_domain *iovad = &c->iovad;
	int prot = dir_to_prot(dir, dev->dma_coherent, attrs), i;
	struct scatterlist *s;
	size_t iova_len = 0, mapped = 0;
	dma_addr_t iova;

	if (dev_use_swiotlb(dev))
		return map_sg_bounced(dev, sgl, nents, dir, attrs);
	for_each_sg(sgl, s, nents, i) {
		size_t off = iova_offset(iovad, s->offset);

		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			arch_sync_for_device(m, page_phys(m, sg_page(s)) + s->offset,
					     s->length);
		/* stash the offset and length; align the entry to granules */
		s->dma_address = off;
		s->dma_length = s->length;
		s->offset -= (unsigned int)off;
		s->length = (unsigned int)iova_align(iovad, s->length + off);
		iova_len += s->length;
	}
	iova = dma_alloc_iova(dev, iova_len, dma_get_mask(dev));
	if (!iova)
		goto fail;
	for_each_sg(sgl, s, nents, i) {
		if (iommu_map(dev->iommu_domain, iova + mapped,
			      page_phys(m, sg_page(s)) + s->offset, s->length,
			      prot))
			break;
		mapped += s->length;
	}
	if (mapped < iova_len) {
		if (mapped)
			iommu_unmap(dev->iommu_domain, iova, mapped);
		free_iova_range(c, iova, iova_len, false);
		goto fail;
	}
	return finalise_sg(dev, sgl, nents, iova);
fail:
	invalidate_sg(sgl, nents);
	return -ENOMEM;
}

static void iommu_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct machine *m = mach(dev);
	dma_addr_t start, end = 0;
	struct scatterlist *s;
	int i;

	if (dev_use_swiotlb(dev)) {
		for_each_sg(sgl, s, nents, i)
			iommu_dma_unmap_page(dev, sg_dma_address(s),
					     sg_dma_len(s), dir, attrs);
		return;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		for_each_sg(sgl, s, nents, i)
			arch_sync_for_cpu(m, page_phys(m, sg_page(s)) + s->offset,
					  s->length, dir);
	start = sg_dma_address(sgl);
	for_each_sg(sgl, s, nents, i) {
		if (sg_dma_len(s) == 0)
			break;
		end = sg_dma_address(s) + sg_dma_len(s);
	}
	if (end > start)
		do_unmap(dev, start, end - start);
}

static void iommu_dma_sync_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      bool to_cpu)
{
	struct machine *m = mach(dev);
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i) {
		if (dev_use_swiotlb(dev)) {
			if (to_cpu)
				iommu_dma_sync_for_cpu(dev, sg_dma_address(s),
						       sg_dma_len(s), dir);
			else
				iommu_dma_sync_for_device(dev, sg_dma_address(s),
							  sg_dma_len(s), dir);
		} else if (to_cpu) {
			arch_sync_for_cpu(m, page_phys(m, sg_page(s)) + s->offset,
					  s->length, dir);
		} else {
			arch_sync_for_device(m, page_phys(m, sg_page(s)) + s->offset,
					     s->length);
		}
	}
}

static void iommu_dma_sync_sg_for_cpu(struct device *dev,
				      struct scatterlist *sg, int nents,
				      enum dma_data_direction dir)
{
	iommu_dma_sync_sg(dev, sg, nents, dir, true);
}

static void iommu_dma_sync_sg_for_device(struct device *dev,
					 struct scatterlist *sg, int nents,
					 enum dma_data_direction dir)
{
	iommu_dma_sync_sg(dev, sg, nents, dir, false);
}

static void *iommu_dma_alloc(struct device *dev, size_t size,
			     dma_addr_t *handle, gfp_t gfp,
			     unsigned long attrs)
{
	struct machine *m = mach(dev);
	unsigned int order = (unsigned int)get_order(size);
	struct page *page;
	phys_addr_t phys;

	(void)attrs;
	gfp &= ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
	page = mm_alloc_pages(m, gfp | __GFP_ZERO, order);
	if (!page)
		return NULL;
	phys = page_phys(m, page);
	if (!m->ram.coherent) {
		cache_clean(&m->ram, phys, PAGE_SIZE << order);
		cache_invalidate(&m->ram, phys, PAGE_SIZE << order);
	}
	*handle = do_map(dev, phys, PAGE_SIZE << order,
			 dir_to_prot(DMA_BIDIRECTIONAL, dev->dma_coherent, 0),
			 dev->coherent_dma_mask);
	if (*handle == DMA_MAPPING_ERROR) {
		mm_free_pages(m, page, order);
		return NULL;
	}
	return (m->ram.coherent ? m->ram.cpu : m->ram.mem) + phys;
}

static void iommu_dma_free(struct device *dev, size_t size, void *vaddr,
			   dma_addr_t handle, unsigned long attrs)
{
	struct machine *m = mach(dev);
	unsigned int order = (unsigned int)get_order(size);
	uint8_t *base = m->ram.coherent ? m->ram.cpu : m->ram.mem;
	phys_addr_t phys = (phys_addr_t)((uint8_t *)vaddr - base);

	(void)attrs;
	do_unmap(dev, handle, PAGE_SIZE << order);
	if (!m->ram.coherent)
		cache_invalidate(&m->ram, phys, PAGE_SIZE << order);
	mm_free_pages(m, &m->mm.mem_map[phys >> PAGE_SHIFT], order);
}

static size_t iommu_dma_max_mapping_size(struct device *dev)
{
	if (dev_use_swiotlb(dev))
		return swiotlb_max_mapping_size(dev);
	return SIZE_MAX;
}

static u64 iommu_dma_get_required_mask(struct device *dev)
{
	struct iommu_domain_geometry *g = &dev->iommu_domain->geometry;
	u64 end = g->aperture_end ? g->aperture_end : DMA_BIT_MASK(64);

	return end < DMA_BIT_MASK(32) ? end : DMA_BIT_MASK(32);
}

const struct dma_map_ops iommu_dma_ops = {
	.alloc = iommu_dma_alloc,
	.free = iommu_dma_free,
	.map_page = iommu_dma_map_page,
	.unmap_page = iommu_dma_unmap_page,
	.map_sg = iommu_dma_map_sg,
	.unmap_sg = iommu_dma_unmap_sg,
	.sync_single_for_cpu = iommu_dma_sync_for_cpu,
	.sync_single_for_device = iommu_dma_sync_for_device,
	.sync_sg_for_cpu = iommu_dma_sync_sg_for_cpu,
	.sync_sg_for_device = iommu_dma_sync_sg_for_device,
	.max_mapping_size = iommu_dma_max_mapping_size,
	.get_required_mask = iommu_dma_get_required_mask,
};

void iommu_setup_dma_ops(struct device *dev, struct iommu_domain *domain)
{
	if (domain->type & __IOMMU_DOMAIN_DMA_API)
		dev->dma_ops = &iommu_dma_ops;
	else
		dev->dma_ops = NULL;
}
