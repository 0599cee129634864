/* /sys/kernel/debug/dmasim/cache (see cache_debugfs.c). */
#ifndef DMASIM_KERNEL_CACHE_DEBUGFS_H
#define DMASIM_KERNEL_CACHE_DEBUGFS_H

struct machine;

int cache_debugfs_init(struct machine *m);

#endif
