/* The attack suite: each attack's outcome under each policy, measured;
 * the rogue device's statuses for holes, addresses beyond RAM and bus
 * mastering off; its windows and remembered IOVAs. */
#include <errno.h>
#include <string.h>

#include "attack/attack.h"
#include "drivers/rnic.h"
#include "helpers.h"
#include "hw/rogue.h"
#include "kernel/machine.h"

static void run(const char *attack, const char *policy, struct atk_result *r)
{
	const struct attack *a = attack_find(attack);
	const struct atk_policy *p = atk_policy_find(policy);

	assert_non_null(a);
	assert_non_null(p);
	attack_run(a, p, NULL, r);
	if (r->error)
		print_error("%s under %s: %d\n", attack, policy, r->error);
	assert_int_equal(r->error, 0);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void test_scan(void **state)
{
	static const char *const open[] = { "no-iommu", "passthrough" };
	static const char *const shut[] = { "lazy", "strict", "untrusted",
					    "amd-lazy", "amd-strict" };
	struct atk_result r;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		run("scan", open[i], &r);
		assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
		assert_true(r.bytes_leaked > 4096);
		/* eight ids; with passthrough also the root and context
		 * entries written back (16 bytes each) */
		assert_int_equal(r.bytes_corrupted, i ? 32 + 2 * 16 : 32);
		assert_int_equal(r.fault_lines, 0);
	}
	for (size_t i = 0; i < 5; i++) {
		run("scan", shut[i], &r);
		assert_true(starts(r.verdict, "blocked"));
		assert_int_equal(r.bytes_leaked, 0);
		assert_int_equal(r.bytes_corrupted, 0);
		/* every 64 KiB block, then a read and a write of each table
		 * page (VT-d: root, context, 4 levels; AMD-Vi: device table,
		 * 4 levels) */
		assert_int_equal(r.faults, 8192 + 2 * (i < 3 ? 6 : 5));
		assert_true(r.fault_lines >= 1);
		assert_non_null(strstr(r.log, i < 3 ? "DMAR: [DMA Read NO_PASID] Request device [02:00.0] fault addr 0x0 [fault reason 0x06]"
						  : "AMD-Vi: Event logged [IO_PAGE_FAULT domain="));
	}
}

static void test_subpage(void **state)
{
	struct atk_result r;

	(void)state;
	run("subpage", "no-iommu", &r);
	assert_int_equal(r.bytes_leaked, 2048);
	assert_int_equal(r.bytes_corrupted, 128);
	assert_non_null(strstr(r.did, ": the same page"));
	/* translated: the write-only mapping cannot be read, but the page
	 * is writable: the table is overwritten */
	run("subpage", "strict", &r);
	assert_int_equal(r.bytes_leaked, 0);
	assert_int_equal(r.bytes_corrupted, 128);
	assert_int_equal(r.faults, 1);
	assert_non_null(strstr(r.log, "[fault reason 0x06] PTE Read access is not set"));
	assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
	run("subpage", "amd-lazy", &r);
	assert_int_equal(r.bytes_corrupted, 128);
	/* untrusted: bounced, the write lands in zeroed padding */
	run("subpage", "untrusted", &r);
	assert_int_equal(r.bytes_leaked, 0);
	assert_int_equal(r.bytes_corrupted, 0);
	assert_true(starts(r.verdict, "blocked: the table is unchanged"));
}

static void test_stale_iotlb(void **state)
{
	struct atk_result r;

	(void)state;
	run("stale-iotlb", "lazy", &r);
	assert_int_equal(r.faults, 10);
	assert_int_equal(r.bytes_corrupted, 10 * 16);
	assert_non_null(strstr(r.verdict, "10 writes after unmap, closed after 10 ms"));
	assert_non_null(strstr(r.did, "(the freed buffer's memory)"));
	run("stale-iotlb", "amd-lazy", &r);
	assert_int_equal(r.faults, 10);
	run("stale-iotlb", "strict", &r);
	assert_int_equal(r.bytes_corrupted, 0);
	assert_int_equal(r.faults, 20);
	assert_true(starts(r.verdict, "blocked: 0 accesses after unmap"));
	run("stale-iotlb", "untrusted", &r);
	assert_int_equal(r.bytes_corrupted, 0);
	run("stale-iotlb", "no-iommu", &r);
	assert_int_equal(r.bytes_corrupted, 20 * 16);
	assert_int_equal(r.faults, 0);
}

