/*
 * swiotlb: when Linux bounces (a buffer beyond the device's mask, or
 * swiotlb=force) and when not; what is copied on map, sync and unmap per
 * direction; the 2 KiB slots, the 256 KiB limit, a full pool and its
 * message, recovery, the boot lines and the debugfs counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "helpers.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

/* A device without a driver: the root port, 32-bit DMA by default. */
static struct device *port(struct dmasim_machine *m)
{
	struct pci_dev *p = pci_get_by_name((struct machine *)m, "0000:00:01.0");

	assert_non_null(p);
	return &p->dev;
}

static unsigned long debugfs(struct dmasim_machine *m, const char *file)
{
	char path[96], *s;
	unsigned long v;

	snprintf(path, sizeof(path), "/sys/kernel/debug/swiotlb/%s", file);
	s = test_read(m, path);
	v = strtoul(s, NULL, 10);
	free(s);
	return v;
}

static void test_boot_lines(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);

	(void)state;
	assert_non_null(strstr(log, "software IO TLB: area num 2.\n"));
	assert_non_null(strstr(log, "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n"));
	/* 64 MiB at the top of low RAM; the end printed is exclusive */
	assert_non_null(strstr(log, "software IO TLB: mapped [mem 0x00000000bc000000-0x00000000c0000000] (64MB)\n"));
	free(log);
	assert_int_equal(debugfs(m, "io_tlb_nslabs"), 32768);
	assert_int_equal(debugfs(m, "io_tlb_used"), 0);
	dmasim_machine_destroy(m);

	/* no RAM above 4 GiB: no pool, no lines */
	m = test_boot(GiB(2), NULL);
	log = test_dmesg(m);
	assert_null(strstr(log, "IO TLB"));
	free(log);
	dmasim_machine_destroy(m);

	/* swiotlb=<slabs> rounds up to a segment; force makes one anyway */
	m = test_boot(GiB(2), "swiotlb=300,force");
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	{
		/* 384 slots = 768 KiB, "(0MB)" as Linux's integer MiB */
		const char *p = strstr(log, "software IO TLB: mapped [mem 0x");
		unsigned long long s = 0, e = 0;

		assert_non_null(p);
		assert_int_equal(sscanf(p, "software IO TLB: mapped [mem 0x%llx-0x%llx] (0MB)",
					&s, &e), 2);
		assert_int_equal(e - s, 384 * 2048);
		assert_true(e <= GiB(2));
	}
	free(log);
	assert_int_equal(debugfs(m, "io_tlb_nslabs"), 384);
	dmasim_machine_destroy(m);

	m = test_boot(GiB(8), "swiotlb=noforce");
	log = test_dmesg(m);
	assert_null(strstr(log, "IO TLB"));
	free(log);
	dmasim_machine_destroy(m);
}

