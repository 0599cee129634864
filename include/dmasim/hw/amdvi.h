/*
 * AMD I/O Virtualization Technology (AMD-Vi) remapping hardware: the
 * datasheet shared by the IOMMU model (src/hw/amdvi.c) and the kernel's
 * amd_iommu driver. Offsets, bit fields and in-memory formats follow the
 * AMD I/O Virtualization Technology (IOMMU) Specification (#48882):
 * the MMIO register block, the 256-bit device table entry, the host
 * ("v1") I/O page tables with next-level encoding, the 128-bit event log
 * entries and the 128-bit commands.
 *
 * The unit implements DMA remapping only: no guest (v2) translation, no
 * PASID, no peripheral page requests, no interrupt remapping, no
 * exclusion range, no performance counters. ATS: translated requests
 * and translation requests are allowed by DTE.I (device IOTLB enable);
 * the capability header says IotlbSup.
 * Everything is little endian. 64-bit registers take one 8-byte access
 * or two 4-byte halves; the side effect of a register happens when a
 * half is written, with the whole new value.
 *
 * The event interrupt: the real unit signals through the MSI capability
 * of its PCI function; the specification mirrors that capability in the
 * MMIO block (EFR.MsiCapMmioSup, offsets 0x158-0x167), and this unit is
 * programmed only through that mirror.
 */
#ifndef DMASIM_HW_AMDVI_DATASHEET_H
#define DMASIM_HW_AMDVI_DATASHEET_H

#include <stdint.h>

#define AMDVI_PAGE_SHIFT	12
#define AMDVI_PAGE_SIZE		(1ULL << AMDVI_PAGE_SHIFT)
#define AMDVI_LEVEL_STRIDE	9
#define AMDVI_PTES_PER_TABLE	512
#define AMDVI_MAX_LEVELS	6	/* paging mode 6: 64-bit input */

/* ---- MMIO registers (offsets in the register block) ---- */
#define AMDVI_MMIO_DEV_TABLE	0x0000	/* 64 RW: device table base */
#define AMDVI_MMIO_CMD_BUF	0x0008	/* 64 RW: command buffer base */
#define AMDVI_MMIO_EVT_LOG	0x0010	/* 64 RW: event log base */
#define AMDVI_MMIO_CONTROL	0x0018	/* 64 RW */
#define AMDVI_MMIO_EXCL_BASE	0x0020	/* 64 RW, no effect here */
#define AMDVI_MMIO_EXCL_LIMIT	0x0028	/* 64 RW, no effect here */
#define AMDVI_MMIO_EXT_FEATURES	0x0030	/* 64 RO: EFR */
#define AMDVI_MMIO_MSI_CAP	0x0158	/* 32: MSI capability header */
#define AMDVI_MMIO_MSI_ADDR_LO	0x015c	/* 32 RW */
#define AMDVI_MMIO_MSI_ADDR_HI	0x0160	/* 32 RW */
#define AMDVI_MMIO_MSI_DATA	0x0164	/* 32 RW (bits 15:0) */
#define AMDVI_MMIO_CMD_HEAD	0x2000	/* 64 RW: command buffer head */
#define AMDVI_MMIO_CMD_TAIL	0x2008	/* 64 RW: command buffer tail */
#define AMDVI_MMIO_EVT_HEAD	0x2010	/* 64 RW: event log head */
#define AMDVI_MMIO_EVT_TAIL	0x2018	/* 64 RW: event log tail */
#define AMDVI_MMIO_STATUS	0x2020	/* 64 RW1C / RO */
#define AMDVI_MMIO_SIZE		0x4000	/* the register block: 16 KiB */

