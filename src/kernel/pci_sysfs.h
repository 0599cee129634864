/* PCI in sysfs, /sys/bus/pci and /proc/interrupts (see pci_sysfs.c). */
#ifndef DMASIM_KERNEL_PCI_SYSFS_H
#define DMASIM_KERNEL_PCI_SYSFS_H

#include <stddef.h>

struct machine;
struct kpci;

/* A sysfs attribute of a device: the file's context. */
struct pci_attr {
	struct kpci *k;
	int a;
};

#define PCI_SYSFS_ATTRS 15

int pci_sysfs_init(struct machine *m);

/* Where PCI functions live in sysfs (the root bus 0000:00's device). */
#define PCI_SYSFS_ROOT	    "/sys/devices/pci0000:00"
#define PCI_SYSFS_PATH_MAX 256
/* The directory of @k: PCI_SYSFS_ROOT, the bridges above it, its name.
 * 0 or -ENAMETOOLONG (longer than @len). */
int pci_sysfs_dev_path(const struct kpci *k, char *buf, size_t len);

/* Bring the driver links of @k up to date after a bind or unbind
 * (@old: the driver bound before, or NULL). */
struct pci_driver;
void pci_sysfs_driver_changed(struct machine *m, struct kpci *k,
			      const struct pci_driver *old);

#endif
