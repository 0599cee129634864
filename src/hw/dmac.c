/*
 * The dmac device model: a descriptor-ring DMA controller in the spirit of
 * Intel's IOAT/DSA and DPDK's software engine (programming interface in
 * include/dmasim/hw/dmac.h). Each channel fetches 64-byte descriptors from
 * its ring by bus reads, moves data through the bus-master path (bus_map
 * and memmove on the host pointers, no bounce buffer), writes a DSA-like
 * completion record and raises its MSI vector.
 *
 * Execution: each channel has an engine thread that sleeps on a condition
 * variable until the doorbell rings; in inline mode (mode=inline or a
 * machine with inline devices) the engine runs on the thread that writes
 * the doorbell. The same engine loop runs in both, one runner at a time per
 * channel, so both give the same results.
 *
 * Options: channels=N (1-8, default 4), ring=N (ring size the driver is
 * told to use), bandwidth=RATE and latency=TIME (modelled speed, real
 * time), mode=thread|inline, coalesce=N (flagged completions per MSI).
 */
#include "dmasim/hw/dmac.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/bus.h"
#include "hw/pace.h"
#include "hw/pci.h"
#include "kernel/machine.h"

/* Data moves in chunks of this size so an abort takes effect within one
 * chunk; a multiple of 8 keeps a fill's pattern phase. */
#define DMAC_CHUNK (4u << 20)
#define DMAC_CHANNELS_DEFAULT 4

enum dmac_mode { MODE_DEFAULT = 0, MODE_THREAD, MODE_INLINE };

struct dmac;

struct dmac_ch {
	struct dmac *d;
	unsigned int idx;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_started;
	bool stop;			/* under lock */
	/* registers */
	_Atomic uint64_t ring_base;
	_Atomic uint32_t ring_size, ctrl, tail, head, intcoal;
	_Atomic uint32_t error;		/* halt reason, 0: running */
	_Atomic uint64_t err_addr, completed, errors, bytes;
	_Atomic bool abort_req, reset_req, busy;
	_Atomic bool running;		/* one engine runner at a time */
	/* owned by the runner */
	bool fence_failed, skip_rest;
	unsigned int intr_pending;
	struct pace lat, bw;
};

struct dmac {
	struct pci_func *fn;
	unsigned int nch, ring, coalesce;
	uint64_t bps, lat_ns;
	enum dmac_mode mode;
	bool inline_mode;
	struct dmac_ch ch[DMAC_MAX_CHANNELS];
};

static struct dmac *dmac_of(struct pci_func *fn)
{
	return fn->priv;
}

/* ---- options ---------------------------------------------------------- */

