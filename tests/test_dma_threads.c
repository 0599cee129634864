/*
 * The DMA API from several threads at once (also run under
 * ThreadSanitizer): streaming maps on the direct path and through
 * swiotlb, scatter-gather, coherent allocations and pools, with DMA-API
 * debugging on. Each worker checks its own data and counts problems; the
 * main thread asserts after joining (cmocka asserts only there).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmapool.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "dmasim/linux/scatterlist.h"
#include "helpers.h"

#define NTHREADS 3
#define ROUNDS	 300

struct worker {
	struct dmasim_machine *m;
	struct device *dev;
	struct dma_pool *pool;
	int id;
	long bad;
};

/* A FROM_DEVICE round trip: the "device" writes through the bus. */
static void single_round(struct worker *w, unsigned char *buf, size_t len,
			 unsigned char tag)
{
	unsigned char msg[64];
	dma_addr_t a = dma_map_single(w->dev, buf, len, DMA_FROM_DEVICE);

	if (dma_mapping_error(w->dev, a)) {
		w->bad++;
		return;
	}
	memset(msg, tag, sizeof(msg));
	/* the device writes at its DMA address (an IOVA under the IOMMU) */
	if (dmasim_bus_write(w->m, "0000:00:01.0", a + len - sizeof(msg), msg,
			     sizeof(msg)))
		w->bad++;
	dma_unmap_single(w->dev, a, len, DMA_FROM_DEVICE);
	if (buf[len - 1] != tag)
		w->bad++;
}

static void sg_round(struct worker *w, unsigned char *buf)
{
	struct scatterlist sgl[2];

	sg_init_table(sgl, 2);
	sg_set_buf(&sgl[0], buf, 1000);
	sg_set_buf(&sgl[1], buf + 5000, 2000);
	if (dma_map_sg(w->dev, sgl, 2, DMA_TO_DEVICE) != 2) {
		w->bad++;
		return;
	}
	dma_unmap_sg(w->dev, sgl, 2, DMA_TO_DEVICE);
}

static void pool_round(struct worker *w)
{
	dma_addr_t h;
	unsigned char *v = dma_pool_zalloc(w->pool, GFP_KERNEL, &h);

	if (!v || v[0]) {
		w->bad++;
		return;
	}
	v[0] = (unsigned char)w->id;
	dma_pool_free(w->pool, v, h);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct page *hi, *lo;

	dmasim_enter(w->m);
	hi = alloc_pages(GFP_KERNEL, 1);	     /* above 4 GiB: bounced */
	lo = alloc_pages(GFP_KERNEL | GFP_DMA32, 1); /* direct */
	for (int r = 0; hi && lo && r < ROUNDS; r++) {
		unsigned char tag = (unsigned char)(w->id * 16 + r % 16 + 1);
		dma_addr_t h;
		void *c;

		single_round(w, page_address(hi), 4096 + (size_t)(r % 7) * 100,
			     tag);
		single_round(w, page_address(lo), 512, tag);
		sg_round(w, page_address(hi));
		pool_round(w);
		c = dma_alloc_coherent(w->dev, 4096, &h, GFP_KERNEL);
		if (!c)
			w->bad++;
		dma_free_coherent(w->dev, 4096, c, h);
	}
	if (!hi || !lo)
		w->bad++;
	__free_pages(hi, 1);
	__free_pages(lo, 1);
	dmasim_enter(NULL);
	return NULL;
}

static void run_concurrent(const char *cmdline)
{
	struct dmasim_machine *m = test_boot(GiB(8), cmdline);
	struct device *dev = dmasim_pci_device(m, "0000:00:01.0");
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct dma_pool *pool;
	char *used;

	assert_non_null(dev);
	pci_set_master(to_pci_dev(dev));
	pool = dma_pool_create("threads", dev, 64, 64, 0);
	assert_non_null(pool);
	dmasim_enter(NULL);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .m = m, .dev = dev, .pool = pool,
					.id = i };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	dmasim_enter(m);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(w[i].bad, 0);
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	used = test_read(m, "/sys/kernel/debug/swiotlb/io_tlb_used");
	assert_string_equal(used, "0\n");
	free(used);
	dma_pool_destroy(pool);
	dmasim_machine_destroy(m);
}

static void test_concurrent_mappings(void **state)
{
	(void)state;
	run_concurrent("swiotlb=2048,4");
}

/* The same through VT-d: IOVAs, page tables and the flush queue shared
 * by three CPUs. */
static void test_concurrent_mappings_iommu(void **state)
{
	(void)state;
	run_concurrent("swiotlb=2048,4 intel_iommu=on");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_mappings),
		cmocka_unit_test(test_concurrent_mappings_iommu),
	};

	return cmocka_run_group_tests_name("dma_threads", tests, NULL, NULL);
}
