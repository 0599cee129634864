/*
 * The IOMMU core's mapping rules against a software IOMMU driver that
 * records what it is asked: page sizes chosen from alignment and length,
 * the alignment errors and their messages, partial failures undone,
 * unmap stopping at a hole, IOTLB syncs, attach/detach and fault
 * reporting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/iommu.h"
#include "helpers.h"
#include "kernel/iommu/iommu.h"
#include "kernel/machine.h"

#define SZ_4K 0x1000UL
#define SZ_2M 0x200000UL
#define SZ_1G 0x40000000UL
#define MAXMAP 1024

/* The fake driver: a list of mapped pages and a log of calls. */
struct fake_domain {
	struct iommu_domain domain;
	struct { unsigned long iova; phys_addr_t pa; size_t size; int prot; } map[MAXMAP];
	int nmap;
	int map_calls, syncs, flushes, fail_after;
	size_t call_pgsize[MAXMAP], call_count[MAXMAP];
};

static struct fake_domain *fd(struct iommu_domain *d)
{
	return (struct fake_domain *)d;
}

static int fake_map(struct iommu_domain *d, unsigned long iova,
		    phys_addr_t pa, size_t pgsize, size_t count, int prot,
		    gfp_t gfp, size_t *mapped)
{
	struct fake_domain *f = fd(d);

	(void)gfp;
	*mapped = 0;
	if (f->map_calls < MAXMAP) {
		f->call_pgsize[f->map_calls] = pgsize;
		f->call_count[f->map_calls] = count;
	}
	if (f->fail_after && f->map_calls >= f->fail_after)
		return -ENOMEM;
	f->map_calls++;
	for (size_t i = 0; i < count && f->nmap < MAXMAP; i++) {
		f->map[f->nmap].iova = iova + i * pgsize;
		f->map[f->nmap].pa = pa + i * pgsize;
		f->map[f->nmap].size = pgsize;
		f->map[f->nmap++].prot = prot;
		*mapped += pgsize;
	}
	return 0;
}

static size_t fake_unmap(struct iommu_domain *d, unsigned long iova,
			 size_t pgsize, size_t count,
			 struct iommu_iotlb_gather *g)
{
	struct fake_domain *f = fd(d);
	size_t done = 0;

	(void)pgsize;
	for (size_t c = 0; c < count; c++) {
		int i;

		for (i = 0; i < f->nmap && f->map[i].iova != iova + done; i++)
			;
		if (i == f->nmap)
			break;
		done += f->map[i].size;
		f->map[i] = f->map[--f->nmap];
	}
	if (done && iova < g->start)
		g->start = iova;
	if (done && iova + done - 1 > g->end)
		g->end = iova + done - 1;
	return done;
}

static void fake_sync(struct iommu_domain *d, struct iommu_iotlb_gather *g)
{
	(void)g;
	fd(d)->syncs++;
}

static void fake_flush(struct iommu_domain *d)
{
	fd(d)->flushes++;
}

static phys_addr_t fake_to_phys(struct iommu_domain *d, dma_addr_t iova)
{
	struct fake_domain *f = fd(d);

	for (int i = 0; i < f->nmap; i++)
		if (iova >= f->map[i].iova && iova < f->map[i].iova + f->map[i].size)
			return f->map[i].pa + (iova - f->map[i].iova);
	return 0;
}

static int fake_attach(struct iommu_domain *d, struct device *dev)
{
	(void)d;
	return dev->dma_mask ? 0 : -EINVAL;
}

static void fake_free(struct iommu_domain *d)
{
	free(fd(d));
}

static const struct iommu_domain_ops fake_dops = {
	.attach_dev = fake_attach,
	.map_pages = fake_map,
	.unmap_pages = fake_unmap,
	.flush_iotlb_all = fake_flush,
	.iotlb_sync = fake_sync,
	.iova_to_phys = fake_to_phys,
	.free = fake_free,
};

static struct iommu_domain *fake_alloc(unsigned int type)
{
	struct fake_domain *f = calloc(1, sizeof(*f));

	(void)type;
	return f ? &f->domain : NULL;
}

static const struct iommu_ops fake_ops = {
	.domain_alloc = fake_alloc,
	.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
	.default_domain_ops = &fake_dops,
};

