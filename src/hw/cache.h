/*
 * The CPU caches of a non-coherent platform, as the CPU view of RAM (see
 * ram.h): a clean writes the CPU's lines back to RAM, an invalidate
 * drops them so the CPU reads RAM again. Both work on whole cache lines,
 * so a partial line at the edge of a buffer is cleaned or dropped whole,
 * as on real hardware. On a coherent platform both do nothing.
 */
#ifndef DMASIM_HW_CACHE_H
#define DMASIM_HW_CACHE_H

#include <stdint.h>

#include "hw/ram.h"

#define CACHE_LINE_DEFAULT 64

void cache_clean(struct ram *ram, uint64_t phys, uint64_t len);
void cache_invalidate(struct ram *ram, uint64_t phys, uint64_t len);

#endif
