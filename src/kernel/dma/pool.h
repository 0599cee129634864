/* The machine's DMA pools, for the sysfs "pools" file (see pool.c). */
#ifndef DMASIM_KERNEL_DMA_POOL_H
#define DMASIM_KERNEL_DMA_POOL_H

#include <pthread.h>

#include "lib/strbuf.h"

struct machine;
struct device;
struct dma_pool;

struct dma_pools {
	pthread_mutex_t lock;
	struct dma_pool *list;
};

void dma_pools_init(struct machine *m);
void dma_pools_destroy(struct machine *m);
void dma_pools_show(struct machine *m, struct device *dev, struct strbuf *out);

#endif
