/*
 * dma-iommu end to end with a software IOMMU: a driver whose page table is
 * a list, and a remapping unit on the bus that translates through it, so
 * a device really reaches only what was mapped for it. Checks IOVA
 * placement (top-down below 4 GiB, reserved windows, 64-bit after
 * forcedac), permissions per direction, strict syncs, the flush queue
 * holding IOVAs until a flush (and its timer), sg merging, untrusted
 * bouncing with zeroed padding, and coherent allocations.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/iommu.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "dmasim/linux/scatterlist.h"
#include "helpers.h"
#include "hw/bus.h"
#include "hw/iommu.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/iommu.h"
#include "kernel/machine.h"

#define SZ_4K 4096UL
#define MAXMAP 4096

struct soft_domain {
	struct iommu_domain domain;
	pthread_mutex_t lock;
	struct { unsigned long iova; phys_addr_t pa; int prot; } pte[MAXMAP];
	int n, syncs, flushes;
};

static struct soft_domain *sd(struct iommu_domain *d)
{
	return (struct soft_domain *)d;
}

static int soft_find(struct soft_domain *s, unsigned long iova)
{
	for (int i = 0; i < s->n; i++)
		if (s->pte[i].iova == (iova & ~(SZ_4K - 1)))
			return i;
	return -1;
}

static int soft_map(struct iommu_domain *d, unsigned long iova,
		    phys_addr_t pa, size_t pgsize, size_t count, int prot,
		    gfp_t gfp, size_t *mapped)
{
	struct soft_domain *s = sd(d);

	(void)gfp;
	*mapped = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < count * (pgsize / SZ_4K) && s->n < MAXMAP; i++) {
		s->pte[s->n].iova = iova + i * SZ_4K;
		s->pte[s->n].pa = pa + i * SZ_4K;
		s->pte[s->n++].prot = prot;
		*mapped += SZ_4K;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static size_t soft_unmap(struct iommu_domain *d, unsigned long iova,
			 size_t pgsize, size_t count,
			 struct iommu_iotlb_gather *g)
{
	struct soft_domain *s = sd(d);
	size_t done = 0;

	(void)g;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < count * (pgsize / SZ_4K); i++) {
		int k = soft_find(s, iova + done);

		if (k < 0)
			break;
		s->pte[k] = s->pte[--s->n];
		done += SZ_4K;
	}
	pthread_mutex_unlock(&s->lock);
	return done;
}

static void soft_sync(struct iommu_domain *d, struct iommu_iotlb_gather *g)
{
	(void)g;
	pthread_mutex_lock(&sd(d)->lock);
	sd(d)->syncs++;
	pthread_mutex_unlock(&sd(d)->lock);
}

static void soft_flush(struct iommu_domain *d)
{
	pthread_mutex_lock(&sd(d)->lock);
	sd(d)->flushes++;
	pthread_mutex_unlock(&sd(d)->lock);
}

static phys_addr_t soft_to_phys(struct iommu_domain *d, dma_addr_t iova)
{
	struct soft_domain *s = sd(d);
	phys_addr_t pa = 0;
	int k;

	pthread_mutex_lock(&s->lock);
	k = soft_find(s, iova);
	if (k >= 0)
		pa = s->pte[k].pa + (iova & (SZ_4K - 1));
	pthread_mutex_unlock(&s->lock);
	return pa;
}

static int soft_attach(struct iommu_domain *d, struct device *dev)
{
	(void)d;
	(void)dev;
	return 0;
}

static void soft_free(struct iommu_domain *d)
{
	pthread_mutex_destroy(&sd(d)->lock);
	free(sd(d));
}

static const struct iommu_domain_ops soft_dops = {
	.attach_dev = soft_attach, .map_pages = soft_map,
	.unmap_pages = soft_unmap, .flush_iotlb_all = soft_flush,
	.iotlb_sync = soft_sync, .iova_to_phys = soft_to_phys,
	.free = soft_free,
};

static struct iommu_domain *soft_alloc(unsigned int type)
{
	struct soft_domain *s = calloc(1, sizeof(*s));

	(void)type;
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	return &s->domain;
}

static const struct iommu_ops soft_ops = {
	.domain_alloc = soft_alloc,
	.pgsize_bitmap = SZ_4K,
	.default_domain_ops = &soft_dops,
};

/* The remapping unit: translate through the one domain, no IOTLB. */
static enum pci_status soft_translate(struct iommu_unit *u, uint16_t rid,
				      uint64_t iova, size_t len, bool write,
				      uint64_t *phys, size_t *chunk)
{
	struct soft_domain *s = u->priv;
	enum pci_status st = PCI_STATUS_UR;
	int k;

	(void)rid;
	pthread_mutex_lock(&s->lock);
	k = soft_find(s, iova);
	if (k >= 0 && (s->pte[k].prot & (write ? IOMMU_WRITE : IOMMU_READ))) {
		size_t left = SZ_4K - (iova & (SZ_4K - 1));

		*phys = s->pte[k].pa + (iova & (SZ_4K - 1));
		*chunk = len < left ? len : left;
		st = PCI_STATUS_OK;
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

static const struct iommu_unit_ops soft_unit_ops = {
	.translate = soft_translate,
};

struct fx {
	struct dmasim_machine *m;
	struct iommu_device iommu;
	struct iommu_domain *d;
	struct iommu_unit unit;
	struct pci_func *fn;
	struct device *dev;
};

static struct fx *fx_new(const char *cmdline, unsigned int type)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct machine *km;

	f->m = test_boot(GiB(8), cmdline);
	km = (struct machine *)f->m;
	assert_int_equal(iommu_device_register(&f->iommu, &soft_ops, NULL), 0);
	f->d = iommu_domain_alloc_type(km, type);
	assert_non_null(f->d);
	assert_int_equal(iommu_get_dma_cookie(f->d), 0);
	f->dev = dmasim_pci_device(f->m, "0000:00:01.0");
	assert_int_equal(iommu_attach_device(f->d, f->dev), 0);
	iommu_setup_dma_ops(f->dev, f->d);
	f->unit = (struct iommu_unit){ .ops = &soft_unit_ops, .priv = f->d };
	f->fn = pci_find_id(km, "rp0");
	f->fn->iommu = &f->unit;
	pci_cfg_write(f->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	return f;
}

static void fx_free(struct fx *f)
{
	f->fn->iommu = NULL;
	f->dev->dma_ops = NULL;
	iommu_detach_device(f->d, f->dev);
	iommu_put_dma_cookie(f->d);
	iommu_domain_free(f->d);
	iommu_device_unregister(&f->iommu);
	dmasim_machine_destroy(f->m);
	free(f);
}

static void test_confined_to_mappings(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA);
	struct page *pg = alloc_pages(GFP_KERNEL, 1);
	char *buf = page_address(pg), seen[16];
	size_t done;
	dma_addr_t a;

	(void)state;
	strcpy(buf, "through iommu");
	a = dma_map_single(f->dev, buf, 100, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	/* top-down below 4 GiB, above the reserved MSI window */
	assert_int_equal(a, 0xfffff000UL);
	assert_int_equal(bus_read(f->fn, a, seen, 14, &done), PCI_STATUS_OK);
	assert_string_equal(seen, "through iommu");
	/* read-only: the device may not write */
	assert_int_equal(bus_write(f->fn, a, "x", 1, &done), PCI_STATUS_UR);
	/* the physical address is not reachable any more */
	assert_int_equal(bus_read(f->fn, page_to_phys(pg), seen, 1, &done),
			 PCI_STATUS_UR);
	dma_unmap_single(f->dev, a, 100, DMA_TO_DEVICE);
	assert_int_equal(bus_read(f->fn, a, seen, 1, &done), PCI_STATUS_UR);
	assert_int_equal(sd(f->d)->syncs, 1); /* strict */
	__free_pages(pg, 1);
	fx_free(f);
}

static void test_flush_queue(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA_FQ);
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	struct iommu_dma_stats st;
	dma_addr_t a, b;

	(void)state;
	assert_int_equal(f->d->type, IOMMU_DOMAIN_DMA_FQ);
	a = dma_map_single(f->dev, page_address(pg), 4096, DMA_FROM_DEVICE);
	dma_unmap_single(f->dev, a, 4096, DMA_FROM_DEVICE);
	assert_int_equal(sd(f->d)->syncs, 0); /* lazy: no sync on unmap */
	/* the IOVA waits in the queue: not handed out again yet */
	b = dma_map_single(f->dev, page_address(pg), 4096, DMA_FROM_DEVICE);
	assert_int_not_equal(a, b);
	dma_unmap_single(f->dev, b, 4096, DMA_FROM_DEVICE);
	iommu_dma_get_stats(f->d, &st);
	assert_int_equal(st.fq_queued, 2);
	/* the machine's clock is virtual: the 10 ms timer fires when the
	 * clock passes it, not before */
	dmasim_clock_advance(f->m, 9 * 1000000ULL);
	iommu_dma_get_stats(f->d, &st);
	assert_int_equal(st.fq_flushes, 0);
	dmasim_clock_advance(f->m, 1 * 1000000ULL);
	iommu_dma_get_stats(f->d, &st);
	assert_int_equal(st.fq_flushes, 1);
	assert_true(sd(f->d)->flushes >= 1);
	__free_pages(pg, 0);
	fx_free(f);
}

static void test_fq_full_flushes(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA_FQ);
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	struct iommu_dma_stats st;

	(void)state;
	for (int i = 0; i < IOVA_DEFAULT_FQ_SIZE + 10; i++) {
		dma_addr_t a = dma_map_single(f->dev, page_address(pg), 64,
					      DMA_TO_DEVICE);

		dma_unmap_single(f->dev, a, 64, DMA_TO_DEVICE);
	}
	iommu_dma_get_stats(f->d, &st);
	assert_true(st.fq_flushes >= 1);
	__free_pages(pg, 0);
	fx_free(f);
}

