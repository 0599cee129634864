/*
 * Building the fabric: placing each function on its bus (checking what
 * may sit where in PCIe: one device below a root or downstream port,
 * only downstream ports on a switch's internal bus), enumerating bus
 * numbers depth-first as firmware does, filling configuration space and
 * assigning memory BARs and bridge windows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/mmio.h"
#include "hw/pci.h"
#include "hw/pci_spec.h"
#include "kernel/machine.h"

#define PCI_MMIO_START 0xfc000000ULL
#define PCI_MMIO_END   0xfec00000ULL /* the IOAPIC */
#define PCI_WIN_ALIGN  0x100000ULL

static const char *const default_specs[] = {
	"pcie-root-port,id=rp0,addr=01.0",
	"disk,id=disk0,bus=rp0",
	"dmac,id=dmac0,addr=02.0",
};

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *bus_name(const struct pci_func *parent)
{
	return parent ? parent->id : "pcie.0";
}

/* May a function of @role sit on the bus below @parent? */
static const char *placement_problem(const struct pci_func *fn,
				     const struct pci_func *parent)
{
	enum pci_role pr = parent ? parent->type->role : PCI_ROLE_HOST;

	switch (fn->type->role) {
	case PCI_ROLE_ROOT_PORT:
		return pr == PCI_ROLE_HOST ? NULL
					   : "a root port sits on the root bus (pcie.0)";
	case PCI_ROLE_SWITCH_UP:
		return pr == PCI_ROLE_ROOT_PORT || pr == PCI_ROLE_SWITCH_DOWN
			       ? NULL
			       : "a switch upstream port goes below a root port or a downstream port";
	case PCI_ROLE_SWITCH_DOWN:
		return pr == PCI_ROLE_SWITCH_UP
			       ? NULL
			       : "a downstream port goes on a switch upstream port's bus";
	case PCI_ROLE_PCI_BRIDGE:
	case PCI_ROLE_ENDPOINT:
		if (pr == PCI_ROLE_SWITCH_UP)
			return "only downstream ports sit on a switch's internal bus";
		if (pr == PCI_ROLE_PCI_BRIDGE &&
		    fn->type->role == PCI_ROLE_PCI_BRIDGE)
			return "a PCIe-to-PCI bridge cannot sit on conventional PCI";
		return NULL;
	default:
		return "cannot be placed";
	}
}

/* A PCIe link below a root or downstream port has one device: slot 0. */
static bool link_bus(const struct pci_func *parent)
{
	return parent && (parent->type->role == PCI_ROLE_ROOT_PORT ||
			  parent->type->role == PCI_ROLE_SWITCH_DOWN);
}

static struct pci_func *slot_user(struct machine *m,
				  const struct pci_func *parent, int slot,
				  int func)
{
	for (struct pci_func *f = m->pci.list; f; f = f->next)
		if (f->parent == parent && PCI_SLOT(f->devfn) == slot &&
		    (func < 0 || PCI_FUNC(f->devfn) == func))
			return f;
	return NULL;
}

static int choose_slot(struct machine *m, struct pci_func *fn,
		       const char *spec, char *err, size_t errlen)
{
	int func = fn->want_func < 0 ? 0 : fn->want_func;
	int slot = fn->want_slot, first = fn->parent ? 0 : 1;
	struct pci_func *other;

	if (slot < 0) {
		for (slot = first; slot < 32; slot++)
			if (!slot_user(m, fn->parent, slot, -1))
				break;
		if (slot == 32 || (link_bus(fn->parent) && slot > 0))
			return fail(err, errlen,
				    "--device '%s': no free slot on bus %s",
				    spec, bus_name(fn->parent));
	}
	if (link_bus(fn->parent) && slot != 0)
		return fail(err, errlen,
			    "--device '%s': below port %s (a PCIe link) the device must be in slot 00",
			    spec, fn->parent->id);
	other = slot_user(m, fn->parent, slot, func);
	if (other)
		return fail(err, errlen,
			    "--device '%s': address %02x.%x on bus %s is taken by %s",
			    spec, slot, func, bus_name(fn->parent), other->id);
	fn->devfn = (uint8_t)PCI_DEVFN(slot, func);
	return 0;
}

static void default_id(struct machine *m, struct pci_func *fn)
{
	for (int i = 0;; i++) {
		snprintf(fn->id, sizeof(fn->id), "%s%d", fn->type->name, i);
		if (!pci_find_id(m, fn->id) && strcmp(fn->id, "pcie.0"))
			return;
	}
}

