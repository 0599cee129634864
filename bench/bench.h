/* Benchmarks behind 'dmasim bench NAME': timing lives here, never in tests. */
#ifndef DMASIM_BENCH_BENCH_H
#define DMASIM_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dmasim/dmasim.h"

/* What `dmasim bench NAME [options]` passes to a benchmark. */
struct bench_args {
	const struct dmasim_config *cfg; /* the machine options */
	bool json;
	FILE *out;
	uint64_t mib;		/* --mib N: transfer size (0: default) */
	unsigned int iterations; /* --iterations N (0: default) */
	/* dma_map_benchmark's options (bench map) */
	unsigned int threads;	/* -t, 1..1024 (0: 1) */
	unsigned int seconds;	/* -s, 1..300 (0: default) */
	unsigned int granule;	/* -g pages, 1..1024 (0: 1) */
	int dir;		/* -d 0 bidirectional, 1 to device, 2 from (-1: 0) */
	unsigned int bits;	/* -b, 20..64 (0: 32) */
	const char *path;	/* --path direct|bounce|iommu-... */
	bool iommu;		/* --iommu: dma-copy also through VT-d */
};

struct bench {
	const char *name;
	const char *summary;
	int (*run)(const struct bench_args *a);
};

extern const struct bench benches[];

uint64_t bench_now_ns(void);
/* Resident set size of this process, in bytes. */
uint64_t bench_rss_bytes(void);

int bench_boot(const struct bench_args *a);
int bench_buddy(const struct bench_args *a);
int bench_pio_vs_dma(const struct bench_args *a);
int bench_dma_copy(const struct bench_args *a);
int bench_map(const struct bench_args *a);
int bench_iova(const struct bench_args *a);

#endif