/* A 32-bit device bounces a buffer above 4 GiB, not one below. */
static void test_bounce_only_beyond_mask(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);
	struct page *hi = alloc_pages(GFP_KERNEL, 1);
	struct page *lo = alloc_pages(GFP_KERNEL | GFP_DMA32, 1);
	dma_addr_t a;

	(void)state;
	assert_true(page_to_phys(hi) >= GiB(4));
	a = dma_map_page(dev, lo, 0, 8192, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_int_equal(a, page_to_phys(lo));
	dma_unmap_page(dev, a, 8192, DMA_TO_DEVICE);
	memset(page_address(hi), 0x3c, 8192);
	a = dma_map_page(dev, hi, 0, 8192, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_true(a >= 0xbc000000 && a < 0xc0000000);
	assert_int_equal(debugfs(m, "io_tlb_used"), 4);
	{
		uint8_t seen[8192];

		/* the device reads the copy */
		assert_int_equal(dmasim_phys_read(m, a, seen, sizeof(seen)), 0);
		for (size_t i = 0; i < sizeof(seen); i++)
			assert_int_equal(seen[i], 0x3c);
	}
	dma_unmap_page(dev, a, 8192, DMA_TO_DEVICE);
	assert_int_equal(debugfs(m, "io_tlb_used"), 0);
	assert_int_equal(debugfs(m, "io_tlb_used_hiwater"), 4);
	assert_int_equal(debugfs(m, "bounced_bytes_to_device"), 8192);
	/* a 64-bit mask: no bounce */
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	a = dma_map_page(dev, hi, 0, 8192, DMA_FROM_DEVICE);
	assert_int_equal(a, page_to_phys(hi));
	dma_unmap_page(dev, a, 8192, DMA_FROM_DEVICE);
	__free_pages(hi, 1);
	__free_pages(lo, 1);
	dmasim_machine_destroy(m);
}

struct dir_case {
	enum dma_data_direction dir;
	bool back_on_unmap; /* bounce -> original at unmap */
	bool in_on_sync_dev; /* original -> bounce at sync_for_device */
};

/* The copies per direction, as the reference table has them. */
static void test_copies_per_direction(void **state)
{
	static const struct dir_case cases[] = {
		{ DMA_TO_DEVICE, false, true },
		{ DMA_FROM_DEVICE, true, false },
		{ DMA_BIDIRECTIONAL, true, true },
	};
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct page *pg = alloc_pages(GFP_KERNEL, 0);
		uint8_t *buf = page_address(pg), dev_view[64];
		dma_addr_t a;

		memset(buf, 'o', 4096);
		a = dma_map_page(dev, pg, 0, 4096, cases[c].dir);
		assert_int_equal(dma_mapping_error(dev, a), 0);
		assert_true(a != page_to_phys(pg));
		/* map always copies the original in (6.1), every direction */
		dmasim_phys_read(m, a, dev_view, sizeof(dev_view));
		assert_int_equal(dev_view[0], 'o');
		/* the CPU changes its buffer; sync for device */
		memset(buf, 'c', 4096);
		dma_sync_single_for_device(dev, a, 4096, cases[c].dir);
		dmasim_phys_read(m, a, dev_view, sizeof(dev_view));
		assert_int_equal(dev_view[0], cases[c].in_on_sync_dev ? 'c' : 'o');
		/* the device writes the bounce buffer; unmap */
		memset(dev_view, 'd', sizeof(dev_view));
		dmasim_phys_write(m, a, dev_view, sizeof(dev_view));
		dma_unmap_page(dev, a, 4096, cases[c].dir);
		assert_int_equal(buf[0], cases[c].back_on_unmap ? 'd' : 'c');
		__free_pages(pg, 0);
	}
	dmasim_machine_destroy(m);
}

static void test_sync_for_cpu_and_skip(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	uint8_t *buf = page_address(pg), d = 'd';
	dma_addr_t a;

	(void)state;
	memset(buf, 'o', 4096);
	a = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
	dmasim_phys_write(m, a + 100, &d, 1);
	assert_int_equal(buf[100], 'o'); /* not before the sync */
	dma_sync_single_for_cpu(dev, a, 4096, DMA_FROM_DEVICE);
	assert_int_equal(buf[100], 'd');
	/* a partial range sync copies only that range */
	dmasim_phys_write(m, a + 200, &d, 1);
	dmasim_phys_write(m, a + 3000, &d, 1);
	dma_sync_single_range_for_cpu(dev, a, 2048, 2048, DMA_FROM_DEVICE);
	assert_int_equal(buf[200], 'o');
	assert_int_equal(buf[3000], 'd');
	/* SKIP_CPU_SYNC: unmap copies nothing back */
	dmasim_phys_write(m, a + 300, &d, 1);
	dma_unmap_single_attrs(dev, a, 4096, DMA_FROM_DEVICE,
			       DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(buf[300], 'o');
	__free_pages(pg, 0);
	dmasim_machine_destroy(m);
}

/* A small pool: slots, the 256 KiB limit, full, and recovery. */
static void test_full_pool(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(2), "swiotlb=512,1,force");
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 7); /* 512 KiB */
	uint8_t *buf = page_address(pg);
	dma_addr_t a[4], big;
	char *log;

	(void)state;
	for (int i = 0; i < 4; i++) {
		a[i] = dma_map_single(dev, buf, 256 << 10, DMA_TO_DEVICE);
		assert_int_equal(dma_mapping_error(dev, a[i]), 0);
	}
	assert_int_equal(debugfs(m, "io_tlb_used"), 512);
	big = dma_map_single(dev, buf, 100, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, big), -ENOMEM);
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_non_null(strstr(log, "pci 0000:00:01.0: swiotlb buffer is full (sz: 100 bytes), total 512 (slots), used 512 (slots)\n"));
	free(log);
	/* DMA_ATTR_NO_WARN: silent */
	assert_int_equal(dma_map_single_attrs(dev, buf, 100, DMA_TO_DEVICE,
					      DMA_ATTR_NO_WARN),
			 DMA_MAPPING_ERROR);
	for (int i = 0; i < 4; i++)
		dma_unmap_single(dev, a[i], 256 << 10, DMA_TO_DEVICE);
	assert_int_equal(debugfs(m, "io_tlb_used"), 0);
	/* more than one segment never fits, even in an empty pool */
	big = dma_map_single(dev, buf, (256 << 10) + 1, DMA_TO_DEVICE);
	assert_int_equal(big, DMA_MAPPING_ERROR);
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_non_null(strstr(log, "(sz: 262145 bytes), total 512 (slots), used 0 (slots)\n"));
	free(log);
	/* recovered: small mappings fit again, each slot is 2 KiB and a
	 * mapping of a page or more starts page-aligned */
	a[0] = dma_map_single(dev, buf, 1, DMA_TO_DEVICE);
	a[1] = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
	assert_int_equal(debugfs(m, "io_tlb_used"), 3);
	assert_int_equal(a[1] % 4096, 0);
	dma_unmap_single(dev, a[0], 1, DMA_TO_DEVICE);
	dma_unmap_single(dev, a[1], 4096, DMA_TO_DEVICE);
	assert_int_equal(swiotlb_max_mapping_size(dev), 262144);
	__free_pages(pg, 7);
	dmasim_machine_destroy(m);
}

