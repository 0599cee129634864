/*
 * amd_iommu domains: host ("v1") I/O page tables in RAM in the AMD-Vi
 * format (4 levels, 48-bit input; directory entries carry the next
 * level, read and write bits), every power-of-two page size from 4 KiB
 * to 256 GiB as Linux's v1 tables offer them (a level's own size is a
 * leaf with next level 0; sizes in between are next-level-7 entries
 * repeated over the slots they cover), device table entries for every
 * requester ID a device uses (its own and a PCIe-to-PCI bridge's alias),
 * INVALIDATE_IOMMU_PAGES for the range an unmap gathered, and mode-0
 * entries with read and write allowed for identity domains. ATS (6.1's
 * attach_device): on a unit with IotlbSup, a device pci_enable_ats()
 * accepts (the capability, trusted) gets ATS and DTE.I, and its ATS
 * cache is invalidated (INVALIDATE_IOTLB_PAGES) after the domain's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/hw/amdvi.h"
#include "dmasim/linux/pci-ats.h"
#include "dmasim/linux/pci.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/iommu.h"
#include "kernel/pci.h"
#include "kernel/machine.h"

#define LEVELS	  4
#define PGSIZES	  (((1ULL << 39) - 1) & ~0xfffULL) /* 4 KiB .. 256 GiB */
#define PTE_PERMS (AMDVI_PTE_IR | AMDVI_PTE_IW)
#define MAX_ATS_DEVS 8	/* devices with ATS in one domain (tracked) */

struct protection_domain {
	struct iommu_domain domain;
	struct amd_iommu *iu;
	uint16_t id;
	uint64_t root;		/* the level-4 table (phys) */
	pthread_mutex_t lock;	/* ats_devid */
	uint16_t ats_devid[MAX_ATS_DEVS];	/* attached with ATS on */
	unsigned int nr_ats;
};

static struct protection_domain *pd(struct iommu_domain *d)
{
	return (struct protection_domain *)d;
}

uint16_t amd_domain_id(struct iommu_domain *dom)
{
	return pd(dom)->id;
}

static uint64_t *table(struct protection_domain *d, uint64_t phys)
{
	return (uint64_t *)(d->iu->m->ram.cpu + phys);
}

/* The unit walks the tables from device threads with 64-bit atomic
 * loads: entries are stored the same way. */
