/*
 * Intel VT-d remapping hardware (see vtd.h), following the VT-d
 * specification in legacy translation mode:
 * - translation: source id -> root entry (bus) -> context entry (devfn)
 *   -> 3- or 4-level second-level tables, 4 KiB pages and 2 MiB / 1 GiB
 *   superpages; the access rights are the AND of R/W down the walk; a
 *   not-present entry is a read or write permission fault (reasons 6, 5);
 * - caches: a context cache keyed by source id (present entries only, as
 *   CAP.CM = 0 allows), an IOTLB keyed by domain id (hw/iotlb.c) and a
 *   paging-structure cache of PDEs (domain id and 2 MiB region -> the
 *   leaf table and the rights above it, spec 6.2.2), so a miss under a
 *   cached PDE reads one entry; all keep their entries until invalidated,
 *   through CCMD / the IOTLB registers or the invalidation queue (an
 *   IOTLB invalidation also drops the domain's PDEs);
 * - ATS (ECAP.DT): a context entry with TT = 01b translates untranslated
 *   requests as TT = 00b does, lets translated requests (host addresses)
 *   through untranslated and answers translation requests from its
 *   tables; with TT = 00b both kinds are blocked with fault reason 0xD,
 *   with TT = 10b they pass as every request does;
 * - primary fault logging (spec 7.3.1): faults go round-robin into the
 *   fault recording registers; a full record sets PFO and the fault is
 *   lost; PPF and FRI report the first pending record; an interrupt event
 *   (an MSI to FEADDR/FEDATA) is raised when a status bit sets while none
 *   was set, or held in FECTL.IP while FECTL.IM masks it.
 * The hot path takes no lock: status and the latched root table address
 * are atomics; register writes, faults and the queue take the unit lock.
 */
#include "hw/vtd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/apic.h"
#include "hw/mmio.h"
#include "hw/ram.h"
#include "kernel/machine.h"

#define VTD_MAMV	18	/* 2^18 pages: 1 GiB per page-selective flush */
#define VTD_ND		6	/* 16-bit domain ids */
#define VTD_MIN_REGS	0x1000u

struct vtd_sid_counters {
	_Atomic uint64_t hits, misses, walks, faults;
};

struct vtd_bus_counters {
	struct vtd_sid_counters fn[256];
};

struct vtd_frcd {
	uint64_t lo, hi;
};

/* An MSI decided under the lock and sent after it. */
struct vtd_msi {
	bool send;
	uint64_t addr;
	uint32_t data;
};

struct vtd {
	struct iommu_unit unit;
	struct machine *m;
	struct vtd_params p;
	struct mmio_region *regs;
	uint64_t reg_base;
	uint32_t reg_size;
	uint64_t cap, ecap;
	unsigned int mgaw;		/* input address bits */
	unsigned int size_mask;		/* IOTLB page sizes in use */
	/* read without the lock */
	_Atomic uint32_t gsts;
	_Atomic uint64_t rta;		/* root table latched by SRTP */
	/* registers, under @lock */
	pthread_mutex_t lock;
	uint64_t rtaddr, ccmd, iva, iotlb_reg, iqa, iqh, iqt;
	uint32_t fsts, fectl, fedata, feaddr, feuaddr;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	unsigned int fault_index;	/* where the next fault goes */
	struct vtd_frcd *frcd;
	/* caches */
	struct iotlb iotlb;
	struct iotlb cc;		/* tag: source id; phys: lo, data: hi */
	struct iotlb pwc;		/* tag: domain id; 2 MiB entries, data:
					 * the leaf table; perm: rights above */
	bool has_pwc;
	/* counters */
	_Atomic uint64_t walks, pwc_hits, pwc_misses, faults, faults_recorded, faults_lost,
		faults_suppressed, fault_events, cc_invals, qi_descs,
		qi_errors, translated, translation_reqs, devtlb_invals;
	_Atomic(struct vtd_bus_counters *) bus[256];
};

/* A context entry as the walk uses it. */
struct vtd_ctx {
	uint64_t lo, hi;
};

static const struct iommu_unit_ops vtd_ops;

static struct vtd *to_vtd(struct iommu_unit *u)
{
	return u->priv;
}

static void inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- RAM */

/* An 8-byte table entry, read as one access (the kernel's 64-bit stores
 * are single-copy atomic, as on x86). False if no RAM answers. */
static bool ram_load(struct vtd *v, uint64_t addr, uint64_t *val)
{
	const struct ram *ram = &v->m->ram;

	if ((addr & 7) || !ram_contains(ram, addr, 8))
		return false;
	*val = atomic_load_explicit((_Atomic uint64_t *)(void *)(ram->mem + addr),
				    memory_order_relaxed);
	return true;
}

/* A 4-byte status write the kernel may be polling for. */
static bool status_write(struct vtd *v, uint64_t addr, uint32_t data)
{
	const struct ram *ram = &v->m->ram;

	if ((addr & 3) || !ram_contains(ram, addr, 4))
		return false;
	atomic_store_explicit((_Atomic uint32_t *)(void *)(ram->mem + addr),
			      data, memory_order_release);
	return true;
}

static bool ram_load128(struct vtd *v, uint64_t addr, uint64_t *lo,
			uint64_t *hi)
{
	return ram_load(v, addr, lo) && ram_load(v, addr + 8, hi);
}

/* ---------------------------------------------------------- counters */

static struct vtd_sid_counters *sid_counters(struct vtd *v, uint16_t sid,
					     bool alloc)
{
	_Atomic(struct vtd_bus_counters *) *slot = &v->bus[sid >> 8];
	struct vtd_bus_counters *b, *nb, *expect = NULL;

	b = atomic_load_explicit(slot, memory_order_acquire);
	if (b || !alloc)
		return b ? &b->fn[sid & 0xff] : NULL;
	nb = calloc(1, sizeof(*nb));
	if (!nb)
		return NULL;
	if (!atomic_compare_exchange_strong(slot, &expect, nb)) {
		free(nb);
		nb = expect;
	}
	return &nb->fn[sid & 0xff];
}

static void sid_inc(struct vtd *v, uint16_t sid, bool alloc,
		    size_t which)
{
	struct vtd_sid_counters *c = sid_counters(v, sid, alloc);
	_Atomic uint64_t *f[] = { c ? &c->hits : NULL, c ? &c->misses : NULL,
				  c ? &c->walks : NULL, c ? &c->faults : NULL };

	if (c)
		inc(f[which]);
}

enum { SID_HITS, SID_MISSES, SID_WALKS, SID_FAULTS };

static void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/*
 * @n hits of @sid, counted without an atomic read-modify-write: in the
 * thread's IOTLB slot, owner[0] names the source id (+1) whose hits
 * owner[1] holds; they move to the shared per-device counter when the
 * thread translates for another source id.
 */
