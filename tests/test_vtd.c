/*
 * The VT-d remapping unit as hardware: registers programmed through its
 * window, root/context/second-level tables written by hand in machine
 * RAM in the specification's format, and accesses translated directly or
 * through a function's bus-master path. Walks at every level and page
 * size, pass-through, every fault reason the tables can produce with its
 * record, round-robin recording and overflow, the fault event MSI and its
 * mask, permissions per direction, the IOTLB and context cache keeping
 * stale entries until invalidated (registers and queued invalidation),
 * the queue's wait and error handling, counters, and translations from
 * several threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "hw/bus.h"
#include "hw/mmio.h"
#include "hw/pci.h"
#include "hw/vtd.h"
#include "kernel/machine.h"

#define TABLES	 0x120000000ULL	/* high RAM the kernel leaves alone */
#define DATA	 0x140000000ULL
#define HOLE	 0xd0000000ULL	/* inside the PCI hole, 3-4 GiB */
#define REG_BASE 0xfed90000ULL
#define SID_A	 0x0300		/* 03:00.0 */
#define SID_B	 0x0308		/* 03:01.0 */
#define RO_UPPER 0x8000000000ULL /* PML4 slot 1 */

struct vt {
	struct dmasim_machine *dm;
	struct machine *m;
	struct iommu_unit *u;
	volatile uint8_t *regs;
	struct pci_func *fn;
	uint64_t next, root;
	uint32_t gcmd;
	uint64_t iq, status;
	unsigned int iq_tail;
	uint32_t seq;
};

/* ------------------------------------------------------------ helpers */

static uint32_t rd32(struct vt *t, uint64_t off)
{
	return (uint32_t)mmio_read(t->regs + off, 4);
}

static uint64_t rd64(struct vt *t, uint64_t off)
{
	return mmio_read(t->regs + off, 8);
}

static void wr32(struct vt *t, uint64_t off, uint32_t v)
{
	mmio_write(t->regs + off, v, 4);
}

static void wr64(struct vt *t, uint64_t off, uint64_t v)
{
	mmio_write(t->regs + off, v, 8);
}

static void put64(struct vt *t, uint64_t addr, uint64_t v)
{
	assert_int_equal(dmasim_phys_write(t->dm, addr, &v, 8), 0);
}

static uint64_t get64(struct vt *t, uint64_t addr)
{
	uint64_t v;

	assert_int_equal(dmasim_phys_read(t->dm, addr, &v, 8), 0);
	return v;
}

static uint64_t new_page(struct vt *t)
{
	static const uint8_t zero[4096];
	uint64_t a = t->next;

	t->next += 4096;
	assert_int_equal(dmasim_phys_write(t->dm, a, zero, sizeof(zero)), 0);
	return a;
}

