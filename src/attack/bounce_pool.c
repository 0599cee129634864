/*
 * bounce-pool: swiotlb's leftovers. On a machine with RAM above 4 GiB a
 * device limited to 32-bit DMA (dma_set_mask 32) has its buffers above
 * 4 GiB bounced through the one pool every device shares, 64 MiB below
 * 4 GiB at an address the boot log prints ("software IO TLB: mapped
 * [mem ...]"). Unmapping copies back and frees the slots but, as in
 * Linux, does not clear them: the bytes stay until the slots are used
 * again. Here a second NIC (A, the victim, 32-bit too) sends a packet;
 * it is bounced, sent and unmapped; then the rogue (B) reads the pool
 * and looks for it. Without translation the pool is RAM like any other.
 * With translation 32-bit devices need no bouncing (their IOVAs are
 * below 4 GiB), the pool's addresses are IOVAs nothing maps, and the
 * device reaches only its own mappings; an untrusted device's sub-page
 * mappings are bounced by dma-iommu into whole granules whose padding
 * is zeroed, and the device reads its own granule to see what is there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attack/attack.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/iommu.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/machine.h"

#define BLOCK  (64u << 10)
#define SECRET "disk block for A: 0f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct pool {
	uint64_t start, end;	/* from the boot log; 0, 0: none */
};

/* The pool as the boot log gives it (the end is exclusive). */
static struct pool pool_from_log(struct atk_ctx *c)
{
	static const char key[] = "software IO TLB: mapped [mem 0x";
	char *log = dmasim_dmesg(c->dm, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	char *at = log ? strstr(log, key) : NULL;
	unsigned long long s = 0, e = 0;
	struct pool p = { 0, 0 };

	if (at && sscanf(at + strlen(key), "%llx-0x%llx", &s, &e) == 2 && e > s)
		p = (struct pool){ s, e };
	free(log);
	return p;
}

static bool translated(struct pci_dev *p)
{
	struct iommu_domain *d = p->dev.iommu_domain;

	return d && (d->type & __IOMMU_DOMAIN_PAGING);
}

/* A's driver sends a packet; A sends it; the driver unmaps and frees
 * it. Returns where it was mapped, 0 if it could not. */
static uint64_t victim_sends(struct atk_ctx *c)
{
	struct rnic_buf b;
	uint64_t phys;

	if (rnic_xmit(c->vnic, SECRET, strlen(SECRET)) ||
	    rnic_buffers(c->vnic, &b, 1) != 1)
		return 0;
	phys = (uint64_t)((uint8_t *)b.cpu - c->m->ram.cpu);
	atk_did(c, "driver A: a %zu-byte packet at phys 0x%llx mapped DMA_TO_DEVICE at 0x%llx%s",
		b.len, (unsigned long long)phys, (unsigned long long)b.dma,
		translated(c->vpdev) ? " (an IOVA)"
		: is_swiotlb_buffer(c->m, b.dma) ? " (bounced: in the pool)" : "");
	if (rogue_tx_complete(c->vr) != 1)
		return 0;
	atk_did(c, "device A: sent it; the driver unmapped and freed it (the slot is free, not cleared)");
	return b.dma;
}

/* Read [start, end) in blocks until the secret turns up; its address. */
static uint64_t sweep(struct atk_ctx *c, uint64_t start, uint64_t end,
		      uint64_t *blocks, uint64_t *answered)
{
	uint8_t *blk = malloc(BLOCK);
	const size_t sl = strlen(SECRET);
	uint64_t found = 0;
	size_t done;

	for (uint64_t a = start; blk && a < end && !found; a += BLOCK) {
		size_t len = end - a < BLOCK ? (size_t)(end - a) : BLOCK;

		atk_read(c, a, blk, len, &done);
		(*blocks)++;
		*answered += done != 0;
		for (size_t off = 0; off + sl <= done && !found; off += 64)
			if (!memcmp(blk + off, SECRET, sl))
				found = a + off;
	}
	free(blk);
	return found;
}

/* Under translation, the device's own packet: if it was bounced into
 * the pool, read its whole granule and count the bytes that are
 * neither its packet nor zero. */
static long own_granule(struct atk_ctx *c, const struct rnic_buf *own)
{
	uint8_t page[4096];
	uint64_t g = own->dma & ~0xfffULL;
	size_t got = 0, stale = 0, off = (size_t)(own->dma - g);

	if (!translated(c->pdev) || !is_swiotlb_buffer(c->m, atk_xlate(c, g)))
		return -1;
	atk_read(c, g, page, sizeof(page), &got);
	for (size_t i = 0; i < got; i++)
		stale += page[i] && (i < off || i >= off + own->len);
	atk_did(c, "device B: its own packet was bounced; its granule (%zu bytes read) holds %zu bytes besides the packet that are not zero",
		got, stale);
	return (long)stale;
}

static int rogue_up(struct atk_ctx *c, struct rnic_buf *own)
{
	struct rnic_buf b[2];
	int ret;

	rogue_set_withhold(c->r, true);
	ret = rnic_open(c->nic, 1);
	if (!ret)
		ret = rnic_xmit(c->nic, "B's own packet", 14);
	if (ret)
		return ret;
	if (rnic_buffers(c->nic, b, 2) != 2)
		return -EIO;
	*own = b[0].tx ? b[0] : b[1];
	atk_shadow_sync(c);
	atk_did(c, "driver B: rx buffer and a packet mapped at 0x%llx and 0x%llx",
		(unsigned long long)(b[0].tx ? b[1] : b[0]).dma,
		(unsigned long long)own->dma);
	return 0;
}

int attack_bounce_pool(struct atk_ctx *c)
{
	struct pool p = pool_from_log(c);
	struct rnic_buf own;
	uint64_t blocks = 0, answered = 0, found;
	long stale;
	int ret;

	if (!c->vnic)
		return -ENODEV;
	if (!p.end) {
		atk_did(c, "kernel: no swiotlb pool (RAM ends below 4 GiB)");
		atk_verdict(c, "nothing to attack: no bounce pool");
		return 0;
	}
	dma_set_mask(&c->vpdev->dev, DMA_BIT_MASK(32));
	dma_set_mask(&c->pdev->dev, DMA_BIT_MASK(32));
	atk_did(c, "kernel: swiotlb pool [mem 0x%llx-0x%llx] (from the boot log); both NICs limited to 32-bit DMA",
		(unsigned long long)p.start, (unsigned long long)p.end);
	ret = rogue_up(c, &own);
	if (ret)
		return ret;
	if (!victim_sends(c))
		return -EIO;
	found = sweep(c, p.start, p.end, &blocks, &answered);
	atk_did(c, "device B: read the pool 64 KiB at a time from its start: %llu reads, %llu answered%s",
		(unsigned long long)blocks, (unsigned long long)answered,
		found ? "; found A's packet" : "");
	stale = own_granule(c, &own);
	if (found)
		atk_verdict(c, "ATTACK SUCCEEDED: A's packet read from the pool after unmap (slots are not cleared)%s",
			    translated(c->pdev) ? "" : "; no translation: the pool is plain RAM");
	else if (stale >= 0)
		atk_verdict(c, "blocked: the pool is not mapped for the device; its own bounced granule held %ld stale bytes (padding zeroed)",
			    stale);
	else if (translated(c->vpdev))
		atk_verdict(c, "blocked: the pool is not mapped for the device; 32-bit DMA needs no bouncing under the IOMMU");
	else
		atk_verdict(c, "blocked: the pool is not mapped for the device");
	return 0;
}
