/*
 * DMA-API debugging (see debug.h). Facts followed from Linux 6.1: the
 * 16384-bucket hash by (dev_addr >> 13), exact matching for unmap and
 * "containing" matching for sync, the map-error states, the report texts
 * and their order, one printed error by default, the first cache line of
 * each device-writable mapping tracked for overlaps (7 at most), the
 * preallocation count and its growth message, and the debugfs files.
 */
#include "kernel/dma/debug.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dmasim/linux/device.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/scatterlist.h"
#include "kernel/machine.h"

#define PR_DMA_API	  "DMA-API: "
#define HASH_SIZE	  16384
#define HASH_SHIFT	  13
#define PREALLOC_DEFAULT  65536
#define CACHELINE_SHIFT	  6
#define CACHELINE_MAX_OVERLAP 7
#define CLN_HASH	  4096
#define KERNEL_TEXT_START 0x01000000ULL /* code and rodata, see iomem.c */
#define KERNEL_RO_END	  0x028eb000ULL
#define DIRECT_MAP_BASE	  0xffff888000000000ULL

enum map_err_types { MAP_ERR_CHECK_NOT_APPLICABLE, MAP_ERR_NOT_CHECKED,
		     MAP_ERR_CHECKED };

static const char *const type_name[] = { "single", "scather-gather",
					 "coherent", "resource" };
static const char *const dir_name[] = { "DMA_BIDIRECTIONAL", "DMA_TO_DEVICE",
					"DMA_FROM_DEVICE", "DMA_NONE" };
static const char *const maperr_name[] = {
	"dma map error check not applicable", "dma map error not checked",
	"dma map error checked",
};

struct dma_debug_entry {
	struct device *dev;
	dma_addr_t dev_addr;
	phys_addr_t paddr;
	u64 size;
	int type, direction, map_err_type;
	int sg_call_ents, sg_mapped_ents;
	void *cpu_addr;
	struct dma_debug_entry *next;
};

struct cln_node {
	u64 cln;
	int overlap;
	struct cln_node *next;
};

struct dma_debug {
	pthread_mutex_t lock;
	struct dma_debug_entry **hash;
	struct cln_node **cln;
	bool disabled, all_errors, abort_on_error, warned_overlap;
	unsigned int num_errors;
	unsigned long error_count;
	unsigned long prealloc, total, live, min_free;
};

static struct dma_debug *dbg_of(struct device *dev)
{
	struct machine *m = dev ? (struct machine *)dev->machine : NULL;

	return m && m->dma_debug && !m->dma_debug->disabled ? m->dma_debug
							    : NULL;
}

bool dma_debug_enabled(struct machine *m)
{
	return m->dma_debug && !m->dma_debug->disabled;
}

/* Print a report as WARN() does: cut line, message, location, end. */
__attribute__((format(printf, 4, 5))) static void
err_printk(struct dma_debug *d, struct device *dev, const char *func,
	   const char *fmt, ...)
{
	struct machine *m = (struct machine *)dev->machine;
	char msg[512];
	va_list ap;

	d->error_count++;
	if (d->abort_on_error)
		fprintf(stderr, "dmasim: DMA-API violation (abort on error)\n");
	if (!d->all_errors && d->num_errors == 0)
		goto out;
	if (!d->all_errors)
		d->num_errors--;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn(m, "------------[ cut here ]------------\n");
	for (char *line = msg, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (line == msg)
			pr_warn(m, PR_DMA_API "%s %s: %s\n", dev_driver_string(dev),
				dev_name(dev), line);
		else
			pr_warn(m, "%s\n", line);
	}
	pr_warn(m, "WARNING: CPU: %d PID: %d at kernel/dma/debug.c %s\n",
		current_cpu() < 0 ? 0 : current_cpu(), (int)syscall(SYS_gettid), func);
	pr_warn(m, "---[ end trace 0000000000000000 ]---\n");
out:
	if (d->abort_on_error)
		abort();
}

