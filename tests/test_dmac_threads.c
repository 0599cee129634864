/*
 * The dmac engine under concurrency: several channels driven by several
 * threads at once (two threads sharing a channel too), callbacks that
 * submit more work, and the same deterministic workload on the threaded
 * and the inline engine giving identical statuses and bytes. Workers
 * never assert (cmocka asserts only on the main thread): they count
 * failures, checked after join.
 */
#include "test_dmac_util.h"

#include <sched.h>

#define NCHAN 4
#define PER_CHAN 2
#define ITERS 150
#define BUF 16384

struct worker {
	struct dmasim_machine *m;
	struct dma_chan *chan;
	unsigned int seed;
	bool polled;
	int failures;
	int done;
	struct completion comp;
};

static void worker_cb(void *arg)
{
	complete(arg);
}

static int one_copy(struct worker *w, struct dbuf *s, struct dbuf *d,
		    unsigned int i)
{
	unsigned int len = (w->seed * 7919u + i * 104729u) % (BUF - 64) + 1;
	unsigned int off = i % 64;
	struct dma_async_tx_descriptor *tx;
	dma_cookie_t c;

	fill_random(s->cpu, BUF, w->seed + i);
	memset(d->cpu, 0, BUF);
	while (!(tx = dmaengine_prep_dma_memcpy(w->chan, d->dma + off, s->dma,
						len, w->polled ? 0 : DMA_PREP_INTERRUPT)))
		sched_yield();
	if (!w->polled) {
		tx->callback = worker_cb;
		tx->callback_param = &w->comp;
	}
	c = dmaengine_submit(tx);
	if (w->polled) {
		if (dma_sync_wait(w->chan, c) != DMA_COMPLETE)
			return 1;
	} else {
		dma_async_issue_pending(w->chan);
		wait_for_completion(&w->comp);
		if (dmaengine_tx_status(w->chan, c, NULL) != DMA_COMPLETE)
			return 1;
	}
	if (memcmp(d->cpu + off, s->cpu, len) || (off && d->cpu[off - 1]) ||
	    d->cpu[off + len])
		return 1;
	return 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct dbuf s, d;
	struct device *dev = chan_device(w->chan);
	struct page *ps, *pd;

	dmasim_enter(w->m);
	init_completion(&w->comp);
	ps = alloc_pages(GFP_KERNEL, 2);
	pd = alloc_pages(GFP_KERNEL, 2);
	if (!ps || !pd) {
		w->failures = -1;
		return NULL;
	}
	s = (struct dbuf){ page_address(ps), 0, BUF, 2 };
	d = (struct dbuf){ page_address(pd), 0, BUF, 2 };
	s.dma = dma_map_single(dev, s.cpu, BUF, DMA_TO_DEVICE);
	d.dma = dma_map_single(dev, d.cpu, BUF, DMA_FROM_DEVICE);
	for (unsigned int i = 0; i < ITERS; i++)
		w->failures += one_copy(w, &s, &d, i);
	dma_unmap_single(dev, s.dma, BUF, DMA_TO_DEVICE);
	dma_unmap_single(dev, d.dma, BUF, DMA_FROM_DEVICE);
	__free_pages(ps, 2);
	__free_pages(pd, 2);
	w->done = 1;
	dmasim_enter(NULL);
	return NULL;
}

static void many_threads(bool inl)
{
	struct dmasim_machine *m = dmac_boot(NULL, inl);
	struct dma_chan *chans[NCHAN];
	struct worker w[NCHAN * PER_CHAN];
	pthread_t th[NCHAN * PER_CHAN];

	for (int c = 0; c < NCHAN; c++)
		chans[c] = memcpy_chan();
	for (int i = 0; i < NCHAN * PER_CHAN; i++) {
		w[i] = (struct worker){ .m = m, .chan = chans[i / PER_CHAN],
					.seed = (unsigned int)i, .polled = i % 2 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < NCHAN * PER_CHAN; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].done, 1);
	}
	for (int c = 0; c < NCHAN; c++) {
		check_balanced(chans[c]);
		dma_release_channel(chans[c]);
	}
	dmasim_machine_destroy(m);
}

static void test_threads_threaded(void **state)
{
	(void)state;
	many_threads(false);
}

static void test_threads_inline(void **state)
{
	(void)state;
	many_threads(true);
}

/* A callback that submits the next copy of a chain of 200. */
struct chain {
	struct dma_chan *chan;
	struct dbuf *s, *d;
	_Atomic int n;
	_Atomic int broken;
	struct completion done;
};

static void chain_cb(void *arg)
{
	struct chain *ch = arg;
	int n = atomic_fetch_add(&ch->n, 1) + 1;
	struct dma_async_tx_descriptor *tx;

	if (n == 200) {
		complete(&ch->done);
		return;
	}
	tx = dmaengine_prep_dma_memcpy(ch->chan, ch->d->dma + (size_t)n * 16,
				       ch->s->dma + (size_t)n * 16, 16,
				       DMA_PREP_INTERRUPT);
	if (!tx) {
		atomic_store(&ch->broken, 1);
		complete(&ch->done);
		return;
	}
	tx->callback = chain_cb;
	tx->callback_param = ch;
	dmaengine_submit(tx);
	dma_async_issue_pending(ch->chan);
}

