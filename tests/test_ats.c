/* PCIe ATS: the capability and Linux 6.1's rule for enabling it (a
 * trusted device with the capability, a unit with device-TLBs, an ATSR
 * for VT-d), translated requests through VT-d (context TT 01b / 00b /
 * 10b) and AMD-Vi (DTE.I), translation requests, device-TLB
 * invalidation, and the ats attack's outcomes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attack/ats.h"
#include "dmasim/hw/amdvi.h"
#include "dmasim/hw/vtd.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "hw/amdvi.h"
#include "hw/bus.h"
#include "hw/rogue.h"
#include "hw/vtd.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/intel.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"

/* Three rogues, each below its own root port: t (trusted, ATS), u
 * (external port: untrusted, ATS) and n (trusted, no ATS). */
static const char *const devs[] = {
	"pcie-root-port,id=p1", "rogue,id=t,bus=p1,ats=on",
	"pcie-root-port,id=p2,external=on", "rogue,id=u,bus=p2,ats=on",
	"pcie-root-port,id=p3", "rogue,id=n,bus=p3",
};

static struct machine *boot(enum dmasim_iommu hw, const char *cmdline,
			    bool ats, const char *const *d, size_t nd)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.inline_devices = true;
	cfg.iommu = hw;
	cfg.ats = ats;
	cfg.devices = d;
	cfg.nr_devices = nd;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		fail_msg("boot failed: %s", err);
	return (struct machine *)m;
}

static struct machine *boot3(enum dmasim_iommu hw, const char *cmdline,
			     bool ats)
{
	return boot(hw, cmdline, ats, devs, sizeof(devs) / sizeof(devs[0]));
}

static void done(struct machine *m)
{
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static struct pci_func *fn_of(struct machine *m, const char *id)
{
	struct pci_func *fn = pci_find_id(m, id);

	assert_non_null(fn);
	return fn;
}

static struct pci_dev *pdev_of(struct machine *m, const char *id)
{
	struct pci_dev *p = pci_get_by_name(m, fn_of(m, id)->name);

	assert_non_null(p);
	return p;
}

static struct rogue *rogue(struct machine *m, const char *id)
{
	return rogue_of(fn_of(m, id));
}

/* The device's ATS Enable bit, as configuration space holds it. */
static bool ats_ctrl_enabled(struct machine *m, const char *id)
{
	struct pci_func *fn = fn_of(m, id);
	unsigned pos = pci_find_ext_capability(fn, PCI_EXT_CAP_ID_ATS);

	return pos && (pci_cfg_read(fn, pos + PCI_ATS_CTRL, 2) &
		       PCI_ATS_CTRL_ENABLE);
}

/* The translation type of the device's context entry (VT-d). */
static unsigned int ctx_tt(struct machine *m, const char *id)
{
	struct intel_iommu *iu = intel_iommu_of(m);
	struct pci_func *fn = fn_of(m, id);
	uint64_t lo;

	assert_non_null(iu);
	assert_int_not_equal(iu->ctx[fn->bus], 0);
	memcpy(&lo, m->ram.mem + iu->ctx[fn->bus] + fn->devfn * 16ULL, 8);
	return VTD_CTX_TT(lo);
}

/* DTE.I of the device (AMD-Vi). */
static bool dte_i(struct machine *m, const char *id)
{
	struct amd_iommu *iu = amd_iommu_of(m);
	struct pci_func *fn = fn_of(m, id);
	uint64_t q1;

	assert_non_null(iu);
	memcpy(&q1, m->ram.mem + iu->dev_table +
			    (uint64_t)pci_requester_id(fn) * AMDVI_DTE_SIZE + 8,
	       8);
	return q1 & AMDVI_DTE_I;
}

static bool has_line(struct machine *m, const char *line)
{
	return test_log_has((struct dmasim_machine *)m, line);
}

static bool log_contains(struct machine *m, const char *s)
{
	char *log = dmasim_dmesg((struct dmasim_machine *)m,
				 DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	bool found = log && strstr(log, s);

	free(log);
	return found;
}

/* A zeroed kernel page: its physical address, *cpu its contents. */
static uint64_t kpage(struct machine *m, uint8_t **cpu)
{
	struct page *pg = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);

	assert_non_null(pg);
	*cpu = page_address(pg);
	(void)m;
	return page_to_phys(pg);
}

static void free_kpage(uint8_t *cpu)
{
	__free_pages(virt_to_page(cpu), 0);
}

/* ---- the rule ---------------------------------------------------------- */

static void test_enable_rule_atsr(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_INTEL, "intel_iommu=on", true);

	(void)state;
	assert_true(has_line(m, "DMAR: ATSR flags: 0x1"));
	assert_false(log_contains(m, "DMAR: No ATSR found"));
	/* trusted, capability, ATSR: enabled, TT 01b */
	assert_int_not_equal(pdev_of(m, "t")->ats_cap, 0);
	assert_true(pdev_of(m, "t")->ats_enabled);
	assert_true(ats_ctrl_enabled(m, "t"));
	assert_int_equal(ctx_tt(m, "t"), VTD_TT_DEV_IOTLB);
	/* untrusted: never (Linux's mitigation) */
	assert_int_not_equal(pdev_of(m, "u")->ats_cap, 0);
	assert_false(pdev_of(m, "u")->ats_enabled);
	assert_false(ats_ctrl_enabled(m, "u"));
	assert_int_equal(ctx_tt(m, "u"), VTD_TT_MULTI_LEVEL);
	/* no capability: nothing to enable */
	assert_int_equal(pdev_of(m, "n")->ats_cap, 0);
	assert_false(pdev_of(m, "n")->ats_enabled);
	assert_int_equal(ctx_tt(m, "n"), VTD_TT_MULTI_LEVEL);
	done(m);
}