static unsigned int hash_of(dma_addr_t addr)
{
	return (unsigned int)((addr >> HASH_SHIFT) & (HASH_SIZE - 1));
}

static void entry_add(struct dma_debug *d, struct dma_debug_entry *e)
{
	unsigned int h = hash_of(e->dev_addr);
	struct machine *m = (struct machine *)e->dev->machine;

	e->next = d->hash[h];
	d->hash[h] = e;
	if (++d->live > d->total) {
		d->total += 32; /* a page of entries, as the pool grows */
		if (d->total % d->prealloc == 0)
			pr_info(m, PR_DMA_API "dma_debug_entry pool grown to %lu (%lu00%%)\n",
				d->total, d->total / d->prealloc);
	}
	if (d->total - d->live < d->min_free)
		d->min_free = d->total - d->live;
}

static void entry_del(struct dma_debug *d, struct dma_debug_entry *e)
{
	struct dma_debug_entry **p = &d->hash[hash_of(e->dev_addr)];

	while (*p && *p != e)
		p = &(*p)->next;
	if (*p)
		*p = e->next;
	d->live--;
}

/* Unmap lookup: same device and address; among several, the one that
 * also matches size, type and direction. */
static struct dma_debug_entry *find_exact(struct dma_debug *d,
					  const struct dma_debug_entry *ref)
{
	struct dma_debug_entry *best = NULL;
	int best_score = -1;

	for (struct dma_debug_entry *e = d->hash[hash_of(ref->dev_addr)]; e;
	     e = e->next) {
		int score;

		if (e->dev != ref->dev || e->dev_addr != ref->dev_addr)
			continue;
		score = (e->size == ref->size) + (e->type == ref->type) +
			(e->direction == ref->direction);
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	return best;
}

/* Sync lookup: a mapping of the device that contains the address. */
static struct dma_debug_entry *find_containing(struct dma_debug *d,
					       const struct dma_debug_entry *ref)
{
	for (unsigned int i = 0; i < HASH_SIZE; i++) {
		unsigned int h = (hash_of(ref->dev_addr) - i) & (HASH_SIZE - 1);

		for (struct dma_debug_entry *e = d->hash[h]; e; e = e->next)
			if (e->dev == ref->dev && ref->dev_addr >= e->dev_addr &&
			    ref->dev_addr < e->dev_addr + e->size)
				return e;
		if (i > 0 && (ref->dev_addr >> HASH_SHIFT) < i)
			break;
	}
	return NULL;
}

static bool tracks_cacheline(const struct dma_debug_entry *e)
{
	return e->type != dma_debug_coherent && e->direction != DMA_TO_DEVICE;
}

/* 0, or -1 if the cache line was already mapped (EEXIST). */
static int cacheline_insert(struct dma_debug *d, u64 cln, struct device *dev)
{
	struct cln_node **p = &d->cln[cln % CLN_HASH], *n;

	for (n = *p; n; n = n->next) {
		if (n->cln != cln)
			continue;
		/* a 3-bit count: past 7 it is not stored, and warns once */
		if (n->overlap < CACHELINE_MAX_OVERLAP)
			n->overlap++;
		else if (!d->warned_overlap) {
			d->warned_overlap = true;
			pr_warn((struct machine *)dev->machine,
				PR_DMA_API "exceeded %d overlapping mappings of cacheline 0x%016llx\n",
				CACHELINE_MAX_OVERLAP, (unsigned long long)cln);
		}
		return -1;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pr_err((struct machine *)dev->machine,
		       PR_DMA_API "cacheline tracking ENOMEM, dma-debug disabled\n");
		d->disabled = true;
		((struct machine *)dev->machine)->dma_debug_on = false;
		return 0;
	}
	n->cln = cln;
	n->next = *p;
	*p = n;
	return 0;
}

static void cacheline_remove(struct dma_debug *d, u64 cln)
{
	struct cln_node **p = &d->cln[cln % CLN_HASH];

	for (; *p; p = &(*p)->next) {
		struct cln_node *n = *p;

		if (n->cln != cln)
			continue;
		if (n->overlap > 0) {
			n->overlap--;
		} else {
			*p = n->next;
			free(n);
		}
		return;
	}
}

static void add_entry(struct dma_debug *d, struct dma_debug_entry *e,
		      unsigned long attrs)
{
	entry_add(d, e);
	if (tracks_cacheline(e) &&
	    cacheline_insert(d, e->paddr >> CACHELINE_SHIFT, e->dev) &&
	    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		err_printk(d, e->dev, "add_dma_entry",
			   "cacheline tracking EEXIST, overlapping mappings aren't supported");
}

static struct dma_debug_entry *new_entry(struct device *dev, int type,
					 dma_addr_t addr, u64 size, int dir)
{
	struct dma_debug_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->dev = dev;
	e->type = type;
	e->dev_addr = addr;
	e->size = size;
	e->direction = dir;
	return e;
}

/* Near this function's own frame: on the calling thread's stack (the
 * host thread's stack stands for the kernel stack). */
static bool on_host_stack(const void *p)
{
	char here;
	uintptr_t a = (uintptr_t)p, h = (uintptr_t)&here;

	return (a > h ? a - h : h - a) < (8u << 20);
}

bool debug_dma_map_single(struct device *dev, const void *ptr, size_t len)
{
	struct machine *m = (struct machine *)dev->machine;
	struct dma_debug *d = dbg_of(dev);
	const uint8_t *p = ptr;
	bool linear = p >= m->ram.cpu && p < m->ram.cpu + m->ram.span;
	phys_addr_t phys;

	if (!d)
		return linear;
	if (!linear) {
		pthread_mutex_lock(&d->lock);
		if (on_host_stack(ptr))
			err_printk(d, dev, "debug_dma_map_single",
				   "device driver maps memory from stack [addr=%p]",
				   ptr);
		else
			err_printk(d, dev, "debug_dma_map_single",
				   "device driver maps memory from invalid area [addr=%p] [len=%zu]",
				   ptr, len);
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	phys = (phys_addr_t)(p - m->ram.cpu);
	if (phys < KERNEL_RO_END && phys + len > KERNEL_TEXT_START) {
		pthread_mutex_lock(&d->lock);
		err_printk(d, dev, "check_for_illegal_area",
			   "device driver maps memory from kernel text or rodata [addr=%016llx] [len=%zu]",
			   (unsigned long long)(DIRECT_MAP_BASE + phys), len);
		pthread_mutex_unlock(&d->lock);
	}
	return true;
}

void debug_dma_map_page(struct device *dev, phys_addr_t phys, size_t size,
			enum dma_data_direction dir, dma_addr_t addr,
			unsigned long attrs)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry *e;

	if (!d || addr == DMA_MAPPING_ERROR)
		return;
	e = new_entry(dev, dma_debug_single, addr, size, dir);
	if (!e)
		return;
	e->paddr = phys;
	e->map_err_type = MAP_ERR_NOT_CHECKED;
	pthread_mutex_lock(&d->lock);
	add_entry(d, e, attrs);
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	struct dma_debug *d = dbg_of(dev);

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	for (struct dma_debug_entry *e = d->hash[hash_of(addr)]; e; e = e->next)
		if (e->dev == dev && e->dev_addr == addr &&
		    e->map_err_type == MAP_ERR_NOT_CHECKED) {
			e->map_err_type = MAP_ERR_CHECKED;
			break;
		}
	pthread_mutex_unlock(&d->lock);
}

static void release(struct dma_debug *d, struct dma_debug_entry *e)
{
	if (tracks_cacheline(e))
		cacheline_remove(d, e->paddr >> CACHELINE_SHIFT);
	entry_del(d, e);
	free(e);
}

/* The unmap/free checks, in Linux's order (check_unmap). */
static void check_unmap(struct dma_debug *d, struct dma_debug_entry *ref)
{
	struct dma_debug_entry *e = find_exact(d, ref);
	struct device *dev = ref->dev;

	if (!e) {
		if (ref->dev_addr == DMA_MAPPING_ERROR)
			err_printk(d, dev, "check_unmap",
				   "device driver tries to free an invalid DMA memory address");
		else
			err_printk(d, dev, "check_unmap",
				   "device driver tries to free DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
				   (unsigned long long)ref->dev_addr,
				   (unsigned long long)ref->size);
		return;
	}
	if (ref->size != e->size)
		err_printk(d, dev, "check_unmap",
			   "device driver frees DMA memory with different size [device address=0x%016llx] [map size=%llu bytes] [unmap size=%llu bytes]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)e->size,
			   (unsigned long long)ref->size);
	if (ref->type != e->type)
		err_printk(d, dev, "check_unmap",
			   "device driver frees DMA memory with wrong function [device address=0x%016llx] [size=%llu bytes] [mapped as %s] [unmapped as %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)ref->size, type_name[e->type],
			   type_name[ref->type]);
	else if (e->type == dma_debug_coherent && ref->cpu_addr != e->cpu_addr)
		err_printk(d, dev, "check_unmap",
			   "device driver frees DMA memory with different CPU address [device address=0x%016llx] [size=%llu bytes] [cpu alloc address=0x%016llx] [cpu free address=0x%016llx]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)ref->size,
			   (unsigned long long)(uintptr_t)e->cpu_addr,
			   (unsigned long long)(uintptr_t)ref->cpu_addr);
	if (ref->sg_call_ents && ref->type == dma_debug_sg &&
	    ref->sg_call_ents != e->sg_call_ents)
		err_printk(d, dev, "check_unmap",
			   "device driver frees DMA sg list with different entry count [map count=%d] [unmap count=%d]",
			   e->sg_call_ents, ref->sg_call_ents);
	if (ref->direction != e->direction)
		err_printk(d, dev, "check_unmap",
			   "device driver frees DMA memory with different direction [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [unmapped with %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)ref->size, dir_name[e->direction],
			   dir_name[ref->direction]);
	if (e->map_err_type == MAP_ERR_NOT_CHECKED)
		err_printk(d, dev, "check_unmap",
			   "device driver failed to check map error[device address=0x%016llx] [size=%llu bytes] [mapped as %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)ref->size, type_name[e->type]);
	release(d, e);
}

void debug_dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry ref = { .dev = dev, .dev_addr = addr,
				       .size = size, .direction = dir,
				       .type = dma_debug_single };

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	check_unmap(d, &ref);
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_alloc_coherent(struct device *dev, size_t size,
			      dma_addr_t addr, void *virt)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry *e;

	if (!d || !virt)
		return;
	e = new_entry(dev, dma_debug_coherent, addr, size, DMA_BIDIRECTIONAL);
	if (!e)
		return;
	e->paddr = addr;
	e->cpu_addr = virt;
	pthread_mutex_lock(&d->lock);
	add_entry(d, e, 0);
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_free_coherent(struct device *dev, size_t size, void *virt,
			     dma_addr_t addr)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry ref = { .dev = dev, .dev_addr = addr,
				       .size = size,
				       .direction = DMA_BIDIRECTIONAL,
				       .type = dma_debug_coherent,
				       .cpu_addr = virt };

	if (!d || !virt)
		return;
	pthread_mutex_lock(&d->lock);
	check_unmap(d, &ref);
	pthread_mutex_unlock(&d->lock);
}

static void check_sync(struct dma_debug *d, struct dma_debug_entry *ref,
		       bool to_cpu)
{
	struct dma_debug_entry *e = find_containing(d, ref);
	struct device *dev = ref->dev;
	u64 end;

	if (!e) {
		err_printk(d, dev, "check_sync",
			   "device driver tries to sync DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)ref->size);
		return;
	}
	end = ref->dev_addr - e->dev_addr + ref->size;
	if (end > e->size)
		err_printk(d, dev, "check_sync",
			   "device driver syncs DMA memory outside allocated range [device address=0x%016llx] [allocation size=%llu bytes] [sync offset+size=%llu]",
			   (unsigned long long)e->dev_addr,
			   (unsigned long long)e->size, (unsigned long long)end);
	if (e->direction == DMA_BIDIRECTIONAL)
		return;
	if (ref->direction != e->direction)
		err_printk(d, dev, "check_sync",
			   "device driver syncs DMA memory with different direction [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)e->size, dir_name[e->direction],
			   dir_name[ref->direction]);
	if (to_cpu && e->direction != DMA_FROM_DEVICE &&
	    ref->direction != DMA_TO_DEVICE)
		err_printk(d, dev, "check_sync",
			   "device driver syncs device read-only DMA memory for cpu [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)e->size, dir_name[e->direction],
			   dir_name[ref->direction]);
	if (!to_cpu && e->direction != DMA_TO_DEVICE &&
	    ref->direction != DMA_FROM_DEVICE)
		err_printk(d, dev, "check_sync",
			   "device driver syncs device write-only DMA memory to device [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
			   (unsigned long long)ref->dev_addr,
			   (unsigned long long)e->size, dir_name[e->direction],
			   dir_name[ref->direction]);
	if (ref->sg_call_ents && ref->type == dma_debug_sg &&
	    ref->sg_call_ents != e->sg_call_ents)
		err_printk(d, dev, "check_sync",
			   "device driver syncs DMA sg list with different entry count [map count=%d] [sync count=%d]",
			   e->sg_call_ents, ref->sg_call_ents);
}

static void sync_common(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, bool to_cpu)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry ref = { .dev = dev, .dev_addr = addr,
				       .size = size, .direction = dir,
				       .type = dma_debug_single };

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	check_sync(d, &ref, to_cpu);
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir)
{
	sync_common(dev, addr, size, dir, true);
}

void debug_dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				      size_t size, enum dma_data_direction dir)
{
	sync_common(dev, addr, size, dir, false);
}

static void check_sg_segment(struct dma_debug *d, struct device *dev,
			     struct scatterlist *sg)
{
	unsigned int max = dma_get_max_seg_size(dev);
	u64 start = sg_dma_address(sg), end = start + sg_dma_len(sg) - 1;
	u64 boundary = dma_get_seg_boundary(dev);

	if (sg_dma_len(sg) > max)
		err_printk(d, dev, "check_sg_segment",
			   "mapping sg segment longer than device claims to support [len=%u] [max=%u]",
			   sg_dma_len(sg), max);
	if ((start ^ end) & ~boundary)
		err_printk(d, dev, "check_sg_segment",
			   "mapping sg segment across boundary [start=0x%016llx] [end=0x%016llx] [boundary=0x%016llx]",
			   (unsigned long long)start, (unsigned long long)end,
			   (unsigned long long)boundary);
}

void debug_dma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		      int mapped_ents, enum dma_data_direction dir,
		      unsigned long attrs)
{
	struct machine *m = (struct machine *)dev->machine;
	struct dma_debug *d = dbg_of(dev);
	struct scatterlist *s;
	int i;

	if (!d || mapped_ents <= 0)
		return;
	for_each_sg(sgl, s, mapped_ents, i) {
		struct dma_debug_entry *e = new_entry(dev, dma_debug_sg,
						      sg_dma_address(s),
						      sg_dma_len(s), dir);

		if (!e)
			return;
		e->paddr = ((phys_addr_t)(sg_page(s) - m->mm.mem_map)
			    << PAGE_SHIFT) + s->offset;
		e->sg_call_ents = nents;
		e->sg_mapped_ents = mapped_ents;
		e->map_err_type = MAP_ERR_CHECK_NOT_APPLICABLE;
		pthread_mutex_lock(&d->lock);
		check_sg_segment(d, dev, s);
		add_entry(d, e, attrs);
		pthread_mutex_unlock(&d->lock);
	}
}

