/*
 * intel-iommu domains: second-level page tables in RAM in the VT-d
 * format (4 levels for 48-bit, 512 entries of 8 bytes, read and write
 * bits, 2 MiB and 1 GiB superpages unless sp_off), context entries for
 * every requester ID a device uses (its own and a PCIe-to-PCI bridge's
 * alias), page-selective IOTLB invalidation for the range an unmap
 * gathered (domain-selective when it is large), and pass-through context
 * entries for identity domains. ATS (6.1's ats_supported and
 * iommu_enable_pci_caps): a device the unit (ECAP.DT), the device
 * (pci_ats_supported: capability, trusted) and the firmware (ATSR) allow
 * gets TT = 01b in translated domains and ATS enabled on attach; its
 * device TLB is invalidated after the IOTLB.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/hw/vtd.h"
#include "dmasim/linux/pci-ats.h"
#include "dmasim/linux/pci.h"
#include "hw/pci.h"
#include "kernel/iommu/intel.h"
#include "kernel/iommu/iommu.h"
#include "kernel/pci.h"
#include "kernel/machine.h"

#define LEVELS 4
#define MAX_ATS_DEVS 8	/* devices with ATS in one domain (tracked) */

struct dmar_domain {
	struct iommu_domain domain;
	struct intel_iommu *iu;
	uint16_t did;
	uint64_t pgd;		/* top-level table (phys) */
	pthread_mutex_t lock;	/* the tables; ats_sid */
	uint16_t ats_sid[MAX_ATS_DEVS];	/* attached with ATS enabled */
	unsigned int nr_ats;
};

static struct dmar_domain *dd(struct iommu_domain *d)
{
	return (struct dmar_domain *)d;
}

static uint64_t *table(struct dmar_domain *d, uint64_t phys)
{
	return (uint64_t *)(d->iu->m->ram.cpu + phys);
}

/* The unit walks the tables from device threads with 64-bit atomic
 * loads: entries are stored the same way (single-copy atomic). */
static void set_entry(uint64_t *e, uint64_t v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static struct iommu_domain *intel_domain_alloc(unsigned int type)
{
	struct machine *m = current_machine();
	struct intel_iommu *iu = intel_iommu_of(m);
	struct dmar_domain *d;

	if (!iu)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->iu = iu;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_lock(&iu->lock);
	d->did = (uint16_t)iu->did_next++;
	iu->domains_live++;
	pthread_mutex_unlock(&iu->lock);
	if (type != IOMMU_DOMAIN_IDENTITY && type != IOMMU_DOMAIN_BLOCKED) {
		d->pgd = iommu_table_alloc(m, 0);
		if (!d->pgd) {
			free(d);
			return NULL;
		}
	}
	d->domain.pgsize_bitmap = iu->sp_off ? VTD_PAGE_SIZE
					     : VTD_PAGE_SIZE | (1ULL << 21) |
						       (1ULL << 30);
	d->domain.geometry.aperture_start = 0;
	d->domain.geometry.aperture_end = (1ULL << VTD_HAW) - 1;
	d->domain.geometry.force_aperture = true;
	return &d->domain;
}

/* Free the tables below @phys at @level (level 1 holds only leaves). */
static void free_tables(struct dmar_domain *d, uint64_t phys, int level)
{
	struct machine *m = d->iu->m;
	uint64_t *t = table(d, phys);

	for (int i = 0; level > 1 && i < VTD_PTES_PER_TABLE; i++)
		if ((t[i] & (VTD_PTE_R | VTD_PTE_W)) && !(t[i] & VTD_PTE_PS))
			free_tables(d, t[i] & VTD_PTE_ADDR_MASK, level - 1);
	iommu_table_free(m, phys, 0);
}

static void intel_domain_free(struct iommu_domain *dom)
{
	struct dmar_domain *d = dd(dom);

	if (d->pgd)
		free_tables(d, d->pgd, LEVELS);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_lock(&d->iu->lock);
	d->iu->domains_live--;
	pthread_mutex_unlock(&d->iu->lock);
	free(d);
}

/* info->ats_supported: the unit, the device and the firmware agree. */
static bool ats_supported(struct intel_iommu *iu, struct device *dev)
{
	struct pci_dev *pdev;

	if (!dev_is_pci(dev) || !(iu->ecap & VTD_ECAP_DT))
		return false;
	pdev = to_pci_dev(dev);
	return pci_ats_supported(pdev) &&
	       intel_dmar_ats_supported(iu->m, pdev);
}

static void ats_track(struct dmar_domain *d, uint16_t sid, bool add)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_ats; i++)
		if (d->ats_sid[i] == sid)
			d->ats_sid[i] = d->ats_sid[--d->nr_ats];
	if (add && d->nr_ats < MAX_ATS_DEVS)
		d->ats_sid[d->nr_ats++] = sid;
	pthread_mutex_unlock(&d->lock);
}