/* Device table base: base 51:12, Size 8:0 = 4 KiB pages - 1 */
#define AMDVI_DEV_TABLE_BASE_MASK 0x000ffffffffff000ULL
#define AMDVI_DEV_TABLE_SIZE(r)	((unsigned int)((r) & 0x1ff))
#define AMDVI_DEV_TABLE_BYTES(r) ((AMDVI_DEV_TABLE_SIZE(r) + 1ULL) << 12)
#define AMDVI_DTE_SIZE		32
#define AMDVI_DEV_TABLE_ENTRIES(r) \
	((unsigned int)(AMDVI_DEV_TABLE_BYTES(r) / AMDVI_DTE_SIZE))

/* Command buffer and event log base: base 51:12, Len 59:56 = log2
 * of the number of 16-byte entries (8..15: 256..32768 entries) */
#define AMDVI_RING_BASE_MASK	0x000ffffffffff000ULL
#define AMDVI_RING_LEN_SHIFT	56
#define AMDVI_RING_LEN(r)	((unsigned int)(((r) >> 56) & 0xf))
#define AMDVI_RING_LEN_MIN	8
#define AMDVI_RING_ENTRY_SIZE	16
/* head and tail registers: a byte offset, bits 18:4 */
#define AMDVI_RING_PTR_MASK	0x7fff0ULL

/* Control register */
#define AMDVI_CTRL_IOMMU_EN	(1ULL << 0)
#define AMDVI_CTRL_HT_TUN_EN	(1ULL << 1)
#define AMDVI_CTRL_EVT_LOG_EN	(1ULL << 2)
#define AMDVI_CTRL_EVT_INT_EN	(1ULL << 3)
#define AMDVI_CTRL_COMWAIT_INT_EN (1ULL << 4)
#define AMDVI_CTRL_INV_TIMEOUT(c) ((unsigned int)(((c) >> 5) & 7))
#define AMDVI_CTRL_PASS_PW	(1ULL << 8)
#define AMDVI_CTRL_RES_PASS_PW	(1ULL << 9)
#define AMDVI_CTRL_COHERENT	(1ULL << 10)
#define AMDVI_CTRL_ISOC		(1ULL << 11)
#define AMDVI_CTRL_CMD_BUF_EN	(1ULL << 12)
#define AMDVI_CTRL_PPR_LOG_EN	(1ULL << 13)
#define AMDVI_CTRL_PPR_INT_EN	(1ULL << 14)
#define AMDVI_CTRL_PPR_EN	(1ULL << 15)
#define AMDVI_CTRL_GT_EN	(1ULL << 16)
#define AMDVI_CTRL_GA_EN	(1ULL << 17)

/* Status register */
#define AMDVI_STATUS_EVT_OVERFLOW (1ULL << 0)	/* RW1C */
#define AMDVI_STATUS_EVT_INT	(1ULL << 1)	/* RW1C */
#define AMDVI_STATUS_COMWAIT_INT (1ULL << 2)	/* RW1C */
#define AMDVI_STATUS_EVT_RUN	(1ULL << 3)	/* RO */
#define AMDVI_STATUS_CMD_RUN	(1ULL << 4)	/* RO */
#define AMDVI_STATUS_W1C	(AMDVI_STATUS_EVT_OVERFLOW | \
				 AMDVI_STATUS_EVT_INT | \
				 AMDVI_STATUS_COMWAIT_INT)

/* Extended feature register (Linux prints bits 0-9 by name) */
#define AMDVI_EFR_PREF		(1ULL << 0)
#define AMDVI_EFR_PPR		(1ULL << 1)
#define AMDVI_EFR_XT		(1ULL << 2)
#define AMDVI_EFR_NX		(1ULL << 3)
#define AMDVI_EFR_GT		(1ULL << 4)
#define AMDVI_EFR_IA		(1ULL << 6)	/* INVALIDATE_IOMMU_ALL */
#define AMDVI_EFR_GA		(1ULL << 7)
#define AMDVI_EFR_HE		(1ULL << 8)
#define AMDVI_EFR_PC		(1ULL << 9)
#define AMDVI_EFR_HATS_SHIFT	10		/* host address translation */
#define AMDVI_EFR_HATS(e)	((unsigned int)(((e) >> 10) & 3))
#define AMDVI_HATS_LEVELS(h)	((h) + 4u)	/* 0: 4, 1: 5, 2: 6 levels */
#define AMDVI_EFR_MSI_CAP_MMIO	(1ULL << 46)

