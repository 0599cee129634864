/*
 * The firmware memory map (e820) as the BIOS reports it and as the kernel
 * edits it: the first page made reserved, the legacy area removed, mem=.
 */
#ifndef DMASIM_KERNEL_E820_H
#define DMASIM_KERNEL_E820_H

#include <stdint.h>

struct machine;
struct ram;

enum e820_type {
	E820_TYPE_RAM = 1,
	E820_TYPE_RESERVED = 2,
};

#define E820_MAX_ENTRIES 32

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	enum e820_type type;
};

struct e820_table {
	unsigned int nr;
	struct e820_entry map[E820_MAX_ENTRIES];
};

/* The map a PC BIOS reports for this RAM layout. */
void e820_from_firmware(struct e820_table *t, const struct ram *ram);
/* "who: [mem 0x...-0x...] usable" for each entry. */
void e820_print(struct machine *m, const struct e820_table *t,
		const char *who);
/* Change the type of [start, start+size) from @old to @new (split as
 * needed), printing Linux's "e820: update" line. */
void e820_update(struct machine *m, struct e820_table *t, uint64_t start,
		 uint64_t size, enum e820_type old, enum e820_type new_type);
/* Drop the @type parts of [start, start+size), printing "e820: remove". */
void e820_remove(struct machine *m, struct e820_table *t, uint64_t start,
		 uint64_t size, enum e820_type type);
/* One past the last RAM byte, optionally only below @limit. */
uint64_t e820_ram_end(const struct e820_table *t, uint64_t limit);

#endif
