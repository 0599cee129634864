/*
 * dmasim dmatest: Linux's dmatest module (drivers/dma/dmatest.c, its
 * documentation in driver-api/dmaengine/dmatest.rst) run on the machine's
 * DMA channels. Per channel, --threads threads each run --iterations
 * tests: a random length in [1, test_buf_size] and random source and
 * destination offsets, buffers filled with dmatest's byte patterns (source
 * bytes carry bit 7, bytes to copy bit 6, destination bytes to be
 * overwritten bit 5, the low 5 bits an inverted index counter), a copy (or
 * a fill with --memset), then a check of all six regions that catches
 * under-copy, over-copy, source corruption and shifted bytes.
 *
 * Output: what the module prints, in its formats ("dmatest: dma0chan0-copy0:
 * summary N tests, F failures X iops Y KB/s (0)", "dmatest: result ...:
 * #N: 'data error' with src_off=0x.. dst_off=0x.. len=0x.. (E)"), goes to
 * the machine's kernel log and, without the timestamps, to stdout. The
 * exit status is 0 only when no test failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "dmasim/linux/completion.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmaengine.h"
#include "dmasim/linux/mm.h"
#include "kernel/machine.h"

#define PATTERN_SRC	   0x80
#define PATTERN_DST	   0x00
#define PATTERN_COPY	   0x40
#define PATTERN_OVERWRITE  0x20
#define PATTERN_COUNT_MASK 0x1f
#define PATTERN_MEMSET_IDX 0x01
#define MAX_ERROR_COUNT	   32

#define DT_MAX_CHANNELS 64
#define DT_MAX_THREADS	64

struct dt_params {
	unsigned long iterations;
	unsigned int threads, channels;
	unsigned int buf_size, transfer_size;
	int alignment;		/* log2, -1: none */
	long timeout_ms;	/* -1: wait forever */
	bool memset, noverify, polled, norandom, verbose;
	unsigned long long seed;
	bool seed_set;
};

struct dt {
	struct dt_params p;
	struct machine *m;
	pthread_mutex_t out_lock;
};

struct dt_thread {
	struct dt *dt;
	struct dma_chan *chan;
	char name[64];		/* dma0chan0-copy0 */
	uint64_t rnd;
	u8 *src, *dst;
	unsigned int order;
	struct completion done;
	_Atomic int cb_done;
	unsigned long tests, failures;
	uint64_t runtime_ns, total_len;
	pthread_t tid;
};

/* ---- output: the kernel log and stdout -------------------------------- */

__attribute__((format(printf, 3, 4))) static void
dt_print(struct dt *dt, const char *level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&dt->out_lock);
	mprintk(dt->m, level, "dmatest: %s", line);
	fputs("dmatest: ", stdout);
	fputs(line, stdout);
	pthread_mutex_unlock(&dt->out_lock);
}

static void result(struct dt_thread *t, unsigned long n, const char *msg,
		   unsigned int src_off, unsigned int dst_off, unsigned int len,
		   unsigned long data)
{
	dt_print(t->dt, KERN_INFO,
		 "result %s: #%lu: '%s' with src_off=0x%x dst_off=0x%x len=0x%x (%lu)\n",
		 t->name, n, msg, src_off, dst_off, len, data);
}

/* ---- patterns ----------------------------------------------------------- */

static void init_src(u8 *buf, unsigned int start, unsigned int len,
		     unsigned int size, bool is_memset)
{
	for (unsigned int i = 0; i < size; i++) {
		u8 v = PATTERN_SRC | (~i & PATTERN_COUNT_MASK);

		if (i >= start && i < start + len)
			v |= PATTERN_COPY;
		if (is_memset && i >= start && i < start + len)
			v = PATTERN_SRC | PATTERN_COPY |
			    (~PATTERN_MEMSET_IDX & PATTERN_COUNT_MASK);
		buf[i] = v;
	}
}

static void init_dst(u8 *buf, unsigned int start, unsigned int len,
		     unsigned int size)
{
	for (unsigned int i = 0; i < size; i++) {
		u8 v = PATTERN_DST | (~i & PATTERN_COUNT_MASK);

		if (i >= start && i < start + len)
			v |= PATTERN_OVERWRITE;
		buf[i] = v;
	}
}

