/*
 * Scatter-gather tables (lib/scatterlist.c in Linux): a table is one
 * array of entries here (no chaining needed in user space), the last one
 * marked; built from pages with physically contiguous runs merged into
 * one entry, as sg_alloc_table_from_pages does.
 */
#include "dmasim/linux/scatterlist.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

int sg_alloc_table(struct sg_table *table, unsigned int nents, gfp_t gfp)
{
	(void)gfp;
	table->sgl = NULL;
	table->nents = table->orig_nents = 0;
	if (nents == 0)
		return -EINVAL;
	table->sgl = calloc(nents, sizeof(*table->sgl));
	if (!table->sgl)
		return -ENOMEM;
	sg_init_table(table->sgl, nents);
	table->nents = table->orig_nents = nents;
	return 0;
}

void sg_free_table(struct sg_table *table)
{
	free(table->sgl);
	table->sgl = NULL;
	table->nents = table->orig_nents = 0;
}

/* Entries needed: runs of consecutive page frames. */
static unsigned int count_runs(struct page **pages, unsigned int n)
{
	unsigned int runs = 0;

	for (unsigned int i = 0; i < n; i++)
		if (i == 0 || page_to_pfn(pages[i]) != page_to_pfn(pages[i - 1]) + 1)
			runs++;
	return runs;
}

int sg_alloc_table_from_pages(struct sg_table *sgt, struct page **pages,
			      unsigned int n_pages, unsigned int offset,
			      unsigned long size, gfp_t gfp_mask)
{
	struct scatterlist *sg;
	unsigned int i = 0;
	int ret;

	if (!n_pages || offset >= PAGE_SIZE ||
	    size > (unsigned long)n_pages * PAGE_SIZE - offset)
		return -EINVAL;
	ret = sg_alloc_table(sgt, count_runs(pages, n_pages), gfp_mask);
	if (ret)
		return ret;
	for (sg = sgt->sgl; i < n_pages; sg = sg_next(sg)) {
		unsigned int j = i + 1;
		unsigned long len;

		while (j < n_pages &&
		       page_to_pfn(pages[j]) == page_to_pfn(pages[j - 1]) + 1)
			j++;
		len = (unsigned long)(j - i) * PAGE_SIZE - offset;
		if (len > size)
			len = size;
		sg_set_page(sg, pages[i], (unsigned int)len, offset);
		size -= len;
		offset = 0;
		i = j;
	}
	return 0;
}

int sg_nents(struct scatterlist *sg)
{
	int n = 0;

	for (; sg; sg = sg_next(sg))
		n++;
	return n;
}

struct scatterlist *sg_last(struct scatterlist *s, unsigned int nents)
{
	struct scatterlist *ret = NULL;
	unsigned int i;

	for_each_sg(s, s, nents, i)
		ret = s;
	return ret;
}