static void chain(bool inl)
{
	struct dmasim_machine *m = dmac_boot(NULL, inl);
	struct dma_chan *chan = memcpy_chan();
	struct dbuf s = dbuf_alloc(chan_device(chan), 4096, 0);
	struct dbuf d = dbuf_alloc(chan_device(chan), 4096, 0);
	struct chain ch = { .chan = chan, .s = &s, .d = &d };
	struct dma_async_tx_descriptor *tx;

	init_completion(&ch.done);
	fill_random(s.cpu, 4096, 3);
	tx = dmaengine_prep_dma_memcpy(chan, d.dma, s.dma, 16, DMA_PREP_INTERRUPT);
	tx->callback = chain_cb;
	tx->callback_param = &ch;
	dmaengine_submit(tx);
	dma_async_issue_pending(chan);
	wait_for_completion(&ch.done);
	assert_int_equal(atomic_load(&ch.broken), 0);
	assert_int_equal(atomic_load(&ch.n), 200);
	assert_memory_equal(d.cpu, s.cpu, 200 * 16);
	dmaengine_terminate_sync(chan);
	check_balanced(chan);
	dbuf_free(chan_device(chan), &s);
	dbuf_free(chan_device(chan), &d);
	dma_release_channel(chan);
	dmasim_machine_destroy(m);
}

static void test_chain(void **state)
{
	(void)state;
	chain(false);
	chain(true);
}

/* A fixed workload with errors and fences; statuses and bytes out. */
static void workload(bool inl, u32 *status, u8 *bytes, size_t n)
{
	struct dmasim_machine *m = dmac_boot("coalesce=4", inl);
	struct dma_chan *chan = memcpy_chan();
	struct device *dev = chan_device(chan);
	struct dbuf s = dbuf_alloc(dev, n, 0), d = dbuf_alloc(dev, n, 0);
	struct scatterlist ss[3], ds[2];
	dma_cookie_t c[64];
	struct dma_tx_state st;

	fill_random(s.cpu, n, 77);
	for (int i = 0; i < 64; i++) {
		size_t off = (size_t)i * 1024;
		struct dma_async_tx_descriptor *tx;
		unsigned long fl = (i % 5 == 4 ? DMA_PREP_FENCE : 0) |
				   (i % 2 ? DMA_PREP_INTERRUPT : 0);

		if (i % 7 == 3) {
			sg_init_table(ss, 3);
			sg_init_table(ds, 2);
			for (int k = 0; k < 3; k++) {
				sg_dma_address(&ss[k]) = s.dma + off + (size_t)k * 300;
				sg_dma_len(&ss[k]) = 300;
			}
			sg_dma_address(&ds[0]) = d.dma + off;
			sg_dma_len(&ds[0]) = 500;
			sg_dma_address(&ds[1]) = i == 10 ? BAD_ADDR : d.dma + off + 600;
			sg_dma_len(&ds[1]) = 400;
			tx = dmaengine_prep_dma_memcpy_sg(chan, ds, 2, ss, 3, fl);
		} else if (i % 7 == 5) {
			tx = dmaengine_prep_dma_memset64(chan, d.dma + off + 1,
							 0x0123456789abcdefULL,
							 1000, fl);
		} else {
			dma_addr_t src = i % 13 == 12 ? BAD_ADDR : s.dma + off;

			tx = dmaengine_prep_dma_memcpy(chan, d.dma + off + 3, src,
						       1000, fl);
		}
		assert_non_null(tx);
		c[i] = dmaengine_submit(tx);
		if (i % 9 == 8)
			dma_async_issue_pending(chan);
	}
	dma_sync_wait(chan, c[63]);
	for (int i = 0; i < 64; i++) {
		dmaengine_tx_status(chan, c[i], &st);
		status[i] = st.hw_status << 16 | st.residue;
	}
	memcpy(bytes, d.cpu, n);
	check_balanced(chan);
	dbuf_free(dev, &s);
	dbuf_free(dev, &d);
	dma_release_channel(chan);
	dmasim_machine_destroy(m);
}

static void test_inline_equals_threaded(void **state)
{
	size_t n = 64 * 1024;
	u32 st_t[64], st_i[64];
	u8 *b_t = malloc(n), *b_i = malloc(n);
	int errors = 0;

	(void)state;
	workload(false, st_t, b_t, n);
	workload(true, st_i, b_i, n);
	assert_memory_equal(st_t, st_i, sizeof(st_t));
	assert_memory_equal(b_t, b_i, n);
	for (int i = 0; i < 64; i++)
		errors += (st_t[i] >> 16) != DMAC_CR_SUCCESS;
	assert_true(errors >= 5);	/* the workload does exercise failures */
	free(b_t);
	free(b_i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_threaded),
		cmocka_unit_test(test_threads_inline),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_inline_equals_threaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
