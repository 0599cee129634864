/*
 * PCI in sysfs as Linux lays it out: each function's directory under
 * /sys/devices/pci0000:00/, below the bridges above it (.../0000:00:01.0/
 * 0000:01:00.0), with its attributes in Linux's formats (vendor, device,
 * class: "0x%04x" / "0x%06x"; irq; enable; resource with 13 lines for
 * endpoints and 17 for bridges; dma_mask_bits; msi_irqs/; uevent);
 * /sys/bus/pci/devices/<name> a link to it ("../../../devices/pci0000:00/
 * <name>"); a bound driver's /sys/bus/pci/drivers/<driver>/<name> a link
 * to the device and the device's "driver" a link back; and
 * /proc/interrupts as x86 prints it.
 */
#include "kernel/pci_sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/pci.h"
#include "kernel/irq.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

enum attr {
	A_VENDOR, A_DEVICE, A_SUBVENDOR, A_SUBDEVICE, A_CLASS, A_REVISION,
	A_IRQ, A_ENABLE, A_RESOURCE, A_DMA_BITS, A_COHERENT_BITS, A_UEVENT,
	A_NUMA, A_MSI_BUS, A_POOLS, A_NR
};

static const char *const attr_names[A_NR] = {
	"vendor", "device", "subsystem_vendor", "subsystem_device", "class",
	"revision", "irq", "enable", "resource", "dma_mask_bits",
	"consistent_dma_mask_bits", "uevent", "numa_node", "msi_bus", "pools",
};

_Static_assert(A_NR == PCI_SYSFS_ATTRS, "attribute count");

static int mask_bits(u64 mask)
{
	int bits = 0;

	while (bits < 64 && (mask >> bits))
		bits++;
	return bits;
}

static void show_resource(struct kpci *k, struct strbuf *out)
{
	int lines = k->pdev.hdr_type == 1 ? 17 : 13;

	for (int i = 0; i < lines; i++) {
		unsigned long long s = 0, e = 0, f = 0;

		if (i == 0 && k->fn->bar0) {
			s = k->fn->bar0_addr;
			e = s + k->fn->type->bar0_size - 1;
			f = 0x140204; /* MEM | MEM_64 | SIZEALIGN | 64-bit BAR */
		} else if (i == 14 && k->fn->win_end) {
			s = k->fn->win_start;
			e = k->fn->win_end;
			f = 0x200; /* bridge memory window */
		}
		strbuf_printf(out, "0x%016llx 0x%016llx 0x%016llx\n", s, e, f);
	}
}

static void show_uevent(struct kpci *k, struct strbuf *out)
{
	const struct pci_dev *p = &k->pdev;

	if (p->driver)
		strbuf_printf(out, "DRIVER=%s\n", p->driver->name);
	strbuf_printf(out, "PCI_CLASS=%X\n", p->class);
	strbuf_printf(out, "PCI_ID=%04X:%04X\n", p->vendor, p->device);
	strbuf_printf(out, "PCI_SUBSYS_ID=%04X:%04X\n", p->subsystem_vendor,
		      p->subsystem_device);
	strbuf_printf(out, "PCI_SLOT_NAME=%s\n", k->name);
	strbuf_printf(out,
		      "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
		      p->vendor, p->device, p->subsystem_vendor,
		      p->subsystem_device, p->class >> 16, (p->class >> 8) & 0xff,
		      p->class & 0xff);
}

static void show_attr(struct machine *m, void *ctx, struct strbuf *out)
{
	struct pci_attr *c = ctx;
	struct kpci *k = c->k;
	const struct pci_dev *p = &k->pdev;

	switch (c->a) {
	case A_VENDOR: strbuf_printf(out, "0x%04x\n", p->vendor); break;
	case A_DEVICE: strbuf_printf(out, "0x%04x\n", p->device); break;
	case A_SUBVENDOR: strbuf_printf(out, "0x%04x\n", p->subsystem_vendor); break;
	case A_SUBDEVICE: strbuf_printf(out, "0x%04x\n", p->subsystem_device); break;
	case A_CLASS: strbuf_printf(out, "0x%06x\n", p->class); break;
	case A_REVISION: strbuf_printf(out, "0x%02x\n", p->revision); break;
	case A_IRQ: strbuf_printf(out, "%u\n", p->irq); break;
	case A_ENABLE: strbuf_printf(out, "%d\n", k->enable_cnt); break;
	case A_RESOURCE: show_resource(k, out); break;
	case A_DMA_BITS: strbuf_printf(out, "%d\n", mask_bits(p->dma_mask)); break;
	case A_COHERENT_BITS:
		strbuf_printf(out, "%d\n", mask_bits(p->dev.coherent_dma_mask));
		break;
	case A_UEVENT: show_uevent(k, out); break;
	case A_NUMA: strbuf_puts(out, "-1\n"); break;
	case A_MSI_BUS: strbuf_puts(out, "1\n"); break;
	case A_POOLS: dma_pools_show(m, &k->pdev.dev, out); break;
	case A_NR: break;
	}
}

static void show_msi_irq(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)m;
	(void)ctx;
	strbuf_puts(out, "msi\n");
}

