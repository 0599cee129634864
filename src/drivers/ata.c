/*
 * dmasim_ata: the driver of the dmasim disk controller (dmasim/hw/disk.h),
 * written against the Linux driver API only, in the manner of libata's
 * SFF and AHCI drivers:
 *
 * - probe enables the function and bus mastering, maps BAR 0, sets a
 *   64-bit DMA mask, takes one MSI vector, allocates the command ring and
 *   its PRD tables in coherent memory and identifies the drive (IDENTIFY
 *   DEVICE, by PIO, as libata does);
 * - PIO: the task file, one interrupt per sector (a DRQ block), every
 *   word moved by the CPU through the data port (ioread16_rep's loop);
 * - DMA: a buffer mapped with dma_map_single, cut into PRDs of at most
 *   64 KiB (the block layer's default max_segment_size), commands in the
 *   ring, one doorbell write, one interrupt for the last command; the
 *   CPU sleeps in wait_for_completion meanwhile;
 * - errors: a command's status comes back in its ring slot; a halted
 *   ring (the engine could not reach memory, e.g. bus mastering off) or
 *   a command that never completes is recovered by a ring reset, failing
 *   the commands in flight (libata's error handler would retry them).
 *
 * At the end, the block-layer face the rest of dmasim uses
 * (dmasim/disk.h): finding a disk by id, bounce buffers, request
 * splitting.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/disk.h"
#include "dmasim/hw/disk.h"
#include "dmasim/linux/completion.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/interrupt.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
/* only the block face at the end uses these: a function by its id, and
 * the interrupt counts of /proc/interrupts */
#include "kernel/machine.h"

#define DRV_NAME	 "dmasim_ata"
#define ATA_SLOTS	 32
#define ATA_PRD_PER_CMD	 256
#define ATA_SEG_MAX	 (64u << 10)
#define ATA_CMD_SECT	 (ATA_PRD_PER_CMD * ATA_SEG_MAX / DISK_SECTOR_SIZE)
#define ATA_REQ_SECT	 (ATA_SLOTS * ATA_CMD_SECT)
#define ATA_PIO_CMD_SECT 256
#define ATA_TIMEOUT_MS	 5000
#define ATA_BOUNCE_ORDER 8 /* 1 MiB */

struct ata_req {
	struct completion done;
	int error;
	unsigned int pending;	/* commands not completed */
	uint32_t bytes_done;
	uint8_t status, ata_error;
	uint64_t bytes;		/* for the timeout */
	/* the mapping, for requests from dmasim_disk_submit */
	dma_addr_t dma;
	size_t len;
	enum dma_data_direction dir;
};

struct ata_host {
	struct pci_dev *pdev;
	u8 __iomem *regs;	/* BAR 0 */
	unsigned int irq;
	char model[ATA_ID_PROD_LEN + 1];
	u64 sectors;
	unsigned int pio_width, pio_cycle, pio_mode;
	u64 media_bps, latency_ns;
	_Atomic unsigned int timeout_ms;
	/* PIO: one task file */
	pthread_mutex_t pio_lock;
	struct completion pio_irq;
	/* DMA: the ring */
	struct disk_cmd *ring;
	dma_addr_t ring_dma;
	struct disk_prd *prdt;
	dma_addr_t prdt_dma;
	struct ata_req *slot_req[ATA_SLOTS];
	u32 head, tail;		/* retired up to / filled up to */
	bool halted;		/* seen DISK_INT_HALT: reset before reuse */
	pthread_mutex_t lock;	/* the ring state (a spinlock in Linux) */
	pthread_mutex_t submit_lock; /* submitters and recovery */
	struct completion slot_free;
	_Atomic u64 dma_commands, dma_errors, timeouts, bounced;
};

static const struct pci_device_id ata_ids[] = {
	{ PCI_DEVICE(DISK_PCI_VENDOR, DISK_PCI_DEVICE) },
	{ 0 },
};

static const char *const cmd_status_names[] = {
	[DISK_ST_PENDING] = "pending",
	[DISK_ST_OK] = "ok",
	[DISK_ST_BUS_ERROR] = "bus error",
	[DISK_ST_PRD_ERROR] = "PRD error",
	[DISK_ST_LBA_ERROR] = "LBA out of range",
	[DISK_ST_BAD_COMMAND] = "bad command",
	[DISK_ST_MEDIA_ERROR] = "media error",
	[DISK_ST_ABORTED] = "aborted",
};

