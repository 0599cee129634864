/*
 * swiotlb (see swiotlb.h). Facts followed: slot and segment sizes, the
 * swiotlb= syntax ({slabs[,areas] | force | noforce}, slabs rounded up to
 * 128), the default 64 MiB below 4 GiB enabled on x86 when RAM reaches
 * above 4 GiB, areas = CPUs rounded up to a power of two, page-aligned
 * slots for mappings of a page or more, the per-slot "free run" counts,
 * the copies per direction (map always copies the original in), and the
 * messages: "software IO TLB: mapped [mem %pa-%pa] (%luMB)" with an
 * exclusive end, and "swiotlb buffer is full (sz: %zd bytes), total %lu
 * (slots), used %lu (slots)".
 */
#include "kernel/dma/swiotlb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/device.h"
#include "dmasim/linux/dma-mapping.h"
#include "kernel/machine.h"
#include "kernel/memblock.h"

#define PR_SWIOTLB "software IO TLB: "

struct swiotlb_opts {
	unsigned long nslabs;
	unsigned int nareas;
	bool force, noforce;
};

/* swiotlb=<int>[,<int>][,force|noforce] | force | noforce, parsed as
 * loosely as Linux does: digits that stop early are taken as far as
 * they go. */
static void parse_opts(const char *s, struct swiotlb_opts *o)
{
	char *end;

	if (!s)
		return;
	if (*s >= '0' && *s <= '9') {
		unsigned long n = strtoul(s, &end, 0);

		o->nslabs = (n + IO_TLB_SEGSIZE - 1) / IO_TLB_SEGSIZE *
			    IO_TLB_SEGSIZE;
		s = end;
		if (*s == ',')
			s++;
		if (*s >= '0' && *s <= '9') {
			o->nareas = (unsigned)strtoul(s, &end, 0);
			s = end;
			if (*s == ',')
				s++;
		}
	}
	if (!strcmp(s, "force"))
		o->force = true;
	else if (!strcmp(s, "noforce"))
		o->noforce = true;
}

static unsigned int roundup_pow2(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static bool wanted(struct machine *m, const struct swiotlb_opts *o)
{
	const char *iommu = bootparam_get(m, "iommu");

	if (o->noforce)
		return false;
	if (o->force || (iommu && !strcmp(iommu, "soft")))
		return true;
	if (iommu && !strcmp(iommu, "off"))
		return false;
	return m->mm.max_pfn > MAX_DMA32_PFN;
}

static int pool_alloc(struct io_tlb_mem *mem, unsigned int nareas)
{
	mem->slots = calloc(mem->nslabs, sizeof(*mem->slots));
	mem->areas = calloc(nareas, sizeof(*mem->areas));
	if (!mem->slots || !mem->areas)
		return -ENOMEM;
	mem->nareas = nareas;
	for (unsigned int a = 0; a < nareas; a++)
		pthread_mutex_init(&mem->areas[a].lock, NULL);
	for (unsigned long i = 0; i < mem->nslabs; i++) {
		mem->slots[i].list = IO_TLB_SEGSIZE - (unsigned)(i % IO_TLB_SEGSIZE);
		mem->slots[i].orig_addr = (phys_addr_t)-1;
	}
	return 0;
}

void swiotlb_reserve(struct machine *m)
{
	struct swiotlb_opts o = { IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT, 0, false,
				  false };
	struct io_tlb_mem *mem;
	unsigned int nareas;
	uint64_t base = 0, bytes;

	parse_opts(bootparam_get(m, "swiotlb"), &o);
	if (!wanted(m, &o) || o.nslabs == 0)
		return;
	/* like the early allocation: halve until it fits, down to 1 MiB */
	for (;;) {
		bytes = (uint64_t)o.nslabs << IO_TLB_SHIFT;
		base = memblock_alloc_top_down(&m->mm, bytes, PAGE_SIZE,
					       1ULL << 32);
		if (base || o.nslabs / 2 < IO_TLB_MIN_SLABS)
			break;
		o.nslabs /= 2;
	}
	mem = calloc(1, sizeof(*mem));
	if (!base || !mem) {
		free(mem);
		return;
	}
	nareas = roundup_pow2(o.nareas ? o.nareas : m->nr_cpus);
	while (nareas > 1 && o.nslabs / nareas < IO_TLB_SEGSIZE)
		nareas /= 2;
	mem->start = base;
	mem->nslabs = o.nslabs;
	mem->end = base + ((uint64_t)o.nslabs << IO_TLB_SHIFT);
	mem->force = o.force;
	if (pool_alloc(mem, nareas)) {
		free(mem->slots);
		free(mem->areas);
		free(mem);
		return;
	}
	m->swiotlb = mem;
}

void swiotlb_print_areas(struct machine *m)
{
	if (m->swiotlb)
		pr_info(m, PR_SWIOTLB "area num %u.\n", m->swiotlb->nareas);
}

static void show_ulong(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)m;
	strbuf_printf(out, "%lu\n", atomic_load((_Atomic unsigned long *)ctx));
}

