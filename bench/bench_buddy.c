/*
 * Buddy allocator: alloc_pages + __free_pages pairs per second for order 0
 * and order 9, from one thread and from two threads at once (each a CPU of
 * the machine), against malloc(4096) + free in the same process for scale.
 * The target is an order-0 pair <= 50 ns on one thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "dmasim/linux/gfp.h"

#define RUN_NS 300000000ULL /* per measurement */

struct worker {
	struct dmasim_machine *m;
	unsigned int order;
	uint64_t pairs;
	uint64_t ns;
	int failed;
	pthread_barrier_t *start;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, end;

	dmasim_enter(w->m);
	pthread_barrier_wait(w->start);
	t0 = bench_now_ns();
	end = t0 + RUN_NS;
	do {
		for (int i = 0; i < 1024; i++) {
			struct page *p = alloc_pages(GFP_KERNEL, w->order);

			if (!p) {
				w->failed = 1;
				break;
			}
			__free_pages(p, w->order);
		}
		w->pairs += 1024;
	} while (!w->failed && bench_now_ns() < end);
	w->ns = bench_now_ns() - t0;
	dmasim_enter(NULL);
	return NULL;
}

/* Aggregate pairs per second over @nthreads threads. */
static double measure(struct dmasim_machine *m, unsigned int order,
		      int nthreads, int *failed)
{
	pthread_t th[2];
	struct worker w[2];
	pthread_barrier_t start;
	double rate = 0;

	pthread_barrier_init(&start, NULL, (unsigned int)nthreads);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ m, order, 0, 0, 0, &start };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		rate += (double)w[i].pairs * 1e9 / (double)w[i].ns;
		*failed |= w[i].failed;
	}
	pthread_barrier_destroy(&start);
	return rate;
}

static double malloc_pair_ns(void)
{
	uint64_t t0 = bench_now_ns(), n = 0;

	do {
		for (int i = 0; i < 1024; i++) {
			void *volatile p = malloc(4096);

			free(p);
		}
		n += 1024;
	} while (bench_now_ns() - t0 < RUN_NS / 3);
	return (double)(bench_now_ns() - t0) / (double)n;
}

int bench_buddy(const struct bench_args *a)
{
	const struct dmasim_config *cfg = a->cfg;
	bool json = a->json;
	FILE *out = a->out;

	static const unsigned int orders[] = { 0, 9 };
	struct dmasim_machine *m, *prev;
	char err[256];
	double rate[2][2], base;
	int failed = 0;

	if (dmasim_machine_create(cfg, &m, err, sizeof(err))) {
		fprintf(stderr, "dmasim bench buddy: %s\n", err);
		return 1;
	}
	prev = dmasim_enter(NULL);
	for (int o = 0; o < 2; o++)
		for (int t = 0; t < 2; t++)
			rate[o][t] = measure(m, orders[o], t + 1, &failed);
	base = malloc_pair_ns();
	dmasim_enter(prev);
	dmasim_machine_destroy(m);
	if (failed) {
		fprintf(stderr, "dmasim bench buddy: an allocation failed\n");
		return 1;
	}
	if (json) {
		fprintf(out, "{\"ram_bytes\":%llu,\"results\":[",
			(unsigned long long)cfg->ram_bytes);
		for (int o = 0; o < 2; o++)
			for (int t = 0; t < 2; t++)
				fprintf(out,
					"%s{\"order\":%u,\"threads\":%d,\"pairs_per_sec\":%.0f,\"ns_per_pair\":%.1f}",
					o || t ? "," : "", orders[o], t + 1, rate[o][t],
					(t + 1) * 1e9 / rate[o][t]);
		fprintf(out, "],\"malloc_4k_ns_per_pair\":%.1f}\n", base);
		return 0;
	}
	fprintf(out, "buddy allocator, alloc_pages(GFP_KERNEL) + __free_pages pairs\n");
	fprintf(out, "  order threads   pairs/s        ns/pair (per thread)\n");
	for (int o = 0; o < 2; o++)
		for (int t = 0; t < 2; t++)
			fprintf(out, "  %5u %7d %12.0f %12.1f\n", orders[o], t + 1,
				rate[o][t], (t + 1) * 1e9 / rate[o][t]);
	fprintf(out, "  malloc(4096)+free in this process: %.1f ns/pair\n", base);
	return 0;
}