static void test_enable_rule_no_atsr(void **state)
{
	static const char *const one[] = { "pcie-root-port,id=p1,atsr=on",
					   "rogue,id=t,bus=p1,ats=on" };
	struct machine *m = boot3(DMASIM_IOMMU_INTEL, "intel_iommu=on", false);

	(void)state;
	assert_true(has_line(m, "DMAR: No ATSR found"));
	assert_false(log_contains(m, "ATSR flags"));
	assert_false(pdev_of(m, "t")->ats_enabled);
	assert_false(ats_ctrl_enabled(m, "t"));
	assert_int_equal(ctx_tt(m, "t"), VTD_TT_MULTI_LEVEL);
	done(m);
	/* an ATSR that lists the root port (flags 0) */
	m = boot(DMASIM_IOMMU_INTEL, "intel_iommu=on", false, one, 2);
	assert_true(has_line(m, "DMAR: ATSR flags: 0"));
	assert_false(log_contains(m, "DMAR: No ATSR found"));
	assert_true(pdev_of(m, "t")->ats_enabled);
	assert_int_equal(ctx_tt(m, "t"), VTD_TT_DEV_IOTLB);
	done(m);
}

static void test_enable_rule_identity_and_off(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_INTEL,
				  "intel_iommu=on iommu=pt", true);

	(void)state;
	/* identity: ATS enabled, the context is pass-through */
	assert_true(pdev_of(m, "t")->ats_enabled);
	assert_int_equal(ctx_tt(m, "t"), VTD_TT_PASS_THROUGH);
	assert_false(pdev_of(m, "u")->ats_enabled);
	done(m);
	/* the IOMMU not in use: no driver enables anything */
	m = boot3(DMASIM_IOMMU_INTEL, NULL, true);
	assert_false(pdev_of(m, "t")->ats_enabled);
	assert_false(ats_ctrl_enabled(m, "t"));
	done(m);
}

/* ---- VT-d: translated requests ----------------------------------------- */

static void expect_dmar_line(struct machine *m, const char *id, bool read,
			     uint64_t addr, const char *reason)
{
	struct pci_func *fn = fn_of(m, id);
	char line[256];

	snprintf(line, sizeof(line),
		 "DMAR: [DMA %s NO_PASID] Request device [%02x:%02x.%d] fault addr 0x%llx %s",
		 read ? "Read" : "Write", fn->bus, PCI_SLOT(fn->devfn),
		 PCI_FUNC(fn->devfn), (unsigned long long)(addr & ~0xfffULL),
		 reason);
	assert_true(has_line(m, line));
}

