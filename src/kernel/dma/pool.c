/*
 * DMA pools (mm/dmapool.c in Linux 6.1): a pool rounds its block size up
 * to the alignment (at least 4 bytes), takes coherent memory a page (or
 * one block, if larger) at a time, and lays blocks out so none crosses
 * the boundary. Freeing checks that the block belongs to the pool and is
 * not already free, with Linux's messages; destroying a pool with blocks
 * still in use says so. /sys/bus/pci/devices/.../pools lists them.
 */
#include "dmasim/linux/dmapool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "kernel/dma/pool.h"
#include "kernel/machine.h"

struct pool_page {
	struct pool_page *next;
	void *vaddr;
	dma_addr_t dma;
	unsigned int in_use;
	unsigned char *used; /* one byte per block */
};

struct dma_pool {
	char name[32];
	struct device *dev;
	size_t size, allocation, boundary;
	unsigned int blocks_per_page;
	unsigned int *offsets; /* block offsets in a page */
	struct pool_page *pages;
	pthread_mutex_t lock;
	struct dma_pool *next; /* the device's pools */
};

static struct dma_pools *pools_of(struct device *dev)
{
	return &((struct machine *)dev->machine)->dma_pools;
}

static int layout(struct dma_pool *p)
{
	size_t off = 0, next_boundary = p->boundary, n = 0;

	p->offsets = malloc(sizeof(*p->offsets) * (p->allocation / p->size + 1));
	if (!p->offsets)
		return -ENOMEM;
	while (off + p->size <= p->allocation) {
		if (off + p->size > next_boundary) {
			off = next_boundary;
			next_boundary += p->boundary;
			continue;
		}
		p->offsets[n++] = (unsigned)off;
		off += p->size;
	}
	p->blocks_per_page = (unsigned)n;
	return 0;
}

