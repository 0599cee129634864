/*
 * The Linux-named page API (linux/gfp.h, linux/mm.h) on the machine the
 * calling thread is in (dmasim_enter). Outside any machine the calls fail
 * as an allocation failure would (NULL / 0) and say why on stderr.
 */
#include <stdio.h>

#include "dmasim/linux/mm.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"

static struct machine *need_machine(const char *fn)
{
	struct machine *m = current_machine();

	if (!m)
		fprintf(stderr,
			"dmasim: %s() called by a thread outside any machine (see dmasim_enter)\n",
			fn);
	return m;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	struct machine *m = need_machine(__func__);

	return m ? mm_alloc_pages(m, gfp, order) : NULL;
}

struct page *alloc_page(gfp_t gfp)
{
	return alloc_pages(gfp, 0);
}

void __free_pages(struct page *page, unsigned int order)
{
	struct machine *m;

	if (!page)
		return;
	m = need_machine(__func__);
	if (m)
		mm_free_pages(m, page, order);
}

void __free_page(struct page *page)
{
	__free_pages(page, 0);
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp & ~__GFP_HIGHMEM, order);

	return page ? (unsigned long)page_address(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp)
{
	return __get_free_pages(gfp | __GFP_ZERO, 0);
}

void free_pages(unsigned long addr, unsigned int order)
{
	if (addr)
		__free_pages(virt_to_page((const void *)addr), order);
}

void free_page(unsigned long addr)
{
	free_pages(addr, 0);
}

unsigned long page_to_pfn(const struct page *page)
{
	struct machine *m = current_machine();

	return m ? (unsigned long)(page - m->mm.mem_map) : 0;
}

struct page *pfn_to_page(unsigned long pfn)
{
	struct machine *m = current_machine();

	if (!m || pfn >= m->mm.max_pfn)
		return NULL;
	return &m->mm.mem_map[pfn];
}

phys_addr_t page_to_phys(const struct page *page)
{
	return (phys_addr_t)page_to_pfn(page) << PAGE_SHIFT;
}

void *page_address(const struct page *page)
{
	struct machine *m = need_machine(__func__);

	if (!m || !page || page < m->mm.mem_map ||
	    page >= m->mm.mem_map + m->mm.max_pfn)
		return NULL;
	return m->ram.cpu + ((uint64_t)(page - m->mm.mem_map) << PAGE_SHIFT);
}

phys_addr_t virt_to_phys(const volatile void *addr)
{
	struct machine *m = need_machine(__func__);

	const volatile uint8_t *a = addr;

	if (!m)
		return 0;
	/* a coherent buffer on a non-coherent platform is an uncached
	 * alias: RAM itself */
	if (m->ram.mem != m->ram.cpu && a >= m->ram.mem &&
	    a < m->ram.mem + m->ram.span)
		return (phys_addr_t)(a - m->ram.mem);
	return (phys_addr_t)(a - m->ram.cpu);
}

void *phys_to_virt(phys_addr_t phys)
{
	struct machine *m = need_machine(__func__);

	return m ? m->ram.cpu + phys : NULL;
}

struct page *virt_to_page(const void *addr)
{
	return pfn_to_page((unsigned long)(virt_to_phys(addr) >> PAGE_SHIFT));
}

int get_order(unsigned long size)
{
	int order = 0;

	size = (size - 1) >> PAGE_SHIFT;
	while (size) {
		order++;
		size >>= 1;
	}
	return order;
}

bool virt_addr_valid(const volatile void *addr)
{
	struct machine *m = current_machine();
	const volatile uint8_t *a = addr;

	return m && a >= m->ram.cpu && a < m->ram.cpu + m->ram.span &&
	       ram_contains(&m->ram, (uint64_t)(a - m->ram.cpu), 1);
}
