/*
 * The dmac engine through the dmaengine API, DPDK-suite style (reference
 * dma-engines.md section 7): lifecycle errors, single and burst copies,
 * submit semantics, scatter-gather for every split, fills with odd
 * lengths, ring full and cookie wrap, error injection with and without a
 * fence, fence ordering, callbacks against polling, pause, terminate and
 * a device whose bus mastering is off. Every test runs on the threaded
 * engine and on the inline engine; completed == submitted after each.
 */
#include "test_dmac_util.h"

#include <limits.h>
#include <time.h>

#include "hw/pci.h"
#include "kernel/machine.h"

struct env {
	bool inl;
	const char *opts;
	struct dmasim_machine *m;
	struct dma_chan *chan;
	struct device *dev;
};

static int setup_env(void **state)
{
	struct env *e = *state;

	e->m = dmac_boot(e->opts, e->inl);
	e->chan = memcpy_chan();
	e->dev = chan_device(e->chan);
	return 0;
}

static int teardown_env(void **state)
{
	struct env *e = *state;

	check_balanced(e->chan);
	dma_release_channel(e->chan);
	dmasim_machine_destroy(e->m);
	return 0;
}

static enum dma_status wait_cookie(struct dma_chan *chan, dma_cookie_t c)
{
	return dma_sync_wait(chan, c);
}

static u32 hw_status(struct dma_chan *chan, dma_cookie_t c, u32 *residue)
{
	struct dma_tx_state st;

	dmaengine_tx_status(chan, c, &st);
	if (residue)
		*residue = st.residue;
	return st.hw_status;
}

/* ---- lifecycle -------------------------------------------------------- */

static bool only_chan2(struct dma_chan *chan, void *param)
{
	return chan->chan_id == *(int *)param;
}

static void test_lifecycle(void **state)
{
	struct env *e = *state;
	struct dma_chan *c[4];
	dma_cap_mask_t mask;
	int want = 2;

	assert_string_equal(dma_chan_name(e->chan), "dma0chan0");
	dma_cap_zero(mask);
	dma_cap_set(DMA_XOR, mask);
	assert_ptr_equal(dma_request_chan_by_mask(&mask), ERR_PTR(-ENODEV));
	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMSET, mask);
	dma_cap_set(DMA_MEMCPY_SG, mask);
	c[0] = dma_request_channel(mask, only_chan2, &want);
	assert_non_null(c[0]);
	assert_string_equal(dma_chan_name(c[0]), "dma0chan2");
	assert_null(dma_request_channel(mask, only_chan2, &want));
	c[1] = dma_request_chan_by_mask(&mask);
	c[2] = dma_request_chan_by_mask(&mask);
	assert_false(IS_ERR(c[1]) || IS_ERR(c[2]));
	assert_true(IS_ERR(dma_request_chan_by_mask(&mask)));
	dma_release_channel(c[1]);
	c[3] = dma_request_chan_by_mask(&mask);
	assert_ptr_equal(c[3], c[1]);
	dma_release_channel(c[0]);
	dma_release_channel(c[2]);
	dma_release_channel(c[3]);
	/* invalid requests are refused at prep time */
	assert_null(dmaengine_prep_dma_memcpy(e->chan, 0x100000, 0x200000, 0, 0));
	assert_null(dmaengine_prep_dma_memset(e->chan, 0x100000, 0, 0, 0));
	assert_int_equal(dmaengine_resume(e->chan), -EINVAL);
	assert_int_equal(dmaengine_terminate_sync(e->chan), 0);
	assert_int_equal(atomic_load(&e->chan->client_count), 1);
}

/* ---- copies ----------------------------------------------------------- */

