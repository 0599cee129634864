/*
 * Measuring translated requests (see ats.h): their addresses are host
 * physical, so the bytes they reach are compared with the shadow's
 * physical ranges directly, with no translation of the address.
 */
#include "attack/ats.h"

#include "hw/rogue.h"

/* Bytes of [p, p + n) that no live mapping exposes. */
static uint64_t phys_outside(const struct atk_ctx *c, uint64_t p, uint64_t n)
{
	uint64_t in = 0;

	for (size_t i = 0; i < c->nmaps; i++) {
		const struct atk_map *mp = &c->maps[i];
		uint64_t lo = p > mp->phys_lo ? p : mp->phys_lo;
		uint64_t hi = p + n < mp->phys_hi ? p + n : mp->phys_hi;

		if (mp->live && hi > lo)
			in += hi - lo;
	}
	return in >= n ? 0 : n - in;
}

enum pci_status atk_read_translated(struct atk_ctx *c, uint64_t phys,
				    void *buf, size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = rogue_read_translated(c->r, phys, buf, len, &n);

	c->res->bytes_leaked += phys_outside(c, phys, n);
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

	c->res->bytes_corrupted += phys_outside(c, phys, n);
	if (done)
		*done = n;
	return st;
}
