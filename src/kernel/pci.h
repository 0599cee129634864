/*
 * The kernel's PCI subsystem: it scans the fabric through configuration
 * space as Linux does at boot (printing the same lines), keeps a
 * struct pci_dev per function, binds the built-in drivers and offers
 * /sys/bus/pci and /proc/interrupts.
 */
#ifndef DMASIM_KERNEL_PCI_H
#define DMASIM_KERNEL_PCI_H

#include <stdint.h>

#include "dmasim/linux/pci.h"
#include "kernel/pci_sysfs.h"

struct machine;
struct pci_func;
struct resource;
struct iommu_group;

struct kpci {
	struct pci_dev pdev;
	struct pci_bus bus;
	struct device_dma_parameters dma_parms;
	struct pci_func *fn;
	char name[16];
	struct resource *bar_res;
	struct resource *region;  /* pci_request_regions */
	int enable_cnt;
	unsigned int irq_base, nr_irqs;
	char irq_names[8][48];
	struct pci_attr sysfs[PCI_SYSFS_ATTRS];
	struct iommu_group *group;	/* when an IOMMU is on */
};

struct pci_kernel {
	struct kpci **devs;
	unsigned int nr;
};

/* Scan the fabric (boot lines, struct pci_dev per function). */
int pci_subsys_init(struct machine *m);
/* Probe the built-in drivers on the functions they match. */
void pci_bind_drivers(struct machine *m);
/* Remove every driver (before the IOMMU goes away). */
void pci_unbind_drivers(struct machine *m);
/* Bind @drv (NULL: the first built-in driver that matches) to @p: 0,
 * -EBUSY (a driver is bound), -ENODEV (no match) or the probe's error.
 * A driver without an id table takes any device. */
int pci_driver_bind(struct pci_dev *p, const struct pci_driver *drv);
/* Remove @p's driver (its remove, then DMA-API debugging's check). */
void pci_driver_unbind(struct pci_dev *p);
void pci_subsys_exit(struct machine *m);
struct kpci *kpci_of(struct pci_dev *pdev);
/* Find the device's ATS capability (ats.c), at scan time. */
void pci_ats_init(struct pci_dev *pdev);

/* The bus name of every PCI device (one string: compare pointers). */
extern const char pci_bus_name[];

static inline bool dev_is_pci(const struct device *dev)
{
	return dev->bus_name == pci_bus_name;
}
struct pci_dev *pci_get_by_name(struct machine *m, const char *name);
/* Where the host bridge's memory window below 4 GiB starts (it ends at
 * 0xfebfffff), as /proc/iomem has it. */
uint64_t pci_window_start(struct machine *m);
/* Built-in drivers, in binding order. */
extern const struct pci_driver *const pci_builtin_drivers[];

#endif