static void test_sg_merging(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA);
	struct page *p0 = alloc_page(GFP_KERNEL), *p1 = alloc_page(GFP_KERNEL),
		    *p2 = alloc_page(GFP_KERNEL);
	struct scatterlist sgl[3];
	size_t done;
	char c;

	(void)state;
	sg_init_table(sgl, 3);
	sg_set_page(&sgl[0], p0, 4096, 0);
	sg_set_page(&sgl[1], p1, 4096, 0);
	sg_set_page(&sgl[2], p2, 1000, 0);
	memset(page_address(p2), 'z', 1000);
	/* three scattered pages become one contiguous DMA segment */
	assert_int_equal(dma_map_sg(f->dev, sgl, 3, DMA_TO_DEVICE), 1);
	assert_int_equal(sg_dma_len(&sgl[0]), 4096 + 4096 + 1000);
	assert_int_equal(bus_read(f->fn, sg_dma_address(&sgl[0]) + 8192 + 999,
				  &c, 1, &done), PCI_STATUS_OK);
	assert_int_equal(c, 'z');
	dma_unmap_sg(f->dev, sgl, 3, DMA_TO_DEVICE);
	assert_int_equal(sd(f->d)->n, 0);
	/* an entry that starts mid-page cannot join the one before */
	sg_init_table(sgl, 2);
	sg_set_page(&sgl[0], p0, 4096, 0);
	sg_set_page(&sgl[1], p1, 100, 200);
	assert_int_equal(dma_map_sg(f->dev, sgl, 2, DMA_TO_DEVICE), 2);
	assert_int_equal(sg_dma_address(&sgl[1]) & 0xfff, 200);
	dma_unmap_sg(f->dev, sgl, 2, DMA_TO_DEVICE);
	assert_int_equal(sd(f->d)->n, 0);
	__free_page(p0);
	__free_page(p1);
	__free_page(p2);
	fx_free(f);
}

