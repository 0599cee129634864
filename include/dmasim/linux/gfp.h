/*
 * GFP flags with Linux 6.1's bit values, and the page allocator's API.
 * GFP_KERNEL is 0xcc0 as on Linux, so "mode:0xcc0(GFP_KERNEL)" reads the same.
 */
#ifndef DMASIM_LINUX_GFP_H
#define DMASIM_LINUX_GFP_H

#include "types.h"

#define ___GFP_DMA	      0x01u
#define ___GFP_HIGHMEM	      0x02u
#define ___GFP_DMA32	      0x04u
#define ___GFP_MOVABLE	      0x08u
#define ___GFP_RECLAIMABLE    0x10u
#define ___GFP_HIGH	      0x20u
#define ___GFP_IO	      0x40u
#define ___GFP_FS	      0x80u
#define ___GFP_ZERO	      0x100u
#define ___GFP_ATOMIC	      0x200u
#define ___GFP_DIRECT_RECLAIM 0x400u
#define ___GFP_KSWAPD_RECLAIM 0x800u
#define ___GFP_WRITE	      0x1000u
#define ___GFP_NOWARN	      0x2000u
#define ___GFP_RETRY_MAYFAIL  0x4000u
#define ___GFP_NOFAIL	      0x8000u
#define ___GFP_NORETRY	      0x10000u
#define ___GFP_MEMALLOC	      0x20000u
#define ___GFP_COMP	      0x40000u
#define ___GFP_NOMEMALLOC     0x80000u
#define ___GFP_HARDWALL	      0x100000u
#define ___GFP_THISNODE	      0x200000u
#define ___GFP_ACCOUNT	      0x400000u

#define __GFP_DMA	     ___GFP_DMA
#define __GFP_HIGHMEM	     ___GFP_HIGHMEM
#define __GFP_DMA32	     ___GFP_DMA32
#define __GFP_MOVABLE	     ___GFP_MOVABLE
#define __GFP_RECLAIMABLE    ___GFP_RECLAIMABLE
#define __GFP_HIGH	     ___GFP_HIGH
#define __GFP_IO	     ___GFP_IO
#define __GFP_FS	     ___GFP_FS
#define __GFP_ZERO	     ___GFP_ZERO
#define __GFP_ATOMIC	     ___GFP_ATOMIC
#define __GFP_DIRECT_RECLAIM ___GFP_DIRECT_RECLAIM
#define __GFP_KSWAPD_RECLAIM ___GFP_KSWAPD_RECLAIM
#define __GFP_RECLAIM	     (___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM)
#define __GFP_WRITE	     ___GFP_WRITE
#define __GFP_NOWARN	     ___GFP_NOWARN
#define __GFP_RETRY_MAYFAIL  ___GFP_RETRY_MAYFAIL
#define __GFP_NOFAIL	     ___GFP_NOFAIL
#define __GFP_NORETRY	     ___GFP_NORETRY
#define __GFP_MEMALLOC	     ___GFP_MEMALLOC
#define __GFP_COMP	     ___GFP_COMP
#define __GFP_NOMEMALLOC     ___GFP_NOMEMALLOC
#define __GFP_HARDWALL	     ___GFP_HARDWALL
#define __GFP_THISNODE	     ___GFP_THISNODE
#define __GFP_ACCOUNT	     ___GFP_ACCOUNT

#define GFP_ATOMIC	  (__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL	  (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT	  (__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO	  (__GFP_RECLAIM)
#define GFP_NOFS	  (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER	  (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA		  __GFP_DMA
#define GFP_DMA32	  __GFP_DMA32
#define GFP_HIGHUSER	  (GFP_USER | __GFP_HIGHMEM)

#define MAX_ORDER 11 /* orders 0..10, as Linux 6.1 (exclusive bound) */

struct page;

struct page *alloc_pages(gfp_t gfp, unsigned int order);
struct page *alloc_page(gfp_t gfp);
void __free_pages(struct page *page, unsigned int order);
void __free_page(struct page *page);
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
unsigned long get_zeroed_page(gfp_t gfp);
void free_pages(unsigned long addr, unsigned int order);
void free_page(unsigned long addr);

#endif
