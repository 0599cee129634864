/*
 * The rogue device model (see rogue.h and dmasim/hw/rnic.h): the NIC
 * registers an honest driver programs, and the scripting API attacks
 * use. One lock guards the registers and what the device remembers; bus
 * accesses are made without it (the MSI's handler reads the registers).
 * With ats=on the function has the ATS extended capability; the device
 * sends translated requests whatever its ATS Enable bit says (it is
 * malicious: only the IOMMU can refuse them).
 */
#include "hw/rogue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "dmasim/hw/rnic.h"
#include "hw/bus.h"

struct rogue_slot {
	uint64_t addr;
	uint32_t len;
	uint64_t seq;		/* post order: the oldest is used first */
	bool posted;
};

struct rogue_ring {
	uint64_t addr;		/* latched ADDR / LEN */
	uint32_t len;
	struct rogue_slot slot[RNIC_RX_SLOTS];
	uint32_t done, dlen[RNIC_RX_SLOTS];
	uint64_t seq;
};

struct rogue {
	struct pci_func *fn;
	pthread_mutex_t lock;
	struct rogue_ring rx, tx;
	struct rogue_iova seen[ROGUE_MAX_SEEN];
	size_t nseen;
	bool withhold;
	bool ats;		/* ats=on: the ATS capability */
	_Atomic uint64_t reads, writes, bytes_read, bytes_written, faults,
		aborts, completions, withheld, translated, translations;
};

extern const struct pci_type rogue_type;

struct rogue *rogue_of(struct pci_func *fn)
{
	return fn && fn->type == &rogue_type ? fn->priv : NULL;
}

struct pci_func *rogue_func(struct rogue *r)
{
	return r->fn;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void account(struct rogue *r, enum pci_status st)
{
	if (st == PCI_STATUS_UR)
		add(&r->faults, 1);
	else if (st == PCI_STATUS_MASTER_ABORT)
		add(&r->aborts, 1);
}

enum pci_status rogue_read(struct rogue *r, uint64_t addr, void *buf,
			   size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = bus_read(r->fn, addr, buf, len, &n);

	add(&r->reads, 1);
	add(&r->bytes_read, n);
	account(r, st);
	if (done)
		*done = n;
	return st;
}

enum pci_status rogue_write(struct rogue *r, uint64_t addr, const void *buf,
			    size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = bus_write(r->fn, addr, buf, len, &n);

	add(&r->writes, 1);
	add(&r->bytes_written, n);
	account(r, st);
	if (done)
		*done = n;
	return st;
}

enum pci_status rogue_read_translated(struct rogue *r, uint64_t addr,
				      void *buf, size_t len, size_t *done)
{
	size_t n = 0;
	enum pci_status st = bus_read_translated(r->fn, addr, buf, len, &n);

	add(&r->reads, 1);
	add(&r->translated, 1);
	add(&r->bytes_read, n);
	account(r, st);
	if (done)
		*done = n;
	return st;
}

enum pci_status rogue_write_translated(struct rogue *r, uint64_t addr,
				       const void *buf, size_t len,
				       size_t *done)
{
	size_t n = 0;
	enum pci_status st = bus_write_translated(r->fn, addr, buf, len, &n);

	add(&r->writes, 1);
	add(&r->translated, 1);
	add(&r->bytes_written, n);
	account(r, st);
	if (done)
		*done = n;
	return st;
}

enum pci_status rogue_ats_translate(struct rogue *r, uint64_t iova,
				    bool write, uint64_t *phys)
{
	uint64_t size;
	enum pci_status st = bus_ats_translate(r->fn, iova, write, phys, &size);

	add(&r->translations, 1);
	account(r, st);
	return st;
}

bool rogue_has_ats(struct rogue *r)
{
	return r->ats;
}

size_t rogue_scan(struct rogue *r, uint64_t start, uint64_t end,
		  struct rogue_window *w, size_t max)
{
	size_t nw = 0;
	bool open = false;
	uint8_t probe[8];

	for (uint64_t a = start & ~0xfffULL; a < end; a += 0x1000) {
		bool ok = rogue_read(r, a, probe, sizeof(probe), NULL) ==
			  PCI_STATUS_OK;

		if (ok && !open) {
			if (nw < max)
				w[nw] = (struct rogue_window){ a, a + 0x1000 };
			nw++;
		} else if (ok && nw <= max) {
			w[nw - 1].end = a + 0x1000;
		}
		open = ok;
		if (a + 0x1000 < a)
			break;
	}
	return nw;
}

size_t rogue_iovas(struct rogue *r, struct rogue_iova *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->nseen < max ? r->nseen : max;
	memcpy(out, r->seen, n * sizeof(*out));
	pthread_mutex_unlock(&r->lock);
	return n;
}

void rogue_forget_iovas(struct rogue *r)
{
	pthread_mutex_lock(&r->lock);
	r->nseen = 0;
	pthread_mutex_unlock(&r->lock);
}

void rogue_set_withhold(struct rogue *r, bool on)
{
	pthread_mutex_lock(&r->lock);
	r->withhold = on;
	pthread_mutex_unlock(&r->lock);
}

/* The oldest posted slot of @ring, or -1 (lock held). */
static int oldest_posted(const struct rogue_ring *ring)
{
	int best = -1;

	for (int i = 0; i < RNIC_RX_SLOTS; i++)
		if (ring->slot[i].posted &&
		    (best < 0 || ring->slot[i].seq < ring->slot[best].seq))
			best = i;
	return best;
}

/* Take the oldest posted slot of @ring unless withholding: its index,
 * -EBUSY or -ENOSPC. */
static int take_slot(struct rogue *r, struct rogue_ring *ring,
		     struct rogue_slot *out)
{
	int i;

