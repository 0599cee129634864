/*
 * struct device and the dev_* helpers (linux/device.h), as far as DMA
 * drivers use them. dev_info() and friends print Linux's
 * "<driver> <device>: " prefix into the machine's log.
 */
#ifndef DMASIM_LINUX_DEVICE_H
#define DMASIM_LINUX_DEVICE_H

#include "types.h"

struct dmasim_machine;
struct iommu_domain;
struct dma_map_ops;

struct device_driver {
	const char *name;
};

/* Segment limits for scatter-gather (PCI devices have them). */
struct device_dma_parameters {
	unsigned int max_segment_size;
	unsigned int min_align_mask;
	unsigned long segment_boundary_mask;
};

struct device {
	const char *init_name;		 /* "0000:00:02.0" */
	const char *bus_name;		 /* "pci" */
	struct device *parent;
	const struct device_driver *driver;
	void *driver_data;
	u64 *dma_mask;			 /* points at the bus device's mask */
	u64 coherent_dma_mask;
	u64 bus_dma_limit;
	struct device_dma_parameters *dma_parms;
	bool dma_coherent;
	struct dmasim_machine *machine;	 /* the machine it belongs to */
	void *dma_private;		 /* the DMA layer's state */
	struct iommu_domain *iommu_domain; /* attached domain, if any */
	const struct dma_map_ops *dma_ops; /* NULL: dma-direct */
	bool dma_iommu_64bit;		 /* IOVAs above 4 GiB from now on */
};

const char *dev_name(const struct device *dev);
const char *dev_driver_string(const struct device *dev);

static inline void *dev_get_drvdata(const struct device *dev)
{
	return dev->driver_data;
}

static inline void dev_set_drvdata(struct device *dev, void *data)
{
	dev->driver_data = data;
}

__attribute__((format(printf, 3, 4))) void
dev_printk(const char *level, const struct device *dev, const char *fmt, ...);

#define dev_emerg(dev, ...)  dev_printk("\0010", dev, __VA_ARGS__)
#define dev_alert(dev, ...)  dev_printk("\0011", dev, __VA_ARGS__)
#define dev_crit(dev, ...)   dev_printk("\0012", dev, __VA_ARGS__)
#define dev_err(dev, ...)    dev_printk("\0013", dev, __VA_ARGS__)
#define dev_warn(dev, ...)   dev_printk("\0014", dev, __VA_ARGS__)
#define dev_notice(dev, ...) dev_printk("\0015", dev, __VA_ARGS__)
#define dev_info(dev, ...)   dev_printk("\0016", dev, __VA_ARGS__)
#define dev_dbg(dev, ...)    dev_printk("\0017", dev, __VA_ARGS__)

#endif
