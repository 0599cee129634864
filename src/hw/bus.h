/*
 * The bus-master path: every memory access a device makes goes through
 * here. It checks that the function may master the bus (Bus Master
 * Enable), lets an IOMMU translate (later), and that RAM answers the
 * address; a failed access is a status the device sees and a counter,
 * never a crash. Accesses are split where the answer may change (pages,
 * holes), so a device sees exactly which part of a transfer failed.
 */
#ifndef DMASIM_HW_BUS_H
#define DMASIM_HW_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci.h"

/*
 * Resolve the start of a device access of @len bytes at bus address
 * @addr: on success *host points at RAM for *chunk bytes (1..len), to be
 * read (@write false) or written by the device. The access is counted.
 */
enum pci_status bus_map(struct pci_func *fn, uint64_t addr, size_t len,
			bool write, uint8_t **host, size_t *chunk);

/* Whole transfers. *done (if not NULL) gets the bytes moved before a
 * failure (a partial transfer, as a completion record reports it). */
enum pci_status bus_read(struct pci_func *fn, uint64_t addr, void *buf,
			 size_t len, size_t *done);
enum pci_status bus_write(struct pci_func *fn, uint64_t addr,
			  const void *buf, size_t len, size_t *done);
/* Device-side copy and fill between bus addresses, without a bounce. */
enum pci_status bus_copy(struct pci_func *fn, uint64_t dst, uint64_t src,
			 size_t len, size_t *done);
enum pci_status bus_fill(struct pci_func *fn, uint64_t dst, uint64_t pattern,
			 size_t len, size_t *done);

/*
 * PCIe ATS. Requests marked translated (AT = 10b) carry
 * host physical addresses: the IOMMU unit covering the function says
 * whether they pass untranslated (they are then not translated); without
 * a unit they reach RAM as any request does. Counted with the others.
 */
enum pci_status bus_read_translated(struct pci_func *fn, uint64_t addr,
				    void *buf, size_t len, size_t *done);
enum pci_status bus_write_translated(struct pci_func *fn, uint64_t addr,
				     const void *buf, size_t len, size_t *done);
/* A translation request (AT = 01b) for the page of @iova: *phys and
 * *size as the unit answers; without a unit (or with translation off)
 * the address is its own translation. Needs Bus Master Enable. */
enum pci_status bus_ats_translate(struct pci_func *fn, uint64_t iova,
				  bool write, uint64_t *phys, uint64_t *size);

const char *pci_status_name(enum pci_status st);

#endif
