/*
 * Intel VT-d DMA remapping hardware: the datasheet shared by the remapping
 * unit model (src/hw/vtd.c) and the kernel's intel-iommu driver. Offsets,
 * bit fields and in-memory formats follow the Intel Virtualization
 * Technology for Directed I/O Architecture Specification (chapters 9 and
 * 10, legacy translation mode: root and context entries, second-level
 * paging, primary fault logging, register-based and queued invalidation).
 *
 * The unit reports version 1.0 and implements legacy ("root table type 0")
 * mode only: no scalable mode, no first-level or nested translation, no
 * PASID, no interrupt remapping, no advanced fault
 * logging, no protected memory regions. Everything is little endian; the
 * 64-bit registers may be accessed as one 8-byte access or as two 4-byte
 * halves (the command side effects happen when the half holding the
 * command bit is written). Device-TLBs (ECAP.DT): context entries with
 * TT = 01b let a device's translated requests through untranslated and
 * answer its translation requests; device-TLB invalidation descriptors
 * are accepted (the unit keeps no device's cache to invalidate).
 */
#ifndef DMASIM_HW_VTD_DATASHEET_H
#define DMASIM_HW_VTD_DATASHEET_H

#include <stdint.h>

#define VTD_PAGE_SHIFT		12
#define VTD_PAGE_SIZE		(1ULL << VTD_PAGE_SHIFT)
#define VTD_LEVEL_STRIDE	9
#define VTD_PTES_PER_TABLE	512
#define VTD_HAW			48	/* host address width of the unit */

/* ---- Registers (offsets in the register block) ---- */
#define DMAR_VER_REG		0x000	/* 32 RO: major 7:4, minor 3:0 */
#define DMAR_CAP_REG		0x008	/* 64 RO */
#define DMAR_ECAP_REG		0x010	/* 64 RO */
#define DMAR_GCMD_REG		0x018	/* 32 WO (reads 0) */
#define DMAR_GSTS_REG		0x01c	/* 32 RO */
#define DMAR_RTADDR_REG		0x020	/* 64 RW */
#define DMAR_CCMD_REG		0x028	/* 64 RW */
#define DMAR_FSTS_REG		0x034	/* 32 RW1C / RO */
#define DMAR_FECTL_REG		0x038	/* 32 */
#define DMAR_FEDATA_REG		0x03c	/* 32 */
#define DMAR_FEADDR_REG		0x040	/* 32 */
#define DMAR_FEUADDR_REG	0x044	/* 32 */
#define DMAR_AFLOG_REG		0x058	/* 64, reads 0 (no AFL) */
#define DMAR_PMEN_REG		0x064	/* 32, reads 0 (no PMR) */
#define DMAR_IQH_REG		0x080	/* 64 RO: queue head */
#define DMAR_IQT_REG		0x088	/* 64 RW: queue tail */
#define DMAR_IQA_REG		0x090	/* 64 RW: queue address */
#define DMAR_ICS_REG		0x09c	/* 32 RW1C */
#define DMAR_IECTL_REG		0x0a0	/* 32 */
#define DMAR_IEDATA_REG		0x0a4	/* 32 */
#define DMAR_IEADDR_REG		0x0a8	/* 32 */
#define DMAR_IEUADDR_REG	0x0ac	/* 32 */

/* Where this unit puts the IOTLB and fault-recording registers. */
#define VTD_IRO_OFFSET		0x200	/* ECAP.IRO * 16 */
#define DMAR_IVA_OFFSET		0x0	/* from IRO: 64 WO */
#define DMAR_IOTLB_OFFSET	0x8	/* from IRO: 64 RW */
#define VTD_FRO_OFFSET		0x400	/* CAP.FRO * 16 */
#define VTD_FRCD_LEN		16	/* one 128-bit fault record */

/* VER_REG */
#define VTD_VER_MAJOR(v)	(((v) >> 4) & 0xf)
#define VTD_VER_MINOR(v)	((v) & 0xf)
#define VTD_VERSION		0x10	/* 1.0 */

