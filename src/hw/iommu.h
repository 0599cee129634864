/*
 * A DMA remapping unit as the bus sees it (VT-d's DRHD, AMD-Vi's IOMMU):
 * every bus-master access of a function the unit covers is handed to it
 * first (bus.c). The unit translates the start of the access through its
 * IOTLB and the tables the kernel wrote in RAM, and says how many bytes
 * the translation covers; or it records a fault (its fault registers or
 * event log, and an interrupt) and the device sees an unsupported
 * request. With translation disabled the address passes through.
 *
 * PCIe ATS adds two more kinds of request, each its own operation so the
 * untranslated path stays as it was: a translated request (AT = 10b)
 * carries a host physical address the device says it got from a
 * translation; the unit lets it through untranslated or refuses it,
 * by what the device's context (VT-d TT) or device table entry (AMD-Vi
 * I) allows. A translation request (AT = 01b) asks the unit for the
 * translation of one page, as ATS's address translation cache fills.
 */
#ifndef DMASIM_HW_IOMMU_H
#define DMASIM_HW_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci.h"

struct iommu_unit;

struct iommu_unit_ops {
	/* Thread-safe. On PCI_STATUS_OK, *phys is the address of @iova and
	 * *chunk (1..len) the bytes that follow it in the same mapping. */
	enum pci_status (*translate)(struct iommu_unit *u, uint16_t rid,
				     uint64_t iova, size_t len, bool write,
				     uint64_t *phys, size_t *chunk);
	/* Thread-safe. A translated request from @rid for host address
	 * @addr: PCI_STATUS_OK if it may pass untranslated, else the
	 * refusal is recorded (fault record, event) and PCI_STATUS_UR. */
	enum pci_status (*translated)(struct iommu_unit *u, uint16_t rid,
				      uint64_t addr, bool write);
	/* Thread-safe. A translation request for the page holding @iova:
	 * PCI_STATUS_OK with *phys (the address of @iova) and *size (the
	 * bytes of the translation, a power of two); else PCI_STATUS_UR
	 * (no translation with the rights asked for, or blocked). */
	enum pci_status (*ats_translate)(struct iommu_unit *u, uint16_t rid,
					 uint64_t iova, bool write,
					 uint64_t *phys, uint64_t *size);
	void (*destroy)(struct iommu_unit *u);
};

struct iommu_unit {
	const struct iommu_unit_ops *ops;
	void *priv;
	char name[16];		  /* "dmar0", "ivhd0" */
	struct iommu_unit *next;  /* the machine's units */
};

#endif