static int parse_ulong(const char *v, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int bad(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

static int dmac_set_option(struct pci_func *fn, const char *key,
			   const char *val, char *err, size_t errlen)
{
	struct dmac *d = dmac_of(fn);
	unsigned long n;

	if (!strcmp(key, "channels")) {
		if (parse_ulong(val, 1, DMAC_MAX_CHANNELS, &n))
			return bad(err, errlen, "expected a channel count from 1 to 8");
		d->nch = (unsigned int)n;
	} else if (!strcmp(key, "ring")) {
		if (parse_ulong(val, DMAC_RING_MIN, DMAC_RING_MAX, &n) ||
		    (n & (n - 1)))
			return bad(err, errlen,
				   "expected a ring size that is a power of two from 16 to 4096");
		d->ring = (unsigned int)n;
	} else if (!strcmp(key, "coalesce")) {
		if (parse_ulong(val, 1, 255, &n))
			return bad(err, errlen,
				   "expected completions per interrupt from 1 to 255");
		d->coalesce = (unsigned int)n;
	} else if (!strcmp(key, "bandwidth")) {
		if (pace_parse_rate(val, &d->bps, err, errlen))
			return -EINVAL;
	} else if (!strcmp(key, "latency")) {
		if (pace_parse_time(val, &d->lat_ns, err, errlen))
			return -EINVAL;
	} else if (!strcmp(key, "mode")) {
		if (!strcmp(val, "thread"))
			d->mode = MODE_THREAD;
		else if (!strcmp(val, "inline"))
			d->mode = MODE_INLINE;
		else
			return bad(err, errlen, "expected thread or inline");
	} else {
		return -ENOENT;
	}
	return 0;
}

/* ---- channel state ---------------------------------------------------- */

static uint32_t ch_state(struct dmac_ch *c)
{
	uint32_t ctrl = atomic_load(&c->ctrl);

	if (!(ctrl & DMAC_CTRL_ENABLE))
		return DMAC_STATE_DISABLED;
	if (atomic_load(&c->abort_req))
		return DMAC_STATE_ABORTING;
	if (atomic_load(&c->error))
		return DMAC_STATE_HALTED;
	if (ctrl & DMAC_CTRL_PAUSE)
		return DMAC_STATE_PAUSED;
	if (atomic_load(&c->busy) ||
	    atomic_load(&c->head) != atomic_load(&c->tail))
		return DMAC_STATE_ACTIVE;
	return DMAC_STATE_IDLE;
}

/* May the engine fetch the descriptor at HEAD? */
static bool can_fetch(struct dmac_ch *c)
{
	uint32_t ctrl = atomic_load(&c->ctrl);

	return (ctrl & DMAC_CTRL_ENABLE) && !(ctrl & DMAC_CTRL_PAUSE) &&
	       !atomic_load(&c->error) &&
	       atomic_load_explicit(&c->head, memory_order_relaxed) !=
		       atomic_load_explicit(&c->tail, memory_order_acquire);
}

static bool has_work(struct dmac_ch *c)
{
	return atomic_load(&c->abort_req) || can_fetch(c);
}

/* The channel's vector: channels share vectors when fewer are enabled. */
static void raise_msi(struct dmac_ch *c)
{
	unsigned int n = atomic_load(&c->d->fn->msi_enabled);

	c->intr_pending = 0;
	pci_msi_raise(c->d->fn, n ? c->idx % n : c->idx);
}

static void halt(struct dmac_ch *c, enum dmac_error why, uint64_t addr)
{
	atomic_store(&c->err_addr, addr);
	atomic_store(&c->error, (uint32_t)why);
	/* tell the driver; dropped (and counted) if bus mastering is off */
	raise_msi(c);
}

/* ---- data movement ---------------------------------------------------- */

/* Status of one descriptor as it is carried out. */
struct op {
	uint8_t status;
	bool halt;		/* bus mastering refused: halt the channel */
	uint64_t done;
	uint64_t fault;
};

static bool abort_pending(struct dmac_ch *c)
{
	return atomic_load_explicit(&c->abort_req, memory_order_relaxed);
}

static void pace_bytes(struct dmac_ch *c, uint64_t n)
{
	if (c->d->bps)
		pace_op(&c->bw, pace_now_ns(), n);
}

static void fail(struct op *op, enum pci_status st, uint8_t status,
		 uint64_t addr)
{
	op->status = status;
	op->fault = addr;
	op->halt = st == PCI_STATUS_MASTER_ABORT;
}

/*
 * bus_copy's loop (map the source, map as much of the destination, memmove
 * between the host pointers), keeping which side failed.
 */
static void move(struct dmac_ch *c, uint64_t dst, uint64_t src, uint64_t len,
		 struct op *op)
{
	struct pci_func *fn = c->d->fn;
	uint64_t off = 0;

	while (off < len) {
		size_t ns, nd;
		uint8_t *hs, *hd;
		enum pci_status st;

		st = bus_map(fn, src + off, len - off, false, &hs, &ns);
		if (st) {
			fail(op, st, DMAC_CR_INVALID_SRC, src + off);
			return;
		}
		st = bus_map(fn, dst + off, ns, true, &hd, &nd);
		if (st) {
			fail(op, st, DMAC_CR_INVALID_DST, dst + off);
			return;
		}
		memmove(hd, hs, nd);
		off += nd;
		op->done += nd;
	}
}

static void do_copy(struct dmac_ch *c, uint64_t dst, uint64_t src,
		    uint64_t len, struct op *op)
{
	for (uint64_t off = 0; off < len && !op->status;) {
		uint64_t n = len - off < DMAC_CHUNK ? len - off : DMAC_CHUNK;
		uint64_t before = op->done;

		if (abort_pending(c)) {
			op->status = DMAC_CR_ABORTED;
			break;
		}
		move(c, dst + off, src + off, n, op);
		pace_bytes(c, op->done - before);
		off += n;
	}
}

static void do_fill(struct dmac_ch *c, uint64_t dst, uint64_t pattern,
		    uint64_t len, struct op *op)
{
	for (uint64_t off = 0; off < len && !op->status;) {
		uint64_t n = len - off < DMAC_CHUNK ? len - off : DMAC_CHUNK;
		size_t done = 0;
		enum pci_status st;

		if (abort_pending(c)) {
			op->status = DMAC_CR_ABORTED;
			break;
		}
		st = bus_fill(c->d->fn, dst + off, pattern, n, &done);
		op->done += done;
		pace_bytes(c, done);
		if (st)
			fail(op, st, DMAC_CR_INVALID_DST, dst + off + done);
		off += n;
	}
}

/* Read an SG list; 0 or the status that ends the descriptor. */
static int read_sg(struct dmac_ch *c, uint64_t addr, unsigned int n,
		   struct dmac_sg_entry *sg, uint64_t *total, uint8_t bad_addr,
		   struct op *op)
{
	enum pci_status st;

	if (n < 1 || n > DMAC_MAX_SG) {
		op->status = DMAC_CR_INVALID_LEN;
		return -1;
	}
	st = bus_read(c->d->fn, addr, sg, n * sizeof(*sg), NULL);
	if (st) {
		fail(op, st, bad_addr, addr);
		return -1;
	}
	*total = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!sg[i].len) {
			op->status = DMAC_CR_INVALID_LEN;
			return -1;
		}
		*total += sg[i].len;
	}
	return 0;
}

