/* The tour's steps shared between its files (cmd_demo.c, demo_dma.c). */
#ifndef DMASIM_CLI_DEMO_H
#define DMASIM_CLI_DEMO_H

#include <stdio.h>

#include "dmasim/dmasim.h"

void demo_heading(const char *title);
void demo_dma_api(struct dmasim_machine *m);

#endif
