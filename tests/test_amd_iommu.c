/*
 * The amd_iommu driver end to end on a machine with an AMD-Vi unit
 * (--iommu-hw amd): the boot lines as Linux 6.1 prints them, the unit's
 * own function outside every group, sysfs, default domain types per
 * policy, a device confined to what was mapped for it with the
 * permissions of the direction, IO_PAGE_FAULT lines with Linux's flags
 * and per-device rate limit, the lazy window, pass-through, sized
 * (next-level-7) pages from iommu_map, amd_iommu= options, and the
 * drivers working unchanged through the IOMMU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/disk.h"
#include "dmasim/hw/amdvi.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/iommu.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "hw/amdvi.h"
#include "hw/bus.h"
#include "hw/pci.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/machine.h"

static struct dmasim_machine *boot_amd(const char *cmdline)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(8);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.inline_devices = true;
	cfg.iommu = DMASIM_IOMMU_AMD;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		fail_msg("boot failed: %s", err);
	return m;
}

static void assert_in_order(struct dmasim_machine *m, const char *const *lines,
			    size_t n)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	const char *at = log;

	for (size_t i = 0; i < n; i++) {
		const char *p = strstr(at, lines[i]);

		if (!p)
			fail_msg("missing or out of order: %s\n%s", lines[i], log);
		at = p + 1;
	}
	free(log);
}

static void test_boot_lines(void **state)
{
	struct dmasim_machine *m = boot_amd("amd_iommu=on");
	const char *order[] = {
		"\nAMD-Vi: Unknown option - 'on'\n",
		"\nAMD-Vi: Using global IVHD EFR:0x400000000840, EFR2:0x0\n",
		"\niommu: Default domain type: Translated \n",
		"\niommu: DMA domain TLB invalidation policy: lazy mode \n",
		"\npci 0000:00:00.0: Adding to iommu group 0\n",
		"\npci 0000:00:01.0: Adding to iommu group 1\n",
		"\npci 0000:00:02.0: Adding to iommu group 2\n",
		"\npci 0000:01:00.0: Adding to iommu group 3\n",
		"\npci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40\n",
		"\nAMD-Vi: Extended features (0x400000000840, 0x0): IA\n",
		"\nPCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n",
		"\nAMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.\n",
	};
	char *log;

	(void)state;
	assert_in_order(m, order, sizeof(order) / sizeof(order[0]));
	log = test_dmesg(m);
	assert_null(strstr(log, "0000:00:00.2: Adding to iommu group"));
	assert_null(strstr(log, "DMAR"));
	free(log);
	dmasim_machine_destroy(m);
	/* amd_iommu=off, and iommu=off: no driver, no groups */
	for (int i = 0; i < 2; i++) {
		m = boot_amd(i ? "iommu=off" : "amd_iommu=off");
		log = test_dmesg(m);
		assert_null(strstr(log, "AMD-Vi"));
		assert_null(strstr(log, "iommu group"));
		free(log);
		assert_null(((struct machine *)m)->amd_iommu);
		dmasim_machine_destroy(m);
	}
	/* options as Linux parses them: prefixes, the rest of the string */
	m = boot_amd("amd_iommu=fullflush,bogus,pgtbl_v2");
	assert_true(test_log_has(m, "AMD-Vi: amd_iommu=fullflush deprecated; use iommu.strict=1 instead"));
	assert_true(test_log_has(m, "AMD-Vi: Unknown option - 'bogus,pgtbl_v2'"));
	assert_true(test_log_has(m, "iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)"));
	assert_true(test_log_has(m, "AMD-Vi: Cannot enable v2 page table for DMA-API. Fallback to v1."));
	dmasim_machine_destroy(m);
}

