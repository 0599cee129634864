/*
 * bench map: what Linux's dma_map_benchmark measures — dma_map_single and
 * dma_unmap_single of a buffer of `granule` pages (filled with 0x66
 * unless the device writes it), from N threads at once — printed in its
 * three lines, plus the figures in nanoseconds and as JSON.
 *
 * Paths: "direct" (the device's mask, default 64 bits, reaches the
 * buffer), "bounce" (swiotlb=force: every mapping is copied through the
 * pool), "iommu-lazy" and "iommu-strict" (intel_iommu=on with the flush
 * queue or synchronous invalidation); with intel_iommu=on given by hand
 * the path is named after the device's domain type. Speed is taken with dma_debug=off, as Linux's benchmark runs
 * on production kernels; a second run with DMA-API debugging on tells
 * what it costs.
 *
 * Timing one call at a time would measure the clock, not the call (both
 * are tens of nanoseconds here), so a thread times batches of 64 maps
 * and then the 64 unmaps: latency is the mean per call of a batch, and
 * the standard deviation is over batches.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"

#define BATCH 64

struct stats {
	double sum, sum2;
	uint64_t n;
};

struct map_thread {
	struct dmasim_machine *m;
	struct device *dev;
	const struct bench_args *a;
	pthread_barrier_t *start;
	struct stats map, unmap;
	int failed;
};

static void add(struct stats *s, double per_op_ns)
{
	s->sum += per_op_ns;
	s->sum2 += per_op_ns * per_op_ns;
	s->n++;
}

static double mean(const struct stats *s)
{
	return s->n ? s->sum / (double)s->n : 0;
}

static double stddev(const struct stats *s)
{
	double mu = mean(s), v;

	if (!s->n)
		return 0;
	v = s->sum2 / (double)s->n - mu * mu;
	return v > 0 ? sqrt(v) : 0;
}

static enum dma_data_direction dir_of(const struct bench_args *a)
{
	return a->dir < 0 ? DMA_BIDIRECTIONAL : (enum dma_data_direction)a->dir;
}

static int batch(struct map_thread *t, void *buf, size_t len)
{
	enum dma_data_direction dir = dir_of(t->a);
	dma_addr_t addr[BATCH];
	uint64_t t0 = bench_now_ns(), t1, t2;

	for (int i = 0; i < BATCH; i++) {
		addr[i] = dma_map_single(t->dev, buf, len, dir);
		if (dma_mapping_error(t->dev, addr[i])) {
			while (i--)
				dma_unmap_single(t->dev, addr[i], len, dir);
			return -1;
		}
	}
	t1 = bench_now_ns();
	for (int i = 0; i < BATCH; i++)
		dma_unmap_single(t->dev, addr[i], len, dir);
	t2 = bench_now_ns();
	add(&t->map, (double)(t1 - t0) / BATCH);
	add(&t->unmap, (double)(t2 - t1) / BATCH);
	return 0;
}

static void *map_thread_run(void *arg)
{
	struct map_thread *t = arg;
	unsigned int granule = t->a->granule ? t->a->granule : 1;
	size_t len = (size_t)granule << PAGE_SHIFT;
	struct page *pg;
	uint64_t end;

	dmasim_enter(t->m);
	pg = alloc_pages(GFP_KERNEL, (unsigned)get_order(len));
	if (!pg) {
		t->failed = 1;
		pthread_barrier_wait(t->start);
		dmasim_enter(NULL);
		return NULL;
	}
	if (dir_of(t->a) != DMA_FROM_DEVICE)
		memset(page_address(pg), 0x66, len);
	pthread_barrier_wait(t->start);
	end = bench_now_ns() + (uint64_t)(t->a->seconds ? t->a->seconds : 1) *
				       1000000000ULL;
	while (!t->failed && bench_now_ns() < end)
		t->failed = batch(t, page_address(pg), len) != 0;
	__free_pages(pg, (unsigned)get_order(len));
	dmasim_enter(NULL);
	return NULL;
}

struct map_result {
	double map_ns, unmap_ns, map_sd, unmap_sd;
	int failed;
	char path[16];
};

static struct dmasim_machine *boot(const struct bench_args *a, bool debug)
{
	struct dmasim_config cfg = *a->cfg;
	struct dmasim_machine *m = NULL;
	char line[DMASIM_CMDLINE_MAX], err[256];
	bool bounce = a->path && !strcmp(a->path, "bounce");

	const char *iommu = !a->path ? ""
			    : !strcmp(a->path, "iommu-lazy") ? "intel_iommu=on iommu.strict=0"
			    : !strcmp(a->path, "iommu-strict") ? "intel_iommu=on iommu.strict=1"
							       : "";

	snprintf(line, sizeof(line), "%s%s%s%s%s", cfg.cmdline ? cfg.cmdline : "",
		 cfg.cmdline ? " " : "", debug ? "" : "dma_debug=off ",
		 bounce ? "swiotlb=force" : "", iommu);
	cfg.cmdline = line;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err))) {
		fprintf(stderr, "dmasim bench: cannot boot: %s\n", err);
		return NULL;
	}
	return m;
}

/* What the device's DMA goes through, from its IOMMU group's type. */
static void path_of(struct dmasim_machine *m, const struct bench_args *a,
		    char *out, size_t len)
{
	char *type = NULL;

	snprintf(out, len, "%s", a->path && !strncmp(a->path, "bounce", 6)
					 ? "bounce" : "direct");
	if (dmasim_read(m, "/sys/kernel/iommu_groups/0/type", &type, NULL))
		return;
	snprintf(out, len, "%s", !strcmp(type, "DMA-FQ\n") ? "iommu-lazy"
				 : !strcmp(type, "DMA\n")  ? "iommu-strict"
							   : "iommu-pt");
	free(type);
}

