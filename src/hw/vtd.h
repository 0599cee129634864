/*
 * An Intel VT-d DMA remapping hardware unit (a DRHD): its register block,
 * the walk of the root, context and second-level tables the kernel
 * writes in RAM, an IOTLB and a context cache, register-based and queued
 * invalidation, and primary fault logging with the fault event interrupt.
 * The register and table formats are in include/dmasim/hw/vtd.h; what the
 * model covers and leaves out is in docs/iommu.md ("VT-d hardware").
 *
 * The unit is hardware: it sees its registers, RAM (the device view) and
 * the MSI address space. It never calls the kernel; it reports faults in
 * its fault recording registers and by an MSI to FEADDR/FEDATA.
 *
 * Wiring (done by the machine, not here): create the unit, put its
 * register window where the kernel finds it (ACPI DMAR's DRHD base
 * @reg_base; the kernel accesses mmio_window(vtd_regs(u))), and point
 * the functions it covers at it (fn->iommu = u).
 */
#ifndef DMASIM_HW_VTD_H
#define DMASIM_HW_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "dmasim/hw/vtd.h"
#include "hw/iommu.h"
#include "hw/iotlb.h"

struct machine;
struct mmio_region;

#define VTD_NFR_DEFAULT		8
#define VTD_NFR_MAX		256
#define VTD_CC_DEFAULT		64	/* context-cache entries */
#define VTD_PWC_DEFAULT		16	/* paging-structure (PDE) cache entries */
#define VTD_LEVELS_3		(1u << 3)	/* 39-bit, 3-level tables */
#define VTD_LEVELS_4		(1u << 4)	/* 48-bit, 4-level tables */

struct vtd_params {
	unsigned int iotlb_entries;	/* power of two; default 64 */
	unsigned int iotlb_ways;	/* 0: fully associative (default) */
	enum iotlb_repl repl;		/* LRU (default) or random */
	uint64_t seed;			/* random replacement */
	unsigned int nfr;		/* fault recording registers, 1..256 */
	bool superpages;		/* SLLPS: 2 MiB and 1 GiB pages */
	unsigned int agaw_levels_supported; /* VTD_LEVELS_3 | VTD_LEVELS_4 */
	unsigned int cc_entries;	/* context cache; power of two */
	unsigned int pwc_entries;	/* PDE cache; power of two, 0: none */
	unsigned int index;		/* the unit is named "dmar<index>" */
};

/* What the unit counted since it was created. */
struct vtd_stats {
	uint64_t hits, misses;		/* IOTLB lookups (translated contexts) */
	uint64_t walks;			/* second-level page walks */
	uint64_t pwc_hits;		/* walks that began at a cached PDE */
	uint64_t pwc_misses;		/* walks from the top (PDE cache on) */
	uint64_t pwc_inval_entries;	/* PDE-cache entries invalidated */
	unsigned int pwc_valid;		/* PDE-cache entries valid now */
	uint64_t evictions;		/* IOTLB entries pushed out by fills */
	uint64_t faults;		/* translation faults (accesses refused) */
	uint64_t faults_recorded;	/* written to a fault record */
	uint64_t faults_lost;		/* not recorded: overflow (PFO) */
	uint64_t faults_suppressed;	/* not recorded: context's FPD */
	uint64_t fault_events;		/* fault event MSIs sent */
	uint64_t iotlb_invalidations;	/* IOTLB invalidation requests */
	uint64_t iotlb_inval_entries;	/* entries they removed */
	uint64_t cc_invalidations;	/* context-cache invalidations */
	uint64_t cc_hits, cc_misses;	/* context cache */
	uint64_t qi_descriptors;	/* queued descriptors executed */
	uint64_t qi_errors;		/* IQE raised */
	uint64_t translated;		/* ATS translated requests let through */
	uint64_t translation_requests;	/* ATS translation requests */
	uint64_t devtlb_invalidations;	/* device-TLB descriptors (no-ops) */
	unsigned int iotlb_valid;	/* IOTLB entries valid now */
};

/* Per source id (requester id: bus << 8 | devfn). */
struct vtd_sid_stats {
	uint64_t hits, misses, walks, faults;
};

/* Fill @p with the defaults: 64-entry fully associative LRU IOTLB, 8
 * fault records, superpages on, 3- and 4-level tables. */
void vtd_params_init(struct vtd_params *p);

/*
 * A unit of machine @m whose registers sit at physical @reg_base, with
 * @p (NULL: defaults). Translation is off until the kernel sets TE.
 * Returns 0, -EINVAL (bad parameters) or -ENOMEM.
 */
int vtd_create(struct machine *m, uint64_t reg_base,
	       const struct vtd_params *p, struct iommu_unit **out);
void vtd_destroy(struct iommu_unit *u);

/* The register window (mmio_window() of it is what ioremap returns). */
struct mmio_region *vtd_regs(struct iommu_unit *u);
uint64_t vtd_reg_base(struct iommu_unit *u);
/* Bytes the register block spans (a power of two, >= 4 KiB). */
uint32_t vtd_reg_size(struct iommu_unit *u);

void vtd_get_stats(struct iommu_unit *u, struct vtd_stats *s);
void vtd_get_sid_stats(struct iommu_unit *u, uint16_t sid,
		       struct vtd_sid_stats *s);

/* Is @u a VT-d unit? */
bool vtd_is_unit(const struct iommu_unit *u);

#endif
