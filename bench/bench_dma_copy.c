/*
 * dmac copy throughput against memcpy on the same buffers, in the same
 * process: sizes 4 KiB to 64 MiB (--mib N: up to N MiB), with the device's
 * bandwidth unlimited unless --device says otherwise. Copies are queued
 * as a dmaengine client would (batches of up to 128 descriptors, two
 * batches in flight, an interrupt on the last of each) so the engine
 * thread stays busy; buffers larger than the largest physically
 * contiguous block (4 MiB) are copied with one scatter-gather descriptor
 * whose segments are those blocks, and memcpy copies the same segments.
 * Rounds (--iterations, default 7) alternate a DMA run and a memcpy run;
 * each throughput is the best round's, and the ratio is the median of the
 * rounds' own ratios, so a noisy neighbour slowing one run does not skew
 * it. The data is checked after every DMA run.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dmasim/linux/completion.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/dmaengine.h"
#include "dmasim/linux/mm.h"

#define CHUNK_MAX (4ULL << 20)	/* order 10 */
#define NCHUNK_MAX 32
#define BATCH_MAX 128
#define BYTES_PER_RUN (256ULL << 20)

struct copybuf {
	struct device *dev;
	uint64_t size, chunk;
	unsigned int n;
	u8 *src[NCHUNK_MAX], *dst[NCHUNK_MAX];
	struct scatterlist ssg[NCHUNK_MAX], dsg[NCHUNK_MAX];
};

struct result {
	uint64_t size;
	double dma, cpu, ratio;
	const char *path;
	double hit_rate; /* IOTLB, -1 without an IOMMU */
};

#define ROUNDS_MAX 64

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int buf_alloc(struct copybuf *b, struct device *dev, uint64_t size)
{
	unsigned int order;

	memset(b, 0, sizeof(*b));
	b->dev = dev;
	b->size = size;
	b->chunk = size < CHUNK_MAX ? size : CHUNK_MAX;
	b->n = (unsigned int)((size + b->chunk - 1) / b->chunk);
	order = (unsigned int)get_order(b->chunk);
	if (b->n > NCHUNK_MAX)
		return -1;
	sg_init_table(b->ssg, b->n);
	sg_init_table(b->dsg, b->n);
	for (unsigned int i = 0; i < b->n; i++) {
		struct page *s = alloc_pages(GFP_KERNEL, order);
		struct page *d = alloc_pages(GFP_KERNEL, order);

		b->src[i] = s ? page_address(s) : NULL;
		b->dst[i] = d ? page_address(d) : NULL;
		if (!s || !d)
			return -1;
		for (uint64_t j = 0; j < b->chunk; j++)
			b->src[i][j] = (u8)(j * 131 + i);
		memset(b->dst[i], 0, b->chunk);
		sg_dma_address(&b->ssg[i]) =
			dma_map_single(dev, b->src[i], b->chunk, DMA_TO_DEVICE);
		sg_dma_len(&b->ssg[i]) = (unsigned int)b->chunk;
		sg_dma_address(&b->dsg[i]) =
			dma_map_single(dev, b->dst[i], b->chunk, DMA_FROM_DEVICE);
		sg_dma_len(&b->dsg[i]) = (unsigned int)b->chunk;
	}
	return 0;
}

static void buf_free(struct copybuf *b)
{
	unsigned int order = (unsigned int)get_order(b->chunk);

	for (unsigned int i = 0; i < b->n; i++) {
		if (b->src[i]) {
			dma_unmap_single(b->dev, sg_dma_address(&b->ssg[i]),
					 b->chunk, DMA_TO_DEVICE);
			free_pages((unsigned long)b->src[i], order);
		}
		if (b->dst[i]) {
			dma_unmap_single(b->dev, sg_dma_address(&b->dsg[i]),
					 b->chunk, DMA_FROM_DEVICE);
			free_pages((unsigned long)b->dst[i], order);
		}
	}
}

static void batch_done(void *arg)
{
	complete(arg);
}

static struct dma_async_tx_descriptor *prep_one(struct dma_chan *chan,
						struct copybuf *b,
						unsigned long flags)
{
	struct dma_async_tx_descriptor *tx;

	for (;;) {
		if (b->n == 1)
			tx = dmaengine_prep_dma_memcpy(chan,
						       sg_dma_address(&b->dsg[0]),
						       sg_dma_address(&b->ssg[0]),
						       b->size, flags);
		else
			tx = dmaengine_prep_dma_memcpy_sg(chan, b->dsg, b->n,
							  b->ssg, b->n, flags);
		if (tx)
			return tx;
		/* ring full: let the completions catch up */
		dmaengine_tx_status(chan, chan->cookie, NULL);
	}
}