static void test_vtd_translated(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_INTEL,
				  "intel_iommu=on iommu.strict=1", true);
	struct vtd_stats st;
	struct rogue_stats rs;
	uint8_t *cpu, got[8];
	uint64_t phys = kpage(m, &cpu);
	size_t n;

	(void)state;
	/* TT 01b: a translated write reaches RAM, untranslated */
	assert_int_equal(rogue_write_translated(rogue(m, "t"), phys, "bypass",
						7, &n), PCI_STATUS_OK);
	assert_int_equal(n, 7);
	assert_string_equal((char *)cpu, "bypass");
	assert_int_equal(rogue_read_translated(rogue(m, "t"), phys, got, 7,
					       NULL), PCI_STATUS_OK);
	assert_string_equal((char *)got, "bypass");
	/* the same address untranslated: nothing maps it */
	assert_int_equal(rogue_read(rogue(m, "t"), phys, got, 8, NULL),
			 PCI_STATUS_UR);
	expect_dmar_line(m, "t", true, phys,
			 "[fault reason 0x06] PTE Read access is not set");
	/* TT 00b (untrusted): blocked with reason 0xD, RAM unchanged */
	assert_int_equal(rogue_write_translated(rogue(m, "u"), phys, "u", 2,
						&n), PCI_STATUS_UR);
	assert_int_equal(n, 0);
	assert_string_equal((char *)cpu, "bypass");
	expect_dmar_line(m, "u", false, phys,
			 "[fault reason 0x0d] PCE for translation request specifies blocking");
	assert_int_equal(rogue_read_translated(rogue(m, "n"), phys, got, 8,
					       NULL), PCI_STATUS_UR);
	expect_dmar_line(m, "n", true, phys,
			 "[fault reason 0x0d] PCE for translation request specifies blocking");
	vtd_get_stats(m->iommu_units, &st);
	assert_int_equal(st.translated, 2);
	rogue_get_stats(rogue(m, "u"), &rs);
	assert_int_equal(rs.writes, 1);
	assert_int_equal(rs.translated, 1);
	assert_int_equal(rs.faults, 1);
	assert_int_equal(rs.bytes_written, 0);
	free_kpage(cpu);
	done(m);
}

static void test_vtd_translation_requests(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_INTEL,
				  "intel_iommu=on iommu.strict=1", true);
	struct device *dev = &pdev_of(m, "t")->dev;
	struct vtd_stats before, after;
	struct rogue_stats rs;
	uint8_t *cpu, got[4];
	uint64_t phys = kpage(m, &cpu), out = 0;
	dma_addr_t a;

	(void)state;
	memcpy(cpu, "abc", 4);
	a = dma_map_single(dev, cpu, 4096, DMA_BIDIRECTIONAL);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	/* the untranslated path is as it was */
	assert_int_equal(rogue_read(rogue(m, "t"), a, got, 4, NULL),
			 PCI_STATUS_OK);
	assert_string_equal((char *)got, "abc");
	/* a translation request answers with the page's address */
	assert_int_equal(rogue_ats_translate(rogue(m, "t"), a + 8, true, &out),
			 PCI_STATUS_OK);
	assert_int_equal(out, phys + 8);
	assert_int_equal(rogue_ats_translate(rogue(m, "t"), 0x10000, false,
					     &out), PCI_STATUS_UR);
	/* untrusted (TT 00b): blocked, reason 0xD */
	assert_int_equal(rogue_ats_translate(rogue(m, "u"), 0x10000, false,
					     &out), PCI_STATUS_UR);
	expect_dmar_line(m, "u", true, 0x10000,
			 "[fault reason 0x0d] PCE for translation request specifies blocking");
	rogue_get_stats(rogue(m, "t"), &rs);
	assert_int_equal(rs.translations, 2);
	/* strict unmap: the IOTLB, then the device TLB (descriptor 3) */
	vtd_get_stats(m->iommu_units, &before);
	dma_unmap_single(dev, a, 4096, DMA_BIDIRECTIONAL);
	vtd_get_stats(m->iommu_units, &after);
	assert_int_equal(after.devtlb_invalidations,
			 before.devtlb_invalidations + 1);
	assert_int_equal(after.qi_errors, 0);
	free_kpage(cpu);
	done(m);
}

static void test_vtd_passthrough_and_off(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_INTEL,
				  "intel_iommu=on iommu=pt", true);
	uint8_t *cpu, got[4];
	uint64_t phys = kpage(m, &cpu);

	(void)state;
	memcpy(cpu, "pt!", 4);
	/* TT 10b: translated requests pass as every request does */
	assert_int_equal(rogue_read_translated(rogue(m, "t"), phys, got, 4,
					       NULL), PCI_STATUS_OK);
	assert_string_equal((char *)got, "pt!");
	/* an untrusted device has a translated (DMA) domain: TT 00b */
	assert_int_equal(rogue_read_translated(rogue(m, "u"), phys, got, 4,
					       NULL), PCI_STATUS_UR);
	free_kpage(cpu);
	done(m);
	/* translation off (no intel_iommu=on): everything reaches RAM */
	m = boot3(DMASIM_IOMMU_INTEL, NULL, false);
	phys = kpage(m, &cpu);
	memcpy(cpu, "off", 4);
	assert_int_equal(rogue_read_translated(rogue(m, "u"), phys, got, 4,
					       NULL), PCI_STATUS_OK);
	assert_string_equal((char *)got, "off");
	free_kpage(cpu);
	done(m);
}

