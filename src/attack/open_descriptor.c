/*
 * open-descriptor: Thunderclap's spatio-temporal story. The driver sends
 * a packet: a kmalloc-2k buffer mapped DMA_TO_DEVICE (readable, and with
 * it the whole page). The device never completes it, so the driver never
 * unmaps; every millisecond the kernel puts another object (a session
 * key) in the other half of that page, and the device reads the page
 * again. Then the mitigation: a 5 ms transmit watchdog that takes the
 * buffer back; in strict mode the device faults from then on, in lazy
 * mode only once the flush queue is flushed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attack/attack.h"
#include "dmasim/linux/slab.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/machine.h"

#define PHASE_MS   10
#define WATCHDOG   5
#define PHASE2_MS  20

/* One millisecond: the kernel uses the page's other half, the device
 * reads the page; returns true if it saw that object's contents. */
static bool tick(struct atk_ctx *c, uint64_t page, unsigned int n, bool *ok)
{
	uint8_t buf[4096], *obj = kmalloc(2048, GFP_KERNEL);
	char key[48];
	size_t done = 0;
	bool seen = false;

	snprintf(key, sizeof(key), "session key %u: %08x", n, n * 0x9e3779b9u);
	if (obj) {
		memset(obj, 0, 2048);
		memcpy(obj, key, strlen(key));
	}
	*ok = atk_read(c, page, buf, sizeof(buf), &done) == PCI_STATUS_OK;
	for (size_t i = 0; obj && i + strlen(key) <= done && !seen; i += 2048)
		seen = !memcmp(buf + i, key, strlen(key));
	kfree(obj);
	atk_advance_ms(c, 1);
	return seen;
}

static uint64_t send(struct atk_ctx *c, const char *what)
{
	struct rogue_iova v[ROGUE_MAX_SEEN];
	size_t n;

	if (rnic_xmit(c->nic, what, strlen(what)))
		return 0;
	atk_shadow_sync(c);
	rogue_tx_complete(c->r); /* withheld */
	n = rogue_iovas(c->r, v, ROGUE_MAX_SEEN);
	return n ? v[n - 1].addr & ~0xfffULL : 0;
}

int attack_open_descriptor(struct atk_ctx *c)
{
	unsigned int seen = 0, reads2 = 0, last_ok = 0;
	uint64_t page;
	bool ok;

	rogue_set_withhold(c->r, true);
	page = send(c, "packet one");
	if (!page)
		return -EIO;
	atk_did(c, "driver: sent a packet, mapped DMA_TO_DEVICE in page 0x%llx; the device never completes it",
		(unsigned long long)page);
	for (unsigned int ms = 0; ms < PHASE_MS; ms++)
		seen += tick(c, page, ms, &ok);
	atk_did(c, "device: read the page every 1 ms for %u ms: saw %u of %u kernel objects",
		PHASE_MS, seen, PHASE_MS);
	rnic_set_timeout(c->nic, WATCHDOG);
	page = send(c, "packet two");
	if (!page)
		return -EIO;
	for (unsigned int ms = 0; ms < PHASE2_MS; ms++) {
		rnic_watchdog(c->nic);
		atk_shadow_sync(c);
		tick(c, page, PHASE_MS + ms, &ok);
		reads2 += ok;
		last_ok = ok ? ms + 1 : last_ok;
	}
	atk_did(c, "mitigation: %u ms watchdog; the device read a second packet's page %u times in %u ms (last at %u ms)",
		WATCHDOG, reads2, PHASE2_MS, last_ok ? last_ok - 1 : 0);
	if (!seen)
		atk_verdict(c, "blocked: the device never saw the page's other objects");
	else if (last_ok <= WATCHDOG)
		atk_verdict(c, "LEAK: %u objects seen while open; the watchdog closed it at %u ms",
			    seen, WATCHDOG);
	else if (last_ok < PHASE2_MS)
		atk_verdict(c, "LEAK: %u objects seen; after the watchdog the page stayed readable until %u ms (flush queue)",
			    seen, last_ok);
	else
		atk_verdict(c, "LEAK: %u objects seen; the watchdog does not help without translation",
			    seen);
	return 0;
}