static void test_open_descriptor(void **state)
{
	struct atk_result r;

	(void)state;
	run("open-descriptor", "strict", &r);
	assert_non_null(strstr(r.did, "saw 10 of 10 kernel objects"));
	assert_non_null(strstr(r.verdict, "the watchdog closed it at 5 ms"));
	assert_int_equal(r.faults, 15);
	run("open-descriptor", "lazy", &r);
	assert_non_null(strstr(r.verdict, "stayed readable until 10 ms"));
	run("open-descriptor", "untrusted", &r);
	assert_int_equal(r.bytes_leaked, 0);
	assert_true(starts(r.verdict, "blocked"));
	run("open-descriptor", "passthrough", &r);
	assert_non_null(strstr(r.verdict, "does not help without translation"));
	assert_int_equal(r.faults, 0);
}

/* The IOMMU's own tables: reachable without translation, not with. */
static void test_scan_iommu_tables(void **state)
{
	struct atk_result r;

	(void)state;
	run("scan", "no-iommu", &r);
	assert_non_null(strstr(r.did, "no IOMMU tables (no IOMMU in use)"));
	assert_string_equal(r.verdict, "ATTACK SUCCEEDED: secret read, credential is root");
	run("scan", "passthrough", &r);
	assert_non_null(strstr(r.did, "VT-d root table at phys 0x"));
	assert_non_null(strstr(r.did, "VT-d context table at phys 0x"));
	assert_non_null(strstr(r.did, "wrote its entry (a write there maps anything)"));
	assert_null(strstr(r.did, "page table, level")); /* pass-through: none */
	assert_non_null(strstr(r.verdict, "; IOMMU tables writable"));
	run("scan", "strict", &r);
	assert_non_null(strstr(r.did, "VT-d root table at phys 0x"));
	assert_non_null(strstr(r.did, "page table, level 1 at phys 0x"));
	assert_null(strstr(r.did, "wrote its entry"));
	assert_non_null(strstr(r.did, "read faulted, write faulted"));
	assert_int_equal(r.bytes_corrupted, 0);
	run("scan", "amd-strict", &r);
	assert_non_null(strstr(r.did, "AMD-Vi device table at phys 0x"));
	assert_non_null(strstr(r.did, "page table, level 1 at phys 0x"));
	assert_non_null(strstr(r.did, "read faulted, write faulted"));
	assert_int_equal(r.bytes_corrupted, 0);
}

#define SHARED_SECRET_LEN 51 /* the victim's queued packet */

static void test_shared_group(void **state)
{
	struct atk_result r;

	(void)state;
	for (size_t i = 0; i < atk_nr_policies; i++) {
		bool xlate = i >= 2;

		run("shared-group", atk_policies[i].name, &r);
		assert_true(starts(r.verdict, "ATTACK SUCCEEDED: read A's packet, forged A's rx data"));
		assert_int_equal(r.bytes_leaked, SHARED_SECRET_LEN);
		assert_int_equal(r.bytes_corrupted, 2048);
		assert_int_equal(r.faults, 0);
		assert_non_null(strstr(r.did, "driver A: its rx buffer holds B's forged packet"));
		/* passthrough has groups too, but identity domains */
		assert_non_null(strstr(r.did, i ? "are both in iommu group" : "no IOMMU in use"));
		assert_non_null(strstr(r.verdict, xlate ? "(one group, one domain)"
							: "B reaches everything anyway"));
	}
}