/* Seconds for @reps copies of the buffer by the engine. */
static double dma_run(struct dma_chan *chan, struct copybuf *b, uint64_t reps)
{
	struct completion done;
	unsigned int inflight = 0;
	uint64_t t0, left = reps;

	init_completion(&done);
	t0 = bench_now_ns();
	while (left) {
		unsigned int n = left < BATCH_MAX ? (unsigned int)left : BATCH_MAX;

		for (unsigned int i = 0; i < n; i++) {
			bool last = i + 1 == n;
			struct dma_async_tx_descriptor *tx = prep_one(
				chan, b, DMA_CTRL_ACK | (last ? DMA_PREP_INTERRUPT : 0));

			if (last) {
				tx->callback = batch_done;
				tx->callback_param = &done;
			}
			dmaengine_submit(tx);
		}
		dma_async_issue_pending(chan);
		left -= n;
		if (++inflight == 2) {
			wait_for_completion(&done);
			inflight--;
		}
	}
	while (inflight--)
		wait_for_completion(&done);
	return (double)(bench_now_ns() - t0) / 1e9;
}

static double cpu_run(struct copybuf *b, uint64_t reps)
{
	uint64_t t0 = bench_now_ns();

	for (uint64_t r = 0; r < reps; r++)
		for (unsigned int i = 0; i < b->n; i++)
			memcpy(b->dst[i], b->src[i], b->chunk);
	return (double)(bench_now_ns() - t0) / 1e9;
}

/* Ownership of the destination buffers, as a driver hands them over on
 * a non-coherent platform (no-ops on x86): to the device before a DMA
 * run (the CPU wrote them), back to the CPU before it reads them. */
static void dst_for_device(struct copybuf *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		dma_sync_single_for_device(b->dev, sg_dma_address(&b->dsg[i]),
					   b->chunk, DMA_FROM_DEVICE);
}

static void dst_for_cpu(struct copybuf *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		dma_sync_single_for_cpu(b->dev, sg_dma_address(&b->dsg[i]),
					b->chunk, DMA_FROM_DEVICE);
}

static bool same(struct copybuf *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		if (memcmp(b->dst[i], b->src[i], b->chunk))
			return false;
	return true;
}

static int measure(struct dma_chan *chan, uint64_t size, unsigned int rounds,
		   struct result *r)
{
	struct copybuf b;
	uint64_t reps = BYTES_PER_RUN / size;
	double best_dma = 1e30, best_cpu = 1e30, ratios[ROUNDS_MAX];
	int ret = -1;

	if (reps < 4)
		reps = 4;
	if (buf_alloc(&b, chan->device->dev, size))
		goto out;
	dma_run(chan, &b, 1);	/* warm up both paths */
	dst_for_cpu(&b);
	cpu_run(&b, 1);
	if (rounds > ROUNDS_MAX)
		rounds = ROUNDS_MAX;
	for (unsigned int i = 0; i < rounds; i++) {
		double d, c;

		memset(b.dst[0], 0, b.chunk);
		dst_for_device(&b);
		d = dma_run(chan, &b, reps);
		dst_for_cpu(&b);
		if (!same(&b))
			goto out;
		c = cpu_run(&b, reps);
		best_dma = d < best_dma ? d : best_dma;
		best_cpu = c < best_cpu ? c : best_cpu;
		ratios[i] = c / d;
	}
	qsort(ratios, rounds, sizeof(ratios[0]), cmp_double);
	r->ratio = rounds % 2 ? ratios[rounds / 2]
			      : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
	r->size = size;
	r->dma = (double)(size * reps) / best_dma / 1e9;
	r->cpu = (double)(size * reps) / best_cpu / 1e9;
	ret = 0;
out:
	buf_free(&b);
	return ret;
}

static void print(const struct bench_args *a, const struct result *r,
		  unsigned int n)
{
	FILE *out = a->out;

	if (a->json) {
		fprintf(out, "{\"results\":[");
		for (unsigned int i = 0; i < n; i++) {
			fprintf(out,
				"%s{\"path\":\"%s\",\"size\":%llu,\"gb_per_s\":%.3f,\"memcpy_gb_per_s\":%.3f,\"ratio_to_memcpy\":%.3f",
				i ? "," : "", r[i].path,
				(unsigned long long)r[i].size, r[i].dma, r[i].cpu,
				r[i].ratio);
			if (r[i].hit_rate >= 0)
				fprintf(out, ",\"iotlb_hit_rate\":%.4f",
					r[i].hit_rate);
			fputc('}', out);
		}
		fprintf(out, "]}\n");
		return;
	}
	fprintf(out, "dmac copy against memcpy (same buffers)\n");
	fprintf(out, "  %-9s %10s %12s %14s %8s %10s\n", "path", "size",
		"dmac GB/s", "memcpy GB/s", "ratio", "IOTLB hit");
	for (unsigned int i = 0; i < n; i++) {
		char sz[32];

		if (r[i].size >= (1 << 20))
			snprintf(sz, sizeof(sz), "%llu MiB",
				 (unsigned long long)(r[i].size >> 20));
		else
			snprintf(sz, sizeof(sz), "%llu KiB",
				 (unsigned long long)(r[i].size >> 10));
		fprintf(out, "  %-9s %10s %12.2f %14.2f %8.3f", r[i].path, sz,
			r[i].dma, r[i].cpu, r[i].ratio);
		if (r[i].hit_rate >= 0)
			fprintf(out, " %9.2f%%", 100 * r[i].hit_rate);
		fputc('\n', out);
	}
}