static void boot(struct vt *t, const struct vtd_params *p)
{
	const char *specs[] = { "pcie-root-port,id=rp1" };
	struct dmasim_config cfg;
	char err[256] = "";

	memset(t, 0, sizeof(*t));
	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(6);
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.devices = specs;
	cfg.nr_devices = 1;
	cfg.nodefaults = true;
	cfg.inline_devices = true;
	if (dmasim_machine_create(&cfg, &t->dm, err, sizeof(err)))
		fail_msg("boot: %s", err);
	t->m = (struct machine *)t->dm;
	assert_int_equal(vtd_create(t->m, REG_BASE, p, &t->u), 0);
	t->regs = mmio_window(vtd_regs(t->u));
	t->next = TABLES;
	t->root = new_page(t);
	t->fn = pci_find_id(t->m, "rp1");
	assert_non_null(t->fn);
	pci_cfg_write(t->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
}

static void shutdown(struct vt *t)
{
	t->fn->iommu = NULL;
	vtd_destroy(t->u);
	dmasim_machine_destroy(t->dm);
}

static void gcmd(struct vt *t, uint32_t set, uint32_t clear)
{
	t->gcmd = (t->gcmd | set) & ~clear;
	wr32(t, DMAR_GCMD_REG, t->gcmd);
}

/* Root table pointer, then translation on, as the kernel does. */
static void enable(struct vt *t)
{
	wr64(t, DMAR_RTADDR_REG, t->root);
	wr32(t, DMAR_GCMD_REG, t->gcmd | VTD_GCMD_SRTP);
	assert_true(rd32(t, DMAR_GSTS_REG) & VTD_GSTS_RTPS);
	gcmd(t, VTD_GCMD_TE, 0);
	assert_true(rd32(t, DMAR_GSTS_REG) & VTD_GSTS_TES);
}

static void set_ctx(struct vt *t, uint16_t sid, uint64_t lo, uint64_t hi)
{
	uint64_t re = get64(t, t->root + (sid >> 8) * 16ULL), ct;

	if (!(re & VTD_ROOT_P)) {
		re = new_page(t) | VTD_ROOT_P;
		put64(t, t->root + (sid >> 8) * 16ULL, re);
	}
	ct = re & VTD_ROOT_CTP_MASK;
	put64(t, ct + (sid & 0xff) * 16ULL, lo);
	put64(t, ct + (sid & 0xff) * 16ULL + 8, hi);
}

/* A domain @did for @sid with @aw (1: 3-level, 2: 4-level); its top. */
static uint64_t domain(struct vt *t, uint16_t sid, uint16_t did,
		       unsigned int aw)
{
	uint64_t top = new_page(t);

	set_ctx(t, sid, top | VTD_CTX_P,
		aw | (uint64_t)did << VTD_CTX_DID_SHIFT);
	return top;
}

static unsigned int levels_of(unsigned int aw)
{
	return VTD_AGAW_LEVELS(aw);
}

/* Map @iova -> @phys with a page of 2^@shift; returns the leaf's address. */
static uint64_t map(struct vt *t, uint64_t top, unsigned int aw,
		    uint64_t iova, uint64_t phys, unsigned int shift,
		    uint64_t perm)
{
	unsigned int leaf_level = (shift - 12) / 9 + 1;
	uint64_t table = top, slot, pte;

	for (unsigned int l = levels_of(aw); l > leaf_level; l--) {
		slot = table + VTD_PTE_INDEX(iova, l) * 8;
		pte = get64(t, slot);
		if (!pte) {
			pte = new_page(t) | VTD_PTE_R | VTD_PTE_W;
			put64(t, slot, pte);
		}
		table = pte & VTD_PTE_ADDR_MASK;
	}
	slot = table + VTD_PTE_INDEX(iova, leaf_level) * 8;
	put64(t, slot, phys | perm | (shift > 12 ? VTD_PTE_PS : 0));
	return slot;
}

static enum pci_status tr(struct vt *t, uint16_t sid, uint64_t iova,
			  size_t len, bool write, uint64_t *phys,
			  size_t *chunk)
{
	return t->u->ops->translate(t->u, sid, iova, len, write, phys, chunk);
}

/* Translate and expect @want with @len bytes of chunk. */
static void expect_ok(struct vt *t, uint16_t sid, uint64_t iova, size_t len,
		      bool write, uint64_t want, size_t want_chunk)
{
	uint64_t phys = 0;
	size_t chunk = 0;

	assert_int_equal(tr(t, sid, iova, len, write, &phys, &chunk),
			 PCI_STATUS_OK);
	assert_int_equal(phys, want);
	assert_int_equal(chunk, want_chunk);
}

static uint64_t frcd(unsigned int i)
{
	return VTD_FRO_OFFSET + (uint64_t)i * VTD_FRCD_LEN;
}

/* The pending record: check it, clear it (F is write-1-to-clear). */
static void check_record(struct vt *t, uint16_t sid, uint64_t iova,
			 bool write, unsigned int reason)
{
	uint32_t fsts = rd32(t, DMAR_FSTS_REG);
	unsigned int i = VTD_FSTS_FRI(fsts);
	uint64_t lo = rd64(t, frcd(i)), hi = rd64(t, frcd(i) + 8);

	assert_true(fsts & VTD_FSTS_PPF);
	assert_true(hi & VTD_FRCD_F);
	assert_int_equal(VTD_FRCD_FR(hi), reason);
	assert_int_equal(VTD_FRCD_SID(hi), sid);
	assert_int_equal(!!(hi & VTD_FRCD_T), !write);
	assert_int_equal(VTD_FRCD_AT(hi), 0);
	assert_int_equal(lo, iova & ~0xfffULL);
	wr32(t, frcd(i) + 12, VTD_FRCD_HI32_F);
	assert_false(rd64(t, frcd(i) + 8) & VTD_FRCD_F);
	assert_false(rd32(t, DMAR_FSTS_REG) & VTD_FSTS_PPF);
}

static void expect_fault(struct vt *t, uint16_t sid, uint64_t iova,
			 bool write, unsigned int reason)
{
	uint64_t phys;
	size_t chunk;

	assert_int_equal(tr(t, sid, iova, 8, write, &phys, &chunk),
			 PCI_STATUS_UR);
	check_record(t, sid, iova, write, reason);
}

/* Register-based IOTLB invalidation, waiting for IVT to clear. */
static uint64_t iotlb_reg_flush(struct vt *t, uint64_t gran, uint16_t did,
				uint64_t addr, unsigned int am)
{
	uint64_t v;

	wr64(t, VTD_IRO_OFFSET + DMAR_IVA_OFFSET, addr | am);
	wr64(t, VTD_IRO_OFFSET + DMAR_IOTLB_OFFSET,
	     VTD_IOTLB_IVT | gran << VTD_IOTLB_IIRG_SHIFT |
		     (uint64_t)did << 32 | VTD_IOTLB_DW | VTD_IOTLB_DR);
	v = rd64(t, VTD_IRO_OFFSET + DMAR_IOTLB_OFFSET);
	assert_false(v & VTD_IOTLB_IVT);
	return VTD_IOTLB_IAIG(v);
}

static uint64_t ccmd_flush(struct vt *t, uint64_t gran, uint16_t did,
			   uint16_t sid)
{
	uint64_t v;

	wr64(t, DMAR_CCMD_REG, VTD_CCMD_ICC | gran << VTD_CCMD_CIRG_SHIFT |
				       (uint64_t)sid << 16 | did);
	v = rd64(t, DMAR_CCMD_REG);
	assert_false(v & VTD_CCMD_ICC);
	return VTD_CCMD_CAIG(v);
}

static void qi_enable(struct vt *t)
{
	t->iq = new_page(t);
	t->status = new_page(t);
	t->iq_tail = 0;
	wr64(t, DMAR_IQT_REG, 0);
	wr64(t, DMAR_IQA_REG, t->iq); /* QS 0: 256 descriptors */
	gcmd(t, VTD_GCMD_QIE, 0);
	assert_true(rd32(t, DMAR_GSTS_REG) & VTD_GSTS_QIES);
	assert_int_equal(rd64(t, DMAR_IQH_REG), 0);
}

static void qi_put(struct vt *t, uint64_t lo, uint64_t hi)
{
	put64(t, t->iq + t->iq_tail * 16ULL, lo);
	put64(t, t->iq + t->iq_tail * 16ULL + 8, hi);
	t->iq_tail = (t->iq_tail + 1) % 256;
}

static void qi_kick(struct vt *t)
{
	wr64(t, DMAR_IQT_REG, (uint64_t)t->iq_tail << VTD_IQ_INDEX_SHIFT);
}

static uint32_t status_word(struct vt *t)
{
	uint32_t v;

	assert_int_equal(dmasim_phys_read(t->dm, t->status, &v, 4), 0);
	return v;
}

/* A wait descriptor with a status write, then check it was written. */
static void qi_sync(struct vt *t)
{
	t->seq++;
	qi_put(t, VTD_QI_WAIT | VTD_QI_WAIT_SW | VTD_QI_WAIT_FN |
			  (uint64_t)t->seq << 32,
	       t->status);
	qi_kick(t);
	assert_int_equal(status_word(t), t->seq);
	assert_int_equal(rd64(t, DMAR_IQH_REG), rd64(t, DMAR_IQT_REG));
	assert_false(rd32(t, DMAR_FSTS_REG) & VTD_FSTS_IQE);
}

static void qi_iotlb(struct vt *t, unsigned int g, uint16_t did,
		     uint64_t addr, unsigned int am)
{
	qi_put(t, VTD_QI_IOTLB | (uint64_t)g << VTD_QI_GRAN_SHIFT |
			  (uint64_t)did << 16 | VTD_QI_IOTLB_DR | VTD_QI_IOTLB_DW,
	       addr | am);
	qi_sync(t);
}

/* An MSI vector the fault event can target; returns the irq. */
static unsigned int fault_irq(struct vt *t)
{
	int irq = irq_alloc_msi(t->m, 1, "DMAR-MSI", 0);
	struct irq_desc *d;

	assert_true(irq > 0);
	d = irq_to_desc(t->m, (unsigned int)irq);
	wr32(t, DMAR_FEDATA_REG, d->vector);
	wr32(t, DMAR_FEADDR_REG, (uint32_t)apic_msi_address(d->cpu));
	wr32(t, DMAR_FEUADDR_REG, 0);
	return (unsigned int)irq;
}

/* -------------------------------------------------------------- tests */

static void test_registers(void **state)
{
	struct vt t;
	struct vtd_params p;
	struct iommu_unit *u;
	uint64_t cap, ecap;

	(void)state;
	boot(&t, NULL);
	assert_true(vtd_is_unit(t.u));
	assert_string_equal(t.u->name, "dmar0");
	assert_int_equal(vtd_reg_base(t.u), REG_BASE);
	assert_int_equal(vtd_reg_size(t.u), 4096);
	assert_int_equal(rd32(&t, DMAR_VER_REG), 0x10);
	cap = rd64(&t, DMAR_CAP_REG);
	assert_int_equal(cap, (uint64_t)rd32(&t, DMAR_CAP_REG) |
				      (uint64_t)rd32(&t, DMAR_CAP_REG + 4) << 32);
	assert_int_equal(VTD_CAP_ND(cap), 6);
	assert_int_equal(VTD_CAP_SAGAW(cap), VTD_SAGAW_39 | VTD_SAGAW_48);
	assert_int_equal(VTD_CAP_MGAW(cap), 48);
	assert_int_equal(VTD_CAP_FRO(cap), VTD_FRO_OFFSET);
	assert_int_equal(VTD_CAP_NFR(cap), 8);
	assert_int_equal(VTD_CAP_SLLPS(cap), VTD_SLLPS_2M | VTD_SLLPS_1G);
	assert_true(cap & VTD_CAP_PSI);
	assert_true(cap & VTD_CAP_ZLR);
	assert_false(cap & (VTD_CAP_CM | VTD_CAP_RWBF | VTD_CAP_AFL));
	assert_int_equal(VTD_CAP_MAMV(cap), 18);
	ecap = rd64(&t, DMAR_ECAP_REG);
	assert_true(ecap & VTD_ECAP_QI);
	assert_true(ecap & VTD_ECAP_PT);
	assert_true(ecap & VTD_ECAP_C);
	assert_true(ecap & VTD_ECAP_DT); /* device-TLBs: ATS (test_ats.c) */
	assert_false(ecap & VTD_ECAP_IR);
	assert_int_equal(VTD_ECAP_IRO(ecap), VTD_IRO_OFFSET);
	/* reset state: nothing enabled, fault events masked */
	assert_int_equal(rd32(&t, DMAR_GSTS_REG), 0);
	assert_int_equal(rd32(&t, DMAR_FSTS_REG), 0);
	assert_int_equal(rd32(&t, DMAR_FECTL_REG), VTD_FECTL_IM);
	/* read-only registers ignore writes; GCMD reads 0 */
	wr64(&t, DMAR_CAP_REG, 0);
	assert_int_equal(rd64(&t, DMAR_CAP_REG), cap);
	gcmd(&t, VTD_GCMD_TE, 0);
	assert_int_equal(rd32(&t, DMAR_GCMD_REG), 0);
	assert_int_equal(rd32(&t, DMAR_GSTS_REG), VTD_GSTS_TES);
	gcmd(&t, 0, VTD_GCMD_TE);
	assert_int_equal(rd32(&t, DMAR_GSTS_REG), 0);
	/* RTADDR as two halves; one-byte reads */
	wr32(&t, DMAR_RTADDR_REG, 0x12345000);
	wr32(&t, DMAR_RTADDR_REG + 4, 0x1);
	assert_int_equal(rd64(&t, DMAR_RTADDR_REG), 0x112345000ULL);
	assert_int_equal(mmio_read(t.regs + DMAR_VER_REG, 1), 0x10);
	/* other parameters */
	vtd_params_init(&p);
	p.nfr = 200;
	p.superpages = false;
	p.agaw_levels_supported = VTD_LEVELS_3;
	p.index = 2;
	assert_int_equal(vtd_create(t.m, REG_BASE + 0x10000, &p, &u), 0);
	cap = mmio_read((uint8_t *)mmio_window(vtd_regs(u)) + DMAR_CAP_REG, 8);
	assert_int_equal(VTD_CAP_NFR(cap), 200);
	assert_int_equal(VTD_CAP_SLLPS(cap), 0);
	assert_int_equal(VTD_CAP_SAGAW(cap), VTD_SAGAW_39);
	assert_int_equal(VTD_CAP_MGAW(cap), 39);
	assert_int_equal(vtd_reg_size(u), 8192);
	assert_string_equal(u->name, "dmar2");
	u->ops->destroy(u);
	p.nfr = 0;
	assert_int_equal(vtd_create(t.m, 0, &p, &u), -EINVAL);
	assert_null(u);
	vtd_params_init(&p);
	p.iotlb_entries = 48;
	assert_int_equal(vtd_create(t.m, 0, &p, &u), -EINVAL);
	vtd_params_init(&p);
	p.agaw_levels_supported = 1u << 5;
	assert_int_equal(vtd_create(t.m, 0, &p, &u), -EINVAL);
	shutdown(&t);
}

static void test_translation_off(void **state)
{
	struct vt t;

	(void)state;
	boot(&t, NULL);
	/* TE clear: addresses pass through whatever the tables say */
	expect_ok(&t, SID_A, 0x123456789ULL, 1 << 20, true, 0x123456789ULL,
		  1 << 20);
	/* a root table pointer alone translates nothing */
	wr64(&t, DMAR_RTADDR_REG, t.root);
	wr32(&t, DMAR_GCMD_REG, VTD_GCMD_SRTP);
	expect_ok(&t, SID_A, 0x5000, 64, false, 0x5000, 64);
	shutdown(&t);
}

static void test_walk_4k(void **state)
{
	struct vt t;
	uint64_t top3, top4, iova4 = 0x7fff12345000ULL;

	(void)state;
	boot(&t, NULL);
	top4 = domain(&t, SID_A, 1, VTD_AW_48);
	top3 = domain(&t, SID_B, 2, VTD_AW_39);
	map(&t, top4, VTD_AW_48, iova4, DATA + 0x3000, 12, 3);
	map(&t, top4, VTD_AW_48, 0, DATA, 12, 3);
	map(&t, top3, VTD_AW_39, 0x7fffff000ULL, DATA + 0x5000, 12, 3);
	enable(&t);
	expect_ok(&t, SID_A, iova4 + 0x10, 0x10000, false, DATA + 0x3010,
		  0x1000 - 0x10);
	expect_ok(&t, SID_A, 0xfff, 8, true, DATA + 0xfff, 1);
	expect_ok(&t, SID_B, 0x7fffff800ULL, 0x100, true, DATA + 0x5800,
		  0x100);
	/* the same IOVA in the other domain is not mapped */
	expect_fault(&t, SID_B, 0, false, VTD_FR_READ);
	shutdown(&t);
}

static void test_superpages(void **state)
{
	struct vt t;
	struct vtd_stats s;
	uint64_t top, top3;

	(void)state;
	boot(&t, NULL);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	top3 = domain(&t, SID_B, 2, VTD_AW_39);
	map(&t, top, VTD_AW_48, 0x40000000, DATA, 21, 3);	   /* 2 MiB */
	map(&t, top, VTD_AW_48, 0x8000000000ULL, GiB(4), 30, 3); /* 1 GiB */
	map(&t, top3, VTD_AW_39, 0x40000000, GiB(5), 30, 1);	   /* 3-level */
	enable(&t);
	expect_ok(&t, SID_A, 0x40000000 + 0x1234, MiB(4), false,
		  DATA + 0x1234, MiB(2) - 0x1234);
	expect_ok(&t, SID_A, 0x8000000000ULL + MiB(1000), GiB(1), true,
		  GiB(4) + MiB(1000), MiB(24));
	expect_ok(&t, SID_B, 0x40000000 + 5, 10, false, GiB(5) + 5, 10);
	expect_fault(&t, SID_B, 0x40000000, true, VTD_FR_WRITE);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 4);
	/* one walk per superpage: the rest hit */
	expect_ok(&t, SID_A, 0x40000000 + MiB(1), 16, false, DATA + MiB(1), 16);
	expect_ok(&t, SID_A, 0x8000000000ULL, 16, false, GiB(4), 16);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 4);
	shutdown(&t);
}

