/*
 * The ats attack (Thunderclap story 8) and its accounting: a device
 * that claims PCIe ATS sends requests marked "translated" whose
 * addresses the IOMMU does not translate once ATS is enabled for it.
 * Not registered in attacks[] here (see ats.c for what its machine
 * needs); the lead registers it.
 */
#ifndef DMASIM_ATTACK_ATS_H
#define DMASIM_ATTACK_ATS_H

#include <stddef.h>
#include <stdint.h>

#include "attack/attack.h"

/* Translated requests (AT = 10b) at host physical @phys; the bytes
 * reached outside the shadow's live mappings are added to the result
 * (leaked for reads, corrupted for writes), as atk_read/atk_write do. */
enum pci_status atk_read_translated(struct atk_ctx *c, uint64_t phys,
				    void *buf, size_t len, size_t *done);
enum pci_status atk_write_translated(struct atk_ctx *c, uint64_t phys,
				     const void *buf, size_t len,
				     size_t *done);

int attack_ats(struct atk_ctx *c);

#endif