static void mismatch(struct dt_thread *t, u8 actual, u8 pattern,
		     unsigned int index, unsigned int counter, bool is_src)
{
	u8 diff = actual ^ pattern;
	u8 expected = (u8)(pattern | (~counter & PATTERN_COUNT_MASK));
	const char *buf = is_src ? "srcbuf" : "dstbuf", *what;

	if (is_src)
		what = "overwritten!";
	else if ((pattern & PATTERN_COPY) &&
		 (diff & (PATTERN_COPY | PATTERN_OVERWRITE)))
		what = "not copied!";
	else if (diff & PATTERN_SRC)
		what = "was copied!";
	else
		what = "mismatch!";
	dt_print(t->dt, KERN_WARNING, "%s: %s[0x%x] %s Expected %02x, got %02x\n",
		 t->name, buf, index, what, expected, actual);
}

/* Check [start, end) of @buf against @pattern; the index counter follows
 * @counter from there. Returns the number of bad bytes. */
static unsigned int verify(struct dt_thread *t, const u8 *buf,
			   unsigned int start, unsigned int end,
			   unsigned int counter, u8 pattern, bool is_src,
			   bool is_memset, unsigned int *shown)
{
	unsigned int errors = 0;

	for (unsigned int i = start; i < end; i++, counter++) {
		unsigned int c = is_memset && (pattern & PATTERN_COPY)
					 ? PATTERN_MEMSET_IDX : counter;
		u8 expected = (u8)(pattern | (~c & PATTERN_COUNT_MASK));

		if (buf[i] == expected)
			continue;
		if (*shown < MAX_ERROR_COUNT)
			mismatch(t, buf[i], pattern, i, c, is_src);
		(*shown)++;
		errors++;
	}
	return errors;
}

static unsigned int verify_all(struct dt_thread *t, unsigned int src_off,
			       unsigned int dst_off, unsigned int len)
{
	unsigned int size = t->dt->p.buf_size, shown = 0, err = 0;
	bool ms = t->dt->p.memset;
	u8 src_pat = PATTERN_SRC, cp = PATTERN_SRC | PATTERN_COPY;

	err += verify(t, t->src, 0, src_off, 0, src_pat, true, ms, &shown);
	err += verify(t, t->src, src_off, src_off + len, src_off, cp, true, ms,
		      &shown);
	err += verify(t, t->src, src_off + len, size, src_off + len, src_pat,
		      true, ms, &shown);
	err += verify(t, t->dst, 0, dst_off, 0, PATTERN_DST, false, ms, &shown);
	err += verify(t, t->dst, dst_off, dst_off + len, src_off, cp, false, ms,
		      &shown);
	err += verify(t, t->dst, dst_off + len, size, dst_off + len, PATTERN_DST,
		      false, ms, &shown);
	if (shown > MAX_ERROR_COUNT)
		dt_print(t->dt, KERN_WARNING, "%s: %u errors suppressed\n", t->name,
			 shown - MAX_ERROR_COUNT);
	return err;
}

/* ---- one test ----------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static unsigned int rnd(struct dt_thread *t)
{
	/* xorshift64* */
	t->rnd ^= t->rnd >> 12;
	t->rnd ^= t->rnd << 25;
	t->rnd ^= t->rnd >> 27;
	return (unsigned int)((t->rnd * 0x2545f4914f6cdd1dULL) >> 32);
}

static unsigned int align_down(unsigned int v, int align)
{
	return align > 0 ? v >> align << align : v;
}

static void choose(struct dt_thread *t, unsigned int *len,
		   unsigned int *src_off, unsigned int *dst_off)
{
	const struct dt_params *p = &t->dt->p;

	if (p->transfer_size)
		*len = p->transfer_size;
	else if (p->norandom)
		*len = p->buf_size;
	else
		*len = rnd(t) % p->buf_size + 1;
	*len = align_down(*len, p->alignment);
	if (!*len)
		*len = 1u << (p->alignment > 0 ? p->alignment : 0);
	if (p->norandom) {
		*src_off = *dst_off = 0;
		return;
	}
	*src_off = align_down(rnd(t) % (p->buf_size - *len + 1), p->alignment);
	*dst_off = align_down(rnd(t) % (p->buf_size - *len + 1), p->alignment);
}

static void dt_callback(void *arg)
{
	struct dt_thread *t = arg;

	atomic_store(&t->cb_done, 1);
	complete(&t->done);
}

/* A fill takes its value from the source's first byte to copy, as the
 * module does. */
