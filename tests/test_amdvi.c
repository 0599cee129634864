/*
 * The AMD-Vi remapping unit as hardware: registers programmed through its
 * window, the device table, I/O page tables, command buffer and event log
 * written and read by hand in machine RAM in the specification's format,
 * and accesses translated directly or through a function's bus-master
 * path. Walks at 3, 4 and 6 levels with 4 KiB, 2 MiB, 1 GiB and
 * next-level-7 pages and skipped levels, pass-through states, every event
 * the tables can produce with its exact log entry, the event log ring
 * (wraparound, overflow, restart), the event and completion interrupts,
 * the commands (completion wait, invalidations, illegal commands), stale
 * cached entries until invalidated, and translations from several threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "hw/amdvi.h"
#include "hw/bus.h"
#include "hw/mmio.h"
#include "hw/pci.h"
#include "kernel/irq.h"
#include "kernel/machine.h"

#define TABLES	 0x120000000ULL	/* high RAM the kernel leaves alone */
#define DATA	 0x140000000ULL
#define HOLE	 0xd0000000ULL	/* inside the PCI hole, 3-4 GiB */
#define REG_BASE 0xfeb80000ULL
#define DEV_A	 0x0300		/* 03:00.0 */
#define DEV_B	 0x0308		/* 03:01.0 */
#define RW	 (AMDVI_PTE_IR | AMDVI_PTE_IW)
#define LOG_N	 256		/* event log and command buffer entries */

struct av {
	struct dmasim_machine *dm;
	struct machine *m;
	struct iommu_unit *u;
	volatile uint8_t *regs;
	struct pci_func *fn;
	uint64_t next, devtab, cmdbuf, evtlog, sem;
	unsigned int cmd_tail, evt_head;
	uint64_t seq, ctrl;
};

/* ------------------------------------------------------------ helpers */

static uint64_t rd64(struct av *t, uint64_t off)
{
	return mmio_read(t->regs + off, 8);
}

static uint32_t rd32(struct av *t, uint64_t off)
{
	return (uint32_t)mmio_read(t->regs + off, 4);
}

static void wr64(struct av *t, uint64_t off, uint64_t v)
{
	mmio_write(t->regs + off, v, 8);
}

static void wr32(struct av *t, uint64_t off, uint32_t v)
{
	mmio_write(t->regs + off, v, 4);
}

static void put64(struct av *t, uint64_t addr, uint64_t v)
{
	assert_int_equal(dmasim_phys_write(t->dm, addr, &v, 8), 0);
}

static uint64_t get64(struct av *t, uint64_t addr)
{
	uint64_t v;

	assert_int_equal(dmasim_phys_read(t->dm, addr, &v, 8), 0);
	return v;
}

static uint64_t new_page(struct av *t)
{
	static const uint8_t zero[4096];
	uint64_t a = t->next;

	t->next += 4096;
	assert_int_equal(dmasim_phys_write(t->dm, a, zero, sizeof(zero)), 0);
	return a;
}

static void control(struct av *t, uint64_t set, uint64_t clear)
{
	t->ctrl = (t->ctrl | set) & ~clear;
	wr64(t, AMDVI_MMIO_CONTROL, t->ctrl);
}

/* The unit programmed as a driver brings it up: device table (all 64K
 * entries, fresh RAM: V = 0), command buffer and event log of 256
 * entries with head = tail = 0, both enabled, then IommuEn. */
static void boot(struct av *t, const struct amdvi_params *p)
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
	assert_int_equal(amdvi_create(t->m, REG_BASE, p, &t->u), 0);
	t->regs = mmio_window(amdvi_regs(t->u));
	t->devtab = TABLES;
	t->next = TABLES + MiB(2);
	t->cmdbuf = new_page(t);
	t->evtlog = new_page(t);
	t->sem = new_page(t);
	t->fn = pci_find_id(t->m, "rp1");
	assert_non_null(t->fn);
	pci_cfg_write(t->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	wr64(t, AMDVI_MMIO_DEV_TABLE, t->devtab | 0x1ff);
	wr64(t, AMDVI_MMIO_CMD_BUF, t->cmdbuf | 8ULL << AMDVI_RING_LEN_SHIFT);
	wr64(t, AMDVI_MMIO_CMD_HEAD, 0);
	wr64(t, AMDVI_MMIO_CMD_TAIL, 0);
	wr64(t, AMDVI_MMIO_EVT_LOG, t->evtlog | 8ULL << AMDVI_RING_LEN_SHIFT);
	wr64(t, AMDVI_MMIO_EVT_HEAD, 0);
	wr64(t, AMDVI_MMIO_EVT_TAIL, 0);
	control(t, AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVT_LOG_EN, 0);
	control(t, AMDVI_CTRL_IOMMU_EN, 0);
	assert_int_equal(rd64(t, AMDVI_MMIO_STATUS),
			 AMDVI_STATUS_CMD_RUN | AMDVI_STATUS_EVT_RUN);
}

static void shutdown(struct av *t)
{
	t->fn->iommu = NULL;
	amdvi_destroy(t->u);
	dmasim_machine_destroy(t->dm);
}

static void set_dte(struct av *t, uint16_t devid, uint64_t q0, uint64_t q1)
{
	uint64_t at = t->devtab + devid * 32ULL;

	put64(t, at + 8, q1);
	put64(t, at, q0);
}

/* A paged domain @did of @mode levels for @devid; returns its root. */
static uint64_t domain(struct av *t, uint16_t devid, uint16_t did,
		       unsigned int mode)
{
	uint64_t root = new_page(t);

	set_dte(t, devid,
		root | (uint64_t)mode << AMDVI_DTE_MODE_SHIFT | RW |
			AMDVI_DTE_TV | AMDVI_DTE_V,
		did);
	return root;
}

/* The table at @level on the way to @iova (made as needed). */
static uint64_t table_at(struct av *t, uint64_t root, unsigned int mode,
			 uint64_t iova, unsigned int level)
{
	uint64_t table = root, slot, pte;

	for (unsigned int l = mode; l > level; l--) {
		slot = table + AMDVI_PTE_INDEX(iova, l) * 8ULL;
		pte = get64(t, slot);
		if (!pte) {
			pte = new_page(t) | (uint64_t)(l - 1) << 9 | RW |
			      AMDVI_PTE_PR;
			put64(t, slot, pte);
		}
		table = pte & AMDVI_PTE_ADDR_MASK;
	}
	return table;
}

/* Map @iova -> @phys with a leaf of the natural size 2^@shift (12, 21,
 * 30, ...); returns the leaf's address. */