static const char *const halt_names[] = {
	[DISK_HALT_NONE] = "none",
	[DISK_HALT_MASTER_ABORT] = "master abort (bus mastering disabled)",
	[DISK_HALT_RING_FETCH] = "ring fetch failed",
	[DISK_HALT_STATUS_WRITE] = "status write-back failed",
	[DISK_HALT_DOORBELL] = "bad doorbell",
	[DISK_HALT_NO_RING] = "no ring",
};

static unsigned int timeout_for(struct ata_host *h, u64 bytes)
{
	u64 ms = atomic_load(&h->timeout_ms) + 2 * h->latency_ns / 1000000;

	if (h->media_bps)
		ms += 2 * bytes * 1000 / h->media_bps;
	return ms > 3600000 ? 3600000 : (unsigned int)ms;
}

/* ------------------------------------------------------------ interrupt */

/*
 * Hand back the ring slots the device has finished: those below its
 * head index, as read from the register (the device updates it after
 * writing a slot's status back). Under h->lock.
 */
static void ata_retire(struct ata_host *h, u32 hw_head)
{
	unsigned int n = 0;

	while (h->head != h->tail && h->head != hw_head) {
		unsigned int s = h->head % ATA_SLOTS;
		struct disk_cmd *c = &h->ring[s];
		struct ata_req *r = h->slot_req[s];

		h->slot_req[s] = NULL;
		h->head++;
		n++;
		if (!r)
			continue;
		r->bytes_done += c->bytes_done;
		if (c->status != DISK_ST_OK && !r->error) {
			r->error = -EIO;
			r->status = c->status;
			r->ata_error = c->error;
			atomic_fetch_add(&h->dma_errors, 1);
		}
		if (--r->pending == 0)
			complete(&r->done);
	}
	if (n)
		complete(&h->slot_free);
}

/* Fail every command still in flight. Under h->lock. */
static void ata_fail_inflight(struct ata_host *h, int err)
{
	for (u32 i = h->head; i != h->tail; i++) {
		struct ata_req *r = h->slot_req[i % ATA_SLOTS];

		h->slot_req[i % ATA_SLOTS] = NULL;
		if (!r)
			continue;
		if (!r->error) {
			r->error = err;
			atomic_fetch_add(&h->dma_errors, 1);
		}
		if (--r->pending == 0)
			complete(&r->done);
	}
	h->head = h->tail;
	complete(&h->slot_free);
}

static irqreturn_t ata_interrupt(int irq, void *dev_id)
{
	struct ata_host *h = dev_id;
	u32 s = readl(h->regs + DISK_REG_INT_STATUS);
	u32 ring = s & (DISK_INT_DONE | DISK_INT_HALT);

	(void)irq;
	if (!s)
		return IRQ_NONE;
	if (s & DISK_INT_INTRQ)
		complete(&h->pio_irq);
	if (!ring)
		return IRQ_HANDLED;
	writel(ring, h->regs + DISK_REG_INT_STATUS);
	pthread_mutex_lock(&h->lock);
	ata_retire(h, readl(h->regs + DISK_REG_RING_HEAD));
	if (s & DISK_INT_HALT) {
		/* the engine stopped and touches nothing: fail what it left */
		h->halted = true;
		ata_fail_inflight(h, -EIO);
	}
	pthread_mutex_unlock(&h->lock);
	return IRQ_HANDLED;
}

/* ------------------------------------------------------------------ PIO */

/* Wait for INTRQ, then read (and so acknowledge) the status. */
static int pio_wait(struct ata_host *h, u8 *status)
{
	for (;;) {
		if (!wait_for_completion_timeout(&h->pio_irq,
				msecs_to_jiffies(atomic_load(&h->timeout_ms))))
			return -ETIMEDOUT;
		*status = readb(h->regs + DISK_REG_STATUS);
		if (!(*status & ATA_BSY))
			return 0;
	}
}

/* One DRQ block through the data port, a word at a time. */
static void pio_sector(struct ata_host *h, u8 *p, bool write)
{
	u8 __iomem *port = h->regs + DISK_REG_DATA;

	if (h->pio_width == 32) {
		for (unsigned int i = 0; i < DISK_SECTOR_SIZE; i += 4) {
			u32 v;

			if (write) {
				memcpy(&v, p + i, 4);
				writel(v, port);
			} else {
				v = readl(port);
				memcpy(p + i, &v, 4);
			}
		}
		return;
	}
	for (unsigned int i = 0; i < DISK_SECTOR_SIZE; i += 2) {
		u16 v;

		if (write) {
			memcpy(&v, p + i, 2);
			writew(v, port);
		} else {
			v = readw(port);
			memcpy(p + i, &v, 2);
		}
	}
}

