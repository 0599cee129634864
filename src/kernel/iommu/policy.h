/*
 * The IOMMU core's default policy, from the kernel command line as Linux
 * 6.1 reads it: iommu=pt|nopt (x86), iommu.passthrough=, iommu.strict=,
 * iommu.forcedac=; x86's build default is a translated DMA domain with
 * lazy invalidation (DMA-FQ).
 */
#ifndef DMASIM_KERNEL_IOMMU_POLICY_H
#define DMASIM_KERNEL_IOMMU_POLICY_H

#include <stdbool.h>

struct machine;

/* Domain types with Linux's values (include/linux/iommu.h). */
#define __IOMMU_DOMAIN_PAGING  (1U << 0)
#define __IOMMU_DOMAIN_DMA_API (1U << 1)
#define __IOMMU_DOMAIN_PT      (1U << 2)
#define __IOMMU_DOMAIN_DMA_FQ  (1U << 3)
#define IOMMU_DOMAIN_BLOCKED   0U
#define IOMMU_DOMAIN_IDENTITY  __IOMMU_DOMAIN_PT
#define IOMMU_DOMAIN_UNMANAGED __IOMMU_DOMAIN_PAGING
#define IOMMU_DOMAIN_DMA       (__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API)
#define IOMMU_DOMAIN_DMA_FQ    (IOMMU_DOMAIN_DMA | __IOMMU_DOMAIN_DMA_FQ)

struct iommu_policy {
	unsigned int def_type;	/* IOMMU_DOMAIN_DMA(_FQ) or _IDENTITY */
	bool strict;
	bool type_from_cmdline, strict_from_cmdline;
	bool forcedac;
};

/* Read the parameters; print "Forcing DAC for PCI devices" if asked. */
void iommu_policy_init(struct machine *m);
/* The iommu_subsys_init lines: default domain type, invalidation. */
void iommu_policy_print(struct machine *m);
/* "blocked", "identity", "unmanaged", "DMA", "DMA-FQ" (sysfs type). */
const char *iommu_domain_type_name(unsigned int type);

#endif