/* MSI capability header (mirror): CapId 7:0 = 05h, MsiEn bit 16,
 * Msi64 bit 23 */
#define AMDVI_MSI_CAP_ID	0x05u
#define AMDVI_MSI_CAP_EN	(1u << 16)
#define AMDVI_MSI_CAP_64	(1u << 23)

/* ---- Device table entry (256 bits, indexed by device id) ---- */
/* qword 0 */
#define AMDVI_DTE_V		(1ULL << 0)	/* entry valid */
#define AMDVI_DTE_TV		(1ULL << 1)	/* translation info valid */
#define AMDVI_DTE_HAD_SHIFT	7		/* host access dirty (8:7) */
#define AMDVI_DTE_MODE_SHIFT	9
#define AMDVI_DTE_MODE(q0)	((unsigned int)(((q0) >> 9) & 7))
#define AMDVI_DTE_PT_ROOT_MASK	0x000ffffffffff000ULL	/* 51:12 */
#define AMDVI_DTE_PPR		(1ULL << 52)
#define AMDVI_DTE_GV		(1ULL << 55)
#define AMDVI_DTE_IR		(1ULL << 61)
#define AMDVI_DTE_IW		(1ULL << 62)
/* reserved without the features this unit lacks: 8:2, 60:52, 63 */
#define AMDVI_DTE_Q0_RSVD	0x9ff00000000001fcULL
/* qword 1 */
#define AMDVI_DTE_DOMAIN(q1)	((uint16_t)(q1))
#define AMDVI_DTE_I		(1ULL << 32)	/* device IOTLB enable */
#define AMDVI_DTE_SE		(1ULL << 33)	/* suppress page fault events */
#define AMDVI_DTE_SA		(1ULL << 34)	/* suppress all of them */
#define AMDVI_DTE_IOCTL_SHIFT	35		/* 36:35 */
#define AMDVI_DTE_CACHE		(1ULL << 37)
#define AMDVI_DTE_SD		(1ULL << 38)
#define AMDVI_DTE_EX		(1ULL << 39)
#define AMDVI_DTE_SYSMGT_SHIFT	40		/* 41:40 */
/* reserved without guest translation: GCR3 31:16 and 63:43, and 42 */
#define AMDVI_DTE_Q1_RSVD	0xfffffc00ffff0000ULL
/* paging modes */
#define AMDVI_MODE_NONE		0	/* untranslated, IR/IW apply */
#define AMDVI_MODE_RESERVED	7

/* ---- I/O page table entry (8 bytes, 512 per 4 KiB table) ---- */
#define AMDVI_PTE_PR		(1ULL << 0)
#define AMDVI_PTE_A		(1ULL << 5)	/* accessed (not set here) */
#define AMDVI_PTE_D		(1ULL << 6)	/* dirty (not set here) */
#define AMDVI_PTE_NEXT_SHIFT	9
#define AMDVI_PTE_NEXT(pte)	((unsigned int)(((pte) >> 9) & 7))
#define AMDVI_PTE_ADDR_MASK	0x000ffffffffff000ULL	/* 51:12 */
#define AMDVI_PTE_U		(1ULL << 59)	/* PTE: untranslated only */
#define AMDVI_PTE_FC		(1ULL << 60)	/* PTE: force coherent */
#define AMDVI_PTE_IR		(1ULL << 61)
#define AMDVI_PTE_IW		(1ULL << 62)
#define AMDVI_PTE_RSVD		0x07f0000000000000ULL	/* PTE: 58:52 */
#define AMDVI_PDE_RSVD		0x1ff0000000000000ULL	/* PDE: 60:52 */
/*
 * Next level: 0 in an entry at level L is a leaf of the level's own
 * size (level 1: 4 KiB, 2: 2 MiB, 3: 1 GiB, ...); 1..L-1 points to a
 * table of that level (levels in between are skipped, and the address
 * bits they would index must be zero); 7 is a leaf whose size is in its
 * address: the lowest clear bit at or above bit 12 is bit n, the page is
 * 2^(n + 1) bytes (so bits n-1..12 are ones), larger than the level's
 * size and at most the next level's, and the entry repeats in each slot
 * the page covers. Anything else is an invalid level encoding.
 */