/* ---- AMD-Vi ------------------------------------------------------------ */

static void expect_idr(struct machine *m, const char *id, uint64_t addr,
		       unsigned int flags)
{
	struct pci_func *fn = fn_of(m, id);
	char line[256];

	snprintf(line, sizeof(line),
		 "pci 0000:00:00.2: AMD-Vi: Event logged [INVALID_DEVICE_REQUEST device=0000:%02x:%02x.%x pasid=0x00000 address=0x%llx flags=0x%04x]",
		 fn->bus, PCI_SLOT(fn->devfn), PCI_FUNC(fn->devfn),
		 (unsigned long long)addr, flags);
	assert_true(has_line(m, line));
}

static void test_amd_translated(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_AMD, NULL, false);
	struct amdvi_stats st;
	uint8_t *cpu, got[4];
	uint64_t phys = kpage(m, &cpu), out;

	(void)state;
	memcpy(cpu, "amd", 4);
	/* IotlbSup, trusted, capability: ATS on, DTE.I */
	assert_true(pdev_of(m, "t")->ats_enabled);
	assert_true(ats_ctrl_enabled(m, "t"));
	assert_true(dte_i(m, "t"));
	assert_false(pdev_of(m, "u")->ats_enabled);
	assert_false(dte_i(m, "u"));
	assert_false(dte_i(m, "n"));
	assert_int_equal(rogue_read_translated(rogue(m, "t"), phys, got, 4,
					       NULL), PCI_STATUS_OK);
	assert_string_equal((char *)got, "amd");
	/* I = 0: INVALID_DEVICE_REQUEST, type 1 (pretranslated), RW */
	assert_int_equal(rogue_write_translated(rogue(m, "u"), phys + 16, "x",
						1, NULL), PCI_STATUS_UR);
	expect_idr(m, "u", phys + 16, 0x0021);
	assert_int_equal(rogue_read_translated(rogue(m, "n"), phys, got, 4,
					       NULL), PCI_STATUS_UR);
	expect_idr(m, "n", phys, 0x0001);
	/* a translation request from I = 0 carries TR */
	assert_int_equal(rogue_ats_translate(rogue(m, "n"), 0x2000, false,
					     &out), PCI_STATUS_UR);
	expect_idr(m, "n", 0x2000, 0x0101);
	amdvi_get_stats(m->iommu_units, &st);
	assert_int_equal(st.translated, 1);
	assert_string_equal((char *)cpu, "amd");
	free_kpage(cpu);
	done(m);
}

/* AMD-Vi, strict: an unmap invalidates the IOTLB, then the ATS device's
 * cache (INVALIDATE_IOTLB_PAGES); a translation request answers. */
