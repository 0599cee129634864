/*
 * DMA-API debugging: a "buggy driver" that commits each misuse Linux's
 * CONFIG_DMA_API_DEBUG catches, with the report text compared exactly;
 * the first-error-only default, error_count, dma_debug=off, the debugfs
 * dump and the boot lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "helpers.h"
#include "kernel/dma/debug.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

#define PFX "DMA-API: pci 0000:00:01.0: "

struct fixture {
	struct dmasim_machine *m;
	struct device *dev;
	struct page *pg;
	uint8_t *buf;
	dma_addr_t phys;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_dev *p;

	f->m = test_boot(GiB(1), NULL);
	p = pci_get_by_name((struct machine *)f->m, "0000:00:01.0");
	f->dev = &p->dev;
	dmasim_dma_debug_all_errors(f->m, true);
	f->pg = alloc_pages(GFP_KERNEL, 1);
	f->buf = page_address(f->pg);
	f->phys = page_to_phys(f->pg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	__free_pages(f->pg, 1);
	dmasim_machine_destroy(f->m);
	free(f);
	return 0;
}

/* The log has exactly this report (after its prefix) as a line. */
static void expect_report(struct fixture *f, const char *line)
{
	char *log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	char want[600];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(log, want))
		fail_msg("no line '%s' in the log:\n%s", line,
			 log + (strlen(log) > 3000 ? strlen(log) - 3000 : 0));
	free(log);
}

static dma_addr_t map_checked(struct fixture *f, size_t len,
			      enum dma_data_direction dir)
{
	dma_addr_t a = dma_map_single(f->dev, f->buf, len, dir);

	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	return a;
}

static void test_clean_driver_no_errors(void **state)
{
	struct fixture *f = *state;
	void *c;
	dma_addr_t h, a = map_checked(f, 4096, DMA_FROM_DEVICE);

	dma_sync_single_for_cpu(f->dev, a, 4096, DMA_FROM_DEVICE);
	dma_sync_single_range_for_device(f->dev, a, 1024, 64, DMA_FROM_DEVICE);
	dma_unmap_single(f->dev, a, 4096, DMA_FROM_DEVICE);
	c = dma_alloc_coherent(f->dev, 8192, &h, GFP_KERNEL);
	assert_non_null(c);
	dma_free_coherent(f->dev, 8192, c, h);
	assert_int_equal(dmasim_dma_debug_errors(f->m), 0);
}