static void pin_to_one_cpu(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	CPU_ZERO(saved);
	sched_getaffinity(0, sizeof(*saved), saved);
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

/* IOTLB hits and misses so far (0, 0 without an IOMMU). */
static void iotlb_counts(struct dmasim_machine *m, unsigned long long *hits,
			 unsigned long long *misses)
{
	char *t = NULL, *p;

	*hits = *misses = 0;
	if (dmasim_read(m, "/sys/kernel/debug/dmasim/dmar0/stats", &t, NULL))
		return;
	if ((p = strstr(t, "iotlb_hits ")))
		*hits = strtoull(p + 11, NULL, 10);
	if ((p = strstr(t, "iotlb_misses ")))
		*misses = strtoull(p + 13, NULL, 10);
	free(t);
}

/* Every size on a machine booted with @extra on the command line. */
static int run_path(const struct bench_args *a, const char *path,
		    const char *extra, struct result *r, unsigned int *n)
{
	uint64_t max = a->mib ? a->mib << 20 : 64ULL << 20;
	unsigned int rounds = a->iterations ? a->iterations : 7;
	struct dmasim_config cfg = *a->cfg;
	char line[DMASIM_CMDLINE_MAX], err[256];
	struct dmasim_machine *m;
	dma_cap_mask_t mask;
	struct dma_chan *chan;
	int ret = 0;

	snprintf(line, sizeof(line), "%s %s", cfg.cmdline ? cfg.cmdline : "",
		 extra);
	cfg.cmdline = line;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err))) {
		fprintf(stderr, "dmasim bench dma-copy: %s\n", err);
		return 1;
	}
	dmasim_enter(m);
	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	dma_cap_set(DMA_MEMCPY_SG, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan)) {
		fprintf(stderr, "dmasim bench dma-copy: no DMA channel (is there a dmac device?)\n");
		dmasim_machine_destroy(m);
		return 1;
	}
	for (uint64_t size = 4096; size <= max && *n < 48; size *= 4) {
		unsigned long long h0, m0, h1, m1;

		iotlb_counts(m, &h0, &m0);
		if (measure(chan, size, rounds, &r[*n])) {
			fprintf(stderr, "dmasim bench dma-copy: %llu bytes: %s\n",
				(unsigned long long)size,
				"no memory for the buffers, or the copy was wrong");
			ret = 1;
			break;
		}
		iotlb_counts(m, &h1, &m1);
		r[*n].path = path;
		r[*n].hit_rate = h1 + m1 > h0 + m0
					 ? (double)(h1 - h0) / (double)(h1 + m1 - h0 - m0)
					 : -1;
		(*n)++;
	}
	dma_release_channel(chan);
	dmasim_machine_destroy(m);
	return ret;
}

int bench_dma_copy(const struct bench_args *a)
{
	uint64_t max = a->mib ? a->mib << 20 : 64ULL << 20;
	struct result r[48];
	unsigned int n = 0;
	cpu_set_t saved;
	int ret;

	if (max > CHUNK_MAX * NCHUNK_MAX) {
		fprintf(stderr, "dmasim bench dma-copy: --mib is at most %llu\n",
			(unsigned long long)(CHUNK_MAX * NCHUNK_MAX >> 20));
		return 1;
	}
	/* One CPU for the client and (inherited) the engine threads: the
	 * copy then runs where memcpy runs, with the same caches, so the
	 * ratio is the emulator's overhead, not cache lines crossing cores. */
	pin_to_one_cpu(&saved);
	ret = run_path(a, "direct", "", r, &n);
	/* through VT-d: 2 MiB pages where the buffers allow, or 4 KiB only */
	if (!ret && a->iommu)
		ret = run_path(a, "iommu-2m", "intel_iommu=on", r, &n);
	if (!ret && a->iommu)
		ret = run_path(a, "iommu-4k", "intel_iommu=on,sp_off", r, &n);
	sched_setaffinity(0, sizeof(saved), &saved);
	if (!ret)
		print(a, r, n);
	return ret;
}