static struct dma_async_tx_descriptor *prep(struct dt_thread *t,
					    dma_addr_t src, dma_addr_t dst,
					    unsigned int so, unsigned int len)
{
	unsigned long flags = DMA_CTRL_ACK |
			      (t->dt->p.polled ? 0 : DMA_PREP_INTERRUPT);

	if (t->dt->p.memset)
		return dmaengine_prep_dma_memset(t->chan, dst, t->src[so], len,
						 flags);
	return dmaengine_prep_dma_memcpy(t->chan, dst, src, len, flags);
}

/* Submit and wait; 0 or a failure already reported. */
static int transfer(struct dt_thread *t, unsigned long n, dma_addr_t src,
		    dma_addr_t dst, unsigned int so, unsigned int dof,
		    unsigned int len)
{
	struct dma_async_tx_descriptor *tx;
	enum dma_status status;
	dma_cookie_t cookie;
	bool done = true;

	tx = prep(t, src + so, dst + dof, so, len);
	if (!tx) {
		result(t, n, "prep error", so, dof, len, 0);
		return -1;
	}
	atomic_store(&t->cb_done, 0);
	reinit_completion(&t->done);
	if (!t->dt->p.polled) {
		tx->callback = dt_callback;
		tx->callback_param = t;
	}
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie)) {
		result(t, n, "submit error", so, dof, len, (unsigned long)-cookie);
		return -1;
	}
	if (t->dt->p.polled) {
		dma_sync_wait(t->chan, cookie);
	} else {
		dma_async_issue_pending(t->chan);
		if (t->dt->p.timeout_ms < 0)
			wait_for_completion(&t->done);
		else
			wait_for_completion_timeout(
				&t->done,
				msecs_to_jiffies((unsigned int)t->dt->p.timeout_ms));
		done = atomic_load(&t->cb_done);
	}
	status = dma_async_is_tx_complete(t->chan, cookie, NULL, NULL);
	if (!done) {
		result(t, n, "test timed out", so, dof, len, 0);
		return -1;
	}
	if (status != DMA_COMPLETE) {
		result(t, n, status == DMA_ERROR ? "completion error status"
						 : "completion busy status",
		       so, dof, len, (unsigned long)status);
		return -1;
	}
	return 0;
}

static int one_test(struct dt_thread *t, unsigned long n, uint64_t *overhead)
{
	struct device *dev = t->chan->device->dev;
	unsigned int size = t->dt->p.buf_size, len, so, dof, errors;
	dma_addr_t src, dst;
	uint64_t t0 = now_ns();
	int ret;

	choose(t, &len, &so, &dof);
	init_src(t->src, so, len, size, t->dt->p.memset);
	init_dst(t->dst, dof, len, size);
	*overhead += now_ns() - t0;
	src = dma_map_single(dev, t->src, size, DMA_TO_DEVICE);
	dst = dma_map_single(dev, t->dst, size, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, src) || dma_mapping_error(dev, dst)) {
		result(t, n, "src/dst mapping error", so, dof, len, 0);
		return -1;
	}
	ret = transfer(t, n, src, dst, so, dof, len);
	dma_unmap_single(dev, src, size, DMA_TO_DEVICE);
	dma_unmap_single(dev, dst, size, DMA_BIDIRECTIONAL);
	if (ret)
		return ret;
	t->total_len += len;
	if (t->dt->p.noverify) {
		if (t->dt->p.verbose)
			result(t, n, "test passed", so, dof, len, 0);
		return 0;
	}
	t0 = now_ns();
	errors = verify_all(t, so, dof, len);
	*overhead += now_ns() - t0;
	if (errors) {
		result(t, n, "data error", so, dof, len, errors);
		return -1;
	}
	if (t->dt->p.verbose)
		result(t, n, "test passed", so, dof, len, 0);
	return 0;
}

static void *dt_thread_run(void *arg)
{
	struct dt_thread *t = arg;
	uint64_t start, overhead = 0;

	dmasim_enter((struct dmasim_machine *)t->dt->m);
	start = now_ns();
	while (t->tests < t->dt->p.iterations) {
		t->tests++;
		if (one_test(t, t->tests, &overhead))
			t->failures++;
	}
	t->runtime_ns = now_ns() - start - overhead;
	dmasim_enter(NULL);
	return NULL;
}

/* ---- setup -------------------------------------------------------------- */