/* Random maps and unmaps: never two live mappings on one slot. */
static void test_random_no_overlap(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(2), "swiotlb=1024,2,force");
	struct device *dev = port(m);
	struct page *pg = alloc_pages(GFP_KERNEL, 6);
	uint8_t *buf = page_address(pg);
	struct { dma_addr_t a; size_t len; } live[64];
	uint64_t seed = 12345;
	size_t n = 0;

	(void)state;
	for (int op = 0; op < 3000; op++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if (n == 64 || (n && (seed >> 33) % 2)) {
			size_t i = (seed >> 40) % n;

			dma_unmap_single(dev, live[i].a, live[i].len,
					 DMA_BIDIRECTIONAL);
			live[i] = live[--n];
			continue;
		}
		live[n].len = 1 + (seed >> 20) % (64 << 10);
		live[n].a = dma_map_single(dev, buf, live[n].len,
					   DMA_BIDIRECTIONAL | 0);
		if (dma_mapping_error(dev, live[n].a))
			continue;
		for (size_t j = 0; j < n; j++)
			assert_true(live[n].a + live[n].len <= live[j].a ||
				    live[j].a + live[j].len <= live[n].a);
		n++;
	}
	while (n--)
		dma_unmap_single(dev, live[n].a, live[n].len, DMA_BIDIRECTIONAL);
	assert_int_equal(debugfs(m, "io_tlb_used"), 0);
	__free_pages(pg, 6);
	dmasim_machine_destroy(m);
}

/* Masks of 24, 32, 36 and 64 bits against buffers in each zone: direct
 * when the mask reaches, bounced when not, refused when even the pool is
 * out of reach (a 24-bit device and the pool near 3 GiB). */
static void test_masks_by_zone(void **state)
{
	static const int bits[] = { 24, 32, 36, 64 };
	static const gfp_t zones[] = { GFP_DMA, GFP_DMA32, GFP_KERNEL };
	struct dmasim_machine *m = test_boot(GiB(8), NULL);
	struct device *dev = port(m);
	char *log;

	(void)state;
	for (int z = 0; z < 3; z++) {
		struct page *pg = alloc_pages(zones[z], 0);
		uint64_t phys = page_to_phys(pg);

		for (int b = 0; b < 4; b++) {
			uint64_t mask = DMA_BIT_MASK(bits[b]);
			dma_addr_t a;

			assert_int_equal(dma_set_mask(dev, mask), 0);
			a = dma_map_page(dev, pg, 0, 4096, DMA_TO_DEVICE);
			if (phys + 4095 <= mask) {
				assert_int_equal(a, phys);	/* direct */
			} else if (0xc0000000ULL - 1 <= mask) {
				assert_true(is_swiotlb_buffer((struct machine *)m, a));
			} else {
				assert_int_equal(a, DMA_MAPPING_ERROR);
				continue;
			}
			dma_unmap_page(dev, a, 4096, DMA_TO_DEVICE);
		}
		__free_pages(pg, 0);
	}
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_true(test_matches(log, "\npci 0000:00:01\\.0: swiotlb addr 0x00000000bc[0-9a-f]{6}\\+4096 overflow \\(mask ffffff, bus limit 0\\)\\.\n"));
	free(log);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_lines),
		cmocka_unit_test(test_bounce_only_beyond_mask),
		cmocka_unit_test(test_copies_per_direction),
		cmocka_unit_test(test_sync_for_cpu_and_skip),
		cmocka_unit_test(test_full_pool),
		cmocka_unit_test(test_random_no_overlap),
		cmocka_unit_test(test_masks_by_zone),
	};

	return cmocka_run_group_tests_name("swiotlb", tests, NULL, NULL);
}
