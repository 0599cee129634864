/*
 * The dmac driver: a dmaengine provider for the dmac DMA controller
 * (include/dmasim/hw/dmac.h), written only against the Linux-named kernel
 * API, in the shape of Linux's ioat and idxd drivers.
 *
 * Per channel, allocated when a client requests it: a descriptor ring and
 * a completion-record array in coherent memory, one software descriptor
 * per ring slot (each with room for its SG lists), and a table of recent
 * results by cookie. prep fills a software descriptor; submit copies it
 * into the next ring slot and assigns the cookie; issue_pending marks the
 * end of the batch and writes the tail doorbell. Completions are reaped in
 * ring order by one runner at a time (the interrupt handler, or a thread
 * asking for a status, as ioat does in tx_status), which calls callbacks
 * without holding a lock.
 *
 * Linux's DMA_PREP_FENCE (later operations depend on this one) becomes the
 * hardware fence bit on the next descriptor, and keeps the batch open
 * across issue_pending so the dependency holds.
 */
#include "dmasim/hw/dmac.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmaengine.h"
#include "dmasim/linux/interrupt.h"
#include "dmasim/linux/io.h"
#include "dmasim/linux/pci.h"

#define DRV_NAME "dmac"
#define CB_BATCH 64		/* callbacks gathered per locked pass */
#define WAIT_HW_NS (5000ULL * 1000000ULL)

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct dmac_sw {
	struct dma_async_tx_descriptor txd;
	struct dmac_desc hw;		/* as prepared */
	struct dmac_sg_entry *sg;	/* DMAC_MAX_SG source, then dest */
	dma_addr_t sg_dma;
	size_t len;
	bool fence;			/* DMA_PREP_FENCE */
	bool terminated, never_issued;
	struct dmac_sw *next_free;
};

struct dmac_result {
	dma_cookie_t cookie;
	u8 status;
	u32 residue;
};

struct dmac_dev;

struct dmac_chan {
	struct dma_chan chan;
	struct dmac_dev *dd;
	void __iomem *regs;
	unsigned int idx, size, mask;
	struct dmac_desc *ring;
	dma_addr_t ring_dma;
	struct dmac_cr *cr;
	dma_addr_t cr_dma;
	struct dmac_sg_entry *sg;
	dma_addr_t sg_dma;
	size_t sg_bytes;
	struct dmac_sw *sw;		/* one per slot */
	struct dmac_sw **slot;		/* ring slot -> its descriptor */
	struct dmac_result *res;	/* by cookie & mask */
	struct dmac_sw *free;
	pthread_mutex_t lock;		/* the software state below */
	pthread_mutex_t issue_lock;	/* doorbell order; recursive */
	pthread_mutex_t cleanup_lock;	/* one completion runner */
	_Atomic int work;
	u16 sw_tail, hw_tail, done;	/* next to submit, rung, to reap */
	bool fence_next, paused, halt_reported, ready;
	struct dmaengine_chan_stats stats;
};

struct dmac_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct dma_device dma;
	unsigned int nch, ring, max_sg, nvec;
	struct dmac_chan ch[DMAC_MAX_CHANNELS];
};

static struct dmac_chan *to_dmac_chan(struct dma_chan *chan)
{
	return container_of(chan, struct dmac_chan, chan);
}

static struct device *chan_dev(struct dmac_chan *dc)
{
	return &dc->dd->pdev->dev;
}

static void __iomem *creg(struct dmac_chan *dc, unsigned int reg)
{
	return (char __iomem *)dc->regs + reg;
}

/* ---- completions ------------------------------------------------------ */

struct dmac_cb {
	dma_async_tx_callback cb;
	dma_async_tx_callback_result cb_result;
	void *param;
	struct dmaengine_result res;
};

static enum dmaengine_tx_result tx_result(u8 status)
{
	switch (status) {
	case DMAC_CR_SUCCESS:
		return DMA_TRANS_NOERROR;
	case DMAC_CR_INVALID_SRC:
		return DMA_TRANS_READ_FAILED;
	case DMAC_CR_INVALID_DST:
		return DMA_TRANS_WRITE_FAILED;
	}
	return DMA_TRANS_ABORTED;
}