static void sid_hit(struct vtd *v, uint16_t sid, uint64_t n)
{
	struct iotlb_slot *s = iotlb_thread_slot(&v->iotlb);
	uint64_t cur, held;
	struct vtd_sid_counters *c;

	if (!s) {
		c = sid_counters(v, sid, false);
		if (c)
			atomic_fetch_add_explicit(&c->hits, n,
						  memory_order_relaxed);
		return;
	}
	cur = atomic_load_explicit(&s->owner[0], memory_order_relaxed);
	if (cur != sid + 1u) {
		held = atomic_load_explicit(&s->owner[1], memory_order_relaxed);
		c = cur ? sid_counters(v, (uint16_t)(cur - 1), false) : NULL;
		if (c && held)
			atomic_fetch_add_explicit(&c->hits, held,
						  memory_order_relaxed);
		atomic_store_explicit(&s->owner[1], 0, memory_order_relaxed);
		atomic_store_explicit(&s->owner[0], sid + 1u,
				      memory_order_relaxed);
	}
	bump(&s->owner[1], n);
}

/* Hits of @sid still held in threads' slots. */
static uint64_t sid_pending_hits(struct vtd *v, uint16_t sid)
{
	struct iotlb_slot *slots;
	unsigned int n = iotlb_slots(&v->iotlb, &slots);
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++)
		if (atomic_load_explicit(&slots[i].owner[0],
					 memory_order_relaxed) == sid + 1u)
			sum += atomic_load_explicit(&slots[i].owner[1],
						    memory_order_relaxed);
	return sum;
}

/* ------------------------------------------------------- fault events */

static uint32_t fsts_status(const struct vtd *v)
{
	return v->fsts & (VTD_FSTS_W1C | VTD_FSTS_PPF);
}

/* Status bit @bit sets (under the lock): an interrupt event if it was
 * the first status set (spec 7.3, fault event interrupt). */
static void fault_event(struct vtd *v, uint32_t bit, struct vtd_msi *msi)
{
	bool first = !fsts_status(v);

	v->fsts |= bit;
	if (!first || (v->fectl & VTD_FECTL_IP))
		return;
	if (v->fectl & VTD_FECTL_IM) {
		v->fectl |= VTD_FECTL_IP;
		return;
	}
	msi->send = true;
	msi->addr = (uint64_t)v->feuaddr << 32 | (v->feaddr & ~3u);
	msi->data = v->fedata;
}

static void send_msi(struct vtd *v, const struct vtd_msi *msi,
		     _Atomic uint64_t *counter)
{
	if (!msi->send)
		return;
	if (counter)
		inc(counter);
	apic_msi_write(v->m, msi->addr, msi->data);
}

/* Software cleared status: with nothing left, the pending event goes. */
static void status_cleared(struct vtd *v)
{
	if (!fsts_status(v))
		v->fectl &= ~VTD_FECTL_IP;
}

static void recompute_ppf(struct vtd *v)
{
	for (unsigned int i = 0; i < v->p.nfr; i++) {
		if (v->frcd[i].hi & VTD_FRCD_F)
			return;
	}
	v->fsts &= ~VTD_FSTS_PPF;
}

/* Primary fault logging, spec 7.3.1 (no compression of faults). */
static void record_fault(struct vtd *v, uint16_t sid, uint64_t addr,
			 bool write, unsigned int reason, unsigned int at)
{
	struct vtd_msi msi = { 0 };
	struct vtd_frcd *r;

	pthread_mutex_lock(&v->lock);
	r = &v->frcd[v->fault_index];
	if ((v->fsts & VTD_FSTS_PFO) || (r->hi & VTD_FRCD_F)) {
		inc(&v->faults_lost);
		if (!(v->fsts & VTD_FSTS_PFO))
			fault_event(v, VTD_FSTS_PFO, &msi);
		goto out;
	}
	r->lo = addr & VTD_FRCD_FI_MASK;
	r->hi = VTD_FRCD_F | (write ? 0 : VTD_FRCD_T) |
		(uint64_t)at << VTD_FRCD_AT_SHIFT |
		(uint64_t)reason << VTD_FRCD_FR_SHIFT | sid;
	inc(&v->faults_recorded);
	if (!(v->fsts & VTD_FSTS_PPF)) {
		v->fsts = (v->fsts & ~0xff00u) | v->fault_index << 8;
		fault_event(v, VTD_FSTS_PPF, &msi);
	}
	v->fault_index = (v->fault_index + 1) % v->p.nfr;
out:
	pthread_mutex_unlock(&v->lock);
	send_msi(v, &msi, &v->fault_events);
}

/* A refused request of address type @at (VTD_AT_*). */
static enum pci_status fault_at(struct vtd *v, uint16_t sid, uint64_t addr,
				bool write, unsigned int reason, bool fpd,
				unsigned int at)
{
	inc(&v->faults);
	sid_inc(v, sid, true, SID_FAULTS);
	if (fpd)
		inc(&v->faults_suppressed);
	else
		record_fault(v, sid, addr, write, reason, at);
	return PCI_STATUS_UR;
}

static enum pci_status fault(struct vtd *v, uint16_t sid, uint64_t addr,
			     bool write, unsigned int reason, bool fpd)
{
	return fault_at(v, sid, addr, write, reason, fpd, VTD_AT_UNTRANSLATED);
}

/* ------------------------------------------------------------- walks */

static bool ctx_valid_tt(const struct vtd *v, unsigned int tt)
{
	return tt == VTD_TT_MULTI_LEVEL ||
	       (tt == VTD_TT_DEV_IOTLB && (v->ecap & VTD_ECAP_DT)) ||
	       (tt == VTD_TT_PASS_THROUGH && (v->ecap & VTD_ECAP_PT));
}

static bool ctx_valid_aw(const struct vtd *v, unsigned int aw)
{
	return aw < 5 && (VTD_CAP_SAGAW(v->cap) & (1u << aw));
}

