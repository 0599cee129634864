/*
 * The DMA mapping API on the direct path: masks (Linux's acceptance
 * rule, defaults, required mask, addressing limits), coherent memory from
 * the zone the coherent mask allows, streaming mappings and their error
 * returns; and the non-coherent cache model on arm64, where a missing
 * sync is wrong data every time, while the same code is right on x86.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "helpers.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static struct device *port(struct dmasim_machine *m)
{
	return &pci_get_by_name((struct machine *)m, "0000:00:01.0")->dev;
}

static void test_masks(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);

	(void)state;
	assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(32));
	assert_int_equal(dev->coherent_dma_mask, DMA_BIT_MASK(32));
	/* 24 bits reach ZONE_DMA: accepted on x86; 23 are not */
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(23)), -EIO);
	assert_int_equal(dma_set_coherent_mask(dev, DMA_BIT_MASK(23)), -EIO);
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(24)), 0);
	assert_int_equal(dev->coherent_dma_mask, DMA_BIT_MASK(24));
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(64));
	/* 8 GiB of RAM ends at 0x23fffffff: 34 bits are required */
	assert_int_equal(dma_get_required_mask(dev), DMA_BIT_MASK(34));
	assert_false(dma_addressing_limited(dev));
	assert_int_equal(dma_max_mapping_size(dev), SIZE_MAX);
	dma_set_mask(dev, DMA_BIT_MASK(32));
	assert_true(dma_addressing_limited(dev));
	/* may bounce: swiotlb's largest mapping */
	assert_int_equal(dma_max_mapping_size(dev), 256 * 1024);
	assert_int_equal(dma_get_max_seg_size(dev), 65536);
	assert_int_equal(dma_set_max_seg_size(dev, 1 << 20), 0);
	assert_int_equal(dma_get_max_seg_size(dev), 1 << 20);
	assert_int_equal(dma_get_seg_boundary(dev), ~0UL);
	assert_false(dma_need_sync(dev, 0x100000));
	dmasim_machine_destroy(m);
}

/* Coherent memory comes from the zone the coherent mask needs. */
static void test_coherent_zones(void **state)
{
	static const struct {
		int bits;
		uint64_t below;
	} cases[] = { { 24, MiB(16) }, { 32, GiB(4) }, { 36, GiB(64) },
		      { 64, UINT64_MAX } };
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		dma_addr_t h;
		unsigned char *v;

		assert_int_equal(dma_set_coherent_mask(dev, DMA_BIT_MASK(cases[c].bits)), 0);
		v = dma_alloc_coherent(dev, 10000, &h, GFP_KERNEL | GFP_DMA32);
		assert_non_null(v);
		assert_true(h + 16384 - 1 < cases[c].below ||
			    cases[c].below == UINT64_MAX);
		/* page-granular, aligned to its order, zeroed */
		assert_int_equal(h % 16384, 0);
		for (int i = 0; i < 16384; i++)
			assert_int_equal(v[i], 0);
		if (cases[c].bits == 64)
			assert_true(h >= GiB(4)); /* GFP flags were stripped */
		dma_free_coherent(dev, 10000, v, h);
	}
	assert_null(dma_alloc_coherent(dev, 0, &(dma_addr_t){ 0 }, GFP_KERNEL));
	dmasim_machine_destroy(m);
}

/* Without swiotlb, a buffer beyond the mask cannot be mapped. */
static void test_overflow_without_swiotlb(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(2), NULL);
	struct device *dev = port(m);
	struct page *pg;
	dma_addr_t a;
	char *log, want[200];

	(void)state;
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(30)), 0);
	do { /* a page above 1 GiB */
		pg = alloc_pages(GFP_KERNEL, 0);
	} while (page_to_phys(pg) < GiB(1));
	a = dma_map_page(dev, pg, 0, 4096, DMA_TO_DEVICE);
	assert_int_equal(a, DMA_MAPPING_ERROR);
	assert_int_equal(dma_mapping_error(dev, a), -ENOMEM);
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	snprintf(want, sizeof(want), "pci 0000:00:01.0: DMA addr 0x%016llx+4096 overflow (mask 3fffffff, bus limit 0).\n",
		 (unsigned long long)page_to_phys(pg));
	assert_non_null(strstr(log, want));
	free(log);
	/* invalid direction and no mask: errors, not crashes */
	assert_int_equal(dma_map_page(dev, pg, 0, 64, DMA_NONE), DMA_MAPPING_ERROR);
	assert_int_equal(dma_map_single(dev, NULL, 64, DMA_TO_DEVICE),
			 DMA_MAPPING_ERROR);
	dma_unmap_page(dev, DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
	dmasim_machine_destroy(m);
}

