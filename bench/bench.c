/* The benchmark table and shared measuring helpers. */
#include "bench.h"

#include <time.h>
#include <unistd.h>

const struct bench benches[] = {
	{ "boot", "boot time and resident memory of a machine", bench_boot },
	{ "buddy", "page allocator alloc+free pairs (order 0 and 9, 1 and 2 threads)",
	  bench_buddy },
	{ "pio-vs-dma", "read the same data from the disk by PIO and by DMA: throughput, CPU busy, interrupts",
	  bench_pio_vs_dma },
	{ "dma-copy", "dmac copy throughput against memcpy, 4 KiB to 64 MiB",
	  bench_dma_copy },
	{ "map", "dma_map_single + dma_unmap_single latency, as Linux's dma_map_benchmark",
	  bench_map },
	{ "iova", "IOVA allocator alloc+free pairs: per-CPU caches and tree, 1 and 16 pages, 1 and 2 threads",
	  bench_iova },
	{ NULL, NULL, NULL },
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
