/*
 * The DMA API entry points and the direct path (kernel/dma/mapping.c and
 * direct.c in Linux): bus address = physical address, masks checked as
 * dma_capable() does, coherent memory from the zone the coherent mask
 * allows, and on a non-coherent platform the cache operations arm64
 * performs since 5.19: clean for the device in every direction,
 * invalidate for the CPU unless the device only read.
 */
#include "dmasim/linux/dma-mapping.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "hw/cache.h"
#include "kernel/dma/debug.h"
#include "kernel/dma/direct.h"
#include "kernel/dma/ops.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"

#define ZONE_DMA_BITS 24

static struct machine *dev_machine(struct device *dev)
{
	return (struct machine *)dev->machine;
}

u64 dma_get_mask(struct device *dev)
{
	return dev->dma_mask && *dev->dma_mask ? *dev->dma_mask
					       : DMA_BIT_MASK(32);
}

/* dma_direct_supported(): 32 bits and up always; smaller masks only if
 * they reach the top of ZONE_DMA (or all of RAM). */
static bool dma_supported(struct device *dev, u64 mask)
{
	struct machine *m = dev_machine(dev);
	u64 min_mask = DMA_BIT_MASK(ZONE_DMA_BITS);
	u64 ram_top = ((u64)m->mm.max_pfn - 1) << PAGE_SHIFT;

	if (mask >= DMA_BIT_MASK(32))
		return true;
	if (ram_top < min_mask)
		min_mask = ram_top;
	return mask >= min_mask;
}

u64 dma_get_required_mask(struct device *dev)
{
	struct machine *m = dev_machine(dev);
	u64 top = ((u64)m->mm.max_pfn - 1) << PAGE_SHIFT, mask = 1;

	if (get_dma_ops(dev) && get_dma_ops(dev)->get_required_mask)
		return get_dma_ops(dev)->get_required_mask(dev);
	while (mask <= top / 2)
		mask <<= 1;
	return mask * 2 - 1;
}

bool dma_addressing_limited(struct device *dev)
{
	u64 limit = dma_get_mask(dev);

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	return limit < dma_get_required_mask(dev);
}

size_t dma_max_mapping_size(struct device *dev)
{
	struct machine *m = dev_machine(dev);

	if (get_dma_ops(dev) && get_dma_ops(dev)->max_mapping_size)
		return get_dma_ops(dev)->max_mapping_size(dev);
	if (m->swiotlb && (swiotlb_force_bounce(m) || dma_addressing_limited(dev)))
		return swiotlb_max_mapping_size(dev);
	return SIZE_MAX;
}

bool dma_need_sync(struct device *dev, dma_addr_t addr)
{
	return !dev_machine(dev)->ram.coherent ||
	       is_swiotlb_buffer(dev_machine(dev), addr);
}

unsigned int dma_get_max_seg_size(struct device *dev)
{
	if (dev->dma_parms && dev->dma_parms->max_segment_size)
		return dev->dma_parms->max_segment_size;
	return 65536;
}

int dma_set_max_seg_size(struct device *dev, unsigned int size)
{
	if (!dev->dma_parms)
		return -EIO;
	dev->dma_parms->max_segment_size = size;
	return 0;
}

unsigned long dma_get_seg_boundary(struct device *dev)
{
	if (dev->dma_parms && dev->dma_parms->segment_boundary_mask)
		return dev->dma_parms->segment_boundary_mask;
	return ~0UL;
}

int dma_set_seg_boundary(struct device *dev, unsigned long mask)
{
	if (!dev->dma_parms)
		return -EIO;
	dev->dma_parms->segment_boundary_mask = mask;
	return 0;
}

int dma_set_mask(struct device *dev, u64 mask)
{
	if (!dev->dma_mask || !dma_supported(dev, mask))
		return -EIO;
	*dev->dma_mask = mask;
	return 0;
}

int dma_set_coherent_mask(struct device *dev, u64 mask)
{
	if (!dma_supported(dev, mask))
		return -EIO;
	dev->coherent_dma_mask = mask;
	return 0;
}

int dma_set_mask_and_coherent(struct device *dev, u64 mask)
{
	int ret = dma_set_mask(dev, mask);

	if (ret == 0)
		dma_set_coherent_mask(dev, mask);
	return ret;
}

static bool dma_capable(struct device *dev, dma_addr_t addr, size_t size)
{
	u64 limit = dma_get_mask(dev);

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	return size && addr + size - 1 <= limit && addr + size - 1 >= addr;
}

