/*
 * dmasim disks: read and write sectors of a machine's `disk` devices
 * through their kernel driver (dmasim_ata), by PIO or by DMA, as a block
 * layer would. This is what the benchmarks, the tour and the tests use;
 * the device's programming interface is in dmasim/hw/disk.h.
 *
 * The calling thread must be in the disk's machine (dmasim_enter):
 * functions return -EINVAL otherwise. Functions return 0 or a negative
 * errno value: -EINVAL (bad arguments, beyond the end of the disk), -EIO
 * (the device reported an error, or its DMA engine halted), -ETIMEDOUT
 * (no completion in time: the ring was reset), -EFAULT (a buffer the
 * device cannot reach), -ENOMEM.
 */
#ifndef DMASIM_DISK_H
#define DMASIM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmasim/dmasim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DMASIM_DISK_SECTOR 512

/* How the data moves. */
#define DMASIM_PIO 1 /* the CPU copies every word through the data port */
#define DMASIM_DMA 2 /* the device's engine moves it; one interrupt */

struct dmasim_disk;
struct dmasim_disk_req;

/*
 * The disk whose device id (`--device disk,id=ID`; the default disk is
 * "disk0") or PCI name ("0000:01:00.0") is @name, or NULL if there is
 * none or no driver bound to it.
 */
struct dmasim_disk *dmasim_disk_find(struct dmasim_machine *m,
				     const char *name);

/*
 * Move @nsect sectors starting at @lba between the disk and @buf, by
 * DMASIM_PIO or DMASIM_DMA. Any buffer works. With DMA, a buffer in the
 * machine's RAM (kernel memory: page_address() of alloc_pages(), ...)
 * is mapped with dma_map_single and the device moves the data straight
 * into it; any other buffer is bounced through kernel memory, which
 * costs the CPU a copy.
 */
int dmasim_disk_read(struct dmasim_disk *d, uint64_t lba, void *buf,
		     uint32_t nsect, unsigned int mode);
int dmasim_disk_write(struct dmasim_disk *d, uint64_t lba, const void *buf,
		      uint32_t nsect, unsigned int mode);
/* FLUSH CACHE EXT through the ring: the image reaches stable storage. */
int dmasim_disk_flush(struct dmasim_disk *d);

/*
 * Asynchronous DMA: start a transfer and come back at once, so the CPU
 * can work while the device moves data. @buf must be in the machine's
 * RAM (-EFAULT otherwise) and must not be touched until
 * dmasim_disk_wait, which sleeps until the interrupt, unmaps, frees the
 * request and returns the transfer's result.
 */
int dmasim_disk_submit(struct dmasim_disk *d, bool write, uint64_t lba,
		       void *buf, uint32_t nsect,
		       struct dmasim_disk_req **out);
int dmasim_disk_wait(struct dmasim_disk_req *req);

/*
 * One DMA command with PRDs given as bus addresses, unmapped and
 * unchecked: what a buggy or hostile driver could hand the device (for
 * tests and scenarios). At most 256 segments and 32768 sectors. The
 * result says what the device wrote back.
 */
struct dmasim_disk_seg {
	uint64_t bus_addr;
	uint32_t len;
};

struct dmasim_disk_result {
	unsigned int status;	/* enum disk_cmd_status (dmasim/hw/disk.h) */
	unsigned int error;	/* ATA error bits */
	uint32_t bytes_done;
};

int dmasim_disk_rw_bus(struct dmasim_disk *d, bool write, uint64_t lba,
		       uint32_t nsect, const struct dmasim_disk_seg *segs,
		       unsigned int nseg, struct dmasim_disk_result *res);

struct dmasim_disk_info {
	char id[32];		/* "disk0" */
	char pci_name[16];	/* "0000:01:00.0" */
	char model[41];		/* from IDENTIFY DEVICE */
	uint64_t sectors;
	unsigned int sector_size;
	unsigned int pio_mode;	/* ATA PIO mode 0-4 */
	unsigned int pio_width; /* bits of the data port: 16 or 32 */
	double pio_bytes_per_sec;
	uint64_t dma_bytes_per_sec; /* modelled media rate (0: unlimited) */
	unsigned int irq;
	uint64_t irqs;		/* interrupts taken so far (/proc/interrupts) */
	uint64_t dma_commands, dma_errors, timeouts, bounced_bytes;
};

int dmasim_disk_info(struct dmasim_disk *d, struct dmasim_disk_info *info);

/* How long a command may take beyond its modelled time before the driver
 * resets the ring (default 5000 ms; Linux's is /sys/block/X/device/timeout). */
void dmasim_disk_set_timeout(struct dmasim_disk *d, unsigned int ms);

#ifdef __cplusplus
}
#endif
#endif
