/*
 * Shared helpers for the dmac tests: a machine with one dmac (threaded or
 * inline), buffers in its RAM with their bus addresses, and waiting for
 * cookies. Only the main thread asserts.
 */
#ifndef DMASIM_TESTS_DMAC_UTIL_H
#define DMASIM_TESTS_DMAC_UTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/hw/dmac.h"
#include "dmasim/linux/completion.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmaengine.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"

/* An address no RAM answers (the PCI hole) and the end of low RAM. */
#define BAD_ADDR   0xd0000000ULL
#define LOW_RAM_END 0xa0000ULL

struct dbuf {
	u8 *cpu;
	dma_addr_t dma;
	size_t len;
	unsigned int order;
};

/* Boot a 512 MiB machine with only "dmac,<opts>" (no default devices). */
static inline struct dmasim_machine *dmac_boot(const char *opts, bool inl)
{
	static char spec[256];
	const char *specs[1] = { spec };
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";
	int ret;

	snprintf(spec, sizeof(spec), "dmac,id=dmac0,addr=02.0%s%s",
		 opts && *opts ? "," : "", opts ? opts : "");
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 4;
	cfg.devices = specs;
	cfg.nr_devices = 1;
	cfg.nodefaults = true;
	cfg.inline_devices = inl;
	ret = dmasim_machine_create(&cfg, &m, err, sizeof(err));
	if (ret)
		print_error("boot failed: %d %s\n", ret, err);
	assert_int_equal(ret, 0);
	return m;
}

static inline struct dma_chan *memcpy_chan(void)
{
	dma_cap_mask_t mask;
	struct dma_chan *chan;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	assert_false(IS_ERR_OR_NULL(chan));
	return chan;
}

static inline struct device *chan_device(struct dma_chan *chan)
{
	return chan->device->dev;
}

static inline struct dbuf dbuf_alloc(struct device *dev, size_t len, u8 fill)
{
	struct dbuf b = { .len = len };
	struct page *p;

	b.order = (unsigned int)get_order(len);
	p = alloc_pages(GFP_KERNEL, b.order);
	assert_non_null(p);
	b.cpu = page_address(p);
	memset(b.cpu, fill, PAGE_SIZE << b.order);
	b.dma = dma_map_single(dev, b.cpu, len, DMA_BIDIRECTIONAL);
	assert_false(dma_mapping_error(dev, b.dma));
	return b;
}

static inline void dbuf_free(struct device *dev, struct dbuf *b)
{
	dma_unmap_single(dev, b->dma, b->len, DMA_BIDIRECTIONAL);
	free_pages((unsigned long)b->cpu, b->order);
	b->cpu = NULL;
}

static inline void fill_random(u8 *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (u8)(seed >> 16);
	}
}

static inline dma_cookie_t copy_submit(struct dma_chan *chan, dma_addr_t dst,
				       dma_addr_t src, size_t len,
				       unsigned long flags)
{
	struct dma_async_tx_descriptor *tx =
		dmaengine_prep_dma_memcpy(chan, dst, src, len, flags);
	dma_cookie_t c;

	assert_non_null(tx);
	c = dmaengine_submit(tx);
	assert_true(c >= DMA_MIN_COOKIE);
	return c;
}

static inline void check_balanced(struct dma_chan *chan)
{
	struct dmaengine_chan_stats s;

	assert_int_equal(dmaengine_get_stats(chan, &s), 0);
	assert_int_equal(s.completed, s.submitted);
}

#endif