/* CAP_REG */
#define VTD_CAP_ND(c)		((c) & 0x7)	/* domains: 2^(4 + 2*ND) */
#define VTD_CAP_AFL		(1ULL << 3)
#define VTD_CAP_RWBF		(1ULL << 4)
#define VTD_CAP_PLMR		(1ULL << 5)
#define VTD_CAP_PHMR		(1ULL << 6)
#define VTD_CAP_CM		(1ULL << 7)	/* caching mode */
#define VTD_CAP_SAGAW(c)	(((c) >> 8) & 0x1f)
#define  VTD_SAGAW_39		0x2	/* 3-level, agaw 1 */
#define  VTD_SAGAW_48		0x4	/* 4-level, agaw 2 */
#define  VTD_SAGAW_57		0x8	/* 5-level, agaw 3 (not here) */
#define VTD_CAP_MGAW(c)		((unsigned int)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_ZLR		(1ULL << 22)
#define VTD_CAP_FRO(c)		((((c) >> 24) & 0x3ff) * 16) /* bytes */
#define VTD_CAP_SLLPS(c)	(((c) >> 34) & 0xf)
#define  VTD_SLLPS_2M		0x1
#define  VTD_SLLPS_1G		0x2
#define VTD_CAP_PSI		(1ULL << 39)
#define VTD_CAP_NFR(c)		((unsigned int)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_MAMV(c)		((unsigned int)(((c) >> 48) & 0x3f))
#define VTD_CAP_DWD		(1ULL << 54)
#define VTD_CAP_DRD		(1ULL << 55)

/* ECAP_REG */
#define VTD_ECAP_C		(1ULL << 0)	/* page walks snoop caches */
#define VTD_ECAP_QI		(1ULL << 1)
#define VTD_ECAP_DT		(1ULL << 2)
#define VTD_ECAP_IR		(1ULL << 3)
#define VTD_ECAP_EIM		(1ULL << 4)
#define VTD_ECAP_PT		(1ULL << 6)	/* pass-through TT = 2 */
#define VTD_ECAP_SC		(1ULL << 7)
#define VTD_ECAP_IRO(e)		((((e) >> 8) & 0x3ff) * 16) /* bytes */
#define VTD_ECAP_MHMV(e)	(((e) >> 20) & 0xf)

/* GCMD_REG and GSTS_REG (same bit positions) */
#define VTD_GCMD_TE		(1u << 31)	/* translation enable */
#define VTD_GCMD_SRTP		(1u << 30)	/* set root table pointer */
#define VTD_GCMD_SFL		(1u << 29)
#define VTD_GCMD_EAFL		(1u << 28)
#define VTD_GCMD_WBF		(1u << 27)
#define VTD_GCMD_QIE		(1u << 26)	/* queued invalidation */
#define VTD_GCMD_IRE		(1u << 25)
#define VTD_GCMD_SIRTP		(1u << 24)
#define VTD_GCMD_CFI		(1u << 23)
#define VTD_GSTS_TES		VTD_GCMD_TE
#define VTD_GSTS_RTPS		VTD_GCMD_SRTP
#define VTD_GSTS_FLS		VTD_GCMD_SFL
#define VTD_GSTS_AFLS		VTD_GCMD_EAFL
#define VTD_GSTS_WBFS		VTD_GCMD_WBF
#define VTD_GSTS_QIES		VTD_GCMD_QIE
#define VTD_GSTS_IRES		VTD_GCMD_IRE
#define VTD_GSTS_IRTPS		VTD_GCMD_SIRTP
#define VTD_GSTS_CFIS		VTD_GCMD_CFI
/* one-shot commands: reflected in status once done, never latched */
#define VTD_GCMD_ONESHOT	(VTD_GCMD_SRTP | VTD_GCMD_SFL | \
				 VTD_GCMD_WBF | VTD_GCMD_SIRTP)

/* RTADDR_REG */
#define VTD_RTADDR_RTA_MASK	(~0xfffULL)
#define VTD_RTADDR_TTM(r)	(((r) >> 10) & 0x3) /* 0: legacy mode */