#define AMDVI_NEXT_LEAF		0
#define AMDVI_NEXT_SIZED	7
#define AMDVI_LEVEL_SHIFT(l) \
	(AMDVI_PAGE_SHIFT + AMDVI_LEVEL_STRIDE * ((l) - 1))
#define AMDVI_PTE_INDEX(iova, l) \
	((unsigned int)(((iova) >> AMDVI_LEVEL_SHIFT(l)) & 511))
/* bits of input address a table of @mode levels translates */
#define AMDVI_MODE_WIDTH(m)	(AMDVI_PAGE_SHIFT + AMDVI_LEVEL_STRIDE * (m))

/* ---- Event log entries (128 bits) ---- */
/* qword 0: device id 15:0, domain (or PASID) 47:32, flags 59:48,
 * event code 63:60; qword 1: the address */
#define AMDVI_EVT_DEVID(q0)	((uint16_t)(q0))
#define AMDVI_EVT_DOMAIN(q0)	((uint16_t)((q0) >> 32))
#define AMDVI_EVT_DOMAIN_SHIFT	32
#define AMDVI_EVT_FLAGS(q0)	((unsigned int)(((q0) >> 48) & 0xfff))
#define AMDVI_EVT_FLAGS_SHIFT	48
#define AMDVI_EVT_CODE(q0)	((unsigned int)((q0) >> 60))
#define AMDVI_EVT_CODE_SHIFT	60
#define AMDVI_EVT_HW_TYPE_SHIFT	57	/* hardware errors: 58:57 */
#define AMDVI_EVT_HW_TYPE(q0)	((unsigned int)(((q0) >> 57) & 3))
/* event flags (as Linux prints them: flags=0x%04x) */
#define AMDVI_EVT_FLAG_GN	0x001
#define AMDVI_EVT_FLAG_NX	0x002
#define AMDVI_EVT_FLAG_US	0x004
#define AMDVI_EVT_FLAG_I	0x008	/* interrupt request */
#define AMDVI_EVT_FLAG_PR	0x010	/* the page was present */
#define AMDVI_EVT_FLAG_RW	0x020	/* 1: write */
#define AMDVI_EVT_FLAG_PE	0x040	/* permission */
#define AMDVI_EVT_FLAG_RZ	0x080	/* reserved bit / bad level */
#define AMDVI_EVT_FLAG_TR	0x100	/* translation request */

enum amdvi_event_code {
	AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY = 0x1,
	AMDVI_EVT_IO_PAGE_FAULT		= 0x2,
	AMDVI_EVT_DEV_TAB_HW_ERROR	= 0x3,
	AMDVI_EVT_PAGE_TAB_HW_ERROR	= 0x4,
	AMDVI_EVT_ILLEGAL_COMMAND_ERROR	= 0x5,
	AMDVI_EVT_COMMAND_HW_ERROR	= 0x6,
	AMDVI_EVT_IOTLB_INV_TIMEOUT	= 0x7,	/* never: invalidation is prompt */
	AMDVI_EVT_INVALID_DEVICE_REQUEST = 0x8,	/* an ATS request, DTE.I = 0 */
};