static uint64_t map(struct av *t, uint64_t root, unsigned int mode,
		    uint64_t iova, uint64_t phys, unsigned int shift,
		    uint64_t perm)
{
	unsigned int level = (shift - 12) / 9 + 1;
	uint64_t slot = table_at(t, root, mode, iova, level) +
			AMDVI_PTE_INDEX(iova, level) * 8ULL;

	put64(t, slot, phys | perm | AMDVI_PTE_FC | AMDVI_PTE_PR);
	return slot;
}

/* Map a page of 2^@shift bytes that is no level's size: next level 7,
 * repeated in each slot it covers. */
static void map_sized(struct av *t, uint64_t root, unsigned int mode,
		      uint64_t iova, uint64_t phys, unsigned int shift)
{
	unsigned int level = (shift - 13) / 9 + 1;
	uint64_t table = table_at(t, root, mode, iova, level);
	uint64_t pte = phys | (((1ULL << (shift - 1)) - 1) & ~0xfffULL) |
		       7ULL << 9 | RW | AMDVI_PTE_PR;
	unsigned int n = 1u << (shift - AMDVI_LEVEL_SHIFT(level));

	for (unsigned int i = 0; i < n; i++)
		put64(t, table + (AMDVI_PTE_INDEX(iova, level) + i) * 8ULL, pte);
}

static enum pci_status tr(struct av *t, uint16_t devid, uint64_t iova,
			  size_t len, bool write, uint64_t *phys, size_t *chunk)
{
	return t->u->ops->translate(t->u, devid, iova, len, write, phys, chunk);
}

static void expect_ok(struct av *t, uint16_t devid, uint64_t iova,
		      size_t len, bool write, uint64_t want, size_t want_chunk)
{
	uint64_t phys = 0;
	size_t chunk = 0;

	assert_int_equal(tr(t, devid, iova, len, write, &phys, &chunk),
			 PCI_STATUS_OK);
	assert_int_equal(phys, want);
	assert_int_equal(chunk, want_chunk);
}

static void expect_abort(struct av *t, uint16_t devid, uint64_t iova,
			 bool write)
{
	uint64_t phys;
	size_t chunk;

	assert_int_equal(tr(t, devid, iova, 8, write, &phys, &chunk),
			 PCI_STATUS_UR);
}

static bool has_event(struct av *t)
{
	return rd64(t, AMDVI_MMIO_EVT_TAIL) != (uint64_t)t->evt_head << 4;
}

/* The next entry of the log, consumed as the kernel does. */
static void next_event(struct av *t, uint64_t *q0, uint64_t *q1)
{
	uint64_t at = t->evtlog + t->evt_head * 16ULL;

	assert_true(has_event(t));
	*q0 = get64(t, at);
	*q1 = get64(t, at + 8);
	t->evt_head = (t->evt_head + 1) % LOG_N;
	wr64(t, AMDVI_MMIO_EVT_HEAD, (uint64_t)t->evt_head << 4);
}

static void expect_event(struct av *t, unsigned int code, uint16_t devid,
			 uint16_t dom, unsigned int flags, uint64_t addr)
{
	uint64_t q0, q1;

	next_event(t, &q0, &q1);
	assert_int_equal(AMDVI_EVT_CODE(q0), code);
	assert_int_equal(AMDVI_EVT_DEVID(q0), devid);
	assert_int_equal(AMDVI_EVT_DOMAIN(q0), dom);
	assert_int_equal(AMDVI_EVT_FLAGS(q0), flags);
	assert_int_equal(q0 & 0xfff0000ULL, 0); /* PASID, reserved */
	assert_int_equal(q1, addr);
}

static void expect_fault(struct av *t, uint16_t devid, uint16_t dom,
			 uint64_t iova, bool write, unsigned int flags)
{
	expect_abort(t, devid, iova, write);
	expect_event(t, AMDVI_EVT_IO_PAGE_FAULT, devid, dom,
		     flags | (write ? AMDVI_EVT_FLAG_RW : 0), iova);
	assert_false(has_event(t));
}

static void cmd_put(struct av *t, uint64_t q0, uint64_t q1)
{
	put64(t, t->cmdbuf + t->cmd_tail * 16ULL, q0);
	put64(t, t->cmdbuf + t->cmd_tail * 16ULL + 8, q1);
	t->cmd_tail = (t->cmd_tail + 1) % LOG_N;
}

static void cmd_kick(struct av *t)
{
	wr64(t, AMDVI_MMIO_CMD_TAIL, (uint64_t)t->cmd_tail << 4);
}

/* COMPLETION_WAIT with a store, then check it was stored. */
static void cmd_sync(struct av *t)
{
	t->seq++;
	cmd_put(t, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | t->sem |
			   AMDVI_CMD_CW_S,
		t->seq);
	cmd_kick(t);
	assert_int_equal(get64(t, t->sem), t->seq);
	assert_int_equal(rd64(t, AMDVI_MMIO_CMD_HEAD),
			 rd64(t, AMDVI_MMIO_CMD_TAIL));
}