/* Reap one completed descriptor (lock held); true if it has a callback. */
static bool reap(struct dmac_chan *dc, struct dmac_cb *cb)
{
	unsigned int slot = dc->done & dc->mask;
	struct dmac_sw *sw = dc->slot[slot];
	const struct dmac_cr *cr = &dc->cr[slot];
	u8 status = cr->status;
	u32 bytes = status ? cr->bytes_completed : 0;
	bool call;

	if (sw->never_issued || status == DMAC_CR_NONE)
		status = DMAC_CR_ABORTED; /* no record: aborted unseen */
	dc->res[sw->txd.cookie & dc->mask] = (struct dmac_result){
		sw->txd.cookie, status, (u32)(sw->len - bytes) };
	dc->stats.completed++;
	dc->stats.errors += status != DMAC_CR_SUCCESS;
	dc->stats.bytes += bytes;
	atomic_fetch_add(&dc->chan.memcpy_count, 1);
	atomic_fetch_add(&dc->chan.bytes_transferred, bytes);
	call = !sw->terminated &&
	       (sw->txd.callback || sw->txd.callback_result);
	if (call)
		*cb = (struct dmac_cb){ sw->txd.callback, sw->txd.callback_result,
					sw->txd.callback_param,
					{ tx_result(status), (u32)(sw->len - bytes) } };
	dma_cookie_complete(&sw->txd);
	dc->slot[slot] = NULL;
	sw->next_free = dc->free;
	dc->free = sw;
	dc->done++;
	return call;
}

/* Reap what the device completed and run callbacks; true if more. */
static bool cleanup_once(struct dmac_chan *dc)
{
	struct dmac_cb cbs[CB_BATCH];
	unsigned int n = 0, reaped = 0;
	u16 head;

	pthread_mutex_lock(&dc->lock);
	if (!dc->ready) {
		pthread_mutex_unlock(&dc->lock);
		return false;
	}
	head = (u16)readl(creg(dc, DMAC_CH_HEAD));
	/* never beyond what was submitted, whatever the device says */
	while (dc->done != head && dc->done != dc->sw_tail && n < CB_BATCH &&
	       reaped < dc->size) {
		n += reap(dc, &cbs[n]);
		reaped++;
	}
	pthread_mutex_unlock(&dc->lock);
	for (unsigned int i = 0; i < n; i++) {
		if (cbs[i].cb_result)
			cbs[i].cb_result(cbs[i].param, &cbs[i].res);
		else
			cbs[i].cb(cbs[i].param);
	}
	return n == CB_BATCH || reaped == dc->size;
}

/*
 * The completion "tasklet": one runner at a time; a caller that finds it
 * busy leaves a note that the runner picks up before it stops.
 */
static void dmac_reap(struct dmac_chan *dc)
{
	atomic_store(&dc->work, 1);
	while (atomic_load(&dc->work)) {
		if (pthread_mutex_trylock(&dc->cleanup_lock))
			return;
		while (atomic_exchange(&dc->work, 0))
			while (cleanup_once(dc))
				;
		pthread_mutex_unlock(&dc->cleanup_lock);
	}
}

static irqreturn_t dmac_irq(int irq, void *dev_id)
{
	struct dmac_dev *dd = dev_id;
	unsigned int v = (unsigned int)irq - dd->pdev->irq;

	for (unsigned int i = v; i < dd->nch; i += dd->nvec)
		dmac_reap(&dd->ch[i]);
	return IRQ_HANDLED;
}

/* ---- descriptors ------------------------------------------------------ */

static dma_cookie_t dmac_tx_submit(struct dma_async_tx_descriptor *tx);

static struct dmac_sw *sw_take(struct dmac_chan *dc)
{
	struct dmac_sw *sw;

	pthread_mutex_lock(&dc->lock);
	sw = dc->ready ? dc->free : NULL;
	if (sw)
		dc->free = sw->next_free;
	pthread_mutex_unlock(&dc->lock);
	return sw;
}

/* A free software descriptor, reaping completions once if none is. */
static struct dmac_sw *sw_get(struct dmac_chan *dc)
{
	struct dmac_sw *sw = sw_take(dc);

