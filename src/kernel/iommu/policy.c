/* The IOMMU default policy (see policy.h). */
#include "kernel/iommu/policy.h"

#include <string.h>

#define PR_PREFIX "iommu: "
#include "kernel/machine.h"

/* x86 iommu=: a comma-separated list; pt and nopt set the default
 * domain type, the rest belong to drivers not modelled here. */
static void parse_x86_iommu(struct machine *m, struct iommu_policy *p)
{
	const char *v = bootparam_get(m, "iommu");

	while (v && *v) {
		size_t n = strcspn(v, ",");

		if (n == 2 && !strncmp(v, "pt", 2)) {
			p->def_type = IOMMU_DOMAIN_IDENTITY;
			p->type_from_cmdline = true;
		} else if (n == 4 && !strncmp(v, "nopt", 4)) {
			p->def_type = IOMMU_DOMAIN_DMA;
			p->type_from_cmdline = true;
		} else if (n == 3 && !strncmp(v, "off", 3)) {
			p->off = true;
		}
		v += n + (v[n] == ',');
	}
}

static bool bool_param(struct machine *m, const char *name, bool *val)
{
	const char *v = bootparam_get(m, name);

	return v && kstrtobool(v, val) == 0;
}

void iommu_policy_init(struct machine *m)
{
	struct iommu_policy *p = &m->iommu_policy;
	bool b;

	p->def_type = IOMMU_DOMAIN_DMA;
	p->strict = false; /* CONFIG_IOMMU_DEFAULT_DMA_LAZY on x86 */
	parse_x86_iommu(m, p);
	if (bool_param(m, "iommu.passthrough", &b)) {
		p->def_type = b ? IOMMU_DOMAIN_IDENTITY : IOMMU_DOMAIN_DMA;
		p->type_from_cmdline = true;
	}
	if (bool_param(m, "iommu.strict", &b)) {
		p->strict = b;
		p->strict_from_cmdline = true;
	}
	if (bool_param(m, "iommu.forcedac", &b) && b) {
		p->forcedac = true;
		mprintk(m, KERN_INFO, "Forcing DAC for PCI devices\n");
	}
}

void iommu_policy_print(struct machine *m)
{
	const struct iommu_policy *p = &m->iommu_policy;
	bool pt = p->def_type == IOMMU_DOMAIN_IDENTITY;

	/* 6.1 prints "%s %s": a trailing space when there is no suffix */
	pr_info(m, "Default domain type: %s %s\n",
		pt ? "Passthrough" : "Translated",
		p->type_from_cmdline ? "(set via kernel command line)" : "");
	if (!pt)
		pr_info(m, "DMA domain TLB invalidation policy: %s mode %s\n",
			p->strict ? "strict" : "lazy",
			p->strict_from_cmdline ? "(set via kernel command line)"
					       : "");
}

const char *iommu_domain_type_name(unsigned int type)
{
	switch (type) {
	case IOMMU_DOMAIN_BLOCKED:
		return "blocked";
	case IOMMU_DOMAIN_IDENTITY:
		return "identity";
	case IOMMU_DOMAIN_UNMANAGED:
		return "unmanaged";
	case IOMMU_DOMAIN_DMA:
		return "DMA";
	case IOMMU_DOMAIN_DMA_FQ:
		return "DMA-FQ";
	default:
		return "unknown";
	}
}
