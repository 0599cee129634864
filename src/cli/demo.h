/* The tour's steps shared between its files (cmd_demo.c, demo_dma.c). */
#ifndef DMASIM_CLI_DEMO_H
#define DMASIM_CLI_DEMO_H

#include <stdio.h>

#include "dmasim/dmasim.h"

void demo_heading(const char *title);
void demo_dma_api(struct dmasim_machine *m);
/* Boots its own machine like @base, with intel_iommu=on. */
void demo_iommu(const struct dmasim_config *base);
/* The seed's story: the same attack without and with the IOMMU. */
void demo_attack(const struct dmasim_config *base);

#endif
