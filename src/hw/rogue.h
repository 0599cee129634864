/*
 * The rogue device: a PCI endpoint that looks like a small NIC
 * (dmasim/hw/rnic.h) and is scripted as a malicious bus master, after
 * the attack platforms of Thunderclap (a real device model that abuses
 * the windows it is given) and PCILeech (raw physical reads and writes).
 *
 * Every access goes through the one bus-master path (bus.c) and so
 * through the IOMMU when one covers the function; behind a PCIe-to-PCI
 * bridge the device speaks with the bridge's requester ID, behind a port
 * given external=on it is untrusted. Results are the fabric's statuses
 * (PCI_STATUS_OK, PCI_STATUS_UR for a hole or an IOMMU fault,
 * PCI_STATUS_MASTER_ABORT with bus mastering off), never a crash.
 *
 * The device remembers every buffer address its driver writes into its
 * registers (the IOVAs the kernel gave it), so an attack can replay them
 * after the driver has taken them back; it can withhold completions
 * (never complete a descriptor, keeping the driver's mapping alive).
 *
 * Options: ats=on|off (default off): the function advertises the PCIe
 * ATS extended capability, so a kernel may enable ATS for it; the
 * device then (or anyway: it is malicious) sends translated requests.
 */
#ifndef DMASIM_HW_ROGUE_H
#define DMASIM_HW_ROGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci.h"

struct rogue;

#define ROGUE_MAX_SEEN 256

/* A buffer address the driver gave the device. */
struct rogue_iova {
	uint64_t addr;
	uint32_t len;
	unsigned int slot;
	bool tx;	/* a packet to send (else a receive buffer) */
	bool revoked;	/* the driver said it took it back */
};

/* A run of pages that answered a probe. */
struct rogue_window {
	uint64_t start, end;	/* [start, end) */
};

struct rogue_stats {
	uint64_t reads, writes;		/* accesses attempted */
	uint64_t bytes_read, bytes_written; /* that reached memory */
	uint64_t faults;		/* unsupported requests */
	uint64_t aborts;		/* master aborts */
	uint64_t completions, withheld;	/* packets delivered / held back */
	uint64_t translated;		/* of reads + writes: marked translated */
	uint64_t translations;		/* ATS translation requests */
};

/* The rogue state of @fn, or NULL if @fn is not a rogue device. */
struct rogue *rogue_of(struct pci_func *fn);
struct pci_func *rogue_func(struct rogue *r);

/* Read or write @len bytes at bus address @addr. *done (may be NULL)
 * gets the bytes moved before a failure. */
enum pci_status rogue_read(struct rogue *r, uint64_t addr, void *buf,
			   size_t len, size_t *done);
enum pci_status rogue_write(struct rogue *r, uint64_t addr, const void *buf,
			    size_t len, size_t *done);

/* Probe [start, end) page by page with an 8-byte read; the pages that
 * answer are merged into windows. Returns the number of windows (those
 * beyond @max are counted, not stored). */
size_t rogue_scan(struct rogue *r, uint64_t start, uint64_t end,
		  struct rogue_window *w, size_t max);

/* The buffer addresses seen so far, oldest first (at most
 * ROGUE_MAX_SEEN are kept). Returns how many were copied. */
size_t rogue_iovas(struct rogue *r, struct rogue_iova *out, size_t max);
/* Forget them. */
void rogue_forget_iovas(struct rogue *r);

/* Withhold completions: rogue_rx_packet and rogue_tx_complete then
 * never complete a descriptor. */
void rogue_set_withhold(struct rogue *r, bool on);
/* Receive a packet into the oldest posted slot, as an honest NIC does:
 * write it, mark the slot done, raise the MSI. 0; -EBUSY when withheld;
 * -ENOSPC without a posted slot; -EIO if the write failed. */
int rogue_rx_packet(struct rogue *r, const void *data, size_t len);

/* Send every posted packet, as an honest NIC does: read it, mark the
 * slot done, raise the MSI. The number sent; -EBUSY when withheld. */
int rogue_tx_complete(struct rogue *r);

void rogue_get_stats(struct rogue *r, struct rogue_stats *st);
void rogue_reset_stats(struct rogue *r);

/*
 * ATS (PCIe Address Translation Services). A translated request (AT =
 * 10b) carries a host physical address; the IOMMU lets it through
 * untranslated when ATS is enabled for the device in its tables (VT-d
 * context TT = 01b, AMD-Vi DTE.I), which is Thunderclap's bypass, and
 * refuses it otherwise (VT-d fault reason 0xD, AMD-Vi
 * INVALID_DEVICE_REQUEST). Without an IOMMU it reaches RAM. Counted as
 * reads and writes (and in `translated`); statuses as rogue_read's.
 */
enum pci_status rogue_read_translated(struct rogue *r, uint64_t phys,
				      void *buf, size_t len, size_t *done);
enum pci_status rogue_write_translated(struct rogue *r, uint64_t phys,
				       const void *buf, size_t len,
				       size_t *done);
/* A translation request (AT = 01b) for the page of @iova: the host
 * address of @iova in *phys, or PCI_STATUS_UR when the IOMMU gives no
 * translation with the rights asked for (or blocks the request). */
enum pci_status rogue_ats_translate(struct rogue *r, uint64_t iova,
				    bool write, uint64_t *phys);
/* Was the device created with ats=on? */
bool rogue_has_ats(struct rogue *r);

#endif
