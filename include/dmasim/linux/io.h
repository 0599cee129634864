/*
 * Register access (linux/io.h): readl/writel and friends on an address
 * pci_iomap returned. Each access reaches the device model, as a load
 * or store to a memory-mapped register does.
 */
#ifndef DMASIM_LINUX_IO_H
#define DMASIM_LINUX_IO_H

#include "types.h"

#define __iomem

u64 dmasim_mmio_read(const volatile void __iomem *addr, unsigned int size);
void dmasim_mmio_write(volatile void __iomem *addr, u64 val,
		       unsigned int size);

static inline u8 readb(const volatile void __iomem *a)
{
	return (u8)dmasim_mmio_read(a, 1);
}
static inline u16 readw(const volatile void __iomem *a)
{
	return (u16)dmasim_mmio_read(a, 2);
}
static inline u32 readl(const volatile void __iomem *a)
{
	return (u32)dmasim_mmio_read(a, 4);
}
static inline u64 readq(const volatile void __iomem *a)
{
	return dmasim_mmio_read(a, 8);
}
static inline void writeb(u8 v, volatile void __iomem *a)
{
	dmasim_mmio_write(a, v, 1);
}
static inline void writew(u16 v, volatile void __iomem *a)
{
	dmasim_mmio_write(a, v, 2);
}
static inline void writel(u32 v, volatile void __iomem *a)
{
	dmasim_mmio_write(a, v, 4);
}
static inline void writeq(u64 v, volatile void __iomem *a)
{
	dmasim_mmio_write(a, v, 8);
}
#define ioread8(a)	   readb(a)
#define ioread16(a)	   readw(a)
#define ioread32(a)	   readl(a)
#define iowrite8(v, a)	   writeb(v, a)
#define iowrite16(v, a)	   writew(v, a)
#define iowrite32(v, a)	   writel(v, a)

#endif
