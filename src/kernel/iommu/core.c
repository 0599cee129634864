/*
 * The IOMMU core's mapping API (drivers/iommu/iommu.c in Linux 6.1):
 * domains from the registered driver, attaching devices, iommu_map with
 * Linux's alignment rule and page-size selection, iommu_unmap that stops
 * at the first hole, IOTLB syncs, and fault reporting.
 */
#include "dmasim/linux/iommu.h"

#include <errno.h>
#include <stdlib.h>

#define PR_PREFIX "iommu: "
#include "kernel/machine.h"
#include "kernel/iommu/iommu.h"
#include "kernel/pci.h"

struct bus_type {
	const char *name;
};

struct bus_type pci_bus_type = { "pci" };

static struct machine *dom_machine(struct iommu_domain *d)
{
	return (struct machine *)d->machine;
}

int iommu_device_register(struct iommu_device *iommu,
			  const struct iommu_ops *ops, struct device *hwdev)
{
	struct machine *m = current_machine();

	(void)hwdev;
	if (!m || !ops || m->iommu_dev)
		return -EBUSY;
	iommu->ops = ops;
	iommu->machine = (struct dmasim_machine *)m;
	m->iommu_dev = iommu;
	return 0;
}

void iommu_device_unregister(struct iommu_device *iommu)
{
	struct machine *m = (struct machine *)iommu->machine;

	if (m && m->iommu_dev == iommu)
		m->iommu_dev = NULL;
}

static struct iommu_domain *domain_alloc(struct machine *m, unsigned int type)
{
	const struct iommu_ops *ops = m && m->iommu_dev ? m->iommu_dev->ops
						       : NULL;
	struct iommu_domain *d;

	if (!ops || !ops->domain_alloc)
		return NULL;
	d = ops->domain_alloc(type);
	if (!d)
		return NULL;
	d->type = type;
	d->machine = (struct dmasim_machine *)m;
	if (!d->ops)
		d->ops = ops->default_domain_ops;
	if (!d->pgsize_bitmap)
		d->pgsize_bitmap = ops->pgsize_bitmap;
	return d;
}

struct iommu_domain *iommu_domain_alloc_type(struct machine *m,
					     unsigned int type)
{
	return domain_alloc(m, type);
}

struct iommu_domain *iommu_domain_alloc(struct bus_type *bus)
{
	return bus == &pci_bus_type
		       ? domain_alloc(current_machine(), IOMMU_DOMAIN_UNMANAGED)
		       : NULL;
}

void iommu_domain_free(struct iommu_domain *domain)
{
	if (domain && domain->ops && domain->ops->free)
		domain->ops->free(domain);
}

int iommu_attach_device(struct iommu_domain *domain, struct device *dev)
{
	int ret;

	if (!domain || !dev || !domain->ops->attach_dev)
		return -ENODEV;
	ret = domain->ops->attach_dev(domain, dev);
	if (!ret)
		dev->iommu_domain = domain;
	return ret;
}

void iommu_detach_device(struct iommu_domain *domain, struct device *dev)
{
	if (!domain || !dev || dev->iommu_domain != domain)
		return;
	if (domain->ops->detach_dev)
		domain->ops->detach_dev(domain, dev);
	dev->iommu_domain = NULL;
}

struct iommu_domain *iommu_get_domain_for_dev(struct device *dev)
{
	return dev ? dev->iommu_domain : NULL;
}

static unsigned int fls_ul(unsigned long x)
{
	return x ? 63u - (unsigned)__builtin_clzl(x) : 0;
}

static unsigned long genmask(unsigned int hi)
{
	return hi >= 63 ? ~0UL : (2UL << hi) - 1;
}

/* iommu_pgsize: the largest page size that fits, and how many of them
 * before the next larger size becomes usable. */
static size_t pick_pgsize(struct iommu_domain *d, unsigned long iova,
			  phys_addr_t paddr, size_t size, size_t *count)
{
	unsigned long addr_merge = paddr | iova;
	unsigned long pgsizes = d->pgsize_bitmap & genmask(fls_ul(size));
	unsigned int idx;
	size_t pgsize;

	if (addr_merge)
		pgsizes &= genmask((unsigned)__builtin_ctzl(addr_merge));
	if (!pgsizes)
		return 0;
	idx = fls_ul(pgsizes);
	pgsize = 1UL << idx;
	pgsizes = d->pgsize_bitmap & ~genmask(idx);
	if (pgsizes) {
		size_t next = 1UL << __builtin_ctzl(pgsizes);
		size_t offset = next - (addr_merge & (next - 1));

		if (offset + next <= size)
			size = offset;
	}
	*count = size >> idx;
	return pgsize;
}