static void test_shared_group_acs(void **state)
{
	struct atk_result r;

	(void)state;
	for (size_t i = 0; i < atk_nr_policies; i++) {
		run("shared-group-acs", atk_policies[i].name, &r);
		if (i < 2) { /* no-iommu, passthrough */
			assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
			assert_int_equal(r.bytes_leaked, SHARED_SECRET_LEN);
			assert_int_equal(r.bytes_corrupted, 2048);
			continue;
		}
		assert_string_equal(r.verdict, "blocked: B's domain maps none of A's IOVAs (separate domains)");
		assert_int_equal(r.bytes_leaked, 0);
		assert_int_equal(r.bytes_corrupted, 0);
		assert_int_equal(r.faults, 2);
		assert_non_null(strstr(r.did, "two domains"));
		assert_null(strstr(r.did, "forged packet"));
		assert_non_null(strstr(r.log, i < 5 ? "DMAR: [DMA Read NO_PASID] Request device [02:00.1] fault addr 0x"
						: "rnic 0000:02:00.1: AMD-Vi: Event logged [IO_PAGE_FAULT domain="));
	}
}

static void test_bounce_pool(void **state)
{
	static const char *const shut[] = { "lazy", "strict", "amd-lazy", "amd-strict" };
	struct atk_result r;

	(void)state;
	run("bounce-pool", "no-iommu", &r);
	assert_true(starts(r.verdict, "ATTACK SUCCEEDED: A's packet read from the pool after unmap"));
	assert_non_null(strstr(r.did, "(bounced: in the pool)"));
	assert_non_null(strstr(r.did, "found A's packet"));
	/* one 64 KiB block, less the device's own two slots' bytes */
	assert_int_equal(r.bytes_leaked, 65536 - 2048 - 14);
	assert_int_equal(r.bytes_corrupted, 0);
	run("bounce-pool", "passthrough", &r);
	assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
	for (size_t i = 0; i < 4; i++) {
		run("bounce-pool", shut[i], &r);
		assert_true(starts(r.verdict, "blocked: the pool is not mapped for the device"));
		assert_int_equal(r.bytes_leaked, 0);
		assert_int_equal(r.faults, 1024); /* 64 MiB in 64 KiB blocks */
		assert_non_null(strstr(r.did, "(an IOVA)"));
	}
	run("bounce-pool", "untrusted", &r);
	assert_string_equal(r.verdict, "blocked: the pool is not mapped for the device; its own bounced granule held 0 stale bytes (padding zeroed)");
	assert_int_equal(r.bytes_leaked, 0);
	assert_non_null(strstr(r.did, "its granule (4096 bytes read)"));
}

/* ATS: translated requests bypass translation once the kernel has
 * enabled ATS for the device; never for an untrusted one. */
static void test_ats(void **state)
{
	static const char *const open[] = { "no-iommu", "passthrough", "lazy",
					    "strict", "amd-lazy", "amd-strict" };
	struct atk_result r;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		run("ats", open[i], &r);
		assert_string_equal(r.verdict, "ATTACK SUCCEEDED: translated requests reached RAM: secret read, credential is root");
		assert_int_equal(r.bytes_corrupted, 32);
		assert_true(r.bytes_leaked > 0);
	}
	run("ats", "lazy", &r);
	/* its untranslated look at the same address faulted */
	assert_non_null(strstr(r.log, "[fault reason 0x06] PTE Read access is not set"));
	run("ats", "untrusted", &r);
	assert_string_equal(r.verdict, "blocked: translated requests refused, targets unchanged (0 bytes changed)");
	assert_int_equal(r.bytes_leaked, 0);
	assert_int_equal(r.bytes_corrupted, 0);
	assert_non_null(strstr(r.log, "[fault reason 0x0d] PCE for translation request specifies blocking"));
}

static struct dmasim_machine *boot_rogue(const char *cmdline)
{
	static const char *const devs[] = { "rogue,id=rogue0" };
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(1);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.inline_devices = true;
	cfg.nr_cpus = 2;
	cfg.devices = devs;
	cfg.nr_devices = 1;
	assert_int_equal(dmasim_machine_create(&cfg, &m, NULL, 0), 0);
	return m;
}