/* Without SLLPS, a PS bit is a reserved bit. */
static void test_superpages_off(void **state)
{
	struct vt t;
	struct vtd_params p;
	uint64_t top;

	(void)state;
	vtd_params_init(&p);
	p.superpages = false;
	boot(&t, &p);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	map(&t, top, VTD_AW_48, 0x40000000, DATA, 21, 3);
	map(&t, top, VTD_AW_48, 0x80000000, GiB(4), 30, 3);
	enable(&t);
	expect_fault(&t, SID_A, 0x40000000, false, VTD_FR_PTE_RSVD);
	expect_fault(&t, SID_A, 0x80000000, false, VTD_FR_PTE_RSVD);
	shutdown(&t);
}

/* Every fault reason a legacy-mode table can produce. */
static void test_fault_reasons(void **state)
{
	struct vt t;
	struct vtd_params p;
	uint64_t top, slot;

	(void)state;
	vtd_params_init(&p);
	p.nfr = 2;
	boot(&t, &p);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	map(&t, top, VTD_AW_48, 0x1000, DATA, 12, VTD_PTE_R);
	map(&t, top, VTD_AW_48, 0x2000, DATA, 12, VTD_PTE_W);
	enable(&t);
	/* 0x1: bus 5 has no root entry */
	expect_fault(&t, 0x0500, 0x1000, false, VTD_FR_ROOT_NOT_PRESENT);
	/* 0x2: devfn without a context entry */
	expect_fault(&t, 0x0310, 0x1000, true, VTD_FR_CTX_NOT_PRESENT);
	/* 0x3: reserved TT, bad AW (TT 01b is valid: ECAP.DT, test_ats.c) */
	set_ctx(&t, 0x0318, top | VTD_CTX_P | 3u << VTD_CTX_TT_SHIFT, 2);
	expect_fault(&t, 0x0318, 0x1000, false, VTD_FR_CTX_INVALID);
	set_ctx(&t, 0x031a, top | VTD_CTX_P, 3); /* 57-bit: not in SAGAW */
	expect_fault(&t, 0x031a, 0x1000, false, VTD_FR_CTX_INVALID);
	/* 0x4: beyond the domain's width (48-bit) */
	expect_fault(&t, SID_A, 1ULL << 48, false, VTD_FR_ADDR_BEYOND_AGAW);
	/* 0x5, 0x6: permissions, and a not-present entry */
	expect_fault(&t, SID_A, 0x1000, true, VTD_FR_WRITE);
	expect_fault(&t, SID_A, 0x2000, false, VTD_FR_READ);
	expect_fault(&t, SID_A, 0x3000, false, VTD_FR_READ);
	expect_fault(&t, SID_A, 0x3000, true, VTD_FR_WRITE);
	expect_fault(&t, SID_A, 0x7fff00000000ULL, false, VTD_FR_READ);
	/* 0x7: a next-level pointer into the PCI hole */
	slot = map(&t, top, VTD_AW_48, 0x200000, DATA, 12, 3);
	put64(&t, top + VTD_PTE_INDEX(0x40000000000ULL, 4) * 8,
	      HOLE | VTD_PTE_R | VTD_PTE_W);
	expect_fault(&t, SID_A, 0x40000000000ULL, true, VTD_FR_PTE_PTR_INVALID);
	/* 0x7: the context's table pointer beyond RAM (a domain id of its
	 * own: contexts sharing one share its cached PDEs, as on hardware) */
	set_ctx(&t, 0x0320, GiB(7) | VTD_CTX_P, 9 << VTD_CTX_DID_SHIFT | 2);
	expect_fault(&t, 0x0320, 0x1000, false, VTD_FR_PTE_PTR_INVALID);
	/* 0xc: reserved bits in a PTE, PS in a PML4E */
	put64(&t, slot, DATA | 3 | 1ULL << 50);
	expect_fault(&t, SID_A, 0x200000, false, VTD_FR_PTE_RSVD);
	put64(&t, top + VTD_PTE_INDEX(0x8000000000ULL, 4) * 8,
	      DATA | 3 | VTD_PTE_PS);
	expect_fault(&t, SID_A, 0x8000000000ULL, false, VTD_FR_PTE_RSVD);
	/* 0xc: a 2 MiB page whose address is not 2 MiB aligned */
	map(&t, top, VTD_AW_48, 0x40000000, DATA + 0x1000, 21, 3);
	expect_fault(&t, SID_A, 0x40000000, false, VTD_FR_PTE_RSVD);
	/* 0xb: reserved bits in a context entry (low and high) */
	set_ctx(&t, 0x0328, top | VTD_CTX_P | 1u << 4, 2);
	expect_fault(&t, 0x0328, 0x1000, false, VTD_FR_CTX_RSVD);
	set_ctx(&t, 0x0329, top | VTD_CTX_P, 2 | 1ULL << 40);
	expect_fault(&t, 0x0329, 0x1000, false, VTD_FR_CTX_RSVD);
	/* 0x9: a root entry's context table pointer into the hole */
	put64(&t, t.root + 6 * 16, HOLE | VTD_ROOT_P);
	expect_fault(&t, 0x0600, 0x1000, false, VTD_FR_CTX_TABLE_INVALID);
	/* 0xa: reserved bits in a root entry (low and high qwords) */
	put64(&t, t.root + 7 * 16, top | VTD_ROOT_P | 1u << 3);
	expect_fault(&t, 0x0700, 0x1000, false, VTD_FR_ROOT_RSVD);
	put64(&t, t.root + 7 * 16, top | VTD_ROOT_P);
	put64(&t, t.root + 7 * 16 + 8, 1);
	expect_fault(&t, 0x0700, 0x1000, false, VTD_FR_ROOT_RSVD);
	/* 0x8: the root table in the hole, or in a mode this unit lacks */
	wr64(&t, DMAR_RTADDR_REG, HOLE);
	wr32(&t, DMAR_GCMD_REG, t.gcmd | VTD_GCMD_SRTP);
	expect_fault(&t, 0x0900, 0x1000, false, VTD_FR_ROOT_TABLE_INVALID);
	wr64(&t, DMAR_RTADDR_REG, t.root | 1u << 10); /* scalable mode */
	wr32(&t, DMAR_GCMD_REG, t.gcmd | VTD_GCMD_SRTP);
	ccmd_flush(&t, VTD_CCMD_GLOBAL, 0, 0); /* as after any SRTP */
	expect_fault(&t, SID_A, 0x1000, false, VTD_FR_ROOT_TABLE_INVALID);
	/* nothing was lost: each record was cleared before the next */
	assert_false(rd32(&t, DMAR_FSTS_REG) & VTD_FSTS_PFO);
	shutdown(&t);
}

