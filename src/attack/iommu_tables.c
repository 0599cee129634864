/*
 * The IOMMU's own structures as a target: the pages that decide what
 * the device may reach. They are found the way the unit finds them, by
 * walking from the kernel's root pointer through RAM in the formats of
 * the specifications (include/dmasim/hw/vtd.h, amdvi.h): on VT-d the
 * root table (what RTADDR points at), the context table of the device's
 * bus and the second-level tables for one IOVA; on AMD-Vi the device
 * table entry and the I/O page tables. A device that can write any of
 * them can map anything; the attacks try.
 */
#include "attack/attack.h"

#include <string.h>

#include "dmasim/hw/amdvi.h"
#include "dmasim/hw/vtd.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/intel.h"
#include "kernel/machine.h"

static const char *const level_names[] = {
	"", "page table, level 1", "page table, level 2",
	"page table, level 3", "page table, level 4", "page table, level 5",
	"page table, level 6",
};

static uint64_t rd64(struct machine *m, uint64_t phys)
{
	uint64_t v = 0;

	if (ram_contains(&m->ram, phys, sizeof(v)))
		memcpy(&v, m->ram.cpu + phys, sizeof(v));
	return v;
}

static size_t put(struct atk_table *t, size_t n, size_t max, const char *what,
		  uint64_t entry, unsigned int len)
{
	if (n < max)
		t[n] = (struct atk_table){ what, entry & ~0xfffULL, entry, len };
	return n + 1;
}

static uint16_t requester_id(const struct atk_ctx *c)
{
	return (uint16_t)(c->fn->bus << 8 | c->fn->devfn);
}

static size_t vtd_tables(struct atk_ctx *c, struct intel_iommu *iu,
			 uint64_t iova, struct atk_table *t, size_t max)
{
	uint16_t sid = requester_id(c);
	uint64_t re = iu->root + (uint64_t)(sid >> 8) * 16, ce, lo, hi, tbl;
	size_t n = put(t, 0, max, "VT-d root table", re, 16);
	unsigned int levels;

	if (!(rd64(c->m, re) & VTD_ROOT_P))
		return n;
	ce = (rd64(c->m, re) & VTD_ROOT_CTP_MASK) + (uint64_t)(sid & 0xff) * 16;
	n = put(t, n, max, "VT-d context table", ce, 16);
	lo = rd64(c->m, ce);
	hi = rd64(c->m, ce + 8);
	if (!(lo & VTD_CTX_P) || VTD_CTX_TT(lo) == VTD_TT_PASS_THROUGH)
		return n; /* multi-level tables, with or without device-TLBs */
	tbl = lo & VTD_CTX_SLPTPTR_MASK;
	levels = VTD_AGAW_LEVELS(VTD_CTX_AW(hi));
	for (unsigned int l = levels; l >= 1 && l <= 6; l--) {
		uint64_t e = tbl + VTD_PTE_INDEX(iova, l) * 8, pte = rd64(c->m, e);

		n = put(t, n, max, level_names[l], e, 8);
		if (!(pte & (VTD_PTE_R | VTD_PTE_W)) || (l > 1 && (pte & VTD_PTE_PS)))
			break;
		tbl = pte & VTD_PTE_ADDR_MASK;
	}
	return n;
}

static size_t amd_tables(struct atk_ctx *c, struct amd_iommu *iu,
			 uint64_t iova, struct atk_table *t, size_t max)
{
	uint64_t dte = iu->dev_table + (uint64_t)requester_id(c) * AMDVI_DTE_SIZE;
	uint64_t q0 = rd64(c->m, dte), tbl = q0 & AMDVI_DTE_PT_ROOT_MASK;
	size_t n = put(t, 0, max, "AMD-Vi device table", dte, AMDVI_DTE_SIZE);
	unsigned int l = AMDVI_DTE_MODE(q0);

	if (!(q0 & AMDVI_DTE_TV))
		return n;
	while (l >= 1 && l <= 6) {
		uint64_t e = tbl + AMDVI_PTE_INDEX(iova, l) * 8, pte = rd64(c->m, e);
		unsigned int next = AMDVI_PTE_NEXT(pte);

		n = put(t, n, max, level_names[l], e, 8);
		if (!(pte & AMDVI_PTE_PR) || next == AMDVI_NEXT_LEAF ||
		    next == AMDVI_NEXT_SIZED || next >= l)
			break;
		tbl = pte & AMDVI_PTE_ADDR_MASK;
		l = next;
	}
	return n;
}

size_t atk_iommu_tables(struct atk_ctx *c, uint64_t iova, struct atk_table *t,
			size_t max)
{
	struct intel_iommu *vtd = intel_iommu_of(c->m);
	struct amd_iommu *amd = amd_iommu_of(c->m);
	size_t n = 0;

	if (vtd && vtd->root)
		n = vtd_tables(c, vtd, iova, t, max);
	else if (amd && amd->dev_table)
		n = amd_tables(c, amd, iova, t, max);
	return n < max ? n : max;
}