/* CCMD_REG */
#define VTD_CCMD_ICC		(1ULL << 63)	/* invalidate; clears when done */
#define VTD_CCMD_CIRG_SHIFT	61		/* requested granularity */
#define VTD_CCMD_CAIG_SHIFT	59		/* actual granularity */
#define VTD_CCMD_GLOBAL		1ULL
#define VTD_CCMD_DOMAIN		2ULL
#define VTD_CCMD_DEVICE		3ULL
#define VTD_CCMD_CIRG(v)	(((v) >> VTD_CCMD_CIRG_SHIFT) & 3)
#define VTD_CCMD_CAIG(v)	(((v) >> VTD_CCMD_CAIG_SHIFT) & 3)
#define VTD_CCMD_FM(v)		(((v) >> 32) & 3) /* function mask */
#define VTD_CCMD_SID(v)		((uint16_t)((v) >> 16))
#define VTD_CCMD_DID(v)		((uint16_t)(v))

/* IVA_REG (at IRO) */
#define VTD_IVA_ADDR_MASK	(~0xfffULL)
#define VTD_IVA_IH		(1ULL << 6)
#define VTD_IVA_AM(v)		((unsigned int)((v) & 0x3f))

/* IOTLB_REG (at IRO + 8) */
#define VTD_IOTLB_IVT		(1ULL << 63)	/* invalidate; clears when done */
#define VTD_IOTLB_IIRG_SHIFT	60		/* requested granularity */
#define VTD_IOTLB_IAIG_SHIFT	57		/* actual granularity, 0 = failed */
#define VTD_IOTLB_GLOBAL	1ULL
#define VTD_IOTLB_DSI		2ULL
#define VTD_IOTLB_PSI		3ULL
#define VTD_IOTLB_IIRG(v)	(((v) >> VTD_IOTLB_IIRG_SHIFT) & 3)
#define VTD_IOTLB_IAIG(v)	(((v) >> VTD_IOTLB_IAIG_SHIFT) & 3)
#define VTD_IOTLB_DR		(1ULL << 49)	/* drain reads */
#define VTD_IOTLB_DW		(1ULL << 48)	/* drain writes */
#define VTD_IOTLB_DID(v)	((uint16_t)((v) >> 32))

/* FSTS_REG */
#define VTD_FSTS_PFO		(1u << 0)	/* RW1C: primary fault overflow */
#define VTD_FSTS_PPF		(1u << 1)	/* RO: some record has F set */
#define VTD_FSTS_AFO		(1u << 2)
#define VTD_FSTS_APF		(1u << 3)
#define VTD_FSTS_IQE		(1u << 4)	/* RW1C: invalidation queue error */
#define VTD_FSTS_ICE		(1u << 5)
#define VTD_FSTS_ITE		(1u << 6)
#define VTD_FSTS_PRO		(1u << 7)
#define VTD_FSTS_FRI(s)		(((s) >> 8) & 0xff) /* first pending record */
#define VTD_FSTS_W1C		(VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | \
				 VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE | \
				 VTD_FSTS_PRO)

/* FECTL_REG and IECTL_REG */
#define VTD_FECTL_IM		(1u << 31)	/* interrupt mask */
#define VTD_FECTL_IP		(1u << 30)	/* RO: interrupt pending */

/* IQA_REG, IQH_REG, IQT_REG */
#define VTD_IQA_ADDR_MASK	(~0xfffULL)
#define VTD_IQA_DW		(1ULL << 11)	/* 256-bit descriptors */
#define VTD_IQA_QS(v)		((unsigned int)((v) & 0x7)) /* 2^QS pages */
#define VTD_IQ_ENTRIES(qs)	(256u << (qs))	/* 128-bit descriptors */
#define VTD_IQ_INDEX_SHIFT	4		/* IQH/IQT: byte offset */
#define VTD_IQ_OFFSET_MASK	0x7fff0ULL	/* bits 18:4 */

/* ICS_REG */
#define VTD_ICS_IWC		(1u << 0)	/* wait descriptor completed */

