/*
 * Scatter-gather mappings (dma_map_sg and friends, kernel/dma/mapping.c
 * and dma-direct's map_sg): each entry is mapped like a page, in order;
 * if one fails, those before it are unmapped and the call returns 0
 * (dma_map_sgtable: the error). The direct path never merges entries, so
 * the DMA segment count equals nents; an IOMMU path may merge.
 */
#include <errno.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/scatterlist.h"
#include "kernel/dma/debug.h"
#include "kernel/dma/direct.h"
#include "kernel/dma/ops.h"

static void unmap_first(struct device *dev, struct scatterlist *sgl, int n,
			enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, n, i)
		dma_unmap_page_nodebug(dev, sg_dma_address(sg), sg_dma_len(sg),
				       dir, attrs);
}

static int map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		  enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	if (!dev->dma_mask || !valid_dma_direction(dir) || nents <= 0)
		return -EINVAL;
	if (get_dma_ops(dev))
		return get_dma_ops(dev)->map_sg(dev, sgl, nents, dir, attrs);
	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = dma_map_page_nodebug(dev, sg_page(sg),
						       sg->offset, sg->length,
						       dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR) {
			unmap_first(dev, sgl, i, dir,
				    attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return -EIO;
		}
		sg->dma_length = sg->length;
	}
	return nents;
}

int dma_map_sg_attrs(struct device *dev, struct scatterlist *sg, int nents,
		     enum dma_data_direction dir, unsigned long attrs)
{
	int ents = map_sg(dev, sg, nents, dir, attrs);

	if (ents <= 0)
		return 0;
	debug_dma_map_sg(dev, sg, nents, ents, dir, attrs);
	return ents;
}

void dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg, int nents,
			enum dma_data_direction dir, unsigned long attrs)
{
	debug_dma_unmap_sg(dev, sg, nents, dir);
	if (!valid_dma_direction(dir) || nents <= 0)
		return;
	if (get_dma_ops(dev))
		get_dma_ops(dev)->unmap_sg(dev, sg, nents, dir, attrs);
	else
		unmap_first(dev, sg, nents, dir, attrs);
}

int dma_map_sgtable(struct device *dev, struct sg_table *sgt,
		    enum dma_data_direction dir, unsigned long attrs)
{
	int ents = map_sg(dev, sgt->sgl, (int)sgt->orig_nents, dir, attrs);

	if (ents < 0)
		return ents;
	debug_dma_map_sg(dev, sgt->sgl, (int)sgt->orig_nents, ents, dir, attrs);
	sgt->nents = (unsigned int)ents;
	return 0;
}

void dma_unmap_sgtable(struct device *dev, struct sg_table *sgt,
		       enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_sg_attrs(dev, sgt->sgl, (int)sgt->orig_nents, dir, attrs);
}

void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
			 int nelems, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	if (!valid_dma_direction(dir))
		return;
	debug_dma_sync_sg(dev, sgl, nelems, dir, true);
	if (get_dma_ops(dev)) {
		get_dma_ops(dev)->sync_sg_for_cpu(dev, sgl, nelems, dir);
		return;
	}
	for_each_sg(sgl, sg, nelems, i)
		dma_sync_single_nodebug(dev, sg_dma_address(sg), sg_dma_len(sg),
					dir, true);
}

void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sgl,
			    int nelems, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	if (!valid_dma_direction(dir))
		return;
	debug_dma_sync_sg(dev, sgl, nelems, dir, false);
	if (get_dma_ops(dev)) {
		get_dma_ops(dev)->sync_sg_for_device(dev, sgl, nelems, dir);
		return;
	}
	for_each_sg(sgl, sg, nelems, i)
		dma_sync_single_nodebug(dev, sg_dma_address(sg), sg_dma_len(sg),
					dir, false);
}

void dma_sync_sgtable_for_cpu(struct device *dev, struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	dma_sync_sg_for_cpu(dev, sgt->sgl, (int)sgt->orig_nents, dir);
}

void dma_sync_sgtable_for_device(struct device *dev, struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	dma_sync_sg_for_device(dev, sgt->sgl, (int)sgt->orig_nents, dir);
}