static void test_single_copy(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 0), d = dbuf_alloc(e->dev, 4096, 0);
	dma_cookie_t c, last, used;
	struct dma_tx_state st;

	fill_random(s.cpu, 4096, 1);
	c = copy_submit(e->chan, d.dma, s.dma, 4096, DMA_CTRL_ACK);
	assert_int_equal(c, DMA_MIN_COOKIE + 1);
	assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 4096);
	assert_int_equal(dma_async_is_tx_complete(e->chan, c, &last, &used),
			 DMA_COMPLETE);
	assert_int_equal(last, c);
	assert_int_equal(used, c);
	assert_int_equal(dmaengine_tx_status(e->chan, c, &st), DMA_COMPLETE);
	assert_int_equal(st.residue, 0);
	assert_int_equal(st.hw_status, DMAC_CR_SUCCESS);
	/* a second look changes nothing */
	assert_int_equal(dmaengine_tx_status(e->chan, c, &st), DMA_COMPLETE);
	assert_int_equal(st.last, c);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

static void test_submit_needs_issue(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 8192, 0x5a), d = dbuf_alloc(e->dev, 8192, 0);
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	dma_cookie_t c;

	c = copy_submit(e->chan, d.dma, s.dma, 8192, DMA_CTRL_ACK);
	nanosleep(&nap, NULL);
	assert_int_equal(dmaengine_tx_status(e->chan, c, NULL), DMA_IN_PROGRESS);
	for (size_t i = 0; i < 8192; i++)
		assert_int_equal(d.cpu[i], 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 8192);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* 32 copies: one issue, two issues of 16; gathered; all verified. */
static void test_bursts(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 32 * 2048, 0);
	struct dbuf d = dbuf_alloc(e->dev, 32 * 2048, 0);
	dma_cookie_t c[32];

	for (int round = 0; round < 40; round++) {
		fill_random(s.cpu, 32 * 2048, (unsigned int)round);
		memset(d.cpu, 0, 32 * 2048);
		for (int i = 0; i < 32; i++) {
			c[i] = copy_submit(e->chan, d.dma + i * 2048u,
					   s.dma + i * 2048u, 2048, DMA_CTRL_ACK);
			if (round % 2 && i == 15)
				dma_async_issue_pending(e->chan);
		}
		dma_async_issue_pending(e->chan);
		assert_int_equal(wait_cookie(e->chan, c[31]), DMA_COMPLETE);
		for (int i = 0; i < 32; i++)
			assert_int_equal(dmaengine_tx_status(e->chan, c[i], NULL),
					 DMA_COMPLETE);
		assert_memory_equal(d.cpu, s.cpu, 32 * 2048);
	}
	/* the same source four times */
	for (int i = 0; i < 4; i++)
		c[i] = copy_submit(e->chan, d.dma + i * 2048u, s.dma, 2048, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c[3]), DMA_COMPLETE);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(d.cpu + i * 2048, s.cpu, 2048);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* ---- scatter-gather --------------------------------------------------- */

static void sg_split(struct scatterlist *sg, unsigned int n, dma_addr_t base,
		     size_t len)
{
	sg_init_table(sg, n);
	for (unsigned int i = 0; i < n; i++) {
		sg_dma_address(&sg[i]) = base + i * (len / n);
		sg_dma_len(&sg[i]) = (unsigned int)(len / n);
	}
}

static void test_sg_every_split(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 2048, 0), d = dbuf_alloc(e->dev, 2048, 0);
	struct scatterlist ss[DMAC_MAX_SG], ds[DMAC_MAX_SG];
	unsigned int max = e->chan->device->max_sg_burst;

	assert_int_equal(max, DMAC_MAX_SG);
	for (unsigned int ns = 1; ns <= max; ns++)
		for (unsigned int nd = 1; nd <= max; nd++) {
			size_t len = 2048 - 2048 % (ns * nd);
			struct dma_async_tx_descriptor *tx;
			dma_cookie_t c;

			fill_random(s.cpu, 2048, ns * 100 + nd);
			memset(d.cpu, 0, 2048);
			sg_split(ss, ns, s.dma, len);
			sg_split(ds, nd, d.dma, len);
			tx = dmaengine_prep_dma_memcpy_sg(e->chan, ds, nd, ss, ns,
							  DMA_CTRL_ACK);
			assert_non_null(tx);
			c = dmaengine_submit(tx);
			dma_async_issue_pending(e->chan);
			assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
			assert_memory_equal(d.cpu, s.cpu, len);
			for (size_t i = len; i < 2048; i++)
				assert_int_equal(d.cpu[i], 0);
		}
	/* mismatched totals, too many entries, empty entries: refused */
	sg_split(ss, 2, s.dma, 1024);
	sg_split(ds, 2, d.dma, 2048);
	assert_null(dmaengine_prep_dma_memcpy_sg(e->chan, ds, 2, ss, 2, 0));
	assert_null(dmaengine_prep_dma_memcpy_sg(e->chan, ds, max + 1, ss, 2, 0));
	sg_dma_len(&ss[1]) = 0;
	assert_null(dmaengine_prep_dma_memcpy_sg(e->chan, ss, 2, ss, 2, 0));
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* ---- fill ------------------------------------------------------------- */