/*
 * A tiny "driver" used on both platforms: the CPU fills a TO_DEVICE
 * buffer and the device reads it; the device fills a FROM_DEVICE buffer
 * and the CPU reads it. @sync decides whether it follows the rules.
 */
struct outcome {
	bool device_saw_new;   /* device read what the CPU wrote */
	bool cpu_saw_device;   /* CPU read what the device wrote */
};

static struct outcome run_driver(struct dmasim_machine *m, bool sync)
{
	struct device *dev = port(m);
	struct outcome o;
	struct page *pg = alloc_pages(GFP_KERNEL | GFP_DMA32, 1);
	unsigned char *tx = page_address(pg), *rx = tx + 4096, seen[64];
	dma_addr_t ta, ra;

	memset(tx, 'a', 4096);
	ta = dma_map_single(dev, tx, 4096, DMA_TO_DEVICE);
	/* the CPU writes after mapping: only a sync hands it over */
	memset(tx, 'b', 64);
	if (sync)
		dma_sync_single_for_device(dev, ta, 64, DMA_TO_DEVICE);
	dmasim_phys_read(m, ta, seen, sizeof(seen));
	o.device_saw_new = seen[0] == 'b';
	dma_unmap_single(dev, ta, 4096, DMA_TO_DEVICE);

	memset(rx, 'c', 4096); /* the CPU's old data, in its cache */
	ra = dma_map_single(dev, rx, 4096, DMA_FROM_DEVICE);
	memset(seen, 'd', sizeof(seen));
	dmasim_phys_write(m, ra, seen, sizeof(seen));
	if (sync)
		dma_sync_single_for_cpu(dev, ra, 64, DMA_FROM_DEVICE);
	o.cpu_saw_device = rx[0] == 'd';
	dma_unmap_single_attrs(dev, ra, 4096, DMA_FROM_DEVICE,
			       sync ? 0 : DMA_ATTR_SKIP_CPU_SYNC);
	__free_pages(pg, 1);
	return o;
}

static void test_x86_coherent_either_way(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct outcome good = run_driver(m, true), lazy = run_driver(m, false);

	(void)state;
	assert_true(good.device_saw_new && good.cpu_saw_device);
	/* coherent: the missing syncs go unnoticed, as on real x86 */
	assert_true(lazy.device_saw_new && lazy.cpu_saw_device);
	dmasim_machine_destroy(m);
}

static void test_arm64_missing_sync_is_wrong_data(void **state)
{
	struct dmasim_machine *m = test_boot_platform(GiB(1), NULL,
						      DMASIM_PLATFORM_ARM64);
	struct device *dev = port(m);
	struct outcome good, lazy;

	(void)state;
	assert_true(dma_need_sync(dev, 0x100000));
	for (int round = 0; round < 3; round++) { /* every time */
		good = run_driver(m, true);
		lazy = run_driver(m, false);
		assert_true(good.device_saw_new && good.cpu_saw_device);
		assert_false(lazy.device_saw_new);
		assert_false(lazy.cpu_saw_device);
	}
	dmasim_machine_destroy(m);
}

/* A FROM_DEVICE buffer sharing a cache line with data the CPU writes
 * during the DMA: the invalidate on unmap throws the CPU's write away. */
