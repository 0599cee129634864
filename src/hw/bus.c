/* The bus-master path (see bus.h). */
#include "hw/bus.h"

#include <string.h>

#include "hw/iommu.h"
#include "kernel/machine.h"

#define BUS_CHUNK_MAX (1ULL << 30)

const char *pci_status_name(enum pci_status st)
{
	switch (st) {
	case PCI_STATUS_OK:
		return "ok";
	case PCI_STATUS_MASTER_ABORT:
		return "master abort (bus mastering disabled)";
	case PCI_STATUS_UR:
		return "unsupported request";
	}
	return "?";
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* The RAM range holding @addr and how many bytes of it follow. */
static size_t ram_run(const struct ram *ram, uint64_t addr, size_t len)
{
	for (unsigned int i = 0; i < ram->nr_ranges; i++) {
		const struct ram_range *r = &ram->ranges[i];

		if (addr >= r->start && addr < r->end) {
			uint64_t left = r->end - addr;

			return left < len ? (size_t)left : len;
		}
	}
	return 0;
}

/* Bus Master Enable: without it the device's accesses are dropped. */
static bool may_master(struct pci_func *fn)
{
	uint16_t cmd = atomic_load_explicit(&fn->command, memory_order_acquire);

	if (cmd & PCI_COMMAND_MASTER)
		return true;
	count(&fn->cnt.master_aborts, 1);
	return false;
}

/* The last step of every access: physical @addr must be RAM. */
static enum pci_status reach_ram(struct pci_func *fn, uint64_t addr,
				 size_t len, bool write, uint8_t **host,
				 size_t *chunk)
{
	struct machine *m = fn->m;
	size_t run = ram_run(&m->ram, addr, len);

	if (!run) {
		count(&fn->cnt.unsupported, 1);
		return PCI_STATUS_UR;
	}
	*host = m->ram.mem + addr;
	*chunk = run;
	count(write ? &fn->cnt.writes : &fn->cnt.reads, 1);
	count(write ? &fn->cnt.bytes_written : &fn->cnt.bytes_read, run);
	return PCI_STATUS_OK;
}

enum pci_status bus_map(struct pci_func *fn, uint64_t addr, size_t len,
			bool write, uint8_t **host, size_t *chunk)
{
	if (!may_master(fn))
		return PCI_STATUS_MASTER_ABORT;
	if (len > BUS_CHUNK_MAX)
		len = BUS_CHUNK_MAX;
	if (fn->iommu) {
		uint64_t phys;
		enum pci_status st = fn->iommu->ops->translate(
			fn->iommu, pci_requester_id(fn), addr, len, write, &phys,
			&len);

		if (st) {
			count(&fn->cnt.unsupported, 1);
			return st;
		}
		addr = phys;
	}
	return reach_ram(fn, addr, len, write, host, chunk);
}

/* bus_map for a request marked translated (PCIe ATS): the unit (if any)
 * decides whether it passes; the address is not translated. */
static enum pci_status bus_map_translated(struct pci_func *fn, uint64_t addr,
					  size_t len, bool write,
					  uint8_t **host, size_t *chunk)
{
	struct iommu_unit *u = fn->iommu;

	if (!may_master(fn))
		return PCI_STATUS_MASTER_ABORT;
	if (len > BUS_CHUNK_MAX)
		len = BUS_CHUNK_MAX;
	if (u && u->ops->translated &&
	    u->ops->translated(u, pci_requester_id(fn), addr, write)) {
		count(&fn->cnt.unsupported, 1);
		return PCI_STATUS_UR;
	}
	return reach_ram(fn, addr, len, write, host, chunk);
}

/* A read or write, chunk by chunk as the unit translates it. */
static inline enum pci_status transfer(struct pci_func *fn, uint64_t addr,
				       uint8_t *buf, size_t len, bool write,
				       bool translated, size_t *done)
{
	size_t off = 0, n;
	enum pci_status st = PCI_STATUS_OK;
	uint8_t *h;

	while (off < len) {
		st = translated ? bus_map_translated(fn, addr + off, len - off,
						     write, &h, &n)
				: bus_map(fn, addr + off, len - off, write, &h, &n);
		if (st)
			break;
		if (write)
			memcpy(h, buf + off, n);
		else
			memcpy(buf + off, h, n);
		off += n;
	}
	if (done)
		*done = off;
	return st;
}

enum pci_status bus_read(struct pci_func *fn, uint64_t addr, void *buf,
			 size_t len, size_t *done)
{
	return transfer(fn, addr, buf, len, false, false, done);
}

enum pci_status bus_write(struct pci_func *fn, uint64_t addr,
			  const void *buf, size_t len, size_t *done)
{
	return transfer(fn, addr, (uint8_t *)(uintptr_t)buf, len, true, false,
			done);
}

enum pci_status bus_copy(struct pci_func *fn, uint64_t dst, uint64_t src,
			 size_t len, size_t *done)
{
	size_t off = 0, ns, nd;
	enum pci_status st = PCI_STATUS_OK;
	uint8_t *hs, *hd;

	while (off < len) {
		st = bus_map(fn, src + off, len - off, false, &hs, &ns);
		if (st)
			break;
		st = bus_map(fn, dst + off, ns, true, &hd, &nd);
		if (st)
			break;
		memmove(hd, hs, nd);
		off += nd;
	}
	if (done)
		*done = off;
	return st;
}

enum pci_status bus_fill(struct pci_func *fn, uint64_t dst, uint64_t pattern,
			 size_t len, size_t *done)
{
	size_t off = 0, n;
	enum pci_status st = PCI_STATUS_OK;
	uint8_t *h, pat[8];

	for (int i = 0; i < 8; i++)
		pat[i] = (uint8_t)(pattern >> (8 * i));
	while (off < len) {
		st = bus_map(fn, dst + off, len - off, true, &h, &n);
		if (st)
			break;
		/* byte j of the destination is pattern byte j mod 8 */
		for (size_t i = 0; i < n && (off + i) % 8; i++)
			h[i] = pat[(off + i) % 8];
		{
			size_t head = (8 - off % 8) % 8;

			if (head > n)
				head = n;
			for (size_t i = head; i + 8 <= n; i += 8)
				memcpy(h + i, pat, 8);
			for (size_t i = head + (n - head) / 8 * 8; i < n; i++)
				h[i] = pat[(off + i) % 8];
		}
		off += n;
	}
	if (done)
		*done = off;
	return st;
}

/* ---- PCIe ATS: translated requests and translation requests ---------- */

enum pci_status bus_read_translated(struct pci_func *fn, uint64_t addr,
				    void *buf, size_t len, size_t *done)
{
	return transfer(fn, addr, buf, len, false, true, done);
}

enum pci_status bus_write_translated(struct pci_func *fn, uint64_t addr,
				     const void *buf, size_t len, size_t *done)
{
	return transfer(fn, addr, (uint8_t *)(uintptr_t)buf, len, true, true,
			done);
}

enum pci_status bus_ats_translate(struct pci_func *fn, uint64_t iova,
				  bool write, uint64_t *phys, uint64_t *size)
{
	struct iommu_unit *u = fn->iommu;
	enum pci_status st;

	if (!may_master(fn))
		return PCI_STATUS_MASTER_ABORT;
	if (!u || !u->ops->ats_translate) {
		*phys = iova;
		*size = 4096;
		return PCI_STATUS_OK;
	}
	st = u->ops->ats_translate(u, pci_requester_id(fn), iova, write, phys,
				   size);
	if (st)
		count(&fn->cnt.unsupported, 1);
	return st;
}
