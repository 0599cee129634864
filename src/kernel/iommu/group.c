/*
 * IOMMU groups (see group.h). The kernel sees the fabric only through
 * configuration space: the PCI Express capability (port type), the ACS
 * capability and control registers, the header type (multi-function) and
 * the bridges' bus numbers.
 */
#include "kernel/iommu/group.h"

#include <errno.h>
#include <stdlib.h>

#include "hw/pci.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static struct pci_func *hw(struct kpci *k)
{
	return k->fn;
}

static struct kpci *kpci_of_fn(struct machine *m, const struct pci_func *fn)
{
	for (unsigned int i = 0; fn && i < m->pcik.nr; i++)
		if (m->pcik.devs[i]->fn == fn)
			return m->pcik.devs[i];
	return NULL;
}

/* The bridge whose secondary bus @k sits on (bus->self), or NULL. */
static struct kpci *upstream(struct machine *m, struct kpci *k)
{
	return kpci_of_fn(m, hw(k)->parent);
}

/* PCIe port type from the PCI Express capability, or -1 (conventional). */
static int pcie_type(struct kpci *k)
{
	unsigned pos = pci_find_capability(hw(k), PCI_CAP_ID_EXP);

	if (!pos)
		return -1;
	return (int)((pci_cfg_read(hw(k), pos + PCI_EXP_FLAGS, 2) >> 4) & 0xf);
}

static bool multifunction(struct machine *m, struct kpci *k)
{
	struct pci_func *f0 = pci_find_bdf(m, hw(k)->bus, hw(k)->devfn & ~7u);

	return f0 && (pci_cfg_read(f0, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFUNC);
}

/* pci_acs_flags_enabled: what the capability offers must be enabled. */
static bool acs_flags_enabled(struct kpci *k, unsigned int flags)
{
	unsigned pos = pci_find_ext_capability(hw(k), PCI_EXT_CAP_ID_ACS);
	unsigned cap, ctrl;

	if (!pos)
		return false;
	cap = pci_cfg_read(hw(k), pos + PCI_ACS_CAP, 2);
	ctrl = pci_cfg_read(hw(k), pos + PCI_ACS_CTRL, 2);
	flags &= cap | PCI_ACS_EC;
	return (ctrl & flags) == flags;
}

/* pci_acs_enabled: may @k's peers reach each other around the IOMMU? */
static bool acs_enabled(struct machine *m, struct kpci *k, unsigned int flags)
{
	switch (pcie_type(k)) {
	case -1:		      /* conventional PCI */
	case PCI_EXP_TYPE_PCI_BRIDGE: /* PCIe-to-PCI bridges cannot isolate */
		return false;
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_ROOT_PORT:
		return acs_flags_enabled(k, flags);
	default:
		/* ACS applies to multi-function devices only (PCIe 6.12) */
		return multifunction(m, k) ? acs_flags_enabled(k, flags) : true;
	}
}

bool pci_acs_path_enabled(struct machine *m, struct kpci *k, unsigned int flags)
{
	for (; k; k = upstream(m, k))
		if (!acs_enabled(m, k, flags))
			return false;
	return true;
}

void pci_enable_acs_all(struct machine *m)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];
		unsigned pos = pci_find_ext_capability(hw(k), PCI_EXT_CAP_ID_ACS);
		unsigned cap, ctrl;

		if (!pos)
			continue;
		cap = pci_cfg_read(hw(k), pos + PCI_ACS_CAP, 2);
		ctrl = pci_cfg_read(hw(k), pos + PCI_ACS_CTRL, 2);
		ctrl |= cap & (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF);
		if (k->pdev.untrusted || k->pdev.external_facing)
			ctrl |= cap & PCI_ACS_TB;
		pci_cfg_write(hw(k), pos + PCI_ACS_CTRL, ctrl, 2);
	}
}

/* The last DMA alias of @k: the topmost PCIe-to-PCI bridge above it,
 * if it is conventional PCI; else itself. */
static struct kpci *last_alias(struct machine *m, struct kpci *k)
{
	struct kpci *alias = k;

	if (pcie_type(k) != -1)
		return k;
	for (struct kpci *p = upstream(m, k); p; p = upstream(m, p))
		if (pcie_type(p) == PCI_EXP_TYPE_PCI_BRIDGE)
			alias = p;
	return alias;
}

/* Same slot, other functions without ACS that already have a group. */
static struct iommu_group *function_group(struct machine *m, struct kpci *k)
{
	if (!multifunction(m, k) || acs_enabled(m, k, REQ_ACS_FLAGS))
		return NULL;
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *o = m->pcik.devs[i];

		if (o != k && o->group && hw(o)->bus == hw(k)->bus &&
		    PCI_SLOT(hw(o)->devfn) == PCI_SLOT(hw(k)->devfn) &&
		    !acs_enabled(m, o, REQ_ACS_FLAGS))
			return o->group;
	}
	return NULL;
}

/* pci_device_group: the group @k joins, or NULL for a new one. */
static struct iommu_group *find_group(struct machine *m, struct kpci *k)
{
	struct kpci *p = last_alias(m, k);

	if (p != k && p->group)
		return p->group;
	for (struct kpci *up = upstream(m, p); up; up = upstream(m, up)) {
		if (pci_acs_path_enabled(m, up, REQ_ACS_FLAGS))
			break;
		p = up;
		if (p->group)
			return p->group;
	}
	return function_group(m, p);
}

static struct iommu_group *group_new(struct machine *m)
{
	struct iommu_group *g = calloc(1, sizeof(*g));
	struct iommu_group **n;

	if (!g)
		return NULL;
	n = realloc(m->iommu_groups.groups,
		    (m->iommu_groups.nr + 1) * sizeof(*n));
	if (!n) {
		free(g);
		return NULL;
	}
	g->id = (int)m->iommu_groups.nr;
	n[m->iommu_groups.nr++] = g;
	m->iommu_groups.groups = n;
	return g;
}

static int group_add(struct iommu_group *g, struct kpci *k)
{
	struct kpci **n = realloc(g->devs, (g->nr_devs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[g->nr_devs++] = k;
	g->devs = n;
	k->group = g;
	return 0;
}

int iommu_groups_build(struct machine *m)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];
		struct iommu_group *g;

		if (!k->fn->iommu)
			continue; /* the IOMMU's own function */
		g = find_group(m, k);
		if (!g)
			g = group_new(m);
		if (!g || group_add(g, k))
			return -ENOMEM;
	}
	return 0;
}

void iommu_groups_free(struct machine *m)
{
	for (unsigned int i = 0; i < m->iommu_groups.nr; i++) {
		struct iommu_group *g = m->iommu_groups.groups[i];

		for (unsigned int d = 0; d < g->nr_devs; d++)
			g->devs[d]->group = NULL;
		free(g->devs);
		free(g);
	}
	free(m->iommu_groups.groups);
	m->iommu_groups.groups = NULL;
	m->iommu_groups.nr = 0;
}

struct iommu_group *iommu_group_of(struct machine *m, const struct kpci *k)
{
	(void)m;
	return k->group;
}