static gfp_t zone_for_mask(u64 mask)
{
	if (mask <= DMA_BIT_MASK(ZONE_DMA_BITS))
		return GFP_DMA;
	if (mask <= DMA_BIT_MASK(32))
		return GFP_DMA32;
	return 0;
}

void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *handle,
		      gfp_t gfp, unsigned long attrs)
{
	struct machine *m = dev_machine(dev);
	u64 mask = dev->coherent_dma_mask;
	int order = get_order(size);
	struct page *page = NULL;
	phys_addr_t phys;

	*handle = DMA_MAPPING_ERROR;
	if (!size)
		return NULL;
	if (get_dma_ops(dev)) {
		void *v = get_dma_ops(dev)->alloc(dev, size, handle, gfp, attrs);

		if (v && m->dma_debug_on)
			debug_dma_alloc_coherent(dev, size, *handle, v);
		return v;
	}
	gfp &= ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
	gfp |= zone_for_mask(mask) | __GFP_ZERO;
	for (;;) {
		page = mm_alloc_pages(m, gfp, (unsigned)order);
		if (!page)
			return NULL;
		phys = (phys_addr_t)(page - m->mm.mem_map) << PAGE_SHIFT;
		if (phys + (PAGE_SIZE << order) - 1 <= mask)
			break;
		mm_free_pages(m, page, (unsigned)order);
		if (gfp & __GFP_DMA)
			return NULL;
		gfp = (gfp & ~__GFP_DMA32) |
		      ((gfp & __GFP_DMA32) ? __GFP_DMA : __GFP_DMA32);
	}
	*handle = phys;
	if (m->ram.coherent) {
		debug_dma_alloc_coherent(dev, size, phys, m->ram.cpu + phys);
		return m->ram.cpu + phys;
	}
	/* non-coherent: the buffer is mapped uncached, i.e. the CPU uses RAM
	 * directly; no line of it may linger in the cache */
	cache_clean(&m->ram, phys, PAGE_SIZE << order);
	cache_invalidate(&m->ram, phys, PAGE_SIZE << order);
	debug_dma_alloc_coherent(dev, size, phys, m->ram.mem + phys);
	return m->ram.mem + phys;
}

void dma_free_attrs(struct device *dev, size_t size, void *vaddr,
		    dma_addr_t handle, unsigned long attrs)
{
	struct machine *m = dev_machine(dev);
	int order = get_order(size);

	if (!vaddr)
		return;
	debug_dma_free_coherent(dev, size, vaddr, handle);
	if (get_dma_ops(dev)) {
		get_dma_ops(dev)->free(dev, size, vaddr, handle, attrs);
		return;
	}
	if (!m->ram.coherent)
		cache_invalidate(&m->ram, handle, PAGE_SIZE << order);
	mm_free_pages(m, &m->mm.mem_map[handle >> PAGE_SHIFT],
		      (unsigned)order);
}

static void sync_for_device(struct machine *m, phys_addr_t phys, size_t size)
{
	if (!m->ram.coherent)
		cache_clean(&m->ram, phys, size);
}

static void sync_for_cpu(struct machine *m, phys_addr_t phys, size_t size,
			 enum dma_data_direction dir)
{
	if (dir != DMA_TO_DEVICE && !m->ram.coherent)
		cache_invalidate(&m->ram, phys, size);
}

static void overflow_warn(struct device *dev, const char *what,
			  dma_addr_t addr, size_t size)
{
	dev_warn(dev, "%s 0x%016llx+%zu overflow (mask %llx, bus limit %llx).\n",
		 what, (unsigned long long)addr, size,
		 (unsigned long long)dma_get_mask(dev),
		 (unsigned long long)dev->bus_dma_limit);
}

