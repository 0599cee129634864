/*
 * AMD-Vi remapping hardware (see amdvi.h), following the AMD IOMMU
 * specification (#48882) for host (v1) translation:
 * - translation: device id -> 256-bit device table entry (V = 0, or
 *   V = 1 with TV = 0: untranslated; mode 0: untranslated but gated by
 *   the entry's IR/IW; modes 1..6: I/O page tables of that many levels,
 *   with skipped levels, leaves of each level's size (next level 0) and
 *   of any power-of-two size (next level 7)); the rights are the AND of
 *   IR/IW in the entry and down the walk;
 * - caches: a device table cache keyed by device id, an IOTLB keyed by
 *   domain id (hw/iotlb.c) and a page directory cache (domain id and
 *   2 MiB region -> the level-1 table and the rights of the PDEs above
 *   it); all keep what they hold until a command (INVALIDATE_DEVTAB_ENTRY,
 *   INVALIDATE_IOMMU_PAGES, with PDE set for the directory cache,
 *   INVALIDATE_IOMMU_ALL) removes it, so a stale translation keeps
 *   working until then;
 * - the event log: a ring of 128-bit entries in RAM that the unit fills
 *   at the tail and the kernel drains from the head. A full ring sets
 *   EventOverflow and stops the log (EventLogRun clears) until the kernel
 *   toggles EventLogEn. EventLogInt / ComWaitInt / EventOverflow setting
 *   while their enable is on sends the MSI programmed in the unit's MSI
 *   capability (its MMIO mirror);
 * - the command buffer: a ring of 128-bit commands in RAM, executed in
 *   order when the kernel moves the tail. A bad command logs
 *   ILLEGAL_COMMAND_ERROR and stops the buffer (CmdBufRun clears) with
 *   the head on it, until CmdBufEn is toggled;
 * - ATS: a translated request (a host address) passes untranslated when
 *   the device's entry has V = 1 and I = 1, and a translation request is
 *   answered as the untranslated access would be; otherwise both are
 *   refused with INVALID_DEVICE_REQUEST. INVALIDATE_IOTLB_PAGES (the
 *   device's ATS cache) is accepted and counted.
 * Faulting accesses are target-aborted: the device sees an unsupported
 * request. The hot path takes no lock: the control and device table base
 * registers are atomics; registers, events and commands take the lock.
 */
#include "hw/amdvi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/apic.h"
#include "hw/mmio.h"
#include "hw/ram.h"
#include "kernel/machine.h"

/* the bits the base registers keep: base, and size or length */
#define DTB_MASK	(AMDVI_DEV_TABLE_BASE_MASK | 0x1ffULL)
#define RING_BASE_REG	(AMDVI_RING_BASE_MASK | 0xfULL << AMDVI_RING_LEN_SHIFT)

/* An MSI decided under the lock and sent after it. */
struct amdvi_msi {
	bool send;
	uint64_t addr;
	uint32_t data;
};

struct amdvi {
	struct iommu_unit unit;
	struct machine *m;
	struct amdvi_params p;
	struct mmio_region *regs;
	uint64_t reg_base;
	uint64_t efr;
	/* read without the lock, written under it */
	_Atomic uint64_t ctrl;
	_Atomic uint64_t dev_table;
	/* registers, under @lock */
	pthread_mutex_t lock;
	uint64_t cmd_base, evt_base, excl_base, excl_limit;
	uint64_t cmd_head, cmd_tail, evt_head, evt_tail, status;
	uint32_t msi_cap, msi_addr_lo, msi_addr_hi, msi_data;
	/* caches */
	struct iotlb iotlb;
	struct iotlb dtc;	/* tag: device id; data: qword 0, phys: 1 */
	struct iotlb pwc;	/* tag: domain id; 2 MiB entries, data: the
				 * level-1 table; perm: the PDEs' rights */
	bool has_pwc;
	/* counters */
	_Atomic uint64_t walks, pwc_hits, pwc_misses, faults, faults_suppressed, events_written,
		events_lost, event_irqs, dte_invals, commands, cmd_errors,
		translated, translation_reqs, devtlb_invals;
};

/* A device table entry as the walk uses it (qwords 0 and 1). */
struct amdvi_dte {
	uint64_t q0, q1;
};

/* What a walk found: a leaf, or why not. */
struct amdvi_leaf {
	uint64_t page;		/* output base of the page */
	unsigned int shift;	/* its size */
	unsigned int perm;	/* IOTLB_PERM_* */
	unsigned int code;	/* 0 or the event code */
	unsigned int flags;	/* event flags of a page fault */
	uint64_t where;		/* hardware error: the entry's address */
};

static const struct iommu_unit_ops amdvi_ops;

static struct amdvi *to_amdvi(struct iommu_unit *u)
{
	return u->priv;
}

static void inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---------------------------------------------------------------- RAM */

/* An 8-byte table entry, read as one access (the kernel's 64-bit stores
 * are single-copy atomic, as on x86). False if no RAM answers. */
static bool ram_load(struct amdvi *a, uint64_t addr, uint64_t *val)
{
	const struct ram *ram = &a->m->ram;

	if ((addr & 7) || !ram_contains(ram, addr, 8))
		return false;
	*val = atomic_load_explicit((_Atomic uint64_t *)(void *)(ram->mem + addr),
				    memory_order_relaxed);
	return true;
}

/* An 8-byte store the kernel may be polling for (or reading after the
 * tail register says it is there). */
static bool ram_store(struct amdvi *a, uint64_t addr, uint64_t val)
{
	const struct ram *ram = &a->m->ram;

	if ((addr & 7) || !ram_contains(ram, addr, 8))
		return false;
	atomic_store_explicit((_Atomic uint64_t *)(void *)(ram->mem + addr),
			      val, memory_order_release);
	return true;
}