static int pio_error(struct ata_host *h, u8 status, const char *what)
{
	u8 err = readb(h->regs + DISK_REG_ERROR);

	dev_err(&h->pdev->dev, "%s failed: status %#04x error %#04x\n", what,
		status, err);
	return -EIO;
}

static void pio_issue(struct ata_host *h, u8 cmd, u64 lba, u32 n)
{
	reinit_completion(&h->pio_irq);
	writew((u16)(n == 65536 ? 0 : n), h->regs + DISK_REG_NSECT);
	writeq(lba, h->regs + DISK_REG_LBA);
	writeb(ATA_DEVICE_LBA, h->regs + DISK_REG_DEVICE);
	writeb(cmd, h->regs + DISK_REG_COMMAND);
}

/* PIO data-in: an interrupt, then a sector, for each sector. */
static int pio_read_cmd(struct ata_host *h, u8 cmd, u64 lba, u8 *buf, u32 n)
{
	u8 st;
	int ret;

	pio_issue(h, cmd, lba, n);
	for (u32 i = 0; i < n; i++) {
		ret = pio_wait(h, &st);
		if (ret)
			return ret;
		if ((st & (ATA_ERR | ATA_DF)) || !(st & ATA_DRQ))
			return pio_error(h, st, "PIO read");
		pio_sector(h, buf + (size_t)i * DISK_SECTOR_SIZE, false);
	}
	return 0;
}

/* PIO data-out: DRQ at once for the first sector, then an interrupt
 * after each sector, the last one ending the command. */
static int pio_write_cmd(struct ata_host *h, u64 lba, const u8 *buf, u32 n)
{
	u8 st;
	int ret;

	pio_issue(h, ATA_CMD_WRITE_PIO_EXT, lba, n);
	st = readb(h->regs + DISK_REG_ALTSTATUS);
	for (u32 i = 0; i < n; i++) {
		if ((st & (ATA_ERR | ATA_DF)) || !(st & ATA_DRQ))
			return pio_error(h, st, "PIO write");
		pio_sector(h, (u8 *)buf + (size_t)i * DISK_SECTOR_SIZE, true);
		ret = pio_wait(h, &st);
		if (ret)
			return ret;
	}
	if (st & (ATA_ERR | ATA_DF | ATA_DRQ))
		return pio_error(h, st, "PIO write");
	return 0;
}

static int ata_pio_rw(struct ata_host *h, bool write, u64 lba, u8 *buf,
		      u32 nsect)
{
	int ret = 0;

	pthread_mutex_lock(&h->pio_lock);
	while (nsect && !ret) {
		u32 n = nsect < ATA_PIO_CMD_SECT ? nsect : ATA_PIO_CMD_SECT;

		ret = write ? pio_write_cmd(h, lba, buf, n)
			    : pio_read_cmd(h, ATA_CMD_READ_PIO_EXT, lba, buf, n);
		if (ret == -ETIMEDOUT) {
			dev_err(&h->pdev->dev, "PIO command timeout, resetting\n");
			writeb(ATA_SRST, h->regs + DISK_REG_CONTROL);
			writeb(0, h->regs + DISK_REG_CONTROL);
			atomic_fetch_add(&h->timeouts, 1);
		}
		lba += n;
		buf += (size_t)n * DISK_SECTOR_SIZE;
		nsect -= n;
	}
	pthread_mutex_unlock(&h->pio_lock);
	return ret;
}

/* ------------------------------------------------------------------ DMA */

static void ring_program(struct ata_host *h)
{
	writel(DISK_RING_RESET, h->regs + DISK_REG_RING_CTRL);
	writeq(h->ring_dma, h->regs + DISK_REG_RING_BASE);
	writel(ATA_SLOTS, h->regs + DISK_REG_RING_SIZE);
	writel(DISK_RING_ENABLE, h->regs + DISK_REG_RING_CTRL);
}

/* Reset the ring (the engine stops touching memory first) and fail what
 * was in flight. Under submit_lock, not lock. */
