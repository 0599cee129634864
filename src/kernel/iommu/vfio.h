/*
 * VFIO-style device assignment: a whole IOMMU group handed to a "VM"
 * with its own memory, as Linux's vfio with the type1 IOMMU backend does
 * it. The group must be viable (every device bound to vfio-pci, none to
 * a host driver); its devices leave their default (kernel DMA API)
 * domain for one unmanaged domain that maps the VM's memory at guest-
 * physical addresses, so the device's DMA reaches that memory and
 * nothing of the host's; releasing the VM returns the group to its
 * default domain and its host drivers.
 */
#ifndef DMASIM_KERNEL_IOMMU_VFIO_H
#define DMASIM_KERNEL_IOMMU_VFIO_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct iommu_group;
struct iommu_domain;
struct pci_driver;
struct page;

#define VFIO_CHUNK_ORDER 10	/* guest memory in 4 MiB host chunks */
#define VFIO_CHUNK_BYTES (4096ULL << VFIO_CHUNK_ORDER)

extern const struct pci_driver vfio_pci_driver;

struct vfio_vm {
	struct machine *m;
	struct iommu_group *group;
	struct iommu_domain *domain;	 /* unmanaged: GPA -> host memory */
	struct page **chunks;
	unsigned int nr_chunks;
	uint64_t size;			 /* guest memory, bytes */
};

/*
 * Unbind the group's devices from their host drivers and bind them to
 * vfio-pci (what a user does through driver_override and bind). The
 * host drivers come back when the group is released (vfio_unbind_group).
 */
int vfio_bind_group(struct machine *m, struct iommu_group *g);
void vfio_unbind_group(struct machine *m, struct iommu_group *g);

/* 0 if every device of @g is bound to vfio-pci (or to nothing); else
 * -EBUSY with the reason in @why ("0000:01:00.0 is bound to ..."). */
int vfio_group_viable(struct iommu_group *g, char *why, size_t n);

/*
 * A VM of @guest_bytes (a multiple of 4 MiB) owning group @g: 0, -ENODEV
 * (no IOMMU translates this machine), -EBUSY (the group is not viable),
 * -EINVAL (size) or -ENOMEM; @err says which in words.
 */
int vfio_vm_create(struct machine *m, struct iommu_group *g,
		   uint64_t guest_bytes, struct vfio_vm **out, char *err,
		   size_t errlen);
/* The host physical address behind guest-physical @gpa (~0: none). */
uint64_t vfio_vm_gpa_to_hpa(const struct vfio_vm *vm, uint64_t gpa);
/* The guest memory at @gpa as the host CPU sees it (NULL: none). */
void *vfio_vm_mem(const struct vfio_vm *vm, uint64_t gpa);
/* Detach, unmap and free; the devices go back to their default domain
 * (still bound to vfio-pci: vfio_unbind_group gives them back). */
void vfio_vm_destroy(struct vfio_vm *vm);

#endif