/* Root and context entries for @sid: 0 or a fault reason. */
static unsigned int ctx_walk(struct vtd *v, uint16_t sid, struct vtd_ctx *c)
{
	uint64_t rta = atomic_load_explicit(&v->rta, memory_order_acquire);
	uint64_t lo, hi;

	if (VTD_RTADDR_TTM(rta) != 0)
		return VTD_FR_ROOT_TABLE_INVALID;
	if (!ram_load128(v, (rta & VTD_RTADDR_RTA_MASK) + (sid >> 8) * 16ULL,
			 &lo, &hi))
		return VTD_FR_ROOT_TABLE_INVALID;
	if (!(lo & VTD_ROOT_P))
		return VTD_FR_ROOT_NOT_PRESENT;
	if ((lo & VTD_ROOT_LO_RSVD) || (hi & VTD_ROOT_HI_RSVD))
		return VTD_FR_ROOT_RSVD;
	if (!ram_load128(v, (lo & VTD_ROOT_CTP_MASK) + (sid & 0xff) * 16ULL,
			 &c->lo, &c->hi))
		return VTD_FR_CTX_TABLE_INVALID;
	if (!(c->lo & VTD_CTX_P))
		return VTD_FR_CTX_NOT_PRESENT;
	if ((c->lo & VTD_CTX_LO_RSVD) || (c->hi & VTD_CTX_HI_RSVD))
		return VTD_FR_CTX_RSVD;
	if (!ctx_valid_tt(v, VTD_CTX_TT(c->lo)) ||
	    (VTD_CTX_TT(c->lo) != VTD_TT_PASS_THROUGH &&
	     !ctx_valid_aw(v, VTD_CTX_AW(c->hi))))
		return VTD_FR_CTX_INVALID;
	return 0;
}

/* The context of @sid, from the context cache or the tables. */
static unsigned int ctx_get(struct vtd *v, uint16_t sid, struct vtd_ctx *c)
{
	struct iotlb_result r;
	uint64_t gen;
	unsigned int reason;

	/* The cache keeps a page address: the low qword's bits 11:0 (P,
	 * FPD, TT) ride in the high qword's reserved bits 43:32. */
	if (iotlb_lookup(&v->cc, sid, 0, 1, &r)) {
		c->lo = r.phys | ((r.data >> 32) & 0xfff);
		c->hi = r.data & 0xffffffffULL;
		return 0;
	}
	gen = iotlb_gen(&v->cc);
	sid_counters(v, sid, true); /* the device's counters from now on */
	reason = ctx_walk(v, sid, c);
	if (!reason)
		iotlb_fill(&v->cc, gen, sid, 0, VTD_PAGE_SHIFT,
			   c->lo & ~0xfffULL, 0,
			   c->hi | (c->lo & 0xfff) << 32);
	return reason;
}

/* Reserved bits of a second-level entry at @level (spec 9.8). */
static bool pte_reserved(const struct vtd *v, uint64_t pte, unsigned int level)
{
	unsigned int sllps = VTD_CAP_SLLPS(v->cap);

	if (pte & VTD_PTE_RSVD)
		return true;
	if (!(pte & VTD_PTE_PS) || level == 1)
		return false;
	if (level == 2)
		return !(sllps & VTD_SLLPS_2M) ||
		       (pte & ((1ULL << 21) - 1) & VTD_PTE_ADDR_MASK);
	if (level == 3)
		return !(sllps & VTD_SLLPS_1G) ||
		       (pte & ((1ULL << 30) - 1) & VTD_PTE_ADDR_MASK);
	return true; /* PS in a PML4E */
}

static unsigned int perm_reason(bool write)
{
	return write ? VTD_FR_WRITE : VTD_FR_READ;
}

/* A PDE the walk went through to a leaf table (level 1). */
struct vtd_pde {
	uint64_t table;
	unsigned int perm;	/* the AND of R/W above and in it */
	bool valid;
};

/*
 * The second-level walk of @iova from @table at @level with the rights
 * @perm so far: 0 and the leaf in *leaf (phys: the page, shift, perm),
 * or a fault reason. *pde gets the level-2 entry that led to a leaf
 * table, if the walk went through one.
 */
static unsigned int walk_from(struct vtd *v, uint64_t table,
			      unsigned int level, unsigned int perm,
			      uint64_t iova, bool write,
			      struct iotlb_result *leaf, struct vtd_pde *pde)
{
	uint64_t pte;

	for (;; level--) {
		if (!ram_load(v, table + VTD_PTE_INDEX(iova, level) * 8, &pte))
			return VTD_FR_PTE_PTR_INVALID;
		if (!(pte & (VTD_PTE_R | VTD_PTE_W)))
			return perm_reason(write);
		if (pte_reserved(v, pte, level))
			return VTD_FR_PTE_RSVD;
		perm &= (unsigned int)(pte & (VTD_PTE_R | VTD_PTE_W));
		if (level == 1 || (pte & VTD_PTE_PS))
			break;
		table = pte & VTD_PTE_ADDR_MASK;
		if (level == 2)
			*pde = (struct vtd_pde){ table, perm, true };
	}
	leaf->shift = VTD_LEVEL_SHIFT(level);
	leaf->phys = pte & VTD_PTE_ADDR_MASK & ~((1ULL << leaf->shift) - 1);
	leaf->perm = perm;
	leaf->data = 0;
	if (!(perm & (write ? IOTLB_PERM_W : IOTLB_PERM_R)))
		return perm_reason(write);
	return 0;
}

/*
 * One translation's walks (iotlb_walk): each starts at the PDE cache
 * and, on a miss there, at the context's table. The last PDE-cache
 * answer serves the following pages of the run while the cache has not
 * changed (iotlb_peek_held). A walk's PDE fill and its counts happen
 * when the run takes it.
 */
struct vtd_walker {
	struct iotlb_walk w;
	struct vtd *v;
	const struct vtd_ctx *c;
	uint16_t did;
	bool write;
	struct iotlb_held held;	/* the PDE cache's last answer */
	struct vtd_pde pde;
	/* the last walk: how it began, and the PDE it would cache */
	int pwc;		/* 1 hit, 0 miss, -1 no cache */
	uint64_t fill_gen, fill_iova;
	struct vtd_pde fill;
	unsigned int pwc_hits, pwc_misses;
};

/* The cached PDE above @iova, if any. */
static bool pde_cached(struct vtd_walker *k, uint64_t iova)
{
	struct iotlb_result r;

	if (!iotlb_peek_held(&k->v->pwc, &k->held, k->did, iova, 1u << 1, &r))
		return false;
	k->pde = (struct vtd_pde){ r.data, r.perm, true };
	return true;
}

static unsigned int vtd_walk_page(struct iotlb_walk *w, uint64_t iova,
				  struct iotlb_result *leaf)
{
	struct vtd_walker *k = (struct vtd_walker *)w;
	struct vtd *v = k->v;
	struct vtd_pde unused;

	k->fill.valid = false;
	if (!v->has_pwc) {
		k->pwc = -1;
	} else if (pde_cached(k, iova)) {
		k->pwc = 1;
		return walk_from(v, k->pde.table, 1, k->pde.perm, iova,
				 k->write, leaf, &unused);
	} else {
		k->pwc = 0;
		k->fill_gen = iotlb_gen(&v->pwc);
		k->fill_iova = iova;
	}
	return walk_from(v, k->c->lo & VTD_CTX_SLPTPTR_MASK,
			 VTD_AGAW_LEVELS(VTD_CTX_AW(k->c->hi)),
			 IOTLB_PERM_R | IOTLB_PERM_W, iova, k->write, leaf,
			 &k->fill);
}