static void test_fill_odd_lengths(void **state)
{
	static const size_t lens[] = { 8, 64, 1024, 50, 100, 89 };
	const u64 pattern = 0xfedcba9876543210ULL;
	struct env *e = *state;
	struct dbuf d = dbuf_alloc(e->dev, 4096, 0);

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct dma_async_tx_descriptor *tx;
		dma_cookie_t c;

		memset(d.cpu, 0, 4096);
		tx = dmaengine_prep_dma_memset64(e->chan, d.dma + 3, pattern,
						 lens[k], DMA_CTRL_ACK);
		assert_non_null(tx);
		c = dmaengine_submit(tx);
		dma_async_issue_pending(e->chan);
		assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
		for (size_t j = 0; j < lens[k]; j++)
			assert_int_equal(d.cpu[3 + j], (u8)(pattern >> (8 * (j % 8))));
		for (size_t j = 0; j < 3; j++)
			assert_int_equal(d.cpu[j], 0);
		for (size_t j = 3 + lens[k]; j < 4096; j++)
			assert_int_equal(d.cpu[j], 0);
	}
	/* Linux's memset: the low byte of an int */
	memset(d.cpu, 0, 4096);
	{
		dma_cookie_t c = dmaengine_submit(
			dmaengine_prep_dma_memset(e->chan, d.dma, 0x1a5, 77, 0));

		dma_async_issue_pending(e->chan);
		assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
		for (size_t j = 0; j < 77; j++)
			assert_int_equal(d.cpu[j], 0xa5);
		assert_int_equal(d.cpu[77], 0);
	}
	dbuf_free(e->dev, &d);
}

/* ---- ring full, cookie wrap ------------------------------------------- */

static void test_ring_full(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 7), d = dbuf_alloc(e->dev, 4096, 0);
	unsigned int ring = DMAC_RING_DEFAULT;
	dma_cookie_t c = 0;

	for (int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < ring; i++)
			c = copy_submit(e->chan, d.dma + i % 512 * 8,
					s.dma + i % 512 * 8, 8, 0);
		/* every descriptor is in use: prep says no, as -ENOSPC would */
		assert_null(dmaengine_prep_dma_memcpy(e->chan, d.dma, s.dma, 8, 0));
		dma_async_issue_pending(e->chan);
		assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
		assert_memory_equal(d.cpu, s.cpu, ring * 8);
	}
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