static bool ram_load128(struct amdvi *a, uint64_t addr, uint64_t *lo,
			uint64_t *hi)
{
	return ram_load(a, addr, lo) && ram_load(a, addr + 8, hi);
}

/* -------------------------------------------------------- interrupts */

/* Status bit @bit sets (under the lock); the MSI goes when it was clear
 * and its enable is on (an edge, as the capability sends it). */
static void raise_status(struct amdvi *a, uint64_t bit, bool enabled,
			 struct amdvi_msi *msi)
{
	bool was = a->status & bit;

	a->status |= bit;
	if (was || !enabled || !(a->msi_cap & AMDVI_MSI_CAP_EN))
		return;
	msi->send = true;
	msi->addr = (uint64_t)a->msi_addr_hi << 32 | (a->msi_addr_lo & ~3u);
	msi->data = a->msi_data & 0xffff;
}

static void send_msi(struct amdvi *a, const struct amdvi_msi *msi)
{
	if (!msi->send)
		return;
	inc(&a->event_irqs);
	apic_msi_write(a->m, msi->addr, msi->data);
}

/* ---------------------------------------------------------- rings */

static unsigned int ring_entries(uint64_t base_reg)
{
	unsigned int len = AMDVI_RING_LEN(base_reg);

	/* lengths below 8 are reserved: the smallest ring is used */
	return 1u << (len < AMDVI_RING_LEN_MIN ? AMDVI_RING_LEN_MIN : len);
}

static uint64_t ring_index(uint64_t ptr, unsigned int n)
{
	return ((ptr & AMDVI_RING_PTR_MASK) >> 4) % n;
}

/* Append an event to the log (under the lock). */
static void log_event(struct amdvi *a, uint64_t q0, uint64_t q1,
		      struct amdvi_msi *msi)
{
	uint64_t ctrl = atomic_load(&a->ctrl);
	unsigned int n = ring_entries(a->evt_base);
	uint64_t head = ring_index(a->evt_head, n);
	uint64_t tail = ring_index(a->evt_tail, n);
	uint64_t slot = (a->evt_base & AMDVI_RING_BASE_MASK) + tail * 16;

	if (!(a->status & AMDVI_STATUS_EVT_RUN)) {
		inc(&a->events_lost);
		return;
	}
	if ((tail + 1) % n == head) {
		inc(&a->events_lost);
		a->status &= ~AMDVI_STATUS_EVT_RUN;
		raise_status(a, AMDVI_STATUS_EVT_OVERFLOW,
			     ctrl & AMDVI_CTRL_EVT_INT_EN, msi);
		return;
	}
	if (!ram_store(a, slot + 8, q1) || !ram_store(a, slot, q0)) {
		inc(&a->events_lost); /* the log is not in RAM */
		return;
	}
	a->evt_tail = ((tail + 1) % n) << 4;
	inc(&a->events_written);
	if (ctrl & AMDVI_CTRL_EVT_INT_EN)
		raise_status(a, AMDVI_STATUS_EVT_INT, true, msi);
}

static void post_event(struct amdvi *a, uint64_t q0, uint64_t q1)
{
	struct amdvi_msi msi = { 0 };

	pthread_mutex_lock(&a->lock);
	log_event(a, q0, q1, &msi);
	pthread_mutex_unlock(&a->lock);
	send_msi(a, &msi);
}

static uint64_t event_q0(unsigned int code, uint16_t devid, uint16_t domain,
			 unsigned int flags)
{
	return (uint64_t)code << AMDVI_EVT_CODE_SHIFT |
	       (uint64_t)flags << AMDVI_EVT_FLAGS_SHIFT |
	       (uint64_t)domain << AMDVI_EVT_DOMAIN_SHIFT | devid;
}

static unsigned int rw_flag(bool write)
{
	return write ? AMDVI_EVT_FLAG_RW : 0;
}

/* A refused access: the event (if any) is logged, the device aborts. */
static enum pci_status refuse(struct amdvi *a, uint64_t q0, uint64_t q1)
{
	inc(&a->faults);
	post_event(a, q0, q1);
	return PCI_STATUS_UR;
}

static enum pci_status page_fault(struct amdvi *a, uint16_t devid,
				  const struct amdvi_dte *d, uint64_t iova,
				  bool write, unsigned int flags)
{
	if (d->q1 & (AMDVI_DTE_SE | AMDVI_DTE_SA)) {
		inc(&a->faults);
		inc(&a->faults_suppressed);
		return PCI_STATUS_UR;
	}
	return refuse(a, event_q0(AMDVI_EVT_IO_PAGE_FAULT, devid,
				  AMDVI_DTE_DOMAIN(d->q1),
				  flags | rw_flag(write)),
		      iova);
}

/* ------------------------------------------------------ device table */

static bool dte_illegal(const struct amdvi *a, const struct amdvi_dte *d,
			unsigned int *flags)
{
	unsigned int mode = AMDVI_DTE_MODE(d->q0);

	*flags = AMDVI_EVT_FLAG_RZ;
	if (d->q1 & AMDVI_DTE_Q1_RSVD)
		return true;
	if (!(d->q0 & AMDVI_DTE_TV))
		return false;
	if (d->q0 & AMDVI_DTE_Q0_RSVD)
		return true;
	*flags = 0; /* an invalid level encoding */
	return mode == AMDVI_MODE_RESERVED || mode > a->p.max_levels;
}