/* ---- Fault recording register (128 bits at FRO + 16 * i) ---- */
/* low qword: fault info (page address, bits 63:12) */
#define VTD_FRCD_FI_MASK	(~0xfffULL)
/* high qword (at +8): */
#define VTD_FRCD_F		(1ULL << 63)	/* RW1C: record valid */
#define VTD_FRCD_T		(1ULL << 62)	/* 1: read, 0: write */
#define VTD_FRCD_AT(h)		(((h) >> 60) & 3)
#define VTD_FRCD_AT_SHIFT	60
#define  VTD_AT_UNTRANSLATED	0
#define  VTD_AT_TRANSLATION_REQ	1	/* ATS translation request */
#define  VTD_AT_TRANSLATED	2	/* ATS translated request */
#define VTD_FRCD_FR(h)		((unsigned int)(((h) >> 32) & 0xff))
#define VTD_FRCD_FR_SHIFT	32
#define VTD_FRCD_SID(h)		((uint16_t)(h))
/* the same fields as the top 32-bit word (at +12) */
#define VTD_FRCD_HI32_F		(1u << 31)
#define VTD_FRCD_HI32_T		(1u << 30)

/* Fault reasons (legacy mode, VT-d spec 7.1.3 / Linux's table). */
enum vtd_fault_reason {
	VTD_FR_NONE		= 0x0,
	VTD_FR_ROOT_NOT_PRESENT	= 0x1,
	VTD_FR_CTX_NOT_PRESENT	= 0x2,
	VTD_FR_CTX_INVALID	= 0x3,	/* bad TT or AW */
	VTD_FR_ADDR_BEYOND_AGAW	= 0x4,
	VTD_FR_WRITE		= 0x5,	/* PTE write access is not set */
	VTD_FR_READ		= 0x6,	/* PTE read access is not set */
	VTD_FR_PTE_PTR_INVALID	= 0x7,	/* next-level table unreachable */
	VTD_FR_ROOT_TABLE_INVALID = 0x8,/* root table unreachable */
	VTD_FR_CTX_TABLE_INVALID = 0x9,	/* context table unreachable */
	VTD_FR_ROOT_RSVD	= 0xa,
	VTD_FR_CTX_RSVD		= 0xb,
	VTD_FR_PTE_RSVD		= 0xc,
	VTD_FR_TT_BLOCKED	= 0xd,	/* ATS request, context TT = 00b */
};

/* ---- Root entry (128 bits, 256 per table: one per bus) ---- */
#define VTD_ROOT_ENTRIES	256
#define VTD_ROOT_P		(1ULL << 0)
#define VTD_ROOT_CTP_MASK	0x0000fffffffff000ULL	/* bits 47:12 */
#define VTD_ROOT_LO_RSVD	(0xffff000000000ffeULL)	/* 11:1, 63:48 */
#define VTD_ROOT_HI_RSVD	(~0ULL)			/* legacy mode */

/* ---- Context entry (128 bits, 256 per table: one per devfn) ---- */
#define VTD_CTX_ENTRIES		256
#define VTD_CTX_P		(1ULL << 0)
#define VTD_CTX_FPD		(1ULL << 1)	/* fault processing disable */
#define VTD_CTX_TT(lo)		((unsigned int)(((lo) >> 2) & 3))
#define VTD_CTX_TT_SHIFT	2
#define  VTD_TT_MULTI_LEVEL	0	/* untranslated requests only */
#define  VTD_TT_DEV_IOTLB	1	/* + ATS requests; needs ECAP.DT */
#define  VTD_TT_PASS_THROUGH	2	/* needs ECAP.PT */
#define VTD_CTX_SLPTPTR_MASK	0x0000fffffffff000ULL
#define VTD_CTX_LO_RSVD		(0xffff000000000ff0ULL)	/* 11:4, 63:48 */
/* high qword */
#define VTD_CTX_AW(hi)		((unsigned int)((hi) & 7))
#define  VTD_AW_39		1	/* 3-level */
#define  VTD_AW_48		2	/* 4-level */
#define VTD_CTX_DID(hi)		((uint16_t)((hi) >> 8))
#define VTD_CTX_DID_SHIFT	8
#define VTD_CTX_HI_RSVD		(0xffffffffff000080ULL)	/* 7, 63:24 */

/* AW/agaw value <-> levels and width (agaw 1: 39-bit, 3 levels). */
#define VTD_AGAW_LEVELS(aw)	((aw) + 2)
#define VTD_AGAW_WIDTH(aw)	(30 + 9 * (aw))