static void test_cookie_wrap(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 9), d = dbuf_alloc(e->dev, 4096, 0);
	dma_cookie_t c[24];

	assert_int_equal(dma_async_is_complete(5, 10, 20), DMA_COMPLETE);
	assert_int_equal(dma_async_is_complete(15, 10, 20), DMA_IN_PROGRESS);
	assert_int_equal(dma_async_is_complete(25, 10, 20), DMA_COMPLETE);
	/* wrapped: last used 3, last complete INT_MAX - 1 */
	assert_int_equal(dma_async_is_complete(INT_MAX - 5, INT_MAX - 1, 3),
			 DMA_COMPLETE);
	assert_int_equal(dma_async_is_complete(INT_MAX, INT_MAX - 1, 3),
			 DMA_IN_PROGRESS);
	assert_int_equal(dma_async_is_complete(2, INT_MAX - 1, 3), DMA_IN_PROGRESS);
	e->chan->cookie = e->chan->completed_cookie = INT_MAX - 10;
	for (int i = 0; i < 24; i++)
		c[i] = copy_submit(e->chan, d.dma + (size_t)i * 64,
				   s.dma + (size_t)i * 64, 64, 0);
	assert_int_equal(c[9], INT_MAX);
	assert_int_equal(c[10], DMA_MIN_COOKIE);
	assert_int_equal(dmaengine_tx_status(e->chan, c[5], NULL), DMA_IN_PROGRESS);
	assert_int_equal(dmaengine_tx_status(e->chan, c[20], NULL), DMA_IN_PROGRESS);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c[23]), DMA_COMPLETE);
	for (int i = 0; i < 24; i++)
		assert_int_equal(hw_status(e->chan, c[i], NULL), DMAC_CR_SUCCESS);
	assert_memory_equal(d.cpu, s.cpu, 24 * 64);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* The 16-bit ring index wraps twice (2 * 65536 descriptors), ring 16. */
static void test_ring_index_wrap(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 0), d = dbuf_alloc(e->dev, 4096, 0);
	dma_cookie_t c = 0;

	for (unsigned int it = 0; it < 2 * 65536 / 16; it++) {
		s.cpu[it % 512] = (u8)it;
		for (unsigned int i = 0; i < 16; i++)
			c = copy_submit(e->chan, d.dma + i * 256, s.dma + i * 256,
					256, 0);
		dma_async_issue_pending(e->chan);
		if (wait_cookie(e->chan, c) != DMA_COMPLETE)
			fail_msg("iteration %u", it);
	}
	assert_memory_equal(d.cpu, s.cpu, 4096);
	assert_int_equal(readl((char *)pci_iomap(to_pci_dev(e->dev), 0, 0) +
			       DMAC_CH_BASE(0) + DMAC_CH_HEAD), 0);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* ---- error injection -------------------------------------------------- */

struct rec {
	int n;
	dma_cookie_t order[64];
	struct dmaengine_result res[64];
	struct completion done;
	int want;
};

static void rec_cb(void *param, const struct dmaengine_result *r)
{
	struct rec *rc = param;

	rc->res[rc->n++] = *r;
	if (rc->n == rc->want)
		complete(&rc->done);
}

/* One bad source at @fail of a 16-burst; with @fence, DMA_PREP_FENCE on
 * index 7 (so index 8 onward depend on everything before). */