static void show_u64(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)m;
	strbuf_printf(out, "%llu\n",
		      (unsigned long long)atomic_load((_Atomic uint64_t *)ctx));
}

static void show_nslabs(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	strbuf_printf(out, "%lu\n", m->swiotlb->nslabs);
}

int swiotlb_late_init(struct machine *m)
{
	struct io_tlb_mem *mem = m->swiotlb;
	const char *dir = "/sys/kernel/debug/swiotlb/";
	char path[96];
	int ret;

	if (!mem)
		return 0;
	pr_info(m, "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n");
	pr_info(m, PR_SWIOTLB "mapped [mem 0x%016llx-0x%016llx] (%luMB)\n",
		(unsigned long long)mem->start, (unsigned long long)mem->end,
		(unsigned long)((mem->end - mem->start) >> 20));
	snprintf(path, sizeof(path), "%sio_tlb_nslabs", dir);
	ret = vfs_add_file(&m->vfs, path, show_nslabs, NULL);
	snprintf(path, sizeof(path), "%sio_tlb_used", dir);
	ret = ret ? ret : vfs_add_file(&m->vfs, path, show_ulong, &mem->total_used);
	snprintf(path, sizeof(path), "%sio_tlb_used_hiwater", dir);
	ret = ret ? ret : vfs_add_file(&m->vfs, path, show_ulong, &mem->used_hiwater);
	/* dmasim's own counters, beside Linux's files */
	snprintf(path, sizeof(path), "%sbounced_bytes_to_device", dir);
	ret = ret ? ret : vfs_add_file(&m->vfs, path, show_u64, &mem->bounced_to_device);
	snprintf(path, sizeof(path), "%sbounced_bytes_to_cpu", dir);
	ret = ret ? ret : vfs_add_file(&m->vfs, path, show_u64, &mem->bounced_to_cpu);
	return ret;
}

void swiotlb_destroy(struct machine *m)
{
	struct io_tlb_mem *mem = m->swiotlb;

	if (!mem)
		return;
	for (unsigned int a = 0; a < mem->nareas; a++)
		pthread_mutex_destroy(&mem->areas[a].lock);
	free(mem->areas);
	free(mem->slots);
	free(mem);
	m->swiotlb = NULL;
}

bool is_swiotlb_buffer(struct machine *m, phys_addr_t addr)
{
	return m->swiotlb && addr >= m->swiotlb->start &&
	       addr < m->swiotlb->end;
}

bool swiotlb_force_bounce(struct machine *m)
{
	return m->swiotlb && m->swiotlb->force;
}

size_t swiotlb_max_mapping_size(struct device *dev)
{
	(void)dev;
	return IO_TLB_SIZE * IO_TLB_SEGSIZE;
}

static unsigned long nr_slots(size_t bytes)
{
	return (bytes + IO_TLB_SIZE - 1) >> IO_TLB_SHIFT;
}

/* Next-fit search in one area; returns the slot index or -1. */
static long area_find(struct io_tlb_mem *mem, unsigned int a, phys_addr_t orig,
		      size_t size, unsigned long nslots)
{
	struct io_tlb_area *area = &mem->areas[a];
	unsigned long per = mem->nslabs / mem->nareas, first = a * per;
	unsigned long stride = size >= PAGE_SIZE ? PAGE_SIZE >> IO_TLB_SHIFT : 1;
	unsigned long idx, tries, count = 0;

	if (nslots > IO_TLB_SEGSIZE || nslots > per)
		return -1;
	pthread_mutex_lock(&area->lock);
	idx = area->index;
	for (tries = 0; tries < per; tries++, idx = (idx + 1) % per) {
		unsigned long s = first + idx;

		if (((mem->start >> IO_TLB_SHIFT) + s) % stride ||
		    idx + nslots > per || mem->slots[s].list < nslots)
			continue;
		for (unsigned long i = s; i < s + nslots; i++) {
			mem->slots[i].list = 0;
			mem->slots[i].orig_addr = orig + ((i - s) << IO_TLB_SHIFT);
			mem->slots[i].alloc_size = size - ((i - s) << IO_TLB_SHIFT);
		}
		for (long i = (long)s - 1; i >= 0 &&
		     i % IO_TLB_SEGSIZE != IO_TLB_SEGSIZE - 1 &&
		     mem->slots[i].list; i--)
			mem->slots[i].list = (unsigned)++count;
		area->index = (unsigned)((idx + nslots) % per);
		area->used += nslots;
		pthread_mutex_unlock(&area->lock);
		return (long)s;
	}
	pthread_mutex_unlock(&area->lock);
	return -1;
}