static void append(struct machine *m, struct pci_func *fn)
{
	struct pci_func **p = &m->pci.list;

	/* every function sits under the platform's remapping unit (a DRHD
	 * that includes all PCI devices) */
	fn->iommu = fn->type->remapping_unit ? NULL : m->iommu_units;
	while (*p)
		p = &(*p)->next;
	*p = fn;
	m->pci.nr++;
}

static int place(struct machine *m, struct pci_func *fn, const char *spec,
		 char *err, size_t errlen)
{
	const char *why;

	if (fn->id[0] && (pci_find_id(m, fn->id) || !strcmp(fn->id, "pcie.0")))
		return fail(err, errlen, "--device '%s': id '%s' is already used",
			    spec, fn->id);
	if (fn->bus_id[0] && strcmp(fn->bus_id, "pcie.0")) {
		fn->parent = pci_find_id(m, fn->bus_id);
		if (!fn->parent)
			return fail(err, errlen,
				    "--device '%s': bus '%s' does not exist (buses are pcie.0 and the ids of bridges and ports given before)",
				    spec, fn->bus_id);
		if (!pci_is_bridge(fn->parent))
			return fail(err, errlen,
				    "--device '%s': '%s' is a %s, not a bus",
				    spec, fn->bus_id, fn->parent->type->name);
	}
	why = placement_problem(fn, fn->parent);
	if (why)
		return fail(err, errlen, "--device '%s': %s", spec, why);
	if (choose_slot(m, fn, spec, err, errlen))
		return -EINVAL;
	if (!fn->id[0])
		default_id(m, fn);
	fn->conventional = fn->parent &&
			   (fn->parent->type->role == PCI_ROLE_PCI_BRIDGE ||
			    fn->parent->conventional);
	append(m, fn);
	return 0;
}

static int add_spec(struct machine *m, const char *spec, char *err,
		    size_t errlen)
{
	struct pci_func *fn;
	int ret = pci_spec_parse(m, spec, &fn, err, errlen);

	if (ret)
		return ret;
	ret = place(m, fn, spec, err, errlen);
	if (ret)
		pci_func_free(fn);
	return ret;
}

/* Children lists in devfn order, then bus numbers depth-first. */
static void link_children(struct machine *m)
{
	for (struct pci_func *f = m->pci.list; f; f = f->next) {
		struct pci_func *parent = f->parent, **p;

		if (f == m->pci.host)
			continue;
		p = parent ? &parent->children : &m->pci.host->children;
		while (*p && (*p)->devfn < f->devfn)
			p = &(*p)->sibling;
		f->sibling = *p;
		*p = f;
	}
}