	if (!sw && dc->ready) {
		dmac_reap(dc);
		sw = sw_take(dc);
	}
	return sw;
}

static struct dma_async_tx_descriptor *prep(struct dmac_chan *dc, u8 op,
					    u64 src, u64 dst, size_t len,
					    unsigned long flags)
{
	struct dmac_sw *sw;

	if (op != DMAC_OP_NOP && (!len || len > DMAC_MAX_XFER))
		return NULL;
	sw = sw_get(dc);
	if (!sw)
		return NULL;
	memset(&sw->hw, 0, sizeof(sw->hw));
	sw->hw.opcode = op;
	sw->hw.flags = DMAC_DESC_COMPL;
	if (flags & DMA_PREP_INTERRUPT)
		sw->hw.flags |= DMAC_DESC_INTR;
	sw->hw.len = (u32)len;
	sw->hw.src = src;
	sw->hw.dst = dst;
	sw->len = len;
	sw->fence = flags & DMA_PREP_FENCE;
	sw->terminated = sw->never_issued = false;
	sw->txd = (struct dma_async_tx_descriptor){
		.cookie = -EBUSY,
		.flags = (enum dma_ctrl_flags)flags,
		.chan = &dc->chan,
		.tx_submit = dmac_tx_submit,
	};
	return &sw->txd;
}

static struct dma_async_tx_descriptor *
dmac_prep_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		 size_t len, unsigned long flags)
{
	return prep(to_dmac_chan(chan), DMAC_OP_COPY, src, dst, len, flags);
}

static struct dma_async_tx_descriptor *
dmac_prep_memset64(struct dma_chan *chan, dma_addr_t dest, u64 pattern,
		   size_t len, unsigned long flags)
{
	return prep(to_dmac_chan(chan), DMAC_OP_FILL, pattern, dest, len,
		    flags);
}

static struct dma_async_tx_descriptor *
dmac_prep_memset(struct dma_chan *chan, dma_addr_t dest, int value,
		 size_t len, unsigned long flags)
{
	return dmac_prep_memset64(chan, dest,
				  (u64)(u8)value * 0x0101010101010101ULL, len,
				  flags);
}

static struct dma_async_tx_descriptor *
dmac_prep_interrupt(struct dma_chan *chan, unsigned long flags)
{
	return prep(to_dmac_chan(chan), DMAC_OP_NOP, 0, 0, 0, flags);
}

/* Copy an SG list into the device's format; its total, or 0 if invalid. */
static u64 sg_to_hw(struct scatterlist *sgl, unsigned int nents,
		    unsigned int max, struct dmac_sg_entry *out)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 total = 0;

	if (!sgl || !nents || nents > max)
		return 0;
	for_each_sg(sgl, sg, nents, i) {
		if (!sg || !sg_dma_len(sg))
			return 0;
		out[i] = (struct dmac_sg_entry){ sg_dma_address(sg),
						 sg_dma_len(sg), 0 };
		total += sg_dma_len(sg);
	}
	return total;
}

static struct dma_async_tx_descriptor *
dmac_prep_memcpy_sg(struct dma_chan *chan, struct scatterlist *dst_sg,
		    unsigned int dst_nents, struct scatterlist *src_sg,
		    unsigned int src_nents, unsigned long flags)
{
	struct dmac_chan *dc = to_dmac_chan(chan);
	struct dmac_sg_entry s[DMAC_MAX_SG], d[DMAC_MAX_SG];
	u64 ts = sg_to_hw(src_sg, src_nents, dc->dd->max_sg, s);
	u64 td = sg_to_hw(dst_sg, dst_nents, dc->dd->max_sg, d);
	struct dma_async_tx_descriptor *tx;
	struct dmac_sw *sw;

	if (!ts || ts != td || ts > DMAC_MAX_XFER)
		return NULL;
	tx = prep(dc, DMAC_OP_COPY_SG, 0, 0, ts, flags);
	if (!tx)
		return NULL;
	sw = container_of(tx, struct dmac_sw, txd);
	memcpy(sw->sg, s, src_nents * sizeof(s[0]));
	memcpy(sw->sg + DMAC_MAX_SG, d, dst_nents * sizeof(d[0]));
	sw->hw.src = sw->sg_dma;
	sw->hw.dst = sw->sg_dma + DMAC_MAX_SG * sizeof(s[0]);
	sw->hw.nsrc = (u16)src_nents;
	sw->hw.ndst = (u16)dst_nents;
	return tx;
}