static void test_amd_translation_and_invalidation(void **state)
{
	struct machine *m = boot3(DMASIM_IOMMU_AMD, "iommu.strict=1", false);
	struct device *dev = &pdev_of(m, "t")->dev;
	struct amdvi_stats before, after;
	uint8_t *cpu;
	uint64_t phys = kpage(m, &cpu), out = 0;
	dma_addr_t a;

	(void)state;
	a = dma_map_single(dev, cpu, 4096, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_int_equal(rogue_ats_translate(rogue(m, "t"), a + 4, false, &out),
			 PCI_STATUS_OK);
	assert_int_equal(out, phys + 4);
	amdvi_get_stats(m->iommu_units, &before);
	dma_unmap_single(dev, a, 4096, DMA_TO_DEVICE);
	amdvi_get_stats(m->iommu_units, &after);
	assert_int_equal(after.iotlb_pages_commands,
			 before.iotlb_pages_commands + 1);
	assert_int_equal(after.command_errors, 0);
	free_kpage(cpu);
	done(m);
}

/* ---- the attack -------------------------------------------------------- */

static const char *const atk_trusted[] = {
	"pcie-root-port,id=ats_rp,atsr=on", "rogue,id=rogue0,bus=ats_rp,ats=on",
	NULL,
};
static const char *const atk_untrusted[] = {
	"pcie-root-port,id=ats_rp,atsr=on,external=on",
	"rogue,id=rogue0,bus=ats_rp,ats=on", NULL,
};
static const char *const atk_no_atsr[] = {
	"pcie-root-port,id=ats_rp", "rogue,id=rogue0,bus=ats_rp,ats=on", NULL,
};

static void run_ats(const char *const *d, const char *name,
		    const char *cmdline, enum dmasim_iommu hw,
		    struct atk_result *r)
{
	const struct attack a = { "ats", "translated requests", MiB(512),
				  NULL, d, attack_ats, false };
	const struct atk_policy p = { name, cmdline, hw, false, "test" };

	attack_run(&a, &p, NULL, r);
	if (r->error)
		print_error("ats under %s: %d\n", name, r->error);
	assert_int_equal(r->error, 0);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void test_attack_bypass(void **state)
{
	static const char *const pol[][2] = {
		{ "lazy", "intel_iommu=on" },
		{ "strict", "intel_iommu=on iommu.strict=1" },
	};
	struct atk_result r;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		run_ats(atk_trusted, pol[i][0], pol[i][1], DMASIM_IOMMU_INTEL,
			&r);
		assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
		assert_true(strstr(r.did, "ATS enabled for the device"));
		assert_true(strstr(r.did, "(the secret's address): unsupported request"));
		assert_true(r.bytes_leaked > 0);
		assert_true(r.bytes_corrupted > 0);
		/* one IOMMU fault: the untranslated probe (the other URs
		 * are the sweep's blocks in holes, as scan has them) */
		assert_int_equal(r.fault_lines, 1);
		assert_true(strstr(r.log, "[fault reason 0x06]"));
	}
	run_ats(atk_trusted, "amd-lazy", "", DMASIM_IOMMU_AMD, &r);
	assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
	assert_int_equal(r.fault_lines, 1);
	assert_true(strstr(r.log, "IO_PAGE_FAULT"));
}

static void test_attack_blocked(void **state)
{
	struct atk_result r;

	(void)state;
	run_ats(atk_untrusted, "untrusted", "intel_iommu=on",
		DMASIM_IOMMU_INTEL, &r);
	assert_true(starts(r.verdict, "blocked"));
	assert_true(strstr(r.verdict, "(0 bytes changed)"));
	assert_true(strstr(r.did, "ATS left off for the device (untrusted"));
	assert_int_equal(r.bytes_leaked, 0);
	assert_int_equal(r.bytes_corrupted, 0);
	assert_true(r.faults > 1);
	assert_true(strstr(r.log, "[fault reason 0x0d] PCE for translation request specifies blocking"));
	/* trusted, but the firmware has no ATSR: ATS stays off */
	run_ats(atk_no_atsr, "lazy-no-atsr", "intel_iommu=on",
		DMASIM_IOMMU_INTEL, &r);
	assert_true(starts(r.verdict, "blocked"));
	assert_int_equal(r.bytes_leaked, 0);
	/* untrusted on AMD-Vi: INVALID_DEVICE_REQUEST */
	run_ats(atk_untrusted, "amd-untrusted", "", DMASIM_IOMMU_AMD, &r);
	assert_true(starts(r.verdict, "blocked"));
	assert_true(strstr(r.log, "INVALID_DEVICE_REQUEST"));
}

static void test_attack_no_iommu(void **state)
{
	struct atk_result r;

	(void)state;
	run_ats(atk_untrusted, "no-iommu", "", DMASIM_IOMMU_INTEL, &r);
	assert_true(starts(r.verdict, "ATTACK SUCCEEDED"));
	assert_int_equal(r.fault_lines, 0);
	assert_true(strstr(r.did, "(the secret's address): ok"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_rule_atsr),
		cmocka_unit_test(test_enable_rule_no_atsr),
		cmocka_unit_test(test_enable_rule_identity_and_off),
		cmocka_unit_test(test_vtd_translated),
		cmocka_unit_test(test_vtd_translation_requests),
		cmocka_unit_test(test_vtd_passthrough_and_off),
		cmocka_unit_test(test_amd_translated),
		cmocka_unit_test(test_amd_translation_and_invalidation),
		cmocka_unit_test(test_attack_bypass),
		cmocka_unit_test(test_attack_blocked),
		cmocka_unit_test(test_attack_no_iommu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