static void enumerate(struct machine *m, struct pci_func *bridge,
		      uint8_t busnr)
{
	for (struct pci_func *c = bridge->children; c; c = c->sibling) {
		c->bus = busnr;
		snprintf(c->name, sizeof(c->name), "%04x:%02x:%02x.%x",
			 c->domain, c->bus, PCI_SLOT(c->devfn),
			 PCI_FUNC(c->devfn));
		if (!pci_is_bridge(c))
			continue;
		c->secondary = ++m->pci.last_bus;
		enumerate(m, c, c->secondary);
		c->subordinate = m->pci.last_bus;
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t exp_type(const struct pci_func *fn)
{
	switch (fn->type->role) {
	case PCI_ROLE_ROOT_PORT:
		return PCI_EXP_TYPE_ROOT_PORT;
	case PCI_ROLE_SWITCH_UP:
		return PCI_EXP_TYPE_UPSTREAM;
	case PCI_ROLE_SWITCH_DOWN:
		return PCI_EXP_TYPE_DOWNSTREAM;
	case PCI_ROLE_PCI_BRIDGE:
		return PCI_EXP_TYPE_PCI_BRIDGE;
	default:
		return fn->parent ? PCI_EXP_TYPE_ENDPOINT : PCI_EXP_TYPE_RC_END;
	}
}

static bool has_functions_above_0(struct machine *m, const struct pci_func *fn)
{
	for (struct pci_func *f = m->pci.list; f; f = f->next)
		if (f->parent == fn->parent && f != fn &&
		    PCI_SLOT(f->devfn) == PCI_SLOT(fn->devfn))
			return true;
	return false;
}

static void fill_caps(struct pci_func *fn)
{
	uint8_t *c = fn->cfg;
	unsigned last = PCI_CAPABILITY_LIST;

	if (fn->type->nr_msi) {
		unsigned mmc = 0;

		while ((1u << mmc) < fn->type->nr_msi)
			mmc++;
		c[last] = PCI_CAP_MSI_OFF;
		c[PCI_CAP_MSI_OFF] = PCI_CAP_ID_MSI;
		put16(c + PCI_CAP_MSI_OFF + PCI_MSI_FLAGS,
		      (uint16_t)(PCI_MSI_FLAGS_64BIT | mmc << 1));
		last = PCI_CAP_MSI_OFF + 1;
	}
	if (!fn->conventional && fn->type->role != PCI_ROLE_HOST) {
		c[last] = PCI_CAP_EXP_OFF;
		c[PCI_CAP_EXP_OFF] = PCI_CAP_ID_EXP;
		put16(c + PCI_CAP_EXP_OFF + PCI_EXP_FLAGS,
		      (uint16_t)(2 | exp_type(fn) << 4));
	}
	if (c[PCI_CAPABILITY_LIST])
		put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
	/* ACS on downstream-facing ports (and multi-function devices that
	 * ask for it), capability bits SV TB RR CR UF DT; control off until
	 * the kernel enables it. */
	if (fn->acs && !fn->conventional &&
	    (fn->type->role == PCI_ROLE_ROOT_PORT ||
	     fn->type->role == PCI_ROLE_SWITCH_DOWN || fn->multifunction)) {
		put32(c + PCI_EXT_ACS_OFF, PCI_EXT_CAP_ID_ACS | 1u << 16);
		put16(c + PCI_EXT_ACS_OFF + PCI_ACS_CAP,
		      PCI_ACS_SV | PCI_ACS_TB | PCI_ACS_RR | PCI_ACS_CR |
			      PCI_ACS_UF | PCI_ACS_DT);
	}
}

static void fill_config(struct machine *m, struct pci_func *fn)
{
	const struct pci_type *t = fn->type;
	uint8_t *c = fn->cfg;

	put16(c + PCI_VENDOR_ID, t->vendor);
	put16(c + PCI_DEVICE_ID, t->device);
	c[PCI_REVISION_ID] = t->revision;
	c[PCI_CLASS_PROG] = (uint8_t)t->class_code;
	put16(c + PCI_CLASS_DEVICE, (uint16_t)(t->class_code >> 8));
	c[PCI_HEADER_TYPE] = pci_is_bridge(fn) ? PCI_HEADER_TYPE_BRIDGE : 0;
	if (PCI_FUNC(fn->devfn) == 0 &&
	    (fn->multifunction || has_functions_above_0(m, fn)))
		c[PCI_HEADER_TYPE] |= PCI_HEADER_MULTIFUNC;
	if (pci_is_bridge(fn)) {
		c[PCI_PRIMARY_BUS] = fn->bus;
		c[PCI_SECONDARY_BUS] = fn->secondary;
		c[PCI_SUBORDINATE_BUS] = fn->subordinate;
		/* a closed memory window: base above limit */
		put16(c + PCI_MEMORY_BASE, 0xfff0);
	} else if (t->role != PCI_ROLE_HOST) {
		put16(c + PCI_SUBSYSTEM_VENDOR_ID, t->vendor);
		put16(c + PCI_SUBSYSTEM_ID, t->device);
		c[PCI_INTERRUPT_PIN] = 1;
	}
	fill_caps(fn);
	if (t->fill_config)
		t->fill_config(fn);
}

static int assign_bars(struct machine *m, struct pci_func *bridge,
		       char *err, size_t errlen)
{
	for (struct pci_func *c = bridge->children; c; c = c->sibling) {
		uint64_t *cur = &m->pci.mmio_next;

		if (pci_is_bridge(c)) {
			uint64_t start = (*cur + PCI_WIN_ALIGN - 1) &
					 ~(PCI_WIN_ALIGN - 1);

			*cur = start;
			if (assign_bars(m, c, err, errlen))
				return -ENOSPC;
			if (*cur > start) {
				*cur = (*cur + PCI_WIN_ALIGN - 1) &
				       ~(PCI_WIN_ALIGN - 1);
				c->win_start = start;
				c->win_end = *cur - 1;
				/* memory base/limit: address bits 31:20 */
				put16(c->cfg + PCI_MEMORY_BASE,
				      (uint16_t)((start >> 16) & 0xfff0));
				put16(c->cfg + PCI_MEMORY_LIMIT,
				      (uint16_t)((c->win_end >> 16) & 0xfff0));
			}
			continue;
		}
		if (!c->type->bar0_size)
			continue;
		*cur = (*cur + c->type->bar0_size - 1) &
		       ~(uint64_t)(c->type->bar0_size - 1);
		if (*cur + c->type->bar0_size > PCI_MMIO_END)
			return fail(err, errlen,
				    "too many devices: PCI memory space below 0x%llx is full",
				    (unsigned long long)PCI_MMIO_END);
		c->bar0_addr = *cur;
		*cur += c->type->bar0_size;
		put32(c->cfg + PCI_BASE_ADDRESS_0, (uint32_t)c->bar0_addr | 0x4);
		put32(c->cfg + PCI_BASE_ADDRESS_0 + 4,
		      (uint32_t)(c->bar0_addr >> 32));
		c->bar0 = mmio_region_create(c, c->type->bar0_size);
		if (!c->bar0)
			return -ENOMEM;
	}
	return 0;
}

static int check_functions(struct machine *m, char *err, size_t errlen)
{
	for (struct pci_func *f = m->pci.list; f; f = f->next) {
		if (PCI_FUNC(f->devfn) && !slot_user(m, f->parent,
						     PCI_SLOT(f->devfn), 0))
			return fail(err, errlen,
				    "--device '%s': %s: function 0 of slot %02x is missing (a multi-function device needs function 0)",
				    f->spec, f->name, PCI_SLOT(f->devfn));
		if (f->want_busnr >= 0 && f->want_busnr != f->bus)
			return fail(err, errlen,
				    "--device '%s': addr=%02x:%02x.%x but bus %s is bus %02x after enumeration",
				    f->spec, f->want_busnr, PCI_SLOT(f->devfn),
				    PCI_FUNC(f->devfn), bus_name(f->parent),
				    f->bus);
	}
	return 0;
}

static int realize_all(struct machine *m, char *err, size_t errlen)
{
	for (struct pci_func *f = m->pci.list; f; f = f->next) {
		char msg[200] = "";
		int ret;

		if (!f->type->realize)
			continue;
		ret = f->type->realize(f, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "--device '%s': %s",
				 f->spec ? f->spec : f->type->name,
				 msg[0] ? msg : strerror(-ret));
			return ret;
		}
		f->realized = true;
	}
	return 0;
}

static int add_host(struct machine *m)
{
	struct pci_func *fn = calloc(1, sizeof(*fn));

	if (!fn)
		return -ENOMEM;
	fn->m = m;
	fn->type = pci_type_find("host-bridge");
	snprintf(fn->id, sizeof(fn->id), "host");
	snprintf(fn->name, sizeof(fn->name), "0000:00:00.0");
	m->pci.host = fn;
	append(m, fn);
	return 0;
}

/* An AMD-Vi unit's own function sits beside the host bridge, 00:00.2. */
static int add_iommu_function(struct machine *m)
{
	struct pci_func *fn;

	if (m->cfg.iommu != DMASIM_IOMMU_AMD || !m->iommu_units)
		return 0;
	fn = calloc(1, sizeof(*fn));
	if (!fn)
		return -ENOMEM;
	fn->m = m;
	fn->type = pci_type_find("amd-iommu");
	fn->devfn = (uint8_t)PCI_DEVFN(0, 2);
	fn->want_slot = fn->want_func = fn->want_busnr = -1;
	snprintf(fn->id, sizeof(fn->id), "iommu0");
	append(m, fn);
	return 0;
}

int pci_fabric_init(struct machine *m, const char *const *specs, size_t n,
		    bool nodefaults, char *err, size_t errlen)
{
	int ret = add_host(m);

	if (!ret)
		ret = add_iommu_function(m);

	for (size_t i = 0; !ret && !nodefaults &&
			   i < sizeof(default_specs) / sizeof(default_specs[0]);
	     i++) {
		size_t tl = strcspn(default_specs[i], ",");
		char t[32];

		snprintf(t, sizeof(t), "%.*s", (int)tl, default_specs[i]);
		if (pci_type_find(t))
			ret = add_spec(m, default_specs[i], err, errlen);
	}
	for (size_t i = 0; !ret && i < n; i++)
		ret = add_spec(m, specs[i], err, errlen);
	if (ret)
		return ret;
	link_children(m);
	enumerate(m, m->pci.host, 0);
	ret = check_functions(m, err, errlen);
	if (ret)
		return ret;
	for (struct pci_func *f = m->pci.list; f; f = f->next)
		fill_config(m, f);
	m->pci.mmio_next = PCI_MMIO_START;
	ret = assign_bars(m, m->pci.host, err, errlen);
	if (ret)
		return ret;
	return realize_all(m, err, errlen);
}

void pci_fabric_destroy(struct machine *m)
{
	struct pci_func *f, *next;

	/* quiesce every device before any goes away */
	for (f = m->pci.list; f; f = f->next)
		if (f->realized && f->type->reset)
			f->type->reset(f);
	for (f = m->pci.list; f; f = f->next)
		if (f->realized && f->type->unrealize)
			f->type->unrealize(f);
	for (f = m->pci.list; f; f = next) {
		next = f->next;
		mmio_region_destroy(f->bar0);
		pci_func_free(f);
	}
	m->pci.list = NULL;
	m->pci.host = NULL;
}