static void vtd_walk_taken(struct iotlb_walk *w)
{
	struct vtd_walker *k = (struct vtd_walker *)w;

	if (k->pwc == 1)
		k->pwc_hits++;
	if (k->pwc != 0)
		return;
	k->pwc_misses++;
	if (k->fill.valid)
		iotlb_fill(&k->v->pwc, k->fill_gen, k->did, k->fill_iova, 21,
			   0, k->fill.perm, k->fill.table);
}

/* Count a translation's pages: hits, misses and walks, per device too. */
static void count_run(struct vtd *v, uint16_t sid, const struct iotlb_run *r,
		      const struct vtd_walker *k)
{
	struct vtd_sid_counters *c;

	if (r->served)
		sid_hit(v, sid, r->served);
	if (r->walked) {
		atomic_fetch_add_explicit(&v->walks, r->walked,
					  memory_order_relaxed);
		c = sid_counters(v, sid, true);
		if (c) {
			atomic_fetch_add_explicit(&c->misses, r->walked,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&c->walks, r->walked,
						  memory_order_relaxed);
		}
	}
	if (k->pwc_hits)
		atomic_fetch_add_explicit(&v->pwc_hits, k->pwc_hits,
					  memory_order_relaxed);
	if (k->pwc_misses)
		atomic_fetch_add_explicit(&v->pwc_misses, k->pwc_misses,
					  memory_order_relaxed);
}

static enum pci_status vtd_translate(struct iommu_unit *u, uint16_t sid,
				     uint64_t iova, size_t len, bool write,
				     uint64_t *phys, size_t *chunk)
{
	struct vtd *v = to_vtd(u);
	struct vtd_ctx c;
	struct iotlb_run run;
	unsigned int reason, width;
	bool fpd, ok;

	if (!(atomic_load_explicit(&v->gsts, memory_order_acquire) &
	      VTD_GSTS_TES)) {
		*phys = iova;
		*chunk = len;
		return PCI_STATUS_OK;
	}
	reason = ctx_get(v, sid, &c);
	if (reason)
		return fault(v, sid, iova, write, reason, false);
	fpd = c.lo & VTD_CTX_FPD;
	if (VTD_CTX_TT(c.lo) == VTD_TT_PASS_THROUGH) {
		*phys = iova;
		*chunk = len;
		return PCI_STATUS_OK;
	}
	width = VTD_AGAW_WIDTH(VTD_CTX_AW(c.hi));
	if (width > v->mgaw)
		width = v->mgaw;
	if (iova >> width)
		return fault(v, sid, iova, write, VTD_FR_ADDR_BEYOND_AGAW, fpd);
	{
		struct vtd_walker k = {
			.w = { .walk = vtd_walk_page, .taken = vtd_walk_taken,
			       .need = write ? IOTLB_PERM_W : IOTLB_PERM_R,
			       .allow = ~0u },
			.v = v, .c = &c, .did = VTD_CTX_DID(c.hi),
			.write = write,
		};
		uint64_t end = width >= 64 ? UINT64_MAX : 1ULL << width;

		/* the run stays below the width */
		if (len > end - iova)
			len = (size_t)(end - iova);
		ok = iotlb_translate(&v->iotlb, k.did, iova, len, v->size_mask,
				     &k.w, &run);
		count_run(v, sid, &run, &k);
	}
	if (!ok)
		return fault(v, sid, iova, write, run.code, fpd);
	*phys = run.phys;
	*chunk = (size_t)run.len;
	return PCI_STATUS_OK;
}

/* ---------------------------------------------------------------- ATS */

static bool translation_on(struct vtd *v)
{
	return atomic_load_explicit(&v->gsts, memory_order_acquire) &
	       VTD_GSTS_TES;
}

/* The context of an ATS request: 0, or -1 when refused (a fault of
 * type @at is recorded). *pass: the context is pass-through. */
static int ats_context(struct vtd *v, uint16_t sid, uint64_t addr,
		       bool write, unsigned int at, struct vtd_ctx *c,
		       bool *pass)
{
	unsigned int reason = ctx_get(v, sid, c);

	if (reason) {
		fault_at(v, sid, addr, write, reason, false, at);
		return -1;
	}
	*pass = VTD_CTX_TT(c->lo) == VTD_TT_PASS_THROUGH;
	if (*pass || VTD_CTX_TT(c->lo) == VTD_TT_DEV_IOTLB)
		return 0;
	fault_at(v, sid, addr, write, VTD_FR_TT_BLOCKED, c->lo & VTD_CTX_FPD,
		 at);
	return -1;
}

/* A translated request: TT = 01b (or 10b) lets it through untranslated;
 * that the address came from a translation is the device's word. */
static enum pci_status vtd_translated(struct iommu_unit *u, uint16_t sid,
				      uint64_t addr, bool write)
{
	struct vtd *v = to_vtd(u);
	struct vtd_ctx c;
	bool pass;

	if (!translation_on(v))
		return PCI_STATUS_OK;
	if (ats_context(v, sid, addr, write, VTD_AT_TRANSLATED, &c, &pass))
		return PCI_STATUS_UR;
	inc(&v->translated);
	return PCI_STATUS_OK;
}

/* The leaf of @iova in the context's tables (a walk, no IOTLB fill):
 * 0 with *phys and *size, or -1 without the rights asked for. */
static int ats_walk(struct vtd *v, const struct vtd_ctx *c, uint64_t iova,
		    bool write, uint64_t *phys, uint64_t *size)
{
	struct iotlb_result leaf;
	struct vtd_pde pde = { 0 };
	unsigned int width = VTD_AGAW_WIDTH(VTD_CTX_AW(c->hi));

	if (width > v->mgaw)
		width = v->mgaw;
	if (iova >> width)
		return -1;
	inc(&v->walks);
	if (walk_from(v, c->lo & VTD_CTX_SLPTPTR_MASK,
		      VTD_AGAW_LEVELS(VTD_CTX_AW(c->hi)),
		      IOTLB_PERM_R | IOTLB_PERM_W, iova, write, &leaf, &pde))
		return -1;
	*size = 1ULL << leaf.shift;
	*phys = leaf.phys + (iova & (*size - 1));
	return 0;
}

/* A translation request. A page without the rights asked for is a
 * completion without them (no fault is recorded): UR to the device. */