/* Round robin over the records, FRI, overflow (PFO) and recovery. */
static void test_fault_recording(void **state)
{
	struct vt t;
	struct vtd_params p;
	struct vtd_stats s;
	uint64_t phys;
	size_t chunk;
	uint32_t fsts;

	(void)state;
	vtd_params_init(&p);
	p.nfr = 4;
	boot(&t, &p);
	enable(&t);
	for (uint16_t i = 0; i < 5; i++)
		assert_int_equal(tr(&t, (uint16_t)(0x1000 + i), i * 0x1000ULL,
				    4, false, &phys, &chunk),
				 PCI_STATUS_UR);
	fsts = rd32(&t, DMAR_FSTS_REG);
	assert_int_equal(fsts, VTD_FSTS_PPF | VTD_FSTS_PFO); /* FRI 0 */
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t hi = rd64(&t, frcd(i) + 8);

		assert_true(hi & VTD_FRCD_F);
		assert_int_equal(VTD_FRCD_SID(hi), 0x1000 + i);
		assert_int_equal(rd64(&t, frcd(i)), i * 0x1000ULL);
	}
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.faults, 5);
	assert_int_equal(s.faults_recorded, 4);
	assert_int_equal(s.faults_lost, 1);
	/* PFO holds new faults off even after a record is freed */
	wr32(&t, frcd(0) + 12, VTD_FRCD_HI32_F);
	assert_int_equal(tr(&t, 0x2000, 0, 4, false, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_false(rd64(&t, frcd(0) + 8) & VTD_FRCD_F);
	/* clear PFO (write 1): the next fault goes to the free record 0 */
	wr32(&t, DMAR_FSTS_REG, VTD_FSTS_PFO);
	assert_int_equal(tr(&t, 0x2001, 0x9000, 4, true, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_int_equal(VTD_FRCD_SID(rd64(&t, frcd(0) + 8)), 0x2001);
	fsts = rd32(&t, DMAR_FSTS_REG);
	assert_int_equal(fsts, VTD_FSTS_PPF); /* FRI still 0 */
	/* clear everything: the next one lands in record 1 and FRI says so */
	for (unsigned int i = 0; i < 4; i++)
		wr64(&t, frcd(i) + 8, VTD_FRCD_F);
	assert_int_equal(rd32(&t, DMAR_FSTS_REG), 0);
	assert_int_equal(tr(&t, 0x2002, 0xa000, 4, false, &phys, &chunk),
			 PCI_STATUS_UR);
	fsts = rd32(&t, DMAR_FSTS_REG);
	assert_int_equal(fsts, VTD_FSTS_PPF | 1u << 8);
	check_record(&t, 0x2002, 0xa000, false, VTD_FR_ROOT_NOT_PRESENT);
	/* writing 0 or the low dword of the high qword clears nothing */
	assert_int_equal(tr(&t, 0x2003, 0xb000, 4, false, &phys, &chunk),
			 PCI_STATUS_UR);
	wr32(&t, frcd(2) + 8, 0xffffffff);
	wr32(&t, frcd(2) + 12, 0);
	assert_true(rd64(&t, frcd(2) + 8) & VTD_FRCD_F);
	shutdown(&t);
}

/* The fault event: an MSI on the first pending status, none while more
 * pile up, held in IP while masked, sent on unmask. */
static void test_fault_event(void **state)
{
	struct vt t;
	struct vtd_stats s;
	unsigned int irq;
	uint64_t phys;
	size_t chunk;

	(void)state;
	boot(&t, NULL);
	irq = fault_irq(&t);
	enable(&t);
	/* masked at reset: the event is held */
	assert_int_equal(tr(&t, 0x100, 0, 4, false, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_int_equal(irq_count(t.m, irq), 0);
	assert_int_equal(rd32(&t, DMAR_FECTL_REG), VTD_FECTL_IM | VTD_FECTL_IP);
	wr32(&t, DMAR_FECTL_REG, 0);
	assert_int_equal(irq_count(t.m, irq), 1);
	assert_int_equal(rd32(&t, DMAR_FECTL_REG), 0);
	/* a second fault while one is pending raises nothing new */
	assert_int_equal(tr(&t, 0x101, 0, 4, true, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_int_equal(irq_count(t.m, irq), 1);
	for (unsigned int i = 0; i < 8; i++)
		wr32(&t, frcd(i) + 12, VTD_FRCD_HI32_F);
	assert_int_equal(rd32(&t, DMAR_FSTS_REG), 0);
	/* unmasked: the MSI goes at once */
	assert_int_equal(tr(&t, 0x102, 0, 4, true, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_int_equal(irq_count(t.m, irq), 2);
	for (unsigned int i = 0; i < 8; i++)
		wr32(&t, frcd(i) + 12, VTD_FRCD_HI32_F);
	/* masked, then serviced before unmasking: nothing is sent */
	wr32(&t, DMAR_FECTL_REG, VTD_FECTL_IM);
	assert_int_equal(tr(&t, 0x103, 0, 4, true, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_true(rd32(&t, DMAR_FECTL_REG) & VTD_FECTL_IP);
	for (unsigned int i = 0; i < 8; i++)
		wr32(&t, frcd(i) + 12, VTD_FRCD_HI32_F);
	assert_int_equal(rd32(&t, DMAR_FECTL_REG), VTD_FECTL_IM);
	wr32(&t, DMAR_FECTL_REG, 0);
	assert_int_equal(irq_count(t.m, irq), 2);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.fault_events, 2);
	/* an MSI address that is no CPU's: the APIC drops it, no crash */
	wr32(&t, DMAR_FEADDR_REG, 0x1000);
	assert_int_equal(tr(&t, 0x104, 0, 4, true, &phys, &chunk),
			 PCI_STATUS_UR);
	assert_int_equal(atomic_load(&t.m->apic.spurious), 1);
	shutdown(&t);
}

/* Rights per direction through a function's bus-master path, and the
 * AND of rights down the walk. */
static void test_permissions(void **state)
{
	struct vt t;
	uint16_t sid;
	uint64_t top;
	uint8_t buf[64], back[64];
	size_t done;

	(void)state;
	boot(&t, NULL);
	sid = pci_requester_id(t.fn);
	top = domain(&t, sid, 1, VTD_AW_48);
	map(&t, top, VTD_AW_48, 0x1000, DATA + 0x1000, 12, VTD_PTE_R);
	map(&t, top, VTD_AW_48, 0x2000, DATA + 0x2000, 12, VTD_PTE_W);
	map(&t, top, VTD_AW_48, 0x3000, DATA + 0x3000, 12, 3);
	/* an upper level granting read only caps the leaf's write */
	map(&t, top, VTD_AW_48, RO_UPPER, DATA + 0x4000, 12, 3);
	put64(&t, top + 8, get64(&t, top + 8) & ~VTD_PTE_W);
	t.fn->iommu = t.u;
	enable(&t);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(bus_read(t.fn, 0x1000, back, 64, &done), PCI_STATUS_OK);
	assert_int_equal(bus_write(t.fn, 0x1000, buf, 64, &done), PCI_STATUS_UR);
	assert_int_equal(done, 0);
	check_record(&t, sid, 0x1000, true, VTD_FR_WRITE);
	assert_int_equal(bus_write(t.fn, 0x2010, buf, 64, &done), PCI_STATUS_OK);
	assert_int_equal(dmasim_phys_read(t.dm, DATA + 0x2010, back, 64), 0);
	assert_memory_equal(back, buf, 64);
	assert_int_equal(bus_read(t.fn, 0x2000, back, 64, &done), PCI_STATUS_UR);
	check_record(&t, sid, 0x2000, false, VTD_FR_READ);
	assert_int_equal(bus_read(t.fn, RO_UPPER, back, 8, &done),
			 PCI_STATUS_OK);
	assert_int_equal(bus_write(t.fn, RO_UPPER, buf, 8, &done),
			 PCI_STATUS_UR);
	check_record(&t, sid, RO_UPPER, true, VTD_FR_WRITE);
	/* a transfer running off the mapping stops at its end */
	assert_int_equal(bus_write(t.fn, 0x3f00, buf, 64, &done), PCI_STATUS_OK);
	assert_int_equal(bus_write(t.fn, 0x3fe0, buf, 64, &done), PCI_STATUS_UR);
	assert_int_equal(done, 32);
	check_record(&t, sid, 0x4000, true, VTD_FR_WRITE);
	assert_int_equal(atomic_load(&t.fn->cnt.unsupported), 4);
	shutdown(&t);
}

/* Scattered 4 KiB pages and a 2 MiB page through the bus path: the
 * unit hands out whole pages, so a 2 MiB transfer is one chunk. */
static void test_bus_transfers(void **state)
{
	struct vt t;
	uint16_t sid;
	uint64_t top;
	uint8_t *buf = malloc(MiB(2)), *back = malloc(MiB(2));
	size_t done;
	uint64_t writes;

	(void)state;
	assert_non_null(buf);
	assert_non_null(back);
	boot(&t, NULL);
	sid = pci_requester_id(t.fn);
	top = domain(&t, sid, 1, VTD_AW_48);
	map(&t, top, VTD_AW_48, 0x10000, DATA + 0x7000, 12, 3);
	map(&t, top, VTD_AW_48, 0x11000, DATA + 0x2000, 12, 3);
	map(&t, top, VTD_AW_48, 0x12000, DATA + 0x9000, 12, 3);
	map(&t, top, VTD_AW_48, 0x200000, DATA + MiB(4), 21, 3);
	t.fn->iommu = t.u;
	enable(&t);
	for (size_t i = 0; i < MiB(2); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	writes = atomic_load(&t.fn->cnt.writes);
	assert_int_equal(bus_write(t.fn, 0x10800, buf, 0x2000, &done),
			 PCI_STATUS_OK);
	assert_int_equal(atomic_load(&t.fn->cnt.writes) - writes, 3);
	assert_int_equal(dmasim_phys_read(t.dm, DATA + 0x7800, back, 0x800), 0);
	assert_memory_equal(back, buf, 0x800);
	assert_int_equal(dmasim_phys_read(t.dm, DATA + 0x2000, back, 0x1000), 0);
	assert_memory_equal(back, buf + 0x800, 0x1000);
	assert_int_equal(dmasim_phys_read(t.dm, DATA + 0x9000, back, 0x800), 0);
	assert_memory_equal(back, buf + 0x1800, 0x800);
	writes = atomic_load(&t.fn->cnt.writes);
	assert_int_equal(bus_write(t.fn, 0x200000, buf, MiB(2), &done),
			 PCI_STATUS_OK);
	assert_int_equal(atomic_load(&t.fn->cnt.writes) - writes, 1);
	assert_int_equal(bus_read(t.fn, 0x200000, back, MiB(2), &done),
			 PCI_STATUS_OK);
	assert_memory_equal(back, buf, MiB(2));
	shutdown(&t);
	free(buf);
	free(back);
}

/* A translation outlives its PTE until the IOTLB is invalidated: the
 * window lazy unmapping leaves (register-based invalidation). */
static void test_stale_iotlb_registers(void **state)
{
	struct vt t;
	struct vtd_stats s;
	struct vtd_sid_stats ss;
	uint64_t top, slot[4];

	(void)state;
	boot(&t, NULL);
	top = domain(&t, SID_A, 7, VTD_AW_48);
	for (uint64_t i = 0; i < 4; i++)
		slot[i] = map(&t, top, VTD_AW_48, 0x10000 + i * 0x1000,
			      DATA + i * 0x1000, 12, 3);
	enable(&t);
	for (uint64_t i = 0; i < 4; i++)
		expect_ok(&t, SID_A, 0x10000 + i * 0x1000, 8, true,
			  DATA + i * 0x1000, 8);
	expect_ok(&t, SID_A, 0x10000, 8, false, DATA, 8);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 4);
	assert_int_equal(s.misses, 4);
	assert_int_equal(s.hits, 1);
	vtd_get_sid_stats(t.u, SID_A, &ss);
	assert_int_equal(ss.hits, 1);
	assert_int_equal(ss.misses, 4);
	assert_int_equal(ss.walks, 4);
	/* unmap everything: the IOTLB still answers */
	for (int i = 0; i < 4; i++)
		put64(&t, slot[i], 0);
	for (uint64_t i = 0; i < 4; i++)
		expect_ok(&t, SID_A, 0x10000 + i * 0x1000, 8, true,
			  DATA + i * 0x1000, 8);
	/* page-selective, AM 1: pages 2 and 3 only */
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_PSI, 7, 0x12000, 1),
			 VTD_IOTLB_PSI);
	expect_ok(&t, SID_A, 0x10000, 8, true, DATA, 8);
	expect_ok(&t, SID_A, 0x11000, 8, true, DATA + 0x1000, 8);
	expect_fault(&t, SID_A, 0x12000, true, VTD_FR_WRITE);
	expect_fault(&t, SID_A, 0x13000, false, VTD_FR_READ);
	/* another domain's flush leaves ours */
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_DSI, 8, 0, 0),
			 VTD_IOTLB_DSI);
	expect_ok(&t, SID_A, 0x10000, 8, true, DATA, 8);
	/* a mask beyond MAMV becomes a domain flush */
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_PSI, 7, 0, 30),
			 VTD_IOTLB_DSI);
	expect_fault(&t, SID_A, 0x10000, false, VTD_FR_READ);
	expect_fault(&t, SID_A, 0x11000, false, VTD_FR_READ);
	/* global */
	map(&t, top, VTD_AW_48, 0x10000, DATA, 12, 3);
	expect_ok(&t, SID_A, 0x10000, 8, true, DATA, 8);
	put64(&t, slot[0], 0);
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_GLOBAL, 0, 0, 0),
			 VTD_IOTLB_GLOBAL);
	expect_fault(&t, SID_A, 0x10000, false, VTD_FR_READ);
	/* IIRG 0 is refused: IAIG reads 0 */
	assert_int_equal(iotlb_reg_flush(&t, 0, 0, 0, 0), 0);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.iotlb_invalidations, 4);
	assert_int_equal(s.iotlb_valid, 0);
	shutdown(&t);
}

/* The same through the invalidation queue, and domain isolation. */
static void test_stale_iotlb_queue(void **state)
{
	struct vt t;
	uint64_t top1, top2, s1, s2, s3;

	(void)state;
	boot(&t, NULL);
	top1 = domain(&t, SID_A, 1, VTD_AW_48);
	top2 = domain(&t, SID_B, 2, VTD_AW_39);
	s1 = map(&t, top1, VTD_AW_48, 0x1000, DATA, 12, 3);
	s2 = map(&t, top2, VTD_AW_39, 0x1000, DATA + 0x1000, 12, 3);
	s3 = map(&t, top1, VTD_AW_48, 0x400000, DATA + MiB(2), 21, 3);
	enable(&t);
	qi_enable(&t);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	expect_ok(&t, SID_B, 0x1000, 4, false, DATA + 0x1000, 4);
	expect_ok(&t, SID_A, 0x400000, 4, false, DATA + MiB(2), 4);
	put64(&t, s1, 0);
	put64(&t, s2, 0);
	put64(&t, s3, 0);
	/* page-selective inside the 2 MiB page removes the whole page */
	qi_iotlb(&t, VTD_IOTLB_PSI, 1, 0x5ff000, 0);
	expect_fault(&t, SID_A, 0x400000, false, VTD_FR_READ);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	/* domain-selective: domain 1 only */
	qi_iotlb(&t, VTD_IOTLB_DSI, 1, 0, 0);
	expect_fault(&t, SID_A, 0x1000, false, VTD_FR_READ);
	expect_ok(&t, SID_B, 0x1000, 4, false, DATA + 0x1000, 4);
	/* global */
	qi_iotlb(&t, VTD_IOTLB_GLOBAL, 0, 0, 0);
	expect_fault(&t, SID_B, 0x1000, false, VTD_FR_READ);
	shutdown(&t);
}

/* Context entries are cached by source id until a context-cache
 * invalidation (device, domain, global; registers and queue). */
static void test_context_cache(void **state)
{
	struct vt t;
	struct vtd_stats s;
	uint64_t top1, top2;

	(void)state;
	boot(&t, NULL);
	top1 = domain(&t, SID_A, 1, VTD_AW_48);
	top2 = new_page(&t);
	map(&t, top1, VTD_AW_48, 0x1000, DATA, 12, 3);
	map(&t, top2, VTD_AW_48, 0x1000, DATA + 0x5000, 12, 3);
	enable(&t);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	/* move the device to domain 2: the cached context still rules */
	set_ctx(&t, SID_A, top2 | VTD_CTX_P, 2 | 2u << VTD_CTX_DID_SHIFT);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	/* device-selective for another function misses it ... */
	assert_int_equal(ccmd_flush(&t, VTD_CCMD_DEVICE, 0, SID_B),
			 VTD_CCMD_DEVICE);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	/* ... its own takes it */
	assert_int_equal(ccmd_flush(&t, VTD_CCMD_DEVICE, 0, SID_A),
			 VTD_CCMD_DEVICE);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA + 0x5000, 4);
	/* back to domain 1: domain-selective on domain 2 */
	set_ctx(&t, SID_A, top1 | VTD_CTX_P, 2 | 1u << VTD_CTX_DID_SHIFT);
	assert_int_equal(ccmd_flush(&t, VTD_CCMD_DOMAIN, 1, 0),
			 VTD_CCMD_DOMAIN);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA + 0x5000, 4);
	assert_int_equal(ccmd_flush(&t, VTD_CCMD_DOMAIN, 2, 0),
			 VTD_CCMD_DOMAIN);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	/* queued: global, then a context removed entirely */
	qi_enable(&t);
	set_ctx(&t, SID_A, 0, 0);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	qi_put(&t, VTD_QI_CC | 1u << VTD_QI_GRAN_SHIFT, 0);
	qi_sync(&t);
	expect_fault(&t, SID_A, 0x1000, false, VTD_FR_CTX_NOT_PRESENT);
	/* device-selective with a function mask covering 03:00.0-03:00.3 */
	set_ctx(&t, SID_A, top1 | VTD_CTX_P, 2 | 1u << VTD_CTX_DID_SHIFT);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA, 4);
	set_ctx(&t, SID_A, top2 | VTD_CTX_P, 2 | 2u << VTD_CTX_DID_SHIFT);
	qi_put(&t, VTD_QI_CC | 3u << VTD_QI_GRAN_SHIFT |
			  (uint64_t)(SID_A | 5) << 32 | 3ULL << 48, 0);
	qi_sync(&t);
	expect_ok(&t, SID_A, 0x1000, 4, false, DATA + 0x5000, 4);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.cc_invalidations, 6);
	assert_true(s.cc_hits >= 4);
	shutdown(&t);
}