static int run(const struct bench_args *a, bool debug, struct map_result *r)
{
	unsigned int n = a->threads ? a->threads : 1;
	struct dmasim_machine *m = boot(a, debug);
	struct map_thread *t;
	pthread_barrier_t start;
	pthread_t *tid;
	struct device *dev;
	struct stats map = { 0 }, unmap = { 0 };

	if (!m)
		return 1;
	dev = dmasim_pci_device(m, "0000:00:00.0");
	path_of(m, a, r->path, sizeof(r->path));
	dmasim_enter(NULL);
	if (!dev || dma_set_mask(dev, DMA_BIT_MASK(a->bits ? a->bits : 64))) {
		fprintf(stderr, "map_benchmark: failed to set dma_mask on device %s\n",
			dev ? dev_name(dev) : "?");
		dmasim_machine_destroy(m);
		return 1;
	}
	t = calloc(n, sizeof(*t));
	tid = calloc(n, sizeof(*tid));
	pthread_barrier_init(&start, NULL, n);
	for (unsigned int i = 0; t && tid && i < n; i++) {
		t[i] = (struct map_thread){ .m = m, .dev = dev, .a = a,
					    .start = &start };
		pthread_create(&tid[i], NULL, map_thread_run, &t[i]);
	}
	for (unsigned int i = 0; t && tid && i < n; i++) {
		pthread_join(tid[i], NULL);
		r->failed |= t[i].failed;
		map.sum += t[i].map.sum, map.sum2 += t[i].map.sum2;
		map.n += t[i].map.n;
		unmap.sum += t[i].unmap.sum, unmap.sum2 += t[i].unmap.sum2;
		unmap.n += t[i].unmap.n;
	}
	pthread_barrier_destroy(&start);
	r->map_ns = mean(&map);
	r->unmap_ns = mean(&unmap);
	r->map_sd = stddev(&map);
	r->unmap_sd = stddev(&unmap);
	free(t);
	free(tid);
	dmasim_machine_destroy(m);
	if (r->failed)
		fprintf(stderr, "map_benchmark: dma_map_single failed on %s\n",
			"0000:00:00.0");
	return r->failed;
}

static const char *dir_name(int dir)
{
	static const char *const names[] = { "BIDIRECTIONAL", "TO_DEVICE",
					      "FROM_DEVICE" };

	return names[dir < 0 ? 0 : dir];
}

int bench_map(const struct bench_args *a)
{
	struct map_result r = { 0 }, dbg = { 0 };
	const char *path;
	unsigned int n = a->threads ? a->threads : 1;

	if (a->path && !strncmp(a->path, "iommu", 5) &&
	    (a->cfg->platform != DMASIM_PLATFORM_X86 ||
	     a->cfg->iommu == DMASIM_IOMMU_NONE)) {
		fprintf(stderr, "dmasim bench: --path %s needs an IOMMU (--platform x86, not --iommu-hw none)\n",
			a->path);
		return 2;
	}
	if (run(a, false, &r) || run(a, true, &dbg))
		return 1;
	path = r.path;
	if (a->json) {
		fprintf(a->out,
			"{\"path\":\"%s\",\"map_ns\":%.1f,\"unmap_ns\":%.1f,\"map_sd_ns\":%.1f,\"unmap_sd_ns\":%.1f,\"threads\":%u,\"granule\":%u,\"dir\":\"%s\",\"dma_debug_map_ns\":%.1f,\"dma_debug_unmap_ns\":%.1f}\n",
			path, r.map_ns, r.unmap_ns, r.map_sd, r.unmap_sd, n,
			a->granule ? a->granule : 1, dir_name(a->dir),
			dbg.map_ns, dbg.unmap_ns);
		return 0;
	}
	fprintf(a->out, "dma mapping benchmark: threads:%u seconds:%u node:-1 dir:%s granule: %u\n",
		n, a->seconds ? a->seconds : 1, dir_name(a->dir),
		a->granule ? a->granule : 1);
	fprintf(a->out, "average map latency(us):%.1f standard deviation:%.1f\n",
		r.map_ns / 1000, r.map_sd / 1000);
	fprintf(a->out, "average unmap latency(us):%.1f standard deviation:%.1f\n",
		r.unmap_ns / 1000, r.unmap_sd / 1000);
	fprintf(a->out, "(%s path, in ns: map %.1f sd %.1f, unmap %.1f sd %.1f; map+unmap %.1f;\n"
		" with DMA-API debugging on: map %.1f, unmap %.1f)\n",
		path, r.map_ns, r.map_sd, r.unmap_ns, r.unmap_sd,
		r.map_ns + r.unmap_ns, dbg.map_ns, dbg.unmap_ns);
	return 0;
}
