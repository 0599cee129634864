/*
 * Physical memory: one sparse memfd reservation addressed by physical
 * address, laid out like a PC. Installed RAM sits at [0, 640 KiB),
 * [1 MiB, low end) and, when there is more than 3 GiB, from 4 GiB up: the
 * legacy VGA/ROM area and the PCI hole from 3 GiB to 4 GiB hold no RAM.
 *
 * Two views: the RAM view is what devices see; the CPU view is what the
 * CPU sees. On a coherent platform they are the same mapping; on a
 * non-coherent one the CPU view is a separate copy standing for the caches.
 */
#ifndef DMASIM_HW_RAM_H
#define DMASIM_HW_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_LEGACY_START 0xa0000ULL
#define RAM_LEGACY_END	 0x100000ULL
#define RAM_LOW_LIMIT	 0xc0000000ULL	/* 3 GiB: the PCI hole starts */
#define RAM_HIGH_BASE	 0x100000000ULL /* 4 GiB: RAM resumes */
#define RAM_MAX_RANGES	 4

struct ram_range {
	uint64_t start; /* first byte */
	uint64_t end;	/* one past the last byte */
};

struct ram {
	int fd;		 /* memfd behind the RAM view */
	int cpu_fd;	 /* memfd behind a separate CPU view, or -1 */
	uint8_t *mem;	 /* RAM view: phys 0 at mem[0] */
	uint8_t *cpu;	 /* CPU view: == mem when coherent */
	uint64_t span;	 /* bytes reserved: the highest RAM address + 1 */
	uint64_t size;	 /* installed bytes */
	bool coherent;
	uint64_t line;		/* cache line size (non-coherent) */
	uint64_t bytes_cleaned, bytes_invalidated; /* counters (atomic) */
	struct ram_range ranges[RAM_MAX_RANGES];
	unsigned int nr_ranges;
};

/* Returns 0, -EINVAL (bad size) or -ENOMEM / -errno from the host. */
int ram_init(struct ram *ram, uint64_t size, bool coherent);
void ram_destroy(struct ram *ram);

/* True if [phys, phys + len) is entirely installed RAM. */
bool ram_contains(const struct ram *ram, uint64_t phys, uint64_t len);

/* Bus-master accesses on the RAM view: -EFAULT for a hole (bus error). */
int ram_read(const struct ram *ram, uint64_t phys, void *buf, size_t len);
int ram_write(struct ram *ram, uint64_t phys, const void *buf, size_t len);

/* Bytes of the reservation the host has actually backed (resident). */
uint64_t ram_resident_bytes(const struct ram *ram);

#endif
