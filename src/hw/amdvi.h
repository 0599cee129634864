/*
 * An AMD-Vi IOMMU (what ACPI's IVRS calls an IVHD): its MMIO register
 * block, the walk of the device table and the I/O page tables the kernel
 * writes in RAM, an IOTLB (hw/iotlb.c, tagged by domain id) and a device
 * table cache, the command buffer the kernel fills in RAM, and the event
 * log ring the unit fills in RAM, with the event interrupt. The formats
 * are in include/dmasim/hw/amdvi.h; what the model covers and leaves out
 * is in docs/iommu.md ("AMD-Vi hardware").
 *
 * The unit is hardware: it sees its registers, RAM (the device view) and
 * the MSI address space. It never calls the kernel; it reports events in
 * the event log and by an MSI to the address/data of its MSI capability.
 *
 * Wiring (done by the machine, not here): create the unit, put its
 * register block where the kernel finds it (IVHD base @reg_base; the
 * kernel accesses mmio_window(amdvi_regs(u))), and point the functions
 * it covers at it (fn->iommu = u).
 */
#ifndef DMASIM_HW_AMDVI_H
#define DMASIM_HW_AMDVI_H

#include <stdbool.h>
#include <stdint.h>

#include "dmasim/hw/amdvi.h"
#include "hw/iommu.h"
#include "hw/iotlb.h"

struct machine;
struct mmio_region;

#define AMDVI_DTC_DEFAULT	64	/* device table cache entries */
#define AMDVI_PWC_DEFAULT	16	/* page directory cache entries */

struct amdvi_params {
	unsigned int iotlb_entries;	/* power of two; default 64 */
	unsigned int iotlb_ways;	/* 0: fully associative (default) */
	enum iotlb_repl repl;		/* LRU (default) or random */
	uint64_t seed;			/* random replacement */
	unsigned int max_levels;	/* 4, 5 or 6 (EFR.HATS); default 6 */
	unsigned int dtc_entries;	/* device table cache; power of two */
	unsigned int pwc_entries;	/* page directory cache; 0: none */
	unsigned int index;		/* the unit is named "ivhd<index>" */
};

/* What the unit counted since it was created. */
struct amdvi_stats {
	uint64_t hits, misses;		/* IOTLB lookups (paged domains) */
	uint64_t walks;			/* I/O page table walks */
	uint64_t pwc_hits;		/* walks that began at a cached PDE */
	uint64_t pwc_misses;		/* walks from the root (cache on) */
	uint64_t pwc_inval_entries;	/* page directory entries invalidated */
	unsigned int pwc_valid;		/* page directory entries valid now */
	uint64_t evictions;		/* IOTLB entries pushed out by fills */
	uint64_t faults;		/* accesses refused (target abort) */
	uint64_t faults_suppressed;	/* page faults not logged: SE/SA */
	uint64_t events_written;	/* entries written to the event log */
	uint64_t events_lost;		/* log full (overflow) or not running */
	uint64_t event_interrupts;	/* MSIs sent */
	uint64_t iotlb_invalidations;	/* IOTLB invalidation requests */
	uint64_t iotlb_inval_entries;	/* entries they removed */
	uint64_t dte_invalidations;	/* device table cache invalidations */
	uint64_t dtc_hits, dtc_misses;	/* device table cache */
	uint64_t commands;		/* commands executed */
	uint64_t command_errors;	/* commands that stopped the buffer */
	uint64_t translated;		/* ATS translated requests let through */
	uint64_t translation_requests;	/* ATS translation requests */
	uint64_t iotlb_pages_commands;	/* INVALIDATE_IOTLB_PAGES (no-ops) */
	unsigned int iotlb_valid;	/* IOTLB entries valid now */
};

/* Fill @p with the defaults: 64-entry fully associative LRU IOTLB,
 * 6-level tables, a 64-entry device table cache. */
void amdvi_params_init(struct amdvi_params *p);

/*
 * A unit of machine @m whose registers sit at physical @reg_base, with
 * @p (NULL: defaults). Translation is off until the kernel sets
 * IommuEn. Returns 0, -EINVAL (bad parameters) or -ENOMEM.
 */
int amdvi_create(struct machine *m, uint64_t reg_base,
		 const struct amdvi_params *p, struct iommu_unit **out);
void amdvi_destroy(struct iommu_unit *u);

/* The register block (mmio_window() of it is what ioremap returns). */
struct mmio_region *amdvi_regs(struct iommu_unit *u);
uint64_t amdvi_reg_base(struct iommu_unit *u);

void amdvi_get_stats(struct iommu_unit *u, struct amdvi_stats *s);

/* Is @u an AMD-Vi unit? */
bool amdvi_is_unit(const struct iommu_unit *u);

#endif