/* The entry of @devid from RAM: 0, or a refusal already reported. */
static int dte_fetch(struct amdvi *a, uint16_t devid, uint64_t iova,
		     bool write, struct amdvi_dte *d)
{
	uint64_t dtb = atomic_load_explicit(&a->dev_table,
					    memory_order_acquire);
	uint64_t at = (dtb & AMDVI_DEV_TABLE_BASE_MASK) +
		      (uint64_t)devid * AMDVI_DTE_SIZE;
	unsigned int flags;

	if (devid >= AMDVI_DEV_TABLE_ENTRIES(dtb)) {
		refuse(a, event_q0(AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, devid, 0,
				   rw_flag(write)),
		       iova);
		return -1;
	}
	if (!ram_load128(a, at, &d->q0, &d->q1)) {
		refuse(a, event_q0(AMDVI_EVT_DEV_TAB_HW_ERROR, devid, 0,
				   rw_flag(write)) |
				  (uint64_t)AMDVI_HW_ERR_MASTER_ABORT
					  << AMDVI_EVT_HW_TYPE_SHIFT,
		       at);
		return -1;
	}
	if ((d->q0 & AMDVI_DTE_V) && dte_illegal(a, d, &flags)) {
		refuse(a, event_q0(AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY, devid, 0,
				   flags | rw_flag(write)),
		       iova);
		return -1;
	}
	return 0;
}

/* The entry of @devid, from the cache (valid entries only) or RAM. */
static int dte_get(struct amdvi *a, uint16_t devid, uint64_t iova,
		   bool write, struct amdvi_dte *d)
{
	struct iotlb_result r;
	uint64_t gen;

	if (iotlb_lookup(&a->dtc, devid, 0, 1, &r)) {
		d->q0 = r.data;
		d->q1 = r.phys >> AMDVI_PAGE_SHIFT;
		return 0;
	}
	gen = iotlb_gen(&a->dtc);
	if (dte_fetch(a, devid, iova, write, d))
		return -1;
	/* the cache keeps output addresses page-aligned: qword 1 goes
	 * above bit 12 (legal entries have bits 63:42 clear) */
	if (d->q0 & AMDVI_DTE_V)
		iotlb_fill(&a->dtc, gen, devid, 0, AMDVI_PAGE_SHIFT,
			   d->q1 << AMDVI_PAGE_SHIFT, 0, d->q0);
	return 0;
}

/* ------------------------------------------------------------- walks */

static unsigned int perm_of(uint64_t entry)
{
	return (entry & AMDVI_PTE_IR ? IOTLB_PERM_R : 0) |
	       (entry & AMDVI_PTE_IW ? IOTLB_PERM_W : 0);
}

static unsigned int leaf_fault(struct amdvi_leaf *leaf, unsigned int flags)
{
	leaf->code = AMDVI_EVT_IO_PAGE_FAULT;
	leaf->flags = flags;
	return leaf->code;
}

/* The page size of a next-level-7 leaf at @level, or 0 if invalid. */
static unsigned int sized_shift(uint64_t pte, unsigned int level)
{
	uint64_t ones = (pte & AMDVI_PTE_ADDR_MASK) >> AMDVI_PAGE_SHIFT;
	unsigned int n, shift;

	n = (unsigned int)__builtin_ctzll(~ones) + AMDVI_PAGE_SHIFT;
	shift = n + 1;

	if (n > 51 || shift <= AMDVI_LEVEL_SHIFT(level) ||
	    shift > AMDVI_LEVEL_SHIFT(level + 1))
		return 0;
	return shift;
}

/* A leaf at @level: its page, or a fault. */
static unsigned int walk_leaf(uint64_t pte, unsigned int level, bool write,
			      struct amdvi_leaf *leaf)
{
	unsigned int shift = AMDVI_LEVEL_SHIFT(level);

	if (pte & AMDVI_PTE_RSVD)
		return leaf_fault(leaf, AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_RZ);
	if (AMDVI_PTE_NEXT(pte) == AMDVI_NEXT_SIZED) {
		shift = sized_shift(pte, level);
		if (!shift)
			return leaf_fault(leaf, AMDVI_EVT_FLAG_PR |
							AMDVI_EVT_FLAG_RZ);
	}
	/* shift <= 57: a level-6 leaf; the address bits below it are
	 * ignored (a page is always aligned to its size) */
	leaf->shift = shift;
	leaf->page = pte & AMDVI_PTE_ADDR_MASK & ~((1ULL << shift) - 1);
	if (!(leaf->perm & (write ? IOTLB_PERM_W : IOTLB_PERM_R)))
		return leaf_fault(leaf, AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_PE);
	return 0;
}

/* Are address bits set that the levels skipped between @level and
 * @next (exclusive) would index? Those must be zero. */
static bool skipped_bits_set(uint64_t iova, unsigned int level,
			     unsigned int next)
{
	unsigned int lo = AMDVI_LEVEL_SHIFT(next + 1);
	unsigned int hi = AMDVI_LEVEL_SHIFT(level);

	if (hi >= 64)
		hi = 64;
	if (lo >= hi)
		return false;
	return (iova >> lo) & ((hi - lo >= 64 ? 0 : 1ULL << (hi - lo)) - 1);
}

/* A PDE the walk went through to a level-1 table. */
struct amdvi_pde {
	uint64_t table;
	unsigned int perm;	/* the AND of the PDEs' IR/IW */
	bool valid;
};

/* The walk of @iova from @table at @level, with the rights so far in
 * leaf->perm: 0 and the leaf, or a code. *pde gets the entry that led
 * to a level-1 table, if the walk went through one. */
static unsigned int walk_from(struct amdvi *a, uint64_t table,
			      unsigned int level, uint64_t iova, bool write,
			      struct amdvi_leaf *leaf, struct amdvi_pde *pde)
{
	unsigned int next, above = IOTLB_PERM_R | IOTLB_PERM_W;
	uint64_t slot, pte;