/* How many segments the mapping of this list produced (0: unknown). */
static int mapped_ents(struct dma_debug *d, struct dma_debug_entry *ref)
{
	struct dma_debug_entry *e = find_exact(d, ref);

	return e ? e->sg_mapped_ents : 0;
}

void debug_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			int nelems, enum dma_data_direction dir)
{
	struct dma_debug *d = dbg_of(dev);
	struct scatterlist *s;
	int i, n = 0;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	for_each_sg(sgl, s, nelems, i) {
		struct dma_debug_entry ref = {
			.type = dma_debug_sg, .dev = dev,
			.dev_addr = sg_dma_address(s), .size = sg_dma_len(s),
			.direction = dir, .sg_call_ents = nelems,
		};

		if (i == 0)
			n = mapped_ents(d, &ref);
		if (i >= n)
			break;
		check_unmap(d, &ref);
	}
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_sync_sg(struct device *dev, struct scatterlist *sgl, int nelems,
		       enum dma_data_direction dir, bool to_cpu)
{
	struct dma_debug *d = dbg_of(dev);
	struct scatterlist *s;
	int i, n = 0;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	for_each_sg(sgl, s, nelems, i) {
		struct dma_debug_entry ref = {
			.type = dma_debug_sg, .dev = dev,
			.dev_addr = sg_dma_address(s), .size = sg_dma_len(s),
			.direction = dir, .sg_call_ents = nelems,
		};

		if (i == 0)
			n = mapped_ents(d, &ref);
		if (i >= n)
			break;
		check_sync(d, &ref, to_cpu);
	}
	pthread_mutex_unlock(&d->lock);
}

void debug_dma_driver_unbound(struct device *dev)
{
	struct dma_debug *d = dbg_of(dev);
	struct dma_debug_entry *first = NULL;
	int count = 0;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned int h = 0; h < HASH_SIZE; h++)
		for (struct dma_debug_entry *e = d->hash[h]; e; e = e->next)
			if (e->dev == dev && count++ == 0)
				first = e;
	if (first)
		err_printk(d, dev, "dma_debug_device_change",
			   "device driver has pending DMA allocations while released from device [count=%d]\n"
			   "One of leaked entries details: [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [mapped as %s]",
			   count, (unsigned long long)first->dev_addr,
			   (unsigned long long)first->size,
			   dir_name[first->direction], type_name[first->type]);
	/* the entries stay, as in Linux: the memory is still mapped */
	pthread_mutex_unlock(&d->lock);
}