static void inv_pages(struct av *t, uint16_t dom, uint64_t addr, bool s)
{
	cmd_put(t, (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << 60 |
			   (uint64_t)dom << 32,
		addr | (s ? AMDVI_CMD_PAGES_S : 0) | AMDVI_CMD_PAGES_PDE);
	cmd_sync(t);
}

static void inv_dte(struct av *t, uint16_t devid)
{
	cmd_put(t, (uint64_t)AMDVI_CMD_INV_DEVTAB_ENTRY << 60 | devid, 0);
	cmd_sync(t);
}

/* An MSI vector for the unit's interrupt, programmed in its capability
 * mirror and enabled; returns the irq. */
static unsigned int event_irq(struct av *t)
{
	int irq = irq_alloc_msi(t->m, 1, "AMD-Vi", 0);
	struct irq_desc *d;

	assert_true(irq > 0);
	d = irq_to_desc(t->m, (unsigned int)irq);
	wr32(t, AMDVI_MMIO_MSI_ADDR_LO, (uint32_t)apic_msi_address(d->cpu));
	wr32(t, AMDVI_MMIO_MSI_ADDR_HI, 0);
	wr32(t, AMDVI_MMIO_MSI_DATA, d->vector);
	wr32(t, AMDVI_MMIO_MSI_CAP, AMDVI_MSI_CAP_EN);
	return (unsigned int)irq;
}

/* -------------------------------------------------------------- tests */

static void test_registers(void **state)
{
	struct av t;
	struct amdvi_params p;
	struct iommu_unit *u;
	uint64_t efr;

	(void)state;
	boot(&t, NULL);
	assert_true(amdvi_is_unit(t.u));
	assert_string_equal(t.u->name, "ivhd0");
	assert_int_equal(amdvi_reg_base(t.u), REG_BASE);
	assert_int_equal(amdvi_regs(t.u)->size, AMDVI_MMIO_SIZE);
	efr = rd64(&t, AMDVI_MMIO_EXT_FEATURES);
	assert_int_equal(efr, AMDVI_EFR_IA | AMDVI_EFR_MSI_CAP_MMIO |
				      2ULL << AMDVI_EFR_HATS_SHIFT);
	assert_int_equal(AMDVI_HATS_LEVELS(AMDVI_EFR_HATS(efr)), 6);
	wr64(&t, AMDVI_MMIO_EXT_FEATURES, 0);
	assert_int_equal(rd64(&t, AMDVI_MMIO_EXT_FEATURES), efr);
	assert_int_equal(rd32(&t, AMDVI_MMIO_MSI_CAP),
			 AMDVI_MSI_CAP_ID | AMDVI_MSI_CAP_64);
	/* halves; reserved bits of the base registers read 0 */
	wr32(&t, AMDVI_MMIO_EXCL_BASE, 0x12345000);
	wr32(&t, AMDVI_MMIO_EXCL_BASE + 4, 0x1);
	assert_int_equal(rd64(&t, AMDVI_MMIO_EXCL_BASE), 0x112345000ULL);
	assert_int_equal(rd64(&t, AMDVI_MMIO_DEV_TABLE), TABLES | 0x1ff);
	assert_int_equal(rd32(&t, AMDVI_MMIO_EVT_LOG + 4),
			 (uint32_t)((t.evtlog | 8ULL << 56) >> 32));
	assert_int_equal(mmio_read(t.regs + AMDVI_MMIO_CONTROL, 1),
			 AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_EVT_LOG_EN);
	/* head and tail keep bits 18:4; the event tail is the unit's
	 * while the log runs, the command head while the buffer runs */
	wr64(&t, AMDVI_MMIO_EVT_HEAD, 0xfffffffff);
	assert_int_equal(rd64(&t, AMDVI_MMIO_EVT_HEAD), 0x7fff0);
	wr64(&t, AMDVI_MMIO_EVT_HEAD, 0);
	wr64(&t, AMDVI_MMIO_EVT_TAIL, 0x40);
	wr64(&t, AMDVI_MMIO_CMD_HEAD, 0x40);
	assert_int_equal(rd64(&t, AMDVI_MMIO_EVT_TAIL), 0);
	assert_int_equal(rd64(&t, AMDVI_MMIO_CMD_HEAD), 0);
	/* status: RO bits ignore writes */
	wr64(&t, AMDVI_MMIO_STATUS, ~0ULL);
	assert_int_equal(rd64(&t, AMDVI_MMIO_STATUS),
			 AMDVI_STATUS_CMD_RUN | AMDVI_STATUS_EVT_RUN);
	/* other parameters */
	amdvi_params_init(&p);
	p.max_levels = 4;
	p.index = 3;
	assert_int_equal(amdvi_create(t.m, REG_BASE + 0x20000, &p, &u), 0);
	assert_string_equal(u->name, "ivhd3");
	efr = mmio_read((uint8_t *)mmio_window(amdvi_regs(u)) +
				AMDVI_MMIO_EXT_FEATURES, 8);
	assert_int_equal(AMDVI_EFR_HATS(efr), 0);
	u->ops->destroy(u);
	p.max_levels = 3;
	assert_int_equal(amdvi_create(t.m, 0, &p, &u), -EINVAL);
	assert_null(u);
	amdvi_params_init(&p);
	p.iotlb_entries = 48;
	assert_int_equal(amdvi_create(t.m, 0, &p, &u), -EINVAL);
	amdvi_params_init(&p);
	p.dtc_entries = 0;
	assert_int_equal(amdvi_create(t.m, 0, &p, &u), -EINVAL);
	shutdown(&t);
}

/* Untranslated states: unit off, V = 0, V = 1 with TV = 0, mode 0 with
 * the entry's IR/IW as the only check. */
static void test_passthrough(void **state)
{
	struct av t;
	struct amdvi_stats s;

	(void)state;
	boot(&t, NULL);
	control(&t, 0, AMDVI_CTRL_IOMMU_EN);
	set_dte(&t, DEV_A, AMDVI_DTE_V | AMDVI_DTE_TV, 1); /* blocked */
	expect_ok(&t, DEV_A, 0x123456789ULL, MiB(1), true, 0x123456789ULL,
		  MiB(1));
	control(&t, AMDVI_CTRL_IOMMU_EN, 0);
	/* V = 0 (fresh table) */
	expect_ok(&t, DEV_B, 0x5000, 64, true, 0x5000, 64);
	/* V = 1, TV = 0: the translation fields are not valid */
	set_dte(&t, 0x0400, AMDVI_DTE_V | 0x3ULL << 9, 7);
	expect_ok(&t, 0x0400, 0x6000, 64, false, 0x6000, 64);
	/* mode 0 with IR and IW: untranslated */
	set_dte(&t, 0x0401, AMDVI_DTE_V | AMDVI_DTE_TV | RW, 8);
	expect_ok(&t, 0x0401, GiB(5), 4096, true, GiB(5), 4096);
	/* mode 0, read only: a write is a permission fault */
	set_dte(&t, 0x0402, AMDVI_DTE_V | AMDVI_DTE_TV | AMDVI_DTE_IR, 9);
	expect_ok(&t, 0x0402, 0x7000, 8, false, 0x7000, 8);
	expect_fault(&t, 0x0402, 9, 0x7000, true,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_PE);
	/* mode 0 without rights (what Linux writes to block DMA) */
	expect_fault(&t, DEV_A, 1, 0x8000, false, 0);
	expect_fault(&t, DEV_A, 1, 0x8000, true, 0);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.faults, 3);
	assert_int_equal(s.events_written, 3);
	assert_int_equal(s.walks, 0);
	shutdown(&t);
}

