/*
 * The DMA engine API (linux/dmaengine.h): channels of offload engines,
 * requested by capability, with Linux's names, values and semantics:
 *
 *   dma_cap_zero(mask); dma_cap_set(DMA_MEMCPY, mask);
 *   chan = dma_request_chan_by_mask(&mask);         // ERR_PTR(-ENODEV)
 *   tx = dmaengine_prep_dma_memcpy(chan, dst, src, len,
 *                                  DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
 *   tx->callback_result = done; tx->callback_param = ctx;
 *   cookie = dmaengine_submit(tx);                  // queued, not started
 *   dma_async_issue_pending(chan);                  // starts the queue
 *   ... dma_async_is_tx_complete(chan, cookie, NULL, NULL) ...
 *   dmaengine_terminate_sync(chan); dma_release_channel(chan);
 *
 * Channels are exclusive to the client that requested them. Callbacks run
 * in the engine's completion context (the device's interrupt, or the thread
 * that polls with dmaengine_tx_status), in submission order, never with a
 * driver lock held, so they may prepare and submit more work. A prep call
 * returns NULL when the channel's descriptors are all in use (the ring is
 * full) or the request is invalid.
 *
 * The machine is the calling thread's (dmasim_enter); the provider side
 * (struct dma_device, the cookie helpers) is at the end.
 *
 * dmasim extensions, marked as such: dmaengine_prep_dma_memset64 (a 64-bit
 * fill pattern), dma_tx_state.hw_status (the device's own completion code)
 * and dmaengine_get_stats (DPDK-style counters).
 */
#ifndef DMASIM_LINUX_DMAENGINE_H
#define DMASIM_LINUX_DMAENGINE_H

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>

#include "device.h"
#include "scatterlist.h"
#include "types.h"

/* linux/err.h, as far as dmaengine's callers need it. */
#ifndef DMASIM_LINUX_ERR_H
#define DMASIM_LINUX_ERR_H
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error)
{
	return (void *)error;
}
static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}
static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}
static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}
#endif

typedef s32 dma_cookie_t;
#define DMA_MIN_COOKIE 1

static inline int dma_submit_error(dma_cookie_t cookie)
{
	return cookie < 0 ? cookie : 0;
}

enum dma_status {
	DMA_COMPLETE,
	DMA_IN_PROGRESS,
	DMA_PAUSED,
	DMA_ERROR,
	DMA_OUT_OF_ORDER,
};

enum dma_transaction_type {
	DMA_MEMCPY,
	DMA_MEMCPY_SG,
	DMA_XOR,
	DMA_PQ,
	DMA_XOR_VAL,
	DMA_PQ_VAL,
	DMA_MEMSET,
	DMA_MEMSET_SG,
	DMA_INTERRUPT,
	DMA_PRIVATE,
	DMA_ASYNC_TX,
	DMA_SLAVE,
	DMA_CYCLIC,
	DMA_INTERLEAVE,
	DMA_COMPLETION_NO_ORDER,
	DMA_REPEAT,
	DMA_LOAD_EOT,
	DMA_TX_TYPE_END,
};

enum dma_ctrl_flags {
	DMA_PREP_INTERRUPT = (1 << 0),	/* completion interrupt + callback */
	DMA_CTRL_ACK = (1 << 1),	/* the client will not reuse it */
	DMA_PREP_PQ_DISABLE_P = (1 << 2),
	DMA_PREP_PQ_DISABLE_Q = (1 << 3),
	DMA_PREP_CONTINUE = (1 << 4),
	DMA_PREP_FENCE = (1 << 5),	/* later operations depend on this one */
	DMA_CTRL_REUSE = (1 << 6),
	DMA_PREP_CMD = (1 << 7),
	DMA_PREP_REPEAT = (1 << 8),
	DMA_PREP_LOAD_EOT = (1 << 9),
};

enum dma_residue_granularity {
	DMA_RESIDUE_GRANULARITY_DESCRIPTOR = 0,
	DMA_RESIDUE_GRANULARITY_SEGMENT = 1,
	DMA_RESIDUE_GRANULARITY_BURST = 2,
};

#define DMA_CAP_LONGS ((DMA_TX_TYPE_END + 63) / 64)
typedef struct {
	unsigned long bits[DMA_CAP_LONGS];
} dma_cap_mask_t;

static inline void __dma_cap_set(enum dma_transaction_type tx,
				 dma_cap_mask_t *m)
{
	m->bits[tx / 64] |= 1UL << (tx % 64);
}

