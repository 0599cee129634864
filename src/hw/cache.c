/* Cache maintenance by line between the CPU view and RAM (see cache.h). */
#include "hw/cache.h"

#include <string.h>

static void line_span(const struct ram *ram, uint64_t phys, uint64_t len,
		      uint64_t *start, uint64_t *end)
{
	uint64_t line = ram->line ? ram->line : CACHE_LINE_DEFAULT;

	*start = phys & ~(line - 1);
	*end = (phys + len + line - 1) & ~(line - 1);
	if (*end > ram->span)
		*end = ram->span;
}

void cache_clean(struct ram *ram, uint64_t phys, uint64_t len)
{
	uint64_t s, e;

	if (ram->coherent || !len)
		return;
	line_span(ram, phys, len, &s, &e);
	if (s < e && ram_contains(ram, s, e - s))
		memcpy(ram->mem + s, ram->cpu + s, e - s);
	__atomic_fetch_add(&ram->bytes_cleaned, e - s, __ATOMIC_RELAXED);
}

void cache_invalidate(struct ram *ram, uint64_t phys, uint64_t len)
{
	uint64_t s, e;

	if (ram->coherent || !len)
		return;
	line_span(ram, phys, len, &s, &e);
	if (s < e && ram_contains(ram, s, e - s))
		memcpy(ram->cpu + s, ram->mem + s, e - s);
	__atomic_fetch_add(&ram->bytes_invalidated, e - s, __ATOMIC_RELAXED);
}