static void test_walk_levels(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t r3, r4, r6, hi6 = 0xff00123456789000ULL;

	(void)state;
	boot(&t, NULL);
	r4 = domain(&t, DEV_A, 1, 4);
	r3 = domain(&t, DEV_B, 2, 3);
	r6 = domain(&t, 0x0500, 3, 6);
	map(&t, r4, 4, 0xfffffffff000ULL, DATA + 0x3000, 12, RW);
	map(&t, r4, 4, 0, DATA, 12, RW);
	map(&t, r4, 4, 0x40000000, DATA + MiB(2), 21, RW);	/* 2 MiB */
	map(&t, r4, 4, 0x8000000000ULL, GiB(4), 30, RW);	/* 1 GiB */
	map(&t, r3, 3, 0x7ffffff000ULL, DATA + 0x5000, 12, RW);
	map(&t, r3, 3, 0x40000000, GiB(5), 30, AMDVI_PTE_IR);
	map(&t, r6, 6, hi6, DATA + 0x9000, 12, RW);
	expect_ok(&t, DEV_A, 0xfffffffff010ULL, 0x10000, false, DATA + 0x3010,
		  0x1000 - 0x10);
	expect_ok(&t, DEV_A, 0xfff, 8, true, DATA + 0xfff, 1);
	expect_ok(&t, DEV_A, 0x40001234, MiB(4), false, DATA + MiB(2) + 0x1234,
		  MiB(2) - 0x1234);
	expect_ok(&t, DEV_A, 0x8000000000ULL + MiB(1000), GiB(1), true,
		  GiB(4) + MiB(1000), MiB(24));
	expect_ok(&t, DEV_B, 0x7ffffff800ULL, 0x100, true, DATA + 0x5800,
		  0x100);
	expect_ok(&t, DEV_B, 0x40000005, 10, false, GiB(5) + 5, 10);
	expect_ok(&t, 0x0500, hi6 + 8, 8, true, DATA + 0x9008, 8);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.walks, 7);
	/* one walk per page: the rest hit, in each domain separately */
	expect_ok(&t, DEV_A, 0x40000000 + MiB(1), 16, false,
		  DATA + MiB(3), 16);
	expect_ok(&t, DEV_A, 0x8000000000ULL, 16, false, GiB(4), 16);
	expect_ok(&t, DEV_B, 0x7ffffff000ULL, 4, false, DATA + 0x5000, 4);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.walks, 7);
	assert_int_equal(s.hits, 3);
	/* the same IOVA in the 3-level domain is not mapped; beyond its
	 * 39 bits is a fault without a walk */
	expect_fault(&t, DEV_B, 2, 0, false, 0);
	expect_fault(&t, DEV_B, 2, 1ULL << 39, true, 0);
	expect_fault(&t, DEV_B, 2, 0x40000000, true,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_PE);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.walks, 9);
	shutdown(&t);
}

/* Next level 7 (a page size in the address) and skipped levels. */
static void test_sized_pages(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t root, l2;

	(void)state;
	boot(&t, NULL);
	root = domain(&t, DEV_A, 1, 4);
	map_sized(&t, root, 4, 0x100000, DATA + 0x18000, 15);	/* 32 KiB */
	map_sized(&t, root, 4, 0x800000, GiB(4) + MiB(4), 22);	/* 4 MiB */
	expect_ok(&t, DEV_A, 0x100000 + 0x5123, 0x10000, true,
		  DATA + 0x1d123, 0x8000 - 0x5123);
	expect_ok(&t, DEV_A, 0x800000 + MiB(3), MiB(4), false,
		  GiB(4) + MiB(7), MiB(1));
	/* within the 4 MiB page, the second 2 MiB half was cached apart */
	expect_ok(&t, DEV_A, 0x800000 + 0x10, 8, false, GiB(4) + MiB(4) + 0x10,
		  8);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.walks, 3);
	/* a level-4 entry pointing straight at a level-2 table: the level-3
	 * index bits (38:30) of the address must be zero */
	l2 = new_page(&t);
	put64(&t, root + 1 * 8, l2 | 2ULL << 9 | RW | AMDVI_PTE_PR);
	put64(&t, l2 + 3 * 8, DATA | RW | AMDVI_PTE_PR);	/* a 2 MiB leaf */
	expect_ok(&t, DEV_A, 0x8000000000ULL + MiB(6) + 7, 8, false,
		  DATA + 7, 8);
	expect_fault(&t, DEV_A, 1, 0x8000000000ULL + GiB(1) + MiB(6), false,
		     0);
	/* invalid encodings: next level not below the entry's own */
	put64(&t, root + 2 * 8, l2 | 4ULL << 9 | RW | AMDVI_PTE_PR);
	expect_fault(&t, DEV_A, 1, 0x10000000000ULL, true,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_RZ);
	/* next level 7 at level 2 claiming 8 KiB (bit 12 clear) */
	put64(&t, l2 + 4 * 8, DATA | 7ULL << 9 | RW | AMDVI_PTE_PR);
	expect_fault(&t, DEV_A, 1, 0x8000000000ULL + MiB(8), false,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_RZ);
	/* reserved bits in a PTE and in a PDE */
	put64(&t, l2 + 5 * 8, DATA | 1ULL << 55 | RW | AMDVI_PTE_PR);
	expect_fault(&t, DEV_A, 1, 0x8000000000ULL + MiB(10), false,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_RZ);
	put64(&t, root + 3 * 8, l2 | 2ULL << 9 | AMDVI_PTE_FC | RW |
					AMDVI_PTE_PR);
	expect_fault(&t, DEV_A, 1, 0x18000000000ULL, false,
		     AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_RZ);
	shutdown(&t);
}

/* Rights per direction with exact entries, the AND down the walk, not
 * present at each level, and the suppression bits. */
static void test_page_faults(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t root, pde;

	(void)state;
	boot(&t, NULL);
	root = domain(&t, DEV_A, 0x1234, 4);
	map(&t, root, 4, 0x1000, DATA + 0x1000, 12, AMDVI_PTE_IR);
	map(&t, root, 4, 0x2000, DATA + 0x2000, 12, AMDVI_PTE_IW);
	map(&t, root, 4, 0x3000, DATA + 0x3000, 12, 0);
	expect_ok(&t, DEV_A, 0x1000, 8, false, DATA + 0x1000, 8);
	expect_fault(&t, DEV_A, 0x1234, 0x1008, true, 0x50);	/* 0x70 */
	expect_ok(&t, DEV_A, 0x2000, 8, true, DATA + 0x2000, 8);
	expect_fault(&t, DEV_A, 0x1234, 0x2010, false, 0x50);
	expect_fault(&t, DEV_A, 0x1234, 0x3000, false, 0x50);
	expect_fault(&t, DEV_A, 0x1234, 0x3000, true, 0x50);
	/* not present: the leaf, a level-1 table's slot, a whole PML */
	expect_fault(&t, DEV_A, 0x1234, 0x4000, false, 0);
	expect_fault(&t, DEV_A, 0x1234, 0x4000, true, 0);
	expect_fault(&t, DEV_A, 0x1234, 0x7fff00000000ULL, true, 0);
	/* an upper level without IW caps the leaf's write */
	map(&t, root, 4, 0x8000000000ULL, DATA + 0x4000, 12, RW);
	pde = get64(&t, root + 8);
	put64(&t, root + 8, pde & ~AMDVI_PTE_IW);
	expect_ok(&t, DEV_A, 0x8000000000ULL, 8, false, DATA + 0x4000, 8);
	expect_fault(&t, DEV_A, 0x1234, 0x8000000000ULL, true, 0x50);
	/* so does the device table entry's IW */
	set_dte(&t, DEV_B, root | 4ULL << 9 | AMDVI_DTE_IR | AMDVI_DTE_TV |
				   AMDVI_DTE_V, 0x1234);
	expect_fault(&t, DEV_B, 0x1234, 0x2000, true, 0x50);
	/* SE and SA: the access is refused, nothing is logged */
	set_dte(&t, 0x0600, root | 4ULL << 9 | RW | AMDVI_DTE_TV | AMDVI_DTE_V,
		0x1234 | AMDVI_DTE_SA);
	set_dte(&t, 0x0601, root | 4ULL << 9 | RW | AMDVI_DTE_TV | AMDVI_DTE_V,
		0x1234 | AMDVI_DTE_SE);
	expect_abort(&t, 0x0600, 0x9000, false);
	expect_abort(&t, 0x0601, 0x9000, true);
	assert_false(has_event(&t));
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.faults, 11);
	assert_int_equal(s.faults_suppressed, 2);
	assert_int_equal(s.events_written, 9);
	shutdown(&t);
}