static void do_copy_sg(struct dmac_ch *c, const struct dmac_desc *d,
		       struct op *op)
{
	struct dmac_sg_entry s[DMAC_MAX_SG], t[DMAC_MAX_SG];
	uint64_t ts, td, so = 0, to = 0;
	unsigned int i = 0, j = 0;

	if (read_sg(c, d->src, d->nsrc, s, &ts, DMAC_CR_INVALID_SRC, op) ||
	    read_sg(c, d->dst, d->ndst, t, &td, DMAC_CR_INVALID_DST, op))
		return;
	if (ts != d->len || td != d->len) {
		op->status = DMAC_CR_INVALID_LEN;
		return;
	}
	/* segments need not line up: copy the overlap of the current pair */
	while (i < d->nsrc && j < d->ndst && !op->status) {
		uint64_t n = s[i].len - so < t[j].len - to ? s[i].len - so
							    : t[j].len - to;

		do_copy(c, t[j].addr + to, s[i].addr + so, n, op);
		so += n;
		to += n;
		if (so == s[i].len) {
			i++;
			so = 0;
		}
		if (to == t[j].len) {
			j++;
			to = 0;
		}
	}
}

static void run_desc(struct dmac_ch *c, const struct dmac_desc *d,
		     struct op *op)
{
	if (c->skip_rest || ((d->flags & DMAC_DESC_FENCE) && c->fence_failed)) {
		c->skip_rest = true;
		op->status = DMAC_CR_NOT_ATTEMPTED;
		return;
	}
	switch (d->opcode) {
	case DMAC_OP_NOP:
		break;
	case DMAC_OP_COPY:
		if (!d->len)
			op->status = DMAC_CR_INVALID_LEN;
		else
			do_copy(c, d->dst, d->src, d->len, op);
		break;
	case DMAC_OP_FILL:
		if (!d->len)
			op->status = DMAC_CR_INVALID_LEN;
		else
			do_fill(c, d->dst, d->src, d->len, op);
		break;
	case DMAC_OP_COPY_SG:
		do_copy_sg(c, d, op);
		break;
	default:
		op->status = DMAC_CR_BAD_OPCODE;
		break;
	}
	if (!op->status)
		op->status = DMAC_CR_SUCCESS;
	else
		c->fence_failed = true;
}

