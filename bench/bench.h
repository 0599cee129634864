/* Benchmarks behind 'dmasim bench NAME': timing lives here, never in tests. */
#ifndef DMASIM_BENCH_BENCH_H
#define DMASIM_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dmasim/dmasim.h"

struct bench {
	const char *name;
	const char *summary;
	int (*run)(const struct dmasim_config *cfg, bool json, FILE *out);
};

extern const struct bench benches[];

uint64_t bench_now_ns(void);
/* Resident set size of this process, in bytes. */
uint64_t bench_rss_bytes(void);

int bench_boot(const struct dmasim_config *cfg, bool json, FILE *out);
int bench_buddy(const struct dmasim_config *cfg, bool json, FILE *out);

#endif