/* /proc/interrupts: x86's arch_show_interrupts after the numbered lines. */
static void show_interrupts(struct machine *m, void *ctx, struct strbuf *out)
{
	int prec = 3;

	(void)ctx;
	for (int j = NR_IRQS; j >= 1000; j /= 10)
		prec++;
	strbuf_printf(out, "%*s", prec + 8, "");
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		strbuf_printf(out, "CPU%-8u", c);
	strbuf_putc(out, '\n');
	for (unsigned int i = 0; i < NR_IRQS; i++) {
		struct irq_desc *d = irq_to_desc(m, i);
		struct irqaction *a;

		if (!d)
			continue;
		a = atomic_load(&d->action);
		if (!a && !irq_count(m, i))
			continue;
		strbuf_printf(out, "%*u: ", prec, i);
		for (unsigned int c = 0; c < m->nr_cpus; c++)
			strbuf_printf(out, "%10lu ", atomic_load(&d->kstat[c]));
		strbuf_printf(out, " %8s", d->chip);
		strbuf_printf(out, " %*lu", prec, d->hwirq);
		strbuf_printf(out, "-%-8s", "edge");
		if (a)
			strbuf_printf(out, "  %s", a->name);
		strbuf_putc(out, '\n');
	}
	strbuf_printf(out, "%*s: %10lu\n", prec, "ERR",
		      atomic_load(&m->irq.err_count));
	strbuf_printf(out, "%*s: %10d\n", prec, "MIS", 0);
}

/* The upstream bridges' names, top first, then the function's own. */
static void add_path(struct strbuf *sb, const struct pci_func *fn)
{
	if (fn->parent)
		add_path(sb, fn->parent);
	strbuf_printf(sb, "/%s", fn->name);
}

int pci_sysfs_dev_path(const struct kpci *k, char *buf, size_t len)
{
	struct strbuf sb;
	int ret = 0;

	strbuf_init(&sb);
	strbuf_puts(&sb, PCI_SYSFS_ROOT);
	add_path(&sb, k->fn);
	if (sb.failed || sb.len >= len)
		ret = sb.failed ? -ENOMEM : -ENAMETOOLONG;
	else
		memcpy(buf, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	return ret;
}

static int add_attrs(struct machine *m, struct kpci *k, const char *dir)
{
	char path[PCI_SYSFS_PATH_MAX + 64];
	int ret = 0;

	for (int a = 0; a < A_NR && !ret; a++) {
		struct pci_attr *c = &k->sysfs[a];

		c->k = k;
		c->a = a;
		snprintf(path, sizeof(path), "%s/%s", dir, attr_names[a]);
		ret = vfs_add_file(&m->vfs, path, show_attr, c);
	}
	for (unsigned int i = 0; i < k->nr_irqs && !ret; i++) {
		snprintf(path, sizeof(path), "%s/msi_irqs/%u", dir,
			 k->irq_base + i);
		ret = vfs_add_file(&m->vfs, path, show_msi_irq, NULL);
	}
	return ret;
}

static int add_driver_links(struct machine *m, struct kpci *k, const char *dir)
{
	char path[PCI_SYSFS_PATH_MAX + 64], drv[128];
	int ret;

	snprintf(drv, sizeof(drv), "/sys/bus/pci/drivers/%s",
		 k->pdev.driver->name);
	snprintf(path, sizeof(path), "%s/%s", drv, k->name);
	ret = vfs_link_to(&m->vfs, path, dir);
	snprintf(path, sizeof(path), "%s/driver", dir);
	return ret ? ret : vfs_link_to(&m->vfs, path, drv);
}

/* A driver was bound to or unbound from @k after boot (vfio-pci taking
 * a device, its host driver coming back): the links follow, as sysfs's
 * do. @old is the driver that was bound before (NULL: none). */
void pci_sysfs_driver_changed(struct machine *m, struct kpci *k,
			      const struct pci_driver *old)
{
	char dir[PCI_SYSFS_PATH_MAX], path[PCI_SYSFS_PATH_MAX + 64];

	if (!m->pci_sysfs_ready || pci_sysfs_dev_path(k, dir, sizeof(dir)))
		return;
	if (old) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/%s",
			 old->name, k->name);
		vfs_unlink(&m->vfs, path);
		snprintf(path, sizeof(path), "%s/driver", dir);
		vfs_unlink(&m->vfs, path);
	}
	if (k->pdev.driver)
		add_driver_links(m, k, dir);
}

static int add_device(struct machine *m, struct kpci *k)
{
	char dir[PCI_SYSFS_PATH_MAX], path[96];
	int ret = pci_sysfs_dev_path(k, dir, sizeof(dir));

	if (!ret)
		ret = add_attrs(m, k, dir);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", k->name);
	if (!ret)
		ret = vfs_link_to(&m->vfs, path, dir);
	if (!ret && k->pdev.driver)
		ret = add_driver_links(m, k, dir);
	return ret;
}

int pci_sysfs_init(struct machine *m)
{
	int ret = vfs_mkdir(&m->vfs, "/sys/bus/pci/devices");

	if (!ret)
		ret = vfs_mkdir(&m->vfs, "/sys/bus/pci/drivers");
	for (unsigned int i = 0; i < m->pcik.nr && !ret; i++)
		ret = add_device(m, m->pcik.devs[i]);
	if (!ret)
		ret = vfs_add_file(&m->vfs, "/proc/interrupts", show_interrupts,
				   NULL);
	m->pci_sysfs_ready = !ret;
	return ret;
}
