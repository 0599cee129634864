/*
 * intel_iommu=on end to end: the boot lines as Linux 6.1 prints them,
 * groups and their sysfs, default domain types per policy, a device that
 * reaches only what was mapped for it with the permissions of the
 * direction, DMAR fault lines for blocked reads and writes, the lazy
 * window that strict mode closes, pass-through with iommu=pt, and the
 * dmac and disk drivers working unchanged through the IOMMU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmasim/disk.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "hw/bus.h"
#include "hw/pci.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/machine.h"

static struct dmasim_machine *boot_iommu(const char *cmdline)
{
	return test_boot(GiB(8), cmdline);
}


static void test_boot_lines(void **state)
{
	struct dmasim_machine *m = boot_iommu("intel_iommu=on");
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	const char *order[] = {
		"\nDMAR: IOMMU enabled\n",
		"\nDMAR: Host address width 48\n",
		"\nDMAR: DRHD base: 0x000000fed90000 flags: 0x1\n",
		"\nDMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap ",
		"\niommu: Default domain type: Translated \n",
		"\niommu: DMA domain TLB invalidation policy: lazy mode \n",
		"\nDMAR: No RMRR found\n",
		"\nDMAR: dmar0: Using Queued invalidation\n",
		"\npci 0000:00:00.0: Adding to iommu group 0\n",
		"\npci 0000:01:00.0: Adding to iommu group 3\n",
		"\nDMAR: Intel(R) Virtualization Technology for Directed I/O\n",
		"\nPCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n",
	};
	const char *at = log;

	(void)state;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(at, order[i]);

		if (!p)
			fail_msg("missing or out of order: %s", order[i]);
		at = p + 1;
	}
	free(log);
	dmasim_machine_destroy(m);
	/* without intel_iommu=on: the table lines only */
	m = boot_iommu(NULL);
	log = test_dmesg(m);
	assert_non_null(strstr(log, "DMAR: dmar0: reg_base_addr fed90000"));
	assert_null(strstr(log, "IOMMU enabled"));
	assert_null(strstr(log, "iommu group"));
	free(log);
	dmasim_machine_destroy(m);
	/* x86 iommu=off: no IOMMU driver even with intel_iommu=on */
	m = boot_iommu("intel_iommu=on iommu=off");
	log = test_dmesg(m);
	assert_null(strstr(log, "iommu group"));
	assert_null(strstr(log, "Virtualization Technology"));
	free(log);
	dmasim_machine_destroy(m);
	m = boot_iommu("intel_iommu=on,sp_off,bogus");
	assert_true(test_log_has(m, "DMAR: Disable supported super page"));
	assert_true(test_log_has(m, "DMAR: Unknown option - 'bogus'"));
	dmasim_machine_destroy(m);
}

static char *read_s(struct dmasim_machine *m, const char *path)
{
	return test_read(m, path);
}

