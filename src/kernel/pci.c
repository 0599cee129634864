/*
 * PCI at boot and the driver-facing PCI API (see pci.h). The scan reads
 * configuration space only: vendor and device IDs, the header type, the
 * BARs and the bridges' bus numbers that firmware programmed, and prints
 * what Linux 6.1 prints about each function.
 */
#include "kernel/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/apic.h"
#include "hw/mmio.h"
#include "hw/pci.h"
#include "kernel/dma/debug.h"
#include "kernel/irq.h"
#include "kernel/machine.h"

struct kpci *kpci_of(struct pci_dev *pdev)
{
	return (struct kpci *)((char *)pdev - offsetof(struct kpci, pdev));
}

const char pci_bus_name[] = "pci";

static struct pci_func *hw(const struct pci_dev *pdev)
{
	return pdev->hw;
}

static uint32_t cfg(struct pci_func *fn, unsigned off, unsigned size)
{
	return pci_cfg_read(fn, off, size);
}

static bool behind_external_port(const struct pci_func *fn)
{
	for (const struct pci_func *p = fn->parent; p; p = p->parent)
		if (p->external)
			return true;
	return false;
}

static struct kpci *kpci_new(struct machine *m, struct pci_func *fn)
{
	struct kpci *k = calloc(1, sizeof(*k));
	struct pci_dev *p;

	if (!k)
		return NULL;
	p = &k->pdev;
	snprintf(k->name, sizeof(k->name), "%s", fn->name);
	k->fn = fn;
	k->bus.number = fn->bus;
	p->bus = &k->bus;
	p->hw = fn;
	p->devfn = fn->devfn;
	p->vendor = (unsigned short)cfg(fn, PCI_VENDOR_ID, 2);
	p->device = (unsigned short)cfg(fn, PCI_DEVICE_ID, 2);
	p->subsystem_vendor = (unsigned short)cfg(fn, PCI_SUBSYSTEM_VENDOR_ID, 2);
	p->subsystem_device = (unsigned short)cfg(fn, PCI_SUBSYSTEM_ID, 2);
	p->class = cfg(fn, PCI_CLASS_PROG, 1) | cfg(fn, PCI_CLASS_DEVICE, 2) << 8;
	p->revision = (u8)cfg(fn, PCI_REVISION_ID, 1);
	p->hdr_type = (u8)cfg(fn, PCI_HEADER_TYPE, 1) & 0x7f;
	p->external_facing = fn->external;
	p->untrusted = behind_external_port(fn);
	pci_ats_init(p);
	p->dma_mask = 0xffffffffULL; /* 32-bit until the driver says */
	p->dev.init_name = k->name;
	p->dev.bus_name = pci_bus_name;
	p->dev.dma_mask = &p->dma_mask;
	p->dev.coherent_dma_mask = 0xffffffffULL;
	p->dev.dma_coherent = m->ram.coherent;
	p->dev.dma_parms = &k->dma_parms; /* limits unset: the defaults */
	p->dev.machine = (struct dmasim_machine *)m;
	return k;
}