static enum pci_status vtd_ats_translate(struct iommu_unit *u, uint16_t sid,
					 uint64_t iova, bool write,
					 uint64_t *phys, uint64_t *size)
{
	struct vtd *v = to_vtd(u);
	struct vtd_ctx c;
	bool pass;

	inc(&v->translation_reqs);
	*phys = iova;
	*size = VTD_PAGE_SIZE;
	if (!translation_on(v))
		return PCI_STATUS_OK;
	if (ats_context(v, sid, iova, write, VTD_AT_TRANSLATION_REQ, &c, &pass))
		return PCI_STATUS_UR;
	if (pass)
		return PCI_STATUS_OK;
	return ats_walk(v, &c, iova, write, phys, size) ? PCI_STATUS_UR
							: PCI_STATUS_OK;
}

/* ------------------------------------------------------ invalidation */

struct cc_match {
	unsigned int gran;	/* VTD_CCMD_DOMAIN or VTD_CCMD_DEVICE */
	uint16_t did, sid, mask;
};

static bool cc_matches(uint16_t sid, uint64_t hi, void *arg)
{
	const struct cc_match *m = arg;

	if (m->gran == VTD_CCMD_DOMAIN)
		return VTD_CTX_DID(hi) == m->did;
	return (sid & m->mask) == (m->sid & m->mask);
}

/* Context-cache invalidation of granularity @gran (1, 2, 3). */
static void cc_invalidate(struct vtd *v, unsigned int gran, uint16_t did,
			  uint16_t sid, unsigned int fm)
{
	/* FM masks the low 1..3 bits of the function number */
	static const uint16_t fm_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	struct cc_match m = { gran, did, sid, fm_mask[fm & 3] };

	inc(&v->cc_invals);
	if (gran == VTD_CCMD_GLOBAL)
		iotlb_flush_all(&v->cc);
	else
		iotlb_flush_match(&v->cc, cc_matches, &m);
}

/*
 * The PDE cache goes with IOTLB invalidations (spec 6.5.1.2, 6.5.2.3):
 * global drops every entry, domain and page-selective ones the domain's.
 * A page-selective request with IH = 1 lets hardware keep them; this
 * unit drops them anyway (always allowed), and whole: a PDE may cover
 * more than the range, so a range match would be no cheaper to trust.
 */
static void pwc_invalidate(struct vtd *v, bool all, uint16_t did)
{
	if (!v->has_pwc)
		return;
	if (all)
		iotlb_flush_all(&v->pwc);
	else
		iotlb_flush_tag(&v->pwc, did);
}

/* IOTLB invalidation; returns the granularity done (0: refused). */
static unsigned int iotlb_invalidate(struct vtd *v, unsigned int gran,
				     uint16_t did, uint64_t addr,
				     unsigned int am)
{
	switch (gran) {
	case VTD_IOTLB_GLOBAL:
		iotlb_flush_all(&v->iotlb);
		pwc_invalidate(v, true, did);
		return gran;
	case VTD_IOTLB_PSI:
		pwc_invalidate(v, false, did);
		if (am <= VTD_MAMV) {
			iotlb_flush_range(&v->iotlb, did, addr, am);
			return gran;
		}
		/* a larger mask than advertised: a domain flush instead */
		iotlb_flush_tag(&v->iotlb, did);
		return VTD_IOTLB_DSI;
	case VTD_IOTLB_DSI:
		pwc_invalidate(v, false, did);
		iotlb_flush_tag(&v->iotlb, did);
		return gran;
	}
	return 0;
}

static void ccmd_write(struct vtd *v, uint64_t val)
{
	unsigned int gran = (unsigned int)VTD_CCMD_CIRG(val);

	v->ccmd = val & ~(VTD_CCMD_ICC | 3ULL << VTD_CCMD_CAIG_SHIFT);
	if (!(val & VTD_CCMD_ICC))
		return;
	if (gran)
		cc_invalidate(v, gran, VTD_CCMD_DID(val), VTD_CCMD_SID(val),
			      (unsigned int)VTD_CCMD_FM(val));
	v->ccmd |= (uint64_t)gran << VTD_CCMD_CAIG_SHIFT;
}

static void iotlb_reg_write(struct vtd *v, uint64_t val)
{
	unsigned int gran = (unsigned int)VTD_IOTLB_IIRG(val), done;

	v->iotlb_reg = val & ~(VTD_IOTLB_IVT | 3ULL << VTD_IOTLB_IAIG_SHIFT);
	if (!(val & VTD_IOTLB_IVT))
		return;
	done = iotlb_invalidate(v, gran, VTD_IOTLB_DID(val),
				v->iva & VTD_IVA_ADDR_MASK, VTD_IVA_AM(v->iva));
	v->iotlb_reg |= (uint64_t)done << VTD_IOTLB_IAIG_SHIFT;
}

/* ------------------------------------------------- invalidation queue */

static bool qi_cc(struct vtd *v, uint64_t lo, uint64_t hi)
{
	unsigned int g = VTD_QI_GRAN(lo);

	if (!g || (lo & VTD_QI_CC_LO_RSVD) || (hi & VTD_QI_CC_HI_RSVD))
		return false;
	cc_invalidate(v, g, VTD_QI_CC_DID(lo), VTD_QI_CC_SID(lo),
		      VTD_QI_CC_FM(lo));
	return true;
}

static bool qi_iotlb(struct vtd *v, uint64_t lo, uint64_t hi)
{
	unsigned int g = VTD_QI_GRAN(lo);

	if (!g || (lo & VTD_QI_IOTLB_LO_RSVD) || (hi & VTD_QI_IOTLB_HI_RSVD))
		return false;
	/* drains (DR/DW) are immediate: accesses here complete in order */
	iotlb_invalidate(v, g, VTD_QI_IOTLB_DID(lo), VTD_QI_IOTLB_ADDR(hi),
			 VTD_QI_IOTLB_AM(hi));
	return true;
}

/* A device-TLB invalidation: accepted and counted. A device's ATS
 * cache is the device's own; no model here keeps one, so there is
 * nothing to invalidate and the completion is at once. */
static bool qi_devtlb(struct vtd *v, uint64_t lo, uint64_t hi)
{
	if ((lo & VTD_QI_DEVTLB_LO_RSVD) || (hi & VTD_QI_DEVTLB_HI_RSVD))
		return false;
	inc(&v->devtlb_invals);
	return true;
}

static void ie_event(struct vtd *v, struct vtd_msi *msi)
{
	if (v->ics & VTD_ICS_IWC)
		return;
	v->ics |= VTD_ICS_IWC;
	if (v->iectl & VTD_FECTL_IM) {
		v->iectl |= VTD_FECTL_IP;
		return;
	}
	msi->send = true;
	msi->addr = (uint64_t)v->ieuaddr << 32 | (v->ieaddr & ~3u);
	msi->data = v->iedata;
}