static void test_arm64_shared_cacheline(void **state)
{
	struct dmasim_machine *m = test_boot_platform(GiB(1), NULL,
						      DMASIM_PLATFORM_ARM64);
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	unsigned char *buf = page_address(pg), *counter = buf + 48;
	unsigned char from_dev[32];
	dma_addr_t a;

	(void)state;
	memset(buf, 0, 64);
	*counter = 1;
	a = dma_map_single(dev, buf, 32, DMA_FROM_DEVICE); /* bytes 0..31 */
	*counter = 2;	/* the CPU updates its neighbour meanwhile */
	memset(from_dev, 'x', sizeof(from_dev));
	dmasim_phys_write(m, a, from_dev, sizeof(from_dev));
	dma_unmap_single(dev, a, 32, DMA_FROM_DEVICE);
	assert_int_equal(buf[0], 'x');
	/* the neighbour lost its update: the line came back from RAM */
	assert_int_equal(*counter, 1);
	__free_pages(pg, 0);
	dmasim_machine_destroy(m);
}

/* The line size decides what a partial line drags along; the debugfs
 * counters say what the maintenance did. */
static unsigned long cache_counter(struct dmasim_machine *m, const char *f)
{
	char path[96], *s;
	unsigned long v;

	snprintf(path, sizeof(path), "/sys/kernel/debug/dmasim/cache/%s", f);
	s = test_read(m, path);
	v = strtoul(s, NULL, 10);
	free(s);
	return v;
}

static bool neighbour_survives(unsigned int line)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m, *prev = dmasim_enter(NULL);
	struct device *dev;
	struct page *pg;
	unsigned char *buf;
	dma_addr_t a;
	bool kept;
	unsigned long cleaned, invalidated;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(256);
	cfg.platform = DMASIM_PLATFORM_ARM64;
	cfg.cache_line = line;
	cfg.nr_cpus = 1;
	assert_int_equal(dmasim_machine_create(&cfg, &m, NULL, 0), 0);
	dmasim_enter(m);
	dev = dmasim_pci_device(m, "0000:00:00.0");
	pg = alloc_pages(GFP_KERNEL, 0);
	buf = page_address(pg);
	buf[100] = 1;
	/* the drivers' coherent rings were cleaned at probe: count from here */
	cleaned = cache_counter(m, "bytes_cleaned");
	invalidated = cache_counter(m, "bytes_invalidated");
	a = dma_map_single(dev, buf, 32, DMA_FROM_DEVICE);
	buf[100] = 2; /* beyond the mapping, in the same 128-byte line */
	dma_unmap_single(dev, a, 32, DMA_FROM_DEVICE);
	kept = buf[100] == 2;
	assert_int_equal(cache_counter(m, "line_size"), line);
	assert_int_equal(cache_counter(m, "bytes_cleaned") - cleaned, line);
	assert_int_equal(cache_counter(m, "bytes_invalidated") - invalidated,
			 line);
	__free_pages(pg, 0);
	dmasim_machine_destroy(m);
	dmasim_enter(prev);
	return kept;
}

static void test_arm64_cache_line_size(void **state)
{
	(void)state;
	assert_true(neighbour_survives(64));
	assert_false(neighbour_survives(128));
}

/* Coherent allocations are coherent on arm64 too, with no sync. */
static void test_arm64_coherent_needs_no_sync(void **state)
{
	struct dmasim_machine *m = test_boot_platform(GiB(1), NULL,
						      DMASIM_PLATFORM_ARM64);
	struct device *dev = port(m);
	dma_addr_t h;
	unsigned char *v = dma_alloc_coherent(dev, 4096, &h, GFP_KERNEL), b;

	(void)state;
	v[10] = 'q';
	dmasim_phys_read(m, h + 10, &b, 1);
	assert_int_equal(b, 'q');
	dmasim_phys_write(m, h + 20, "r", 1);
	assert_int_equal(v[20], 'r');
	assert_int_equal(virt_to_phys(v), h);
	dma_free_coherent(dev, 4096, v, h);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_coherent_zones),
		cmocka_unit_test(test_overflow_without_swiotlb),
		cmocka_unit_test(test_x86_coherent_either_way),
		cmocka_unit_test(test_arm64_missing_sync_is_wrong_data),
		cmocka_unit_test(test_arm64_shared_cacheline),
		cmocka_unit_test(test_arm64_coherent_needs_no_sync),
		cmocka_unit_test(test_arm64_cache_line_size),
	};

	return cmocka_run_group_tests_name("dma_mapping", tests, NULL, NULL);
}