struct fixture {
	struct dmasim_machine *m;
	struct iommu_device iommu;
	struct iommu_domain *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->m = test_boot(MiB(256), NULL);
	assert_int_equal(iommu_device_register(&f->iommu, &fake_ops, NULL), 0);
	f->d = iommu_domain_alloc(&pci_bus_type);
	assert_non_null(f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	iommu_domain_free(f->d);
	iommu_device_unregister(&f->iommu);
	dmasim_machine_destroy(f->m);
	free(f);
	return 0;
}

static void test_page_size_selection(void **state)
{
	struct fixture *f = *state;
	struct fake_domain *fk = fd(f->d);

	assert_int_equal(f->d->type, IOMMU_DOMAIN_UNMANAGED);
	/* 4M at a 2M-aligned address: two 2M pages, one call */
	assert_int_equal(iommu_map(f->d, 0x40000000UL + SZ_2M, 0x200000, 2 * SZ_2M,
				   IOMMU_READ | IOMMU_WRITE), 0);
	assert_int_equal(fk->map_calls, 1);
	assert_int_equal(fk->call_pgsize[0], SZ_2M);
	assert_int_equal(fk->call_count[0], 2);
	/* 4K-aligned start: 4K pages up to the 2M boundary, then 2M pages */
	fk->map_calls = 0;
	assert_int_equal(iommu_map(f->d, 0x80000000UL - 2 * SZ_4K,
				   0x10000000UL - 2 * SZ_4K,
				   2 * SZ_4K + SZ_2M, IOMMU_READ), 0);
	assert_int_equal(fk->map_calls, 2);
	assert_int_equal(fk->call_pgsize[0], SZ_4K);
	assert_int_equal(fk->call_count[0], 2);
	assert_int_equal(fk->call_pgsize[1], SZ_2M);
	assert_int_equal(fk->call_count[1], 1);
	/* iova and paddr disagree on alignment: 4K pages only */
	fk->map_calls = 0;
	assert_int_equal(iommu_map(f->d, 0xc0000000UL, 0x20001000UL, SZ_2M,
				   IOMMU_READ), 0);
	assert_int_equal(fk->call_pgsize[0], SZ_4K);
	assert_int_equal(fk->call_count[0], 512);
	assert_int_equal(iommu_iova_to_phys(f->d, 0xc0000000UL + 0x1234),
			 0x20002234UL);
	assert_int_equal(iommu_unmap(f->d, 0xc0000000UL, SZ_2M), SZ_2M);
	assert_int_equal(fk->syncs, 1);
}

static void test_alignment_errors(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(iommu_map(f->d, 0x1000, 0x2001, 0x1000, IOMMU_READ),
			 -EINVAL);
	assert_int_equal(iommu_unmap(f->d, 0x1800, 0x1000), 0);
	log = dmasim_dmesg(f->m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_non_null(strstr(log, "\niommu: unaligned: iova 0x1000 pa 0x0000000000002001 size 0x1000 min_pagesz 0x1000\n"));
	assert_non_null(strstr(log, "\niommu: unaligned: iova 0x1800 size 0x1000 min_pagesz 0x1000\n"));
	free(log);
}

static void test_partial_failure_undone(void **state)
{
	struct fixture *f = *state;
	struct fake_domain *fk = fd(f->d);

	fk->fail_after = 1; /* the second chunk fails */
	assert_int_equal(iommu_map(f->d, 0x80000000UL - SZ_4K, 0x10000000UL - SZ_4K,
				   SZ_4K + SZ_2M, IOMMU_READ), -ENOMEM);
	assert_int_equal(fk->nmap, 0); /* the first chunk was unmapped */
}

static void test_unmap_stops_at_hole(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(iommu_map(f->d, 0x100000, 0x100000, 3 * SZ_4K,
				   IOMMU_WRITE), 0);
	assert_int_equal(iommu_map(f->d, 0x105000, 0x105000, SZ_4K,
				   IOMMU_WRITE), 0);
	/* 0x103000 and 0x104000 are holes */
	assert_int_equal(iommu_unmap(f->d, 0x100000, 6 * SZ_4K), 3 * SZ_4K);
	assert_int_equal(iommu_iova_to_phys(f->d, 0x105000), 0x105000);
	iommu_flush_iotlb_all(f->d);
	assert_int_equal(fd(f->d)->flushes, 1);
}

static int handler_calls;

static int on_fault(struct iommu_domain *d, struct device *dev,
		    unsigned long iova, int flags, void *token)
{
	(void)d;
	(void)dev;
	handler_calls += (iova == 0xdead000 && flags == IOMMU_FAULT_WRITE &&
			  token == &handler_calls);
	return 0;
}

static void test_attach_and_faults(void **state)
{
	struct fixture *f = *state;
	struct device *dev = dmasim_pci_device(f->m, "0000:00:00.0");

	assert_int_equal(report_iommu_fault(f->d, dev, 0, 0), -ENOSYS);
	iommu_set_fault_handler(f->d, on_fault, &handler_calls);
	assert_int_equal(report_iommu_fault(f->d, dev, 0xdead000,
					    IOMMU_FAULT_WRITE), 0);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(iommu_attach_device(f->d, dev), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(dev), f->d);
	iommu_detach_device(f->d, dev);
	assert_null(iommu_get_domain_for_dev(dev));
	/* a second driver cannot register on the same machine */
	{
		struct iommu_device other;

		assert_int_equal(iommu_device_register(&other, &fake_ops, NULL),
				 -EBUSY);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page_size_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_failure_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_stops_at_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_and_faults, setup, teardown),
	};

	return cmocka_run_group_tests_name("iommu_core", tests, NULL, NULL);
}