static void ata_recover(struct ata_host *h, int err)
{
	u32 rs = readl(h->regs + DISK_REG_RING_STATUS);
	unsigned int why = (rs >> DISK_RING_HALT_SHIFT) & 0xff;

	if (rs & DISK_RING_HALTED)
		dev_err(&h->pdev->dev, "DMA engine halted: %s; resetting the ring\n",
			why < sizeof(halt_names) / sizeof(halt_names[0])
				? halt_names[why] : "?");
	else if (err == -ETIMEDOUT)
		dev_err(&h->pdev->dev, "DMA command timeout; resetting the ring\n");
	/* stop the engine where it is; what it finished is below its head */
	writel(0, h->regs + DISK_REG_RING_CTRL);
	pthread_mutex_lock(&h->lock);
	ata_retire(h, readl(h->regs + DISK_REG_RING_HEAD));
	writel(DISK_RING_RESET, h->regs + DISK_REG_RING_CTRL);
	ata_fail_inflight(h, (rs & DISK_RING_HALTED) ? -EIO : err);
	h->head = h->tail = 0;
	h->halted = false;
	pthread_mutex_unlock(&h->lock);
	ring_program(h);
}

/* Fill one command: PRDs cut from [dma, dma + bytes). Under h->lock. */
static void fill_cmd(struct ata_host *h, unsigned int slot, u8 op, u64 lba,
		     u32 nsect, dma_addr_t dma, u32 bytes, bool irq)
{
	struct disk_prd *prd = &h->prdt[slot * ATA_PRD_PER_CMD];
	struct disk_cmd *c = &h->ring[slot];
	unsigned int i = 0;

	while (bytes) {
		u32 n = bytes < ATA_SEG_MAX ? bytes : ATA_SEG_MAX;

		prd[i].addr = dma;
		prd[i].len = n;
		prd[i].flags = 0;
		dma += n;
		bytes -= n;
		i++;
	}
	if (i)
		prd[i - 1].flags = DISK_PRD_EOT;
	memset(c, 0, sizeof(*c));
	c->lba = lba;
	c->prdt = h->prdt_dma + (dma_addr_t)slot * ATA_PRD_PER_CMD * sizeof(*prd);
	c->nsect = nsect;
	c->opcode = op;
	c->flags = irq ? DISK_CMD_IRQ : 0;
}

/* Wait for @n free slots (a recovery may be needed first). Called with
 * submit_lock; returns with lock held too. */
static void reserve_slots(struct ata_host *h, unsigned int n)
{
	pthread_mutex_lock(&h->lock);
	while (h->halted || ATA_SLOTS - (h->tail - h->head) < n) {
		bool halted = h->halted;

		pthread_mutex_unlock(&h->lock);
		if (halted)
			ata_recover(h, -EIO);
		else if (!wait_for_completion_timeout(&h->slot_free,
				msecs_to_jiffies(timeout_for(h, 0))))
			ata_recover(h, -ETIMEDOUT);
		pthread_mutex_lock(&h->lock);
	}
}

/* Queue @r: commands for @nsect sectors at @lba from the mapped range
 * @dma; the last command interrupts. */
static void ata_queue(struct ata_host *h, struct ata_req *r, u8 op, u64 lba,
		      dma_addr_t dma, u32 nsect)
{
	unsigned int ncmd = (nsect + ATA_CMD_SECT - 1) / ATA_CMD_SECT;
	u32 tail;

	init_completion(&r->done);
	r->pending = ncmd ? ncmd : 1;
	r->bytes = (u64)nsect * DISK_SECTOR_SIZE;
	pthread_mutex_lock(&h->submit_lock);
	reserve_slots(h, r->pending);
	for (unsigned int i = 0; i < r->pending; i++) {
		u32 n = nsect < ATA_CMD_SECT ? nsect : ATA_CMD_SECT;
		unsigned int slot = h->tail % ATA_SLOTS;

		fill_cmd(h, slot, op, lba, n, dma, n * DISK_SECTOR_SIZE,
			 i + 1 == r->pending);
		h->slot_req[slot] = r;
		h->tail++;
		lba += n;
		dma += (dma_addr_t)n * DISK_SECTOR_SIZE;
		nsect -= n;
	}
	tail = h->tail;
	atomic_fetch_add(&h->dma_commands, r->pending);
	pthread_mutex_unlock(&h->lock);
	/* the doorbell; in inline mode the command runs (and interrupts)
	 * inside this write */
	writel(tail, h->regs + DISK_REG_RING_TAIL);
	pthread_mutex_unlock(&h->submit_lock);
}