/* Bounce through swiotlb; the pool address must suit the device too. */
static dma_addr_t map_bounced(struct device *dev, phys_addr_t phys,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct machine *m = dev_machine(dev);
	phys_addr_t tlb = swiotlb_tbl_map_single(dev, phys, size, size, dir,
						 attrs);

	if (tlb == DMA_MAPPING_ERROR)
		return DMA_MAPPING_ERROR;
	if (!dma_capable(dev, tlb, size)) {
		swiotlb_tbl_unmap_single(dev, tlb, size, dir,
					 attrs | DMA_ATTR_SKIP_CPU_SYNC);
		overflow_warn(dev, "swiotlb addr", tlb, size);
		return DMA_MAPPING_ERROR;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		sync_for_device(m, tlb, size);
	return tlb;
}

static dma_addr_t direct_map(struct device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs)
{
	struct machine *m = dev_machine(dev);

	if (m->swiotlb && swiotlb_force_bounce(m))
		return map_bounced(dev, phys, size, dir, attrs);
	if (!dma_capable(dev, phys, size)) {
		if (m->swiotlb)
			return map_bounced(dev, phys, size, dir, attrs);
		if (!(attrs & DMA_ATTR_NO_WARN))
			overflow_warn(dev, "DMA addr", phys, size);
		return DMA_MAPPING_ERROR;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		sync_for_device(m, phys, size);
	return phys;
}

dma_addr_t dma_map_page_nodebug(struct device *dev, struct page *page,
				size_t offset, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs)
{
	struct machine *m = dev_machine(dev);

	if (!valid_dma_direction(dir) || !dev->dma_mask || !page)
		return DMA_MAPPING_ERROR;
	if (get_dma_ops(dev))
		return get_dma_ops(dev)->map_page(dev, page, offset, size, dir,
						  attrs);
	return direct_map(dev, ((phys_addr_t)(page - m->mm.mem_map) << PAGE_SHIFT) +
				       offset, size, dir, attrs);
}

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	struct machine *m = dev_machine(dev);
	dma_addr_t addr = dma_map_page_nodebug(dev, page, offset, size, dir,
					       attrs);

	if (page && m->dma_debug_on)
		debug_dma_map_page(dev, ((phys_addr_t)(page - m->mm.mem_map)
					 << PAGE_SHIFT) + offset,
				   size, dir, addr, attrs);
	return addr;
}

dma_addr_t dma_map_single_attrs(struct device *dev, void *ptr, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs)
{
	struct machine *m = dev_machine(dev);
	phys_addr_t phys;

	if ((m->dma_debug_on && !debug_dma_map_single(dev, ptr, size)) || !ptr ||
	    (uint8_t *)ptr < m->ram.cpu ||
	    (uint8_t *)ptr >= m->ram.cpu + m->ram.span)
		return DMA_MAPPING_ERROR;
	phys = (phys_addr_t)((uint8_t *)ptr - m->ram.cpu);
	return dma_map_page_attrs(dev, &m->mm.mem_map[phys >> PAGE_SHIFT],
				  phys & (PAGE_SIZE - 1), size, dir, attrs);
}

void dma_unmap_page_nodebug(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	struct machine *m = dev_machine(dev);

	if (!valid_dma_direction(dir) || addr == DMA_MAPPING_ERROR)
		return;
	if (get_dma_ops(dev)) {
		get_dma_ops(dev)->unmap_page(dev, addr, size, dir, attrs);
		return;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		sync_for_cpu(m, addr, size, dir);
	if (m->swiotlb && is_swiotlb_buffer(m, addr))
		swiotlb_tbl_unmap_single(dev, addr, size, dir, attrs);
}

void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs)
{
	if (dev_machine(dev)->dma_debug_on)
		debug_dma_unmap_page(dev, addr, size, dir);
	dma_unmap_page_nodebug(dev, addr, size, dir, attrs);
}

/* For the CPU: cache first, then swiotlb's copy back; for the device:
 * swiotlb's copy in, then the cache. */
void dma_sync_single_nodebug(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, bool to_cpu)
{
	struct machine *m = dev_machine(dev);

	if (!valid_dma_direction(dir))
		return;
	if (get_dma_ops(dev)) {
		if (to_cpu)
			get_dma_ops(dev)->sync_single_for_cpu(dev, addr, size, dir);
		else
			get_dma_ops(dev)->sync_single_for_device(dev, addr, size,
								 dir);
		return;
	}
	if (to_cpu) {
		sync_for_cpu(m, addr, size, dir);
		if (is_swiotlb_buffer(m, addr))
			swiotlb_sync_single_for_cpu(dev, addr, size, dir);
	} else {
		if (is_swiotlb_buffer(m, addr))
			swiotlb_sync_single_for_device(dev, addr, size, dir);
		sync_for_device(m, addr, size);
	}
}

void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir)
{
	if (valid_dma_direction(dir))
		debug_dma_sync_single_for_cpu(dev, addr, size, dir);
	dma_sync_single_nodebug(dev, addr, size, dir, true);
}

void dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir)
{
	if (valid_dma_direction(dir))
		debug_dma_sync_single_for_device(dev, addr, size, dir);
	dma_sync_single_nodebug(dev, addr, size, dir, false);
}

int dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	if (dev_machine(dev)->dma_debug_on)
		debug_dma_mapping_error(dev, addr);
	return addr == DMA_MAPPING_ERROR ? -ENOMEM : 0;
}