static int thread_init(struct dt *dt, struct dt_thread *t,
		       struct dma_chan *chan, unsigned int i)
{
	struct page *p;

	t->dt = dt;
	t->chan = chan;
	snprintf(t->name, sizeof(t->name), "%s-%s%u", dma_chan_name(chan),
		 dt->p.memset ? "memset" : "copy", i);
	t->rnd = (dt->p.seed + 0x9e3779b97f4a7c15ULL * ((uint64_t)i + 1) +
		  (uint64_t)chan->chan_id * 7919u) | 1;
	t->order = (unsigned int)get_order(dt->p.buf_size);
	init_completion(&t->done);
	p = alloc_pages(GFP_KERNEL, t->order);
	t->src = p ? page_address(p) : NULL;
	p = alloc_pages(GFP_KERNEL, t->order);
	t->dst = p ? page_address(p) : NULL;
	return t->src && t->dst ? 0 : -ENOMEM;
}

static void thread_fini(struct dt_thread *t)
{
	if (t->src)
		free_pages((unsigned long)t->src, t->order);
	if (t->dst)
		free_pages((unsigned long)t->dst, t->order);
}

static void summary(struct dt *dt, struct dt_thread *t)
{
	uint64_t ns = t->runtime_ns ? t->runtime_ns : 1;
	uint64_t iops100 = (uint64_t)((double)t->tests * 1e11 / (double)ns);
	uint64_t kbs = (uint64_t)((double)t->total_len / 1024.0 * 1e9 / (double)ns);

	dt_print(dt, KERN_INFO,
		 "%s: summary %lu tests, %lu failures %" PRIu64 ".%02" PRIu64
		 " iops %" PRIu64 " KB/s (0)\n",
		 t->name, t->tests, t->failures, iops100 / 100, iops100 % 100, kbs);
}

static unsigned int request_channels(struct dt *dt, struct dma_chan **chans)
{
	unsigned int n = 0, max = dt->p.channels ? dt->p.channels : DT_MAX_CHANNELS;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(dt->p.memset ? DMA_MEMSET : DMA_MEMCPY, mask);
	while (n < max) {
		struct dma_chan *c = dma_request_chan_by_mask(&mask);

		if (IS_ERR(c))
			break;
		chans[n++] = c;
		dt_print(dt, KERN_INFO, "Added %u threads using %s\n",
			 dt->p.threads, dma_chan_name(c));
	}
	return n;
}

static unsigned long run_all(struct dt *dt, struct dma_chan **chans,
			     unsigned int nch)
{
	unsigned int nt = nch * dt->p.threads, started = 0;
	struct dt_thread *th = calloc(nt, sizeof(*th));
	unsigned long failures = 0;

	if (!th)
		return 1;
	for (unsigned int i = 0; i < nt; i++)
		if (thread_init(dt, &th[i], chans[i / dt->p.threads],
				i % dt->p.threads))
			failures++;
	for (unsigned int c = 0; c < nch && !failures; c++)
		dt_print(dt, KERN_INFO, "Started %u threads using %s\n",
			 dt->p.threads, dma_chan_name(chans[c]));
	for (unsigned int i = 0; i < nt && !failures; i++, started++)
		if (pthread_create(&th[i].tid, NULL, dt_thread_run, &th[i]))
			failures++;
	for (unsigned int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	/* no callback may run once the buffers go */
	for (unsigned int c = 0; c < nch; c++)
		dmaengine_terminate_sync(chans[c]);
	for (unsigned int i = 0; i < started; i++) {
		summary(dt, &th[i]);
		failures += th[i].failures;
	}
	for (unsigned int i = 0; i < nt; i++)
		thread_fini(&th[i]);
	free(th);
	return failures;
}

/* ---- options ------------------------------------------------------------ */

enum {
	OPT_ITER = 0x300, OPT_THREADS, OPT_CHANNELS, OPT_BUFSIZE, OPT_MEMSET,
	OPT_NOVERIFY, OPT_TIMEOUT, OPT_POLLED, OPT_NORANDOM, OPT_ALIGN,
	OPT_XFER, OPT_VERBOSE, OPT_SEED,
};

static const struct option dt_opts[] = {
	{ "iterations", required_argument, NULL, OPT_ITER },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "channels", required_argument, NULL, OPT_CHANNELS },
	{ "test-buf-size", required_argument, NULL, OPT_BUFSIZE },
	{ "memset", no_argument, NULL, OPT_MEMSET },
	{ "noverify", no_argument, NULL, OPT_NOVERIFY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "polled", no_argument, NULL, OPT_POLLED },
	{ "norandom", no_argument, NULL, OPT_NORANDOM },
	{ "alignment", required_argument, NULL, OPT_ALIGN },
	{ "transfer-size", required_argument, NULL, OPT_XFER },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ NULL, 0, NULL, 0 },
};

