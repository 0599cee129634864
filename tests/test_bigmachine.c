/*
 * Machines of 1 TiB and of DMASIM_RAM_MAX (4 TiB): they boot, and their map
 * follows the PC layout (RAM above 3 GiB is remapped above 4 GiB, so the
 * Normal zone ends at 4 GiB + (RAM - 3 GiB) - 1). How much host memory
 * they touch is the boot benchmark's business, not asserted here. Also the
 * bus at the PCI hole's edges (3 GiB, 3 GiB + 1 MiB machines). Kept out of
 * the memcheck label: under valgrind with --track-origins a boot costs
 * about a second per GiB of RAM mapped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "helpers.h"

#define PCI_HOLE  GiB(3)
#define HIGH_BASE GiB(4)

/* One past the last byte of RAM. */
static uint64_t ram_top(uint64_t ram)
{
	return ram > PCI_HOLE ? HIGH_BASE + (ram - PCI_HOLE) : ram;
}

static void expect_in(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("\"%s\" not found", needle);
}

static unsigned long meminfo_kb(struct dmasim_machine *m, const char *label)
{
	char *text = test_read(m, "/proc/meminfo"), *p;
	unsigned long kb = 0;

	p = strstr(text, label);
	assert_non_null(p);
	assert_int_equal(sscanf(p + strlen(label), " %lu kB", &kb), 1);
	free(text);
	return kb;
}

static void check_big(uint64_t ram, enum dmasim_platform platform)
{
	uint64_t top = ram_top(ram), phys;
	struct dmasim_machine *m;
	char line[128], *log, *iomem;
	unsigned long total, free_kb;
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	struct page *p;

	m = test_boot_platform(ram, NULL, platform);
	log = test_dmesg(m);
	snprintf(line, sizeof(line),
		 "] BIOS-e820: [mem 0x0000000100000000-0x%016" PRIx64 "] usable\n",
		 top - 1);
	expect_in(log, line);
	expect_in(log, "] BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable\n");
	expect_in(log, "]   DMA      [mem 0x0000000000001000-0x0000000000ffffff]\n");
	expect_in(log, "]   DMA32    [mem 0x0000000001000000-0x00000000ffffffff]\n");
	snprintf(line, sizeof(line),
		 "]   Normal   [mem 0x0000000100000000-0x%016" PRIx64 "]\n",
		 top - 1);
	expect_in(log, line);
	snprintf(line, sizeof(line), "] last_pfn = %#" PRIx64 " max_arch_pfn",
		 top >> 12);
	expect_in(log, line);
	free(log);
	iomem = test_read(m, "/proc/iomem");
	snprintf(line, sizeof(line), "\n100000000-%" PRIx64 " : System RAM\n",
		 top - 1);
	expect_in(iomem, line);
	free(iomem);

	/* Nearly all of it is managed: less the page array (64 bytes per
	 * 4 KiB page, 1/64), the kernel image and the low MiB. */
	total = meminfo_kb(m, "MemTotal:");
	assert_true(total < ram >> 10);
	assert_true(total > (ram >> 10) / 64 * 62);
	/* free: all but what the drivers took at probe (rings, buffers) */
	free_kb = meminfo_kb(m, "MemFree:");
	assert_true(free_kb <= total);
	assert_true(total - free_kb < 16 * 1024);

	/* The bus reaches the last byte, not one past it. */
	assert_int_equal(dmasim_phys_write(m, top - sizeof(in), in, sizeof(in)), 0);
	assert_int_equal(dmasim_phys_read(m, top - sizeof(out), out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(dmasim_phys_read(m, top - 4, out, 8), -EFAULT);
	assert_int_equal(dmasim_phys_read(m, top, out, 1), -EFAULT);
	assert_int_equal(dmasim_phys_read(m, PCI_HOLE, out, 1), -EFAULT);

	/* Each zone serves its own requests. */
	p = alloc_pages(GFP_KERNEL, 10);
	assert_non_null(p);
	phys = page_to_phys(p);
	assert_true(phys >= HIGH_BASE && phys + (4096 << 10) <= top);
	memset(page_address(p), 0x5a, 4096 << 10);
	__free_pages(p, 10);
	p = alloc_pages(GFP_DMA32, 0);
	assert_non_null(p);
	assert_true(page_to_phys(p) >= MiB(16) && page_to_phys(p) < HIGH_BASE);
	__free_pages(p, 0);
	p = alloc_pages(GFP_DMA, 0);
	assert_non_null(p);
	assert_true(page_to_phys(p) < MiB(16));
	__free_pages(p, 0);
	dmasim_machine_destroy(m);
}

static void expect_fault(struct dmasim_machine *m, uint64_t phys, size_t len)
{
	uint8_t buf[16] = { 0 };
	int r = dmasim_phys_read(m, phys, buf, len);
	int w = dmasim_phys_write(m, phys, buf, len);

	if (r != -EFAULT || w != -EFAULT)
		fail_msg("phys %#" PRIx64 "+%zu: read %d, write %d, want -EFAULT",
			 phys, len, r, w);
}

static void expect_rw(struct dmasim_machine *m, uint64_t phys, size_t len)
{
	uint8_t in[16], out[16] = { 0 };

	for (size_t i = 0; i < len; i++)
		in[i] = (uint8_t)(0x80 + i);
	if (dmasim_phys_write(m, phys, in, len) ||
	    dmasim_phys_read(m, phys, out, len))
		fail_msg("phys %#" PRIx64 "+%zu: bus error in RAM", phys, len);
	assert_memory_equal(in, out, len);
}

static void test_pci_hole_edges(void **state)
{
	struct dmasim_machine *m;

	(void)state;
	/* Exactly 3 GiB: RAM ends where the PCI hole starts, none above. */
	m = test_boot(GiB(3), NULL);
	expect_rw(m, PCI_HOLE - 16, 16);
	expect_fault(m, PCI_HOLE - 8, 16);
	expect_fault(m, PCI_HOLE, 1);
	expect_fault(m, HIGH_BASE, 1);
	dmasim_machine_destroy(m);

	/* 3 GiB + 1 MiB: that last MiB is at 4 GiB. */
	m = test_boot(GiB(3) + MiB(1), NULL);
	expect_rw(m, PCI_HOLE - 16, 16);
	expect_fault(m, PCI_HOLE, 1);
	expect_rw(m, HIGH_BASE, 16);
	expect_rw(m, HIGH_BASE + MiB(1) - 16, 16);
	expect_fault(m, HIGH_BASE + MiB(1) - 8, 16);
	expect_fault(m, HIGH_BASE + MiB(1), 1);
	dmasim_machine_destroy(m);
}

static void test_one_tib(void **state)
{
	(void)state;
	assert_int_equal(ram_top(GiB(1024)) - 1, 0x000001003fffffffULL);
	check_big(GiB(1024), DMASIM_PLATFORM_X86);
}

static void test_max_ram(void **state)
{
	(void)state;
	assert_int_equal(ram_top(DMASIM_RAM_MAX) - 1, 0x000004003fffffffULL);
	check_big(DMASIM_RAM_MAX, DMASIM_PLATFORM_X86);
	/* arm64 reserves a second view of the same size. */
	check_big(DMASIM_RAM_MAX, DMASIM_PLATFORM_ARM64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_hole_edges),
		cmocka_unit_test(test_one_tib),
		cmocka_unit_test(test_max_ram),
	};

	return cmocka_run_group_tests_name("bigmachine", tests, NULL, NULL);
}
