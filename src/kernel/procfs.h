/* The /proc files of a machine (see procfs.c for the formats). */
#ifndef DMASIM_KERNEL_PROCFS_H
#define DMASIM_KERNEL_PROCFS_H

struct machine;

#define LINUX_BANNER                                                          \
	"Linux version 6.1.0-dmasim (dmasim@localhost) (dmasim " DMASIM_VERSION \
	", user-space model of the DMA path) #1 SMP PREEMPT_DYNAMIC"

int procfs_init(struct machine *m);

#endif
