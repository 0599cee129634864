/* /proc/iomem's contents: the e820 map, the kernel image, fixed devices. */
#ifndef DMASIM_KERNEL_IOMEM_H
#define DMASIM_KERNEL_IOMEM_H

struct machine;

int iomem_init(struct machine *m);

#endif