static void test_unmap_checks(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a;

	dma_unmap_single(f->dev, DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
	expect_report(f, PFX "device driver tries to free an invalid DMA memory address");
	dma_unmap_single(f->dev, 0x1234000, 64, DMA_TO_DEVICE);
	expect_report(f, PFX "device driver tries to free DMA memory it has not allocated [device address=0x0000000001234000] [size=64 bytes]");
	a = map_checked(f, 4096, DMA_TO_DEVICE);
	dma_unmap_single(f->dev, a, 2048, DMA_FROM_DEVICE);
	{
		char line[400];

		snprintf(line, sizeof(line), PFX "device driver frees DMA memory with different size [device address=0x%016llx] [map size=4096 bytes] [unmap size=2048 bytes]",
			 (unsigned long long)a);
		expect_report(f, line);
		snprintf(line, sizeof(line), PFX "device driver frees DMA memory with different direction [device address=0x%016llx] [size=2048 bytes] [mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]",
			 (unsigned long long)a);
		expect_report(f, line);
	}
	assert_int_equal(dmasim_dma_debug_errors(f->m), 4);
}

static void test_failed_to_check(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a = dma_map_single(f->dev, f->buf, 100, DMA_TO_DEVICE);
	char line[300];

	dma_unmap_single(f->dev, a, 100, DMA_TO_DEVICE);
	/* Linux's text has no space before "[device" */
	snprintf(line, sizeof(line), PFX "device driver failed to check map error[device address=0x%016llx] [size=100 bytes] [mapped as single]",
		 (unsigned long long)a);
	expect_report(f, line);
}

static void test_wrong_function(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a = map_checked(f, 8192, DMA_BIDIRECTIONAL), h;
	char line[300];
	void *c;

	dma_free_coherent(f->dev, 8192, f->buf, a);
	snprintf(line, sizeof(line), PFX "device driver frees DMA memory with wrong function [device address=0x%016llx] [size=8192 bytes] [mapped as single] [unmapped as coherent]",
		 (unsigned long long)a);
	expect_report(f, line);
	/* the page went back by dma_free_coherent; take it again */
	f->pg = alloc_pages(GFP_KERNEL, 1);
	f->buf = page_address(f->pg);
	c = dma_alloc_coherent(f->dev, 4096, &h, GFP_KERNEL);
	dma_free_coherent(f->dev, 4096, (char *)c + 64, h);
	snprintf(line, sizeof(line), PFX "device driver frees DMA memory with different CPU address [device address=0x%016llx] [size=4096 bytes] [cpu alloc address=0x%016llx] [cpu free address=0x%016llx]",
		 (unsigned long long)h, (unsigned long long)(uintptr_t)c,
		 (unsigned long long)(uintptr_t)((char *)c + 64));
	expect_report(f, line);
}

static void test_sync_checks(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a = map_checked(f, 4096, DMA_TO_DEVICE);
	char line[400];

	dma_sync_single_for_cpu(f->dev, 0x7770000, 16, DMA_TO_DEVICE);
	expect_report(f, PFX "device driver tries to sync DMA memory it has not allocated [device address=0x0000000007770000] [size=16 bytes]");
	dma_sync_single_range_for_cpu(f->dev, a, 4000, 200, DMA_TO_DEVICE);
	snprintf(line, sizeof(line), PFX "device driver syncs DMA memory outside allocated range [device address=0x%016llx] [allocation size=4096 bytes] [sync offset+size=4200]",
		 (unsigned long long)a);
	expect_report(f, line);
	/* a TO_DEVICE mapping synced for the CPU as FROM_DEVICE: both the
	 * direction and the read-only checks fire */
	dma_sync_single_for_cpu(f->dev, a, 64, DMA_FROM_DEVICE);
	snprintf(line, sizeof(line), PFX "device driver syncs DMA memory with different direction [device address=0x%016llx] [size=4096 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]",
		 (unsigned long long)a);
	expect_report(f, line);
	snprintf(line, sizeof(line), PFX "device driver syncs device read-only DMA memory for cpu [device address=0x%016llx] [size=4096 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]",
		 (unsigned long long)a);
	expect_report(f, line);
	dma_unmap_single(f->dev, a, 4096, DMA_TO_DEVICE);
	a = map_checked(f, 4096, DMA_FROM_DEVICE);
	dma_sync_single_for_device(f->dev, a, 64, DMA_TO_DEVICE);
	snprintf(line, sizeof(line), PFX "device driver syncs device write-only DMA memory to device [device address=0x%016llx] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]",
		 (unsigned long long)a);
	expect_report(f, line);
	dma_unmap_single(f->dev, a, 4096, DMA_FROM_DEVICE);
}

static void test_illegal_areas(void **state)
{
	struct fixture *f = *state;
	char on_stack[64], *heap = malloc(64);
	dma_addr_t a;
	char *log;

	a = dma_map_single(f->dev, on_stack, sizeof(on_stack), DMA_TO_DEVICE);
	assert_int_equal(a, DMA_MAPPING_ERROR);
	log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_true(test_matches(log, "\n" PFX "device driver maps memory from stack \\[addr=0x[0-9a-f]+\\]\n"));
	free(log);
	a = dma_map_single(f->dev, heap, 64, DMA_TO_DEVICE);
	assert_int_equal(a, DMA_MAPPING_ERROR);
	log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_true(test_matches(log, "\n" PFX "device driver maps memory from invalid area \\[addr=0x[0-9a-f]+\\] \\[len=64\\]\n"));
	free(log);
	free(heap);
	a = dma_map_single(f->dev, phys_to_virt(0x1000000), 64, DMA_TO_DEVICE);
	expect_report(f, PFX "device driver maps memory from kernel text or rodata [addr=ffff888001000000] [len=64]");
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	dma_unmap_single(f->dev, a, 64, DMA_TO_DEVICE);
}

static void test_cacheline_overlap(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a = map_checked(f, 32, DMA_FROM_DEVICE), b;

	/* a second device-writable mapping of the same first line */
	b = dma_map_single(f->dev, f->buf + 8, 16, DMA_FROM_DEVICE);
	expect_report(f, PFX "cacheline tracking EEXIST, overlapping mappings aren't supported");
	dma_mapping_error(f->dev, b);
	dma_unmap_single(f->dev, b, 16, DMA_FROM_DEVICE);
	dma_unmap_single(f->dev, a, 32, DMA_FROM_DEVICE);
	/* TO_DEVICE mappings may share lines */
	a = map_checked(f, 32, DMA_TO_DEVICE);
	b = map_checked(f, 32, DMA_TO_DEVICE);
	dma_unmap_single(f->dev, b, 32, DMA_TO_DEVICE);
	dma_unmap_single(f->dev, a, 32, DMA_TO_DEVICE);
	assert_int_equal(dmasim_dma_debug_errors(f->m), 1);
}

/* Eight overlapping mappings of one line are tracked; the ninth warns
 * once (Linux's 3-bit counter). SKIP_CPU_SYNC mappings may overlap. */
static void test_cacheline_overflow(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a[10];
	char line[200];

	for (int i = 0; i < 10; i++)
		a[i] = dma_map_single_attrs(f->dev, f->buf, 16, DMA_FROM_DEVICE,
					    DMA_ATTR_SKIP_CPU_SYNC);
	snprintf(line, sizeof(line), "DMA-API: exceeded 7 overlapping mappings of cacheline 0x%016llx",
		 (unsigned long long)(f->phys >> 6));
	expect_report(f, line);
	for (int i = 0; i < 10; i++) {
		dma_mapping_error(f->dev, a[i]);
		dma_unmap_single_attrs(f->dev, a[i], 16, DMA_FROM_DEVICE,
				       DMA_ATTR_SKIP_CPU_SYNC);
	}
	assert_int_equal(dmasim_dma_debug_errors(f->m), 0);
	{
		char *log = test_dmesg(f->m);

		/* once only */
		assert_null(strstr(strstr(log, "exceeded 7") + 1, "exceeded 7"));
		free(log);
	}
}

static void test_pending_on_unbind(void **state)
{
	struct fixture *f = *state;
	dma_addr_t a = map_checked(f, 512, DMA_BIDIRECTIONAL);
	dma_addr_t b = map_checked(f, 256, DMA_TO_DEVICE);
	char *dumped = test_read(f->m, "/sys/kernel/debug/dma-api/dump");
	char line[300];

	/* the dump lists both, in Linux's format */
	snprintf(line, sizeof(line), "pci 0000:00:01.0 single idx %llu P=%llx N=%llx D=%llx L=200 cln=0x%016llx DMA_BIDIRECTIONAL dma map error checked\n",
		 (unsigned long long)((a >> 13) & 16383),
		 (unsigned long long)f->phys, (unsigned long long)(f->phys >> 12),
		 (unsigned long long)a, (unsigned long long)(f->phys >> 6));
	assert_non_null(strstr(dumped, line));
	free(dumped);
	debug_dma_driver_unbound(f->dev);
	{
		char *log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME,
					 DMASIM_LEVELS_ALL);

		assert_non_null(strstr(log, "\nOne of leaked entries details: [device address=0x"));

		assert_non_null(strstr(log, PFX "device driver has pending DMA allocations while released from device [count=2]\n"));
		free(log);
	}
	dma_unmap_single(f->dev, b, 256, DMA_TO_DEVICE);
	dma_unmap_single(f->dev, a, 512, DMA_BIDIRECTIONAL);
}

