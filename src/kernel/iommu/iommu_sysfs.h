/* /sys/kernel/iommu_groups and /sys/class/iommu (see iommu_sysfs.c). */
#ifndef DMASIM_KERNEL_IOMMU_SYSFS_H
#define DMASIM_KERNEL_IOMMU_SYSFS_H

struct machine;

int iommu_sysfs_init(struct machine *m);

#endif