static dma_cookie_t dmac_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct dmac_sw *sw = container_of(tx, struct dmac_sw, txd);
	struct dmac_chan *dc = to_dmac_chan(tx->chan);
	unsigned int slot;
	dma_cookie_t cookie;

	pthread_mutex_lock(&dc->lock);
	if (!dc->ready) {
		pthread_mutex_unlock(&dc->lock);
		return -EIO;
	}
	slot = dc->sw_tail & dc->mask;
	sw->hw.compl = dc->cr_dma + slot * sizeof(struct dmac_cr);
	if (dc->fence_next)
		sw->hw.flags |= DMAC_DESC_FENCE;
	dc->fence_next = sw->fence;
	dc->ring[slot] = sw->hw;
	memset(&dc->cr[slot], 0, sizeof(dc->cr[slot]));
	dc->slot[slot] = sw;
	cookie = dma_cookie_assign(tx);
	dc->sw_tail++;
	dc->stats.submitted++;
	pthread_mutex_unlock(&dc->lock);
	return cookie;
}

static void dmac_issue_pending(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);
	bool ring = false;
	u16 t;

	pthread_mutex_lock(&dc->issue_lock);
	pthread_mutex_lock(&dc->lock);
	t = dc->sw_tail;
	if (dc->ready && t != dc->hw_tail) {
		/* a pending DMA_PREP_FENCE keeps the batch open */
		if (!dc->fence_next)
			dc->ring[(u16)(t - 1) & dc->mask].flags |= DMAC_DESC_EOB;
		dc->hw_tail = t;
		ring = true;
	}
	pthread_mutex_unlock(&dc->lock);
	if (ring)
		writel(t, creg(dc, DMAC_CH_TAIL));
	pthread_mutex_unlock(&dc->issue_lock);
}

/* ---- status ----------------------------------------------------------- */

static const char *halt_reason(unsigned int err)
{
	switch (err) {
	case DMAC_ERR_DESC_READ:
		return "descriptor fetch failed";
	case DMAC_ERR_CR_WRITE:
		return "completion record write failed";
	case DMAC_ERR_MASTER_ABORT:
		return "bus mastering disabled (master abort)";
	case DMAC_ERR_RING:
		return "invalid ring";
	}
	return "unknown error";
}

/* Status of a cookie not complete yet (lock held). */
static enum dma_status pending_status(struct dmac_chan *dc, dma_cookie_t cookie,
				      struct dma_tx_state *state)
{
	u32 hw = readl(creg(dc, DMAC_CH_STATUS));

	for (u16 i = dc->done; state && i != dc->sw_tail; i++) {
		struct dmac_sw *sw = dc->slot[i & dc->mask];

		if (sw && sw->txd.cookie == cookie)
			state->residue = (u32)sw->len;
	}
	if (DMAC_STATUS_STATE(hw) == DMAC_STATE_HALTED) {
		if (!dc->halt_reported)
			dev_err(chan_dev(dc), "%s: channel halted: %s at %#llx\n",
				dc->chan.name, halt_reason(DMAC_STATUS_ERROR(hw)),
				(unsigned long long)readq(creg(dc, DMAC_CH_ERR_ADDR)));
		dc->halt_reported = true;
		return DMA_ERROR;
	}
	return dc->paused ? DMA_PAUSED : DMA_IN_PROGRESS;
}

static enum dma_status dmac_tx_status(struct dma_chan *chan,
				      dma_cookie_t cookie,
				      struct dma_tx_state *state)
{
	struct dmac_chan *dc = to_dmac_chan(chan);
	const struct dmac_result *r;
	enum dma_status status;

