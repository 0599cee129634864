/*
 * e820 memory map. Output formats follow Linux's arch/x86 e820 code:
 * "BIOS-e820: [mem %#018Lx-%#018Lx] usable" (inclusive ends), and the
 * "e820: update"/"e820: remove" lines with %#010Lx addresses.
 */
#include "kernel/e820.h"

#include <string.h>

#include "hw/ram.h"
#include "kernel/machine.h"

static void e820_add(struct e820_table *t, uint64_t start, uint64_t end,
		     enum e820_type type)
{
	if (end <= start || t->nr >= E820_MAX_ENTRIES)
		return;
	t->map[t->nr].addr = start;
	t->map[t->nr].size = end - start;
	t->map[t->nr].type = type;
	t->nr++;
}

void e820_from_firmware(struct e820_table *t, const struct ram *ram)
{
	const uint64_t ebda = 0x9fc00, bios_rom = 0xf0000, flash = 0xfffc0000;

	t->nr = 0;
	/* The top 1 KiB of conventional memory is the BIOS's EBDA. */
	e820_add(t, 0, ebda, E820_TYPE_RAM);
	e820_add(t, ebda, RAM_LEGACY_START, E820_TYPE_RESERVED);
	e820_add(t, bios_rom, RAM_LEGACY_END, E820_TYPE_RESERVED);
	for (unsigned int i = 1; i < ram->nr_ranges; i++) {
		if (ram->ranges[i].start == RAM_HIGH_BASE)
			e820_add(t, flash, RAM_HIGH_BASE, E820_TYPE_RESERVED);
		e820_add(t, ram->ranges[i].start, ram->ranges[i].end,
			 E820_TYPE_RAM);
	}
	if (ram->nr_ranges < 3)
		e820_add(t, flash, RAM_HIGH_BASE, E820_TYPE_RESERVED);
}

static const char *e820_type_name(enum e820_type type)
{
	return type == E820_TYPE_RAM ? "usable" : "reserved";
}

void e820_print(struct machine *m, const struct e820_table *t,
		const char *who)
{
	for (unsigned int i = 0; i < t->nr; i++) {
		const struct e820_entry *e = &t->map[i];

		pr_info(m, "%s: [mem 0x%016llx-0x%016llx] %s\n", who,
			(unsigned long long)e->addr,
			(unsigned long long)(e->addr + e->size - 1),
			e820_type_name(e->type));
	}
}

/* Cut every entry of @type overlapping [start, end) out of the table;
 * with @new_type, re-add the overlapping parts with that type. */
static void e820_retype(struct e820_table *t, uint64_t start, uint64_t end,
			enum e820_type type, int new_type)
{
	struct e820_table out = { 0 };

	for (unsigned int i = 0; i < t->nr; i++) {
		const struct e820_entry *e = &t->map[i];
		uint64_t es = e->addr, ee = e->addr + e->size;
		uint64_t os = es > start ? es : start;
		uint64_t oe = ee < end ? ee : end;

		if (e->type != type || os >= oe) {
			e820_add(&out, es, ee, e->type);
			continue;
		}
		e820_add(&out, es, os, e->type);
		if (new_type)
			e820_add(&out, os, oe, (enum e820_type)new_type);
		e820_add(&out, oe, ee, e->type);
	}
	*t = out;
}

void e820_update(struct machine *m, struct e820_table *t, uint64_t start,
		 uint64_t size, enum e820_type old, enum e820_type new_type)
{
	pr_debug(m, "e820: update [mem 0x%08llx-0x%08llx] %s ==> %s\n",
		 (unsigned long long)start,
		 (unsigned long long)(start + size - 1), e820_type_name(old),
		 e820_type_name(new_type));
	e820_retype(t, start, start + size, old, (int)new_type);
}

void e820_remove(struct machine *m, struct e820_table *t, uint64_t start,
		 uint64_t size, enum e820_type type)
{
	pr_debug(m, "e820: remove [mem 0x%08llx-0x%08llx] %s\n",
		 (unsigned long long)start,
		 (unsigned long long)(start + size - 1), e820_type_name(type));
	e820_retype(t, start, start + size, type, 0);
}

uint64_t e820_ram_end(const struct e820_table *t, uint64_t limit)
{
	uint64_t end = 0;

	for (unsigned int i = 0; i < t->nr; i++) {
		const struct e820_entry *e = &t->map[i];
		uint64_t ee = e->addr + e->size;

		if (e->type != E820_TYPE_RAM || e->addr >= limit)
			continue;
		if (ee > limit)
			ee = limit;
		if (ee > end)
			end = ee;
	}
	return end;
}