static void burst_with_error(struct env *e, int fail, bool fence, bool bad_dst)
{
	struct dbuf s = dbuf_alloc(e->dev, 16 * 1024, 0), d = dbuf_alloc(e->dev, 16 * 1024, 0);
	struct dmaengine_chan_stats before, after;
	struct rec rc = { .want = 16 };
	dma_cookie_t c[16];
	int errors = 0;

	init_completion(&rc.done);
	fill_random(s.cpu, 16 * 1024, (unsigned int)fail);
	dmaengine_get_stats(e->chan, &before);
	for (int i = 0; i < 16; i++) {
		dma_addr_t src = i == fail && !bad_dst ? BAD_ADDR : s.dma + i * 1024u;
		dma_addr_t dst = i == fail && bad_dst ? BAD_ADDR : d.dma + i * 1024u;
		unsigned long fl = DMA_PREP_INTERRUPT | DMA_CTRL_ACK |
				   (fence && i == 7 ? DMA_PREP_FENCE : 0);
		struct dma_async_tx_descriptor *tx =
			dmaengine_prep_dma_memcpy(e->chan, dst, src, 1024, fl);

		tx->callback_result = rec_cb;
		tx->callback_param = &rc;
		c[i] = dmaengine_submit(tx);
	}
	dma_async_issue_pending(e->chan);
	wait_for_completion(&rc.done);
	for (int i = 0; i < 16; i++) {
		bool skipped = fence && fail < 8 && i >= 8;
		u32 want = i == fail ? (bad_dst ? DMAC_CR_INVALID_DST : DMAC_CR_INVALID_SRC)
				     : skipped ? DMAC_CR_NOT_ATTEMPTED : DMAC_CR_SUCCESS;
		u32 residue;

		assert_int_equal(hw_status(e->chan, c[i], &residue), want);
		assert_int_equal(dmaengine_tx_status(e->chan, c[i], NULL),
				 want == DMAC_CR_SUCCESS ? DMA_COMPLETE : DMA_ERROR);
		assert_int_equal(residue, want == DMAC_CR_SUCCESS ? 0 : 1024);
		assert_int_equal(rc.res[i].result,
				 want == DMAC_CR_SUCCESS ? DMA_TRANS_NOERROR :
				 want == DMAC_CR_INVALID_SRC ? DMA_TRANS_READ_FAILED :
				 want == DMAC_CR_INVALID_DST ? DMA_TRANS_WRITE_FAILED :
							       DMA_TRANS_ABORTED);
		errors += want != DMAC_CR_SUCCESS;
		if (want == DMAC_CR_SUCCESS)
			assert_memory_equal(d.cpu + i * 1024, s.cpu + i * 1024, 1024);
		else
			for (int j = 0; j < 1024; j++)
				assert_int_equal(d.cpu[i * 1024 + j], 0);
	}
	dmaengine_get_stats(e->chan, &after);
	assert_int_equal(after.completed - before.completed, 16);
	assert_int_equal(after.errors - before.errors, (u64)errors);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

static void test_error_injection(void **state)
{
	static const int at[] = { 0, 7, 14, 15 };

	for (size_t i = 0; i < 4; i++) {
		burst_with_error(*state, at[i], false, false);
		burst_with_error(*state, at[i], true, false);
		burst_with_error(*state, at[i], true, true);
	}
	check_balanced(((struct env *)*state)->chan);
}

static void test_partial_and_multi(void **state)
{
	struct env *e = *state;
	struct dbuf d = dbuf_alloc(e->dev, 65536, 0), s = dbuf_alloc(e->dev, 4096, 3);
	struct dmaengine_chan_stats before, after;
	dma_cookie_t c[16];
	u32 residue;

	/* the source runs off the end of low RAM after 100 bytes */
	c[0] = copy_submit(e->chan, d.dma, LOW_RAM_END - 100, 4096, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c[0]), DMA_ERROR);
	assert_int_equal(hw_status(e->chan, c[0], &residue), DMAC_CR_INVALID_SRC);
	assert_int_equal(residue, 4096 - 100);
	assert_int_equal(d.cpu[100], 0);
	/* four failures in one burst count four errors */
	dmaengine_get_stats(e->chan, &before);
	for (int i = 0; i < 16; i++)
		c[i] = copy_submit(e->chan, d.dma + i * 4096u,
				   i % 4 == 1 ? BAD_ADDR : s.dma, 4096, 0);
	dma_async_issue_pending(e->chan);
	wait_cookie(e->chan, c[15]);
	dmaengine_get_stats(e->chan, &after);
	assert_int_equal(after.errors - before.errors, 4);
	for (int i = 0; i < 16; i++)
		assert_int_equal(dmaengine_tx_status(e->chan, c[i], NULL),
				 i % 4 == 1 ? DMA_ERROR : DMA_COMPLETE);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* A fence across issue_pending calls: the next batch depends on it. */
static void test_fence_ordering(void **state)
{
	struct env *e = *state;
	struct dbuf a = dbuf_alloc(e->dev, 65536, 0), b = dbuf_alloc(e->dev, 65536, 0);
	struct dbuf cc = dbuf_alloc(e->dev, 65536, 0);
	dma_cookie_t c1, c2;

	fill_random(a.cpu, 65536, 42);
	c1 = copy_submit(e->chan, b.dma, a.dma, 65536, DMA_PREP_FENCE);
	c2 = copy_submit(e->chan, cc.dma, b.dma, 65536, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c2), DMA_COMPLETE);
	assert_int_equal(dmaengine_tx_status(e->chan, c1, NULL), DMA_COMPLETE);
	assert_memory_equal(cc.cpu, a.cpu, 65536);
	/* a failed fenced operation stops its dependants, even in the next
	 * issue_pending batch */
	memset(cc.cpu, 0, 65536);
	c1 = copy_submit(e->chan, b.dma, BAD_ADDR, 65536, DMA_PREP_FENCE);
	dma_async_issue_pending(e->chan);
	wait_cookie(e->chan, c1);
	c2 = copy_submit(e->chan, cc.dma, b.dma, 65536, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c2), DMA_ERROR);
	assert_int_equal(hw_status(e->chan, c2, NULL), DMAC_CR_NOT_ATTEMPTED);
	assert_int_equal(cc.cpu[0], 0);
	/* and the batch after that runs again */
	c2 = copy_submit(e->chan, cc.dma, a.dma, 65536, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c2), DMA_COMPLETE);
	assert_memory_equal(cc.cpu, a.cpu, 65536);
	dbuf_free(e->dev, &a);
	dbuf_free(e->dev, &b);
	dbuf_free(e->dev, &cc);
}