/* Pass-through contexts (TT 2) and fault processing disable (FPD). */
static void test_passthrough_and_fpd(void **state)
{
	struct vt t;
	struct vtd_stats s;
	uint64_t top;

	(void)state;
	boot(&t, NULL);
	set_ctx(&t, SID_A, VTD_CTX_P | 2u << VTD_CTX_TT_SHIFT,
		2 | 5u << VTD_CTX_DID_SHIFT);
	top = new_page(&t);
	set_ctx(&t, SID_B, top | VTD_CTX_P | VTD_CTX_FPD,
		2 | 6u << VTD_CTX_DID_SHIFT);
	enable(&t);
	expect_ok(&t, SID_A, GiB(5) + 3, MiB(8), true, GiB(5) + 3, MiB(8));
	assert_int_equal(tr(&t, SID_B, 0x1000, 4, false, &(uint64_t){ 0 },
			    &(size_t){ 0 }),
			 PCI_STATUS_UR);
	assert_int_equal(rd32(&t, DMAR_FSTS_REG), 0);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.faults, 1);
	assert_int_equal(s.faults_suppressed, 1);
	assert_int_equal(s.faults_recorded, 0);
	shutdown(&t);
}

/* Queued invalidation: wait descriptors, the completion event, errors. */
static void test_queue(void **state)
{
	struct vt t;
	struct vtd_stats s;
	unsigned int irq;
	uint64_t head;

	(void)state;
	boot(&t, NULL);
	irq = fault_irq(&t);
	wr32(&t, DMAR_FECTL_REG, 0);
	/* a tail write with the queue disabled does nothing */
	t.iq = new_page(&t);
	wr64(&t, DMAR_IQA_REG, t.iq);
	put64(&t, t.iq, VTD_QI_WAIT | VTD_QI_WAIT_SW | 0x77ULL << 32);
	wr64(&t, DMAR_IQT_REG, 1 << 4);
	assert_int_equal(rd64(&t, DMAR_IQH_REG), 0);
	qi_enable(&t);
	qi_sync(&t);
	qi_sync(&t);
	assert_int_equal(rd64(&t, DMAR_IQH_REG), 2 << 4);
	/* IF: ICS.IWC, held while IECTL masks (its reset value) */
	qi_put(&t, VTD_QI_WAIT | VTD_QI_WAIT_IF, 0);
	qi_kick(&t);
	assert_int_equal(rd32(&t, DMAR_ICS_REG), VTD_ICS_IWC);
	assert_int_equal(rd32(&t, DMAR_IECTL_REG), VTD_FECTL_IM | VTD_FECTL_IP);
	wr32(&t, DMAR_ICS_REG, VTD_ICS_IWC);
	assert_int_equal(rd32(&t, DMAR_ICS_REG), 0);
	assert_int_equal(rd32(&t, DMAR_IECTL_REG), VTD_FECTL_IM);
	/* an interrupt entry cache descriptor (no ECAP.IR): IQE, head stays
	 * on it, the descriptors after it wait */
	head = rd64(&t, DMAR_IQH_REG);
	qi_put(&t, VTD_QI_IEC, 0);
	t.seq++;
	qi_put(&t, VTD_QI_WAIT | VTD_QI_WAIT_SW | (uint64_t)t.seq << 32,
	       t.status);
	qi_kick(&t);
	assert_true(rd32(&t, DMAR_FSTS_REG) & VTD_FSTS_IQE);
	assert_int_equal(rd64(&t, DMAR_IQH_REG), head);
	assert_int_not_equal(status_word(&t), t.seq);
	assert_int_equal(irq_count(t.m, irq), 1);
	/* the kernel replaces it and clears IQE: the queue resumes */
	put64(&t, t.iq + head, VTD_QI_WAIT);
	wr32(&t, DMAR_FSTS_REG, VTD_FSTS_IQE);
	assert_int_equal(status_word(&t), t.seq);
	assert_int_equal(rd64(&t, DMAR_IQH_REG), rd64(&t, DMAR_IQT_REG));
	/* reserved bits, an unknown type, a status address in the hole */
	const uint64_t bad[][2] = {
		{ VTD_QI_IOTLB | 1u << VTD_QI_GRAN_SHIFT | 1ULL << 40, 0 },
		{ VTD_QI_IOTLB, 0 },				/* G 0 */
		{ VTD_QI_CC | 1u << VTD_QI_GRAN_SHIFT, 1 },
		{ VTD_QI_WAIT | 1u << 12, 0 },
		{ 0xf, 0 },
		{ VTD_QI_WAIT | VTD_QI_WAIT_SW, HOLE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		head = rd64(&t, DMAR_IQH_REG);
		qi_put(&t, bad[i][0], bad[i][1]);
		qi_kick(&t);
		assert_true(rd32(&t, DMAR_FSTS_REG) & VTD_FSTS_IQE);
		assert_int_equal(rd64(&t, DMAR_IQH_REG), head);
		put64(&t, t.iq + head, VTD_QI_WAIT);
		put64(&t, t.iq + head + 8, 0);
		wr32(&t, DMAR_FSTS_REG, VTD_FSTS_IQE);
		assert_int_equal(rd64(&t, DMAR_IQH_REG), rd64(&t, DMAR_IQT_REG));
	}
	/* a tail beyond the queue size */
	wr64(&t, DMAR_IQT_REG, 300 << 4);
	assert_true(rd32(&t, DMAR_FSTS_REG) & VTD_FSTS_IQE);
	wr64(&t, DMAR_IQT_REG, rd64(&t, DMAR_IQH_REG));
	wr32(&t, DMAR_FSTS_REG, VTD_FSTS_IQE);
	/* wrap around the end of the 256-entry queue */
	for (int i = 0; i < 300; i++)
		qi_sync(&t);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.qi_errors, 8);
	/* disabling resets the head */
	gcmd(&t, 0, VTD_GCMD_QIE);
	assert_int_equal(rd64(&t, DMAR_IQH_REG), 0);
	shutdown(&t);
}