	for (;;) {
		slot = table + AMDVI_PTE_INDEX(iova, level) * 8ULL;
		if (!ram_load(a, slot, &pte)) {
			leaf->where = slot;
			return leaf->code = AMDVI_EVT_PAGE_TAB_HW_ERROR;
		}
		if (!(pte & AMDVI_PTE_PR))
			return leaf_fault(leaf, 0);
		leaf->perm &= perm_of(pte);
		above &= perm_of(pte);
		next = AMDVI_PTE_NEXT(pte);
		if (next == AMDVI_NEXT_LEAF || next == AMDVI_NEXT_SIZED)
			return walk_leaf(pte, level, write, leaf);
		if (next >= level || (pte & AMDVI_PDE_RSVD))
			return leaf_fault(leaf, AMDVI_EVT_FLAG_PR |
							AMDVI_EVT_FLAG_RZ);
		if (skipped_bits_set(iova, level, next))
			return leaf_fault(leaf, 0);
		table = pte & AMDVI_PTE_ADDR_MASK;
		level = next;
		if (level == 1)
			*pde = (struct amdvi_pde){ table, above, true };
	}
}

static enum pci_status pass(uint64_t iova, size_t len, uint64_t *phys,
			    size_t *chunk)
{
	*phys = iova;
	*chunk = len;
	return PCI_STATUS_OK;
}

/* What the IOTLB keeps of a leaf for @iova: the largest IOTLB size
 * inside the page, and the part of the page that holds @iova. */
static void leaf_entry(const struct amdvi_leaf *leaf, uint64_t iova,
		       struct iotlb_result *r)
{
	unsigned int s = leaf->shift >= 30 ? 30 : leaf->shift >= 21 ? 21 : 12;
	uint64_t off = iova & ((1ULL << leaf->shift) - 1);

	r->shift = s;
	r->phys = leaf->page + (off & ~((1ULL << s) - 1));
	r->perm = leaf->perm;
	r->data = 0;
}

static enum pci_status walk_fault(struct amdvi *a, uint16_t devid,
				  const struct amdvi_dte *d, uint64_t iova,
				  bool write, const struct amdvi_leaf *leaf)
{
	if (leaf->code == AMDVI_EVT_IO_PAGE_FAULT)
		return page_fault(a, devid, d, iova, write, leaf->flags);
	return refuse(a, event_q0(AMDVI_EVT_PAGE_TAB_HW_ERROR, devid,
				  AMDVI_DTE_DOMAIN(d->q1), rw_flag(write)) |
				 (uint64_t)AMDVI_HW_ERR_MASTER_ABORT
					 << AMDVI_EVT_HW_TYPE_SHIFT,
		      leaf->where);
}

/*
 * One translation's walks (iotlb_walk): each starts at the page
 * directory cache and, on a miss there, at the root. The last cache
 * answer serves the following pages while the cache has not changed.
 * A walk's directory fill and its counts happen when the run takes it.
 */
struct amdvi_walker {
	struct iotlb_walk w;
	struct amdvi *a;
	const struct amdvi_dte *d;
	uint16_t domain;
	bool write;
	struct iotlb_held held;
	struct amdvi_leaf leaf;	/* the last walk's, for its fault */
	int pwc;		/* the last walk: 1 hit, 0 miss, -1 no cache */
	uint64_t fill_gen, fill_iova;
	struct amdvi_pde fill;
	unsigned int pwc_hits, pwc_misses;
};

static unsigned int amdvi_walk_page(struct iotlb_walk *w, uint64_t iova,
				    struct iotlb_result *r)
{
	struct amdvi_walker *k = (struct amdvi_walker *)w;
	struct amdvi *a = k->a;
	struct iotlb_result pde;
	struct amdvi_pde unused;
	unsigned int code;

	k->fill.valid = false;
	k->leaf = (struct amdvi_leaf){ .perm = perm_of(k->d->q0) };
	if (!a->has_pwc) {
		k->pwc = -1;
	} else if (iotlb_peek_held(&a->pwc, &k->held, k->domain, iova,
				   1u << 1, &pde)) {
		k->pwc = 1;
		k->leaf.perm &= pde.perm;
		code = walk_from(a, pde.data, 1, iova, k->write, &k->leaf,
				 &unused);
		goto out;
	} else {
		k->pwc = 0;
		k->fill_gen = iotlb_gen(&a->pwc);
		k->fill_iova = iova;
	}
	code = walk_from(a, k->d->q0 & AMDVI_DTE_PT_ROOT_MASK,
			 AMDVI_DTE_MODE(k->d->q0), iova, k->write, &k->leaf,
			 &k->fill);
out:
	if (!code) {
		leaf_entry(&k->leaf, iova, r);
		w->leaf_shift = k->leaf.shift;
	}
	return code;
}

static void amdvi_walk_taken(struct iotlb_walk *w)
{
	struct amdvi_walker *k = (struct amdvi_walker *)w;

	if (k->pwc == 1)
		k->pwc_hits++;
	if (k->pwc != 0)
		return;
	k->pwc_misses++;
	if (k->fill.valid)
		iotlb_fill(&k->a->pwc, k->fill_gen, k->domain, k->fill_iova, 21,
			   0, k->fill.perm, k->fill.table);
}

static void count_run(struct amdvi *a, const struct iotlb_run *r,
		      const struct amdvi_walker *k)
{
	if (r->walked)
		atomic_fetch_add_explicit(&a->walks, r->walked,
					  memory_order_relaxed);
	if (k->pwc_hits)
		atomic_fetch_add_explicit(&a->pwc_hits, k->pwc_hits,
					  memory_order_relaxed);
	if (k->pwc_misses)
		atomic_fetch_add_explicit(&a->pwc_misses, k->pwc_misses,
					  memory_order_relaxed);
}

