/* /sys/bus/pci and /proc/interrupts (see pci_sysfs.c). */
#ifndef DMASIM_KERNEL_PCI_SYSFS_H
#define DMASIM_KERNEL_PCI_SYSFS_H

struct machine;
struct kpci;

/* A sysfs attribute of a device: the file's context. */
struct pci_attr {
	struct kpci *k;
	int a;
};

#define PCI_SYSFS_ATTRS 15

int pci_sysfs_init(struct machine *m);

#endif
