/*
 * The dmasim disk controller: its programming interface, as a datasheet.
 * The device model (src/hw/disk.c) and its driver (src/drivers/ata.c)
 * both include this file and nothing else of each other.
 *
 * One PCI function (vendor 0xd3a5, device 0x0002, class 01:01:80, an IDE
 * controller capable of bus mastering) with one 4 KiB memory BAR and one
 * MSI vector, in front of one ATA disk of 512-byte sectors. It offers
 * two ways to move data, as an ATA controller of the UDMA era does:
 *
 * PIO, through the task file (ATA/ATAPI-8 ACS, 7.x): the host writes the
 * sector count and LBA, then a command; the drive sets DRQ and the host
 * moves every 16-bit word (or 32-bit, when the data port is 32 bits
 * wide) through the DATA register itself. Each data-port access takes
 * one ATA PIO cycle on the cable (mode 0: 600 ns ... mode 4: 120 ns per
 * 16 bits, so 3.3 ... 16.7 MB/s), during which the CPU that issued it
 * stalls, as an IN or OUT instruction does. An interrupt is raised each
 * time a sector (a DRQ data block) is ready, unless nIEN is set.
 *
 * DMA, through a command ring in host memory (in the spirit of AHCI's
 * command list): each 32-byte command names an ATA command, an LBA, a
 * sector count and a table of PRDs (physical region descriptors, as a
 * bus-master IDE controller has: address, byte count, end of table).
 * The host writes commands and then the ring's tail index (the
 * doorbell); the controller's engine fetches them by bus-master reads,
 * moves the data at the drive's media rate, writes each command's
 * status back into its ring slot and raises the MSI for commands that
 * ask for it. All multi-byte fields are little-endian.
 */
#ifndef DMASIM_HW_DISK_H
#define DMASIM_HW_DISK_H

#include <stdint.h>

#define DISK_PCI_VENDOR	 0xd3a5
#define DISK_PCI_DEVICE	 0x0002
#define DISK_SECTOR_SIZE 512
#define DISK_BAR0_SIZE	 0x1000

/* ---- Task file (PIO): one register every 4 bytes (sizes in brackets) */
#define DISK_REG_DATA	   0x00	 /* [2 or 4] PIO data port */
#define DISK_REG_ERROR	   0x04	 /* [1] R: error bits */
#define DISK_REG_FEATURES  0x04	 /* [1] W: features */
#define DISK_REG_NSECT	   0x08	 /* [2] sector count (0 = 65536; 256 for 28-bit commands) */
#define DISK_REG_LBA	   0x10	 /* [8] LBA, 48 bits used (28 for 28-bit commands) */
#define DISK_REG_DEVICE	   0x18	 /* [1] device: bit 6 = LBA addressing */
#define DISK_REG_STATUS	   0x1c	 /* [1] R: status; reading it acknowledges INTRQ */
#define DISK_REG_COMMAND   0x1c	 /* [1] W: command, starts it */
#define DISK_REG_ALTSTATUS 0x20	 /* [1] R: status, no side effect */
#define DISK_REG_CONTROL   0x20	 /* [1] W: device control */

/* Status register (ACS-8 "Status field"). */
#define ATA_BSY	 0x80 /* busy: other bits are not valid */
#define ATA_DRDY 0x40 /* device ready */
#define ATA_DF	 0x20 /* device fault */
#define ATA_DSC	 0x10 /* seek complete (obsolete, set when ready) */
#define ATA_DRQ	 0x08 /* data request: the data port has a word */
#define ATA_ERR	 0x01 /* error: see the error register */

/* Error register. */
#define ATA_ICRC 0x80 /* interface CRC (a DMA bus error) */
#define ATA_UNC	 0x40 /* uncorrectable data (media I/O failed) */
#define ATA_IDNF 0x10 /* ID not found (LBA beyond the end) */
#define ATA_ABRT 0x04 /* command aborted (unknown or not allowed) */

/* Device control register. */
#define ATA_NIEN 0x02 /* no interrupts */
#define ATA_SRST 0x04 /* software reset: abort the PIO command */

#define ATA_DEVICE_LBA 0x40

/* ATA command codes (ACS-8). The DMA ones are only valid in the ring. */
#define ATA_CMD_READ_PIO	 0x20 /* READ SECTORS, 28-bit */
#define ATA_CMD_READ_PIO_EXT	 0x24 /* READ SECTORS EXT, 48-bit */
#define ATA_CMD_READ_DMA_EXT	 0x25
#define ATA_CMD_WRITE_PIO	 0x30
#define ATA_CMD_WRITE_PIO_EXT	 0x34
#define ATA_CMD_WRITE_DMA_EXT	 0x35
#define ATA_CMD_READ_DMA	 0xc8
#define ATA_CMD_WRITE_DMA	 0xca
#define ATA_CMD_FLUSH		 0xe7
#define ATA_CMD_FLUSH_EXT	 0xea
#define ATA_CMD_IDENTIFY	 0xec

/* IDENTIFY DEVICE data words the driver uses (ACS-8 table 45). */
#define ATA_ID_PROD		 27  /* model, 40 ASCII chars, byte-swapped */
#define ATA_ID_PROD_LEN		 40
#define ATA_ID_FW_REV		 23  /* 8 chars */
#define ATA_ID_PIO_MODES	 64  /* bit 0: PIO3, bit 1: PIO4 */
#define ATA_ID_MAJOR_VER	 80
#define ATA_ID_UDMA_MODES	 88  /* bits 0-6: UDMA0-6 supported */
#define ATA_ID_LBA_CAPACITY	 60  /* 2 words, 28-bit */
#define ATA_ID_LBA_CAPACITY_2	 100 /* 4 words, 48-bit */
#define ATA_ID_WORDS		 256

