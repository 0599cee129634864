/*
 * The AMD-Vi IOMMU's own PCI function (00:00.2 on AMD platforms): a
 * root-complex integrated endpoint of class 0x0806 (IOMMU) whose IOMMU
 * capability, at 0x40, tells where the unit's registers are. It is part
 * of the platform (added with --iommu-hw amd, never with --device); its
 * own memory accesses (tables, the event log) are not translated, and
 * the kernel puts it in no IOMMU group.
 */
#include <stdint.h>

#include "dmasim/hw/amdvi.h"
#include "hw/amdvi.h"
#include "hw/pci.h"
#include "kernel/machine.h"

/* IOMMU capability block (AMD IOMMU specification, PCI configuration) */
#define CAP_ID_SECDEV	0x0f		/* "secure device": the IOMMU */
#define CAP_TYPE_IOMMU	(3u << 16)
#define CAP_EFR_SUP	(1u << 27)
#define CAP_EXT		(1u << 28)
#define CAP_BASE_LO	0x04		/* bit 0: enable; 31:14 base */
#define CAP_BASE_HI	0x08
#define CAP_RANGE	0x0c		/* RngValid 7, bus 15:8, devices */
#define CAP_MISC	0x10		/* PAsize 14:8, VAsize 21:15 */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t unit_base(struct machine *m)
{
	for (struct iommu_unit *u = m->iommu_units; u; u = u->next)
		if (amdvi_is_unit(u))
			return amdvi_reg_base(u);
	return 0;
}

static void amdvi_fill_config(struct pci_func *fn)
{
	uint8_t *c = fn->cfg;
	uint64_t base = unit_base(fn->m);
	unsigned int cap = 0x40;

	put32(c + cap, CAP_ID_SECDEV | (uint32_t)c[PCI_CAPABILITY_LIST] << 8 |
			       CAP_TYPE_IOMMU | AMDVI_CAP_IOTLB_SUP | CAP_EFR_SUP |
			       CAP_EXT);
	put32(c + cap + CAP_BASE_LO, (uint32_t)(base & 0xffffc000u) | 1u);
	put32(c + cap + CAP_BASE_HI, (uint32_t)(base >> 32));
	/* all devices on all buses: first 00.0, last 1f.7 */
	put32(c + cap + CAP_RANGE, 0xff000000u);
	put32(c + cap + CAP_MISC, 48u << 8 | 64u << 15);
	c[PCI_CAPABILITY_LIST] = (uint8_t)cap;
	c[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
}

const struct pci_type amdvi_pci_type = {
	.name = "amd-iommu",
	.help = "the AMD-Vi IOMMU's function at 00:00.2 (added by --iommu-hw amd)",
	.role = PCI_ROLE_RC_ENDPOINT,
	.vendor = 0x1022, .device = 0x1481, .class_code = 0x080600,
	.lspci_name = "Advanced Micro Devices, Inc. [AMD] Starship/Matisse IOMMU",
	.builtin = true,
	.remapping_unit = true,
	.fill_config = amdvi_fill_config,
};