unsigned long dma_debug_error_count(struct machine *m)
{
	return m->dma_debug ? m->dma_debug->error_count : 0;
}

void dma_debug_set_all_errors(struct machine *m, bool all)
{
	if (m->dma_debug)
		m->dma_debug->all_errors = all;
}

/* debugfs */
enum dfs { DFS_DISABLED, DFS_ERRORS, DFS_ALL, DFS_NUM, DFS_FREE, DFS_MINFREE,
	   DFS_TOTAL, DFS_FILTER, DFS_DUMP, DFS_NR };
static const char *const dfs_names[DFS_NR] = {
	"disabled", "error_count", "all_errors", "num_errors",
	"num_free_entries", "min_free_entries", "nr_total_entries",
	"driver_filter", "dump",
};

static void dump(struct dma_debug *d, struct strbuf *out)
{
	for (unsigned int h = 0; h < HASH_SIZE; h++)
		for (struct dma_debug_entry *e = d->hash[h]; e; e = e->next)
			strbuf_printf(out,
				      "%s %s %s idx %u P=%llx N=%llx D=%llx L=%llx cln=0x%016llx %s %s\n",
				      dev_driver_string(e->dev), dev_name(e->dev),
				      type_name[e->type], h,
				      (unsigned long long)e->paddr,
				      (unsigned long long)(e->paddr >> 12),
				      (unsigned long long)e->dev_addr,
				      (unsigned long long)e->size,
				      (unsigned long long)(e->paddr >> CACHELINE_SHIFT),
				      dir_name[e->direction],
				      maperr_name[e->map_err_type]);
}