/* iommu_enable_pci_caps: ATS on, with 4 KiB translations. */
static void enable_ats(struct dmar_domain *d, struct device *dev,
		       uint16_t sid)
{
	struct pci_dev *pdev = to_pci_dev(dev);

	if (pci_ats_page_aligned(pdev) && !pci_enable_ats(pdev, VTD_PAGE_SHIFT))
		ats_track(d, sid, true);
}

static void disable_ats(struct dmar_domain *d, struct device *dev,
			uint16_t sid)
{
	if (!dev_is_pci(dev) || !to_pci_dev(dev)->ats_enabled)
		return;
	pci_disable_ats(to_pci_dev(dev));
	ats_track(d, sid, false);
}

static void intel_detach(struct iommu_domain *dom, struct device *dev)
{
	uint16_t s[2];
	int n = iommu_dev_rids(dev, s);

	disable_ats(dd(dom), dev, s[0]);
	for (int i = 0; i < n; i++)
		intel_context_clear(dd(dom)->iu, s[i]);
}

static int intel_attach(struct iommu_domain *dom, struct device *dev)
{
	struct dmar_domain *d = dd(dom);
	uint16_t s[2];
	int n = iommu_dev_rids(dev, s), ret = 0;
	bool ats = ats_supported(d->iu, dev);
	unsigned int tt = ats ? VTD_TT_DEV_IOTLB : VTD_TT_MULTI_LEVEL;

	if (dom->type == IOMMU_DOMAIN_BLOCKED) {
		intel_detach(dom, dev);
		return 0;
	}
	if (dom->type == IOMMU_DOMAIN_IDENTITY)
		tt = VTD_TT_PASS_THROUGH;
	/* a conventional device's alias never has ATS: only its own id */
	for (int i = 0; i < n && !ret; i++)
		ret = intel_context_set(d->iu, s[i], d->did, d->pgd,
					i ? (tt == VTD_TT_PASS_THROUGH
						     ? tt : VTD_TT_MULTI_LEVEL)
					  : tt);
	if (!ret && ats)
		enable_ats(d, dev, s[0]);
	return ret;
}

static int leaf_level(size_t pgsize)
{
	return pgsize >= (1UL << 30) ? 3 : pgsize >= (1UL << 21) ? 2 : 1;
}