static void test_first_error_only(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), NULL);
	struct pci_dev *p = pci_get_by_name((struct machine *)m, "0000:00:01.0");
	char *log, *s;

	(void)state;
	dma_unmap_single(&p->dev, 0x100000, 1, DMA_TO_DEVICE);
	dma_unmap_single(&p->dev, 0x200000, 1, DMA_TO_DEVICE);
	assert_int_equal(dmasim_dma_debug_errors(m), 2);
	log = test_dmesg(m);
	assert_non_null(strstr(log, "[device address=0x0000000000100000]"));
	assert_null(strstr(log, "[device address=0x0000000000200000]"));
	assert_non_null(strstr(log, "------------[ cut here ]------------"));
	free(log);
	s = test_read(m, "/sys/kernel/debug/dma-api/error_count");
	assert_string_equal(s, "2\n");
	free(s);
	s = test_read(m, "/sys/kernel/debug/dma-api/num_errors");
	assert_string_equal(s, "0\n");
	free(s);
	s = test_read(m, "/sys/kernel/debug/dma-api/nr_total_entries");
	assert_string_equal(s, "65536\n");
	free(s);
	dmasim_machine_destroy(m);
}

static void test_disabled(void **state)
{
	struct dmasim_machine *m = test_boot(GiB(1), "dma_debug=off");
	struct pci_dev *p = pci_get_by_name((struct machine *)m, "0000:00:01.0");
	char *log;

	(void)state;
	dma_unmap_single(&p->dev, 0x100000, 1, DMA_TO_DEVICE);
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	log = test_dmesg(m);
	assert_non_null(strstr(log, "] DMA-API: debugging disabled on kernel command line\n"));
	assert_null(strstr(log, "preallocated"));
	free(log);
	dmasim_machine_destroy(m);
	m = test_boot(GiB(1), "dma_debug_entries=1024");
	log = test_dmesg(m);
	assert_non_null(strstr(log, "] DMA-API: preallocated 1024 debug entries\n"));
	assert_non_null(strstr(log, "] DMA-API: debugging enabled by kernel config\n"));
	free(log);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_driver_no_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_to_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_illegal_areas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cacheline_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cacheline_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_on_unbind, setup, teardown),
		cmocka_unit_test(test_first_error_only),
		cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests_name("dma_debug", tests, NULL, NULL);
}