/* ---- Controller registers (vendor-specific) */
#define DISK_REG_CAP	   0x40	 /* [4] RO: capabilities */
#define  DISK_CAP_RING	   0x1	 /* DMA command ring present */
#define  DISK_CAP_PIO32	   0x2	 /* the data port is 32 bits wide */
#define DISK_REG_PIO_CYCLE 0x44	 /* [4] RO: ns per 16-bit PIO cycle */
#define DISK_REG_MEDIA_BPS 0x48	 /* [8] RO: modelled media rate, bytes/s (0: unlimited) */
#define DISK_REG_LATENCY   0x50	 /* [8] RO: modelled latency per command, ns */

/* ---- DMA command ring */
#define DISK_REG_RING_BASE   0x100 /* [8] bus address of slot 0, 64-byte aligned */
#define DISK_REG_RING_SIZE   0x108 /* [4] slots, a power of two, 1..DISK_RING_MAX */
#define DISK_REG_RING_CTRL   0x10c /* [4] */
#define  DISK_RING_ENABLE    0x1   /* fetch commands while head != tail */
#define  DISK_RING_RESET     0x2   /* stop (aborting the command under way),
				      head = tail = 0, clear the halt; the
				      write completes once the engine no
				      longer touches memory */
#define DISK_REG_RING_TAIL   0x110 /* [4] doorbell: producer index (free-running) */
#define DISK_REG_RING_HEAD   0x114 /* [4] RO: consumer index (free-running) */
#define DISK_REG_RING_STATUS 0x118 /* [4] RO */
#define  DISK_RING_RUNNING   0x1   /* a command is being executed */
#define  DISK_RING_HALTED    0x2   /* stopped on a fatal error: see bits 15:8 */
#define  DISK_RING_HALT_SHIFT 8
#define DISK_REG_INT_STATUS  0x11c /* [4] write 1 to clear */
#define  DISK_INT_DONE	     0x1   /* a command with DISK_CMD_IRQ completed */
#define  DISK_INT_HALT	     0x2   /* the ring halted */
#define  DISK_INT_INTRQ	     0x4   /* RO: the task file's INTRQ is pending
				      (reading DISK_REG_STATUS clears it) */

#define DISK_RING_MAX	     4096

/* Why the ring halted (DISK_REG_RING_STATUS bits 15:8): the engine can
 * no longer report through memory, so it stops and says so here. */
enum disk_halt {
	DISK_HALT_NONE = 0,
	DISK_HALT_MASTER_ABORT, /* bus mastering is disabled (BME clear) */
	DISK_HALT_RING_FETCH,	/* a ring slot did not answer (UR) */
	DISK_HALT_STATUS_WRITE, /* a status write-back did not answer */
	DISK_HALT_DOORBELL,	/* tail - head beyond the ring size */
	DISK_HALT_NO_RING,	/* doorbell with no ring programmed */
};

/* A ring slot. The host fills the first 24 bytes and zeroes the rest;
 * the controller writes bytes_done, error and then status. */
struct disk_cmd {
	uint64_t lba;
	uint64_t prdt;	      /* bus address of the PRD table, 16-byte aligned */
	uint32_t nsect;	      /* sectors, 1..DISK_CMD_MAX_SECT */
	uint8_t opcode;	      /* ATA_CMD_READ_DMA_EXT, _WRITE_DMA_EXT, _FLUSH_EXT */
	uint8_t flags;
	uint16_t rsvd0;
	/* written by the controller */
	uint32_t bytes_done;  /* bytes moved before the end or the error */
	uint8_t error;	      /* ATA error bits */
	uint8_t status;	      /* enum disk_cmd_status; written last */
	uint16_t rsvd1;
};

#define DISK_CMD_IRQ	  0x01 /* raise the MSI when this command completes */
#define DISK_CMD_MAX_SECT 65536

enum disk_cmd_status {
	DISK_ST_PENDING = 0,   /* the host writes 0 before ringing */
	DISK_ST_OK,
	DISK_ST_BUS_ERROR,     /* a data buffer did not answer (hole, beyond RAM) */
	DISK_ST_PRD_ERROR,     /* PRD table unreadable, a bad entry, or too short */
	DISK_ST_LBA_ERROR,     /* LBA + count beyond the end of the disk */
	DISK_ST_BAD_COMMAND,   /* unknown opcode, zero or too many sectors */
	DISK_ST_MEDIA_ERROR,   /* the image file failed */
	DISK_ST_ABORTED,       /* the ring was reset during the command */
};

/* A physical region descriptor: a piece of the buffer. The table ends
 * at the entry with DISK_PRD_EOT. A table longer than the transfer is
 * fine (the rest is not used); a shorter one is a PRD error. */
struct disk_prd {
	uint64_t addr;	      /* bus address, any alignment */
	uint32_t len;	      /* bytes, 1..DISK_PRD_MAX_LEN */
	uint32_t flags;
};

#define DISK_PRD_EOT	    0x80000000u
#define DISK_PRD_MAX_LEN    (4u << 20)
#define DISK_PRD_MAX_ENTRIES 65536 /* a longer table is a PRD error */

_Static_assert(sizeof(struct disk_cmd) == 32, "ring slot layout");
_Static_assert(sizeof(struct disk_prd) == 16, "PRD layout");

/* PIO cycle time of ATA PIO modes 0-4 (t0, ACS/ATA-ATAPI-6), in ns per
 * 16-bit transfer. */
#define ATA_PIO_CYCLE_NS { 600, 383, 240, 180, 120 }

#endif