/* ---- callbacks against polling ---------------------------------------- */

struct order {
	int n;
	int seen[64];
	struct completion done;
};

static void order_cb(void *param)
{
	struct order *o = param;

	(void)o;
}

static void run_mix(struct env *e, bool callbacks, struct dbuf *d,
		    struct dbuf *s, u32 *status, struct rec *rc)
{
	dma_cookie_t c[24];

	memset(d->cpu, 0, d->len);
	for (int i = 0; i < 24; i++) {
		struct dma_async_tx_descriptor *tx;
		unsigned long fl = callbacks ? DMA_PREP_INTERRUPT : 0;

		if (i % 3 == 2)
			tx = dmaengine_prep_dma_memset64(e->chan, d->dma + i * 512u,
							 0x1122334455667788ULL,
							 300, fl);
		else
			tx = dmaengine_prep_dma_memcpy(e->chan, d->dma + i * 512u,
						       i == 10 ? BAD_ADDR : s->dma + i * 512u,
						       512, fl);
		if (callbacks) {
			tx->callback_result = rec_cb;
			tx->callback_param = rc;
		}
		c[i] = dmaengine_submit(tx);
		if (i % 8 == 7)
			dma_async_issue_pending(e->chan);
	}
	if (callbacks)
		wait_for_completion(&rc->done);
	else
		dma_sync_wait(e->chan, c[23]);
	for (int i = 0; i < 24; i++)
		status[i] = hw_status(e->chan, c[i], NULL);
}

static void test_callback_vs_polling(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 24 * 512, 0), d = dbuf_alloc(e->dev, 24 * 512, 0);
	u8 *polled = malloc(24 * 512);
	u32 st_cb[24], st_poll[24];
	struct rec rc = { .want = 24 };

	(void)order_cb;
	init_completion(&rc.done);
	fill_random(s.cpu, 24 * 512, 5);
	run_mix(e, false, &d, &s, st_poll, NULL);
	memcpy(polled, d.cpu, 24 * 512);
	run_mix(e, true, &d, &s, st_cb, &rc);
	assert_memory_equal(polled, d.cpu, 24 * 512);
	assert_memory_equal(st_cb, st_poll, sizeof(st_cb));
	assert_int_equal(rc.n, 24);	/* exactly once each, in order */
	for (int i = 0; i < 24; i++)
		assert_int_equal(rc.res[i].result,
				 i == 10 ? DMA_TRANS_READ_FAILED : DMA_TRANS_NOERROR);
	assert_int_equal(st_poll[10], DMAC_CR_INVALID_SRC);
	free(polled);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

