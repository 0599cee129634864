/*
 * The dmac DMA controller's programming interface: its datasheet, shared by
 * the device model (src/hw/dmac.c) and its driver (src/drivers/dmac.c).
 *
 * The engine is in the spirit of Intel's IOAT/DSA and DPDK's software
 * engine: up to 8 channels, each with a ring of 64-byte descriptors in
 * memory the driver owns, fetched by the device with bus reads; a tail
 * doorbell and a head register in BAR 0; a 32-byte completion record per
 * descriptor written back to memory (status and bytes completed, as DSA's);
 * an MSI vector per channel. All registers and structures are little
 * endian.
 *
 * Indices. HEAD and TAIL are free-running 16-bit ring indices: the slot of
 * index i is i & (ring size - 1). Descriptors [HEAD, TAIL) belong to the
 * device; the driver writes slots from TAIL on and rings the doorbell by
 * writing the new TAIL. All ring slots are usable (no slot is kept free).
 *
 * Batches and fences. The driver marks the last descriptor of each doorbell
 * batch with DMAC_DESC_EOB. A descriptor with DMAC_DESC_FENCE starts only
 * after every earlier descriptor has completed (the engine is in order, so
 * this is always true); if an earlier descriptor of the same batch failed,
 * the fenced descriptor and all later ones of the batch complete with
 * DMAC_CR_NOT_ATTEMPTED and touch no memory. The batch state resets after
 * an EOB descriptor.
 *
 * Errors. A bad source or destination address (no RAM answers: the bus
 * reports an unsupported request) ends the descriptor with INVALID_SRC or
 * INVALID_DST and the bytes moved before it. A descriptor the device cannot
 * fetch, a completion record it cannot write, or a data access refused
 * because Bus Master Enable is clear halts the channel: CH_STATUS reads
 * HALTED with the reason, CH_ERR_ADDR the address, and HEAD stays on the
 * descriptor. Writing CH_CTRL with ABORT recovers a halted channel.
 *
 * Abort. Writing ABORT (with ENABLE) makes the engine stop the descriptor
 * it is moving at the next chunk boundary and complete it and every other
 * descriptor up to TAIL with DMAC_CR_ABORTED; CH_STATUS reads ABORTING
 * until then, and after it no buffer of those descriptors is touched.
 */
#ifndef DMASIM_HW_DMAC_H
#define DMASIM_HW_DMAC_H

#include <stdint.h>

#define DMAC_VENDOR_ID		0xd3a5
#define DMAC_DEVICE_ID		0x0001

#define DMAC_MAX_CHANNELS	8
#define DMAC_RING_MIN		16
#define DMAC_RING_MAX		4096
#define DMAC_RING_DEFAULT	256
#define DMAC_MAX_SG		32	/* entries per side of a COPY_SG */
#define DMAC_MAX_XFER		0xffffffffu /* bytes per descriptor */

/* Global registers (BAR 0). */
#define DMAC_REG_ID		0x000	/* RO: DMAC_ID_VALUE */
#define  DMAC_ID_VALUE		0x43414d44u /* "DMAC" */
#define DMAC_REG_VERSION	0x004	/* RO: major << 16 | minor */
#define  DMAC_VERSION_VALUE	0x00010000u
#define DMAC_REG_CAP		0x008	/* RO: capabilities */
#define  DMAC_CAP_CHANNELS(v)	((v) & 0xf)	   /* channels present */
#define  DMAC_CAP_MAX_SG(v)	(((v) >> 8) & 0xff) /* SG entries per side */
#define  DMAC_CAP_COPY		(1u << 16)
#define  DMAC_CAP_FILL		(1u << 17)
#define  DMAC_CAP_COPY_SG	(1u << 18)
#define  DMAC_CAP_FENCE		(1u << 19)
#define DMAC_REG_RING_SIZE	0x00c	/* RO: configured ring size (ring=) */
#define DMAC_REG_MAX_XFER	0x010	/* RO: largest length of a descriptor */
#define DMAC_REG_INTCOAL	0x014	/* RO: configured coalescing (coalesce=) */

