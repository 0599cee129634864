/*
 * Scatter-gather: tables, tables from pages (contiguous runs merged),
 * dma_map_sg's count and its 0 on error, dma_map_sgtable's error codes,
 * bouncing per entry with swiotlb, syncs, and the sg checks of DMA-API
 * debugging (entry counts, segment length and boundary, wrong function).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/scatterlist.h"
#include "helpers.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

#define PFX "DMA-API: pci 0000:00:01.0: "

static struct device *port(struct dmasim_machine *m)
{
	return &pci_get_by_name((struct machine *)m, "0000:00:01.0")->dev;
}


static void test_tables(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct page *four = alloc_pages(GFP_KERNEL, 2), *one = alloc_page(GFP_KERNEL);
	struct page *pages[5];
	struct sg_table t;
	struct scatterlist *sg;
	unsigned int i;

	(void)state;
	assert_int_equal(sg_alloc_table(&t, 0, GFP_KERNEL), -EINVAL);
	for (i = 0; i < 4; i++)
		pages[i] = pfn_to_page(page_to_pfn(four) + i);
	pages[4] = one;
	/* 100 bytes into the first page, all but the last 96 bytes */
	assert_int_equal(sg_alloc_table_from_pages(&t, pages, 5, 100,
						   5 * 4096 - 100 - 96,
						   GFP_KERNEL), 0);
	assert_int_equal(t.orig_nents, 2);
	assert_ptr_equal(sg_page(t.sgl), four);
	assert_int_equal(t.sgl[0].offset, 100);
	assert_int_equal(t.sgl[0].length, 4 * 4096 - 100);
	sg = sg_next(t.sgl);
	assert_ptr_equal(sg_page(sg), one);
	assert_int_equal(sg->offset, 0);
	assert_int_equal(sg->length, 4096 - 96);
	assert_null(sg_next(sg));
	assert_int_equal(sg_nents(t.sgl), 2);
	assert_ptr_equal(sg_last(t.sgl, 2), sg);
	sg_free_table(&t);
	assert_int_equal(sg_alloc_table_from_pages(&t, pages, 1, 0, 8192,
						   GFP_KERNEL), -EINVAL);
	__free_pages(four, 2);
	__free_page(one);
	dmasim_machine_destroy(m);
}

static void test_map_sg_direct(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	char *buf = page_address(pg);
	struct scatterlist sgl[3], *sg;
	int i, n;

	(void)state;
	sg_init_table(sgl, 3);
	sg_set_buf(&sgl[0], buf, 100);
	sg_set_buf(&sgl[1], buf + 5000, 3000);
	sg_set_buf(&sgl[2], buf + 12000, 4000);
	n = dma_map_sg(dev, sgl, 3, DMA_BIDIRECTIONAL);
	assert_int_equal(n, 3);
	for_each_sg(sgl, sg, n, i) {
		assert_int_equal(sg_dma_address(sg), virt_to_phys(sg_virt(sg)));
		assert_int_equal(sg_dma_len(sg), sg->length);
	}
	dma_sync_sg_for_cpu(dev, sgl, 3, DMA_BIDIRECTIONAL);
	dma_sync_sg_for_device(dev, sgl, 3, DMA_BIDIRECTIONAL);
	dma_unmap_sg(dev, sgl, 3, DMA_BIDIRECTIONAL);
	assert_int_equal(dma_map_sg(dev, sgl, 3, DMA_NONE), 0);
	assert_int_equal(dma_map_sg(dev, sgl, 0, DMA_TO_DEVICE), 0);
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	__free_pages(pg, 2);
	dmasim_machine_destroy(m);
}

/* An entry the device cannot reach: 0 from map_sg, -EIO from
 * map_sgtable, and the entries before it are unmapped. */