static inline void __dma_cap_clear(enum dma_transaction_type tx,
				   dma_cap_mask_t *m)
{
	m->bits[tx / 64] &= ~(1UL << (tx % 64));
}

static inline bool __dma_has_cap(enum dma_transaction_type tx,
				 const dma_cap_mask_t *m)
{
	return m->bits[tx / 64] & (1UL << (tx % 64));
}

static inline void __dma_cap_zero(dma_cap_mask_t *m)
{
	memset(m, 0, sizeof(*m));
}

#define dma_cap_set(tx, mask)	__dma_cap_set((tx), &(mask))
#define dma_cap_clear(tx, mask) __dma_cap_clear((tx), &(mask))
#define dma_has_cap(tx, mask)	__dma_has_cap((tx), &(mask))
#define dma_cap_zero(mask)	__dma_cap_zero(&(mask))

enum dmaengine_tx_result {
	DMA_TRANS_NOERROR = 0,
	DMA_TRANS_READ_FAILED,	/* bad source */
	DMA_TRANS_WRITE_FAILED,	/* bad destination */
	DMA_TRANS_ABORTED,	/* terminated, or not attempted */
};

struct dmaengine_result {
	enum dmaengine_tx_result result;
	u32 residue;		/* bytes not transferred */
};

typedef void (*dma_async_tx_callback)(void *dma_async_param);
typedef void (*dma_async_tx_callback_result)(void *dma_async_param,
					     const struct dmaengine_result *result);

struct dma_tx_state {
	dma_cookie_t last;	/* last completed cookie */
	dma_cookie_t used;	/* last issued cookie */
	u32 residue;
	u32 in_flight_bytes;
	/* dmasim: the device's completion code for the cookie (for dmac,
	 * enum dmac_cr_status), 0 when unknown or not complete */
	u32 hw_status;
};

struct dma_device;

struct dma_chan {
	struct dma_device *device;
	dma_cookie_t cookie;		/* last cookie assigned */
	dma_cookie_t completed_cookie;	/* last cookie completed */
	int chan_id;
	char name[32];			/* "dma0chan0" */
	_Atomic int client_count;	/* 1 while a client holds it */
	void *private;
	struct dma_chan *device_node;	/* next channel of the device */
	/* counters of /sys/class/dma/<chan>/ */
	_Atomic unsigned long memcpy_count;
	_Atomic unsigned long bytes_transferred;
};

struct dma_async_tx_descriptor {
	dma_cookie_t cookie;
	enum dma_ctrl_flags flags;
	dma_addr_t phys;
	struct dma_chan *chan;
	dma_cookie_t (*tx_submit)(struct dma_async_tx_descriptor *tx);
	int (*desc_free)(struct dma_async_tx_descriptor *tx);
	dma_async_tx_callback callback;
	dma_async_tx_callback_result callback_result;
	void *callback_param;
};

/* dmasim: DPDK-style counters of a channel (rte_dma_stats). */
struct dmaengine_chan_stats {
	u64 submitted;		/* descriptors submitted */
	u64 completed;		/* completed, successfully or not */
	u64 errors;		/* completed with an error */
	u64 bytes;		/* bytes transferred */
};

typedef bool (*dma_filter_fn)(struct dma_chan *chan, void *filter_param);

/* Clients. */
struct dma_chan *dma_request_chan_by_mask(const dma_cap_mask_t *mask);
struct dma_chan *__dma_request_channel(const dma_cap_mask_t *mask,
				       dma_filter_fn fn, void *fn_param,
				       void *np);
#define dma_request_channel(mask, x, y) \
	__dma_request_channel(&(mask), x, y, NULL)
void dma_release_channel(struct dma_chan *chan);
/* Poll until @cookie completes (at most 5 s): DMA_COMPLETE or DMA_ERROR. */
enum dma_status dma_sync_wait(struct dma_chan *chan, dma_cookie_t cookie);
int dmaengine_get_stats(struct dma_chan *chan,
			struct dmaengine_chan_stats *stats);

static inline const char *dma_chan_name(const struct dma_chan *chan)
{
	return chan->name;
}

/* Providers. */
struct dma_device {
	unsigned int chancnt;
	struct dma_chan *channels;	/* linked by device_node */
	dma_cap_mask_t cap_mask;
	int dev_id;			/* dmaN, set by registration */
	struct device *dev;
	enum dma_residue_granularity residue_granularity;
	unsigned int max_sg_burst;	/* SG entries per side */
	size_t max_len;			/* largest length of one transfer */
	struct dma_device *next;	/* the machine's providers */