static int add_dev(struct machine *m, struct kpci *k)
{
	struct kpci **n = realloc(m->pcik.devs, (m->pcik.nr + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[m->pcik.nr++] = k;
	m->pcik.devs = n;
	return 0;
}

#define pci_info(m, k, fmt, ...) \
	pr_info(m, "pci %s: " fmt, (k)->name, ##__VA_ARGS__)

static int scan_bus(struct machine *m, unsigned int busnr);

static int scan_function(struct machine *m, struct pci_func *fn)
{
	struct kpci *k = kpci_new(m, fn);
	uint64_t bar;

	if (!k || add_dev(m, k)) {
		free(k);
		return -ENOMEM;
	}
	pci_info(m, k, "[%04x:%04x] type %02x class %#08x\n", k->pdev.vendor,
		 k->pdev.device, k->pdev.hdr_type, k->pdev.class);
	bar = cfg(fn, PCI_BASE_ADDRESS_0, 4);
	if (bar & ~0xfULL) {
		bar = (bar & ~0xfULL) |
		      (uint64_t)cfg(fn, PCI_BASE_ADDRESS_0 + 4, 4) << 32;
		pci_info(m, k, "BAR 0 [mem %#010llx-%#010llx 64bit]\n",
			 (unsigned long long)bar,
			 (unsigned long long)(bar + fn->type->bar0_size - 1));
		k->bar_res = insert_resource(&m->iomem, bar,
					     bar + fn->type->bar0_size - 1,
					     k->name);
	}
	if (fn->external)
		pci_info(m, k, "marked as external-facing (untrusted below)\n");
	return 0;
}

static void bridge_lines(struct machine *m, struct kpci *k)
{
	struct pci_func *fn = k->fn;
	unsigned sec = cfg(fn, PCI_SECONDARY_BUS, 1);
	unsigned sub = cfg(fn, PCI_SUBORDINATE_BUS, 1);

	if (sec == sub)
		pci_info(m, k, "PCI bridge to [bus %02x]\n", sec);
	else
		pci_info(m, k, "PCI bridge to [bus %02x-%02x]\n", sec, sub);
	if (fn->win_end) {
		char name[32];

		pci_info(m, k, "  bridge window [mem %#010llx-%#010llx]\n",
			 (unsigned long long)fn->win_start,
			 (unsigned long long)fn->win_end);
		snprintf(name, sizeof(name), "PCI Bus %04x:%02x", 0, sec);
		insert_resource(&m->iomem, fn->win_start, fn->win_end, name);
	}
}

/* Depth-first: the functions of a bus, then the buses below bridges. */
static int scan_bus(struct machine *m, unsigned int busnr)
{
	unsigned int first = m->pcik.nr;
	int ret = 0;

	for (unsigned int devfn = 0; devfn < 256 && !ret; devfn++) {
		struct pci_func *fn = pci_find_bdf(m, busnr, devfn);

		/* a missing function 0 hides the slot, as on a real bus */
		if (PCI_FUNC(devfn) && !pci_find_bdf(m, busnr, devfn & ~7u))
			continue;
		if (fn)
			ret = scan_function(m, fn);
	}
	for (unsigned int i = first; i < m->pcik.nr && !ret; i++) {
		struct kpci *k = m->pcik.devs[i];

		if (k->fn->bus == busnr && k->pdev.hdr_type == 1)
			ret = scan_bus(m, cfg(k->fn, PCI_SECONDARY_BUS, 1));
	}
	for (unsigned int i = first; i < m->pcik.nr && !ret; i++) {
		struct kpci *k = m->pcik.devs[i];

		if (k->fn->bus == busnr && k->pdev.hdr_type == 1)
			bridge_lines(m, k);
	}
	return ret;
}

static const struct pci_device_id *match(const struct pci_driver *drv,
					 const struct pci_dev *p)
{
	for (const struct pci_device_id *id = drv->id_table; id && id->vendor;
	     id++)
		if ((id->vendor == PCI_ANY_ID || id->vendor == p->vendor) &&
		    (id->device == PCI_ANY_ID || id->device == p->device))
			return id;
	return NULL;
}

int pci_driver_bind(struct pci_dev *p, const struct pci_driver *drv)
{
	static const struct pci_device_id any = { PCI_DEVICE(PCI_ANY_ID, PCI_ANY_ID) };
	const struct pci_device_id *id = drv ? match(drv, p) : NULL;
	int ret;

	if (p->driver)
		return -EBUSY;
	for (int d = 0; !drv && pci_builtin_drivers[d]; d++) {
		id = match(pci_builtin_drivers[d], p);
		if (id)
			drv = pci_builtin_drivers[d];
	}
	if (drv && !drv->id_table)
		id = &any; /* a driver that takes any device (vfio-pci) */
	if (!drv || !id)
		return -ENODEV;
	p->driver = drv;
	p->dev.driver = &drv->driver;
	ret = drv->probe(p, id);
	if (ret) {
		p->driver = NULL;
		p->dev.driver = NULL;
	} else {
		pci_sysfs_driver_changed((struct machine *)p->dev.machine,
					 kpci_of(p), NULL);
	}
	return ret;
}

void pci_driver_unbind(struct pci_dev *p)
{
	const struct pci_driver *old = p->driver;

	if (!old)
		return;
	if (old->remove)
		old->remove(p);
	debug_dma_driver_unbound(&p->dev);
	p->driver = NULL;
	p->dev.driver = NULL;
	pci_sysfs_driver_changed((struct machine *)p->dev.machine, kpci_of(p),
				 old);
}

void pci_bind_drivers(struct machine *m)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++)
		pci_driver_bind(&m->pcik.devs[i]->pdev, NULL);
}

uint64_t pci_window_start(struct machine *m)
{
	for (struct resource *r = m->iomem.child; r; r = r->sibling)
		if (r->start >= 0xc0000000ULL && r->name &&
		    !strcmp(r->name, "PCI Bus 0000:00"))
			return r->start;
	return 0xc0000000ULL;
}

int pci_subsys_init(struct machine *m)
{
	pr_info(m, "PCI host bridge to bus 0000:00\n");
	pr_info(m, "pci_bus 0000:00: root bus resource [io  0x0000-0x0cf7 window]\n");
	pr_info(m, "pci_bus 0000:00: root bus resource [io  0x0d00-0xffff window]\n");
	pr_info(m, "pci_bus 0000:00: root bus resource [mem 0x000a0000-0x000bffff window]\n");
	pr_info(m, "pci_bus 0000:00: root bus resource [mem %#010llx-0xfebfffff window]\n",
		(unsigned long long)pci_window_start(m));
	pr_info(m, "pci_bus 0000:00: root bus resource [bus 00-ff]\n");
	return scan_bus(m, 0);
}

void pci_unbind_drivers(struct machine *m)
{
	m->pci_sysfs_ready = false; /* going away: no links to keep up */
	for (unsigned int i = m->pcik.nr; i-- > 0;)
		pci_driver_unbind(&m->pcik.devs[i]->pdev);
}

void pci_subsys_exit(struct machine *m)
{
	pci_unbind_drivers(m);
	for (unsigned int i = 0; i < m->pcik.nr; i++)
		free(m->pcik.devs[i]);
	free(m->pcik.devs);
	m->pcik.devs = NULL;
	m->pcik.nr = 0;
}

struct pci_dev *pci_get_by_name(struct machine *m, const char *name)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++)
		if (!strcmp(m->pcik.devs[i]->name, name))
			return &m->pcik.devs[i]->pdev;
	return NULL;
}

