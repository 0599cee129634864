/*
 * Bringing PCI functions under the IOMMU (iommu_probe_device and the
 * default domains of Linux 6.1's iommu core): ACS enabled, groups formed
 * in probe order ("pci 0000:00:00.0: Adding to iommu group 0"), one
 * default domain per group of the policy's type — translated and lazy
 * (DMA-FQ) unless the command line says otherwise, strict DMA for a group
 * with an untrusted device — every function attached, and the DMA API
 * routed through dma-iommu for translated domains.
 */
#include <errno.h>
#include <stdlib.h>

#include "dmasim/linux/pci.h"
#include "hw/pci.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/iommu.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static unsigned int group_type(struct machine *m, struct iommu_group *g)
{
	const struct iommu_policy *p = &m->iommu_policy;

	for (unsigned int i = 0; i < g->nr_devs; i++)
		if (g->devs[i]->pdev.untrusted)
			return IOMMU_DOMAIN_DMA; /* forced strict */
	if (p->def_type == IOMMU_DOMAIN_IDENTITY)
		return IOMMU_DOMAIN_IDENTITY;
	return p->strict ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ;
}

static int setup_group(struct machine *m, struct iommu_group *g)
{
	struct iommu_domain *d = iommu_domain_alloc_type(m, group_type(m, g));
	int ret = 0;

	if (!d)
		return -ENOMEM;
	g->domain = d;
	g->domain_type = (int)d->type;
	if (d->type & __IOMMU_DOMAIN_DMA_API) {
		ret = iommu_get_dma_cookie(d);
		g->domain_type = (int)d->type; /* DMA-FQ may fall back */
	}
	for (unsigned int i = 0; !ret && i < g->nr_devs; i++) {
		struct device *dev = &g->devs[i]->pdev.dev;

		ret = iommu_attach_device(d, dev);
		if (!ret)
			iommu_setup_dma_ops(dev, d);
	}
	return ret;
}

int iommu_probe_devices(struct machine *m)
{
	int ret;

	pci_enable_acs_all(m);
	ret = iommu_groups_build(m);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];

		if (k->group)
			pr_info(m, "pci %s: Adding to iommu group %d\n",
				k->name, k->group->id);
	}
	for (unsigned int i = 0; !ret && i < m->iommu_groups.nr; i++)
		ret = setup_group(m, m->iommu_groups.groups[i]);
	return ret;
}

int iommu_dev_rids(struct device *dev, uint16_t out[2])
{
	struct pci_func *fn = to_pci_dev(dev)->hw;
	int n = 0;

	out[n++] = (uint16_t)(fn->bus << 8 | fn->devfn);
	if (pci_requester_id(fn) != out[0])
		out[n++] = pci_requester_id(fn);
	return n;
}

void iommu_release_devices(struct machine *m)
{
	for (unsigned int i = 0; i < m->iommu_groups.nr; i++) {
		struct iommu_group *g = m->iommu_groups.groups[i];
		struct iommu_domain *d = g->domain;

		if (!d)
			continue;
		for (unsigned int k = 0; k < g->nr_devs; k++) {
			struct device *dev = &g->devs[k]->pdev.dev;

			dev->dma_ops = NULL;
			iommu_detach_device(d, dev);
		}
		iommu_put_dma_cookie(d);
		iommu_domain_free(d);
		g->domain = NULL;
	}
	iommu_groups_free(m);
}
