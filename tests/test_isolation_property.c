/*
 * Property test of DMA isolation: random legal and illegal device
 * accesses against a shadow model of what the kernel mapped for the
 * device. A pool of kernel pages is filled with known bytes and mapped
 * and unmapped at random (random offsets, lengths, directions); the
 * device reads and writes at random, inside and outside its mappings.
 *
 *   strict   every access succeeds exactly when each byte's IOVA page is
 *            mapped with the access's permission; reads return the bytes
 *            behind the mapping; no byte of RAM changes except through a
 *            writable mapping (checked against the shadow of the pool).
 *   lazy     the same, except that a page unmapped since the last flush of
 *            the flush queue may still answer (a stale IOTLB entry), with
 *            the permission and bytes it had: that and nothing more.
 *   identity (iommu=pt) every RAM address answers with its own bytes.
 *
 * Both VT-d and AMD-Vi. Seeded and reproducible: DMASIM_SEED picks the seed (printed on a
 * failure), DMASIM_PROPERTY_OPS the number of accesses (default 100000;
 * 1000000 for the long run).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "hw/bus.h"
#include "hw/pci.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/machine.h"

#define POOL_PAGES 64
#define MAX_MAPS   48
#define PG	   4096ULL

enum policy { STRICT, LAZY, IDENTITY };

struct map {
	dma_addr_t iova;
	size_t size;
	uint64_t phys;
	enum dma_data_direction dir;
	bool live;
};

/* A page of IOVA space the device may reach: live or stale (lazy). */
struct reach {
	uint64_t iova_page, phys_page;
	bool r, w, stale;
};

struct prop {
	enum policy pol;
	uint64_t seed, rng;
	struct dmasim_machine *m;
	struct pci_func *fn;
	struct device *dev;
	struct page *pool;	/* POOL_PAGES contiguous pages */
	uint8_t *cpu;		/* the pool as the CPU sees it */
	uint64_t pool_phys;
	uint8_t shadow[POOL_PAGES * PG];
	struct map maps[MAX_MAPS];
	struct reach *reach;
	size_t nr_reach, cap_reach;
	unsigned long ok, refused, stale_hits;
};

static uint64_t rnd(struct prop *p)
{
	/* splitmix64 */
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct prop *p, uint64_t n)
{
	return n ? rnd(p) % n : 0;
}

#define CHECK(p, cond, ...)                                                   \
	do {                                                                  \
		if (!(cond)) {                                                \
			print_error("property failed (DMASIM_SEED=%" PRIu64   \
				    ", policy %d): ", (p)->seed, (int)(p)->pol); \
			print_error(__VA_ARGS__);                             \
			fail();                                               \
		}                                                             \
	} while (0)

static struct reach *reach_find(struct prop *p, uint64_t iova_page)
{
	for (size_t i = 0; i < p->nr_reach; i++)
		if (p->reach[i].iova_page == iova_page)
			return &p->reach[i];
	return NULL;
}

static void reach_add(struct prop *p, uint64_t iova_page, uint64_t phys_page,
		      enum dma_data_direction dir)
{
	struct reach *r = reach_find(p, iova_page);

	if (!r) {
		if (p->nr_reach == p->cap_reach) {
			p->cap_reach = p->cap_reach ? 2 * p->cap_reach : 64;
			p->reach = realloc(p->reach, p->cap_reach * sizeof(*r));
			assert_non_null(p->reach);
		}
		r = &p->reach[p->nr_reach++];
	}
	*r = (struct reach){ iova_page, phys_page,
			     dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL,
			     dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL,
			     false };
}

/* Unmapped pages: gone in strict mode, stale until a flush when lazy. */
static void reach_drop(struct prop *p, const struct map *mp)
{
	for (uint64_t a = mp->iova & ~(PG - 1); a < mp->iova + mp->size; a += PG) {
		struct reach *r = reach_find(p, a);

		if (!r)
			continue;
		if (p->pol == LAZY) {
			r->stale = true;
		} else {
			*r = p->reach[--p->nr_reach];
		}
	}
}

static void flush_stale(struct prop *p)
{
	iommu_dma_flush_fq(p->dev->iommu_domain);
	for (size_t i = 0; i < p->nr_reach;)
		if (p->reach[i].stale)
			p->reach[i] = p->reach[--p->nr_reach];
		else
			i++;
}

