/* The VFIO assignment story told by `dmasim vfio` and the tour. */
#ifndef DMASIM_CLI_VFIO_STORY_H
#define DMASIM_CLI_VFIO_STORY_H

#include <stdint.h>
#include <stdio.h>

#include "dmasim/dmasim.h"

struct kpci;

/* Assign @k's group to a VM with @guest bytes of memory, show its DMA
 * confined to the VM, give the group back. 0, or 1 after saying why. */
int vfio_story(struct dmasim_machine *dm, struct kpci *k, uint64_t guest,
	       FILE *out);

#endif