/* INVALID_DEVICE_REQUEST: the type in flags 2:0 (with RW and TR) */
#define AMDVI_IDR_PRETRANSLATED	0x1	/* ATS request from I = 0 or V = 0 */

/* The IOMMU capability header in the unit's PCI configuration space */
#define AMDVI_CAP_IOTLB_SUP	(1u << 24)	/* device IOTLBs supported */

/* hardware error types */
#define AMDVI_HW_ERR_MASTER_ABORT 1
#define AMDVI_HW_ERR_TARGET_ABORT 2
#define AMDVI_HW_ERR_DATA	3

/* ---- Commands (128 bits): opcode in qword 0 bits 63:60 ---- */
#define AMDVI_CMD_OPCODE(q0)	((unsigned int)((q0) >> 60))
#define AMDVI_CMD_OPCODE_SHIFT	60

enum amdvi_cmd_opcode {
	AMDVI_CMD_COMPLETION_WAIT	= 0x1,
	AMDVI_CMD_INV_DEVTAB_ENTRY	= 0x2,
	AMDVI_CMD_INV_IOMMU_PAGES	= 0x3,
	AMDVI_CMD_INV_IOTLB_PAGES	= 0x4,	/* device IOTLB: counted no-op */
	AMDVI_CMD_INV_INTERRUPT_TABLE	= 0x5,	/* no remapping: no-op */
	AMDVI_CMD_PREFETCH_IOMMU_PAGES	= 0x6,	/* illegal: no PreF */
	AMDVI_CMD_COMPLETE_PPR_REQUEST	= 0x7,	/* illegal: no PPR */
	AMDVI_CMD_INV_IOMMU_ALL		= 0x8,
};

/* COMPLETION_WAIT: q0 S 0, I 1, F 2, store address 51:3; q1 data */
#define AMDVI_CMD_CW_S		(1ULL << 0)	/* store q1 at the address */
#define AMDVI_CMD_CW_I		(1ULL << 1)	/* completion interrupt */
#define AMDVI_CMD_CW_F		(1ULL << 2)	/* flush queue */
#define AMDVI_CMD_CW_ADDR_MASK	0x000ffffffffffff8ULL
#define AMDVI_CMD_CW_RSVD	0x0ff0000000000000ULL
/* INVALIDATE_DEVTAB_ENTRY: q0 device id 15:0 */
#define AMDVI_CMD_DEVID(q0)	((uint16_t)(q0))
#define AMDVI_CMD_DEVTAB_RSVD0	0x0fffffffffff0000ULL
/* INVALIDATE_IOMMU_PAGES: q0 PASID 19:0, domain 47:32; q1 S 0,
 * PDE 1, GN 2, address 63:12. S = 0: the 4 KiB page at the address.
 * S = 1: a power-of-two range encoded as in a next-level-7 entry (the
 * lowest clear address bit n >= 12 gives 2^(n + 1) bytes); bits 62:12
 * all ones (AMDVI_INV_ALL_ADDR) is the whole domain. */
#define AMDVI_CMD_PAGES_DOMAIN(q0) ((uint16_t)((q0) >> 32))
#define AMDVI_CMD_PAGES_DOMAIN_SHIFT 32
#define AMDVI_CMD_PAGES_RSVD0	0x0fff0000fff00000ULL
#define AMDVI_CMD_PAGES_S	(1ULL << 0)
#define AMDVI_CMD_PAGES_PDE	(1ULL << 1)
#define AMDVI_CMD_PAGES_GN	(1ULL << 2)
#define AMDVI_CMD_PAGES_RSVD1	0x0000000000000ff8ULL
#define AMDVI_CMD_PAGES_ADDR_MASK (~0xfffULL)
#define AMDVI_INV_ALL_ADDR	0x7ffffffffffff000ULL
/* INVALIDATE_IOMMU_ALL: everything but the opcode is reserved */
#define AMDVI_CMD_ALL_RSVD0	0x0fffffffffffffffULL

#endif
