/*
 * Memory-mapped registers. A device's BAR is a window the kernel maps
 * (pci_iomap) and reaches with readl/writel; each access calls the device
 * model, as a load or store to a register does on real hardware. The
 * window is a range of host addresses that is never dereferenced: an
 * access finds its region by alignment, so no lookup table is needed and
 * regions of several machines coexist.
 */
#ifndef DMASIM_HW_MMIO_H
#define DMASIM_HW_MMIO_H

#include <stdint.h>

#define MMIO_WINDOW_MAX (1u << 16) /* largest BAR: 64 KiB */
#define MMIO_ALIGN	(2u * MMIO_WINDOW_MAX)

struct pci_func;

struct mmio_region {
	uint64_t magic;
	uint32_t size;
	struct pci_func *fn;
};

/* A region of @size bytes (a power of two, 16..MMIO_WINDOW_MAX). */
struct mmio_region *mmio_region_create(struct pci_func *fn, uint32_t size);
void mmio_region_destroy(struct mmio_region *r);
/* The address the window starts at (what pci_iomap returns). */
void *mmio_window(struct mmio_region *r);

/* Accesses of 1, 2, 4 or 8 bytes. Outside a window, or with memory
 * decoding disabled, reads return all ones and writes are dropped, as a
 * master abort on a real bus. */
uint64_t mmio_read(const volatile void *addr, unsigned int size);
void mmio_write(volatile void *addr, uint64_t val, unsigned int size);

#endif