/* ---- the engine ------------------------------------------------------- */

static bool ring_ok(struct dmac_ch *c, uint32_t size, uint64_t base)
{
	if (size >= DMAC_RING_MIN && size <= DMAC_RING_MAX &&
	    !(size & (size - 1)) && !(base & 63))
		return true;
	halt(c, DMAC_ERR_RING, base);
	return false;
}

static enum pci_status read_desc(struct dmac_ch *c, uint32_t idx,
				 struct dmac_desc *d, uint64_t *where)
{
	uint32_t size = atomic_load(&c->ring_size);

	*where = atomic_load(&c->ring_base) +
		 (uint64_t)(idx & (size - 1)) * sizeof(*d);
	return bus_read(c->d->fn, *where, d, sizeof(*d), NULL);
}

/* Fetch descriptor @idx; false if the channel halted. */
static bool fetch(struct dmac_ch *c, uint32_t idx, struct dmac_desc *d)
{
	uint64_t where;
	enum pci_status st;

	if (!ring_ok(c, atomic_load(&c->ring_size),
		     atomic_load(&c->ring_base)))
		return false;
	st = read_desc(c, idx, d, &where);
	if (st) {
		halt(c, st == PCI_STATUS_MASTER_ABORT ? DMAC_ERR_MASTER_ABORT
						      : DMAC_ERR_DESC_READ,
		     where);
		return false;
	}
	return true;
}

/* Write the completion record and retire the descriptor at HEAD. */
static void retire(struct dmac_ch *c, uint32_t idx, const struct dmac_desc *d,
		   const struct op *op)
{
	struct dmac_cr cr = {
		.status = op->status,
		.index = (uint16_t)idx,
		.bytes_completed = (uint32_t)op->done,
		.fault_addr = op->fault,
		.user = d->user,
	};

	if (d->flags & DMAC_DESC_COMPL) {
		enum pci_status st = PCI_STATUS_UR;

		if (!(d->compl & 31))
			st = bus_write(c->d->fn, d->compl, &cr, sizeof(cr), NULL);
		if (st) {
			halt(c, st == PCI_STATUS_MASTER_ABORT ? DMAC_ERR_MASTER_ABORT
							      : DMAC_ERR_CR_WRITE,
			     d->compl);
			return;
		}
	}
	atomic_fetch_add(&c->completed, 1);
	atomic_fetch_add(&c->bytes, op->done);
	if (op->status != DMAC_CR_SUCCESS)
		atomic_fetch_add(&c->errors, 1);
	if (d->flags & DMAC_DESC_EOB)
		c->fence_failed = c->skip_rest = false;
	/* the record is in memory before the driver can see the new HEAD */
	atomic_store_explicit(&c->head, (idx + 1) & 0xffff, memory_order_release);
	if ((d->flags & DMAC_DESC_INTR) &&
	    ++c->intr_pending >= atomic_load(&c->intcoal))
		raise_msi(c);
}

static void exec_one(struct dmac_ch *c)
{
	uint32_t idx = atomic_load(&c->head);
	struct dmac_desc d;
	struct op op = { 0 };

	atomic_store(&c->busy, true);
	if (fetch(c, idx, &d)) {
		/* the per-operation latency, then the data at the bandwidth */
		if (c->d->lat_ns)
			pace_op(&c->lat, pace_now_ns(), 0);
		run_desc(c, &d, &op);
		if (op.halt)
			halt(c, DMAC_ERR_MASTER_ABORT, op.fault);
		else
			retire(c, idx, &d, &op);
	}
	atomic_store(&c->busy, false);
}