struct dma_pool *dma_pool_create(const char *name, struct device *dev,
				 size_t size, size_t align, size_t boundary)
{
	struct dma_pool *p;
	struct dma_pools *all;

	if (align == 0)
		align = 1;
	else if (align & (align - 1))
		return NULL;
	if (size == 0 || size > INT32_MAX || !dev)
		return NULL;
	if (size < 4)
		size = 4;
	size = (size + align - 1) & ~(align - 1);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->allocation = size > PAGE_SIZE ? size : PAGE_SIZE;
	if (!boundary)
		boundary = p->allocation;
	else if (boundary < size || (boundary & (boundary - 1))) {
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	p->dev = dev;
	p->size = size;
	p->boundary = boundary;
	if (layout(p)) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	all = pools_of(dev);
	pthread_mutex_lock(&all->lock);
	p->next = all->list;
	all->list = p;
	pthread_mutex_unlock(&all->lock);
	return p;
}

static struct pool_page *page_new(struct dma_pool *p, gfp_t gfp)
{
	struct pool_page *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return NULL;
	pg->used = calloc(p->blocks_per_page, 1);
	pg->vaddr = dma_alloc_coherent(p->dev, p->allocation, &pg->dma, gfp);
	if (!pg->used || !pg->vaddr) {
		free(pg->used);
		free(pg);
		return NULL;
	}
	pg->next = p->pages;
	p->pages = pg;
	return pg;
}

void *dma_pool_alloc(struct dma_pool *p, gfp_t gfp, dma_addr_t *handle)
{
	struct pool_page *pg;
	void *v = NULL;

	pthread_mutex_lock(&p->lock);
	for (pg = p->pages; pg && pg->in_use == p->blocks_per_page; pg = pg->next)
		;
	if (!pg)
		pg = page_new(p, gfp & ~__GFP_ZERO);
	for (unsigned int i = 0; pg && i < p->blocks_per_page; i++) {
		if (pg->used[i])
			continue;
		pg->used[i] = 1;
		pg->in_use++;
		v = (char *)pg->vaddr + p->offsets[i];
		*handle = pg->dma + p->offsets[i];
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (v && (gfp & __GFP_ZERO))
		memset(v, 0, p->size);
	return v;
}

void *dma_pool_zalloc(struct dma_pool *p, gfp_t gfp, dma_addr_t *handle)
{
	return dma_pool_alloc(p, gfp | __GFP_ZERO, handle);
}

static int block_of(const struct dma_pool *p, const struct pool_page *pg,
		    const void *vaddr)
{
	size_t off = (size_t)((const char *)vaddr - (const char *)pg->vaddr);

	for (unsigned int i = 0; i < p->blocks_per_page; i++)
		if (p->offsets[i] == off)
			return (int)i;
	return -1;
}

void dma_pool_free(struct dma_pool *p, void *vaddr, dma_addr_t dma)
{
	struct pool_page *pg;
	int i;

	pthread_mutex_lock(&p->lock);
	for (pg = p->pages; pg; pg = pg->next)
		if (dma >= pg->dma && dma < pg->dma + p->allocation)
			break;
	if (!pg) {
		pthread_mutex_unlock(&p->lock);
		dev_err(p->dev, "dma_pool_free %s, %p/0x%016llx (bad dma)\n",
			p->name, vaddr, (unsigned long long)dma);
		return;
	}
	if ((char *)vaddr - (char *)pg->vaddr != (long)(dma - pg->dma) ||
	    (i = block_of(p, pg, vaddr)) < 0) {
		pthread_mutex_unlock(&p->lock);
		dev_err(p->dev, "dma_pool_free %s, %p (bad vaddr)/0x%016llx\n",
			p->name, vaddr, (unsigned long long)dma);
		return;
	}
	if (!pg->used[i]) {
		pthread_mutex_unlock(&p->lock);
		dev_err(p->dev, "dma_pool_free %s, dma 0x%016llx already free\n",
			p->name, (unsigned long long)dma);
		return;
	}
	pg->used[i] = 0;
	pg->in_use--;
	pthread_mutex_unlock(&p->lock);
}

static void unlink_pool(struct dma_pool *p)
{
	struct dma_pools *all = pools_of(p->dev);
	struct dma_pool **pp;

	pthread_mutex_lock(&all->lock);
	for (pp = &all->list; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	pthread_mutex_unlock(&all->lock);
}

void dma_pool_destroy(struct dma_pool *p)
{
	struct pool_page *pg, *next;

	if (!p)
		return;
	unlink_pool(p);
	for (pg = p->pages; pg; pg = next) {
		next = pg->next;
		if (pg->in_use) {
			/* busy: Linux leaks the page rather than free it
			 * under a device that may still use it */
			dev_err(p->dev, "dma_pool_destroy %s, %p busy\n",
				p->name, pg->vaddr);
		} else {
			dma_free_coherent(p->dev, p->allocation, pg->vaddr,
					  pg->dma);
		}
		free(pg->used);
		free(pg);
	}
	pthread_mutex_destroy(&p->lock);
	free(p->offsets);
	free(p);
}

/* The "pools" attribute: "poolinfo - 0.1" then one line per pool. */
void dma_pools_show(struct machine *m, struct device *dev, struct strbuf *out)
{
	struct dma_pools *all = &m->dma_pools;

	strbuf_puts(out, "poolinfo - 0.1\n");
	pthread_mutex_lock(&all->lock);
	for (struct dma_pool *p = all->list; p; p = p->next) {
		unsigned int pages = 0, blocks = 0;

		if (p->dev != dev)
			continue;
		pthread_mutex_lock(&p->lock);
		for (struct pool_page *pg = p->pages; pg; pg = pg->next) {
			pages++;
			blocks += pg->in_use;
		}
		pthread_mutex_unlock(&p->lock);
		strbuf_printf(out, "%-16s %4u %4zu %4zu %2u\n", p->name, blocks,
			      (size_t)pages * p->blocks_per_page, p->size,
			      pages);
	}
	pthread_mutex_unlock(&all->lock);
}

void dma_pools_init(struct machine *m)
{
	pthread_mutex_init(&m->dma_pools.lock, NULL);
}

void dma_pools_destroy(struct machine *m)
{
	pthread_mutex_destroy(&m->dma_pools.lock);
}