static void show_dfs(struct machine *m, void *ctx, struct strbuf *out)
{
	struct dma_debug *d = m->dma_debug;
	enum dfs f = (enum dfs)((const char *const *)ctx - dfs_names);

	pthread_mutex_lock(&d->lock);
	switch (f) {
	case DFS_DISABLED: strbuf_printf(out, "%c\n", d->disabled ? 'Y' : 'N'); break;
	case DFS_ERRORS: strbuf_printf(out, "%lu\n", d->error_count); break;
	case DFS_ALL: strbuf_printf(out, "%u\n", d->all_errors); break;
	case DFS_NUM: strbuf_printf(out, "%u\n", d->num_errors); break;
	case DFS_FREE: strbuf_printf(out, "%lu\n", d->total - d->live); break;
	case DFS_MINFREE: strbuf_printf(out, "%lu\n", d->min_free); break;
	case DFS_TOTAL: strbuf_printf(out, "%lu\n", d->total); break;
	case DFS_FILTER: strbuf_putc(out, '\n'); break;
	case DFS_DUMP: dump(d, out); break;
	case DFS_NR: break;
	}
	pthread_mutex_unlock(&d->lock);
}

static unsigned long parse_entries(struct machine *m)
{
	const char *v = bootparam_get(m, "dma_debug_entries");
	char *end;
	unsigned long n;

	if (!v || !*v)
		return PREALLOC_DEFAULT;
	n = strtoul(v, &end, 0);
	return n ? n : PREALLOC_DEFAULT;
}

