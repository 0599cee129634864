/*
 * Bringing PCI functions under the IOMMU (iommu_probe_device and the
 * default domains of Linux 6.1's iommu core): ACS enabled, groups formed
 * in probe order ("pci 0000:00:00.0: Adding to iommu group 0"), one
 * default domain per group of the policy's type — translated and lazy
 * (DMA-FQ) unless the command line says otherwise, strict DMA for a group
 * with an untrusted device — every function attached, and the DMA API
 * routed through dma-iommu for translated domains. A group of one
 * device can later be given a default domain of another type (sysfs's
 * "type"): a new domain replaces the old, which is freed.
 */
#include <errno.h>
#include <stdlib.h>

#include "dmasim/linux/pci.h"
#include "hw/pci.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/iommu.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"
#include "kernel/pci.h"

unsigned int iommu_dev_def_domain_type(struct machine *m, struct kpci *k)
{
	const struct iommu_ops *ops = m->iommu_dev ? m->iommu_dev->ops : NULL;

	if (k->pdev.untrusted)
		return IOMMU_DOMAIN_DMA; /* forced strict */
	if (ops && ops->def_domain_type)
		return (unsigned int)ops->def_domain_type(&k->pdev.dev);
	return 0;
}

unsigned int iommu_def_domain_type(struct machine *m)
{
	const struct iommu_policy *p = &m->iommu_policy;

	if (p->def_type == IOMMU_DOMAIN_IDENTITY)
		return IOMMU_DOMAIN_IDENTITY;
	return p->strict ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ;
}

/* The first device with a type of its own decides, else the policy. */
static unsigned int group_type(struct machine *m, struct iommu_group *g)
{
	for (unsigned int i = 0; i < g->nr_devs; i++) {
		unsigned int t = iommu_dev_def_domain_type(m, g->devs[i]);

		if (t)
			return t;
	}
	return iommu_def_domain_type(m);
}

/* A default domain of @type, with its IOVA space when translated (a
 * DMA-FQ domain without a flush queue silently becomes DMA). */
static struct iommu_domain *default_domain_alloc(struct machine *m,
						 unsigned int type, int *err)
{
	struct iommu_domain *d = iommu_domain_alloc_type(m, type);

	*err = d ? 0 : -ENOMEM;
	if (d && (d->type & __IOMMU_DOMAIN_DMA_API))
		*err = iommu_get_dma_cookie(d);
	if (d && *err) {
		iommu_domain_free(d);
		d = NULL;
	}
	return d;
}

static void default_domain_free(struct iommu_domain *d)
{
	iommu_put_dma_cookie(d);
	iommu_domain_free(d);
}

/* Attach @dev and give it the DMA ops of @d's type (probe_finalize):
 * dma-iommu for DMA and DMA-FQ, dma-direct for identity. */
static int attach_default(struct iommu_domain *d, struct device *dev)
{
	int ret = iommu_attach_device(d, dev);

	if (!ret)
		iommu_setup_dma_ops(dev, d);
	return ret;
}

static int setup_group(struct machine *m, struct iommu_group *g)
{
	int ret;
	struct iommu_domain *d = default_domain_alloc(m, group_type(m, g), &ret);

	if (!d)
		return ret;
	g->domain = d;
	g->domain_type = (int)d->type;
	for (unsigned int i = 0; !ret && i < g->nr_devs; i++)
		ret = attach_default(d, &g->devs[i]->pdev.dev);
	return ret;
}

int iommu_group_change_default_domain(struct machine *m,
				      struct iommu_group *g, unsigned int type)
{
	struct iommu_domain *old = g->domain, *d;
	struct device *dev;
	int ret;

	if (!old || g->nr_devs != 1)
		return -EINVAL;
	dev = &g->devs[0]->pdev.dev;
	d = default_domain_alloc(m, type, &ret);
	if (!d)
		return ret;
	iommu_detach_device(old, dev);
	dev->dma_ops = NULL;
	ret = attach_default(d, dev);
	if (ret) {
		attach_default(old, dev); /* as it was */
		default_domain_free(d);
		return ret;
	}
	g->domain = d;
	g->domain_type = (int)d->type;
	default_domain_free(old);
	return 0;
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

uint64_t iommu_table_alloc(struct machine *m, unsigned int order)
{
	struct page *p = mm_alloc_pages(m, GFP_KERNEL | __GFP_ZERO, order);

	return p ? (uint64_t)(p - m->mm.mem_map) << PAGE_SHIFT : 0;
}

void iommu_table_free(struct machine *m, uint64_t phys, unsigned int order)
{
	if (phys)
		mm_free_pages(m, &m->mm.mem_map[phys >> PAGE_SHIFT], order);
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
		default_domain_free(d);
		g->domain = NULL;
	}
	iommu_groups_free(m);
}