/* Sleep until @r completes; on a timeout, recover the ring. */
static int ata_wait(struct ata_host *h, struct ata_req *r)
{
	unsigned int ms = timeout_for(h, r->bytes);

	if (!wait_for_completion_timeout(&r->done, msecs_to_jiffies(ms))) {
		bool done;

		pthread_mutex_lock(&h->submit_lock);
		pthread_mutex_lock(&h->lock);
		done = r->pending == 0;
		pthread_mutex_unlock(&h->lock);
		if (!done) {
			atomic_fetch_add(&h->timeouts, 1);
			ata_recover(h, -ETIMEDOUT);
		}
		pthread_mutex_unlock(&h->submit_lock);
		wait_for_completion(&r->done);
	}
	if (r->error && r->status)
		dev_err(&h->pdev->dev, "DMA command failed: %s, error %#04x, %u bytes done\n",
			cmd_status_names[r->status],
			r->ata_error, r->bytes_done);
	return r->error;
}

/* A mapped buffer, whole: split into requests the ring can hold. */
static int ata_dma_rw(struct ata_host *h, bool write, u64 lba,
		      dma_addr_t dma, u32 nsect)
{
	int ret = 0;

	while (nsect && !ret) {
		u32 n = nsect < ATA_REQ_SECT ? nsect : ATA_REQ_SECT;
		struct ata_req r = { 0 };

		ata_queue(h, &r, write ? ATA_CMD_WRITE_DMA_EXT
				       : ATA_CMD_READ_DMA_EXT, lba, dma, n);
		ret = ata_wait(h, &r);
		lba += n;
		dma += (dma_addr_t)n * DISK_SECTOR_SIZE;
		nsect -= n;
	}
	return ret;
}

/* --------------------------------------------------------------- probe */

static void id_string(const u16 *id, unsigned int w, unsigned int len,
		      char *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < len / 2; i++) {
		out[n++] = (char)(id[w + i] >> 8);
		out[n++] = (char)(id[w + i] & 0xff);
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static int ata_identify(struct ata_host *h)
{
	u16 id[ATA_ID_WORDS];
	u8 raw[DISK_SECTOR_SIZE];
	int ret;

	pthread_mutex_lock(&h->pio_lock);
	ret = pio_read_cmd(h, ATA_CMD_IDENTIFY, 0, raw, 1);
	pthread_mutex_unlock(&h->pio_lock);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < ATA_ID_WORDS; i++)
		id[i] = (u16)(raw[2 * i] | raw[2 * i + 1] << 8);
	id_string(id, ATA_ID_PROD, ATA_ID_PROD_LEN, h->model);
	h->sectors = 0;
	for (unsigned int i = 0; i < 4; i++)
		h->sectors |= (u64)id[ATA_ID_LBA_CAPACITY_2 + i] << (16 * i);
	return 0;
}

static void ata_read_caps(struct ata_host *h)
{
	static const unsigned int cycle[] = ATA_PIO_CYCLE_NS;

	h->pio_width = readl(h->regs + DISK_REG_CAP) & DISK_CAP_PIO32 ? 32 : 16;
	h->pio_cycle = readl(h->regs + DISK_REG_PIO_CYCLE);
	h->media_bps = readq(h->regs + DISK_REG_MEDIA_BPS);
	h->latency_ns = readq(h->regs + DISK_REG_LATENCY);
	for (unsigned int m = 0; m < 5; m++)
		if (cycle[m] == h->pio_cycle)
			h->pio_mode = m;
}

static void ata_announce(struct ata_host *h)
{
	struct device *dev = &h->pdev->dev;
	u64 bytes = h->sectors * DISK_SECTOR_SIZE;
	char rate[32] = "unlimited";

	if (h->media_bps)
		snprintf(rate, sizeof(rate), "%llu MB/s",
			 (unsigned long long)(h->media_bps / 1000000));
	dev_info(dev, "ATA-8: %s, max UDMA/133, PIO%u (%.1f MB/s, %u-bit)\n",
		 h->model, h->pio_mode, 2000.0 / h->pio_cycle, h->pio_width);
	dev_info(dev, "%llu MiB, %llu 512-byte sectors, LBA48, DMA ring of %d commands at %s, MSI irq %u\n",
		 (unsigned long long)(bytes >> 20),
		 (unsigned long long)h->sectors, ATA_SLOTS, rate, h->irq);
}

static int ata_alloc_ring(struct ata_host *h)
{
	struct device *dev = &h->pdev->dev;

	h->ring = dma_alloc_coherent(dev, ATA_SLOTS * sizeof(*h->ring),
				     &h->ring_dma, GFP_KERNEL);
	h->prdt = dma_alloc_coherent(dev, ATA_SLOTS * ATA_PRD_PER_CMD *
					  sizeof(*h->prdt),
				     &h->prdt_dma, GFP_KERNEL);
	return h->ring && h->prdt ? 0 : -ENOMEM;
}

