/* Register windows (see mmio.h). */
#include "hw/mmio.h"

#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"

#define MMIO_MAGIC 0x6d6d696f72656773ULL

static struct mmio_region *region_new(uint32_t size)
{
	struct mmio_region *r;

	if (size < 16 || size > MMIO_WINDOW_MAX || (size & (size - 1)))
		return NULL;
	r = aligned_alloc(MMIO_ALIGN, MMIO_ALIGN);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->magic = MMIO_MAGIC;
	r->size = size;
	return r;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_func *fn = opaque;

	return fn->type->mmio_read ? fn->type->mmio_read(fn, off, size)
				   : (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void bar_write(void *opaque, uint64_t off, uint64_t val,
		      unsigned int size)
{
	struct pci_func *fn = opaque;

	if (fn->type->mmio_write)
		fn->type->mmio_write(fn, off, val, size);
}

static const struct mmio_ops bar_ops = { bar_read, bar_write };

struct mmio_region *mmio_region_create(struct pci_func *fn, uint32_t size)
{
	struct mmio_region *r = region_new(size);

	if (r) {
		r->ops = &bar_ops;
		r->opaque = fn;
		r->command = &fn->command;
	}
	return r;
}

struct mmio_region *mmio_region_create_ops(const struct mmio_ops *ops,
					   void *opaque, uint32_t size,
					   uint64_t phys)
{
	struct mmio_region *r = region_new(size);

	if (r) {
		r->ops = ops;
		r->opaque = opaque;
		r->phys = phys;
	}
	return r;
}

void mmio_region_destroy(struct mmio_region *r)
{
	if (r)
		r->magic = 0;
	free(r);
}

void *mmio_window(struct mmio_region *r)
{
	return (char *)r + MMIO_WINDOW_MAX;
}

/* The region a window address belongs to, and the offset in it. */
static struct mmio_region *decode(const volatile void *addr,
				  unsigned int size, uint64_t *off)
{
	uintptr_t a = (uintptr_t)addr;
	struct mmio_region *r = (struct mmio_region *)(a & ~(uintptr_t)(MMIO_ALIGN - 1));
	uintptr_t win = (uintptr_t)r + MMIO_WINDOW_MAX;

	if (a < win || r->magic != MMIO_MAGIC)
		return NULL;
	*off = a - win;
	if (*off + size > r->size || (*off & (size - 1)))
		return NULL;
	if (r->command && !(atomic_load_explicit(r->command,
						 memory_order_acquire) &
			    PCI_COMMAND_MEMORY))
		return NULL;
	return r;
}

uint64_t mmio_read(const volatile void *addr, unsigned int size)
{
	uint64_t off;
	struct mmio_region *r = decode(addr, size, &off);

	if (!r)
		return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	return r->ops->read(r->opaque, off, size);
}

void mmio_write(volatile void *addr, uint64_t val, unsigned int size)
{
	uint64_t off;
	struct mmio_region *r = decode(addr, size, &off);

	if (r)
		r->ops->write(r->opaque, off, val, size);
}
