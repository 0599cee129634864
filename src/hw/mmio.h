/*
 * Memory-mapped registers. A register window is a range of host addresses
 * the kernel reaches with readl/writel (after pci_iomap or ioremap); each
 * access calls the model, as a load or store to a register does on real
 * hardware. The window is never dereferenced: an access finds its region
 * by alignment, so no lookup table is needed and regions of several
 * machines coexist. A region belongs to a PCI function's BAR (decoded only
 * while the function's memory space is enabled) or to a platform unit
 * such as an IOMMU (always decoded).
 */
#ifndef DMASIM_HW_MMIO_H
#define DMASIM_HW_MMIO_H

#include <stdatomic.h>
#include <stdint.h>

#define MMIO_WINDOW_MAX (1u << 16) /* largest window: 64 KiB */
#define MMIO_ALIGN	(2u * MMIO_WINDOW_MAX)

struct pci_func;

struct mmio_ops {
	uint64_t (*read)(void *opaque, uint64_t off, unsigned int size);
	void (*write)(void *opaque, uint64_t off, uint64_t val,
		      unsigned int size);
};

struct mmio_region {
	uint64_t magic;
	uint32_t size;
	const struct mmio_ops *ops;
	void *opaque;
	/* PCI: the function's command register (memory decode bit) */
	_Atomic uint16_t *command;
	uint64_t phys; /* where it sits in the physical address space */
	struct mmio_region *next; /* the machine's platform regions */
};

/* A BAR of @fn, @size bytes (a power of two, 16..MMIO_WINDOW_MAX), using
 * the type's mmio_read/mmio_write. */
struct mmio_region *mmio_region_create(struct pci_func *fn, uint32_t size);
/* A platform register block at @phys. */
struct mmio_region *mmio_region_create_ops(const struct mmio_ops *ops,
					   void *opaque, uint32_t size,
					   uint64_t phys);
void mmio_region_destroy(struct mmio_region *r);
/* The address the window starts at (what pci_iomap/ioremap return). */
void *mmio_window(struct mmio_region *r);

/* Accesses of 1, 2, 4 or 8 bytes. Outside a window, or with memory
 * decoding disabled, reads return all ones and writes are dropped, as a
 * master abort on a real bus. */
uint64_t mmio_read(const volatile void *addr, unsigned int size);
void mmio_write(volatile void *addr, uint64_t val, unsigned int size);

#endif