static void ata_free_ring(struct ata_host *h)
{
	struct device *dev = &h->pdev->dev;

	if (h->prdt)
		dma_free_coherent(dev, ATA_SLOTS * ATA_PRD_PER_CMD *
				       sizeof(*h->prdt), h->prdt, h->prdt_dma);
	if (h->ring)
		dma_free_coherent(dev, ATA_SLOTS * sizeof(*h->ring), h->ring,
				  h->ring_dma);
}

static struct ata_host *ata_host_new(struct pci_dev *pdev)
{
	struct ata_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->pdev = pdev;
	atomic_store(&h->timeout_ms, ATA_TIMEOUT_MS);
	pthread_mutex_init(&h->pio_lock, NULL);
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->submit_lock, NULL);
	init_completion(&h->pio_irq);
	init_completion(&h->slot_free);
	return h;
}

static void ata_host_free(struct ata_host *h)
{
	pthread_mutex_destroy(&h->pio_lock);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->submit_lock);
	pthread_mutex_destroy(&h->pio_irq.lock);
	pthread_cond_destroy(&h->pio_irq.wait);
	pthread_mutex_destroy(&h->slot_free.lock);
	pthread_cond_destroy(&h->slot_free.wait);
	free(h);
}

static int ata_setup_irq(struct ata_host *h)
{
	struct pci_dev *pdev = h->pdev;
	int ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);

	if (ret < 0)
		return ret;
	h->irq = (unsigned int)pci_irq_vector(pdev, 0);
	ret = request_irq(h->irq, ata_interrupt, 0, DRV_NAME, h);
	if (ret)
		pci_free_irq_vectors(pdev);
	return ret;
}

static int ata_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ata_host *h = ata_host_new(pdev);
	int ret = -ENOMEM;

	(void)id;
	if (!h)
		return ret;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	pci_request_regions(pdev, DRV_NAME);
	pci_set_master(pdev);
	h->regs = pci_iomap(pdev, 0, 0);
	ret = h->regs ? dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64))
		      : -ENOMEM;
	if (ret)
		goto err_disable;
	ret = ata_setup_irq(h);
	if (ret)
		goto err_disable;
	ret = ata_alloc_ring(h);
	if (ret)
		goto err_ring;
	writeb(0, h->regs + DISK_REG_CONTROL); /* nIEN clear: interrupts on */
	ata_read_caps(h);
	ret = ata_identify(h);
	if (ret)
		goto err_ring;
	ring_program(h);
	pci_set_drvdata(pdev, h);
	ata_announce(h);
	return 0;
err_ring:
	dev_err(&pdev->dev, "probe failed: %d\n", ret);
	ata_free_ring(h);
	free_irq(h->irq, h);
	pci_free_irq_vectors(pdev);
err_disable:
	pci_clear_master(pdev);
	pci_disable_device(pdev);
err_free:
	ata_host_free(h);
	return ret;
}

static void ata_remove(struct pci_dev *pdev)
{
	struct ata_host *h = pci_get_drvdata(pdev);

	if (!h)
		return;
	/* stop the engine before its memory goes */
	writel(DISK_RING_RESET, h->regs + DISK_REG_RING_CTRL);
	free_irq(h->irq, h);
	pci_free_irq_vectors(pdev);
	ata_free_ring(h);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	ata_host_free(h);
}

const struct pci_driver ata_pci_driver = {
	.name = DRV_NAME,
	.id_table = ata_ids,
	.probe = ata_probe,
	.remove = ata_remove,
	.driver = { .name = DRV_NAME },
};

/* ------------------------------------------- the block face (disk.h) */

struct dmasim_disk_req {
	struct ata_req r;
	struct ata_host *h;
};

static struct ata_host *host_of(struct dmasim_disk *d)
{
	return (struct ata_host *)d;
}

struct dmasim_disk *dmasim_disk_find(struct dmasim_machine *dm,
				     const char *name)
{
	struct machine *m = (struct machine *)dm;
	struct pci_func *fn;
	struct pci_dev *pdev;

	if (!m || !name)
		return NULL;
	fn = pci_find_id(m, name);
	pdev = pci_get_by_name(m, fn ? fn->name : name);
	if (!pdev || pdev->driver != &ata_pci_driver)
		return NULL;
	return (struct dmasim_disk *)pci_get_drvdata(pdev);
}

