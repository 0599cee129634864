/*
 * The intel-iommu driver (drivers/iommu/intel/ in Linux 6.1, legacy
 * mode): it finds the DMA remapping unit the firmware's DMAR table
 * describes, writes the root and context tables and second-level page
 * tables into RAM, invalidates through the queued-invalidation interface,
 * turns translation on, and prints the unit's fault records as Linux
 * does. intel.c: the unit, boot and faults; intel_domain.c: domains.
 * ATS as 6.1 has it: a trusted device with the ATS capability below a
 * root port an ATSR lists, on a unit with ECAP.DT, gets context entries
 * with TT = 01b in translated domains and ATS enabled on attach.
 */
#ifndef DMASIM_KERNEL_IOMMU_INTEL_H
#define DMASIM_KERNEL_IOMMU_INTEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/linux/iommu.h"
#include "kernel/printk.h"

#define DMAR_REG_BASE 0xfed90000ULL
#define DMAR_QI_PAGES 1 /* 256 descriptors */

struct machine;
struct pci_dev;

struct intel_iommu {
	struct machine *m;
	void *reg;			/* ioremap of the register block */
	uint64_t reg_base;
	uint64_t cap, ecap;
	uint32_t gcmd;			/* what we have set in GCMD */
	int agaw;			/* 2: 48-bit, 4-level tables */
	uint64_t root;			/* root table (phys) */
	uint64_t ctx[256];		/* context table per bus (phys) */
	uint64_t qi;			/* invalidation queue (phys) */
	unsigned int qi_tail;
	uint64_t qi_status;		/* wait descriptor status word (phys) */
	uint32_t qi_seq;
	pthread_mutex_t lock;		/* tables and the queue */
	unsigned long did_next;		/* domain ids handed out */
	unsigned int domains_live;	/* under @lock: domains not yet freed */
	int irq;			/* the fault event interrupt */
	struct ratelimit fault_rs;
	struct iommu_device iommu;
	bool sp_off;
};

/* intel_iommu= (a comma list): on, off, sp_off, strict (deprecated). */
int intel_iommu_setup(struct machine *m, const char *val);
/* ACPI DMAR parsing: the unit's lines, before PCI is scanned. */
void intel_dmar_table_init(struct machine *m);
/* intel_iommu_init: tables, queued invalidation, groups and default
 * domains for every PCI function, translation on. 0 or -errno. */
int intel_iommu_init(struct machine *m);
void intel_iommu_exit(struct machine *m);

/* Queued invalidation, used by the domains. */
void qi_flush_context(struct intel_iommu *iu, uint16_t did, uint16_t sid);
void qi_flush_iotlb(struct intel_iommu *iu, uint16_t did, uint64_t addr,
		    unsigned int am, int granularity);
extern const struct iommu_ops intel_iommu_ops;
/* The unit behind the calling thread's machine's driver. */
struct intel_iommu *intel_iommu_of(struct machine *m);
/* Write the context entry for @sid with translation type @tt
 * (VTD_TT_*): @pgd's tables (multi-level, or with device-TLBs) or
 * pass-through. */
int intel_context_set(struct intel_iommu *iu, uint16_t sid, uint16_t did,
		      uint64_t pgd, unsigned int tt);
/* Device-TLB invalidation of 2^@am pages at @addr for @sid (queued). */
void qi_flush_dev_iotlb(struct intel_iommu *iu, uint16_t sid, uint64_t addr,
			unsigned int am);
/* dmar_ats_supported: may ATS be enabled for @pdev on this platform?
 * Integrated devices yes; else only below a root port an ATSR covers,
 * with no conventional PCI on the way. */
bool intel_dmar_ats_supported(struct machine *m, struct pci_dev *pdev);
void intel_context_clear(struct intel_iommu *iu, uint16_t sid);

#endif