/* Channel n's registers start at DMAC_CH_BASE(n). */
#define DMAC_CH_BASE(n)		(0x100u + (unsigned)(n) * 0x80u)
#define DMAC_CH_RING_BASE	0x00	/* RW 64: bus address of the ring */
#define DMAC_CH_RING_SIZE	0x08	/* RW 32: entries, a power of two */
#define DMAC_CH_CTRL		0x0c	/* RW 32 */
#define  DMAC_CTRL_ENABLE	(1u << 0) /* 0 -> 1 resets HEAD and TAIL */
#define  DMAC_CTRL_ABORT	(1u << 1) /* write 1: abort (self-clearing) */
#define  DMAC_CTRL_PAUSE	(1u << 2) /* fetch no new descriptor */
#define DMAC_CH_TAIL		0x10	/* RW 32: doorbell, 16-bit index */
#define DMAC_CH_HEAD		0x14	/* RO 32: next index to complete */
#define DMAC_CH_STATUS		0x18	/* RO 32: state | error << 8 */
#define  DMAC_STATUS_STATE(v)	((v) & 0xff)
#define  DMAC_STATUS_ERROR(v)	(((v) >> 8) & 0xff)
#define DMAC_CH_INTCOAL		0x1c	/* RW 32: one MSI per N flagged completions */
#define DMAC_CH_ERR_ADDR	0x20	/* RO 64: address of the halting access */
#define DMAC_CH_COMPLETED	0x28	/* RO 64: descriptors completed (any status) */
#define DMAC_CH_ERRORS		0x30	/* RO 64: descriptors completed with an error */
#define DMAC_CH_BYTES		0x38	/* RO 64: bytes written to destinations */

/* Channel states (CH_STATUS bits 0-7). */
enum dmac_state {
	DMAC_STATE_DISABLED = 0,
	DMAC_STATE_IDLE = 1,
	DMAC_STATE_ACTIVE = 2,
	DMAC_STATE_PAUSED = 3,
	DMAC_STATE_HALTED = 4,
	DMAC_STATE_ABORTING = 5,
};

/* Halt reasons (CH_STATUS bits 8-15). */
enum dmac_error {
	DMAC_ERR_NONE = 0,
	DMAC_ERR_DESC_READ = 1,	/* descriptor fetch failed (UR) */
	DMAC_ERR_CR_WRITE = 2,	/* completion record write failed */
	DMAC_ERR_MASTER_ABORT = 3, /* bus mastering disabled */
	DMAC_ERR_RING = 4,	/* ring base or size invalid */
};

/* Descriptor opcodes. */
enum dmac_opcode {
	DMAC_OP_NOP = 0,
	DMAC_OP_COPY = 1,	/* len bytes from src to dst */
	DMAC_OP_FILL = 2,	/* dst byte j = byte (j mod 8) of the pattern */
	DMAC_OP_COPY_SG = 3,	/* src and dst are lists of dmac_sg_entry */
};

/* Descriptor flags. */
#define DMAC_DESC_FENCE		(1u << 0)
#define DMAC_DESC_INTR		(1u << 1) /* raise the channel's MSI */
#define DMAC_DESC_COMPL		(1u << 2) /* write the completion record */
#define DMAC_DESC_EOB		(1u << 3) /* last descriptor of a batch */

struct dmac_desc {
	uint8_t opcode;
	uint8_t rsvd0;
	uint16_t flags;
	uint32_t len;		/* COPY, FILL: bytes; COPY_SG: total */
	uint64_t src;		/* COPY: address; FILL: pattern; SG: list */
	uint64_t dst;		/* COPY, FILL: address; SG: list */
	uint64_t compl;		/* completion record, 32-byte aligned */
	uint16_t nsrc, ndst;	/* COPY_SG: entries, 1..DMAC_MAX_SG */
	uint32_t rsvd1;
	uint64_t user;		/* copied to the completion record */
	uint64_t rsvd2[2];
};

/* A scatter-gather entry of a COPY_SG list. */
struct dmac_sg_entry {
	uint64_t addr;
	uint32_t len;		/* > 0 */
	uint32_t rsvd;
};

/* Completion record status codes. */
enum dmac_cr_status {
	DMAC_CR_NONE = 0,	/* not written yet */
	DMAC_CR_SUCCESS = 1,
	DMAC_CR_INVALID_SRC = 0x10,
	DMAC_CR_INVALID_DST = 0x11,
	DMAC_CR_INVALID_LEN = 0x12, /* 0, too long, SG totals differ */
	DMAC_CR_BAD_OPCODE = 0x13,
	DMAC_CR_NOT_ATTEMPTED = 0x14, /* behind a fence after a failure */
	DMAC_CR_ABORTED = 0x15,
};

struct dmac_cr {
	uint8_t status;		/* enum dmac_cr_status */
	uint8_t rsvd0;
	uint16_t index;		/* ring index of the descriptor */
	uint32_t bytes_completed;
	uint64_t fault_addr;	/* the address that failed, if any */
	uint64_t user;		/* the descriptor's user field */
	uint64_t rsvd1;
};

_Static_assert(sizeof(struct dmac_desc) == 64, "descriptor is 64 bytes");
_Static_assert(sizeof(struct dmac_sg_entry) == 16, "SG entry is 16 bytes");
_Static_assert(sizeof(struct dmac_cr) == 32, "completion record is 32 bytes");

#endif