static void test_pause_resume(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 0x33), d = dbuf_alloc(e->dev, 4096, 0);
	dma_cookie_t c;

	assert_int_equal(dmaengine_pause(e->chan), 0);
	c = copy_submit(e->chan, d.dma, s.dma, 4096, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(dmaengine_tx_status(e->chan, c, NULL), DMA_PAUSED);
	assert_int_equal(d.cpu[0], 0);
	assert_int_equal(dmaengine_resume(e->chan), 0);
	assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 4096);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* ---- terminate -------------------------------------------------------- */

struct counter {
	_Atomic int n;
};

static void count_cb(void *param)
{
	atomic_fetch_add(&((struct counter *)param)->n, 1);
}

/* 64 copies of 64 KiB at 200 MB/s take ~20 ms: terminate in the middle. */
static void test_terminate(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 1 << 20, 0x77), d = dbuf_alloc(e->dev, 4 << 20, 0);
	struct counter cnt = { 0 };
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	dma_cookie_t c[64];
	int after, ok = 0, aborted = 0;

	for (int i = 0; i < 64; i++) {
		struct dma_async_tx_descriptor *tx = dmaengine_prep_dma_memcpy(
			e->chan, d.dma + i * 65536u, s.dma + (i % 16) * 65536u,
			65536, DMA_PREP_INTERRUPT);

		tx->callback = count_cb;
		tx->callback_param = &cnt;
		c[i] = dmaengine_submit(tx);
		if (i == 31)
			dma_async_issue_pending(e->chan);
	}
	/* 32..63 are submitted, never issued: they must never run */
	nanosleep(&nap, NULL);
	assert_int_equal(dmaengine_terminate_sync(e->chan), 0);
	after = atomic_load(&cnt.n);
	memset(d.cpu, 0xee, 4 << 20);		/* poison */
	nanosleep(&nap, NULL);
	for (size_t i = 0; i < (4u << 20); i++)
		if (d.cpu[i] != 0xee)
			fail_msg("byte %zu written after terminate_sync", i);
	assert_int_equal(atomic_load(&cnt.n), after);
	for (int i = 0; i < 64; i++) {
		enum dma_status st = dmaengine_tx_status(e->chan, c[i], NULL);
		u32 hw = hw_status(e->chan, c[i], NULL);

		ok += hw == DMAC_CR_SUCCESS;
		aborted += hw == DMAC_CR_ABORTED;
		assert_int_equal(st, hw == DMAC_CR_SUCCESS ? DMA_COMPLETE : DMA_ERROR);
		if (i >= 32)
			assert_int_equal(hw, DMAC_CR_ABORTED);
	}
	assert_int_equal(ok + aborted, 64);
	assert_true(after <= ok);
	/* the channel works again */
	c[0] = copy_submit(e->chan, d.dma, s.dma, 65536, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c[0]), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 65536);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* Terminate from a callback, synchronize from the client. */
struct term_ctx {
	struct dma_chan *chan;
	_Atomic int calls;
};

static void term_cb(void *param)
{
	struct term_ctx *t = param;

	if (atomic_fetch_add(&t->calls, 1) == 2)
		dmaengine_terminate_async(t->chan);
}

