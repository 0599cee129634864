/* Pages and addresses: struct page, page_address and the direct map. */
#ifndef DMASIM_LINUX_MM_H
#define DMASIM_LINUX_MM_H

#include "gfp.h"
#include "types.h"

void *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
unsigned long page_to_pfn(const struct page *page);
struct page *pfn_to_page(unsigned long pfn);
phys_addr_t page_to_phys(const struct page *page);
phys_addr_t virt_to_phys(const volatile void *addr);
void *phys_to_virt(phys_addr_t phys);
/* Is @addr in the kernel's linear map of RAM (what DMA may map)? */
bool virt_addr_valid(const volatile void *addr);
/* Smallest order whose block holds @size bytes (get_order(4096) == 0). */
int get_order(unsigned long size);

#endif
