/*
 * shared-group: two functions of one card, function 0 (A, the victim
 * NIC) and function 1 (B, the attacker). Without ACS on the card the
 * kernel cannot tell them apart on the bus: they are one IOMMU group
 * and share one domain (Linux's pci_device_group), so whatever the
 * kernel maps for A, B reaches through the same IOVAs. B knows those
 * IOVAs: it is the same piece of hardware as A. It reads the packet A's
 * driver has queued for sending and writes a forged packet into A's
 * receive buffer; the driver then looks at that buffer. With ACS on
 * function 0 (multifunction=on here), each function is its own group
 * with its own domain and B's accesses fault. Without translation
 * (no IOMMU, passthrough) groups change nothing: B reaches all of RAM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attack/attack.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/iommu.h"
#include "dmasim/linux/pci.h"
#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/iommu/group.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

#define SECRET "session key for A: 6b1f0c9e27d3a845f0e1b2c3d4e5f607"

struct seen {
	bool read_ok, write_ok;	/* the accesses that landed */
	bool secret;		/* B saw A's packet */
	bool forged;		/* A's driver sees B's packet */
};

static int group_id(struct pci_dev *p)
{
	struct kpci *k = kpci_of(p);

	return k && k->group ? k->group->id : -1;
}

static void describe_groups(struct atk_ctx *c)
{
	int a = group_id(c->vpdev), b = group_id(c->pdev);

	if (a < 0 || b < 0)
		atk_did(c, "kernel: no IOMMU in use, so no groups");
	else if (a == b)
		atk_did(c, "kernel: A (%s) and B (%s) are both in iommu group %d: one domain",
			pci_name(c->vpdev), pci_name(c->pdev), a);
	else
		atk_did(c, "kernel: A (%s) is in iommu group %d, B (%s) in group %d: two domains",
			pci_name(c->vpdev), a, pci_name(c->pdev), b);
}

/* A's driver: one receive buffer, one packet queued for sending. */
static int victim_up(struct atk_ctx *c, struct rnic_buf *rx, struct rnic_buf *tx)
{
	struct rnic_buf b[2];
	size_t n;
	int ret = rnic_open(c->vnic, 1);

	if (!ret)
		ret = rnic_xmit(c->vnic, SECRET, strlen(SECRET));
	if (ret)
		return ret;
	n = rnic_buffers(c->vnic, b, 2);
	if (n != 2)
		return -EIO;
	*rx = b[0].tx ? b[1] : b[0];
	*tx = b[0].tx ? b[0] : b[1];
	atk_did(c, "driver A: rx buffer mapped DMA_FROM_DEVICE at 0x%llx, a %zu-byte packet DMA_TO_DEVICE at 0x%llx",
		(unsigned long long)rx->dma, tx->len, (unsigned long long)tx->dma);
	return 0;
}

/* What function 0 was given, as the card recorded it: the newest
 * receive and transmit addresses. */
static bool card_iovas(struct atk_ctx *c, struct rogue_iova *rx,
		       struct rogue_iova *tx)
{
	struct rogue_iova v[ROGUE_MAX_SEEN];
	size_t n = rogue_iovas(c->vr, v, ROGUE_MAX_SEEN);
	bool have_rx = false, have_tx = false;

	for (size_t i = 0; i < n; i++) {
		if (v[i].tx) {
			*tx = v[i];
			have_tx = true;
		} else {
			*rx = v[i];
			have_rx = true;
		}
	}
	return have_rx && have_tx;
}

static void attack_a(struct atk_ctx *c, const struct rnic_buf *rx,
		     const struct rogue_iova *rxv, const struct rogue_iova *txv,
		     struct seen *s)
{
	char got[RNIC_BUF_SIZE], forged[RNIC_BUF_SIZE];
	size_t n = 0, w = 0, len = txv->len < sizeof(got) ? txv->len : sizeof(got);

	atk_read(c, txv->addr, got, len, &n);
	s->read_ok = n == len;
	s->secret = s->read_ok && !memcmp(got, SECRET, strlen(SECRET));
	for (size_t i = 0; i < sizeof(forged); i++)
		forged[i] = "FORGED BY FUNCTION 1 "[i % 21];
	atk_write(c, rxv->addr, forged, rx->len, &w);
	s->write_ok = w == rx->len;
	atk_did(c, "device B: read %zu bytes at A's 0x%llx%s, wrote %zu at A's 0x%llx",
		n, (unsigned long long)txv->addr, s->secret ? " (A's packet)" : "",
		w, (unsigned long long)rxv->addr);
	/* the driver looks at what it believes A received */
	dma_sync_single_for_cpu(&c->vpdev->dev, rx->dma, rx->len, DMA_FROM_DEVICE);
	s->forged = !memcmp(rx->cpu, forged, rx->len);
	if (s->forged)
		atk_did(c, "driver A: its rx buffer holds B's forged packet");
}

static void verdict(struct atk_ctx *c, const struct seen *s)
{
	struct iommu_domain *d = c->pdev->dev.iommu_domain;
	bool translated = d && (d->type & __IOMMU_DOMAIN_PAGING);
	const char *why = !translated ? "without translation B reaches everything anyway"
			: d == c->vpdev->dev.iommu_domain ? "one group, one domain"
			: "separate domains";

	if (s->secret && s->forged)
		atk_verdict(c, "ATTACK SUCCEEDED: read A's packet, forged A's rx data (%s)", why);
	else if (s->secret || s->forged)
		atk_verdict(c, "ATTACK SUCCEEDED: %s (%s)",
			    s->secret ? "read A's packet" : "forged A's rx data", why);
	else
		atk_verdict(c, "blocked: B's domain maps none of A's IOVAs (%s)", why);
}

int attack_shared_group(struct atk_ctx *c)
{
	struct rnic_buf rx, tx;
	struct rogue_iova rxv, txv;
	struct seen s = { false, false, false, false };
	int ret;

	if (!c->vnic)
		return -ENODEV;
	describe_groups(c);
	ret = victim_up(c, &rx, &tx);
	if (ret)
		return ret;
	if (!card_iovas(c, &rxv, &txv))
		return -EIO;
	atk_did(c, "device B: function 1 of the same card knows the IOVAs function 0 was given");
	attack_a(c, &rx, &rxv, &txv, &s);
	verdict(c, &s);
	return 0;
}