static bool qi_wait(struct vtd *v, uint64_t lo, uint64_t hi,
		    struct vtd_msi *ie)
{
	uint32_t data = VTD_QI_WAIT_DATA(lo);

	if ((lo & VTD_QI_WAIT_LO_RSVD) || (hi & VTD_QI_WAIT_HI_RSVD))
		return false;
	if ((lo & VTD_QI_WAIT_SW) && !status_write(v, VTD_QI_WAIT_ADDR(hi), data))
		return false;
	if (lo & VTD_QI_WAIT_IF)
		ie_event(v, ie);
	return true;
}

static bool qi_one(struct vtd *v, uint64_t lo, uint64_t hi,
		   struct vtd_msi *ie)
{
	switch (VTD_QI_TYPE(lo)) {
	case VTD_QI_CC:
		return qi_cc(v, lo, hi);
	case VTD_QI_IOTLB:
		return qi_iotlb(v, lo, hi);
	case VTD_QI_WAIT:
		return qi_wait(v, lo, hi, ie);
	case VTD_QI_DEV_IOTLB:
		return qi_devtlb(v, lo, hi);
	}
	return false; /* IEC, PASID types: not supported */
}

/* Run the queue from head to tail (under the lock). A descriptor that
 * cannot be fetched or executed stops it with IQE, head on it. */
static void qi_run(struct vtd *v, struct vtd_msi *fe, struct vtd_msi *ie)
{
	unsigned int n = VTD_IQ_ENTRIES(VTD_IQA_QS(v->iqa));
	uint64_t head = (v->iqh & VTD_IQ_OFFSET_MASK) >> VTD_IQ_INDEX_SHIFT;
	uint64_t tail = (v->iqt & VTD_IQ_OFFSET_MASK) >> VTD_IQ_INDEX_SHIFT;
	uint64_t base = v->iqa & VTD_IQA_ADDR_MASK, lo, hi;

	if (!(atomic_load(&v->gsts) & VTD_GSTS_QIES) ||
	    (v->fsts & VTD_FSTS_IQE) || head == tail)
		return;
	if ((v->iqa & VTD_IQA_DW) || tail >= n || head >= n)
		goto error;
	while (head != tail) {
		if (!ram_load128(v, base + head * 16, &lo, &hi) ||
		    !qi_one(v, lo, hi, ie))
			goto error;
		inc(&v->qi_descs);
		head = (head + 1) % n;
		v->iqh = head << VTD_IQ_INDEX_SHIFT;
	}
	return;
error:
	inc(&v->qi_errors);
	fault_event(v, VTD_FSTS_IQE, fe);
}

/* --------------------------------------------------------- registers */

static bool is_frcd(const struct vtd *v, uint64_t off, unsigned int *i)
{
	if (off < VTD_FRO_OFFSET ||
	    off >= VTD_FRO_OFFSET + (uint64_t)v->p.nfr * VTD_FRCD_LEN)
		return false;
	*i = (unsigned int)((off - VTD_FRO_OFFSET) / VTD_FRCD_LEN);
	return true;
}

/* A 64-bit register at @off (8-aligned) or false. */
static bool read64(struct vtd *v, uint64_t off, uint64_t *val)
{
	unsigned int i;

	switch (off) {
	case DMAR_CAP_REG: *val = v->cap; return true;
	case DMAR_ECAP_REG: *val = v->ecap; return true;
	case DMAR_RTADDR_REG: *val = v->rtaddr; return true;
	case DMAR_CCMD_REG: *val = v->ccmd; return true;
	case DMAR_IQH_REG: *val = v->iqh; return true;
	case DMAR_IQT_REG: *val = v->iqt; return true;
	case DMAR_IQA_REG: *val = v->iqa; return true;
	case DMAR_AFLOG_REG: *val = 0; return true;
	case VTD_IRO_OFFSET + DMAR_IVA_OFFSET: *val = v->iva; return true;
	case VTD_IRO_OFFSET + DMAR_IOTLB_OFFSET: *val = v->iotlb_reg; return true;
	}
	if (!is_frcd(v, off, &i))
		return false;
	*val = off & 8 ? v->frcd[i].hi : v->frcd[i].lo;
	return true;
}

static uint32_t read32(struct vtd *v, uint64_t off)
{
	uint64_t q;

	if (read64(v, off & ~7ULL, &q))
		return (uint32_t)(q >> (off & 4 ? 32 : 0));
	switch (off) {
	case DMAR_VER_REG: return VTD_VERSION;
	case DMAR_GSTS_REG: return atomic_load(&v->gsts);
	case DMAR_FSTS_REG: return v->fsts;
	case DMAR_FECTL_REG: return v->fectl;
	case DMAR_FEDATA_REG: return v->fedata;
	case DMAR_FEADDR_REG: return v->feaddr;
	case DMAR_FEUADDR_REG: return v->feuaddr;
	case DMAR_ICS_REG: return v->ics;
	case DMAR_IECTL_REG: return v->iectl;
	case DMAR_IEDATA_REG: return v->iedata;
	case DMAR_IEADDR_REG: return v->ieaddr;
	case DMAR_IEUADDR_REG: return v->ieuaddr;
	}
	return 0; /* GCMD is write-only; reserved space reads 0 */
}

static uint64_t vtd_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct vtd *v = opaque;
	uint64_t val;

	pthread_mutex_lock(&v->lock);
	val = read32(v, off & ~3ULL);
	if (size == 8)
		val |= (uint64_t)read32(v, off + 4) << 32;
	else if (size < 4)
		val = (val >> (8 * (off & 3))) & ((1ULL << (8 * size)) - 1);
	pthread_mutex_unlock(&v->lock);
	return val;
}

static void gcmd_write(struct vtd *v, uint32_t cmd)
{
	uint32_t sts = atomic_load(&v->gsts);

	sts = (cmd & VTD_GCMD_TE) ? sts | VTD_GSTS_TES : sts & ~VTD_GSTS_TES;
	if (cmd & VTD_GCMD_SRTP) {
		atomic_store_explicit(&v->rta, v->rtaddr, memory_order_release);
		sts |= VTD_GSTS_RTPS;
	}
	if ((cmd & VTD_GCMD_QIE) != (sts & VTD_GSTS_QIES)) {
		sts ^= VTD_GSTS_QIES;
		v->iqh = 0;
	}
	/* WBF completes at once (CAP.RWBF = 0); SFL, EAFL, IRE, SIRTP and
	 * CFI name features this unit does not have */
	atomic_store_explicit(&v->gsts, sts, memory_order_release);
}

