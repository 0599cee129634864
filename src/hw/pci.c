/*
 * The PCI fabric's runtime side: configuration space accesses with the
 * bits the model reacts to (command register, MSI enable), lookups,
 * requester IDs with the PCIe-to-PCI bridge alias, and MSI signalling.
 */
#include "hw/pci.h"

#include <string.h>

#include "hw/apic.h"
#include "kernel/machine.h"

static uint32_t get(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

uint32_t pci_cfg_read(struct pci_func *fn, unsigned off, unsigned size)
{
	if (off + size > PCI_CFG_SPACE || (size != 1 && size != 2 && size != 4))
		return UINT32_MAX;
	if (off >= 0x100 && fn->conventional)
		return UINT32_MAX; /* no extended space on conventional PCI */
	return get(fn->cfg + off, size);
}

/* Writable bits: the command register, bus numbers of bridges, the MSI
 * capability's enable/address/data, ACS control. Everything else is
 * read-only, as in the header and capability definitions. */
static bool writable(const struct pci_func *fn, unsigned off)
{
	unsigned msi = pci_find_capability(fn, PCI_CAP_ID_MSI);
	unsigned acs = pci_find_ext_capability(fn, PCI_EXT_CAP_ID_ACS);
	unsigned ats = pci_find_ext_capability(fn, PCI_EXT_CAP_ID_ATS);

	if (off == PCI_COMMAND || off == PCI_COMMAND + 1)
		return true;
	if (off == PCI_INTERRUPT_LINE)
		return true;
	if (pci_is_bridge(fn) && off >= PCI_PRIMARY_BUS &&
	    off <= PCI_SUBORDINATE_BUS)
		return true;
	if (msi && off >= msi + PCI_MSI_FLAGS && off < msi + PCI_MSI_DATA_64 + 2)
		return off != msi + PCI_MSI_FLAGS + 1;
	if (acs && (off == acs + PCI_ACS_CTRL || off == acs + PCI_ACS_CTRL + 1))
		return true;
	/* ATS control: Enable and STU (the reserved bits are masked in
	 * pci_cfg_write) */
	if (ats && (off == ats + PCI_ATS_CTRL || off == ats + PCI_ATS_CTRL + 1))
		return true;
	return false;
}

static void update_msi(struct pci_func *fn)
{
	unsigned msi = pci_find_capability(fn, PCI_CAP_ID_MSI);
	uint16_t flags;

	if (!msi)
		return;
	flags = (uint16_t)get(fn->cfg + msi + PCI_MSI_FLAGS, 2);
	atomic_store(&fn->msi_addr,
		     get(fn->cfg + msi + PCI_MSI_ADDRESS_LO, 4) |
			     (uint64_t)get(fn->cfg + msi + PCI_MSI_ADDRESS_HI, 4)
				     << 32);
	atomic_store(&fn->msi_data, get(fn->cfg + msi + PCI_MSI_DATA_64, 2));
	/* multiple message enable: 2^((flags >> 4) & 7) vectors */
	atomic_store(&fn->msi_enabled, (flags & PCI_MSI_FLAGS_ENABLE)
					       ? 1u << ((flags >> 4) & 7) : 0);
}

/* ATS control keeps only Enable and STU; bits 14:5 are reserved. */
static void mask_ats_ctrl(struct pci_func *fn)
{
	unsigned ats = pci_find_ext_capability(fn, PCI_EXT_CAP_ID_ATS);

	if (ats)
		fn->cfg[ats + PCI_ATS_CTRL] &= 0x1f;
	if (ats)
		fn->cfg[ats + PCI_ATS_CTRL + 1] &= 0x80;
}

void pci_cfg_write(struct pci_func *fn, unsigned off, uint32_t val,
		   unsigned size)
{
	if (off + size > PCI_CFG_SPACE || (size != 1 && size != 2 && size != 4))
		return;
	if (off >= 0x100 && fn->conventional)
		return;
	for (unsigned i = 0; i < size; i++)
		if (writable(fn, off + i))
			fn->cfg[off + i] = (uint8_t)(val >> (8 * i));
	mask_ats_ctrl(fn);
	atomic_store_explicit(&fn->command,
			      (uint16_t)get(fn->cfg + PCI_COMMAND, 2),
			      memory_order_release);
	update_msi(fn);
}

unsigned pci_find_capability(const struct pci_func *fn, uint8_t id)
{
	unsigned pos = fn->cfg[PCI_CAPABILITY_LIST] & ~3u;

	for (int ttl = 48; pos >= 0x40 && ttl; ttl--) {
		if (fn->cfg[pos] == id)
			return pos;
		pos = fn->cfg[pos + 1] & ~3u;
	}
	return 0;
}

unsigned pci_find_ext_capability(const struct pci_func *fn, uint16_t id)
{
	unsigned pos = 0x100;

	if (fn->conventional)
		return 0;
	for (int ttl = 480; pos >= 0x100 && pos < PCI_CFG_SPACE - 4 && ttl;
	     ttl--) {
		uint32_t hdr = get(fn->cfg + pos, 4);

		if (!hdr)
			return 0;
		if ((hdr & 0xffff) == id)
			return pos;
		pos = hdr >> 20;
	}
	return 0;
}

unsigned pci_add_ext_capability(struct pci_func *fn, uint16_t id)
{
	unsigned pos = 0x100, last = 0;
	uint32_t hdr;

	if (fn->conventional)
		return 0;
	/* capabilities here are small: each new one 0x40 after the last */
	for (int ttl = 48; ttl && (hdr = get(fn->cfg + pos, 4)); ttl--) {
		last = pos;
		if (!(hdr >> 20))
			break;
		pos = hdr >> 20;
	}
	if (!last) {
		pos = 0x100;
	} else {
		pos = last + 0x40;
		if (pos + 0x40 > PCI_CFG_SPACE)
			return 0;
		hdr = get(fn->cfg + last, 4);
		fn->cfg[last + 2] = (uint8_t)((hdr & 0xf0000) >> 16 | pos << 4);
		fn->cfg[last + 3] = (uint8_t)(pos >> 4);
	}
	fn->cfg[pos] = (uint8_t)id;
	fn->cfg[pos + 1] = (uint8_t)(id >> 8);
	fn->cfg[pos + 2] = 1; /* version 1, last in the list */
	fn->cfg[pos + 3] = 0;
	return pos;
}

struct pci_func *pci_find_id(struct machine *m, const char *id)
{
	for (struct pci_func *fn = m->pci.list; fn; fn = fn->next)
		if (!strcmp(fn->id, id))
			return fn;
	return NULL;
}

struct pci_func *pci_find_bdf(struct machine *m, unsigned int bus,
			      unsigned int devfn)
{
	for (struct pci_func *fn = m->pci.list; fn; fn = fn->next)
		if (fn->bus == bus && fn->devfn == devfn)
			return fn;
	return NULL;
}

uint16_t pci_requester_id(const struct pci_func *fn)
{
	const struct pci_func *alias = NULL;

	/* A PCIe-to-PCI bridge takes ownership of transactions from the
	 * conventional bus below it: they carry its secondary bus number
	 * with devfn 0. The topmost such bridge wins. */
	for (const struct pci_func *p = fn->parent; p; p = p->parent)
		if (p->type->role == PCI_ROLE_PCI_BRIDGE)
			alias = p;
	if (alias)
		return (uint16_t)(alias->secondary << 8);
	return (uint16_t)(fn->bus << 8 | fn->devfn);
}

void pci_msi_raise(struct pci_func *fn, unsigned int vec)
{
	uint16_t cmd = atomic_load_explicit(&fn->command, memory_order_acquire);

	if (!(cmd & PCI_COMMAND_MASTER) || vec >= atomic_load(&fn->msi_enabled)) {
		atomic_fetch_add_explicit(&fn->cnt.msi_dropped, 1,
					  memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&fn->cnt.msi_sent, 1, memory_order_relaxed);
	/* an MSI is a posted memory write of the data to the address */
	apic_msi_write(fn->m, atomic_load(&fn->msi_addr),
		       atomic_load(&fn->msi_data) | vec);
}