int dma_debug_init(struct machine *m)
{
	const char *off = bootparam_get(m, "dma_debug");
	struct dma_debug *d = calloc(1, sizeof(*d));
	int ret = 0;

	if (!d)
		return -ENOMEM;
	m->dma_debug = d;
	pthread_mutex_init(&d->lock, NULL);
	d->num_errors = 1;
	d->abort_on_error = m->cfg.dma_debug_abort;
	if (off && !strncmp(off, "off", 3)) {
		d->disabled = true;
		pr_info(m, PR_DMA_API "debugging disabled on kernel command line\n");
		return 0;
	}
	d->hash = calloc(HASH_SIZE, sizeof(*d->hash));
	d->cln = calloc(CLN_HASH, sizeof(*d->cln));
	if (!d->hash || !d->cln) {
		d->disabled = true;
		pr_err(m, PR_DMA_API "debugging out of memory error - disabled\n");
		return 0;
	}
	d->prealloc = d->total = d->min_free = parse_entries(m);
	m->dma_debug_on = true;
	pr_info(m, PR_DMA_API "preallocated %lu debug entries\n", d->prealloc);
	pr_info(m, PR_DMA_API "debugging enabled by kernel config\n");
	for (int i = 0; i < DFS_NR && !ret; i++) {
		char path[80];

		snprintf(path, sizeof(path), "/sys/kernel/debug/dma-api/%s",
			 dfs_names[i]);
		ret = vfs_add_file(&m->vfs, path, show_dfs,
				   (void *)&dfs_names[i]);
	}
	return ret;
}

void dma_debug_destroy(struct machine *m)
{
	struct dma_debug *d = m->dma_debug;

	if (!d)
		return;
	for (unsigned int h = 0; d->hash && h < HASH_SIZE; h++)
		for (struct dma_debug_entry *e = d->hash[h], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	for (unsigned int h = 0; d->cln && h < CLN_HASH; h++)
		for (struct cln_node *c = d->cln[h], *n; c; c = n) {
			n = c->next;
			free(c);
		}
	free(d->hash);
	free(d->cln);
	pthread_mutex_destroy(&d->lock);
	free(d);
	m->dma_debug = NULL;
	m->dma_debug_on = false;
}