static void frcd_write(struct vtd *v, unsigned int i, uint64_t hi)
{
	if (!(hi & VTD_FRCD_F) || !(v->frcd[i].hi & VTD_FRCD_F))
		return;
	v->frcd[i].hi &= ~VTD_FRCD_F;
	recompute_ppf(v);
	status_cleared(v);
}

/* A write of the halves @halves (bit 0 low, bit 1 high) of a 64-bit
 * register; @val holds the whole new value. False if none is there. */
static bool write64(struct vtd *v, uint64_t off, uint64_t val,
		    unsigned int halves, struct vtd_msi *fe, struct vtd_msi *ie)
{
	unsigned int i;

	switch (off) {
	case DMAR_RTADDR_REG: v->rtaddr = val; return true;
	case DMAR_CCMD_REG:
		if (halves & 2)
			ccmd_write(v, val);
		else
			v->ccmd = val;
		return true;
	case DMAR_IQT_REG:
		v->iqt = val & VTD_IQ_OFFSET_MASK;
		qi_run(v, fe, ie);
		return true;
	case DMAR_IQA_REG: v->iqa = val & ~0x7f8ULL; return true;
	case VTD_IRO_OFFSET + DMAR_IVA_OFFSET: v->iva = val; return true;
	case VTD_IRO_OFFSET + DMAR_IOTLB_OFFSET:
		if (halves & 2)
			iotlb_reg_write(v, val);
		else
			v->iotlb_reg = val;
		return true;
	}
	if (!is_frcd(v, off, &i))
		return read64(v, off, &val); /* read-only: ignored */
	if ((off & 8) && (halves & 2))
		frcd_write(v, i, val);
	return true;
}

static void fsts_write(struct vtd *v, uint32_t val, struct vtd_msi *fe,
		       struct vtd_msi *ie)
{
	bool iqe = v->fsts & VTD_FSTS_IQE;

	v->fsts &= ~(val & VTD_FSTS_W1C);
	status_cleared(v);
	if (iqe && !(v->fsts & VTD_FSTS_IQE))
		qi_run(v, fe, ie); /* the queue resumes from its head */
}

/* Unmasking delivers a held event (FECTL and IECTL alike). */
static void ctl_write(uint32_t *ctl, uint32_t val, uint64_t addr,
		      uint32_t data, struct vtd_msi *msi)
{
	*ctl = (*ctl & VTD_FECTL_IP) | (val & VTD_FECTL_IM);
	if ((*ctl & VTD_FECTL_IP) && !(*ctl & VTD_FECTL_IM)) {
		*ctl &= ~VTD_FECTL_IP;
		msi->send = true;
		msi->addr = addr;
		msi->data = data;
	}
}

static void write32(struct vtd *v, uint64_t off, uint32_t val,
		    struct vtd_msi *fe, struct vtd_msi *ie)
{
	switch (off) {
	case DMAR_GCMD_REG: gcmd_write(v, val); break;
	case DMAR_FSTS_REG: fsts_write(v, val, fe, ie); break;
	case DMAR_FECTL_REG:
		ctl_write(&v->fectl, val,
			  (uint64_t)v->feuaddr << 32 | (v->feaddr & ~3u),
			  v->fedata, fe);
		break;
	case DMAR_FEDATA_REG: v->fedata = val; break;
	case DMAR_FEADDR_REG: v->feaddr = val & ~3u; break;
	case DMAR_FEUADDR_REG: v->feuaddr = val; break;
	case DMAR_ICS_REG:
		v->ics &= ~(val & VTD_ICS_IWC);
		if (!v->ics)
			v->iectl &= ~VTD_FECTL_IP;
		break;
	case DMAR_IECTL_REG:
		ctl_write(&v->iectl, val,
			  (uint64_t)v->ieuaddr << 32 | (v->ieaddr & ~3u),
			  v->iedata, ie);
		break;
	case DMAR_IEDATA_REG: v->iedata = val; break;
	case DMAR_IEADDR_REG: v->ieaddr = val & ~3u; break;
	case DMAR_IEUADDR_REG: v->ieuaddr = val; break;
	}
}

/* One 4-byte write: a 32-bit register or half of a 64-bit one. */
static void write_dword(struct vtd *v, uint64_t off, uint32_t val,
			struct vtd_msi *fe, struct vtd_msi *ie)
{
	uint64_t q, base = off & ~7ULL;
	bool high = off & 4;

	if (!read64(v, base, &q)) {
		write32(v, off, val, fe, ie);
		return;
	}
	q = high ? (q & 0xffffffffULL) | (uint64_t)val << 32
		 : (q & ~0xffffffffULL) | val;
	write64(v, base, q, high ? 2 : 1, fe, ie);
}

static void vtd_mmio_write(void *opaque, uint64_t off, uint64_t val,
			   unsigned int size)
{
	struct vtd *v = opaque;
	struct vtd_msi fe = { 0 }, ie = { 0 };
	uint64_t q;

	if (size < 4)
		return; /* registers take 4- and 8-byte accesses only */
	pthread_mutex_lock(&v->lock);
	if (size == 8 && read64(v, off, &q)) {
		write64(v, off, val, 3, &fe, &ie);
	} else {
		write_dword(v, off, (uint32_t)val, &fe, &ie);
		if (size == 8)
			write_dword(v, off + 4, (uint32_t)(val >> 32), &fe, &ie);
	}
	pthread_mutex_unlock(&v->lock);
	send_msi(v, &fe, &v->fault_events);
	send_msi(v, &ie, NULL);
}

static const struct mmio_ops vtd_mmio_ops = {
	.read = vtd_mmio_read,
	.write = vtd_mmio_write,
};

/* ------------------------------------------------------- life cycle */

void vtd_params_init(struct vtd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->iotlb_entries = IOTLB_DEFAULT_ENTRIES;
	p->repl = IOTLB_REPL_LRU;
	p->seed = 1;
	p->nfr = VTD_NFR_DEFAULT;
	p->superpages = true;
	p->agaw_levels_supported = VTD_LEVELS_3 | VTD_LEVELS_4;
	p->cc_entries = VTD_CC_DEFAULT;
	p->pwc_entries = VTD_PWC_DEFAULT;
}

static uint64_t make_cap(const struct vtd_params *p, unsigned int mgaw)
{
	uint64_t sagaw = 0, sllps = 0;

	if (p->agaw_levels_supported & VTD_LEVELS_3)
		sagaw |= VTD_SAGAW_39;
	if (p->agaw_levels_supported & VTD_LEVELS_4)
		sagaw |= VTD_SAGAW_48;
	if (p->superpages)
		sllps = VTD_SLLPS_2M | VTD_SLLPS_1G;
	return VTD_ND | sagaw << 8 | (uint64_t)(mgaw - 1) << 16 | VTD_CAP_ZLR |
	       (uint64_t)(VTD_FRO_OFFSET / 16) << 24 | sllps << 34 |
	       VTD_CAP_PSI | (uint64_t)(p->nfr - 1) << 40 |
	       (uint64_t)VTD_MAMV << 48 | VTD_CAP_DWD | VTD_CAP_DRD;
}