static void note_used(struct io_tlb_mem *mem, long delta)
{
	unsigned long used = atomic_fetch_add(&mem->total_used,
					      (unsigned long)delta) + (unsigned long)delta;
	unsigned long hi = atomic_load(&mem->used_hiwater);

	while (delta > 0 && used > hi &&
	       !atomic_compare_exchange_weak(&mem->used_hiwater, &hi, used))
		;
}

/* Copy between the original buffer and its bounce slots (CPU view). */
static void bounce(struct machine *m, phys_addr_t tlb, size_t size,
		   bool to_device)
{
	struct io_tlb_mem *mem = m->swiotlb;
	unsigned long idx = (tlb - mem->start) >> IO_TLB_SHIFT;
	phys_addr_t orig = mem->slots[idx].orig_addr;
	size_t off = tlb & (IO_TLB_SIZE - 1);

	if (orig == (phys_addr_t)-1)
		return;
	orig += off;
	if (size > mem->slots[idx].alloc_size - off)
		size = mem->slots[idx].alloc_size - off;
	if (to_device) {
		memcpy(m->ram.cpu + tlb, m->ram.cpu + orig, size);
		atomic_fetch_add(&mem->bounced_to_device, size);
	} else {
		memcpy(m->ram.cpu + orig, m->ram.cpu + tlb, size);
		atomic_fetch_add(&mem->bounced_to_cpu, size);
	}
}

phys_addr_t swiotlb_tbl_map_single(struct device *dev, phys_addr_t orig,
				   size_t size, size_t alloc_size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	struct machine *m = (struct machine *)dev->machine;
	struct io_tlb_mem *mem = m->swiotlb;
	unsigned long nslots = nr_slots(alloc_size);
	int cpu = current_cpu();
	long idx = -1;

	(void)dir;
	if (!mem || !size || alloc_size < size)
		return DMA_MAPPING_ERROR;
	for (unsigned int i = 0; i < mem->nareas && idx < 0; i++)
		idx = area_find(mem, ((cpu < 0 ? 0 : (unsigned)cpu) + i) &
					     (mem->nareas - 1),
				orig, alloc_size, nslots);
	if (idx < 0) {
		atomic_fetch_add(&mem->full, 1);
		if (!(attrs & DMA_ATTR_NO_WARN) &&
		    ratelimit_ok(m, &m->dma_rs, "swiotlb"))
			dev_warn(dev,
				 "swiotlb buffer is full (sz: %zu bytes), total %lu (slots), used %lu (slots)\n",
				 size, mem->nslabs, atomic_load(&mem->total_used));
		return DMA_MAPPING_ERROR;
	}
	note_used(mem, (long)nslots);
	atomic_fetch_add(&mem->maps, 1);
	/* 6.1 always copies in, so a device that writes less than the
	 * mapping cannot expose what the pool held before */
	bounce(m, mem->start + ((phys_addr_t)idx << IO_TLB_SHIFT), size, true);
	return mem->start + ((phys_addr_t)idx << IO_TLB_SHIFT);
}

static void release_slots(struct io_tlb_mem *mem, phys_addr_t tlb)
{
	unsigned long idx = (tlb - mem->start) >> IO_TLB_SHIFT;
	unsigned long n = nr_slots(mem->slots[idx].alloc_size);
	unsigned long per = mem->nslabs / mem->nareas;
	struct io_tlb_area *area = &mem->areas[idx / per];
	unsigned long end = idx + n, count;

	pthread_mutex_lock(&area->lock);
	count = end % IO_TLB_SEGSIZE ? mem->slots[end].list : 0;
	for (unsigned long i = end; i-- > idx;) {
		mem->slots[i].list = (unsigned)++count;
		mem->slots[i].orig_addr = (phys_addr_t)-1;
		mem->slots[i].alloc_size = 0;
	}
	for (long i = (long)idx - 1; i >= 0 &&
	     i % IO_TLB_SEGSIZE != IO_TLB_SEGSIZE - 1 && mem->slots[i].list;
	     i--)
		mem->slots[i].list = (unsigned)++count;
	area->used -= n;
	pthread_mutex_unlock(&area->lock);
	note_used(mem, -(long)n);
}

void swiotlb_tbl_unmap_single(struct device *dev, phys_addr_t tlb,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct machine *m = (struct machine *)dev->machine;

	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(m, tlb, size, false);
	release_slots(m->swiotlb, tlb & ~(phys_addr_t)(IO_TLB_SIZE - 1));
}

void swiotlb_sync_single_for_device(struct device *dev, phys_addr_t tlb,
				    size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)
		bounce((struct machine *)dev->machine, tlb, size, true);
}

void swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t tlb,
				 size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)
		bounce((struct machine *)dev->machine, tlb, size, false);
}