/* Device table and table pointer errors. */
static void test_table_errors(void **state)
{
	struct av t;
	uint64_t root;

	(void)state;
	boot(&t, NULL);
	root = domain(&t, DEV_A, 5, 4);
	/* reserved bits: qword 0 (TV = 1) and qword 1; an unsupported
	 * feature (GV) counts as reserved */
	set_dte(&t, 0x0700, root | 4ULL << 9 | 1ULL << 3 | AMDVI_DTE_TV |
				    AMDVI_DTE_V, 5);
	expect_abort(&t, 0x0700, 0x1000, false);
	expect_event(&t, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, 0x0700, 0,
		     AMDVI_EVT_FLAG_RZ, 0x1000);
	set_dte(&t, 0x0701, root | 4ULL << 9 | AMDVI_DTE_GV | AMDVI_DTE_TV |
				    AMDVI_DTE_V, 5);
	expect_abort(&t, 0x0701, 0x1000, true);
	expect_event(&t, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, 0x0701, 0,
		     AMDVI_EVT_FLAG_RZ | AMDVI_EVT_FLAG_RW, 0x1000);
	set_dte(&t, 0x0702, AMDVI_DTE_V, 1ULL << 20);
	expect_abort(&t, 0x0702, 0x2000, false);
	expect_event(&t, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, 0x0702, 0,
		     AMDVI_EVT_FLAG_RZ, 0x2000);
	/* mode 7 is an invalid level encoding (RZ clear) */
	set_dte(&t, 0x0703, root | 7ULL << 9 | AMDVI_DTE_TV | AMDVI_DTE_V, 5);
	expect_abort(&t, 0x0703, 0x3000, false);
	expect_event(&t, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, 0x0703, 0, 0,
		     0x3000);
	/* the page table root, then a PDE, in the PCI hole */
	set_dte(&t, 0x0704, HOLE | 3ULL << 9 | RW | AMDVI_DTE_TV | AMDVI_DTE_V,
		6);
	expect_abort(&t, 0x0704, 0x40201000, true);
	expect_event(&t, AMDVI_EVT_PAGE_TAB_HW_ERROR, 0x0704, 6,
		     AMDVI_EVT_FLAG_RW | AMDVI_HW_ERR_MASTER_ABORT << 9,
		     HOLE + 1 * 8);
	put64(&t, root + 2 * 8, HOLE | 3ULL << 9 | RW | AMDVI_PTE_PR);
	expect_abort(&t, DEV_A, 0x10000000000ULL, false);
	expect_event(&t, AMDVI_EVT_PAGE_TAB_HW_ERROR, DEV_A, 5,
		     AMDVI_HW_ERR_MASTER_ABORT << 9, HOLE);
	/* a device id beyond a smaller table; the table in the hole */
	wr64(&t, AMDVI_MMIO_DEV_TABLE, TABLES | 0x1f); /* 4096 entries */
	expect_abort(&t, 0x1000, 0x4000, false);
	expect_event(&t, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, 0x1000, 0, 0,
		     0x4000);
	expect_ok(&t, 0x0fff, 0x4000, 4, false, 0x4000, 4); /* V = 0 */
	wr64(&t, AMDVI_MMIO_DEV_TABLE, HOLE | 0x1ff);
	expect_abort(&t, 0x0010, 0x5000, true);
	expect_event(&t, AMDVI_EVT_DEV_TAB_HW_ERROR, 0x0010, 0,
		     AMDVI_EVT_FLAG_RW | AMDVI_HW_ERR_MASTER_ABORT << 9,
		     HOLE + 0x10 * 32);
	/* a cached entry is not read again: a page fault, not an error */
	expect_fault(&t, DEV_A, 5, 0x7000, false, 0);
	shutdown(&t);
}

/* The ring: wraparound, overflow (the log stops), restart. */
static void test_event_log(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t q0, q1;

	(void)state;
	boot(&t, NULL);
	set_dte(&t, DEV_A, AMDVI_DTE_V | AMDVI_DTE_TV, 0); /* blocked */
	set_dte(&t, DEV_B, AMDVI_DTE_V | AMDVI_DTE_TV, 0);
	/* 300 faults consumed one by one wrap the 256-entry ring */
	for (unsigned int i = 0; i < 300; i++) {
		expect_abort(&t, DEV_A, i * 0x1000ULL, i & 1);
		expect_event(&t, AMDVI_EVT_IO_PAGE_FAULT, DEV_A, 0,
			     i & 1 ? AMDVI_EVT_FLAG_RW : 0, i * 0x1000ULL);
	}
	assert_int_equal(rd64(&t, AMDVI_MMIO_EVT_TAIL), (300 - 256) << 4);
	/* unconsumed: 255 fit (one slot stays empty), the next overflows */
	for (unsigned int i = 0; i < 256; i++)
		expect_abort(&t, DEV_B, i * 0x1000ULL, false);
	assert_int_equal(rd64(&t, AMDVI_MMIO_STATUS),
			 AMDVI_STATUS_EVT_OVERFLOW | AMDVI_STATUS_CMD_RUN);
	expect_abort(&t, DEV_B, 0xabc000, false);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.events_written, 300 + 255);
	assert_int_equal(s.events_lost, 2);
	/* the kernel drains, clears the overflow, restarts the log */
	for (unsigned int i = 0; i < 255; i++) {
		next_event(&t, &q0, &q1);
		assert_int_equal(q1, i * 0x1000ULL);
	}
	assert_false(has_event(&t));
	wr64(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_OVERFLOW);
	expect_abort(&t, DEV_B, 0xabc000, false); /* still stopped */
	assert_false(has_event(&t));
	control(&t, 0, AMDVI_CTRL_EVT_LOG_EN);
	control(&t, AMDVI_CTRL_EVT_LOG_EN, 0);
	assert_true(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_EVT_RUN);
	expect_fault(&t, DEV_B, 0, 0xdef000, true, 0);
	/* disabled: events are lost */
	control(&t, 0, AMDVI_CTRL_EVT_LOG_EN);
	expect_abort(&t, DEV_B, 0x1000, false);
	assert_false(has_event(&t));
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.events_lost, 4);
	assert_int_equal(s.faults, 300 + 256 + 4);
	shutdown(&t);
}