/* LRU replacement in the unit: a 4-entry IOTLB walking 5 pages. */
static void test_small_iotlb(void **state)
{
	struct vt t;
	struct vtd_params p;
	struct vtd_stats s;
	uint64_t top;

	(void)state;
	vtd_params_init(&p);
	p.iotlb_entries = 4;
	boot(&t, &p);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	for (uint64_t i = 0; i < 5; i++)
		map(&t, top, VTD_AW_48, i << 12, DATA + (i << 12), 12, 3);
	enable(&t);
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 5; i++)
			expect_ok(&t, SID_A, i << 12, 4, false, DATA + (i << 12),
				  4);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 10); /* cyclic use defeats LRU */
	assert_int_equal(s.hits, 0);
	assert_int_equal(s.evictions, 6);
	assert_int_equal(s.iotlb_valid, 4);
	shutdown(&t);
}

/* The level-2 entry above @iova (4-level tables). */
static uint64_t pde_slot(struct vt *t, uint64_t top, uint64_t iova)
{
	uint64_t table = top;

	for (unsigned int l = 4; l > 2; l--)
		table = get64(t, table + VTD_PTE_INDEX(iova, l) * 8) &
			VTD_PTE_ADDR_MASK;
	return table + VTD_PTE_INDEX(iova, 2) * 8;
}