static void set_entry(uint64_t *e, uint64_t v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static uint64_t get_entry(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

static struct iommu_domain *amd_domain_alloc(unsigned int type)
{
	struct machine *m = current_machine();
	struct amd_iommu *iu = amd_iommu_of(m);
	struct protection_domain *d;

	if (!iu)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->iu = iu;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_lock(&iu->lock);
	d->id = (uint16_t)iu->did_next++;
	pthread_mutex_unlock(&iu->lock);
	if (type != IOMMU_DOMAIN_IDENTITY && type != IOMMU_DOMAIN_BLOCKED) {
		d->root = iommu_table_alloc(m, 0);
		if (!d->root) {
			pthread_mutex_destroy(&d->lock);
			free(d);
			return NULL;
		}
	}
	d->domain.pgsize_bitmap = PGSIZES;
	d->domain.geometry.aperture_start = 0;
	d->domain.geometry.aperture_end = (1ULL << AMDVI_MODE_WIDTH(LEVELS)) - 1;
	d->domain.geometry.force_aperture = true;
	return &d->domain;
}

static bool present(uint64_t e)
{
	return e & AMDVI_PTE_PR;
}

/* A directory entry: present, pointing to a table one level down. */
static bool is_dir(uint64_t e, int level)
{
	return present(e) && (int)AMDVI_PTE_NEXT(e) == level - 1 && level > 1;
}

static void free_tables(struct protection_domain *d, uint64_t phys, int level)
{
	uint64_t *t = table(d, phys);

	for (int i = 0; level > 1 && i < AMDVI_PTES_PER_TABLE; i++)
		if (is_dir(t[i], level))
			free_tables(d, t[i] & AMDVI_PTE_ADDR_MASK, level - 1);
	iommu_table_free(d->iu->m, phys, 0);
}

static void amd_domain_free(struct iommu_domain *dom)
{
	struct protection_domain *d = pd(dom);

	if (d->root)
		free_tables(d, d->root, LEVELS);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void ats_track(struct protection_domain *d, uint16_t devid, bool add)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_ats; i++)
		if (d->ats_devid[i] == devid)
			d->ats_devid[i] = d->ats_devid[--d->nr_ats];
	if (add && d->nr_ats < MAX_ATS_DEVS)
		d->ats_devid[d->nr_ats++] = devid;
	pthread_mutex_unlock(&d->lock);
}

/* After the domain's IOTLB: the ATS caches of its devices (Linux's
 * domain_flush_pages -> device_flush_iotlb); @size 0 is everything. */
static void flush_dev_iotlbs(struct protection_domain *d, uint64_t addr,
			     uint64_t size)
{
	uint16_t id[MAX_ATS_DEVS];
	unsigned int n;

	pthread_mutex_lock(&d->lock);
	n = d->nr_ats;
	memcpy(id, d->ats_devid, n * sizeof(id[0]));
	pthread_mutex_unlock(&d->lock);
	for (unsigned int i = 0; i < n; i++)
		amd_flush_iotlb(d->iu, id[i], addr, size);
}

static uint64_t dte_of(struct protection_domain *d, unsigned int type)
{
	uint64_t q0 = AMDVI_DTE_V | AMDVI_DTE_TV;

	if (type == IOMMU_DOMAIN_BLOCKED)
		return q0;
	if (type == IOMMU_DOMAIN_IDENTITY)
		return q0 | AMDVI_DTE_IR | AMDVI_DTE_IW;
	return q0 | d->root | (uint64_t)LEVELS << AMDVI_DTE_MODE_SHIFT |
	       AMDVI_DTE_IR | AMDVI_DTE_IW;
}

/* ATS for @dev in a domain of @type: 0 or DTE.I. */
static uint64_t enable_ats(struct amd_iommu *iu, struct device *dev,
			   unsigned int type)
{
	struct pci_dev *pdev;

	if (type == IOMMU_DOMAIN_BLOCKED || !dev_is_pci(dev) ||
	    !(iu->cap & AMDVI_CAP_IOTLB_SUP))
		return 0;
	pdev = to_pci_dev(dev);
	if (!pdev->ats_enabled && pci_enable_ats(pdev, AMDVI_PAGE_SHIFT))
		return 0;
	return AMDVI_DTE_I;
}

static int amd_attach(struct iommu_domain *dom, struct device *dev)
{
	struct protection_domain *d = pd(dom);
	uint16_t s[2];
	int n = iommu_dev_rids(dev, s);
	uint64_t ats = enable_ats(d->iu, dev, dom->type);

	/* a conventional device's alias never has ATS: only its own id */
	for (int i = 0; i < n; i++)
		amd_dte_set(d->iu, s[i], dte_of(d, dom->type),
			    d->id | (i ? 0 : ats));
	if (ats)
		ats_track(d, s[0], true);
	return 0;
}

/* Back to what boot wrote: valid, no translation, no access. */
static void amd_detach(struct iommu_domain *dom, struct device *dev)
{
	uint16_t s[2];
	int n = iommu_dev_rids(dev, s);

	if (dev_is_pci(dev))
		pci_disable_ats(to_pci_dev(dev));
	ats_track(pd(dom), s[0], false);
	for (int i = 0; i < n; i++)
		amd_dte_set(pd(dom)->iu, s[i], AMDVI_DTE_V | AMDVI_DTE_TV, 0);
}

/* Where a page of 2^shift bytes lives: its level (1: 4 KiB slots) and
 * how many slots of that level it repeats over. */
static int page_level(unsigned int shift, unsigned int *slots)
{
	int level = (int)(shift - AMDVI_PAGE_SHIFT) / AMDVI_LEVEL_STRIDE + 1;

	*slots = 1u << (shift - (unsigned int)AMDVI_LEVEL_SHIFT(level));
	return level;
}

/* The leaf entry for a page of 2^shift bytes at @pa. */
static uint64_t leaf_entry(uint64_t pa, unsigned int shift, int level,
			   uint64_t perms)
{
	uint64_t size = 1ULL << shift;

	if ((int)shift == AMDVI_LEVEL_SHIFT(level))
		return (pa & AMDVI_PTE_ADDR_MASK) | AMDVI_PTE_PR | AMDVI_PTE_FC |
		       perms;
	/* next level 7: bits shift-2..12 ones, bit shift-1 clear */
	return (((pa & ~(size - 1)) | ((size >> 1) - 1)) & AMDVI_PTE_ADDR_MASK) |
	       (uint64_t)AMDVI_NEXT_SIZED << AMDVI_PTE_NEXT_SHIFT | AMDVI_PTE_PR |
	       AMDVI_PTE_FC | perms;
}

/* The size (as a shift) of the page a present leaf at @level maps. */
static unsigned int leaf_shift(uint64_t e, int level)
{
	unsigned int n = AMDVI_PAGE_SHIFT;

	if (AMDVI_PTE_NEXT(e) != AMDVI_NEXT_SIZED)
		return AMDVI_LEVEL_SHIFT(level);
	while (n < 51 && ((e >> n) & 1))
		n++;
	return n + 1;
}

/* Install a new table below @e unless another thread got there first. */
static bool install_table(struct protection_domain *d, uint64_t *e, int level)
{
	struct machine *m = d->iu->m;
	uint64_t next = iommu_table_alloc(m, 0), expected = 0;

	if (!next)
		return false;
	if (!__atomic_compare_exchange_n(
		    e, &expected,
		    next | AMDVI_PTE_PR | PTE_PERMS |
			    (uint64_t)(level - 1) << AMDVI_PTE_NEXT_SHIFT,
		    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		iommu_table_free(m, next, 0);
	return true;
}

/*
 * The slot for @iova at @level, creating tables above it. Lock-free as
 * in intel_domain.c: tables are only added (by compare-and-swap) and the
 * IOVA allocator never hands one range to two mappings.
 */
static uint64_t *pte_at(struct protection_domain *d, uint64_t iova, int level,
			bool create)
{
	uint64_t phys = d->root;

	for (int l = LEVELS; l > level; l--) {
		uint64_t *e = &table(d, phys)[AMDVI_PTE_INDEX(iova, l)];
		uint64_t v = get_entry(e);

		if (!present(v)) {
			if (!create || !install_table(d, e, l))
				return NULL;
			v = get_entry(e);
		} else if (!is_dir(v, l)) {
			return NULL; /* inside a larger page */
		}
		phys = v & AMDVI_PTE_ADDR_MASK;
	}
	return &table(d, phys)[AMDVI_PTE_INDEX(iova, level)];
}

/* The leaf mapping @iova: its first slot, level and size (NULL: none). */
static uint64_t *fetch_leaf(struct protection_domain *d, uint64_t iova,
			    int *level_out, unsigned int *shift_out)
{
	uint64_t phys = d->root;

	for (int l = LEVELS; l >= 1; l--) {
		uint64_t *t = table(d, phys);
		uint64_t *e = &t[AMDVI_PTE_INDEX(iova, l)];
		uint64_t v = get_entry(e);
		unsigned int shift, slots;

		if (!present(v))
			return NULL;
		if (is_dir(v, l)) {
			phys = v & AMDVI_PTE_ADDR_MASK;
			continue;
		}
		shift = leaf_shift(v, l);
		page_level(shift, &slots);
		*level_out = l;
		*shift_out = shift;
		/* the first of the slots the page repeats over */
		return &t[AMDVI_PTE_INDEX(iova, l) & ~(slots - 1)];
	}
	return NULL;
}

static int amd_map_pages(struct iommu_domain *dom, unsigned long iova,
			 phys_addr_t pa, size_t pgsize, size_t count, int prot,
			 gfp_t gfp, size_t *mapped)
{
	struct protection_domain *d = pd(dom);
	unsigned int shift = (unsigned int)__builtin_ctzll(pgsize), slots;
	int level = page_level(shift, &slots);
	uint64_t perms = (prot & IOMMU_READ ? AMDVI_PTE_IR : 0) |
			 (prot & IOMMU_WRITE ? AMDVI_PTE_IW : 0);

	(void)gfp;
	*mapped = 0;
	if (!perms)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		uint64_t va = iova + i * pgsize;
		uint64_t *e = pte_at(d, va, level, true);
		uint64_t v;

		if (!e)
			return -ENOMEM;
		for (unsigned int k = 0; k < slots; k++)
			if (present(get_entry(&e[k])))
				return -EEXIST;
		v = leaf_entry(pa + i * pgsize, shift, level, perms);
		for (unsigned int k = 0; k < slots; k++)
			set_entry(&e[k], v);
		*mapped += pgsize;
	}
	return 0;
}

static size_t amd_unmap_pages(struct iommu_domain *dom, unsigned long iova,
			      size_t pgsize, size_t count,
			      struct iommu_iotlb_gather *g)
{
	struct protection_domain *d = pd(dom);
	size_t want = pgsize * count, done = 0;
	uint64_t va = iova;

	while (done < want) {
		int level;
		unsigned int shift, slots;
		uint64_t *e = fetch_leaf(d, va, &level, &shift);
		uint64_t size;

		if (!e)
			break;
		page_level(shift, &slots);
		for (unsigned int k = 0; k < slots; k++)
			set_entry(&e[k], 0);
		size = 1ULL << shift;
		va = (va & ~(size - 1)) + size;
		done += (size_t)size;
	}
	if (done) {
		if (iova < g->start)
			g->start = iova;
		if (iova + done - 1 > g->end)
			g->end = iova + done - 1;
	}
	return done;
}

static void amd_flush_all(struct iommu_domain *dom)
{
	amd_flush_pages(pd(dom)->iu, pd(dom)->id, 0, 0);
	flush_dev_iotlbs(pd(dom), 0, 0);
}

static void amd_iotlb_sync(struct iommu_domain *dom,
			   struct iommu_iotlb_gather *g)
{
	if (g->start > g->end)
		return;
	amd_flush_pages(pd(dom)->iu, pd(dom)->id, g->start,
			g->end - g->start + 1);
	flush_dev_iotlbs(pd(dom), g->start, g->end - g->start + 1);
}

static phys_addr_t amd_iova_to_phys(struct iommu_domain *dom, dma_addr_t iova)
{
	struct protection_domain *d = pd(dom);
	unsigned int shift;
	int level;
	uint64_t *e, size;

	if (!d->root)
		return 0;
	e = fetch_leaf(d, iova, &level, &shift);
	if (!e)
		return 0;
	size = 1ULL << shift;
	return (get_entry(e) & AMDVI_PTE_ADDR_MASK & ~(size - 1)) +
	       (iova & (size - 1));
}

static bool amd_capable(struct device *dev, enum iommu_cap cap)
{
	(void)dev;
	return cap == IOMMU_CAP_CACHE_COHERENCY || cap == IOMMU_CAP_DEFERRED_FLUSH;
}

static const struct iommu_domain_ops amd_domain_ops = {
	.attach_dev = amd_attach,
	.detach_dev = amd_detach,
	.map_pages = amd_map_pages,
	.unmap_pages = amd_unmap_pages,
	.flush_iotlb_all = amd_flush_all,
	.iotlb_sync = amd_iotlb_sync,
	.iova_to_phys = amd_iova_to_phys,
	.free = amd_domain_free,
};

const struct iommu_ops amd_iommu_ops = {
	.capable = amd_capable,
	.domain_alloc = amd_domain_alloc,
	.pgsize_bitmap = PGSIZES,
	.default_domain_ops = &amd_domain_ops,
};