static int number(struct cli *cli, const char *name, const char *arg,
		  long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || *end || !*arg || v < min || v > max) {
		cli_error(cli, "--%s '%s': expected a whole number from %lld to %lld",
			  name, arg, min, max);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

static int dt_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	struct dt_params *p = ctx;
	long long v = 0;
	int r = 0;

	switch (opt) {
	case OPT_ITER:
		r = number(cli, "iterations", arg, 1, 1000000000, &v);
		p->iterations = (unsigned long)v;
		break;
	case OPT_THREADS:
		r = number(cli, "threads", arg, 1, DT_MAX_THREADS, &v);
		p->threads = (unsigned int)v;
		break;
	case OPT_CHANNELS:
		r = number(cli, "channels", arg, 0, DT_MAX_CHANNELS, &v);
		p->channels = (unsigned int)v;
		break;
	case OPT_BUFSIZE:
		r = number(cli, "test-buf-size", arg, 1, 4 << 20, &v);
		p->buf_size = (unsigned int)v;
		break;
	case OPT_TIMEOUT:
		r = number(cli, "timeout", arg, -1, 3600000, &v);
		p->timeout_ms = v ? (long)v : -1;
		break;
	case OPT_ALIGN:
		r = number(cli, "alignment", arg, -1, 12, &v);
		p->alignment = (int)v;
		break;
	case OPT_XFER:
		r = number(cli, "transfer-size", arg, 1, 4 << 20, &v);
		p->transfer_size = (unsigned int)v;
		break;
	case OPT_SEED:
		r = number(cli, "seed", arg, 0, 0x7fffffffffffffffLL, &v);
		p->seed = (unsigned long long)v;
		p->seed_set = true;
		break;
	case OPT_MEMSET: p->memset = true; break;
	case OPT_NOVERIFY: p->noverify = true; break;
	case OPT_POLLED: p->polled = true; break;
	case OPT_NORANDOM: p->norandom = true; break;
	case OPT_VERBOSE: p->verbose = true; break;
	default:
		return -1;
	}
	return r;
}

static int check_params(struct cli *cli, struct dt_params *p)
{
	if (p->transfer_size > p->buf_size) {
		cli_error(cli, "--transfer-size %u is larger than --test-buf-size %u",
			  p->transfer_size, p->buf_size);
		return EXIT_USAGE;
	}
	if (p->alignment > 0 && (1u << p->alignment) > p->buf_size) {
		cli_error(cli, "--alignment %d (2^%d bytes) does not fit in --test-buf-size %u",
			  p->alignment, p->alignment, p->buf_size);
		return EXIT_USAGE;
	}
	if (!p->seed_set)
		p->seed = (unsigned long long)now_ns();
	return 0;
}

int cmd_dmatest(struct cli *cli, int argc, char **argv)
{
	struct dt dt = { .p = { .iterations = 100, .threads = 1,
				.buf_size = 16384, .alignment = -1,
				.timeout_ms = 3000 } };
	const struct cli_extra extra = { dt_opts, "", dt_option, &dt.p };
	struct dma_chan *chans[DT_MAX_CHANNELS];
	struct dmasim_machine *m;
	unsigned long failures;
	unsigned int nch;
	int i = cli_parse(cli, argc, argv, &extra);

	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (check_params(cli, &dt.p))
		return EXIT_USAGE;
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	dt.m = (struct machine *)m;
	pthread_mutex_init(&dt.out_lock, NULL);
	nch = request_channels(&dt, chans);
	if (!nch) {
		dt_print(&dt, KERN_ERR, "Could not start test, no channels configured\n");
		failures = 1;
	} else {
		failures = run_all(&dt, chans, nch);
	}
	for (unsigned int c = 0; c < nch; c++)
		dma_release_channel(chans[c]);
	pthread_mutex_destroy(&dt.out_lock);
	dmasim_machine_destroy(m);
	return failures ? 1 : 0;
}