/* A paged domain: IOTLB, then the tables, page after page (a run). */
static enum pci_status translate_paged(struct amdvi *a, uint16_t devid,
				       const struct amdvi_dte *d,
				       uint64_t iova, size_t len, bool write,
				       uint64_t *phys, size_t *chunk)
{
	unsigned int mode = AMDVI_DTE_MODE(d->q0);
	unsigned int width = AMDVI_MODE_WIDTH(mode);
	/* the entry's own IR/IW apply to hits too: devices that share a
	 * domain id need not share rights */
	struct amdvi_walker k = {
		.w = { .walk = amdvi_walk_page, .taken = amdvi_walk_taken,
		       .need = write ? IOTLB_PERM_W : IOTLB_PERM_R,
		       .allow = perm_of(d->q0) },
		.a = a, .d = d, .domain = AMDVI_DTE_DOMAIN(d->q1),
		.write = write,
	};
	struct iotlb_run run;
	bool ok;

	if (width < 64 && (iova >> width))
		return page_fault(a, devid, d, iova, write, 0);
	if (width < 64 && len > (1ULL << width) - iova)
		len = (size_t)((1ULL << width) - iova);
	ok = iotlb_translate(&a->iotlb, k.domain, iova, len, 7, &k.w, &run);
	count_run(a, &run, &k);
	if (!ok)
		return walk_fault(a, devid, d, iova, write, &k.leaf);
	*phys = run.phys;
	*chunk = (size_t)run.len;
	return PCI_STATUS_OK;
}

static enum pci_status amdvi_translate(struct iommu_unit *u, uint16_t devid,
				       uint64_t iova, size_t len, bool write,
				       uint64_t *phys, size_t *chunk)
{
	struct amdvi *a = to_amdvi(u);
	struct amdvi_dte d;
	unsigned int perm;

	if (!(atomic_load_explicit(&a->ctrl, memory_order_acquire) &
	      AMDVI_CTRL_IOMMU_EN))
		return pass(iova, len, phys, chunk);
	if (dte_get(a, devid, iova, write, &d))
		return PCI_STATUS_UR;
	if (!(d.q0 & AMDVI_DTE_V) || !(d.q0 & AMDVI_DTE_TV))
		return pass(iova, len, phys, chunk);
	if (AMDVI_DTE_MODE(d.q0) != AMDVI_MODE_NONE)
		return translate_paged(a, devid, &d, iova, len, write, phys,
				       chunk);
	perm = perm_of(d.q0);
	if (!(perm & (write ? IOTLB_PERM_W : IOTLB_PERM_R)))
		return page_fault(a, devid, &d, iova, write,
				  perm ? AMDVI_EVT_FLAG_PR | AMDVI_EVT_FLAG_PE
				       : 0);
	return pass(iova, len, phys, chunk);
}

/* ---------------------------------------------------------------- ATS */

static bool unit_on(struct amdvi *a)
{
	return atomic_load_explicit(&a->ctrl, memory_order_acquire) &
	       AMDVI_CTRL_IOMMU_EN;
}

/*
 * May @devid make ATS requests? Only with V = 1 and I = 1 in its device
 * table entry (spec 2.2.2 / INVALID_DEVICE_REQUEST): 0, or -1 with the
 * event logged (type 1: a pretranslated request, or a translation
 * request with TR, from a device with I = 0 or V = 0).
 */
static int ats_allowed(struct amdvi *a, uint16_t devid, uint64_t addr,
		       bool write, bool tr, struct amdvi_dte *d)
{
	unsigned int flags = AMDVI_IDR_PRETRANSLATED | rw_flag(write) |
			     (tr ? AMDVI_EVT_FLAG_TR : 0);

	if (dte_get(a, devid, addr, write, d))
		return -1;
	if ((d->q0 & AMDVI_DTE_V) && (d->q1 & AMDVI_DTE_I))
		return 0;
	refuse(a, event_q0(AMDVI_EVT_INVALID_DEVICE_REQUEST, devid, 0, flags),
	       addr);
	return -1;
}

/* A translated request: passes untranslated when I = 1. */
static enum pci_status amdvi_translated(struct iommu_unit *u, uint16_t devid,
					uint64_t addr, bool write)
{
	struct amdvi *a = to_amdvi(u);
	struct amdvi_dte d;

	if (!unit_on(a))
		return PCI_STATUS_OK;
	if (ats_allowed(a, devid, addr, write, false, &d))
		return PCI_STATUS_UR;
	inc(&a->translated);
	return PCI_STATUS_OK;
}

/* A translation request: the untranslated path's answer for one page
 * (an untranslated entry answers with the address itself). */
static enum pci_status amdvi_ats_translate(struct iommu_unit *u,
					   uint16_t devid, uint64_t iova,
					   bool write, uint64_t *phys,
					   uint64_t *size)
{
	struct amdvi *a = to_amdvi(u);
	struct amdvi_dte d;
	size_t chunk;
	enum pci_status st;

	inc(&a->translation_reqs);
	*phys = iova;
	*size = AMDVI_PAGE_SIZE;
	if (!unit_on(a))
		return PCI_STATUS_OK;
	if (ats_allowed(a, devid, iova, write, true, &d))
		return PCI_STATUS_UR;
	st = amdvi_translate(u, devid, iova & ~(AMDVI_PAGE_SIZE - 1),
			     AMDVI_PAGE_SIZE, write, phys, &chunk);
	if (!st)
		*phys += iova & (AMDVI_PAGE_SIZE - 1);
	return st;
}

/* ---------------------------------------------------------- commands */

static void inval_pages(struct amdvi *a, uint64_t q0, uint64_t q1)
{
	uint16_t domain = AMDVI_CMD_PAGES_DOMAIN(q0);
	uint64_t addr = q1 & AMDVI_CMD_PAGES_ADDR_MASK;
	unsigned int n;

	if (!(q1 & AMDVI_CMD_PAGES_S)) {
		n = 0;
	} else {
		/* 2^(n + 1) bytes; n = 63 (bits 62:12 set): the whole domain */
		n = (unsigned int)__builtin_ctzll(~(addr >> AMDVI_PAGE_SHIFT)) +
		    AMDVI_PAGE_SHIFT;
		n = n + 1 - AMDVI_PAGE_SHIFT;
	}
	iotlb_flush_range(&a->iotlb, domain, addr, n);
	/* PDE: the page directory entries for the range go too */
	if ((q1 & AMDVI_CMD_PAGES_PDE) && a->has_pwc)
		iotlb_flush_range(&a->pwc, domain, addr, n);
}