static void test_terminate_from_callback(void **state)
{
	struct env *e = *state;
	struct dbuf s = dbuf_alloc(e->dev, 8192, 1), d = dbuf_alloc(e->dev, 16 * 8192, 0);
	struct term_ctx t = { e->chan, 0 };
	dma_cookie_t c[16];

	for (int i = 0; i < 16; i++) {
		struct dma_async_tx_descriptor *tx = dmaengine_prep_dma_memcpy(
			e->chan, d.dma + i * 8192u, s.dma, 8192, DMA_PREP_INTERRUPT);

		tx->callback = term_cb;
		tx->callback_param = &t;
		c[i] = dmaengine_submit(tx);
	}
	dma_async_issue_pending(e->chan);
	while (atomic_load(&t.calls) < 3 &&
	       dmaengine_tx_status(e->chan, c[15], NULL) == DMA_IN_PROGRESS)
		sched_yield();
	dmaengine_synchronize(e->chan);
	assert_true(atomic_load(&t.calls) >= 3);
	assert_true(atomic_load(&t.calls) <= 16);
	for (int i = 0; i < 16; i++)
		assert_int_not_equal(dmaengine_tx_status(e->chan, c[i], NULL),
				     DMA_IN_PROGRESS);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

/* ---- bus mastering off ------------------------------------------------ */

static void test_bme_clear(void **state)
{
	struct env *e = *state;
	struct pci_dev *pdev = to_pci_dev(e->dev);
	struct pci_func *fn = pdev->hw;
	struct dbuf s = dbuf_alloc(e->dev, 4096, 0x11), d = dbuf_alloc(e->dev, 4096, 0);
	uint64_t aborts = atomic_load(&fn->cnt.master_aborts);
	dma_cookie_t c;
	char *log;

	pci_clear_master(pdev);
	c = copy_submit(e->chan, d.dma, s.dma, 4096, DMA_PREP_INTERRUPT);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c), DMA_ERROR);
	assert_int_equal(d.cpu[0], 0);
	assert_true(atomic_load(&fn->cnt.master_aborts) > aborts);
	log = test_dmesg(e->m);
	assert_true(test_matches(log, "dmac 0000:00:02.0: dma0chan0: channel halted: bus mastering disabled \\(master abort\\) at 0x"));
	free(log);
	/* recovery: terminate, re-enable, copy */
	assert_int_equal(dmaengine_terminate_sync(e->chan), 0);
	assert_int_equal(hw_status(e->chan, c, NULL), DMAC_CR_ABORTED);
	assert_int_equal(d.cpu[0], 0);
	pci_set_master(pdev);
	c = copy_submit(e->chan, d.dma, s.dma, 4096, 0);
	dma_async_issue_pending(e->chan);
	assert_int_equal(wait_cookie(e->chan, c), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 4096);
	dbuf_free(e->dev, &s);
	dbuf_free(e->dev, &d);
}

#define BOTH(f)                                                              \
	cmocka_unit_test_prestate_setup_teardown(f, setup_env, teardown_env, \
						 &threaded),                 \
	cmocka_unit_test_prestate_setup_teardown(f, setup_env, teardown_env, \
						 &inlined)

int main(void)
{
	static struct env threaded = { .inl = false }, inlined = { .inl = true };
	static struct env slow_t = { .inl = false, .opts = "bandwidth=200M" };
	static struct env slow_i = { .inl = true, .opts = "bandwidth=200M" };
	static struct env small_t = { .inl = false, .opts = "ring=16" };
	static struct env small_i = { .inl = true, .opts = "ring=16" };
#ifdef DMAC_WRAP_ONLY
	/* 2 x 65536 descriptors per engine: too slow for valgrind */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_ring_index_wrap, setup_env,
							 teardown_env, &small_t),
		cmocka_unit_test_prestate_setup_teardown(test_ring_index_wrap, setup_env,
							 teardown_env, &small_i),
	};

	(void)threaded;
	(void)inlined;
	(void)slow_t;
	(void)slow_i;
#else
	const struct CMUnitTest tests[] = {
		BOTH(test_lifecycle),
		BOTH(test_single_copy),
		BOTH(test_submit_needs_issue),
		BOTH(test_bursts),
		BOTH(test_sg_every_split),
		BOTH(test_fill_odd_lengths),
		BOTH(test_ring_full),
		BOTH(test_cookie_wrap),
		BOTH(test_error_injection),
		BOTH(test_partial_and_multi),
		BOTH(test_fence_ordering),
		BOTH(test_callback_vs_polling),
		BOTH(test_pause_resume),
		BOTH(test_bme_clear),
		BOTH(test_terminate_from_callback),
		cmocka_unit_test_prestate_setup_teardown(test_terminate, setup_env,
							 teardown_env, &slow_t),
		cmocka_unit_test_prestate_setup_teardown(test_terminate, setup_env,
							 teardown_env, &slow_i),
	};

	(void)small_t;
	(void)small_i;
	(void)test_ring_index_wrap;
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