/*
 * Complete everything up to TAIL as aborted, touching no buffer. Records
 * that cannot be written (bus mastering off) are skipped: the driver knows
 * what it aborted.
 */
static void do_abort(struct dmac_ch *c)
{
	uint32_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
	uint32_t idx = atomic_load(&c->head);
	struct dmac_cr cr = { .status = DMAC_CR_ABORTED };

	for (; idx != tail; idx = (idx + 1) & 0xffff) {
		struct dmac_desc d;
		uint64_t where;

		if (!read_desc(c, idx, &d, &where) &&
		    (d.flags & DMAC_DESC_COMPL) && !(d.compl & 31)) {
			cr.index = (uint16_t)idx;
			cr.user = d.user;
			bus_write(c->d->fn, d.compl, &cr, sizeof(cr), NULL);
		}
		atomic_fetch_add(&c->completed, 1);
		atomic_fetch_add(&c->errors, 1);
	}
	atomic_store(&c->error, 0);
	atomic_store_explicit(&c->head, tail, memory_order_release);
	c->fence_failed = c->skip_rest = false;
	c->intr_pending = 0;
	atomic_store_explicit(&c->abort_req, false, memory_order_release);
}

/* Run descriptors until there is nothing to do. */
static void engine_run(struct dmac_ch *c)
{
	if (atomic_exchange(&c->reset_req, false)) {
		c->fence_failed = c->skip_rest = false;
		c->intr_pending = 0;
	}
	for (;;) {
		if (atomic_load(&c->abort_req))
			do_abort(c);
		else if (can_fetch(c))
			exec_one(c);
		else
			break;
	}
	if (c->intr_pending)
		raise_msi(c);
}

/* Inline mode: run on this thread unless a runner is already at work (it
 * may be this thread, when a completion callback rang the doorbell). */
static void engine_kick_inline(struct dmac_ch *c)
{
	struct machine *m = c->d->fn->m;
	struct cpu_ctx save;
	bool switched = current_machine() != m;

	if (switched)
		cpu_ctx_switch(m, &save);
	while (!atomic_exchange(&c->running, true)) {
		engine_run(c);
		atomic_store(&c->running, false);
		if (!has_work(c))
			break;
	}
	if (switched)
		cpu_ctx_restore(&save);
}

