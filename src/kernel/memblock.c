/* memblock (see memblock.h): sorted, merged region lists. */
#include "kernel/memblock.h"

#include <string.h>

void memblock_add(struct memblock_type *t, uint64_t base, uint64_t size)
{
	uint64_t end = base + size;
	unsigned int i, j;

	if (!size || t->cnt >= MEMBLOCK_MAX)
		return;
	for (i = 0; i < t->cnt && t->regions[i].base < base; i++)
		;
	memmove(&t->regions[i + 1], &t->regions[i],
		(t->cnt - i) * sizeof(t->regions[0]));
	t->regions[i].base = base;
	t->regions[i].size = size;
	t->cnt++;
	/* Merge overlapping or touching neighbours. */
	for (i = 0; i + 1 < t->cnt;) {
		struct memblock_region *a = &t->regions[i], *b = a + 1;

		end = a->base + a->size;
		if (b->base > end) {
			i++;
			continue;
		}
		if (b->base + b->size > end)
			a->size = b->base + b->size - a->base;
		for (j = i + 1; j + 1 < t->cnt; j++)
			t->regions[j] = t->regions[j + 1];
		t->cnt--;
	}
}

uint64_t memblock_overlap(const struct memblock_type *t, uint64_t start,
			  uint64_t end)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < t->cnt; i++) {
		uint64_t s = t->regions[i].base;
		uint64_t e = s + t->regions[i].size;

		if (s < start)
			s = start;
		if (e > end)
			e = end;
		if (s < e)
			total += e - s;
	}
	return total;
}

void memblock_for_each_free(const struct mm *mm, uint64_t start,
			    uint64_t end,
			    void (*fn)(void *ctx, uint64_t s, uint64_t e),
			    void *ctx)
{
	for (unsigned int i = 0; i < mm->memory.cnt; i++) {
		uint64_t s = mm->memory.regions[i].base;
		uint64_t e = s + mm->memory.regions[i].size;

		if (s < start)
			s = start;
		if (e > end)
			e = end;
		for (unsigned int r = 0; s < e && r <= mm->reserved.cnt; r++) {
			uint64_t rs = r < mm->reserved.cnt
					      ? mm->reserved.regions[r].base
					      : UINT64_MAX;
			uint64_t re = r < mm->reserved.cnt
					      ? rs + mm->reserved.regions[r].size
					      : UINT64_MAX;

			if (re <= s)
				continue;
			if (rs > s)
				fn(ctx, s, rs < e ? rs : e);
			s = re;
		}
	}
}

struct top_fit {
	uint64_t size, align, best;
};

static void top_fit_cb(void *ctx, uint64_t s, uint64_t e)
{
	struct top_fit *f = ctx;
	uint64_t base;

	if (e - s < f->size)
		return;
	base = (e - f->size) & ~(f->align - 1);
	if (base >= s && base > f->best)
		f->best = base;
}

uint64_t memblock_alloc_top_down(struct mm *mm, uint64_t size, uint64_t align,
				 uint64_t limit)
{
	struct top_fit f = { size, align, 0 };

	memblock_for_each_free(mm, SZ_1M_MEMBLOCK, limit, top_fit_cb, &f);
	if (f.best)
		memblock_add(&mm->reserved, f.best, size);
	return f.best;
}