/* The event interrupt: on EventLogInt setting while enabled (one per
 * edge), on overflow; the completion-wait interrupt; MsiEn. */
static void test_interrupts(void **state)
{
	struct av t;
	struct amdvi_stats s;
	unsigned int irq;

	(void)state;
	boot(&t, NULL);
	set_dte(&t, DEV_A, AMDVI_DTE_V | AMDVI_DTE_TV, 0); /* blocked */
	irq = event_irq(&t);
	/* EventIntEn clear: logged, no status, no MSI */
	expect_fault(&t, DEV_A, 0, 0x1000, false, 0);
	assert_false(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_EVT_INT);
	assert_int_equal(irq_count(t.m, irq), 0);
	control(&t, AMDVI_CTRL_EVT_INT_EN, 0);
	expect_fault(&t, DEV_A, 0, 0x2000, false, 0);
	assert_true(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_EVT_INT);
	assert_int_equal(irq_count(t.m, irq), 1);
	/* pending: no new edge */
	expect_fault(&t, DEV_A, 0, 0x3000, true, 0);
	assert_int_equal(irq_count(t.m, irq), 1);
	/* the handler clears the status (W1C, 4-byte write): next edge */
	wr32(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_INT);
	assert_false(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_EVT_INT);
	expect_fault(&t, DEV_A, 0, 0x4000, true, 0);
	assert_int_equal(irq_count(t.m, irq), 2);
	wr64(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_INT);
	/* MSI disabled in the capability: status only */
	wr32(&t, AMDVI_MMIO_MSI_CAP, 0);
	expect_fault(&t, DEV_A, 0, 0x5000, true, 0);
	assert_int_equal(irq_count(t.m, irq), 2);
	wr64(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_INT);
	wr32(&t, AMDVI_MMIO_MSI_CAP, AMDVI_MSI_CAP_EN);
	/* overflow interrupts too */
	for (unsigned int i = 0; i < 255; i++)
		expect_abort(&t, DEV_A, 0x6000, false);
	wr64(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_INT);
	assert_int_equal(irq_count(t.m, irq), 3);
	expect_abort(&t, DEV_A, 0x6000, false);
	assert_true(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_EVT_OVERFLOW);
	assert_int_equal(irq_count(t.m, irq), 4);
	/* COMPLETION_WAIT with I: ComWaitInt always, the MSI if enabled */
	cmd_put(&t, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | AMDVI_CMD_CW_I,
		0);
	cmd_kick(&t);
	assert_true(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_COMWAIT_INT);
	assert_int_equal(irq_count(t.m, irq), 4);
	wr64(&t, AMDVI_MMIO_STATUS, AMDVI_STATUS_COMWAIT_INT);
	control(&t, AMDVI_CTRL_COMWAIT_INT_EN, 0);
	cmd_put(&t, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | AMDVI_CMD_CW_I |
			    AMDVI_CMD_CW_S | t.sem,
		77);
	cmd_kick(&t);
	assert_int_equal(get64(&t, t.sem), 77);
	assert_int_equal(irq_count(t.m, irq), 5);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.event_interrupts, 5);
	shutdown(&t);
}

/* Stale IOTLB entries keep translating until INVALIDATE_IOMMU_PAGES
 * (one page, a range, the domain) or INVALIDATE_IOMMU_ALL. */
static void test_stale_iotlb(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t root, root2, slot[8];

	(void)state;
	boot(&t, NULL);
	root = domain(&t, DEV_A, 1, 4);
	root2 = domain(&t, DEV_B, 2, 3);
	for (unsigned int i = 0; i < 8; i++) {
		slot[i] = map(&t, root, 4, i * 0x1000ULL, DATA + i * 0x1000ULL,
			      12, RW);
		expect_ok(&t, DEV_A, i * 0x1000ULL, 4, true,
			  DATA + i * 0x1000ULL, 4);
		put64(&t, slot[i], 0); /* unmapped, not invalidated */
	}
	map(&t, root2, 3, 0x3000, GiB(5), 12, RW);
	expect_ok(&t, DEV_B, 0x3000, 4, false, GiB(5), 4);
	put64(&t, root2, 0);
	for (unsigned int i = 0; i < 8; i++)
		expect_ok(&t, DEV_A, i * 0x1000ULL, 4, false,
			  DATA + i * 0x1000ULL, 4);
	/* one page (S = 0), in the wrong domain then the right one */
	inv_pages(&t, 2, 0x0000, false);
	expect_ok(&t, DEV_A, 0x0000, 4, false, DATA, 4);
	inv_pages(&t, 1, 0x0000, false);
	expect_fault(&t, DEV_A, 1, 0x0000, false, 0);
	/* a 16 KiB range (S = 1, bit 12 set, bit 13 clear): pages 4-7 */
	inv_pages(&t, 1, 0x4000 | 0x1000, true);
	for (unsigned int i = 4; i < 8; i++)
		expect_fault(&t, DEV_A, 1, i * 0x1000ULL, true, 0);
	expect_ok(&t, DEV_A, 0x3000, 4, false, DATA + 0x3000, 4);
	/* the whole domain; domain 2 keeps its entry */
	inv_pages(&t, 1, AMDVI_INV_ALL_ADDR, true);
	for (unsigned int i = 1; i < 4; i++)
		expect_fault(&t, DEV_A, 1, i * 0x1000ULL, false, 0);
	expect_ok(&t, DEV_B, 0x3000, 4, false, GiB(5), 4);
	cmd_put(&t, (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << 60, 0);
	cmd_sync(&t);
	expect_fault(&t, DEV_B, 2, 0x3000, false, 0);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.iotlb_invalidations, 5);
	assert_int_equal(s.iotlb_inval_entries, 9);
	assert_int_equal(s.iotlb_valid, 0);
	assert_int_equal(s.commands, 5 * 2);
	shutdown(&t);
}

/* The device table cache: a changed entry is used only after
 * INVALIDATE_DEVTAB_ENTRY (or INVALIDATE_IOMMU_ALL). */
