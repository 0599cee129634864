/*
 * dma-iommu: the DMA API on top of an IOMMU DMA domain (Linux 6.1's
 * drivers/iommu/dma-iommu.c). A device attached to a DMA or DMA-FQ
 * domain gets these ops: IOVAs from the domain's allocator (32 bits first
 * for PCI devices, then the whole mask), iommu_map with the direction's
 * permissions, scatter-gather lists mapped into one IOVA range and merged
 * into fewer DMA segments where the pages line up, strict invalidation on
 * every unmap (DMA) or a per-CPU flush queue flushed every 10 ms or when
 * full (DMA-FQ), and untrusted devices' sub-page mappings bounced through
 * swiotlb with zeroed padding.
 */
#ifndef DMASIM_KERNEL_IOMMU_DMA_IOMMU_H
#define DMASIM_KERNEL_IOMMU_DMA_IOMMU_H

#include "dmasim/linux/iommu.h"
#include "kernel/dma/ops.h"

#define IOVA_DEFAULT_FQ_SIZE	256
#define IOVA_DEFAULT_FQ_TIMEOUT 10 /* ms */

struct machine;

extern const struct dma_map_ops iommu_dma_ops;

/* Give @domain (DMA or DMA-FQ) its IOVA space and, for DMA-FQ, its flush
 * queues; reserve the MSI window and the host bridge's MMIO window. */
int iommu_get_dma_cookie(struct iommu_domain *domain);
void iommu_put_dma_cookie(struct iommu_domain *domain);
/* Give a live DMA domain a flush queue (DMA -> DMA-FQ), mappings kept:
 * 0, -EINVAL (not a DMA API domain) or -ENOMEM. */
int iommu_dma_init_fq(struct iommu_domain *domain);
/* Route @dev's DMA API calls through @domain (already attached). */
void iommu_setup_dma_ops(struct device *dev, struct iommu_domain *domain);

/* Counters of a DMA domain, for tests and the benchmarks. */
struct iommu_dma_stats {
	unsigned long fq_queued;	/* IOVAs that waited in a flush queue */
	unsigned long fq_flushes;	/* domain-wide flushes by the queue */
	unsigned long strict_syncs;	/* IOTLB syncs on unmap (strict) */
	unsigned long bounced;		/* untrusted sub-page bounces */
};
void iommu_dma_get_stats(struct iommu_domain *domain,
			 struct iommu_dma_stats *st);
/* Flush @domain's queues now (the timer's work). */
void iommu_dma_flush_fq(struct iommu_domain *domain);

#endif