static void test_sysfs_and_types(void **state)
{
	static const struct {
		const char *cmdline, *type;
	} cases[] = {
		{ NULL, "DMA-FQ\n" },
		{ "iommu.strict=1", "DMA\n" },
		{ "iommu=pt", "identity\n" },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct dmasim_machine *m = boot_amd(cases[c].cmdline);
		char **names, *s;
		size_t n;

		assert_int_equal(dmasim_list(m, "/sys/kernel/iommu_groups", &names, &n), 0);
		assert_int_equal(n, 4);
		dmasim_free_names(names, n);
		assert_int_equal(dmasim_list(m, "/sys/class/iommu/ivhd0/devices",
					     &names, &n), 0);
		assert_int_equal(n, 4); /* not 00:00.2 itself */
		for (size_t i = 0; i < n; i++)
			assert_string_not_equal(names[i], "0000:00:00.2");
		dmasim_free_names(names, n);
		s = test_read(m, "/sys/kernel/iommu_groups/2/type");
		assert_string_equal(s, cases[c].type);
		free(s);
		s = test_read(m, "/sys/class/iommu/ivhd0/amd-iommu/cap");
		assert_string_equal(s, "1903700f\n"); /* IotlbSup: ATS */
		free(s);
		s = test_read(m, "/sys/class/iommu/ivhd0/amd-iommu/features");
		assert_string_equal(s, "0:400000000840\n");
		free(s);
		s = test_read(m, "/sys/kernel/iommu_groups/1/reserved_regions");
		assert_string_equal(s, "0x00000000fee00000 0x00000000feefffff msi\n"
				       "0x000000fd00000000 0x000000ffffffffff reserved\n");
		free(s);
		s = test_read(m, "/proc/iomem");
		assert_non_null(strstr(s, "\nfed80000-fed83fff : amd_iommu\n"));
		free(s);
		s = test_read(m, "/proc/interrupts");
		assert_true(test_matches(s, "PCI-MSI 4096-edge +AMD-Vi\n"));
		free(s);
		dmasim_machine_destroy(m);
	}
}

struct dev_fx {
	struct dmasim_machine *m;
	struct pci_func *fn;
	struct device *dev;
};