/* Consecutive pages that map to consecutive pages go as one chunk; each
 * page is still one lookup, one miss, one walk; a page that does not
 * continue the run (a gap, a missing right) ends it, uncounted. */
static void test_runs(void **state)
{
	struct vt t;
	struct vtd_stats s;
	struct vtd_sid_stats ss;
	uint64_t top;

	(void)state;
	boot(&t, NULL);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	for (uint64_t i = 0; i < 16; i++)
		map(&t, top, VTD_AW_48, 0x400000 + i * 0x1000,
		    DATA + i * 0x1000, 12, i == 12 ? VTD_PTE_R : 3);
	map(&t, top, VTD_AW_48, 0x410000, DATA + 0x20000, 12, 3); /* a gap */
	enable(&t);
	expect_ok(&t, SID_A, 0x400010, 0x20000, false, DATA + 0x10, 0x10000 - 0x10);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.misses, 16);
	assert_int_equal(s.walks, 16);
	assert_int_equal(s.hits, 0);
	/* again: sixteen hits, the same chunk */
	expect_ok(&t, SID_A, 0x400010, 0x20000, false, DATA + 0x10, 0x10000 - 0x10);
	/* a write stops before the read-only page ... */
	expect_ok(&t, SID_A, 0x400000, 0x10000, true, DATA, 0xc000);
	/* ... which then faults exactly as a single access would */
	expect_fault(&t, SID_A, 0x40c000, true, VTD_FR_WRITE);
	/* a shorter access covers only what it asks for */
	expect_ok(&t, SID_A, 0x401000, 0x1800, true, DATA + 0x1000, 0x1800);
	vtd_get_stats(t.u, &s);
	/* the refused write's lookup hit an entry without the right */
	assert_int_equal(s.hits, 16 + 12 + 1 + 2);
	assert_int_equal(s.misses, 16);
	assert_int_equal(s.walks, 17); /* the refused write walked */
	assert_int_equal(s.faults, 1);
	vtd_get_sid_stats(t.u, SID_A, &ss);
	assert_int_equal(ss.hits, 16 + 12 + 2);
	assert_int_equal(ss.walks, 17);
	shutdown(&t);
}

