/*
 * bench iova: the IOVA allocator's cost per mapping, as dma-iommu pays
 * it — alloc_iova_fast + free_iova_fast pairs (the per-CPU magazines)
 * and, for comparison, alloc_iova + __free_iova pairs (the tree under
 * the domain lock) — for 1 and 16 pages, from 1 and 2 threads at once,
 * each a CPU of the machine. The domain looks like a PCI device's: 4 KiB
 * granule, start_pfn 1, the MSI window reserved, 1024 one-page ranges
 * already allocated (mappings in flight), requests below 4 GiB.
 *
 * A thread times batches of 1024 pairs and stops after the run time
 * (-s seconds, default 0.3 s per row, in 5 rounds of which the median
 * is kept): ns_per_pair is a thread's mean time per pair, pairs_per_s
 * the sum over threads.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "kernel/iommu/iova.h"
#include "kernel/machine.h"

#define RUN_NS	     300000000ULL
#define BATCH	     1024
#define LIVE_RANGES  1024
#define ROUNDS	     5

struct iova_thread {
	struct dmasim_machine *m;
	struct iova_domain *d;
	bool fast;
	unsigned long pages;
	uint64_t run_ns;
	pthread_barrier_t *start;
	uint64_t pairs, ns;
	int failed;
};

static int fast_batch(struct iova_domain *d, unsigned long pages,
		      unsigned long limit)
{
	for (int i = 0; i < BATCH; i++) {
		unsigned long pfn = alloc_iova_fast(d, pages, limit, true);

		if (!pfn)
			return -1;
		free_iova_fast(d, pfn, pages);
	}
	return 0;
}

static int tree_batch(struct iova_domain *d, unsigned long pages,
		      unsigned long limit)
{
	for (int i = 0; i < BATCH; i++) {
		struct iova *iova = alloc_iova(d, pages, limit, true);

		if (!iova)
			return -1;
		__free_iova(d, iova);
	}
	return 0;
}

static void *iova_thread_run(void *arg)
{
	struct iova_thread *t = arg;
	unsigned long limit = t->d->dma_32bit_pfn - 1;
	uint64_t t0, end;

	dmasim_enter(t->m);
	pthread_barrier_wait(t->start);
	t0 = bench_now_ns();
	end = t0 + t->run_ns;
	do {
		int ret = t->fast ? fast_batch(t->d, t->pages, limit)
				  : tree_batch(t->d, t->pages, limit);

		t->failed = ret != 0;
		t->pairs += BATCH;
	} while (!t->failed && bench_now_ns() < end);
	t->ns = bench_now_ns() - t0;
	dmasim_enter(NULL);
	return NULL;
}

struct iova_row {
	const char *path;
	unsigned long pages;
	unsigned int threads;
	double ns_per_pair, pairs_per_s;
};

static int domain_setup(struct iova_domain *d, struct dmasim_machine *m)
{
	init_iova_domain(d, 4096, 1);
	if (iova_domain_init_rcaches(d, ((struct machine *)m)->nr_cpus) ||
	    !reserve_iova(d, 0xfee00, 0xfeeff))
		return -1;
	for (int i = 0; i < LIVE_RANGES; i++)
		if (!alloc_iova(d, 1, d->dma_32bit_pfn - 1, true))
			return -1;
	return 0;
}

/* One round of a row: @r->threads threads on a fresh domain. */
static int measure_round(struct dmasim_machine *m, uint64_t run_ns,
			 struct iova_row *r)
{
	struct iova_thread *t = calloc(r->threads, sizeof(*t));
	pthread_t *tid = calloc(r->threads, sizeof(*tid));
	pthread_barrier_t start;
	struct iova_domain d;
	uint64_t ns = 0, pairs = 0;
	int failed = domain_setup(&d, m) || !t || !tid;