static size_t min_pagesz(struct iommu_domain *d)
{
	return d->pgsize_bitmap ? 1UL << __builtin_ctzl(d->pgsize_bitmap) : 0;
}

int iommu_map(struct iommu_domain *d, unsigned long iova, phys_addr_t paddr,
	      size_t size, int prot)
{
	unsigned long orig = iova;
	size_t min = min_pagesz(d), done = 0;
	int ret = 0;

	if (!d || !d->ops->map_pages || !(d->type & __IOMMU_DOMAIN_PAGING))
		return -EINVAL;
	if (!min || ((iova | paddr | size) & (min - 1))) {
		pr_err(dom_machine(d),
		       "unaligned: iova 0x%lx pa 0x%016llx size 0x%zx min_pagesz 0x%zx\n",
		       iova, (unsigned long long)paddr, size, min);
		return -EINVAL;
	}
	while (done < size) {
		size_t count = 0, mapped = 0;
		size_t pgsize = pick_pgsize(d, iova, paddr, size - done, &count);

		ret = d->ops->map_pages(d, iova, paddr, pgsize, count, prot,
					GFP_KERNEL, &mapped);
		if (!ret && !mapped)
			ret = -EINVAL; /* a driver that maps nothing */
		done += mapped;
		iova += mapped;
		paddr += mapped;
		if (ret)
			break;
	}
	if (ret && done)
		iommu_unmap(d, orig, done);
	return ret;
}

size_t iommu_unmap_fast(struct iommu_domain *d, unsigned long iova,
			size_t size, struct iommu_iotlb_gather *gather)
{
	size_t min = min_pagesz(d), done = 0;

	if (!d || !d->ops->unmap_pages || !(d->type & __IOMMU_DOMAIN_PAGING))
		return 0;
	if (!min || ((iova | size) & (min - 1))) {
		pr_err(dom_machine(d),
		       "unaligned: iova 0x%lx size 0x%zx min_pagesz 0x%zx\n",
		       iova, size, min);
		return 0;
	}
	while (done < size) {
		size_t count = 0, n;
		size_t pgsize = pick_pgsize(d, iova, iova, size - done, &count);

		n = d->ops->unmap_pages(d, iova, pgsize, count, gather);
		if (!n)
			break; /* a hole */
		done += n;
		iova += n;
	}
	return done;
}

size_t iommu_unmap(struct iommu_domain *d, unsigned long iova, size_t size)
{
	struct iommu_iotlb_gather gather;
	size_t done;

	iommu_iotlb_gather_init(&gather);
	done = iommu_unmap_fast(d, iova, size, &gather);
	iommu_iotlb_sync(d, &gather);
	return done;
}

void iommu_iotlb_sync(struct iommu_domain *d, struct iommu_iotlb_gather *g)
{
	if (d && d->ops->iotlb_sync)
		d->ops->iotlb_sync(d, g);
	iommu_iotlb_gather_init(g);
}

void iommu_flush_iotlb_all(struct iommu_domain *d)
{
	if (d && d->ops->flush_iotlb_all)
		d->ops->flush_iotlb_all(d);
}

phys_addr_t iommu_iova_to_phys(struct iommu_domain *d, dma_addr_t iova)
{
	if (!d)
		return 0;
	if (d->type == IOMMU_DOMAIN_IDENTITY)
		return iova;
	return d->ops->iova_to_phys ? d->ops->iova_to_phys(d, iova) : 0;
}

void iommu_set_fault_handler(struct iommu_domain *d,
			     iommu_fault_handler_t handler, void *token)
{
	d->handler = handler;
	d->handler_token = token;
}

int report_iommu_fault(struct iommu_domain *d, struct device *dev,
		       unsigned long iova, int flags)
{
	if (!d || !d->handler)
		return -ENOSYS;
	return d->handler(d, dev, iova, flags, d->handler_token);
}