static uint64_t get_entry(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

/* Install a new table below @e unless another thread got there first. */
static bool install_table(struct dmar_domain *d, uint64_t *e)
{
	struct machine *m = d->iu->m;
	uint64_t next = iommu_table_alloc(m, 0), expected = 0;

	if (!next)
		return false;
	if (!__atomic_compare_exchange_n(e, &expected,
					 next | VTD_PTE_R | VTD_PTE_W, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		iommu_table_free(m, next, 0);
	return true;
}

/*
 * The entry for @iova at @level, creating tables above it. Lock-free:
 * tables are only ever added (with a compare-and-swap, so two threads
 * mapping neighbours agree on one), and the IOVA allocator never hands
 * the same range to two mappings, so leaves do not race.
 */
static uint64_t *pte_at(struct dmar_domain *d, unsigned long iova, int level,
			bool create)
{
	uint64_t phys = d->pgd;

	for (int l = LEVELS; l > level; l--) {
		uint64_t *t = table(d, phys), *e = &t[VTD_PTE_INDEX(iova, l)];
		uint64_t v = get_entry(e);

		if (!(v & (VTD_PTE_R | VTD_PTE_W))) {
			if (!create || !install_table(d, e))
				return NULL;
			v = get_entry(e);
		} else if (v & VTD_PTE_PS) {
			return NULL; /* inside a superpage */
		}
		phys = v & VTD_PTE_ADDR_MASK;
	}
	return &table(d, phys)[VTD_PTE_INDEX(iova, level)];
}

static int intel_map_pages(struct iommu_domain *dom, unsigned long iova,
			   phys_addr_t pa, size_t pgsize, size_t count,
			   int prot, gfp_t gfp, size_t *mapped)
{
	struct dmar_domain *d = dd(dom);
	int level = leaf_level(pgsize), ret = 0;
	uint64_t bits = (prot & IOMMU_READ ? VTD_PTE_R : 0) |
			(prot & IOMMU_WRITE ? VTD_PTE_W : 0) |
			(level > 1 ? VTD_PTE_PS : 0);

	(void)gfp;
	*mapped = 0;
	if (!bits)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		uint64_t *e = pte_at(d, iova + i * pgsize, level, true);

		if (!e) {
			ret = -ENOMEM;
			break;
		}
		if (get_entry(e) & (VTD_PTE_R | VTD_PTE_W)) {
			ret = -EEXIST;
			break;
		}
		set_entry(e, ((pa + i * pgsize) & VTD_PTE_ADDR_MASK) | bits);
		*mapped += pgsize;
	}
	return ret;
}

static size_t intel_unmap_pages(struct iommu_domain *dom, unsigned long iova,
				size_t pgsize, size_t count,
				struct iommu_iotlb_gather *g)
{
	struct dmar_domain *d = dd(dom);
	int level = leaf_level(pgsize);
	size_t done = 0;

	for (size_t i = 0; i < count; i++) {
		uint64_t *e = pte_at(d, iova + done, level, false);

		if (!e || !(get_entry(e) & (VTD_PTE_R | VTD_PTE_W)))
			break;
		set_entry(e, 0);
		done += pgsize;
	}
	if (done) {
		if (iova < g->start)
			g->start = iova;
		if (iova + done - 1 > g->end)
			g->end = iova + done - 1;
	}
	return done;
}

/* After the IOTLB, the device TLBs of the domain's ATS devices
 * (iommu_flush_dev_iotlb): 2^@am pages at @addr; @am 52 is all. */
static void flush_dev_iotlbs(struct dmar_domain *d, uint64_t addr,
			     unsigned int am)
{
	uint16_t sid[MAX_ATS_DEVS];
	unsigned int n;

	pthread_mutex_lock(&d->lock);
	n = d->nr_ats;
	memcpy(sid, d->ats_sid, n * sizeof(sid[0]));
	pthread_mutex_unlock(&d->lock);
	for (unsigned int i = 0; i < n; i++)
		qi_flush_dev_iotlb(d->iu, sid[i], addr, am);
}

static void intel_flush_all(struct iommu_domain *dom)
{
	qi_flush_iotlb(dd(dom)->iu, dd(dom)->did, 0, 0, 2);
	flush_dev_iotlbs(dd(dom), 0, 52);
}

/* Page-selective for the gathered range (2^AM pages, aligned), domain-
 * selective when that would exceed the unit's MAMV. */
static void intel_iotlb_sync(struct iommu_domain *dom,
			     struct iommu_iotlb_gather *g)
{
	struct dmar_domain *d = dd(dom);
	unsigned long start = g->start & ~(VTD_PAGE_SIZE - 1);
	unsigned long pages, am = 0;

	if (g->start > g->end)
		return;
	pages = ((g->end - start) >> VTD_PAGE_SHIFT) + 1;
	while ((1UL << am) < pages ||
	       (start & (((1UL << am) << VTD_PAGE_SHIFT) - 1)))
		am++;
	if (am > VTD_CAP_MAMV(d->iu->cap)) {
		qi_flush_iotlb(d->iu, d->did, 0, 0, 2);
		flush_dev_iotlbs(d, 0, 52);
		return;
	}
	start &= ~(((1UL << am) << VTD_PAGE_SHIFT) - 1);
	qi_flush_iotlb(d->iu, d->did, start, (unsigned int)am, 3);
	flush_dev_iotlbs(d, start, (unsigned int)am);
}

static phys_addr_t intel_iova_to_phys(struct iommu_domain *dom,
				      dma_addr_t iova)
{
	struct dmar_domain *d = dd(dom);
	phys_addr_t pa = 0;

	if (!d->pgd)
		return 0;
	for (int level = 1; level <= 3 && !pa; level++) {
		uint64_t *e = pte_at(d, iova, level, false);
		uint64_t v = e ? get_entry(e) : 0;

		if ((v & (VTD_PTE_R | VTD_PTE_W)) &&
		    (level == 1 || (v & VTD_PTE_PS)))
			pa = (v & VTD_PTE_ADDR_MASK) +
			     (iova & ((1ULL << VTD_LEVEL_SHIFT(level)) - 1));
	}
	return pa;
}

static bool intel_capable(struct device *dev, enum iommu_cap cap)
{
	(void)dev;
	return cap == IOMMU_CAP_CACHE_COHERENCY || cap == IOMMU_CAP_DEFERRED_FLUSH;
}

static const struct iommu_domain_ops intel_domain_ops = {
	.attach_dev = intel_attach,
	.detach_dev = intel_detach,
	.map_pages = intel_map_pages,
	.unmap_pages = intel_unmap_pages,
	.flush_iotlb_all = intel_flush_all,
	.iotlb_sync = intel_iotlb_sync,
	.iova_to_phys = intel_iova_to_phys,
	.free = intel_domain_free,
};

const struct iommu_ops intel_iommu_ops = {
	.capable = intel_capable,
	.domain_alloc = intel_domain_alloc,
	.pgsize_bitmap = VTD_PAGE_SIZE | (1ULL << 21) | (1ULL << 30),
	.default_domain_ops = &intel_domain_ops,
};