	dmac_reap(dc);
	pthread_mutex_lock(&dc->lock);
	status = dma_cookie_status(chan, cookie, state);
	if (!dc->ready) {
		pthread_mutex_unlock(&dc->lock);
		return status;
	}
	if (status != DMA_COMPLETE) {
		status = pending_status(dc, cookie, state);
		pthread_mutex_unlock(&dc->lock);
		return status;
	}
	r = &dc->res[cookie & dc->mask];
	if (r->cookie == cookie) {
		if (state) {
			state->residue = r->residue;
			state->hw_status = r->status;
		}
		if (r->status != DMAC_CR_SUCCESS)
			status = DMA_ERROR;
	}
	pthread_mutex_unlock(&dc->lock);
	return status;
}

static int dmac_get_stats(struct dma_chan *chan,
			  struct dmaengine_chan_stats *stats)
{
	struct dmac_chan *dc = to_dmac_chan(chan);

	dmac_reap(dc);
	pthread_mutex_lock(&dc->lock);
	*stats = dc->stats;
	pthread_mutex_unlock(&dc->lock);
	return 0;
}

/* ---- pause, terminate ------------------------------------------------- */

static int dmac_pause(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);

	pthread_mutex_lock(&dc->issue_lock);
	dc->paused = true;
	writel(DMAC_CTRL_ENABLE | DMAC_CTRL_PAUSE, creg(dc, DMAC_CH_CTRL));
	pthread_mutex_unlock(&dc->issue_lock);
	return 0;
}

static int dmac_resume(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);

	if (!dc->paused)
		return -EINVAL;
	pthread_mutex_lock(&dc->issue_lock);
	dc->paused = false;
	writel(DMAC_CTRL_ENABLE, creg(dc, DMAC_CH_CTRL));
	pthread_mutex_unlock(&dc->issue_lock);
	return 0;
}

/* Mark everything outstanding terminated; never-issued slots become NOPs
 * so the device retires them without touching memory (lock held). */
static void mark_terminated(struct dmac_chan *dc)
{
	for (u16 i = dc->done; i != dc->sw_tail; i++) {
		unsigned int slot = i & dc->mask;
		struct dmac_sw *sw = dc->slot[slot];

		sw->terminated = true;
		if ((u16)(i - dc->hw_tail) < (u16)(dc->sw_tail - dc->hw_tail)) {
			sw->never_issued = true;
			dc->ring[slot].opcode = DMAC_OP_NOP;
			dc->ring[slot].flags = DMAC_DESC_COMPL;
		}
	}
}

static int dmac_terminate_all(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);
	u16 t;

	pthread_mutex_lock(&dc->issue_lock);
	pthread_mutex_lock(&dc->lock);
	if (!dc->ready) {
		pthread_mutex_unlock(&dc->lock);
		pthread_mutex_unlock(&dc->issue_lock);
		return 0;
	}
	mark_terminated(dc);
	t = dc->hw_tail = dc->sw_tail;
	dc->fence_next = false;
	dc->paused = false;
	dc->halt_reported = false;
	pthread_mutex_unlock(&dc->lock);
	writel(DMAC_CTRL_ENABLE | DMAC_CTRL_ABORT, creg(dc, DMAC_CH_CTRL));
	writel(t, creg(dc, DMAC_CH_TAIL));
	pthread_mutex_unlock(&dc->issue_lock);
	return 0;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* Is the hardware done with everything rung (or stopped for good)? */
static bool hw_quiet(struct dmac_chan *dc, u16 tail)
{
	u32 st = DMAC_STATUS_STATE(readl(creg(dc, DMAC_CH_STATUS)));

	if (st == DMAC_STATE_DISABLED || st == DMAC_STATE_HALTED)
		return true;
	return st != DMAC_STATE_ABORTING &&
	       (u16)readl(creg(dc, DMAC_CH_HEAD)) == tail;
}

/* Poll the status register as readl_poll_timeout does: short naps. */
static void wait_hw(struct dmac_chan *dc)
{
	u64 start = now_ns();
	unsigned int polls = 0;
	u16 tail;

	pthread_mutex_lock(&dc->lock);
	tail = dc->hw_tail;
	pthread_mutex_unlock(&dc->lock);
	while (!hw_quiet(dc, tail)) {
		if (now_ns() - start > WAIT_HW_NS) {
			dev_err(chan_dev(dc), "%s: timed out waiting for the channel to stop\n",
				dc->chan.name);
			return;
		}
		if (++polls < 100) {
			sched_yield();
		} else {
			struct timespec nap = { 0, 10000 };

			nanosleep(&nap, NULL);
		}
	}
}