const char *dev_name(const struct device *dev)
{
	return dev->init_name ? dev->init_name : "";
}

const char *dev_driver_string(const struct device *dev)
{
	return dev->driver ? dev->driver->name
			   : dev->bus_name ? dev->bus_name : "";
}

void dev_printk(const char *level, const struct device *dev, const char *fmt,
		...)
{
	struct machine *m = (struct machine *)dev->machine;
	char prefix[96];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%s%s %s: ", level,
		 dev_driver_string(dev), dev_name(dev));
	va_start(ap, fmt);
	vmprintk(m, prefix, fmt, ap);
	va_end(ap);
}

/* Config space from the driver. */
static int rd(const struct pci_dev *p, int where, unsigned size, u32 *v)
{
	if (where < 0 || where + size > PCI_CFG_SPACE)
		return -EINVAL;
	*v = pci_cfg_read(hw(p), (unsigned)where, size);
	return 0;
}

int pci_read_config_byte(const struct pci_dev *p, int where, u8 *val)
{
	u32 v = 0;
	int r = rd(p, where, 1, &v);

	*val = (u8)v;
	return r;
}

int pci_read_config_word(const struct pci_dev *p, int where, u16 *val)
{
	u32 v = 0;
	int r = rd(p, where, 2, &v);

	*val = (u16)v;
	return r;
}

int pci_read_config_dword(const struct pci_dev *p, int where, u32 *val)
{
	return rd(p, where, 4, val);
}

static int wr(const struct pci_dev *p, int where, unsigned size, u32 v)
{
	if (where < 0 || where + size > PCI_CFG_SPACE)
		return -EINVAL;
	pci_cfg_write(hw(p), (unsigned)where, v, size);
	return 0;
}

int pci_write_config_byte(const struct pci_dev *p, int where, u8 val)
{
	return wr(p, where, 1, val);
}

int pci_write_config_word(const struct pci_dev *p, int where, u16 val)
{
	return wr(p, where, 2, val);
}

int pci_write_config_dword(const struct pci_dev *p, int where, u32 val)
{
	return wr(p, where, 4, val);
}

static void command_bits(struct pci_dev *p, u16 set, u16 clear)
{
	u16 cmd;

	pci_read_config_word(p, PCI_COMMAND, &cmd);
	pci_write_config_word(p, PCI_COMMAND, (u16)((cmd | set) & ~clear));
}

int pci_enable_device(struct pci_dev *p)
{
	struct kpci *k = kpci_of(p);

	if (k->enable_cnt++ == 0)
		command_bits(p, PCI_COMMAND_MEMORY, 0);
	return 0;
}