static void test_stale_dte(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t r1, r2;

	(void)state;
	boot(&t, NULL);
	r1 = domain(&t, DEV_A, 1, 4);
	map(&t, r1, 4, 0x1000, DATA, 12, RW);
	expect_ok(&t, DEV_A, 0x1000, 4, true, DATA, 4);
	/* moved to another domain: the old entry still answers */
	r2 = domain(&t, DEV_A, 2, 4);
	map(&t, r2, 4, 0x1000, GiB(5), 12, RW);
	expect_ok(&t, DEV_A, 0x1000, 4, true, DATA, 4);
	inv_dte(&t, DEV_B);
	expect_ok(&t, DEV_A, 0x1000, 4, true, DATA, 4);
	inv_dte(&t, DEV_A);
	expect_ok(&t, DEV_A, 0x1000, 4, true, GiB(5), 4);
	/* blocked (mode 0, no rights), not invalidated: still translating */
	set_dte(&t, DEV_A, AMDVI_DTE_V | AMDVI_DTE_TV, 2);
	expect_ok(&t, DEV_A, 0x1000, 4, false, GiB(5), 4);
	cmd_put(&t, (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << 60, 0);
	cmd_sync(&t);
	expect_fault(&t, DEV_A, 2, 0x1000, false, 0);
	/* V = 0 is not cached: it takes effect at once */
	set_dte(&t, DEV_B, 0, 0);
	expect_ok(&t, DEV_B, 0x2000, 4, false, 0x2000, 4);
	domain(&t, DEV_B, 3, 4);
	expect_fault(&t, DEV_B, 3, 0x2000, false, 0);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.dte_invalidations, 3);
	assert_int_equal(s.dtc_hits, 3);
	shutdown(&t);
}

/* Illegal commands stop the buffer with the head on them; a failed
 * completion store is a command hardware error; restart by CmdBufEn. */