static void do_map(struct prop *p, struct map *mp)
{
	static const enum dma_data_direction dirs[] = {
		DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL
	};
	size_t off = (size_t)below(p, POOL_PAGES * PG - 1);
	size_t max = POOL_PAGES * PG - off;

	mp->size = 1 + (size_t)below(p, max < 3 * PG ? max : 3 * PG);
	mp->phys = p->pool_phys + off;
	mp->dir = dirs[below(p, 3)];
	mp->iova = dma_map_single(p->dev, p->cpu + off, mp->size, mp->dir);
	CHECK(p, !dma_mapping_error(p->dev, mp->iova), "map failed\n");
	mp->live = true;
	if (p->pol == IDENTITY) {
		CHECK(p, mp->iova == mp->phys, "identity map moved\n");
		return;
	}
	for (uint64_t a = mp->iova & ~(PG - 1); a < mp->iova + mp->size; a += PG)
		reach_add(p, a, (mp->phys & ~(PG - 1)) + (a - (mp->iova & ~(PG - 1))),
			  mp->dir);
}

static void do_unmap(struct prop *p, struct map *mp)
{
	dma_unmap_single(p->dev, mp->iova, mp->size, mp->dir);
	mp->live = false;
	if (p->pol != IDENTITY)
		reach_drop(p, mp);
}

/* Where the shadow says @iova lands, or false if it must be refused.
 * Sets *stale when only a stale entry could answer. */
static bool expect(struct prop *p, uint64_t iova, bool write, uint64_t *phys,
		   bool *stale)
{
	struct reach *r;

	*stale = false;
	if (p->pol == IDENTITY) {
		*phys = iova;
		return true;
	}
	r = reach_find(p, iova & ~(PG - 1));
	if (!r || !(write ? r->w : r->r))
		return false;
	*stale = r->stale;
	*phys = r->phys_page + (iova & (PG - 1));
	return true;
}

/* A random address: inside a mapping, near one, or anywhere. */
static uint64_t target(struct prop *p)
{
	struct map *mp = &p->maps[below(p, MAX_MAPS)];

	switch (below(p, 4)) {
	case 0:
	case 1:
		if (mp->iova && mp->size)
			return mp->iova + below(p, mp->size + 2 * PG) - PG;
		return below(p, 1ULL << 32);
	case 2:
		return p->pool_phys + below(p, POOL_PAGES * PG);
	default:
		return below(p, 1ULL << 33);
	}
}

static void check_read(struct prop *p, uint64_t addr, size_t len)
{
	uint8_t buf[64];
	size_t done = 0;
	enum pci_status st = bus_read(p->fn, addr, buf, len, &done);
	uint64_t phys;
	bool stale, want = expect(p, addr, false, &phys, &stale);

	if (p->pol == IDENTITY) {
		/* RAM answers with its own bytes; the pool is in the shadow */
		if (st == PCI_STATUS_OK && phys >= p->pool_phys &&
		    phys + len <= p->pool_phys + POOL_PAGES * PG)
			CHECK(p, !memcmp(buf, p->shadow + (phys - p->pool_phys), len),
			      "identity read of %#" PRIx64 " differs\n", addr);
		if (st == PCI_STATUS_OK)
			p->ok++;
		else
			p->refused++;
		return;
	}
	if (!want || (stale && st != PCI_STATUS_OK)) {
		CHECK(p, st != PCI_STATUS_OK,
		      "read of %#" PRIx64 " outside the mappings succeeded\n", addr);
		p->refused++;
		return;
	}
	CHECK(p, st == PCI_STATUS_OK, "mapped read of %#" PRIx64 " refused (%d)\n",
	      addr, (int)st);
	CHECK(p, phys >= p->pool_phys &&
		 !memcmp(buf, p->shadow + (phys - p->pool_phys), len),
	      "read of %#" PRIx64 " returned other bytes\n", addr);
	p->ok++;
	p->stale_hits += stale;
}

static void check_write(struct prop *p, uint64_t addr, size_t len)
{
	uint8_t buf[64];
	size_t done = 0;
	enum pci_status st;
	uint64_t phys;
	bool stale, want = expect(p, addr, true, &phys, &stale);

	if (p->pol == IDENTITY)
		return; /* writes anywhere in RAM: not worth checking */
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd(p);
	st = bus_write(p->fn, addr, buf, len, &done);
	if (!want) {
		CHECK(p, st != PCI_STATUS_OK,
		      "write to %#" PRIx64 " outside the mappings succeeded\n", addr);
		p->refused++;
		return;
	}
	if (stale && st != PCI_STATUS_OK) {
		p->refused++;
		return;
	}
	CHECK(p, st == PCI_STATUS_OK, "mapped write to %#" PRIx64 " refused\n", addr);
	memcpy(p->shadow + (phys - p->pool_phys), buf, len);
	p->ok++;
	p->stale_hits += stale;
}