static void engine_kick(struct dmac_ch *c)
{
	if (c->d->inline_mode) {
		engine_kick_inline(c);
		return;
	}
	pthread_mutex_lock(&c->lock);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

static void *engine_thread(void *arg)
{
	struct dmac_ch *c = arg;
	struct cpu_ctx save;

	/* handlers of our interrupts are kernel code: they need the machine */
	cpu_ctx_switch(c->d->fn->m, &save);
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (has_work(c)) {
			pthread_mutex_unlock(&c->lock);
			atomic_store(&c->running, true);
			engine_run(c);
			atomic_store(&c->running, false);
			pthread_mutex_lock(&c->lock);
			continue;
		}
		pthread_cond_wait(&c->wake, &c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	cpu_ctx_restore(&save);
	return NULL;
}

/* ---- registers -------------------------------------------------------- */

static struct dmac_ch *decode(struct dmac *d, uint64_t off, unsigned int *reg)
{
	uint64_t rel;

	if (off < DMAC_CH_BASE(0))
		return NULL;
	rel = off - DMAC_CH_BASE(0);
	if (rel / 0x80 >= d->nch)
		return NULL;
	*reg = (unsigned int)(rel % 0x80);
	return &d->ch[rel / 0x80];
}

static bool is_reg64(unsigned int reg)
{
	switch (reg & ~7u) {
	case DMAC_CH_RING_BASE:
	case DMAC_CH_ERR_ADDR:
	case DMAC_CH_COMPLETED:
	case DMAC_CH_ERRORS:
	case DMAC_CH_BYTES:
		return true;
	}
	return false;
}

static uint64_t ch_read(struct dmac_ch *c, unsigned int reg)
{
	switch (reg) {
	case DMAC_CH_RING_BASE:
		return atomic_load(&c->ring_base);
	case DMAC_CH_RING_SIZE:
		return atomic_load(&c->ring_size);
	case DMAC_CH_CTRL:
		return atomic_load(&c->ctrl);
	case DMAC_CH_TAIL:
		return atomic_load(&c->tail);
	case DMAC_CH_HEAD:
		return atomic_load_explicit(&c->head, memory_order_acquire);
	case DMAC_CH_STATUS:
		return ch_state(c) | atomic_load(&c->error) << 8;
	case DMAC_CH_INTCOAL:
		return atomic_load(&c->intcoal);
	case DMAC_CH_ERR_ADDR:
		return atomic_load(&c->err_addr);
	case DMAC_CH_COMPLETED:
		return atomic_load(&c->completed);
	case DMAC_CH_ERRORS:
		return atomic_load(&c->errors);
	case DMAC_CH_BYTES:
		return atomic_load(&c->bytes);
	}
	return 0;
}

static uint64_t global_read(struct dmac *d, uint64_t off)
{
	switch (off) {
	case DMAC_REG_ID:
		return DMAC_ID_VALUE;
	case DMAC_REG_VERSION:
		return DMAC_VERSION_VALUE;
	case DMAC_REG_CAP:
		return d->nch | DMAC_MAX_SG << 8 | DMAC_CAP_COPY | DMAC_CAP_FILL |
		       DMAC_CAP_COPY_SG | DMAC_CAP_FENCE;
	case DMAC_REG_RING_SIZE:
		return d->ring;
	case DMAC_REG_MAX_XFER:
		return DMAC_MAX_XFER;
	case DMAC_REG_INTCOAL:
		return d->coalesce;
	}
	return 0;
}

static uint64_t dmac_mmio_read(struct pci_func *fn, uint64_t off,
			       unsigned int size)
{
	struct dmac *d = dmac_of(fn);
	uint64_t ones = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	struct dmac_ch *c;
	unsigned int reg;
	uint64_t v;

	c = decode(d, off, &reg);
	if (!c)
		return size == 4 ? global_read(d, off) : ones;
	if (!is_reg64(reg))
		return size == 4 ? ch_read(c, reg) : ones;
	v = ch_read(c, reg & ~7u);
	if (size == 8 && !(reg & 7))
		return v;
	return size == 4 ? (reg & 4 ? v >> 32 : v & 0xffffffffu) : ones;
}

static void write_ctrl(struct dmac_ch *c, uint32_t val)
{
	uint32_t old;

	pthread_mutex_lock(&c->lock);
	old = atomic_load(&c->ctrl);
	if ((val & DMAC_CTRL_ENABLE) && !(old & DMAC_CTRL_ENABLE)) {
		atomic_store(&c->head, 0);
		atomic_store(&c->tail, 0);
		atomic_store(&c->error, 0);
		atomic_store(&c->reset_req, true);
	}
	atomic_store(&c->ctrl, val & (DMAC_CTRL_ENABLE | DMAC_CTRL_PAUSE));
	if ((val & DMAC_CTRL_ABORT) && (val & DMAC_CTRL_ENABLE))
		atomic_store(&c->abort_req, true);
	pthread_mutex_unlock(&c->lock);
	engine_kick(c);
}

static void ch_write(struct dmac_ch *c, unsigned int reg, uint64_t val,
		     unsigned int size)
{
	uint64_t base;

	if (reg == DMAC_CH_RING_BASE && size == 8) {
		atomic_store(&c->ring_base, val);
		return;
	}
	switch (reg) {
	case DMAC_CH_RING_BASE:
	case DMAC_CH_RING_BASE + 4:
		base = atomic_load(&c->ring_base);
		if (reg & 4)
			base = (base & 0xffffffffu) | val << 32;
		else
			base = (base & ~0xffffffffULL) | (val & 0xffffffffu);
		atomic_store(&c->ring_base, base);
		break;
	case DMAC_CH_RING_SIZE:
		atomic_store(&c->ring_size, (uint32_t)val);
		break;
	case DMAC_CH_CTRL:
		write_ctrl(c, (uint32_t)val);
		break;
	case DMAC_CH_TAIL:
		/* the descriptors are in memory before the doorbell */
		atomic_store_explicit(&c->tail, (uint32_t)val & 0xffff,
				      memory_order_release);
		engine_kick(c);
		break;
	case DMAC_CH_INTCOAL:
		atomic_store(&c->intcoal, val >= 1 && val <= 255 ? (uint32_t)val : 1);
		break;
	}
}

static void dmac_mmio_write(struct pci_func *fn, uint64_t off, uint64_t val,
			    unsigned int size)
{
	struct dmac *d = dmac_of(fn);
	unsigned int reg;
	struct dmac_ch *c = decode(d, off, &reg);

	if (!c || (size != 4 && !(size == 8 && reg == DMAC_CH_RING_BASE)))
		return;
	ch_write(c, reg, val, size);
}

/* ---- lifecycle -------------------------------------------------------- */

static void ch_init(struct dmac *d, unsigned int i)
{
	struct dmac_ch *c = &d->ch[i];

	c->d = d;
	c->idx = i;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	atomic_init(&c->intcoal, d->coalesce);
	pace_init(&c->lat, 0, d->lat_ns);
	pace_init(&c->bw, d->bps, 0);
}

static int dmac_realize(struct pci_func *fn, char *err, size_t errlen)
{
	struct dmac *d = dmac_of(fn);

	d->fn = fn;
	if (!d->nch)
		d->nch = DMAC_CHANNELS_DEFAULT;
	if (!d->ring)
		d->ring = DMAC_RING_DEFAULT;
	if (!d->coalesce)
		d->coalesce = 1;
	d->inline_mode = d->mode == MODE_INLINE ||
			 (d->mode == MODE_DEFAULT && fn->m->cfg.inline_devices);
	for (unsigned int i = 0; i < d->nch; i++)
		ch_init(d, i);
	for (unsigned int i = 0; i < d->nch && !d->inline_mode; i++) {
		int ret = pthread_create(&d->ch[i].thread, NULL, engine_thread,
					 &d->ch[i]);

		if (ret) {
			snprintf(err, errlen, "cannot start engine thread %u: %s",
				 i, strerror(ret));
			return -ret;
		}
		d->ch[i].thread_started = true;
	}
	return 0;
}

static void dmac_reset(struct pci_func *fn)
{
	struct dmac *d = dmac_of(fn);

	for (unsigned int i = 0; i < d->nch; i++) {
		struct dmac_ch *c = &d->ch[i];

		pthread_mutex_lock(&c->lock);
		atomic_store(&c->ctrl, 0);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		if (c->thread_started)
			pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
}

static void dmac_unrealize(struct pci_func *fn)
{
	struct dmac *d = dmac_of(fn);

	dmac_reset(fn);
	for (unsigned int i = 0; i < d->nch; i++) {
		pthread_cond_destroy(&d->ch[i].wake);
		pthread_mutex_destroy(&d->ch[i].lock);
	}
}

const struct pci_type dmac_type = {
	.name = "dmac",
	.help = "descriptor-ring DMA controller (copy, fill, scatter-gather)",
	.role = PCI_ROLE_ENDPOINT,
	.vendor = DMAC_VENDOR_ID, .device = DMAC_DEVICE_ID,
	.class_code = 0x088000,
	.revision = 0x01,
	.lspci_name = "dmasim DMA controller",
	.bar0_size = 0x4000,
	.nr_msi = 8,
	.priv_size = sizeof(struct dmac),
	.set_option = dmac_set_option,
	.realize = dmac_realize,
	.unrealize = dmac_unrealize,
	.mmio_read = dmac_mmio_read,
	.mmio_write = dmac_mmio_write,
	.reset = dmac_reset,
};