	int (*device_alloc_chan_resources)(struct dma_chan *chan);
	void (*device_free_chan_resources)(struct dma_chan *chan);
	struct dma_async_tx_descriptor *(*device_prep_dma_memcpy)(
		struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		size_t len, unsigned long flags);
	struct dma_async_tx_descriptor *(*device_prep_dma_memcpy_sg)(
		struct dma_chan *chan, struct scatterlist *dst_sg,
		unsigned int dst_nents, struct scatterlist *src_sg,
		unsigned int src_nents, unsigned long flags);
	struct dma_async_tx_descriptor *(*device_prep_dma_memset)(
		struct dma_chan *chan, dma_addr_t dest, int value, size_t len,
		unsigned long flags);
	struct dma_async_tx_descriptor *(*device_prep_dma_memset64)(
		struct dma_chan *chan, dma_addr_t dest, u64 pattern,
		size_t len, unsigned long flags);
	struct dma_async_tx_descriptor *(*device_prep_dma_interrupt)(
		struct dma_chan *chan, unsigned long flags);
	int (*device_pause)(struct dma_chan *chan);
	int (*device_resume)(struct dma_chan *chan);
	int (*device_terminate_all)(struct dma_chan *chan);
	void (*device_synchronize)(struct dma_chan *chan);
	enum dma_status (*device_tx_status)(struct dma_chan *chan,
					    dma_cookie_t cookie,
					    struct dma_tx_state *txstate);
	void (*device_issue_pending)(struct dma_chan *chan);
	int (*device_get_stats)(struct dma_chan *chan,
				struct dmaengine_chan_stats *stats);
};

/* Register @device and its channels with the machine of @device->dev;
 * names them dma<N>chan<M>. 0 or -EINVAL / -ENOMEM. */
int dma_async_device_register(struct dma_device *device);
void dma_async_device_unregister(struct dma_device *device);

/* ---- client calls into the provider ---------------------------------- */

static inline struct dma_async_tx_descriptor *
dmaengine_prep_dma_memcpy(struct dma_chan *chan, dma_addr_t dst,
			  dma_addr_t src, size_t len, unsigned long flags)
{
	if (!chan || !chan->device || !chan->device->device_prep_dma_memcpy)
		return NULL;
	return chan->device->device_prep_dma_memcpy(chan, dst, src, len, flags);
}

/* Copy the bytes of @src_sg to @dst_sg (totals must be equal; the
 * segments need not line up). Uses sg_dma_address / sg_dma_len. */
static inline struct dma_async_tx_descriptor *
dmaengine_prep_dma_memcpy_sg(struct dma_chan *chan,
			     struct scatterlist *dst_sg, unsigned int dst_nents,
			     struct scatterlist *src_sg, unsigned int src_nents,
			     unsigned long flags)
{
	if (!chan || !chan->device || !chan->device->device_prep_dma_memcpy_sg)
		return NULL;
	return chan->device->device_prep_dma_memcpy_sg(chan, dst_sg, dst_nents,
						      src_sg, src_nents, flags);
}

/* Fill @len bytes with the byte @value (Linux passes an int). */
static inline struct dma_async_tx_descriptor *
dmaengine_prep_dma_memset(struct dma_chan *chan, dma_addr_t dest, int value,
			  size_t len, unsigned long flags)
{
	if (!chan || !chan->device || !chan->device->device_prep_dma_memset)
		return NULL;
	return chan->device->device_prep_dma_memset(chan, dest, value, len,
						   flags);
}

/* dmasim: fill with a 64-bit pattern, byte j = byte (j mod 8) of
 * @pattern in memory (little-endian) order. */
static inline struct dma_async_tx_descriptor *
dmaengine_prep_dma_memset64(struct dma_chan *chan, dma_addr_t dest,
			    u64 pattern, size_t len, unsigned long flags)
{
	if (!chan || !chan->device || !chan->device->device_prep_dma_memset64)
		return NULL;
	return chan->device->device_prep_dma_memset64(chan, dest, pattern, len,
						     flags);
}

static inline struct dma_async_tx_descriptor *
dmaengine_prep_dma_interrupt(struct dma_chan *chan, unsigned long flags)
{
	if (!chan || !chan->device || !chan->device->device_prep_dma_interrupt)
		return NULL;
	return chan->device->device_prep_dma_interrupt(chan, flags);
}

