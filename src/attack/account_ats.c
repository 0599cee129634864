/*
 * Measuring translated requests (see ats.h): their addresses are host
 * physical, so the bytes they reach are compared with the shadow's
 * physical ranges directly, with no translation of the address.
 */
#include "attack/ats.h"

#include "hw/rogue.h"

enum pci_status atk_read_translated(struct atk_ctx *c, uint64_t phys,
				    void *buf, size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = rogue_read_translated(c->r, phys, buf, len, &n);

	c->res->bytes_leaked += atk_phys_outside(c, phys, n);
	if (done)
		*done = n;
	return st;
}

enum pci_status atk_write_translated(struct atk_ctx *c, uint64_t phys,
				     const void *buf, size_t len,
				     size_t *done)
{
	size_t n = 0;
	enum pci_status st = rogue_write_translated(c->r, phys, buf, len, &n);

	c->res->bytes_corrupted += atk_phys_outside(c, phys, n);
	if (done)
		*done = n;
	return st;
}