/* ---- Second-level paging entry (8 bytes, 512 per 4 KiB table) ---- */
#define VTD_PTE_R		(1ULL << 0)
#define VTD_PTE_W		(1ULL << 1)
#define VTD_PTE_PS		(1ULL << 7)	/* superpage, levels 2 and 3 */
#define VTD_PTE_SNP		(1ULL << 11)
#define VTD_PTE_ADDR_MASK	0x0000fffffffff000ULL	/* 47:12 (HAW 48) */
#define VTD_PTE_RSVD		0x000f000000000000ULL	/* 51:48 */
/* level of a table: 1 maps 4 KiB pages, 2 maps 2 MiB, 3 maps 1 GiB */
#define VTD_LEVEL_SHIFT(l)	(VTD_PAGE_SHIFT + VTD_LEVEL_STRIDE * ((l) - 1))
#define VTD_PTE_INDEX(iova, l)	(((iova) >> VTD_LEVEL_SHIFT(l)) & 511)

/* ---- Invalidation queue descriptors (128 bits) ---- */
#define VTD_QI_TYPE(lo)		((unsigned int)(((lo) & 0xf) | \
					(((lo) >> 5) & 0x70)))
#define VTD_QI_CC		0x1	/* context-cache invalidate */
#define VTD_QI_IOTLB		0x2	/* IOTLB invalidate */
#define VTD_QI_DEV_IOTLB	0x3	/* device-TLB invalidate: counted */
#define VTD_QI_IEC		0x4	/* not supported: IQE */
#define VTD_QI_WAIT		0x5	/* invalidation wait */
#define VTD_QI_GRAN(lo)		((unsigned int)(((lo) >> 4) & 3))
#define VTD_QI_GRAN_SHIFT	4
/* context-cache descriptor: G 1 global, 2 domain, 3 device */
#define VTD_QI_CC_DID(lo)	((uint16_t)((lo) >> 16))
#define VTD_QI_CC_SID(lo)	((uint16_t)((lo) >> 32))
#define VTD_QI_CC_FM(lo)	((unsigned int)(((lo) >> 48) & 3))
#define VTD_QI_CC_LO_RSVD	0xfffc00000000ff00ULL
#define VTD_QI_CC_HI_RSVD	(~0ULL)
/* IOTLB descriptor: G 1 global, 2 domain, 3 page */
#define VTD_QI_IOTLB_DW		(1ULL << 6)
#define VTD_QI_IOTLB_DR		(1ULL << 7)
#define VTD_QI_IOTLB_DID(lo)	((uint16_t)((lo) >> 16))
#define VTD_QI_IOTLB_LO_RSVD	0xffffffff0000ff00ULL
#define VTD_QI_IOTLB_AM(hi)	((unsigned int)((hi) & 0x3f))
#define VTD_QI_IOTLB_IH		(1ULL << 6)
#define VTD_QI_IOTLB_ADDR(hi)	((hi) & ~0xfffULL)
#define VTD_QI_IOTLB_HI_RSVD	0xf80ULL
/* device-TLB invalidate descriptor: source id, size bit S, address */
#define VTD_QI_DEVTLB_SID(lo)	((uint16_t)((lo) >> 32))
#define VTD_QI_DEVTLB_MIP(lo)	((unsigned int)(((lo) >> 16) & 0x1f))
#define VTD_QI_DEVTLB_LO_RSVD	0x000f0000ffe00ff0ULL /* 11:4, 31:21, 51:48 */
#define VTD_QI_DEVTLB_S		(1ULL << 0)
#define VTD_QI_DEVTLB_ADDR(hi)	((hi) & ~0xfffULL)
#define VTD_QI_DEVTLB_HI_RSVD	0xffeULL
/* wait descriptor */
#define VTD_QI_WAIT_IF		(1ULL << 4)	/* interrupt (ICS.IWC) */
#define VTD_QI_WAIT_SW		(1ULL << 5)	/* status write */
#define VTD_QI_WAIT_FN		(1ULL << 6)	/* fence */
#define VTD_QI_WAIT_PD		(1ULL << 7)	/* page-request drain */
#define VTD_QI_WAIT_DATA(lo)	((uint32_t)((lo) >> 32))
#define VTD_QI_WAIT_LO_RSVD	0x00000000ffffff00ULL
#define VTD_QI_WAIT_ADDR(hi)	((hi) & ~3ULL)
#define VTD_QI_WAIT_HI_RSVD	0x3ULL

#endif