static void test_map_sg_failure(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(2), NULL);
	struct device *dev = port(m);
	struct page *lo = alloc_pages(GFP_KERNEL | GFP_DMA, 0), *hi;
	struct sg_table t;

	(void)state;
	do {
		hi = alloc_page(GFP_KERNEL);
	} while (page_to_phys(hi) < GiB(1));
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(30)), 0);
	assert_int_equal(sg_alloc_table(&t, 2, GFP_KERNEL), 0);
	sg_set_page(&t.sgl[0], lo, 4096, 0);
	sg_set_page(&t.sgl[1], hi, 4096, 0);
	assert_int_equal(dma_map_sg(dev, t.sgl, 2, DMA_TO_DEVICE), 0);
	assert_int_equal(dma_map_sgtable(dev, &t, DMA_TO_DEVICE, DMA_ATTR_NO_WARN),
			 -EIO);
	dma_set_mask(dev, DMA_BIT_MASK(32));
	assert_int_equal(dma_map_sgtable(dev, &t, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(t.nents, 2);
	dma_unmap_sgtable(dev, &t, DMA_TO_DEVICE, 0);
	/* nothing left mapped, nothing misused */
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	sg_free_table(&t);
	__free_page(lo);
	__free_page(hi);
	dmasim_machine_destroy(m);
}

/* With swiotlb, entries beyond the mask bounce one by one. */
static void test_sg_bounce(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);
	struct page *hi = alloc_pages(GFP_KERNEL, 1), *lo = alloc_pages(GFP_DMA32, 0);
	struct scatterlist sgl[2];
	char *h = page_address(hi);

	(void)state;
	memset(h, 'h', 8192);
	sg_init_table(sgl, 2);
	sg_set_page(&sgl[0], hi, 8192, 0);
	sg_set_page(&sgl[1], lo, 4096, 0);
	assert_int_equal(dma_map_sg(dev, sgl, 2, DMA_FROM_DEVICE), 2);
	assert_true(sg_dma_address(&sgl[0]) < GiB(4));
	assert_true(sg_dma_address(&sgl[0]) != page_to_phys(hi));
	assert_int_equal(sg_dma_address(&sgl[1]), page_to_phys(lo));
	dmasim_phys_write(m, sg_dma_address(&sgl[0]) + 8000, "dev", 3);
	dma_sync_sg_for_cpu(dev, sgl, 2, DMA_FROM_DEVICE);
	assert_memory_equal(h + 8000, "dev", 3);
	dma_unmap_sg(dev, sgl, 2, DMA_FROM_DEVICE);
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	__free_pages(hi, 1);
	__free_pages(lo, 0);
	dmasim_machine_destroy(m);
}

static void test_sg_debug_checks(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	char *buf = page_address(pg), line[300];
	struct scatterlist sgl[3];

	(void)state;
	dmasim_dma_debug_all_errors(m, true);
	sg_init_table(sgl, 3);
	for (int i = 0; i < 3; i++)
		sg_set_buf(&sgl[i], buf + i * 4096, 1000);
	assert_int_equal(dma_map_sg(dev, sgl, 3, DMA_TO_DEVICE), 3);
	dma_sync_sg_for_cpu(dev, sgl, 2, DMA_TO_DEVICE);
	assert_true(test_log_has(m, PFX "device driver syncs DMA sg list with different entry count [map count=3] [sync count=2]"));
	dma_unmap_sg(dev, sgl, 2, DMA_TO_DEVICE);
	assert_true(test_log_has(m, PFX "device driver frees DMA sg list with different entry count [map count=3] [unmap count=2]"));
	/* the third entry, unmapped as a single mapping */
	dma_unmap_single(dev, sg_dma_address(&sgl[2]), 1000, DMA_TO_DEVICE);
	snprintf(line, sizeof(line), PFX "device driver frees DMA memory with wrong function [device address=0x%016llx] [size=1000 bytes] [mapped as scather-gather] [unmapped as single]",
		 (unsigned long long)sg_dma_address(&sgl[2]));
	assert_true(test_log_has(m, line));
	/* segment limits */
	dma_set_max_seg_size(dev, 4096);
	dma_set_seg_boundary(dev, 0xfff);
	sg_init_table(sgl, 1);
	sg_set_buf(sgl, buf + 100, 8192);
	assert_int_equal(dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE), 1);
	assert_true(test_log_has(m, PFX "mapping sg segment longer than device claims to support [len=8192] [max=4096]"));
	snprintf(line, sizeof(line), PFX "mapping sg segment across boundary [start=0x%016llx] [end=0x%016llx] [boundary=0x0000000000000fff]",
		 (unsigned long long)sg_dma_address(sgl),
		 (unsigned long long)(sg_dma_address(sgl) + 8191));
	assert_true(test_log_has(m, line));
	dma_unmap_sg(dev, sgl, 1, DMA_TO_DEVICE);
	/* the count checks fire once per segment looked at, as in Linux:
	 * 2 (sync) + 2 (unmap) + wrong function + length + boundary */
	assert_int_equal(dmasim_dma_debug_errors(m), 7);
	__free_pages(pg, 2);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_map_sg_direct),
		cmocka_unit_test(test_map_sg_failure),
		cmocka_unit_test(test_sg_bounce),
		cmocka_unit_test(test_sg_debug_checks),
	};

	return cmocka_run_group_tests_name("dma_sg", tests, NULL, NULL);
}