/* COMPLETION_WAIT: 0 or COMMAND_HARDWARE_ERROR (the store failed). */
static unsigned int completion_wait(struct amdvi *a, uint64_t q0, uint64_t q1,
				    uint64_t *where, struct amdvi_msi *msi)
{
	uint64_t addr = q0 & AMDVI_CMD_CW_ADDR_MASK;

	if ((q0 & AMDVI_CMD_CW_S) && !ram_store(a, addr, q1)) {
		*where = addr;
		return AMDVI_EVT_COMMAND_HW_ERROR;
	}
	/* the F bit: nothing is queued behind a command here */
	if (q0 & AMDVI_CMD_CW_I)
		raise_status(a, AMDVI_STATUS_COMWAIT_INT,
			     atomic_load(&a->ctrl) & AMDVI_CTRL_COMWAIT_INT_EN,
			     msi);
	return 0;
}

/* One command (under the lock): 0 or the error event's code. */
static unsigned int cmd_one(struct amdvi *a, uint64_t q0, uint64_t q1,
			    uint64_t *where, struct amdvi_msi *msi)
{
	switch (AMDVI_CMD_OPCODE(q0)) {
	case AMDVI_CMD_COMPLETION_WAIT:
		if (q0 & AMDVI_CMD_CW_RSVD)
			break;
		return completion_wait(a, q0, q1, where, msi);
	case AMDVI_CMD_INV_DEVTAB_ENTRY:
		if ((q0 & AMDVI_CMD_DEVTAB_RSVD0) || q1)
			break;
		inc(&a->dte_invals);
		iotlb_flush_tag(&a->dtc, AMDVI_CMD_DEVID(q0));
		return 0;
	case AMDVI_CMD_INV_IOMMU_PAGES:
		if ((q0 & AMDVI_CMD_PAGES_RSVD0) ||
		    (q1 & (AMDVI_CMD_PAGES_RSVD1 | AMDVI_CMD_PAGES_GN)))
			break;
		inval_pages(a, q0, q1);
		return 0;
	case AMDVI_CMD_INV_IOTLB_PAGES:
		/* a device's ATS cache is its own; none is modelled */
		inc(&a->devtlb_invals);
		return 0;
	case AMDVI_CMD_INV_INTERRUPT_TABLE: /* nothing is remapped */
		return 0;
	case AMDVI_CMD_INV_IOMMU_ALL:
		if ((q0 & AMDVI_CMD_ALL_RSVD0) || q1)
			break;
		inc(&a->dte_invals);
		iotlb_flush_all(&a->dtc);
		iotlb_flush_all(&a->iotlb);
		if (a->has_pwc)
			iotlb_flush_all(&a->pwc);
		return 0;
	}
	return AMDVI_EVT_ILLEGAL_COMMAND_ERROR;
}

/* The buffer stops on a bad command, its head left on it. */
static void cmd_stop(struct amdvi *a, unsigned int code, uint64_t where,
		     struct amdvi_msi *msi)
{
	uint64_t q0 = (uint64_t)code << AMDVI_EVT_CODE_SHIFT;

	if (code == AMDVI_EVT_COMMAND_HW_ERROR)
		q0 |= (uint64_t)AMDVI_HW_ERR_MASTER_ABORT
		      << AMDVI_EVT_HW_TYPE_SHIFT;
	inc(&a->cmd_errors);
	a->status &= ~AMDVI_STATUS_CMD_RUN;
	log_event(a, q0, where, msi);
}

/* Run the buffer from head to tail (under the lock). */
static void cmd_run(struct amdvi *a, struct amdvi_msi *msi)
{
	unsigned int n = ring_entries(a->cmd_base), code;
	uint64_t head = ring_index(a->cmd_head, n);
	uint64_t tail = ring_index(a->cmd_tail, n);
	uint64_t base = a->cmd_base & AMDVI_RING_BASE_MASK, q0, q1, where;

	if (!(a->status & AMDVI_STATUS_CMD_RUN))
		return;
	while (head != tail) {
		where = base + head * 16;
		if (!ram_load128(a, where, &q0, &q1))
			code = AMDVI_EVT_COMMAND_HW_ERROR;
		else
			code = cmd_one(a, q0, q1, &where, msi);
		if (code) {
			cmd_stop(a, code, where, msi);
			return;
		}
		inc(&a->commands);
		head = (head + 1) % n;
		a->cmd_head = head << 4;
	}
}

/* --------------------------------------------------------- registers */

/* A 64-bit register at @off (8-aligned) or false. */
static bool read64(struct amdvi *a, uint64_t off, uint64_t *val)
{
	switch (off) {
	case AMDVI_MMIO_DEV_TABLE: *val = atomic_load(&a->dev_table); break;
	case AMDVI_MMIO_CMD_BUF: *val = a->cmd_base; break;
	case AMDVI_MMIO_EVT_LOG: *val = a->evt_base; break;
	case AMDVI_MMIO_CONTROL: *val = atomic_load(&a->ctrl); break;
	case AMDVI_MMIO_EXCL_BASE: *val = a->excl_base; break;
	case AMDVI_MMIO_EXCL_LIMIT: *val = a->excl_limit; break;
	case AMDVI_MMIO_EXT_FEATURES: *val = a->efr; break;
	case AMDVI_MMIO_CMD_HEAD: *val = a->cmd_head; break;
	case AMDVI_MMIO_CMD_TAIL: *val = a->cmd_tail; break;
	case AMDVI_MMIO_EVT_HEAD: *val = a->evt_head; break;
	case AMDVI_MMIO_EVT_TAIL: *val = a->evt_tail; break;
	case AMDVI_MMIO_STATUS: *val = a->status; break;
	default: return false;
	}
	return true;
}