static void dev_fx(struct dev_fx *f, const char *cmdline)
{
	f->m = boot_amd(cmdline);
	f->fn = pci_find_id((struct machine *)f->m, "rp0");
	f->dev = dmasim_pci_device(f->m, "0000:00:01.0");
	pci_cfg_write(f->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
}

static uint16_t domain_id_of(struct dev_fx *f)
{
	return amd_domain_id(f->dev->iommu_domain);
}

static void test_confinement_and_faults(void **state)
{
	struct dev_fx f;
	struct page *pg;
	char *buf, got[8], line[200];
	dma_addr_t a;
	size_t done;

	(void)state;
	dev_fx(&f, "iommu.strict=1");
	pg = alloc_pages(GFP_KERNEL, 0);
	buf = page_address(pg);
	strcpy(buf, "mapped");
	a = dma_map_single(f.dev, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(f.dev, a), 0);
	assert_true(a != page_to_phys(pg));
	assert_int_equal(bus_read(f.fn, a, got, 7, &done), PCI_STATUS_OK);
	assert_string_equal(got, "mapped");
	/* TO_DEVICE is read-only: a write to the present page faults with
	 * PR, RW and PE (0x70) */
	assert_int_equal(bus_write(f.fn, a, "x", 1, &done), PCI_STATUS_UR);
	snprintf(line, sizeof(line),
		 "pci 0000:00:01.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x0070]",
		 domain_id_of(&f), (unsigned long long)a);
	assert_true(test_log_has(f.m, line));
	/* the physical address is not a way around it: not present, read */
	assert_int_equal(bus_read(f.fn, page_to_phys(pg), got, 1, &done),
			 PCI_STATUS_UR);
	snprintf(line, sizeof(line),
		 "pci 0000:00:01.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x0000]",
		 domain_id_of(&f), (unsigned long long)page_to_phys(pg));
	assert_true(test_log_has(f.m, line));
	/* strict: after unmap the device is refused at once */
	dma_unmap_single(f.dev, a, 64, DMA_TO_DEVICE);
	assert_int_equal(bus_read(f.fn, a, got, 1, &done), PCI_STATUS_UR);
	assert_string_equal(buf, "mapped");
	__free_pages(pg, 0);
	dmasim_machine_destroy(f.m);
}

static int handled;

static int quiet_handler(struct iommu_domain *d, struct device *dev,
			 unsigned long iova, int flags, void *token)
{
	(void)d;
	(void)dev;
	(void)token;
	handled += iova == 0x5000 && flags == IOMMU_FAULT_WRITE;
	return 0;
}

/* A detached device, the rate limit, and a domain fault handler that
 * takes the fault (then Linux prints nothing). */
static void test_detached_ratelimit_handler(void **state)
{
	struct dev_fx f;
	char c = 0, *log, *p;
	int records = 0;

	(void)state;
	dev_fx(&f, NULL);
	/* a storm: 10 lines per 5 s per device, then the dropped count */
	for (int i = 0; i < 20; i++)
		dmasim_bus_read(f.m, "0000:00:01.0", 0x2000, &c, 1);
	dmasim_clock_advance(f.m, 6000000000ULL);
	dmasim_bus_read(f.m, "0000:00:01.0", 0x3000, &c, 1);
	log = dmasim_dmesg(f.m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	for (p = strstr(log, "address=0x2000 "); p; p = strstr(p + 1, "address=0x2000 "))
		records++;
	assert_int_equal(records, 10);
	assert_true(test_matches(log, "\namd_iommu_report_page_fault: 10 callbacks suppressed\n"));
	free(log);
	/* a handler that returns 0 keeps the line out of the log */
	iommu_set_fault_handler(f.dev->iommu_domain, quiet_handler, NULL);
	assert_int_equal(dmasim_bus_write(f.m, "0000:00:01.0", 0x5000, &c, 1), -EIO);
	assert_int_equal(handled, 1);
	log = test_dmesg(f.m);
	assert_null(strstr(log, "address=0x5000 "));
	free(log);
	/* detached: the device table entry blocks everything (domain 0),
	 * and Linux says the device is not attached properly */
	iommu_detach_device(f.dev->iommu_domain, f.dev);
	assert_int_equal(dmasim_bus_write(f.m, "0000:00:01.0", 0x1000, &c, 1), -EIO);
	assert_true(test_log_has(f.m, "AMD-Vi: Event logged [Device not attached to domain properly]"));
	assert_true(test_log_has(f.m, "AMD-Vi:   device=0000:00:01.0 domain=0x0000"));
	dmasim_machine_destroy(f.m);
}

/* Lazy mode: the stale IOTLB entry answers until the flush queue
 * flushes; strict mode has no window (above). */
static void test_lazy_window(void **state)
{
	struct dev_fx f;
	struct page *pg;
	dma_addr_t a;
	size_t done;
	char got;

	(void)state;
	dev_fx(&f, NULL);
	pg = alloc_pages(GFP_KERNEL, 0);
	*(char *)page_address(pg) = 's';
	a = dma_map_single(f.dev, page_address(pg), 64, DMA_BIDIRECTIONAL);
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_OK);
	dma_unmap_single(f.dev, a, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_OK);
	assert_int_equal(got, 's');
	iommu_dma_flush_fq(f.dev->iommu_domain);
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_UR);
	__free_pages(pg, 0);
	dmasim_machine_destroy(f.m);
}

static void test_passthrough(void **state)
{
	struct dev_fx f;
	struct page *pg;
	dma_addr_t a;
	size_t done;
	char got;

	(void)state;
	dev_fx(&f, "iommu=pt");
	pg = alloc_pages(GFP_KERNEL | GFP_DMA32, 0);
	*(char *)page_address(pg) = 'p';
	a = dma_map_single(f.dev, page_address(pg), 64, DMA_TO_DEVICE);
	assert_int_equal(a, page_to_phys(pg)); /* dma-direct */
	for (int i = 0; i < 3; i++) {
		got = 0;
		assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_OK);
		assert_int_equal(got, 'p');
	}
	assert_int_equal(bus_write(f.fn, a + 1, "q", 1, &done), PCI_STATUS_OK);
	dma_unmap_single(f.dev, a, 64, DMA_TO_DEVICE);
	assert_int_equal(((char *)page_address(pg))[1], 'q');
	__free_pages(pg, 0);
	dmasim_machine_destroy(f.m);
}

/* iommu_map picks the largest page sizes the range allows; AMD's v1
 * tables take every power of two (a 64 KiB page is a next-level-7 entry
 * repeated 16 times); unmap of part of a large page removes all of it. */