	r->pairs_per_s = 0;
	pthread_barrier_init(&start, NULL, r->threads);
	for (unsigned int i = 0; !failed && i < r->threads; i++) {
		t[i] = (struct iova_thread){
			.m = m, .d = &d, .fast = r->path[0] == 'f',
			.pages = r->pages, .start = &start, .run_ns = run_ns,
		};
		pthread_create(&tid[i], NULL, iova_thread_run, &t[i]);
	}
	for (unsigned int i = 0; !failed && i < r->threads; i++) {
		pthread_join(tid[i], NULL);
		failed |= t[i].failed;
		ns += t[i].ns;
		pairs += t[i].pairs;
		r->pairs_per_s += (double)t[i].pairs * 1e9 / (double)t[i].ns;
	}
	pthread_barrier_destroy(&start);
	r->ns_per_pair = pairs ? (double)ns / (double)pairs : 0;
	put_iova_domain(&d);
	free(t);
	free(tid);
	return failed;
}

static int by_rate(const void *a, const void *b)
{
	double x = ((const struct iova_row *)a)->pairs_per_s;
	double y = ((const struct iova_row *)b)->pairs_per_s;

	return (x > y) - (x < y);
}

/* A row is the median of ROUNDS rounds, so that a moment when another
 * process holds a host CPU does not decide the figure. */
static int measure(struct dmasim_machine *m, const struct bench_args *a,
		   struct iova_row *r)
{
	uint64_t total = a->seconds ? a->seconds * 1000000000ULL : RUN_NS;
	struct iova_row round[ROUNDS];
	int failed = 0;

	for (int i = 0; i < ROUNDS && !failed; i++) {
		round[i] = *r;
		failed = measure_round(m, total / ROUNDS, &round[i]);
	}
	if (failed)
		return failed;
	qsort(round, ROUNDS, sizeof(round[0]), by_rate);
	*r = round[ROUNDS / 2];
	return 0;
}

static void print_rows(const struct bench_args *a, const struct iova_row *r,
		       int n)
{
	if (a->json) {
		fprintf(a->out, "{\"results\":[");
		for (int i = 0; i < n; i++)
			fprintf(a->out,
				"%s{\"path\":\"%s\",\"pages\":%lu,\"threads\":%u,\"ns_per_pair\":%.1f,\"pairs_per_s\":%.0f}",
				i ? "," : "", r[i].path, r[i].pages,
				r[i].threads, r[i].ns_per_pair,
				r[i].pairs_per_s);
		fprintf(a->out, "]}\n");
		return;
	}
	fprintf(a->out, "IOVA alloc+free pairs (4 KiB granule, below 4 GiB, %d ranges live)\n",
		LIVE_RANGES);
	fprintf(a->out, "%-5s %6s %8s %10s %14s %8s\n", "path", "pages",
		"threads", "ns/pair", "pairs/s", "scaling");
	for (int i = 0; i < n; i++) {
		fprintf(a->out, "%-5s %6lu %8u %10.1f %14.0f", r[i].path,
			r[i].pages, r[i].threads, r[i].ns_per_pair,
			r[i].pairs_per_s);
		if (i && r[i].threads > 1 && r[i - 1].threads == 1 &&
		    r[i - 1].pages == r[i].pages && r[i - 1].pairs_per_s > 0)
			fprintf(a->out, " %7.2fx", r[i].pairs_per_s /
							r[i - 1].pairs_per_s);
		fprintf(a->out, "\n");
	}
}

int bench_iova(const struct bench_args *a)
{
	static const char *const paths[] = { "fast", "tree" };
	static const unsigned long pages[] = { 1, 16 };
	unsigned int nt[2] = { 1, 2 }, nthreads = a->threads ? 1 : 2;
	struct iova_row rows[8] = { 0 };
	struct dmasim_machine *m, *prev;
	char err[256];
	int n = 0, failed = 0;

	if (a->threads)
		nt[0] = a->threads;
	if (dmasim_machine_create(a->cfg, &m, err, sizeof(err))) {
		fprintf(stderr, "dmasim bench iova: %s\n", err);
		return 1;
	}
	prev = dmasim_enter(NULL);
	for (int p = 0; p < 2; p++)
		for (int s = 0; s < 2; s++)
			for (unsigned int t = 0; t < nthreads; t++, n++) {
				rows[n] = (struct iova_row){ paths[p], pages[s],
							     nt[t], 0, 0 };
				failed |= measure(m, a, &rows[n]);
			}
	dmasim_enter(prev);
	dmasim_machine_destroy(m);
	if (failed) {
		fprintf(stderr, "dmasim bench iova: an allocation failed\n");
		return 1;
	}
	print_rows(a, rows, n);
	return 0;
}