static int check_params(const struct vtd_params *p)
{
	unsigned int lv = p->agaw_levels_supported;

	if (!p->nfr || p->nfr > VTD_NFR_MAX || !lv ||
	    (lv & ~(VTD_LEVELS_3 | VTD_LEVELS_4)))
		return -EINVAL;
	return 0;
}

static uint32_t regs_size(unsigned int nfr)
{
	uint32_t need = VTD_FRO_OFFSET + nfr * VTD_FRCD_LEN, size = VTD_MIN_REGS;

	while (size < need)
		size <<= 1;
	return size;
}

static int init_caches(struct vtd *v)
{
	struct iotlb_unit_caches g = { .dev_entries = v->p.cc_entries,
				       .pwc_entries = v->p.pwc_entries };
	int ret;

	iotlb_params_init(&g.tlb);
	g.tlb.entries = v->p.iotlb_entries;
	g.tlb.ways = v->p.iotlb_ways;
	g.tlb.repl = v->p.repl;
	g.tlb.seed = v->p.seed;
	ret = iotlb_unit_caches_init(&g, &v->iotlb, &v->cc, &v->pwc);
	v->has_pwc = !ret && g.pwc_entries;
	return ret;
}

static void setup(struct vtd *v, struct machine *m, uint64_t reg_base)
{
	v->m = m;
	v->reg_base = reg_base;
	v->mgaw = (v->p.agaw_levels_supported & VTD_LEVELS_4) ? 48 : 39;
	v->cap = make_cap(&v->p, v->mgaw);
	v->ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_DT | VTD_ECAP_PT |
		  (uint64_t)(VTD_IRO_OFFSET / 16) << 8;
	v->size_mask = v->p.superpages ? 7 : 1;
	v->fectl = VTD_FECTL_IM; /* reset value: masked */
	v->iectl = VTD_FECTL_IM;
	v->unit.ops = &vtd_ops;
	v->unit.priv = v;
	snprintf(v->unit.name, sizeof(v->unit.name), "dmar%u", v->p.index % 1000);
	pthread_mutex_init(&v->lock, NULL);
}

int vtd_create(struct machine *m, uint64_t reg_base,
	       const struct vtd_params *p, struct iommu_unit **out)
{
	struct vtd *v;
	int ret;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (p)
		v->p = *p;
	else
		vtd_params_init(&v->p);
	ret = check_params(&v->p);
	if (ret)
		goto err_free;
	v->frcd = calloc(v->p.nfr, sizeof(*v->frcd));
	ret = -ENOMEM;
	if (!v->frcd)
		goto err_free;
	ret = init_caches(v);
	if (ret)
		goto err_free;
	v->reg_size = regs_size(v->p.nfr);
	v->regs = mmio_region_create_ops(&vtd_mmio_ops, v, v->reg_size,
					 reg_base);
	ret = -ENOMEM;
	if (!v->regs)
		goto err_caches;
	setup(v, m, reg_base);
	*out = &v->unit;
	return 0;
err_caches:
	iotlb_unit_caches_destroy(&v->iotlb, &v->cc, &v->pwc);
err_free:
	free(v->frcd);
	free(v);
	return ret;
}

void vtd_destroy(struct iommu_unit *u)
{
	struct vtd *v;

	if (!u)
		return;
	v = to_vtd(u);
	mmio_region_destroy(v->regs);
	iotlb_unit_caches_destroy(&v->iotlb, &v->cc, &v->pwc);
	for (unsigned int i = 0; i < 256; i++)
		free(atomic_load(&v->bus[i]));
	pthread_mutex_destroy(&v->lock);
	free(v->frcd);
	free(v);
}

struct mmio_region *vtd_regs(struct iommu_unit *u)
{
	return to_vtd(u)->regs;
}

uint64_t vtd_reg_base(struct iommu_unit *u)
{
	return to_vtd(u)->reg_base;
}

uint32_t vtd_reg_size(struct iommu_unit *u)
{
	return to_vtd(u)->reg_size;
}

bool vtd_is_unit(const struct iommu_unit *u)
{
	return u && u->ops == &vtd_ops;
}

static uint64_t load(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void vtd_get_stats(struct iommu_unit *u, struct vtd_stats *s)
{
	struct vtd *v = to_vtd(u);
	struct iotlb_stats t, c, w = { 0 };

	iotlb_get_stats(&v->iotlb, &t);
	iotlb_get_stats(&v->cc, &c);
	if (v->has_pwc)
		iotlb_get_stats(&v->pwc, &w);
	memset(s, 0, sizeof(*s));
	s->pwc_hits = load(&v->pwc_hits);
	s->pwc_misses = load(&v->pwc_misses);
	s->pwc_inval_entries = w.inval_entries;
	s->pwc_valid = w.valid;
	s->hits = t.hits;
	s->misses = t.misses;
	s->walks = load(&v->walks);
	s->evictions = t.evictions;
	s->faults = load(&v->faults);
	s->faults_recorded = load(&v->faults_recorded);
	s->faults_lost = load(&v->faults_lost);
	s->faults_suppressed = load(&v->faults_suppressed);
	s->fault_events = load(&v->fault_events);
	s->iotlb_invalidations = t.inval_cmds;
	s->iotlb_inval_entries = t.inval_entries;
	s->cc_invalidations = load(&v->cc_invals);
	s->cc_hits = c.hits;
	s->cc_misses = c.misses;
	s->qi_descriptors = load(&v->qi_descs);
	s->qi_errors = load(&v->qi_errors);
	s->translated = load(&v->translated);
	s->translation_requests = load(&v->translation_reqs);
	s->devtlb_invalidations = load(&v->devtlb_invals);
	s->iotlb_valid = t.valid;
}

void vtd_get_sid_stats(struct iommu_unit *u, uint16_t sid,
		       struct vtd_sid_stats *s)
{
	struct vtd_sid_counters *c = sid_counters(to_vtd(u), sid, false);

	memset(s, 0, sizeof(*s));
	if (!c)
		return;
	s->hits = load(&c->hits) + sid_pending_hits(to_vtd(u), sid);
	s->misses = load(&c->misses);
	s->walks = load(&c->walks);
	s->faults = load(&c->faults);
}

static const struct iommu_unit_ops vtd_ops = {
	.translate = vtd_translate,
	.translated = vtd_translated,
	.ats_translate = vtd_ats_translate,
	.destroy = vtd_destroy,
};