static inline dma_cookie_t dmaengine_submit(struct dma_async_tx_descriptor *desc)
{
	return desc->tx_submit(desc);
}

static inline void dma_async_issue_pending(struct dma_chan *chan)
{
	chan->device->device_issue_pending(chan);
}

static inline enum dma_status dmaengine_tx_status(struct dma_chan *chan,
						  dma_cookie_t cookie,
						  struct dma_tx_state *state)
{
	return chan->device->device_tx_status(chan, cookie, state);
}

/*
 * Is @cookie complete, given the last completed and the last used cookie?
 * Wrap-safe: cookies count up from DMA_MIN_COOKIE and wrap back to it.
 */
static inline enum dma_status dma_async_is_complete(dma_cookie_t cookie,
						    dma_cookie_t last_complete,
						    dma_cookie_t last_used)
{
	if (last_complete <= last_used) {
		if (cookie <= last_complete || cookie > last_used)
			return DMA_COMPLETE;
	} else {
		if (cookie <= last_complete && cookie > last_used)
			return DMA_COMPLETE;
	}
	return DMA_IN_PROGRESS;
}

static inline enum dma_status dma_async_is_tx_complete(struct dma_chan *chan,
						       dma_cookie_t cookie,
						       dma_cookie_t *last,
						       dma_cookie_t *used)
{
	struct dma_tx_state state = { 0 };
	enum dma_status status;

	status = chan->device->device_tx_status(chan, cookie, &state);
	if (last)
		*last = state.last;
	if (used)
		*used = state.used;
	return status;
}

static inline int dmaengine_pause(struct dma_chan *chan)
{
	if (chan->device->device_pause)
		return chan->device->device_pause(chan);
	return -ENOSYS;
}

static inline int dmaengine_resume(struct dma_chan *chan)
{
	if (chan->device->device_resume)
		return chan->device->device_resume(chan);
	return -ENOSYS;
}

/* Stop the channel; may return before the hardware stopped. No callback
 * runs for a terminated descriptor. Callable from a callback. */
static inline int dmaengine_terminate_async(struct dma_chan *chan)
{
	if (chan->device->device_terminate_all)
		return chan->device->device_terminate_all(chan);
	return -ENOSYS;
}

/* After dmaengine_terminate_async: wait until the hardware touches no
 * buffer of the terminated descriptors and no callback runs. Sleeps; not
 * from a callback. */
static inline void dmaengine_synchronize(struct dma_chan *chan)
{
	if (chan->device->device_synchronize)
		chan->device->device_synchronize(chan);
}

static inline int dmaengine_terminate_sync(struct dma_chan *chan)
{
	int ret = dmaengine_terminate_async(chan);

	if (ret)
		return ret;
	dmaengine_synchronize(chan);
	return 0;
}

/* ---- provider helpers (drivers/dma/dmaengine.h in Linux) -------------- */

static inline void dma_cookie_init(struct dma_chan *chan)
{
	chan->cookie = DMA_MIN_COOKIE;
	chan->completed_cookie = DMA_MIN_COOKIE;
}

/* Assign the next cookie (wrapping back to DMA_MIN_COOKIE). */
static inline dma_cookie_t dma_cookie_assign(struct dma_async_tx_descriptor *tx)
{
	struct dma_chan *chan = tx->chan;
	dma_cookie_t cookie = chan->cookie == INT_MAX ? DMA_MIN_COOKIE
						      : chan->cookie + 1;

	chan->cookie = cookie;
	tx->cookie = cookie;
	return cookie;
}

static inline void dma_cookie_complete(struct dma_async_tx_descriptor *tx)
{
	tx->chan->completed_cookie = tx->cookie;
	tx->cookie = 0;
}

static inline enum dma_status dma_cookie_status(struct dma_chan *chan,
						dma_cookie_t cookie,
						struct dma_tx_state *state)
{
	dma_cookie_t used = chan->cookie, complete = chan->completed_cookie;

	if (state) {
		state->last = complete;
		state->used = used;
		state->residue = 0;
		state->in_flight_bytes = 0;
		state->hw_status = 0;
	}
	return dma_async_is_complete(cookie, complete, used);
}

static inline void dma_set_residue(struct dma_tx_state *state, u32 residue)
{
	if (state)
		state->residue = residue;
}

#endif