static void test_sized_pages(void **state)
{
	struct dmasim_machine *m = boot_amd(NULL);
	struct machine *mm = (struct machine *)m;
	struct device *dev;
	struct iommu_domain *d, *def;
	struct page *pg;
	struct pci_func *fn = pci_find_id(mm, "dmac0");
	struct amdvi_stats before, after;
	char buf[4];
	size_t done;

	(void)state;
	dev = dmasim_pci_device(m, fn->name);
	d = iommu_domain_alloc(&pci_bus_type);
	assert_non_null(d);
	assert_true(d->pgsize_bitmap & (1ULL << 16));
	/* take the dmac out of its default domain into ours */
	def = dev->iommu_domain;
	iommu_detach_device(def, dev);
	assert_int_equal(iommu_attach_device(d, dev), 0);
	pg = alloc_pages(GFP_KERNEL, 4); /* 64 KiB, aligned */
	memset(page_address(pg), 0, 65536);
	memcpy((char *)page_address(pg) + 0xf000, "end", 4);
	assert_int_equal(iommu_map(d, 0x100000, page_to_phys(pg), 65536,
				   IOMMU_READ | IOMMU_WRITE), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x10f123),
			 page_to_phys(pg) + 0xf123);
	amdvi_get_stats(mm->iommu_units, &before);
	assert_int_equal(bus_read(fn, 0x10f000, buf, 4, &done), PCI_STATUS_OK);
	assert_string_equal(buf, "end");
	assert_int_equal(bus_read(fn, 0x100000, buf, 4, &done), PCI_STATUS_OK);
	amdvi_get_stats(mm->iommu_units, &after);
	assert_int_equal(after.faults, before.faults);
	assert_int_equal(bus_read(fn, 0x110000, buf, 1, &done), PCI_STATUS_UR);
	/* unmapping 4 KiB of it unmaps the whole 64 KiB page */
	assert_int_equal(iommu_unmap(d, 0x104000, 4096), 65536);
	assert_int_equal(iommu_iova_to_phys(d, 0x10f000), 0);
	assert_int_equal(bus_read(fn, 0x10f000, buf, 1, &done), PCI_STATUS_UR);
	/* a 2 MiB-aligned 2 MiB range is one level-2 leaf */
	assert_int_equal(iommu_map(d, 0x40000000, 0x80000000, 2 << 20,
				   IOMMU_READ), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x401fffff), 0x801fffff);
	assert_int_equal(iommu_unmap(d, 0x40000000, 2 << 20), 2 << 20);
	iommu_detach_device(d, dev);
	iommu_domain_free(d);
	assert_int_equal(iommu_attach_device(def, dev), 0);
	__free_pages(pg, 4);
	dmasim_machine_destroy(m);
}

static void test_drivers_through_iommu(void **state)
{
	struct dmasim_machine *m = boot_amd("iommu.strict=1");
	struct dmasim_disk *d = dmasim_disk_find(m, "disk0");
	unsigned char *w = malloc(8192), *r = calloc(1, 8192);
	struct amdvi_stats st;

	(void)state;
	assert_non_null(d);
	for (int i = 0; i < 8192; i++)
		w[i] = (unsigned char)(i * 13);
	assert_int_equal(dmasim_disk_write(d, 8, w, 16, DMASIM_DMA), 0);
	assert_int_equal(dmasim_disk_read(d, 8, r, 16, DMASIM_DMA), 0);
	assert_memory_equal(r, w, 8192);
	free(w);
	free(r);
	assert_int_equal(dmasim_dma_debug_errors(m), 0);
	amdvi_get_stats(((struct machine *)m)->iommu_units, &st);
	assert_true(st.hits + st.misses > 0);
	assert_int_equal(st.faults, 0);
	assert_int_equal(st.command_errors, 0);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_lines),
		cmocka_unit_test(test_sysfs_and_types),
		cmocka_unit_test(test_confinement_and_faults),
		cmocka_unit_test(test_detached_ratelimit_handler),
		cmocka_unit_test(test_lazy_window),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_sized_pages),
		cmocka_unit_test(test_drivers_through_iommu),
	};

	return cmocka_run_group_tests_name("amd_iommu", tests, NULL, NULL);
}
