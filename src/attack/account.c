/*
 * Measuring an attack: the shadow of what the kernel mapped for the
 * device, and the accounting of every access the device makes against
 * it. A mapping exposes its buffer's bytes; a mapping dma-iommu bounced
 * through swiotlb exposes the whole granules of its slots (Linux zeroes
 * the padding, so nothing else is in them). A successful access is
 * translated page by page, through the device's domain when it has a
 * translating one (falling back to the mappings it once had: a stale
 * IOTLB entry still reaches them), else the address is physical.
 */
#include "attack/attack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dmasim/linux/iommu.h"
#include "dmasim/linux/pci.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/machine.h"

#define GRANULE 4096ULL

static struct iommu_domain *paging_domain(struct atk_ctx *c)
{
	struct iommu_domain *d = c->pdev->dev.iommu_domain;

	return d && (d->type & __IOMMU_DOMAIN_PAGING) ? d : NULL;
}

uint64_t atk_xlate(struct atk_ctx *c, uint64_t dma)
{
	struct iommu_domain *d = paging_domain(c);
	uint64_t page = dma & ~(GRANULE - 1);

	if (!d)
		return dma;
	{
		phys_addr_t p = iommu_iova_to_phys(d, page);

		if (p)
			return p + (dma - page);
	}
	for (size_t i = c->nmaps; i-- > 0;) {
		const struct atk_map *mp = &c->maps[i];
		uint64_t lo = mp->dma & ~(GRANULE - 1);

		if (dma >= lo && dma < mp->dma + mp->len + GRANULE)
			return (mp->phys_lo & ~(GRANULE - 1)) + (dma - lo);
	}
	return UINT64_MAX;
}

void atk_shadow_add(struct atk_ctx *c, uint64_t dma, uint64_t len)
{
	struct atk_map mp = { dma, len, 0, 0, true };
	uint64_t p = atk_xlate(c, dma);

	if (c->nmaps == ATK_MAX_MAPS) /* the oldest dead one goes */
		for (size_t i = 0; i < c->nmaps; i++)
			if (!c->maps[i].live) {
				memmove(&c->maps[i], &c->maps[i + 1],
					(c->nmaps - i - 1) * sizeof(mp));
				c->nmaps--;
				break;
			}
	if (c->nmaps == ATK_MAX_MAPS)
		return;
	mp.phys_lo = p;
	mp.phys_hi = p + len;
	/* dma-iommu bounces into whole granules and zeroes the padding;
	 * dma-direct's bounce exposes the slots' bytes, no more */
	if (paging_domain(c) && c->m->swiotlb && is_swiotlb_buffer(c->m, p)) {
		mp.phys_lo = p & ~(GRANULE - 1);
		mp.phys_hi = (p + len + GRANULE - 1) & ~(GRANULE - 1);
	}
	c->maps[c->nmaps++] = mp;
}

void atk_shadow_drop(struct atk_ctx *c, uint64_t dma)
{
	for (size_t i = 0; i < c->nmaps; i++)
		if (c->maps[i].live && c->maps[i].dma == dma)
			c->maps[i].live = false;
}

void atk_shadow_sync(struct atk_ctx *c)
{
	struct rnic_buf b[2 * 16];
	size_t n = c->nic ? rnic_buffers(c->nic, b, 32) : 0;

	for (size_t i = 0; i < c->nmaps; i++) {
		bool held = false;

		for (size_t k = 0; k < n && !held; k++)
			held = b[k].dma == c->maps[i].dma;
		if (!held)
			c->maps[i].live = false;
	}
	for (size_t k = 0; k < n; k++) {
		bool known = false;

		for (size_t i = 0; i < c->nmaps && !known; i++)
			known = c->maps[i].live && c->maps[i].dma == b[k].dma;
		if (!known)
			atk_shadow_add(c, b[k].dma, b[k].len);
	}
}

uint64_t atk_phys_outside(const struct atk_ctx *c, uint64_t p, uint64_t n)
{
	uint64_t in = 0;

	if (p == UINT64_MAX)
		return n;
	for (size_t i = 0; i < c->nmaps; i++) {
		const struct atk_map *mp = &c->maps[i];
		uint64_t lo = p > mp->phys_lo ? p : mp->phys_lo;
		uint64_t hi = p + n < mp->phys_hi ? p + n : mp->phys_hi;

		if (mp->live && hi > lo)
			in += hi - lo;
	}
	return in >= n ? 0 : n - in;
}

/* Bytes of the device range [addr, addr + len) outside the shadow. */
static uint64_t account(struct atk_ctx *c, uint64_t addr, size_t len)
{
	uint64_t total = 0;

	while (len) {
		uint64_t room = GRANULE - (addr & (GRANULE - 1));
		uint64_t n = len < room ? len : room;

		total += atk_phys_outside(c, atk_xlate(c, addr), n);
		addr += n;
		len -= n;
	}
	return total;
}

enum pci_status atk_read(struct atk_ctx *c, uint64_t addr, void *buf,
			 size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = rogue_read(c->r, addr, buf, len, &n);

	c->res->bytes_leaked += account(c, addr, n);
	if (done)
		*done = n;
	return st;
}

enum pci_status atk_write(struct atk_ctx *c, uint64_t addr, const void *buf,
			  size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = rogue_write(c->r, addr, buf, len, &n);

	c->res->bytes_corrupted += account(c, addr, n);
	if (done)
		*done = n;
	return st;
}

void atk_did(struct atk_ctx *c, const char *fmt, ...)
{
	char *s = c->res->did;
	size_t used = strlen(s);
	va_list ap;

	if (used + 2 >= sizeof(c->res->did))
		return;
	va_start(ap, fmt);
	vsnprintf(s + used, sizeof(c->res->did) - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(s);
	s[used] = '\n';
	s[used + 1] = '\0';
}

void atk_verdict(struct atk_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->res->verdict, sizeof(c->res->verdict), fmt, ap);
	va_end(ap);
}

void atk_advance_ms(struct atk_ctx *c, unsigned int ms)
{
	dmasim_clock_advance(c->dm, (uint64_t)ms * 1000000ULL);
}
