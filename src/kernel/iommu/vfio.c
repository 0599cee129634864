/* VFIO-style assignment of an IOMMU group to a VM (see vfio.h). */
#include "kernel/iommu/vfio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "dmasim/linux/iommu.h"
#include "dmasim/linux/pci.h"
#include "kernel/iommu/group.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"
#include "kernel/pci.h"

static int vfio_pci_probe(struct pci_dev *p, const struct pci_device_id *id)
{
	(void)p;
	(void)id;
	return 0; /* the user (the VM) drives the device */
}

const struct pci_driver vfio_pci_driver = {
	.name = "vfio-pci",
	.driver = { .name = "vfio-pci" },
	.probe = vfio_pci_probe,
};

static struct pci_dev *pdev_at(struct iommu_group *g, unsigned int i)
{
	return &g->devs[i]->pdev;
}

int vfio_bind_group(struct machine *m, struct iommu_group *g)
{
	(void)m;
	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct pci_dev *p = pdev_at(g, i);

		if (p->driver == &vfio_pci_driver || p->hdr_type != 0)
			continue; /* vfio-pci takes endpoints (type 0) only */
		pci_driver_unbind(p);
		if (pci_driver_bind(p, &vfio_pci_driver))
			return -EBUSY;
	}
	return 0;
}

void vfio_unbind_group(struct machine *m, struct iommu_group *g)
{
	(void)m;
	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct pci_dev *p = pdev_at(g, i);

		if (p->driver != &vfio_pci_driver)
			continue;
		pci_driver_unbind(p);
		pci_driver_bind(p, NULL); /* its host driver, if one matches */
	}
}

int vfio_group_viable(struct iommu_group *g, char *why, size_t n)
{
	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct pci_dev *p = pdev_at(g, i);

		if (p->driver && p->driver != &vfio_pci_driver) {
			snprintf(why, n, "%s is bound to %s", g->devs[i]->name,
				 p->driver->name);
			return -EBUSY;
		}
	}
	return 0;
}

static void free_memory(struct vfio_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_chunks; i++)
		if (vm->chunks[i])
			mm_free_pages(vm->m, vm->chunks[i], VFIO_CHUNK_ORDER);
	free(vm->chunks);
}

static int map_memory(struct vfio_vm *vm)
{
	vm->chunks = calloc(vm->nr_chunks, sizeof(*vm->chunks));
	if (!vm->chunks)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_chunks; i++) {
		struct page *pg = mm_alloc_pages(vm->m, GFP_KERNEL | __GFP_ZERO,
						 VFIO_CHUNK_ORDER);

		if (!pg)
			return -ENOMEM;
		vm->chunks[i] = pg;
		if (iommu_map(vm->domain, i * VFIO_CHUNK_BYTES,
			      (phys_addr_t)(pg - vm->m->mm.mem_map) << PAGE_SHIFT,
			      VFIO_CHUNK_BYTES, IOMMU_READ | IOMMU_WRITE))
			return -ENOMEM;
	}
	return 0;
}

/* Every device of the group from its default domain to the VM's. */
static int attach_group(struct vfio_vm *vm)
{
	struct iommu_group *g = vm->group;

	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct device *dev = &pdev_at(g, i)->dev;
		int ret;

		iommu_detach_device(g->domain, dev);
		ret = iommu_attach_device(vm->domain, dev);
		if (ret)
			return ret;
	}
	return 0;
}

static void detach_group(struct vfio_vm *vm)
{
	struct iommu_group *g = vm->group;

	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct device *dev = &pdev_at(g, i)->dev;

		iommu_detach_device(vm->domain, dev);
		if (!dev->iommu_domain && g->domain)
			iommu_attach_device(g->domain, dev);
	}
}

static int fail(char *err, size_t n, int ret, const char *msg)
{
	snprintf(err, n, "%s", msg);
	return ret;
}

int vfio_vm_create(struct machine *m, struct iommu_group *g,
		   uint64_t guest_bytes, struct vfio_vm **out, char *err,
		   size_t errlen)
{
	struct vfio_vm *vm;
	char why[96];
	int ret;

	*out = NULL;
	if (!m->iommu_dev || !g || !g->domain)
		return fail(err, errlen, -ENODEV,
			    "no IOMMU translates this machine's DMA (boot with intel_iommu=on, or --iommu-hw amd)");
	if (!guest_bytes || guest_bytes % VFIO_CHUNK_BYTES ||
	    guest_bytes > (1ULL << 40))
		return fail(err, errlen, -EINVAL,
			    "guest memory must be a multiple of 4 MiB");
	ret = vfio_group_viable(g, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "group %d is not viable: %s (bind every device of the group to vfio-pci)",
			 g->id, why);
		return ret;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->m = m;
	vm->group = g;
	vm->size = guest_bytes;
	vm->nr_chunks = (unsigned int)(guest_bytes / VFIO_CHUNK_BYTES);
	vm->domain = iommu_domain_alloc(&pci_bus_type);
	ret = vm->domain ? map_memory(vm) : -ENOMEM;
	if (!ret)
		ret = attach_group(vm);
	if (ret) {
		snprintf(err, errlen, "cannot set up the VM's domain: %s",
			 ret == -ENOMEM ? "out of memory" : "attach failed");
		vfio_vm_destroy(vm);
		return ret;
	}
	*out = vm;
	return 0;
}

uint64_t vfio_vm_gpa_to_hpa(const struct vfio_vm *vm, uint64_t gpa)
{
	const struct page *pg;

	if (gpa >= vm->size)
		return ~0ULL;
	pg = vm->chunks[gpa / VFIO_CHUNK_BYTES];
	return ((uint64_t)(pg - vm->m->mm.mem_map) << PAGE_SHIFT) +
	       gpa % VFIO_CHUNK_BYTES;
}

void *vfio_vm_mem(const struct vfio_vm *vm, uint64_t gpa)
{
	uint64_t hpa = vfio_vm_gpa_to_hpa(vm, gpa);

	return hpa == ~0ULL ? NULL : vm->m->ram.cpu + hpa;
}

void vfio_vm_destroy(struct vfio_vm *vm)
{
	if (!vm)
		return;
	if (vm->domain) {
		detach_group(vm);
		for (unsigned int i = 0; i < vm->nr_chunks; i++)
			if (vm->chunks && vm->chunks[i])
				iommu_unmap(vm->domain, i * VFIO_CHUNK_BYTES,
					    VFIO_CHUNK_BYTES);
		iommu_domain_free(vm->domain);
	}
	free_memory(vm);
	free(vm);
}