static void access_once(struct prop *p)
{
	uint64_t addr = target(p);
	/* stay within one page: a crossing access is checked per page by
	 * the two accesses it could be split into */
	size_t room = (size_t)(PG - (addr & (PG - 1)));
	size_t len = 1 + (size_t)below(p, 64);

	if (len > room)
		len = room;
	if (below(p, 2))
		check_read(p, addr, len);
	else
		check_write(p, addr, len);
}

static struct dmasim_machine *boot(const char *cmdline, bool amd)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;

	if (!amd)
		return test_boot(GiB(8), cmdline);
	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(8);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.iommu = DMASIM_IOMMU_AMD;
	assert_int_equal(dmasim_machine_create(&cfg, &m, NULL, 0), 0);
	return m;
}

static void setup(struct prop *p, enum policy pol, const char *cmdline,
		  bool amd)
{
	const char *s = getenv("DMASIM_SEED");

	memset(p, 0, sizeof(*p));
	p->pol = pol;
	p->seed = s ? strtoull(s, NULL, 0) : 0x5eed0001ULL + (uint64_t)pol;
	p->rng = p->seed;
	p->m = boot(cmdline, amd);
	p->fn = pci_find_id((struct machine *)p->m, "rp0");
	p->dev = dmasim_pci_device(p->m, "0000:00:01.0");
	pci_cfg_write(p->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_int_equal(dma_set_mask_and_coherent(p->dev, DMA_BIT_MASK(64)), 0);
	p->pool = alloc_pages(GFP_KERNEL, 6); /* 64 pages */
	assert_non_null(p->pool);
	p->cpu = page_address(p->pool);
	p->pool_phys = page_to_phys(p->pool);
	for (size_t i = 0; i < sizeof(p->shadow); i++)
		p->shadow[i] = (uint8_t)rnd(p);
	memcpy(p->cpu, p->shadow, sizeof(p->shadow));
}

static void teardown(struct prop *p)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (p->maps[i].live)
			do_unmap(p, &p->maps[i]);
	/* nothing outside writable mappings changed, ever */
	CHECK(p, !memcmp(p->cpu, p->shadow, sizeof(p->shadow)),
	      "the pool differs from its shadow\n");
	__free_pages(p->pool, 6);
	free(p->reach);
	assert_int_equal(dmasim_dma_debug_errors(p->m), 0);
	dmasim_machine_destroy(p->m);
}

static unsigned long nr_ops(void)
{
	const char *s = getenv("DMASIM_PROPERTY_OPS");

	return s ? strtoul(s, NULL, 0) : 100000;
}

static void run(enum policy pol, const char *cmdline, bool amd)
{
	static struct prop p; /* the shadow is large */
	unsigned long n = nr_ops();

	setup(&p, pol, cmdline, amd);
	for (unsigned long i = 0; i < n; i++) {
		struct map *mp = &p.maps[below(&p, MAX_MAPS)];
		uint64_t op = below(&p, 100);

		if (op < 4)
			mp->live ? do_unmap(&p, mp) : do_map(&p, mp);
		else if (op == 4 && pol == LAZY)
			flush_stale(&p);
		else
			access_once(&p);
		if (i % 4096 == 0 && pol != IDENTITY)
			CHECK(&p, !memcmp(p.cpu, p.shadow, sizeof(p.shadow)),
			      "a device write landed outside its mappings (op %lu)\n", i);
	}
	print_message("policy %d: %lu accesses served, %lu refused, %lu through stale entries\n",
		      (int)pol, p.ok, p.refused, p.stale_hits);
	if (pol != IDENTITY) {
		CHECK(&p, p.ok > n / 20 && p.refused > n / 20,
		      "the mix did not exercise both sides\n");
	}
	if (pol == STRICT)
		CHECK(&p, p.stale_hits == 0, "stale hits in strict mode\n");
	teardown(&p);
}

static void test_strict(void **state)
{
	(void)state;
	run(STRICT, "intel_iommu=on iommu.strict=1 dma_debug=off", false);
}

static void test_amd_strict(void **state)
{
	(void)state;
	run(STRICT, "iommu.strict=1 dma_debug=off", true);
}

static void test_amd_lazy(void **state)
{
	(void)state;
	run(LAZY, "dma_debug=off", true);
}

static void test_lazy(void **state)
{
	(void)state;
	run(LAZY, "intel_iommu=on iommu.strict=0 dma_debug=off", false);
}

static void test_identity(void **state)
{
	(void)state;
	run(IDENTITY, "intel_iommu=on iommu=pt dma_debug=off", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_lazy),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_amd_strict),
		cmocka_unit_test(test_amd_lazy),
	};

	return cmocka_run_group_tests_name("isolation_property", tests, NULL, NULL);
}