	pthread_mutex_lock(&r->lock);
	i = r->withhold ? -EBUSY : oldest_posted(ring);
	if (i >= 0) {
		*out = ring->slot[i];
		ring->slot[i].posted = false;
	}
	pthread_mutex_unlock(&r->lock);
	if (i == -EBUSY)
		add(&r->withheld, 1);
	return i < 0 && i != -EBUSY ? -ENOSPC : i;
}

static void complete(struct rogue *r, struct rogue_ring *ring, int i,
		     uint32_t len)
{
	pthread_mutex_lock(&r->lock);
	ring->dlen[i] = len;
	ring->done |= 1u << i;
	pthread_mutex_unlock(&r->lock);
	add(&r->completions, 1);
}

int rogue_rx_packet(struct rogue *r, const void *data, size_t len)
{
	struct rogue_slot s = { 0 };
	enum pci_status st;
	int i = take_slot(r, &r->rx, &s);

	if (i < 0)
		return i;
	if (len > s.len)
		len = s.len;
	st = rogue_write(r, s.addr, data, len, NULL);
	complete(r, &r->rx, i, st ? 0 : (uint32_t)len);
	pci_msi_raise(r->fn, 0);
	return st ? -EIO : 0;
}

int rogue_tx_complete(struct rogue *r)
{
	struct rogue_slot s = { 0 };
	uint8_t pkt[256];
	int i, n = 0;

	while ((i = take_slot(r, &r->tx, &s)) >= 0) {
		/* the wire needs only the headers; a real NIC reads it all */
		rogue_read(r, s.addr, pkt, s.len < sizeof(pkt) ? s.len : sizeof(pkt),
			   NULL);
		complete(r, &r->tx, i, s.len);
		n++;
	}
	if (n)
		pci_msi_raise(r->fn, 0);
	return n ? n : i == -EBUSY ? -EBUSY : 0;
}

void rogue_get_stats(struct rogue *r, struct rogue_stats *st)
{
	st->reads = atomic_load(&r->reads);
	st->writes = atomic_load(&r->writes);
	st->bytes_read = atomic_load(&r->bytes_read);
	st->bytes_written = atomic_load(&r->bytes_written);
	st->faults = atomic_load(&r->faults);
	st->aborts = atomic_load(&r->aborts);
	st->completions = atomic_load(&r->completions);
	st->withheld = atomic_load(&r->withheld);
	st->translated = atomic_load(&r->translated);
	st->translations = atomic_load(&r->translations);
}

void rogue_reset_stats(struct rogue *r)
{
	_Atomic uint64_t *c[] = { &r->reads, &r->writes, &r->bytes_read,
				  &r->bytes_written, &r->faults, &r->aborts,
				  &r->completions, &r->withheld,
				  &r->translated, &r->translations };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		atomic_store(c[i], 0);
}

/* ---- registers -------------------------------------------------------- */

static void remember(struct rogue *r, const struct rogue_ring *ring,
		     unsigned int slot)
{
	if (r->nseen == ROGUE_MAX_SEEN) {
		memmove(r->seen, r->seen + 1,
			(ROGUE_MAX_SEEN - 1) * sizeof(r->seen[0]));
		r->nseen--;
	}
	r->seen[r->nseen++] = (struct rogue_iova){ ring->addr, ring->len, slot,
						   ring == &r->tx, false };
}

static void post(struct rogue *r, struct rogue_ring *ring, uint64_t val)
{
	unsigned int i = (unsigned int)val;

	if (i >= RNIC_RX_SLOTS)
		return;	/* ignored, as hardware ignores a bad index */
	ring->slot[i] = (struct rogue_slot){ ring->addr, ring->len, ++ring->seq,
					     true };
	remember(r, ring, i);
}

static void revoke(struct rogue *r, struct rogue_ring *ring, uint64_t val)
{
	unsigned int i = (unsigned int)val;

	if (i >= RNIC_RX_SLOTS)
		return;
	/* the address is marked, not forgotten: the device is malicious */
	for (size_t k = 0; k < r->nseen; k++)
		if (r->seen[k].slot == i && r->seen[k].tx == (ring == &r->tx) &&
		    r->seen[k].addr == ring->slot[i].addr)
			r->seen[k].revoked = true;
	ring->slot[i].posted = false;
}

static uint64_t ring_read(const struct rogue_ring *ring, uint64_t off)
{
	switch (off) {
	case 0:
		return ring->addr;
	case 8:
		return ring->len;
	case 0x10:
		return ring->done;
	}
	return 0;
}

static uint64_t rogue_mmio_read(struct pci_func *fn, uint64_t off,
				unsigned size)
{
	struct rogue *r = fn->priv;
	uint64_t v = 0;

	(void)size;
	pthread_mutex_lock(&r->lock);
	if (off == RNIC_REG_ID)
		v = RNIC_ID_VALUE;
	else if (off == RNIC_REG_SLOTS)
		v = RNIC_RX_SLOTS;
	else if (off == RNIC_REG_RX_ADDR || off == RNIC_REG_RX_LEN)
		v = ring_read(&r->rx, off - RNIC_REG_RX_ADDR);
	else if (off == RNIC_REG_RX_DONE)
		v = r->rx.done;
	else if (off == RNIC_REG_TX_ADDR || off == RNIC_REG_TX_LEN)
		v = ring_read(&r->tx, off - RNIC_REG_TX_ADDR);
	else if (off == RNIC_REG_TX_DONE)
		v = r->tx.done;
	else if (off >= RNIC_REG_RX_DLEN(0) && off < RNIC_REG_RX_DLEN(RNIC_RX_SLOTS))
		v = r->rx.dlen[(off - RNIC_REG_RX_DLEN(0)) / 4];
	pthread_mutex_unlock(&r->lock);
	return v;
}

/* Writes to a ring's registers, @off relative to its ADDR register. */
static void ring_write(struct rogue *r, struct rogue_ring *ring, uint64_t off,
		       uint64_t val, unsigned size)
{
	if (off == 0 && size == 8)
		ring->addr = val;
	else if (off == 0)
		ring->addr = (ring->addr & ~0xffffffffULL) | (uint32_t)val;
	else if (off == 4)
		ring->addr = (ring->addr & 0xffffffffULL) | (val << 32);
	else if (off == 8)
		ring->len = (uint32_t)val;
	else if (off == 0xc)
		post(r, ring, val);
	else if (off == 0x10)
		ring->done &= ~(uint32_t)val;
	else if (off == 0x14)
		revoke(r, ring, val);
}

static void rogue_mmio_write(struct pci_func *fn, uint64_t off, uint64_t val,
			     unsigned size)
{
	struct rogue *r = fn->priv;

	pthread_mutex_lock(&r->lock);
	if (off >= RNIC_REG_RX_ADDR && off < RNIC_REG_TX_ADDR)
		ring_write(r, &r->rx, off - RNIC_REG_RX_ADDR, val, size);
	else if (off >= RNIC_REG_TX_ADDR && off <= RNIC_REG_TX_REVOKE)
		ring_write(r, &r->tx, off - RNIC_REG_TX_ADDR, val, size);
	pthread_mutex_unlock(&r->lock);
}

static int rogue_set_option(struct pci_func *fn, const char *key,
			    const char *val, char *err, size_t errlen)
{
	struct rogue *r = fn->priv;

	if (strcmp(key, "ats"))
		return -ENOENT;
	if (!strcmp(val, "on") || !strcmp(val, "off")) {
		r->ats = !strcmp(val, "on");
		return 0;
	}
	snprintf(err, errlen, "expected on or off");
	return -EINVAL;
}

/* ats=on: the ATS capability, page-aligned requests, a queue depth of
 * 32 (0), ATS off until the kernel enables it. */
static void rogue_fill_config(struct pci_func *fn)
{
	struct rogue *r = fn->priv;
	unsigned pos;

	if (!r->ats)
		return;
	pos = pci_add_ext_capability(fn, PCI_EXT_CAP_ID_ATS);
	if (pos)
		fn->cfg[pos + PCI_ATS_CAP] = PCI_ATS_CAP_PAGE_ALIGNED;
}

static int rogue_realize(struct pci_func *fn, char *err, size_t errlen)
{
	struct rogue *r = fn->priv;

	(void)err;
	(void)errlen;
	r->fn = fn;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

static void rogue_unrealize(struct pci_func *fn)
{
	struct rogue *r = fn->priv;

	pthread_mutex_destroy(&r->lock);
}

const struct pci_type rogue_type = {
	.name = "rogue",
	.help = "a NIC that is a malicious bus master (the attack suite's device); ats=on|off",
	.role = PCI_ROLE_ENDPOINT,
	.vendor = RNIC_PCI_VENDOR, .device = RNIC_PCI_DEVICE,
	.class_code = 0x020000,
	.revision = 0x01,
	.lspci_name = "dmasim rogue NIC",
	.bar0_size = RNIC_BAR0_SIZE,
	.nr_msi = 1,
	.priv_size = sizeof(struct rogue),
	.set_option = rogue_set_option,
	.fill_config = rogue_fill_config,
	.realize = rogue_realize,
	.unrealize = rogue_unrealize,
	.mmio_read = rogue_mmio_read,
	.mmio_write = rogue_mmio_write,
};
