/*
 * DMA pools: argument rules, block size, alignment and boundary, zeroing,
 * reuse, bad frees with Linux's messages, destroy while busy, the sysfs
 * pools file, and blocks that are coherent DMA memory the device reaches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmapool.h"
#include "dmasim/linux/mm.h"
#include "helpers.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static struct device *port(struct dmasim_machine *m)
{
	return &pci_get_by_name((struct machine *)m, "0000:00:01.0")->dev;
}

static void test_create_rules(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct device *dev = port(m);

	(void)state;
	assert_null(dma_pool_create("a", dev, 0, 8, 0));
	assert_null(dma_pool_create("a", dev, 64, 12, 0));   /* align */
	assert_null(dma_pool_create("a", dev, 64, 8, 32));   /* boundary < size */
	assert_null(dma_pool_create("a", dev, 64, 8, 96));   /* not a power of 2 */
	assert_null(dma_pool_create("a", NULL, 64, 8, 0));
	dma_pool_destroy(NULL);
	dmasim_machine_destroy(m);
}

static void test_alignment_and_boundary(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct device *dev = port(m);
	/* 48-byte blocks, 64-aligned (so 64 apart), never crossing 256 */
	struct dma_pool *p = dma_pool_create("desc", dev, 48, 64, 256);
	void *v[200];
	dma_addr_t h[200];

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 200; i++) {
		v[i] = dma_pool_alloc(p, GFP_KERNEL, &h[i]);
		assert_non_null(v[i]);
		assert_int_equal(h[i] % 64, 0);
		assert_int_equal(h[i] / 256, (h[i] + 48 - 1) / 256);
		assert_int_equal(virt_to_phys(v[i]), h[i]);
		for (int j = 0; j < i; j++)
			assert_true(h[j] != h[i]);
	}
	/* 4096 / 64 = 64 blocks a page: 200 blocks take 4 pages */
	{
		char *s = test_read(m, "/sys/bus/pci/devices/0000:00:01.0/pools");

		assert_string_equal(s, "poolinfo - 0.1\ndesc              200  256   64  4\n");
		free(s);
	}
	for (int i = 0; i < 200; i++)
		dma_pool_free(p, v[i], h[i]);
	dma_pool_destroy(p);
	dmasim_machine_destroy(m);
}

static void test_boundary_skips(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	/* 96-byte blocks with a 256-byte boundary: two per 256, the third
	 * would cross it and moves to the next one */
	struct dma_pool *p = dma_pool_create("b", port(m), 96, 32, 256);
	dma_addr_t h[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_non_null(dma_pool_alloc(p, GFP_KERNEL, &h[i]));
	assert_int_equal(h[1] - h[0], 96);
	assert_int_equal(h[2] - h[0], 256);
	for (int i = 0; i < 3; i++)
		dma_pool_free(p, phys_to_virt(h[i]), h[i]);
	dma_pool_destroy(p);
	dmasim_machine_destroy(m);
}

static void test_zalloc_and_reuse(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct dma_pool *p = dma_pool_create("z", port(m), 100, 0, 0);
	dma_addr_t h, h2;
	unsigned char *v = dma_pool_alloc(p, GFP_KERNEL, &h);

	(void)state;
	memset(v, 0xee, 100);
	dma_pool_free(p, v, h);
	v = dma_pool_zalloc(p, GFP_KERNEL, &h2);
	assert_int_equal(h2, h); /* the freed block comes back */
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], 0);
	/* the device reaches it at its DMA address */
	assert_int_equal(dmasim_phys_write(m, h2, "dev", 3), 0);
	assert_memory_equal(v, "dev", 3);
	dma_pool_free(p, v, h2);
	dma_pool_destroy(p);
	dmasim_machine_destroy(m);
}

static void test_bad_free_and_busy_destroy(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct dma_pool *p = dma_pool_create("bad", port(m), 64, 64, 0);
	dma_addr_t h;
	char *v = dma_pool_alloc(p, GFP_KERNEL, &h), *log;

	(void)state;
	dma_pool_free(p, v, 0x12340000);
	dma_pool_free(p, v + 1, h + 1);
	dma_pool_free(p, v, h);
	dma_pool_free(p, v, h);
	v = dma_pool_alloc(p, GFP_KERNEL, &h);
	dma_pool_destroy(p); /* one block still in use */
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_true(test_matches(log, "\npci 0000:00:01\\.0: dma_pool_free bad, 0x[0-9a-f]+/0x0000000012340000 \\(bad dma\\)\n"));
	assert_true(test_matches(log, "\npci 0000:00:01\\.0: dma_pool_free bad, 0x[0-9a-f]+ \\(bad vaddr\\)/0x[0-9a-f]{16}\n"));
	assert_true(test_matches(log, "\npci 0000:00:01\\.0: dma_pool_free bad, dma 0x[0-9a-f]{16} already free\n"));
	assert_true(test_matches(log, "\npci 0000:00:01\\.0: dma_pool_destroy bad, 0x[0-9a-f]+ busy\n"));
	free(log);
	(void)v;
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_alignment_and_boundary),
		cmocka_unit_test(test_boundary_skips),
		cmocka_unit_test(test_zalloc_and_reuse),
		cmocka_unit_test(test_bad_free_and_busy_destroy),
	};

	return cmocka_run_group_tests_name("dmapool", tests, NULL, NULL);
}