static uint32_t read32(struct amdvi *a, uint64_t off)
{
	uint64_t q;

	if (read64(a, off & ~7ULL, &q))
		return (uint32_t)(q >> (off & 4 ? 32 : 0));
	switch (off) {
	case AMDVI_MMIO_MSI_CAP: return a->msi_cap;
	case AMDVI_MMIO_MSI_ADDR_LO: return a->msi_addr_lo;
	case AMDVI_MMIO_MSI_ADDR_HI: return a->msi_addr_hi;
	case AMDVI_MMIO_MSI_DATA: return a->msi_data;
	}
	return 0; /* reserved and unmodelled registers read 0 */
}

static uint64_t amdvi_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct amdvi *a = opaque;
	uint64_t val;

	pthread_mutex_lock(&a->lock);
	val = read32(a, off & ~3ULL);
	if (size == 8)
		val |= (uint64_t)read32(a, off + 4) << 32;
	else if (size < 4)
		val = (val >> (8 * (off & 3))) & ((1ULL << (8 * size)) - 1);
	pthread_mutex_unlock(&a->lock);
	return val;
}

static void ctrl_write(struct amdvi *a, uint64_t val, struct amdvi_msi *msi)
{
	uint64_t old = atomic_load(&a->ctrl);
	uint64_t up = val & ~old, down = old & ~val;

	atomic_store_explicit(&a->ctrl, val, memory_order_release);
	if (up & AMDVI_CTRL_EVT_LOG_EN)
		a->status |= AMDVI_STATUS_EVT_RUN;
	if (down & AMDVI_CTRL_EVT_LOG_EN)
		a->status &= ~AMDVI_STATUS_EVT_RUN;
	if (down & AMDVI_CTRL_CMD_BUF_EN)
		a->status &= ~AMDVI_STATUS_CMD_RUN;
	if (up & AMDVI_CTRL_CMD_BUF_EN) {
		a->status |= AMDVI_STATUS_CMD_RUN;
		cmd_run(a, msi);
	}
}

/* A write of the 64-bit register at @off with its whole new value. */
static bool write64(struct amdvi *a, uint64_t off, uint64_t val,
		    struct amdvi_msi *msi)
{
	switch (off) {
	case AMDVI_MMIO_DEV_TABLE:
		atomic_store_explicit(&a->dev_table, val & DTB_MASK,
				      memory_order_release);
		break;
	case AMDVI_MMIO_CMD_BUF: a->cmd_base = val & RING_BASE_REG; break;
	case AMDVI_MMIO_EVT_LOG: a->evt_base = val & RING_BASE_REG; break;
	case AMDVI_MMIO_CONTROL: ctrl_write(a, val, msi); break;
	case AMDVI_MMIO_EXCL_BASE: a->excl_base = val; break;
	case AMDVI_MMIO_EXCL_LIMIT: a->excl_limit = val; break;
	case AMDVI_MMIO_CMD_HEAD:
		if (!(a->status & AMDVI_STATUS_CMD_RUN))
			a->cmd_head = val & AMDVI_RING_PTR_MASK;
		break;
	case AMDVI_MMIO_CMD_TAIL:
		a->cmd_tail = val & AMDVI_RING_PTR_MASK;
		cmd_run(a, msi);
		break;
	case AMDVI_MMIO_EVT_HEAD:
		a->evt_head = val & AMDVI_RING_PTR_MASK;
		break;
	case AMDVI_MMIO_EVT_TAIL:
		if (!(a->status & AMDVI_STATUS_EVT_RUN))
			a->evt_tail = val & AMDVI_RING_PTR_MASK;
		break;
	case AMDVI_MMIO_STATUS: a->status &= ~(val & AMDVI_STATUS_W1C); break;
	case AMDVI_MMIO_EXT_FEATURES: break; /* read-only */
	default: return false;
	}
	return true;
}

static void write32(struct amdvi *a, uint64_t off, uint32_t val)
{
	switch (off) {
	case AMDVI_MMIO_MSI_CAP:
		a->msi_cap = (a->msi_cap & ~AMDVI_MSI_CAP_EN) |
			     (val & AMDVI_MSI_CAP_EN);
		break;
	case AMDVI_MMIO_MSI_ADDR_LO: a->msi_addr_lo = val & ~3u; break;
	case AMDVI_MMIO_MSI_ADDR_HI: a->msi_addr_hi = val; break;
	case AMDVI_MMIO_MSI_DATA: a->msi_data = val & 0xffff; break;
	}
}

/* One 4-byte write: a 32-bit register or half of a 64-bit one. */
static void write_dword(struct amdvi *a, uint64_t off, uint32_t val,
			struct amdvi_msi *msi)
{
	uint64_t q, base = off & ~7ULL;

	if (!read64(a, base, &q)) {
		write32(a, off, val);
		return;
	}
	/* the W1C status register takes only what is written */
	if (base == AMDVI_MMIO_STATUS)
		q = 0;
	q = (off & 4) ? (q & 0xffffffffULL) | (uint64_t)val << 32
		      : (q & ~0xffffffffULL) | val;
	write64(a, base, q, msi);
}