void pci_disable_device(struct pci_dev *p)
{
	struct kpci *k = kpci_of(p);

	if (k->enable_cnt > 0 && --k->enable_cnt == 0) {
		command_bits(p, 0, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		p->is_busmaster = false;
	}
}

void pci_set_master(struct pci_dev *p)
{
	command_bits(p, PCI_COMMAND_MASTER, 0);
	p->is_busmaster = true;
}

void pci_clear_master(struct pci_dev *p)
{
	command_bits(p, 0, PCI_COMMAND_MASTER);
	p->is_busmaster = false;
}

u64 pci_resource_start(struct pci_dev *p, int bar)
{
	return bar == 0 ? hw(p)->bar0_addr : 0;
}

u64 pci_resource_len(struct pci_dev *p, int bar)
{
	return bar == 0 && hw(p)->bar0 ? hw(p)->type->bar0_size : 0;
}

int pci_request_regions(struct pci_dev *p, const char *name)
{
	struct kpci *k = kpci_of(p);
	struct machine *m = (struct machine *)p->dev.machine;

	if (!k->bar_res)
		return 0;
	if (k->region)
		return -EBUSY;
	k->region = insert_resource(&m->iomem, k->bar_res->start,
				    k->bar_res->end, name);
	return k->region ? 0 : -EBUSY;
}

void pci_release_regions(struct pci_dev *p)
{
	(void)p; /* the tree is freed with the machine */
}

void __iomem *pci_iomap(struct pci_dev *p, int bar, unsigned long maxlen)
{
	struct pci_func *fn = hw(p);

	(void)maxlen;
	if (bar != 0 || !fn->bar0)
		return NULL;
	return mmio_window(fn->bar0);
}

void pci_iounmap(struct pci_dev *p, void __iomem *addr)
{
	(void)p;
	(void)addr;
}

u64 dmasim_mmio_read(const volatile void __iomem *addr, unsigned int size)
{
	return mmio_read(addr, size);
}

void dmasim_mmio_write(volatile void __iomem *addr, u64 val, unsigned int size)
{
	mmio_write(addr, val, size);
}

/* x86's PCI-MSI hwirq: domain << 27 | bus << 19 | devfn << 11 | index. */
static unsigned long msi_hwirq(const struct pci_dev *p)
{
	return (unsigned long)p->bus->number << 19 |
	       (unsigned long)p->devfn << 11;
}

static void program_msi(struct pci_dev *p, unsigned int n)
{
	struct machine *m = (struct machine *)p->dev.machine;
	struct irq_desc *d = irq_to_desc(m, p->irq);
	unsigned int pos = pci_find_capability(hw(p), PCI_CAP_ID_MSI);
	unsigned int mme = 0;
	uint64_t addr = apic_msi_address(d->cpu);
	u16 flags;

	while ((1u << mme) < n)
		mme++;
	pci_write_config_dword(p, (int)pos + PCI_MSI_ADDRESS_LO, (u32)addr);
	pci_write_config_dword(p, (int)pos + PCI_MSI_ADDRESS_HI,
			       (u32)(addr >> 32));
	pci_write_config_word(p, (int)pos + PCI_MSI_DATA_64, (u16)d->vector);
	pci_read_config_word(p, (int)pos + PCI_MSI_FLAGS, &flags);
	flags = (u16)((flags & ~0x70u) | mme << 4 | PCI_MSI_FLAGS_ENABLE);
	pci_write_config_word(p, (int)pos + PCI_MSI_FLAGS, flags);
	command_bits(p, PCI_COMMAND_INTX_DISABLE, 0);
}

int pci_alloc_irq_vectors(struct pci_dev *p, unsigned int min,
			  unsigned int max, unsigned int flags)
{
	struct machine *m = (struct machine *)p->dev.machine;
	struct kpci *k = kpci_of(p);
	unsigned int pos = pci_find_capability(hw(p), PCI_CAP_ID_MSI);
	unsigned int cap, n;
	u16 f;
	int irq;

	if (!(flags & PCI_IRQ_MSI) || !min || min > max || p->msi_enabled)
		return -EINVAL;
	if (!pos)
		return -ENOSPC;
	pci_read_config_word(p, (int)pos + PCI_MSI_FLAGS, &f);
	cap = 1u << ((f >> 1) & 7);
	for (n = 1; n * 2 <= max && n * 2 <= cap; n *= 2)
		;
	if (n < min)
		return -ENOSPC;
	irq = irq_alloc_msi(m, n, "PCI-MSI", msi_hwirq(p));
	if (irq < 0)
		return irq;
	p->irq = (unsigned)irq;
	p->msi_vectors = n;
	p->msi_enabled = true;
	k->irq_base = (unsigned)irq;
	k->nr_irqs = n;
	program_msi(p, n);
	return (int)n;
}

void pci_free_irq_vectors(struct pci_dev *p)
{
	struct machine *m = (struct machine *)p->dev.machine;
	unsigned int pos = pci_find_capability(hw(p), PCI_CAP_ID_MSI);
	u16 f;

	if (!p->msi_enabled)
		return;
	pci_read_config_word(p, (int)pos + PCI_MSI_FLAGS, &f);
	pci_write_config_word(p, (int)pos + PCI_MSI_FLAGS,
			      (u16)(f & ~PCI_MSI_FLAGS_ENABLE));
	irq_free_msi(m, p->irq, p->msi_vectors);
	p->msi_enabled = false;
	p->msi_vectors = 0;
}

int pci_irq_vector(struct pci_dev *p, unsigned int nr)
{
	if (!p->msi_enabled || nr >= p->msi_vectors)
		return -EINVAL;
	return (int)(p->irq + nr);
}
