/*
 * The IOMMU core's default policy, from the kernel command line as Linux
 * 6.1 reads it: iommu=pt|nopt (x86), iommu.passthrough=, iommu.strict=,
 * iommu.forcedac=; x86's build default is a translated DMA domain with
 * lazy invalidation (DMA-FQ).
 */
#ifndef DMASIM_KERNEL_IOMMU_POLICY_H
#define DMASIM_KERNEL_IOMMU_POLICY_H

#include <stdbool.h>

#include "dmasim/linux/iommu.h"

struct machine;

struct iommu_policy {
	unsigned int def_type;	/* IOMMU_DOMAIN_DMA(_FQ) or _IDENTITY */
	bool strict;
	bool type_from_cmdline, strict_from_cmdline;
	bool forcedac;
	bool off;		/* x86 iommu=off: no IOMMU driver at all */
};

/* Read the parameters; print "Forcing DAC for PCI devices" if asked. */
void iommu_policy_init(struct machine *m);
/* The iommu_subsys_init lines: default domain type, invalidation. */
void iommu_policy_print(struct machine *m);
/* "blocked", "identity", "unmanaged", "DMA", "DMA-FQ" (sysfs type). */
const char *iommu_domain_type_name(unsigned int type);

#endif