static void test_groups_and_types(void **state)
{
	static const struct {
		const char *cmdline, *type;
	} cases[] = {
		{ "intel_iommu=on", "DMA-FQ\n" },
		{ "intel_iommu=on iommu.strict=1", "DMA\n" },
		{ "intel_iommu=on iommu=pt", "identity\n" },
		{ "intel_iommu=on iommu.passthrough=0 iommu.strict=0", "DMA-FQ\n" },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct dmasim_machine *m = boot_iommu(cases[c].cmdline);
		char **names, *s;
		size_t n;

		assert_int_equal(dmasim_list(m, "/sys/kernel/iommu_groups", &names, &n), 0);
		assert_int_equal(n, 4);
		dmasim_free_names(names, n);
		assert_int_equal(dmasim_list(m, "/sys/kernel/iommu_groups/3/devices",
					     &names, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(names[0], "0000:01:00.0");
		dmasim_free_names(names, n);
		s = read_s(m, "/sys/kernel/iommu_groups/2/type");
		assert_string_equal(s, cases[c].type);
		free(s);
		s = read_s(m, "/sys/kernel/iommu_groups/0/reserved_regions");
		assert_string_equal(s, "0x00000000fee00000 0x00000000feefffff msi\n");
		free(s);
		s = read_s(m, "/sys/class/iommu/dmar0/intel-iommu/address");
		assert_string_equal(s, "fed90000\n");
		free(s);
		s = read_s(m, "/sys/class/iommu/dmar0/intel-iommu/domains_supported");
		assert_string_equal(s, "65536\n");
		free(s);
		/* four default domains and the reserved id 0 */
		s = read_s(m, "/sys/class/iommu/dmar0/intel-iommu/domains_used");
		assert_string_equal(s, "5\n");
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
	f->m = boot_iommu(cmdline);
	f->fn = pci_find_id((struct machine *)f->m, "rp0");
	f->dev = dmasim_pci_device(f->m, "0000:00:01.0");
	pci_cfg_write(f->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
}

static void test_confinement_and_faults(void **state)
{
	struct dev_fx f;
	struct page *pg;
	char *buf, got[8], line[200];
	dma_addr_t a;
	size_t done;

	(void)state;
	dev_fx(&f, "intel_iommu=on iommu.strict=1");
	pg = alloc_pages(GFP_KERNEL, 0);
	buf = page_address(pg);
	strcpy(buf, "mapped");
	a = dma_map_single(f.dev, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(f.dev, a), 0);
	assert_true(a != page_to_phys(pg));
	assert_int_equal(bus_read(f.fn, a, got, 7, &done), PCI_STATUS_OK);
	assert_string_equal(got, "mapped");
	/* TO_DEVICE is read-only for the device: a write faults */
	assert_int_equal(bus_write(f.fn, a, "x", 1, &done), PCI_STATUS_UR);
	assert_true(test_log_has(f.m, "DMAR: DRHD: handling fault status reg 2"));
	snprintf(line, sizeof(line), "DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x%llx [fault reason 0x05] PTE Write access is not set",
		 (unsigned long long)(a & ~0xfffULL));
	assert_true(test_log_has(f.m, line));
	/* the physical address is not a way around it */
	assert_int_equal(bus_read(f.fn, page_to_phys(pg), got, 1, &done),
			 PCI_STATUS_UR);
	snprintf(line, sizeof(line), "DMAR: [DMA Read NO_PASID] Request device [00:01.0] fault addr 0x%llx [fault reason 0x06] PTE Read access is not set",
		 (unsigned long long)page_to_phys(pg));
	assert_true(test_log_has(f.m, line));
	/* strict: after unmap the device is refused at once */
	dma_unmap_single(f.dev, a, 64, DMA_TO_DEVICE);
	assert_int_equal(bus_read(f.fn, a, got, 1, &done), PCI_STATUS_UR);
	assert_true(strcmp(buf, "mapped") == 0); /* nothing was written */
	__free_pages(pg, 0);
	dmasim_machine_destroy(f.m);
}

/* Other fault reasons the kernel can cause, and Linux's rate limit. */
static void test_fault_reasons_and_ratelimit(void **state)
{
	struct dev_fx f;
	char c, *log, *p;
	int records = 0;

	(void)state;
	dev_fx(&f, "intel_iommu=on");
	/* beyond the 48-bit address width */
	assert_int_equal(dmasim_bus_read(f.m, "0000:00:01.0", 1ULL << 50, &c, 1),
			 -EIO);
	assert_true(test_log_has(f.m, "DMAR: [DMA Read NO_PASID] Request device [00:01.0] fault addr 0x4000000000000 [fault reason 0x04] Access beyond MGAW"));
	/* a device taken out of every domain has no context entry */
	iommu_detach_device(f.dev->iommu_domain, f.dev);
	assert_int_equal(dmasim_bus_read(f.m, "0000:00:01.0", 0x1000, &c, 1),
			 -EIO);
	assert_true(test_log_has(f.m, "DMAR: [DMA Read NO_PASID] Request device [00:01.0] fault addr 0x1000 [fault reason 0x02] Present bit in context entry is clear"));
	/* a storm: 10 lines per 5 s, then the count of what was dropped */
	for (int i = 0; i < 20; i++)
		dmasim_bus_read(f.m, "0000:00:01.0", 0x2000, &c, 1);
	dmasim_clock_advance(f.m, 6000000000ULL);
	dmasim_bus_read(f.m, "0000:00:01.0", 0x3000, &c, 1);
	log = dmasim_dmesg(f.m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	for (p = strstr(log, "fault addr 0x2000 "); p; p = strstr(p + 1, "fault addr 0x2000 "))
		records++;
	assert_true(records >= 1 && records < 20);
	assert_true(test_matches(log, "\ndmar_fault: [0-9]+ callbacks suppressed\n"));
	free(log);
	dmasim_machine_destroy(f.m);
}

/* Lazy mode: an unmapped page stays reachable through the IOTLB until
 * the flush queue flushes; strict mode has no such window. */
static void test_lazy_window(void **state)
{
	struct dev_fx f;
	struct page *pg;
	dma_addr_t a;
	size_t done;
	char got;

	(void)state;
	dev_fx(&f, "intel_iommu=on");
	pg = alloc_pages(GFP_KERNEL, 0);
	*(char *)page_address(pg) = 's';
	a = dma_map_single(f.dev, page_address(pg), 64, DMA_BIDIRECTIONAL);
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_OK);
	dma_unmap_single(f.dev, a, 64, DMA_BIDIRECTIONAL);
	/* the stale IOTLB entry still answers */
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_OK);
	assert_int_equal(got, 's');
	iommu_dma_flush_fq(f.dev->iommu_domain);
	assert_int_equal(bus_read(f.fn, a, &got, 1, &done), PCI_STATUS_UR);
	__free_pages(pg, 0);
	dmasim_machine_destroy(f.m);
}

/* On a host clock the flush queue's 10 ms timer is a thread of its own:
 * the stale entry goes away without anyone flushing by hand. */
static void test_lazy_window_host_clock(void **state)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	struct device *dev;
	struct iommu_dma_stats st;
	struct page *pg;
	dma_addr_t a;
	char got;
	int r = 0;

	(void)state;
	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(8);
	cfg.cmdline = "intel_iommu=on";
	cfg.nr_cpus = 2;
	cfg.clock = DMASIM_CLOCK_HOST;
	assert_int_equal(dmasim_machine_create(&cfg, &m, NULL, 0), 0);
	dev = dmasim_pci_device(m, "0000:00:01.0");
	pci_set_master(to_pci_dev(dev));
	pg = alloc_pages(GFP_KERNEL, 0);
	a = dma_map_single(dev, page_address(pg), 64, DMA_BIDIRECTIONAL);
	assert_int_equal(dmasim_bus_read(m, "0000:00:01.0", a, &got, 1), 0);
	dma_unmap_single(dev, a, 64, DMA_BIDIRECTIONAL);
	/* wait (up to 5 s) for the timer's flush; no timing is asserted */
	for (int i = 0; i < 5000 && r == 0; i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
		r = dmasim_bus_read(m, "0000:00:01.0", a, &got, 1);
	}
	assert_int_equal(r, -EIO);
	iommu_dma_get_stats(dev->iommu_domain, &st);
	assert_true(st.fq_flushes >= 1);
	__free_pages(pg, 0);
	dmasim_machine_destroy(m);
}

static void test_passthrough(void **state)
{
	struct dev_fx f;
	struct page *pg;
	dma_addr_t a;
	size_t done;
	char got;

	(void)state;
	dev_fx(&f, "intel_iommu=on iommu=pt");
	pg = alloc_pages(GFP_KERNEL | GFP_DMA32, 0);
	*(char *)page_address(pg) = 'p';
	a = dma_map_single(f.dev, page_address(pg), 64, DMA_TO_DEVICE);
	assert_int_equal(a, page_to_phys(pg)); /* dma-direct */
	/* again and again: the context cache must keep the entry's type */
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

/* A disk below an external-facing port is untrusted: its group is
 * strict DMA whatever the policy, and a sub-page buffer is bounced so
 * the device sees zeros, not the rest of the page. */
static void test_untrusted_behind_external_port(void **state)
{
	const char *specs[] = { "pcie-root-port,id=ext,external=on",
				"disk,id=usb,bus=ext" };
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	struct page *pg;
	char *buf, seen[4096];
	struct pci_func *fn;
	struct device *dev;
	dma_addr_t a;
	char *s;

	(void)state;
	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(8);
	cfg.nr_cpus = 2;
	cfg.cmdline = "intel_iommu=on";
	cfg.devices = specs;
	cfg.nr_devices = 2;
	cfg.inline_devices = true;
	assert_int_equal(dmasim_machine_create(&cfg, &m, NULL, 0), 0);
	fn = pci_find_id((struct machine *)m, "usb");
	dev = dmasim_pci_device(m, fn->name);
	assert_true(to_pci_dev(dev)->untrusted);
	/* its group (the port's and its own) is strict, others lazy */
	s = test_read(m, "/sys/kernel/iommu_groups/1/type");
	assert_string_equal(s, "DMA-FQ\n");
	free(s);
	assert_int_equal(dev->iommu_domain->type, IOMMU_DOMAIN_DMA);
	pg = alloc_page(GFP_KERNEL);
	buf = page_address(pg);
	memset(buf, 'S', 4096);
	memcpy(buf + 512, "io", 2);
	a = dma_map_single(dev, buf + 512, 2, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_int_equal(dmasim_bus_read(m, fn->name, a & ~0xfffULL, seen, 4096), 0);
	assert_memory_equal(seen + (a & 0xfff), "io", 2);
	for (int i = 0; i < 4096; i++)
		if (seen[i] == 'S')
			fail_msg("the untrusted device saw byte %d of the page", i);
	dma_unmap_single(dev, a, 2, DMA_TO_DEVICE);
	__free_page(pg);
	dmasim_machine_destroy(m);
}

static void test_drivers_through_iommu(void **state)
{
	struct dmasim_machine *m = boot_iommu("intel_iommu=on");
	struct dmasim_disk *d = dmasim_disk_find(m, "disk0");
	unsigned char *w = malloc(8192), *r = calloc(1, 8192);

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
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_lines),
		cmocka_unit_test(test_groups_and_types),
		cmocka_unit_test(test_confinement_and_faults),
		cmocka_unit_test(test_fault_reasons_and_ratelimit),
		cmocka_unit_test(test_lazy_window),
		cmocka_unit_test(test_lazy_window_host_clock),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_untrusted_behind_external_port),
		cmocka_unit_test(test_drivers_through_iommu),
	};

	return cmocka_run_group_tests_name("intel_iommu", tests, NULL, NULL);
}