static void amdvi_mmio_write(void *opaque, uint64_t off, uint64_t val,
			     unsigned int size)
{
	struct amdvi *a = opaque;
	struct amdvi_msi msi = { 0 };
	uint64_t q;

	if (size < 4)
		return; /* registers take 4- and 8-byte accesses only */
	pthread_mutex_lock(&a->lock);
	if (size == 8 && read64(a, off, &q)) {
		write64(a, off, val, &msi);
	} else {
		write_dword(a, off, (uint32_t)val, &msi);
		if (size == 8)
			write_dword(a, off + 4, (uint32_t)(val >> 32), &msi);
	}
	pthread_mutex_unlock(&a->lock);
	send_msi(a, &msi);
}

static const struct mmio_ops amdvi_mmio_ops = {
	.read = amdvi_mmio_read,
	.write = amdvi_mmio_write,
};

/* ------------------------------------------------------- life cycle */

void amdvi_params_init(struct amdvi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->iotlb_entries = IOTLB_DEFAULT_ENTRIES;
	p->repl = IOTLB_REPL_LRU;
	p->seed = 1;
	p->max_levels = AMDVI_MAX_LEVELS;
	p->dtc_entries = AMDVI_DTC_DEFAULT;
	p->pwc_entries = AMDVI_PWC_DEFAULT;
}

static int init_caches(struct amdvi *a)
{
	struct iotlb_unit_caches g = { .dev_entries = a->p.dtc_entries,
				       .pwc_entries = a->p.pwc_entries };
	int ret;

	iotlb_params_init(&g.tlb);
	g.tlb.entries = a->p.iotlb_entries;
	g.tlb.ways = a->p.iotlb_ways;
	g.tlb.repl = a->p.repl;
	g.tlb.seed = a->p.seed;
	ret = iotlb_unit_caches_init(&g, &a->iotlb, &a->dtc, &a->pwc);
	a->has_pwc = !ret && g.pwc_entries;
	return ret;
}

static void setup(struct amdvi *a, struct machine *m, uint64_t reg_base)
{
	a->m = m;
	a->reg_base = reg_base;
	a->efr = AMDVI_EFR_IA | AMDVI_EFR_MSI_CAP_MMIO |
		 (uint64_t)(a->p.max_levels - 4) << AMDVI_EFR_HATS_SHIFT;
	a->msi_cap = AMDVI_MSI_CAP_ID | AMDVI_MSI_CAP_64;
	a->unit.ops = &amdvi_ops;
	a->unit.priv = a;
	snprintf(a->unit.name, sizeof(a->unit.name), "ivhd%u",
		 a->p.index % 1000);
	pthread_mutex_init(&a->lock, NULL);
}

int amdvi_create(struct machine *m, uint64_t reg_base,
		 const struct amdvi_params *p, struct iommu_unit **out)
{
	struct amdvi *a;
	int ret;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (p)
		a->p = *p;
	else
		amdvi_params_init(&a->p);
	ret = -EINVAL;
	if (a->p.max_levels < 4 || a->p.max_levels > AMDVI_MAX_LEVELS)
		goto err_free;
	ret = init_caches(a);
	if (ret)
		goto err_free;
	a->regs = mmio_region_create_ops(&amdvi_mmio_ops, a, AMDVI_MMIO_SIZE,
					 reg_base);
	ret = -ENOMEM;
	if (!a->regs)
		goto err_caches;
	setup(a, m, reg_base);
	*out = &a->unit;
	return 0;
err_caches:
	iotlb_unit_caches_destroy(&a->iotlb, &a->dtc, &a->pwc);
err_free:
	free(a);
	return ret;
}

void amdvi_destroy(struct iommu_unit *u)
{
	struct amdvi *a;

	if (!u)
		return;
	a = to_amdvi(u);
	mmio_region_destroy(a->regs);
	iotlb_unit_caches_destroy(&a->iotlb, &a->dtc, &a->pwc);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

struct mmio_region *amdvi_regs(struct iommu_unit *u)
{
	return to_amdvi(u)->regs;
}

uint64_t amdvi_reg_base(struct iommu_unit *u)
{
	return to_amdvi(u)->reg_base;
}

bool amdvi_is_unit(const struct iommu_unit *u)
{
	return u && u->ops == &amdvi_ops;
}

void amdvi_get_stats(struct iommu_unit *u, struct amdvi_stats *s)
{
	struct amdvi *a = to_amdvi(u);
	struct iotlb_stats t, c, w = { 0 };

	iotlb_get_stats(&a->iotlb, &t);
	iotlb_get_stats(&a->dtc, &c);
	if (a->has_pwc)
		iotlb_get_stats(&a->pwc, &w);
	memset(s, 0, sizeof(*s));
	s->pwc_hits = load(&a->pwc_hits);
	s->pwc_misses = load(&a->pwc_misses);
	s->pwc_inval_entries = w.inval_entries;
	s->pwc_valid = w.valid;
	s->hits = t.hits;
	s->misses = t.misses;
	s->walks = load(&a->walks);
	s->evictions = t.evictions;
	s->faults = load(&a->faults);
	s->faults_suppressed = load(&a->faults_suppressed);
	s->events_written = load(&a->events_written);
	s->events_lost = load(&a->events_lost);
	s->event_interrupts = load(&a->event_irqs);
	s->iotlb_invalidations = t.inval_cmds;
	s->iotlb_inval_entries = t.inval_entries;
	s->dte_invalidations = load(&a->dte_invals);
	s->dtc_hits = c.hits;
	s->dtc_misses = c.misses;
	s->commands = load(&a->commands);
	s->translated = load(&a->translated);
	s->translation_requests = load(&a->translation_reqs);
	s->iotlb_pages_commands = load(&a->devtlb_invals);
	s->command_errors = load(&a->cmd_errors);
	s->iotlb_valid = t.valid;
}

static const struct iommu_unit_ops amdvi_ops = {
	.translate = amdvi_translate,
	.translated = amdvi_translated,
	.ats_translate = amdvi_ats_translate,
	.destroy = amdvi_destroy,
};
