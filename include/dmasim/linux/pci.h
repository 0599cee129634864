/*
 * PCI drivers (linux/pci.h): the device a driver binds to, its config
 * space, BARs, bus mastering and MSI vectors. Drivers are built in and
 * bound at boot to every function their id table matches.
 */
#ifndef DMASIM_LINUX_PCI_H
#define DMASIM_LINUX_PCI_H

#include "device.h"
#include "io.h"
#include "types.h"

#define PCI_ANY_ID (~0u)
#define PCI_IRQ_LEGACY (1 << 0)
#define PCI_IRQ_MSI    (1 << 1)
#define PCI_IRQ_MSIX   (1 << 2)

struct pci_bus {
	unsigned char number;
};

struct pci_driver;

struct pci_dev {
	struct device dev;
	struct pci_bus *bus;
	unsigned int devfn;
	unsigned short vendor, device;
	unsigned short subsystem_vendor, subsystem_device;
	unsigned int class;	/* class << 8 | prog-if, as Linux */
	u8 revision;
	u8 hdr_type;
	unsigned int irq;	/* first MSI vector once allocated */
	unsigned int msi_vectors;
	bool msi_enabled;
	bool is_busmaster;
	bool untrusted;		/* behind an external-facing port */
	bool external_facing;
	u16 ats_cap;		/* the ATS capability's offset, 0: none */
	bool ats_enabled;	/* pci_enable_ats() (linux/pci-ats.h) */
	u8 ats_stu;		/* its smallest translation unit (shift) */
	u64 dma_mask;
	const struct pci_driver *driver;
	void *hw;		/* the kernel's handle on the function */
};

struct pci_device_id {
	u32 vendor, device;
	u32 subvendor, subdevice;
	u32 class, class_mask;
	unsigned long driver_data;
};

#define PCI_DEVICE(v, d) \
	.vendor = (v), .device = (d), .subvendor = PCI_ANY_ID, \
	.subdevice = PCI_ANY_ID

struct pci_driver {
	const char *name;
	const struct pci_device_id *id_table;
	int (*probe)(struct pci_dev *pdev, const struct pci_device_id *id);
	void (*remove)(struct pci_dev *pdev);
	struct device_driver driver;
};

static inline struct pci_dev *to_pci_dev(struct device *dev)
{
	return (struct pci_dev *)((char *)dev - offsetof(struct pci_dev, dev));
}

static inline const char *pci_name(const struct pci_dev *pdev)
{
	return dev_name(&pdev->dev);
}

static inline void *pci_get_drvdata(struct pci_dev *pdev)
{
	return pdev->dev.driver_data;
}

static inline void pci_set_drvdata(struct pci_dev *pdev, void *data)
{
	pdev->dev.driver_data = data;
}

int pci_enable_device(struct pci_dev *pdev);
void pci_disable_device(struct pci_dev *pdev);
void pci_set_master(struct pci_dev *pdev);
void pci_clear_master(struct pci_dev *pdev);
int pci_request_regions(struct pci_dev *pdev, const char *name);
void pci_release_regions(struct pci_dev *pdev);
u64 pci_resource_start(struct pci_dev *pdev, int bar);
u64 pci_resource_len(struct pci_dev *pdev, int bar);
void __iomem *pci_iomap(struct pci_dev *pdev, int bar, unsigned long maxlen);
void pci_iounmap(struct pci_dev *pdev, void __iomem *addr);

/* MSI: returns the number of vectors allocated (a power of two between
 * @min and @max) or -ENOSPC / -EINVAL. */
int pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min,
			  unsigned int max, unsigned int flags);
void pci_free_irq_vectors(struct pci_dev *pdev);
int pci_irq_vector(struct pci_dev *pdev, unsigned int nr);

int pci_read_config_byte(const struct pci_dev *pdev, int where, u8 *val);
int pci_read_config_word(const struct pci_dev *pdev, int where, u16 *val);
int pci_read_config_dword(const struct pci_dev *pdev, int where, u32 *val);
int pci_write_config_byte(const struct pci_dev *pdev, int where, u8 val);
int pci_write_config_word(const struct pci_dev *pdev, int where, u16 val);
int pci_write_config_dword(const struct pci_dev *pdev, int where, u32 val);

#endif
