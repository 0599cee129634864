/*
 * A DMA remapping unit as the bus sees it (VT-d's DRHD, AMD-Vi's IOMMU):
 * every bus-master access of a function the unit covers is handed to it
 * first (bus.c). The unit translates the start of the access through its
 * IOTLB and the tables the kernel wrote in RAM, and says how many bytes
 * the translation covers; or it records a fault (its fault registers or
 * event log, and an interrupt) and the device sees an unsupported
 * request. With translation disabled the address passes through.
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
	void (*destroy)(struct iommu_unit *u);
};

struct iommu_unit {
	const struct iommu_unit_ops *ops;
	void *priv;
	char name[16];		  /* "dmar0", "ivhd0" */
	struct iommu_unit *next;  /* the machine's units */
};

#endif