/* The PDE cache: a walk under a cached PDE reads the leaf table it
 * remembers, so a changed PDE is not seen until an IOTLB invalidation
 * of the domain drops it, and is seen after. */
static void test_pde_cache(void **state)
{
	struct vt t;
	struct vtd_stats s;
	uint64_t top, pde, fresh;

	(void)state;
	boot(&t, NULL);
	top = domain(&t, SID_A, 3, VTD_AW_48);
	for (uint64_t i = 0; i < 8; i++)
		map(&t, top, VTD_AW_48, 0x200000 + i * 0x1000,
		    DATA + i * 0x1000, 12, 3);
	enable(&t);
	expect_ok(&t, SID_A, 0x200000, 0x4000, false, DATA, 0x4000);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 4);
	assert_int_equal(s.pwc_misses, 1);	/* the first walk, from the top */
	assert_int_equal(s.pwc_hits, 3);	/* the others from the PDE */
	assert_int_equal(s.pwc_valid, 1);
	/* point the PDE at a new leaf table, without invalidating */
	pde = pde_slot(&t, top, 0x200000);
	fresh = new_page(&t);
	for (uint64_t i = 0; i < 8; i++)
		put64(&t, fresh + i * 8, (DATA + 0x100000 + i * 0x1000) | 3);
	put64(&t, pde, fresh | VTD_PTE_R | VTD_PTE_W);
	/* pages not in the IOTLB still go through the old table */
	expect_ok(&t, SID_A, 0x204000, 8, false, DATA + 0x4000, 8);
	/* an invalidation of another domain keeps it */
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_DSI, 4, 0, 0),
			 VTD_IOTLB_DSI);
	expect_ok(&t, SID_A, 0x205000, 8, false, DATA + 0x5000, 8);
	/* a page-selective one of the domain drops its PDEs */
	assert_int_equal(iotlb_reg_flush(&t, VTD_IOTLB_PSI, 3, 0x200000, 0),
			 VTD_IOTLB_PSI);
	expect_ok(&t, SID_A, 0x206000, 8, false, DATA + 0x106000, 8);
	expect_ok(&t, SID_A, 0x200000, 8, false, DATA + 0x100000, 8);
	/* the IOTLB entries the PSI did not cover still answer */
	expect_ok(&t, SID_A, 0x201000, 8, false, DATA + 0x1000, 8);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.pwc_misses, 2);
	assert_int_equal(s.pwc_hits, 3 + 2 + 1);
	assert_int_equal(s.pwc_inval_entries, 1);
	assert_true(s.pwc_valid == 1);
	/* a global invalidation drops them all */
	iotlb_reg_flush(&t, VTD_IOTLB_GLOBAL, 0, 0, 0);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.pwc_valid, 0);
	shutdown(&t);
}

/* Without a PDE cache every walk starts at the top. */
static void test_no_pde_cache(void **state)
{
	struct vt t;
	struct vtd_params p;
	struct vtd_stats s;
	uint64_t top;

	(void)state;
	vtd_params_init(&p);
	p.pwc_entries = 0;
	boot(&t, &p);
	top = domain(&t, SID_A, 3, VTD_AW_48);
	for (uint64_t i = 0; i < 8; i++)
		map(&t, top, VTD_AW_48, 0x200000 + i * 0x1000,
		    DATA + i * 0x1000, 12, 3);
	enable(&t);
	expect_ok(&t, SID_A, 0x200000, 0x8000, true, DATA, 0x8000);
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.walks, 8);
	assert_int_equal(s.pwc_hits + s.pwc_misses, 0);
	shutdown(&t);
}

/* Several device threads translate while the kernel thread invalidates:
 * every answer is the mapping or a clean fault (TSan checks the rest). */
#define NR_THREADS 4
#define ITERS	   20000

struct worker {
	struct vt *t;
	uint16_t sid;
	unsigned int seed;
	unsigned long bad, ok, faults;
};

static void *worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ITERS; i++) {
		uint64_t page = (uint64_t)(rand_r(&w->seed) % 160), phys;
		size_t chunk;
		bool write = i & 1;
		enum pci_status st = tr(w->t, w->sid, page << 12 | 8, 64, write,
					&phys, &chunk);

		if (st != PCI_STATUS_OK)
			w->faults++;
		else if (page >= 128 || phys != DATA + (page << 12 | 8) ||
			 chunk != 64)
			w->bad++;
		else
			w->ok++;
		if (page >= 128 && st == PCI_STATUS_OK)
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct vt t;
	struct vtd_stats s;
	pthread_t th[NR_THREADS];
	struct worker w[NR_THREADS];
	uint64_t top;
	unsigned long faults = 0;

	(void)state;
	boot(&t, NULL);
	top = domain(&t, SID_A, 1, VTD_AW_48);
	set_ctx(&t, SID_B, top | VTD_CTX_P, 2 | 1u << VTD_CTX_DID_SHIFT);
	for (uint64_t i = 0; i < 128; i++)
		map(&t, top, VTD_AW_48, i << 12, DATA + (i << 12), 12, 3);
	enable(&t);
	qi_enable(&t);
	for (int i = 0; i < NR_THREADS; i++) {
		w[i] = (struct worker){ .t = &t, .sid = i & 1 ? SID_B : SID_A,
					.seed = (unsigned int)i * 77 + 1 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 200; i++) {
		if (i % 2)
			iotlb_reg_flush(&t, VTD_IOTLB_PSI, 1,
					(uint64_t)(i % 128) << 12, 2);
		else
			qi_iotlb(&t, i % 4 ? VTD_IOTLB_DSI : VTD_IOTLB_GLOBAL,
				 1, 0, 0);
		if (i % 50 == 0)
			ccmd_flush(&t, VTD_CCMD_GLOBAL, 0, 0);
		/* the kernel services the fault records as they fill */
		for (unsigned int r = 0; r < 8; r++)
			wr32(&t, frcd(r) + 12, VTD_FRCD_HI32_F);
		wr32(&t, DMAR_FSTS_REG, VTD_FSTS_PFO);
	}
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
		assert_true(w[i].ok > 0);
		faults += w[i].faults;
	}
	vtd_get_stats(t.u, &s);
	assert_int_equal(s.faults, faults);
	assert_int_equal(s.faults, s.faults_recorded + s.faults_lost);
	assert_int_equal(s.hits + s.misses, (uint64_t)NR_THREADS * ITERS);
	shutdown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_translation_off),
		cmocka_unit_test(test_walk_4k),
		cmocka_unit_test(test_superpages),
		cmocka_unit_test(test_superpages_off),
		cmocka_unit_test(test_fault_reasons),
		cmocka_unit_test(test_fault_recording),
		cmocka_unit_test(test_fault_event),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_bus_transfers),
		cmocka_unit_test(test_stale_iotlb_registers),
		cmocka_unit_test(test_stale_iotlb_queue),
		cmocka_unit_test(test_context_cache),
		cmocka_unit_test(test_passthrough_and_fpd),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_small_iotlb),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_pde_cache),
		cmocka_unit_test(test_no_pde_cache),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