static int check_args(struct ata_host *h, u64 lba, u32 nsect)
{
	if (!h || (struct dmasim_machine *)h->pdev->dev.machine != dmasim_current())
		return -EINVAL;
	if (!nsect || lba >= h->sectors || nsect > h->sectors - lba)
		return -EINVAL;
	return 0;
}

/* DMA through a kernel bounce buffer, a piece at a time. */
static int dma_bounced(struct ata_host *h, bool write, u64 lba, u8 *buf,
		       u32 nsect)
{
	const u32 piece = (PAGE_SIZE << ATA_BOUNCE_ORDER) / DISK_SECTOR_SIZE;
	struct device *dev = &h->pdev->dev;
	unsigned long kbuf = __get_free_pages(GFP_KERNEL, ATA_BOUNCE_ORDER);
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	int ret = 0;

	if (!kbuf)
		return -ENOMEM;
	while (nsect && !ret) {
		u32 n = nsect < piece ? nsect : piece;
		size_t len = (size_t)n * DISK_SECTOR_SIZE;
		dma_addr_t dma;

		if (write)
			memcpy((void *)kbuf, buf, len);
		dma = dma_map_single(dev, (void *)kbuf, len, dir);
		ret = dma_mapping_error(dev, dma) ? -ENOMEM
						  : ata_dma_rw(h, write, lba, dma, n);
		if (!dma_mapping_error(dev, dma))
			dma_unmap_single(dev, dma, len, dir);
		if (!ret && !write)
			memcpy(buf, (void *)kbuf, len);
		atomic_fetch_add(&h->bounced, len);
		lba += n;
		buf += len;
		nsect -= n;
	}
	free_pages(kbuf, ATA_BOUNCE_ORDER);
	return ret;
}

static int disk_dma(struct ata_host *h, bool write, u64 lba, u8 *buf,
		    u32 nsect)
{
	struct device *dev = &h->pdev->dev;
	size_t len = (size_t)nsect * DISK_SECTOR_SIZE;
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	dma_addr_t dma;
	int ret;

	/* only kernel memory can be mapped; anything else is bounced */
	if (!virt_addr_valid(buf) || !virt_addr_valid(buf + len - 1))
		return dma_bounced(h, write, lba, buf, nsect);
	dma = dma_map_single_attrs(dev, buf, len, dir, DMA_ATTR_NO_WARN);
	if (dma_mapping_error(dev, dma))
		return dma_bounced(h, write, lba, buf, nsect);
	ret = ata_dma_rw(h, write, lba, dma, nsect);
	dma_unmap_single(dev, dma, len, dir);
	return ret;
}

static int disk_rw(struct dmasim_disk *d, bool write, uint64_t lba,
		   void *buf, uint32_t nsect, unsigned int mode)
{
	struct ata_host *h = host_of(d);
	int ret = check_args(h, lba, nsect);

	if (ret || !buf)
		return ret ? ret : -EINVAL;
	if (mode == DMASIM_PIO)
		return ata_pio_rw(h, write, lba, buf, nsect);
	if (mode == DMASIM_DMA)
		return disk_dma(h, write, lba, buf, nsect);
	return -EINVAL;
}

int dmasim_disk_read(struct dmasim_disk *d, uint64_t lba, void *buf,
		     uint32_t nsect, unsigned int mode)
{
	return disk_rw(d, false, lba, buf, nsect, mode);
}

int dmasim_disk_write(struct dmasim_disk *d, uint64_t lba, const void *buf,
		      uint32_t nsect, unsigned int mode)
{
	return disk_rw(d, true, lba, (void *)buf, nsect, mode);
}

int dmasim_disk_flush(struct dmasim_disk *d)
{
	struct ata_host *h = host_of(d);
	struct ata_req r = { 0 };
	int ret = check_args(h, 0, 1);

	if (ret)
		return ret;
	ata_queue(h, &r, ATA_CMD_FLUSH_EXT, 0, 0, 0);
	return ata_wait(h, &r);
}