static void test_forcedac_64bit(void **state)
{
	struct fx *f = fx_new("iommu.forcedac=1", IOMMU_DOMAIN_DMA);
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t a;
	char *log;

	(void)state;
	assert_int_equal(dma_set_mask(f->dev, DMA_BIT_MASK(48)), 0);
	a = dma_map_single(f->dev, page_address(pg), 4096, DMA_TO_DEVICE);
	assert_true(a > DMA_BIT_MASK(32));
	dma_unmap_single(f->dev, a, 4096, DMA_TO_DEVICE);
	log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_non_null(strstr(log, "\npci 0000:00:01.0: Using 48-bit DMA addresses\n"));
	free(log);
	__free_page(pg);
	fx_free(f);
}

/* An untrusted device: a sub-page buffer is bounced, and the rest of
 * the granule the device can reach is zeros, not the neighbours. */
static void test_untrusted_bounce(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA);
	struct page *pg = alloc_page(GFP_KERNEL);
	char *buf = page_address(pg), page[4096];
	struct iommu_dma_stats st;
	size_t done;
	dma_addr_t a;

	(void)state;
	to_pci_dev(f->dev)->untrusted = true;
	memset(buf, 'S', 4096); /* secrets around the buffer */
	memcpy(buf + 1000, "ok", 2);
	a = dma_map_single(f->dev, buf + 1000, 2, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(bus_read(f->fn, a & ~0xfffUL, page, 4096, &done),
			 PCI_STATUS_OK);
	assert_memory_equal(page + (a & 0xfff), "ok", 2);
	for (size_t i = 0; i < 4096; i++)
		if (page[i] == 'S')
			fail_msg("byte %zu of the page the device sees is a neighbour's", i);
	iommu_dma_get_stats(f->d, &st);
	assert_int_equal(st.bounced, 1);
	dma_unmap_single(f->dev, a, 2, DMA_TO_DEVICE);
	to_pci_dev(f->dev)->untrusted = false;
	__free_page(pg);
	fx_free(f);
}

static void test_coherent_via_iommu(void **state)
{
	struct fx *f = fx_new(NULL, IOMMU_DOMAIN_DMA);
	dma_addr_t h;
	char *v = dma_alloc_coherent(f->dev, 8192, &h, GFP_KERNEL);
	size_t done;

	(void)state;
	assert_non_null(v);
	assert_true(h >= 0xf0000000UL); /* an IOVA, not the page's address */
	assert_int_equal(bus_write(f->fn, h + 5000, "dev", 4, &done),
			 PCI_STATUS_OK);
	assert_string_equal(v + 5000, "dev");
	dma_free_coherent(f->dev, 8192, v, h);
	assert_int_equal(sd(f->d)->n, 0);
	assert_int_equal(dmasim_dma_debug_errors(f->m), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_to_mappings),
		cmocka_unit_test(test_flush_queue),
		cmocka_unit_test(test_fq_full_flushes),
		cmocka_unit_test(test_sg_merging),
		cmocka_unit_test(test_forcedac_64bit),
		cmocka_unit_test(test_untrusted_bounce),
		cmocka_unit_test(test_coherent_via_iommu),
	};

	return cmocka_run_group_tests_name("dma_iommu", tests, NULL, NULL);
}
