/*
 * Boot: how long dmasim_machine_create takes (median of several boots) and
 * the process's resident memory with the machine up. The target for an
 * 8 GiB machine is <= 20 ms and <= 32 MiB (DESIGN.md).
 */
#include <stdlib.h>

#include "bench.h"

#define BOOT_RUNS 7

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int bench_boot(const struct bench_args *a)
{
	const struct dmasim_config *cfg = a->cfg;
	bool json = a->json;
	FILE *out = a->out;

	uint64_t ns[BOOT_RUNS], rss = 0, rss_before = bench_rss_bytes();
	char err[256];

	for (int i = 0; i < BOOT_RUNS; i++) {
		struct dmasim_machine *m;
		uint64_t t0 = bench_now_ns();

		if (dmasim_machine_create(cfg, &m, err, sizeof(err))) {
			fprintf(stderr, "dmasim bench boot: %s\n", err);
			return 1;
		}
		ns[i] = bench_now_ns() - t0;
		if (i == 0)
			rss = bench_rss_bytes();
		dmasim_machine_destroy(m);
	}
	qsort(ns, BOOT_RUNS, sizeof(ns[0]), cmp_u64);
	if (json) {
		fprintf(out,
			"{\"ram_bytes\":%llu,\"boot_ms\":%.3f,\"rss_bytes\":%llu,\"rss_before_boot_bytes\":%llu,\"boots\":%d}\n",
			(unsigned long long)cfg->ram_bytes, (double)ns[BOOT_RUNS / 2] / 1e6,
			(unsigned long long)rss, (unsigned long long)rss_before, BOOT_RUNS);
		return 0;
	}
	fprintf(out, "boot of a %llu MiB %s machine (median of %d boots)\n",
		(unsigned long long)(cfg->ram_bytes >> 20),
		dmasim_platform_name(cfg->platform), BOOT_RUNS);
	fprintf(out, "  boot time      %10.3f ms   (fastest %.3f, slowest %.3f)\n",
		(double)ns[BOOT_RUNS / 2] / 1e6, (double)ns[0] / 1e6,
		(double)ns[BOOT_RUNS - 1] / 1e6);
	fprintf(out, "  resident       %10.1f MiB  (process, machine up; %.1f MiB before)\n",
		(double)rss / 1048576.0, (double)rss_before / 1048576.0);
	return 0;
}