static void dmac_synchronize(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);

	if (!dc->ready)
		return;
	wait_hw(dc);
	/* a completion runner in flight finishes its callbacks */
	pthread_mutex_lock(&dc->cleanup_lock);
	pthread_mutex_unlock(&dc->cleanup_lock);
	synchronize_irq((unsigned int)pci_irq_vector(dc->dd->pdev,
						     dc->idx % dc->dd->nvec));
	dmac_reap(dc);
}

/* ---- channel resources ------------------------------------------------ */

static void chan_free_mem(struct dmac_chan *dc)
{
	struct device *dev = chan_dev(dc);

	if (dc->ring)
		dma_free_coherent(dev, dc->size * sizeof(*dc->ring), dc->ring,
				  dc->ring_dma);
	if (dc->cr)
		dma_free_coherent(dev, dc->size * sizeof(*dc->cr), dc->cr,
				  dc->cr_dma);
	if (dc->sg)
		dma_free_coherent(dev, dc->sg_bytes, dc->sg, dc->sg_dma);
	free(dc->sw);
	free(dc->slot);
	free(dc->res);
	dc->ring = NULL;
	dc->cr = NULL;
	dc->sg = NULL;
	dc->sw = NULL;
	dc->slot = NULL;
	dc->res = NULL;
}

static int chan_alloc_mem(struct dmac_chan *dc)
{
	struct device *dev = chan_dev(dc);
	size_t per = 2 * DMAC_MAX_SG * sizeof(struct dmac_sg_entry);

	dc->size = dc->dd->ring;
	dc->mask = dc->size - 1;
	dc->sg_bytes = dc->size * per;
	dc->ring = dma_alloc_coherent(dev, dc->size * sizeof(*dc->ring),
				      &dc->ring_dma, GFP_KERNEL);
	dc->cr = dma_alloc_coherent(dev, dc->size * sizeof(*dc->cr), &dc->cr_dma,
				    GFP_KERNEL);
	dc->sg = dma_alloc_coherent(dev, dc->sg_bytes, &dc->sg_dma, GFP_KERNEL);
	dc->sw = calloc(dc->size, sizeof(*dc->sw));
	dc->slot = calloc(dc->size, sizeof(*dc->slot));
	dc->res = calloc(dc->size, sizeof(*dc->res));
	if (!dc->ring || !dc->cr || !dc->sg || !dc->sw || !dc->slot || !dc->res) {
		chan_free_mem(dc);
		return -ENOMEM;
	}
	dc->free = NULL;
	for (unsigned int i = dc->size; i-- > 0;) {
		struct dmac_sw *sw = &dc->sw[i];

		sw->sg = (struct dmac_sg_entry *)((char *)dc->sg + i * per);
		sw->sg_dma = dc->sg_dma + i * per;
		sw->next_free = dc->free;
		dc->free = sw;
	}
	return 0;
}

static int dmac_alloc_chan_resources(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);
	int ret = chan_alloc_mem(dc);

	if (ret)
		return ret;
	writel(0, creg(dc, DMAC_CH_CTRL));
	writeq(dc->ring_dma, creg(dc, DMAC_CH_RING_BASE));
	writel(dc->size, creg(dc, DMAC_CH_RING_SIZE));
	writel(readl((char __iomem *)dc->dd->regs + DMAC_REG_INTCOAL),
	       creg(dc, DMAC_CH_INTCOAL));
	pthread_mutex_lock(&dc->lock);
	dc->sw_tail = dc->hw_tail = dc->done = 0;
	dc->fence_next = dc->paused = dc->halt_reported = false;
	memset(&dc->stats, 0, sizeof(dc->stats));
	dma_cookie_init(chan);
	dc->ready = true;
	pthread_mutex_unlock(&dc->lock);
	writel(DMAC_CTRL_ENABLE, creg(dc, DMAC_CH_CTRL));
	return (int)dc->size;
}