static void test_commands(void **state)
{
	struct av t;
	struct amdvi_stats s;
	const uint64_t bad[][2] = {
		{ 0, 0 },						/* opcode 0 */
		{ 9ULL << 60, 0 },					/* opcode 9 */
		{ (uint64_t)AMDVI_CMD_PREFETCH_IOMMU_PAGES << 60, 0 },
		{ (uint64_t)AMDVI_CMD_COMPLETE_PPR_REQUEST << 60, 0 },
		{ (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | 1ULL << 52 |
			  AMDVI_CMD_CW_S, 0 },
		{ (uint64_t)AMDVI_CMD_INV_DEVTAB_ENTRY << 60 | 1ULL << 16, 0 },
		{ (uint64_t)AMDVI_CMD_INV_DEVTAB_ENTRY << 60, 1 },
		{ (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << 60 | 1ULL << 48, 0 },
		{ (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << 60, AMDVI_CMD_PAGES_GN },
		{ (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << 60, 1ULL << 5 },
		{ (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << 60 | 1, 0 },
	};
	unsigned int nbad = sizeof(bad) / sizeof(bad[0]);
	uint64_t at;

	(void)state;
	boot(&t, NULL);
	/* the no-op invalidations (device IOTLB, interrupt table) pass */
	cmd_put(&t, (uint64_t)AMDVI_CMD_INV_IOTLB_PAGES << 60 | DEV_A, 0);
	cmd_put(&t, (uint64_t)AMDVI_CMD_INV_INTERRUPT_TABLE << 60 | DEV_A, 0);
	cmd_sync(&t);
	for (unsigned int i = 0; i < nbad; i++) {
		at = t.cmdbuf + t.cmd_tail * 16ULL;
		cmd_put(&t, bad[i][0], bad[i][1]);
		t.seq++;
		cmd_put(&t, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | t.sem |
				    AMDVI_CMD_CW_S,
			t.seq);
		cmd_kick(&t);
		assert_int_not_equal(get64(&t, t.sem), t.seq);
		assert_false(rd64(&t, AMDVI_MMIO_STATUS) & AMDVI_STATUS_CMD_RUN);
		assert_int_equal(rd64(&t, AMDVI_MMIO_CMD_HEAD), at - t.cmdbuf);
		expect_event(&t, AMDVI_EVT_ILLEGAL_COMMAND_ERROR, 0, 0, 0, at);
		/* more tail writes run nothing while stopped */
		cmd_kick(&t);
		assert_false(has_event(&t));
		/* the kernel turns it into a no-op and restarts */
		put64(&t, at, (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << 60);
		put64(&t, at + 8, 0);
		control(&t, 0, AMDVI_CTRL_CMD_BUF_EN);
		control(&t, AMDVI_CTRL_CMD_BUF_EN, 0);
		assert_int_equal(get64(&t, t.sem), t.seq);
		assert_int_equal(rd64(&t, AMDVI_MMIO_CMD_HEAD),
				 rd64(&t, AMDVI_MMIO_CMD_TAIL));
	}
	/* a completion store into the hole */
	at = t.cmdbuf + t.cmd_tail * 16ULL;
	cmd_put(&t, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << 60 | HOLE |
			    AMDVI_CMD_CW_S,
		1);
	cmd_kick(&t);
	expect_event(&t, AMDVI_EVT_COMMAND_HW_ERROR, 0, 0,
		     AMDVI_HW_ERR_MASTER_ABORT << 9, HOLE);
	assert_int_equal(rd64(&t, AMDVI_MMIO_CMD_HEAD), at - t.cmdbuf);
	/* while stopped (disabled) the kernel resets head and tail */
	control(&t, 0, AMDVI_CTRL_CMD_BUF_EN);
	wr64(&t, AMDVI_MMIO_CMD_HEAD, 0);
	wr64(&t, AMDVI_MMIO_CMD_TAIL, 0);
	t.cmd_tail = 0;
	control(&t, AMDVI_CTRL_CMD_BUF_EN, 0);
	/* the buffer wraps */
	for (unsigned int i = 0; i < 300; i++)
		cmd_sync(&t);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.command_errors, nbad + 1);
	assert_int_equal(s.commands, 3 + nbad * 2 + 300);
	shutdown(&t);
}

/* Rights per direction through a function's bus-master path. */
/* Runs through the IOTLB, and the page directory cache: a changed PDE
 * is not seen until INVALIDATE_IOMMU_PAGES with PDE (or the whole
 * IOMMU) drops it; without PDE the directory entries stay. */
static void test_pde_cache(void **state)
{
	struct av t;
	struct amdvi_stats s;
	uint64_t root, l2, fresh;

	(void)state;
	boot(&t, NULL);
	root = domain(&t, DEV_A, 5, 4);
	for (uint64_t i = 0; i < 8; i++)
		map(&t, root, 4, 0x200000 + i * 0x1000, DATA + i * 0x1000, 12,
		    RW);
	expect_ok(&t, DEV_A, 0x200000, 0x4000, true, DATA, 0x4000);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.misses, 4);
	assert_int_equal(s.walks, 4);
	assert_int_equal(s.pwc_misses, 1);
	assert_int_equal(s.pwc_hits, 3);
	expect_ok(&t, DEV_A, 0x200000, 0x4000, false, DATA, 0x4000);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.hits, 4);
	/* a new level-1 table behind the level-2 entry */
	l2 = table_at(&t, root, 4, 0x200000, 2);
	fresh = new_page(&t);
	for (uint64_t i = 0; i < 8; i++)
		put64(&t, fresh + i * 8, (DATA + 0x100000 + i * 0x1000) | RW |
						 AMDVI_PTE_FC | AMDVI_PTE_PR);
	put64(&t, l2 + AMDVI_PTE_INDEX(0x200000, 2) * 8,
	      fresh | 1ULL << 9 | RW | AMDVI_PTE_PR);
	expect_ok(&t, DEV_A, 0x204000, 8, false, DATA + 0x4000, 8);
	/* without PDE: the page goes, the directory entry stays */
	cmd_put(&t, (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << 60 | 5ULL << 32,
		0x205000);
	cmd_sync(&t);
	expect_ok(&t, DEV_A, 0x205000, 8, false, DATA + 0x5000, 8);
	/* with PDE: both */
	inv_pages(&t, 5, 0x206000, false);
	expect_ok(&t, DEV_A, 0x206000, 8, false, DATA + 0x106000, 8);
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.pwc_inval_entries, 1);
	assert_int_equal(s.pwc_valid, 1);
	shutdown(&t);
}

static void test_bus_path(void **state)
{
	struct av t;
	uint16_t devid;
	uint64_t root;
	uint8_t buf[64], back[64];
	size_t done;

	(void)state;
	boot(&t, NULL);
	devid = pci_requester_id(t.fn);
	root = domain(&t, devid, 7, 3);
	map(&t, root, 3, 0x1000, DATA + 0x1000, 12, AMDVI_PTE_IR);
	map(&t, root, 3, 0x2000, DATA + 0x2000, 12, AMDVI_PTE_IW);
	map(&t, root, 3, 0x200000, DATA + MiB(2), 21, RW);
	t.fn->iommu = t.u;
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(bus_read(t.fn, 0x1000, back, 64, &done), PCI_STATUS_OK);
	assert_int_equal(bus_write(t.fn, 0x1000, buf, 64, &done), PCI_STATUS_UR);
	assert_int_equal(done, 0);
	expect_event(&t, AMDVI_EVT_IO_PAGE_FAULT, devid, 7, 0x70, 0x1000);
	assert_int_equal(bus_write(t.fn, 0x2010, buf, 64, &done), PCI_STATUS_OK);
	assert_int_equal(dmasim_phys_read(t.dm, DATA + 0x2010, back, 64), 0);
	assert_memory_equal(back, buf, 64);
	assert_int_equal(bus_read(t.fn, 0x2000, back, 64, &done), PCI_STATUS_UR);
	expect_event(&t, AMDVI_EVT_IO_PAGE_FAULT, devid, 7, 0x50, 0x2000);
	/* a transfer running off the mapping stops at its end */
	assert_int_equal(bus_write(t.fn, 0x2fe0, buf, 64, &done), PCI_STATUS_UR);
	assert_int_equal(done, 32);
	expect_event(&t, AMDVI_EVT_IO_PAGE_FAULT, devid, 7, 0x20, 0x3000);
	assert_int_equal(bus_write(t.fn, 0x3fffe0, buf, 64, &done),
			 PCI_STATUS_UR);
	expect_event(&t, AMDVI_EVT_IO_PAGE_FAULT, devid, 7, 0x20, 0x400000);
	assert_int_equal(atomic_load(&t.fn->cnt.unsupported), 4);
	shutdown(&t);
}

/* Several device threads translate while the kernel thread invalidates
 * and drains the event log: every answer is the mapping or a clean fault
 * (TSan checks the rest). */
#define NR_THREADS 4
#define ITERS	   20000

struct worker {
	struct av *t;
	uint16_t devid;
	unsigned int seed;
	unsigned long bad, ok, faults;
};

static void *worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ITERS; i++) {
		uint64_t page = (uint64_t)(rand_r(&w->seed) % 160), phys;
		size_t chunk;
		enum pci_status st = tr(w->t, w->devid, page << 12 | 8, 64,
					i & 1, &phys, &chunk);

		if (st != PCI_STATUS_OK)
			w->faults++;
		else if (page >= 128 || phys != DATA + (page << 12 | 8) ||
			 chunk != 64)
			w->bad++;
		else
			w->ok++;
	}
	return NULL;
}

static void drain(struct av *t)
{
	uint64_t st = rd64(t, AMDVI_MMIO_STATUS);

	wr64(t, AMDVI_MMIO_EVT_HEAD, rd64(t, AMDVI_MMIO_EVT_TAIL));
	wr64(t, AMDVI_MMIO_STATUS, st);
	if (st & AMDVI_STATUS_EVT_OVERFLOW) {
		control(t, 0, AMDVI_CTRL_EVT_LOG_EN);
		control(t, AMDVI_CTRL_EVT_LOG_EN, 0);
	}
}

static void test_threads(void **state)
{
	struct av t;
	struct amdvi_stats s;
	pthread_t th[NR_THREADS];
	struct worker w[NR_THREADS];
	uint64_t root;
	unsigned long faults = 0;

	(void)state;
	boot(&t, NULL);
	event_irq(&t);
	control(&t, AMDVI_CTRL_EVT_INT_EN, 0);
	root = domain(&t, DEV_A, 1, 4);
	set_dte(&t, DEV_B, root | 4ULL << 9 | RW | AMDVI_DTE_TV | AMDVI_DTE_V,
		1);
	for (uint64_t i = 0; i < 128; i++)
		map(&t, root, 4, i << 12, DATA + (i << 12), 12, RW);
	for (int i = 0; i < NR_THREADS; i++) {
		w[i] = (struct worker){ .t = &t, .devid = i & 1 ? DEV_B : DEV_A,
					.seed = (unsigned int)i * 77 + 1 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 200; i++) {
		if (i % 3 == 0)
			inv_pages(&t, 1, (uint64_t)(i % 128) << 12, false);
		else if (i % 3 == 1)
			inv_pages(&t, 1, AMDVI_INV_ALL_ADDR, true);
		else
			inv_dte(&t, i & 1 ? DEV_A : DEV_B);
		drain(&t);
	}
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
		assert_true(w[i].ok > 0);
		faults += w[i].faults;
	}
	amdvi_get_stats(t.u, &s);
	assert_int_equal(s.faults, faults);
	assert_int_equal(s.faults, s.events_written + s.events_lost);
	assert_int_equal(s.hits + s.misses, (uint64_t)NR_THREADS * ITERS);
	shutdown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_walk_levels),
		cmocka_unit_test(test_sized_pages),
		cmocka_unit_test(test_page_faults),
		cmocka_unit_test(test_table_errors),
		cmocka_unit_test(test_event_log),
		cmocka_unit_test(test_interrupts),
		cmocka_unit_test(test_stale_iotlb),
		cmocka_unit_test(test_stale_dte),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_pde_cache),
		cmocka_unit_test(test_bus_path),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
