/*
 * Physical memory as one sparse memfd mapping (see ram.h). Untouched pages
 * cost nothing: a 1 TiB machine reserves address space, not memory.
 */
#define _GNU_SOURCE
#include "hw/ram.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void ram_add_range(struct ram *ram, uint64_t start, uint64_t end)
{
	ram->ranges[ram->nr_ranges].start = start;
	ram->ranges[ram->nr_ranges].end = end;
	ram->nr_ranges++;
}

static void ram_layout(struct ram *ram, uint64_t size)
{
	uint64_t low = size < RAM_LOW_LIMIT ? size : RAM_LOW_LIMIT;

	ram->nr_ranges = 0;
	ram_add_range(ram, 0, RAM_LEGACY_START);
	ram_add_range(ram, RAM_LEGACY_END, low);
	if (size > RAM_LOW_LIMIT)
		ram_add_range(ram, RAM_HIGH_BASE,
			      RAM_HIGH_BASE + (size - RAM_LOW_LIMIT));
	ram->span = ram->ranges[ram->nr_ranges - 1].end;
}

static int map_view(const char *name, uint64_t span, int *fd, uint8_t **view)
{
	void *p;
	int e;

	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, (off_t)span) < 0)
		goto fail;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 *fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	*view = p;
	return 0;
fail:
	e = -errno;
	close(*fd);
	*fd = -1;
	return e;
}

int ram_init(struct ram *ram, uint64_t size, bool coherent)
{
	int err;

	memset(ram, 0, sizeof(*ram));
	ram->fd = -1;
	ram->cpu_fd = -1;
	if (size < (1ULL << 20) || size % (1ULL << 20))
		return -EINVAL;
	ram->size = size;
	ram->coherent = coherent;
	ram->line = 64;
	ram_layout(ram, size);
	err = map_view("dmasim-ram", ram->span, &ram->fd, &ram->mem);
	if (err)
		return err;
	ram->cpu = ram->mem;
	if (coherent)
		return 0;
	err = map_view("dmasim-cpu-view", ram->span, &ram->cpu_fd, &ram->cpu);
	if (err) {
		munmap(ram->mem, ram->span);
		close(ram->fd);
		ram->fd = -1;
	}
	return err;
}

void ram_destroy(struct ram *ram)
{
	if (ram->cpu && ram->cpu != ram->mem)
		munmap(ram->cpu, ram->span);
	if (ram->mem)
		munmap(ram->mem, ram->span);
	if (ram->cpu_fd >= 0)
		close(ram->cpu_fd);
	if (ram->fd >= 0)
		close(ram->fd);
	memset(ram, 0, sizeof(*ram));
	ram->fd = -1;
	ram->cpu_fd = -1;
}

bool ram_contains(const struct ram *ram, uint64_t phys, uint64_t len)
{
	for (unsigned int i = 0; i < ram->nr_ranges; i++) {
		const struct ram_range *r = &ram->ranges[i];

		if (phys >= r->start && phys < r->end)
			return len <= r->end - phys;
	}
	return false;
}

int ram_read(const struct ram *ram, uint64_t phys, void *buf, size_t len)
{
	if (!ram_contains(ram, phys, len))
		return -EFAULT;
	memcpy(buf, ram->mem + phys, len);
	return 0;
}

int ram_write(struct ram *ram, uint64_t phys, const void *buf, size_t len)
{
	if (!ram_contains(ram, phys, len))
		return -EFAULT;
	memcpy(ram->mem + phys, buf, len);
	return 0;
}

static uint64_t fd_resident(int fd)
{
	off_t end, pos = 0;
	uint64_t bytes = 0;

	if (fd < 0)
		return 0;
	end = lseek(fd, 0, SEEK_END);
	while (pos < end) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		off_t hole;

		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		bytes += (uint64_t)(hole - data);
		pos = hole;
	}
	return bytes;
}

uint64_t ram_resident_bytes(const struct ram *ram)
{
	return fd_resident(ram->fd) + fd_resident(ram->cpu_fd);
}
