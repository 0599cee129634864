/* Placeholder (being written). */
#include "bench.h"

int bench_pio_vs_dma(const struct bench_args *a)
{
	fprintf(stderr, "dmasim bench: not available yet\n");
	(void)a;
	return 1;
}