int dmasim_disk_submit(struct dmasim_disk *d, bool write, uint64_t lba,
		       void *buf, uint32_t nsect, struct dmasim_disk_req **out)
{
	struct ata_host *h = host_of(d);
	struct device *dev;
	struct dmasim_disk_req *q;
	int ret = check_args(h, lba, nsect);

	*out = NULL;
	if (ret || !buf || nsect > ATA_REQ_SECT)
		return ret ? ret : -EINVAL;
	dev = &h->pdev->dev;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->h = h;
	q->r.len = (size_t)nsect * DISK_SECTOR_SIZE;
	q->r.dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	if (!virt_addr_valid(buf) ||
	    !virt_addr_valid((const u8 *)buf + q->r.len - 1)) {
		free(q);
		return -EFAULT;
	}
	q->r.dma = dma_map_single_attrs(dev, buf, q->r.len, q->r.dir,
					DMA_ATTR_NO_WARN);
	if (dma_mapping_error(dev, q->r.dma)) {
		free(q);
		return -EFAULT;
	}
	ata_queue(h, &q->r, write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT,
		  lba, q->r.dma, nsect);
	*out = q;
	return 0;
}

int dmasim_disk_wait(struct dmasim_disk_req *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	ret = ata_wait(q->h, &q->r);
	dma_unmap_single(&q->h->pdev->dev, q->r.dma, q->r.len, q->r.dir);
	pthread_mutex_destroy(&q->r.done.lock);
	pthread_cond_destroy(&q->r.done.wait);
	free(q);
	return ret;
}

int dmasim_disk_rw_bus(struct dmasim_disk *d, bool write, uint64_t lba,
		       uint32_t nsect, const struct dmasim_disk_seg *segs,
		       unsigned int nseg, struct dmasim_disk_result *res)
{
	struct ata_host *h = host_of(d);
	struct ata_req r = { 0 };
	unsigned int slot;
	u32 tail;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!h || (struct dmasim_machine *)h->pdev->dev.machine != dmasim_current() ||
	    !segs || !nseg || nseg > ATA_PRD_PER_CMD || nsect > ATA_CMD_SECT)
		return -EINVAL;
	init_completion(&r.done);
	r.pending = 1;
	r.bytes = (u64)nsect * DISK_SECTOR_SIZE;
	pthread_mutex_lock(&h->submit_lock);
	reserve_slots(h, 1);
	slot = h->tail % ATA_SLOTS;
	fill_cmd(h, slot, write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT,
		 lba, nsect, 0, 0, true);
	for (unsigned int i = 0; i < nseg; i++) {
		struct disk_prd *p = &h->prdt[slot * ATA_PRD_PER_CMD + i];

		p->addr = segs[i].bus_addr;
		p->len = segs[i].len;
		p->flags = i + 1 == nseg ? DISK_PRD_EOT : 0;
	}
	h->slot_req[slot] = &r;
	tail = ++h->tail;
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_add(&h->dma_commands, 1);
	writel(tail, h->regs + DISK_REG_RING_TAIL);
	pthread_mutex_unlock(&h->submit_lock);
	ret = ata_wait(h, &r);
	res->status = r.error ? r.status : DISK_ST_OK;
	res->error = r.ata_error;
	res->bytes_done = r.bytes_done;
	pthread_mutex_destroy(&r.done.lock);
	pthread_cond_destroy(&r.done.wait);
	return ret;
}

int dmasim_disk_info(struct dmasim_disk *d, struct dmasim_disk_info *info)
{
	struct ata_host *h = host_of(d);
	struct machine *m;
	struct pci_func *fn;

	if (!h || !info)
		return -EINVAL;
	m = (struct machine *)h->pdev->dev.machine;
	fn = h->pdev->hw;
	memset(info, 0, sizeof(*info));
	snprintf(info->id, sizeof(info->id), "%s", fn->id);
	snprintf(info->pci_name, sizeof(info->pci_name), "%s", pci_name(h->pdev));
	snprintf(info->model, sizeof(info->model), "%s", h->model);
	info->sectors = h->sectors;
	info->sector_size = DISK_SECTOR_SIZE;
	info->pio_mode = h->pio_mode;
	info->pio_width = h->pio_width;
	info->pio_bytes_per_sec = 2e9 / h->pio_cycle;
	info->dma_bytes_per_sec = h->media_bps;
	info->irq = h->irq;
	info->irqs = irq_count(m, h->irq);
	info->dma_commands = atomic_load(&h->dma_commands);
	info->dma_errors = atomic_load(&h->dma_errors);
	info->timeouts = atomic_load(&h->timeouts);
	info->bounced_bytes = atomic_load(&h->bounced);
	return 0;
}

void dmasim_disk_set_timeout(struct dmasim_disk *d, unsigned int ms)
{
	if (d)
		atomic_store(&host_of(d)->timeout_ms, ms ? ms : ATA_TIMEOUT_MS);
}