static void dmac_free_chan_resources(struct dma_chan *chan)
{
	struct dmac_chan *dc = to_dmac_chan(chan);

	if (!dc->ready)
		return;
	dmac_terminate_all(chan);
	dmac_synchronize(chan);
	writel(0, creg(dc, DMAC_CH_CTRL));
	pthread_mutex_lock(&dc->cleanup_lock);
	pthread_mutex_lock(&dc->lock);
	dc->ready = false;
	pthread_mutex_unlock(&dc->lock);
	pthread_mutex_unlock(&dc->cleanup_lock);
	chan_free_mem(dc);
}

/* ---- probe and remove ------------------------------------------------- */

static void chan_init(struct dmac_dev *dd, unsigned int i)
{
	struct dmac_chan *dc = &dd->ch[i];
	pthread_mutexattr_t attr;

	dc->dd = dd;
	dc->idx = i;
	dc->regs = (char __iomem *)dd->regs + DMAC_CH_BASE(i);
	pthread_mutex_init(&dc->lock, NULL);
	pthread_mutex_init(&dc->cleanup_lock, NULL);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&dc->issue_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (i + 1 < dd->nch)
		dc->chan.device_node = &dd->ch[i + 1].chan;
}

static void chan_destroy(struct dmac_chan *dc)
{
	pthread_mutex_destroy(&dc->lock);
	pthread_mutex_destroy(&dc->cleanup_lock);
	pthread_mutex_destroy(&dc->issue_lock);
}

static void setup_dma_device(struct dmac_dev *dd)
{
	struct dma_device *dma = &dd->dma;

	dma->dev = &dd->pdev->dev;
	dma_cap_zero(dma->cap_mask);
	dma_cap_set(DMA_MEMCPY, dma->cap_mask);
	dma_cap_set(DMA_MEMCPY_SG, dma->cap_mask);
	dma_cap_set(DMA_MEMSET, dma->cap_mask);
	dma_cap_set(DMA_INTERRUPT, dma->cap_mask);
	dma->residue_granularity = DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	dma->max_sg_burst = dd->max_sg;
	dma->max_len = DMAC_MAX_XFER;
	dma->channels = &dd->ch[0].chan;
	dma->device_alloc_chan_resources = dmac_alloc_chan_resources;
	dma->device_free_chan_resources = dmac_free_chan_resources;
	dma->device_prep_dma_memcpy = dmac_prep_memcpy;
	dma->device_prep_dma_memcpy_sg = dmac_prep_memcpy_sg;
	dma->device_prep_dma_memset = dmac_prep_memset;
	dma->device_prep_dma_memset64 = dmac_prep_memset64;
	dma->device_prep_dma_interrupt = dmac_prep_interrupt;
	dma->device_pause = dmac_pause;
	dma->device_resume = dmac_resume;
	dma->device_terminate_all = dmac_terminate_all;
	dma->device_synchronize = dmac_synchronize;
	dma->device_tx_status = dmac_tx_status;
	dma->device_issue_pending = dmac_issue_pending;
	dma->device_get_stats = dmac_get_stats;
}

static int setup_irqs(struct dmac_dev *dd)
{
	struct pci_dev *pdev = dd->pdev;
	int n = pci_alloc_irq_vectors(pdev, 1, dd->nch, PCI_IRQ_MSI);

	if (n < 0) {
		dev_err(&pdev->dev, "cannot allocate MSI vectors: %d\n", n);
		return n;
	}
	dd->nvec = (unsigned int)n;
	for (unsigned int v = 0; v < dd->nvec; v++) {
		char name[32];
		int ret;

		snprintf(name, sizeof(name), "dmac-msi-%u", v);
		ret = request_irq((unsigned int)pci_irq_vector(pdev, v), dmac_irq,
				  0, name, dd);
		if (ret) {
			while (v-- > 0)
				free_irq((unsigned int)pci_irq_vector(pdev, v), dd);
			pci_free_irq_vectors(pdev);
			return ret;
		}
	}
	return 0;
}