static void test_rogue_statuses(void **state)
{
	struct dmasim_machine *dm = boot_rogue(NULL);
	struct machine *m = (struct machine *)dm;
	struct pci_func *fn = pci_find_id(m, "rogue0");
	struct rogue *r = rogue_of(fn);
	struct rogue_stats st;
	uint8_t buf[64];
	size_t done = 99;

	(void)state;
	assert_non_null(r);
	assert_null(rogue_of(pci_find_id(m, "dmac0")));
	assert_int_equal(rogue_read(r, 0x1000, buf, 8, &done), PCI_STATUS_OK);
	assert_int_equal(done, 8);
	/* the legacy hole, the PCI hole, beyond RAM: unsupported requests */
	assert_int_equal(rogue_read(r, 0xa0000, buf, 8, &done), PCI_STATUS_UR);
	assert_int_equal(done, 0);
	assert_int_equal(rogue_write(r, 0xfec00000, buf, 8, NULL), PCI_STATUS_UR);
	assert_int_equal(rogue_read(r, GiB(64), buf, 8, NULL), PCI_STATUS_UR);
	assert_int_equal(rogue_read(r, UINT64_MAX - 3, buf, 8, NULL), PCI_STATUS_UR);
	/* a read running into the hole stops there */
	assert_int_equal(rogue_read(r, 0xa0000 - 16, buf, 64, &done), PCI_STATUS_UR);
	assert_int_equal(done, 16);
	/* bus mastering off: a master abort */
	pci_clear_master(pci_get_by_name(m, fn->name));
	assert_int_equal(rogue_read(r, 0x1000, buf, 8, NULL), PCI_STATUS_MASTER_ABORT);
	rogue_get_stats(r, &st);
	assert_int_equal(st.faults, 5);
	assert_int_equal(st.aborts, 1);
	assert_int_equal(st.bytes_read, 8 + 16);
	dmasim_machine_destroy(dm);
}

static void test_rogue_windows(void **state)
{
	struct dmasim_machine *dm = boot_rogue("intel_iommu=on iommu.strict=1");
	struct machine *m = (struct machine *)dm;
	struct rogue *r = rogue_of(pci_find_id(m, "rogue0"));
	struct rnic *n = rnic_of(pci_get_by_name(m, pci_find_id(m, "rogue0")->name));
	struct rogue_window w[4];
	struct rogue_iova v[4];
	struct rnic_buf b;

	(void)state;
	assert_non_null(n);
	assert_int_equal(rnic_xmit(n, "hello", 5), 0);
	assert_int_equal(rnic_buffers(n, &b, 1), 1);
	/* Thunderclap's probe: the one page mapped readable answers */
	assert_int_equal(rogue_scan(r, 0xffff0000ULL, 0x100000000ULL, w, 4), 1);
	assert_int_equal(w[0].start, b.dma & ~0xfffULL);
	assert_int_equal(w[0].end, w[0].start + 4096);
	assert_int_equal(rogue_iovas(r, v, 4), 1);
	assert_int_equal(v[0].addr, b.dma);
	assert_true(v[0].tx);
	/* it completes; the driver unmaps; the remembered IOVA faults */
	assert_int_equal(rogue_tx_complete(r), 1);
	assert_int_equal(rnic_buffers(n, &b, 1), 0);
	assert_int_equal(rogue_scan(r, 0xffff0000ULL, 0x100000000ULL, w, 4), 0);
	/* withheld: nothing completes */
	rogue_set_withhold(r, true);
	assert_int_equal(rnic_xmit(n, "again", 5), 0);
	assert_int_equal(rogue_tx_complete(r), -EBUSY);
	assert_int_equal(rogue_rx_packet(r, "x", 1), -EBUSY);
	rogue_set_withhold(r, false);
	assert_int_equal(rogue_rx_packet(r, "x", 1), -ENOSPC); /* no rx buffer */
	dmasim_machine_destroy(dm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_subpage),
		cmocka_unit_test(test_stale_iotlb),
		cmocka_unit_test(test_open_descriptor),
		cmocka_unit_test(test_scan_iommu_tables),
		cmocka_unit_test(test_shared_group),
		cmocka_unit_test(test_shared_group_acs),
		cmocka_unit_test(test_bounce_pool),
		cmocka_unit_test(test_ats),
		cmocka_unit_test(test_rogue_statuses),
		cmocka_unit_test(test_rogue_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