static void free_irqs(struct dmac_dev *dd)
{
	for (unsigned int v = 0; v < dd->nvec; v++)
		free_irq((unsigned int)pci_irq_vector(dd->pdev, v), dd);
	pci_free_irq_vectors(dd->pdev);
}

static int read_caps(struct dmac_dev *dd)
{
	u32 id = readl(dd->regs), cap;

	if (id != DMAC_ID_VALUE) {
		dev_err(&dd->pdev->dev, "unexpected ID register %#x\n", id);
		return -ENODEV;
	}
	cap = readl((char __iomem *)dd->regs + DMAC_REG_CAP);
	dd->nch = DMAC_CAP_CHANNELS(cap);
	dd->max_sg = DMAC_CAP_MAX_SG(cap);
	dd->ring = readl((char __iomem *)dd->regs + DMAC_REG_RING_SIZE);
	if (!dd->nch || dd->nch > DMAC_MAX_CHANNELS || dd->max_sg > DMAC_MAX_SG ||
	    dd->ring < DMAC_RING_MIN || dd->ring > DMAC_RING_MAX) {
		dev_err(&dd->pdev->dev, "unsupported capabilities %#x\n", cap);
		return -ENODEV;
	}
	return 0;
}

static void probe_banner(struct dmac_dev *dd)
{
	u32 ver = readl((char __iomem *)dd->regs + DMAC_REG_VERSION);

	dev_info(&dd->pdev->dev,
		 "DMA controller v%u.%u: %u channels, %u descriptors per ring, %u SG entries\n",
		 ver >> 16, ver & 0xffff, dd->nch, dd->ring, dd->max_sg);
	dev_info(&dd->pdev->dev, "dma%d: %s..%s, %u MSI vectors from IRQ %u\n",
		 dd->dma.dev_id, dd->ch[0].chan.name,
		 dd->ch[dd->nch - 1].chan.name, dd->nvec, dd->pdev->irq);
}

static int dmac_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dmac_dev *dd;
	int ret;

	(void)id;
	dd = calloc(1, sizeof(*dd));
	if (!dd)
		return -ENOMEM;
	dd->pdev = pdev;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	pci_request_regions(pdev, DRV_NAME);
	dd->regs = pci_iomap(pdev, 0, 0);
	ret = dd->regs ? read_caps(dd) : -ENOMEM;
	if (ret)
		goto err_disable;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_disable;
	pci_set_master(pdev);
	ret = setup_irqs(dd);
	if (ret)
		goto err_master;
	for (unsigned int i = 0; i < dd->nch; i++)
		chan_init(dd, i);
	setup_dma_device(dd);
	ret = dma_async_device_register(&dd->dma);
	if (ret)
		goto err_chans;
	pci_set_drvdata(pdev, dd);
	probe_banner(dd);
	return 0;
err_chans:
	for (unsigned int i = 0; i < dd->nch; i++)
		chan_destroy(&dd->ch[i]);
	free_irqs(dd);
err_master:
	pci_clear_master(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	free(dd);
	return ret;
}

static void dmac_remove(struct pci_dev *pdev)
{
	struct dmac_dev *dd = pci_get_drvdata(pdev);

	if (!dd)
		return;
	for (unsigned int i = 0; i < dd->nch; i++) {
		struct dmac_chan *dc = &dd->ch[i];

		if (!dc->ready)
			continue;
		dev_warn(&pdev->dev, "%s still in use at removal\n",
			 dc->chan.name);
		dmac_free_chan_resources(&dc->chan);
		atomic_store(&dc->chan.client_count, 0);
	}
	dma_async_device_unregister(&dd->dma);
	free_irqs(dd);
	for (unsigned int i = 0; i < dd->nch; i++)
		chan_destroy(&dd->ch[i]);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	free(dd);
}

static const struct pci_device_id dmac_ids[] = {
	{ PCI_DEVICE(DMAC_VENDOR_ID, DMAC_DEVICE_ID) },
	{ 0 },
};

const struct pci_driver dmac_pci_driver = {
	.name = DRV_NAME,
	.id_table = dmac_ids,
	.probe = dmac_probe,
	.remove = dmac_remove,
	.driver = { .name = DRV_NAME },
};
