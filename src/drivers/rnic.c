/*
 * rnic: the driver of the rogue device's NIC face (see rnic.h). Written
 * against the Linux driver API only, as a simple NIC driver is:
 *
 * - probe enables the function and bus mastering, maps BAR 0, sets a
 *   64-bit mask and takes one MSI vector; buffers come at open;
 * - receive: a 2 KiB kmalloc buffer mapped DMA_FROM_DEVICE per slot; the
 *   interrupt handler unmaps a completed buffer, keeps the packet and
 *   frees it (the slot is refilled by the next open);
 * - transmit: the packet copied into a 2 KiB kmalloc buffer mapped
 *   DMA_TO_DEVICE; on completion it is unmapped and freed;
 * - a watchdog, off by default, takes back buffers a device holds too
 *   long, as the netdev watchdog's timeout makes a driver reset its ring.
 *
 * Nothing here trusts the device with more than the buffers themselves,
 * yet the IOMMU maps whole pages: what else lives in those pages is what
 * the attack suite measures.
 */
#include "drivers/rnic.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"
#include "dmasim/hw/rnic.h"
#include "dmasim/linux/interrupt.h"
#include "dmasim/linux/slab.h"

#define DRV_NAME "rnic"

struct rnic {
	struct pci_dev *pdev;
	u8 __iomem *regs;
	unsigned int irq;
	pthread_mutex_t lock;
	struct rnic_buf rx[RNIC_RX_SLOTS], tx[RNIC_RX_SLOTS];
	bool rx_used[RNIC_RX_SLOTS], tx_used[RNIC_RX_SLOTS];
	unsigned int timeout_ms;
	struct rnic_stats st;
	unsigned char last[RNIC_BUF_SIZE];
	size_t last_len;
};

static uint64_t now_ns(struct rnic *n)
{
	return dmasim_clock_ns(n->pdev->dev.machine);
}

static int free_slot(const bool *used)
{
	for (int i = 0; i < RNIC_RX_SLOTS; i++)
		if (!used[i])
			return i;
	return -1;
}

/* Unmap and free the buffer of a slot (n->lock held). */
static void buf_release(struct rnic *n, struct rnic_buf *b, bool *used)
{
	dma_unmap_single(&n->pdev->dev, b->dma, b->len,
			 b->tx ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	kfree(b->cpu);
	*used = false;
}

/* Map @cpu and post it in a free slot of the ring (n->lock held). */
static int buf_post(struct rnic *n, void *cpu, size_t len, bool tx)
{
	struct rnic_buf *ring = tx ? n->tx : n->rx;
	bool *used = tx ? n->tx_used : n->rx_used;
	unsigned int base = tx ? RNIC_REG_TX_ADDR : RNIC_REG_RX_ADDR;
	int i = free_slot(used);
	dma_addr_t dma;

	if (i < 0)
		return -ENOSPC;
	dma = dma_map_single(&n->pdev->dev, cpu, len,
			     tx ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	if (dma_mapping_error(&n->pdev->dev, dma)) {
		n->st.map_errors++;
		return -EIO;
	}
	ring[i] = (struct rnic_buf){ cpu, dma, len, (unsigned int)i, tx,
				     now_ns(n) };
	used[i] = true;
	writeq(dma, n->regs + base);
	writel((u32)len, n->regs + base + 8);
	writel((u32)i, n->regs + base + 0xc);
	return 0;
}

int rnic_open(struct rnic *n, unsigned int nbufs)
{
	int ret = 0;

	pthread_mutex_lock(&n->lock);
	for (unsigned int k = 0; k < nbufs && !ret; k++) {
		void *b = kmalloc(RNIC_BUF_SIZE, GFP_KERNEL);

		ret = b ? buf_post(n, b, RNIC_BUF_SIZE, false) : -ENOMEM;
		if (ret)
			kfree(b);
	}
	pthread_mutex_unlock(&n->lock);
	return ret;
}

int rnic_xmit(struct rnic *n, const void *data, size_t len)
{
	void *b;
	int ret;

	if (!len || len > RNIC_BUF_SIZE)
		return -EINVAL;
	b = kmalloc(RNIC_BUF_SIZE, GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	memcpy(b, data, len);
	pthread_mutex_lock(&n->lock);
	ret = buf_post(n, b, len, true);
	pthread_mutex_unlock(&n->lock);
	if (ret)
		kfree(b);
	return ret;
}

/* Take back every buffer of a ring for which @expired says so (n->lock
 * held); returns how many. */
static unsigned int reclaim(struct rnic *n, bool tx, uint64_t older_than)
{
	struct rnic_buf *ring = tx ? n->tx : n->rx;
	bool *used = tx ? n->tx_used : n->rx_used;
	unsigned int revoke = tx ? RNIC_REG_TX_REVOKE : RNIC_REG_RX_REVOKE;
	unsigned int k = 0;

	for (int i = 0; i < RNIC_RX_SLOTS; i++) {
		if (!used[i] || ring[i].posted_ns > older_than)
			continue;
		writel((u32)i, n->regs + revoke);
		buf_release(n, &ring[i], &used[i]);
		k++;
	}
	return k;
}

void rnic_close(struct rnic *n)
{
	pthread_mutex_lock(&n->lock);
	reclaim(n, false, UINT64_MAX);
	reclaim(n, true, UINT64_MAX);
	pthread_mutex_unlock(&n->lock);
}

void rnic_set_timeout(struct rnic *n, unsigned int ms)
{
	pthread_mutex_lock(&n->lock);
	n->timeout_ms = ms;
	pthread_mutex_unlock(&n->lock);
}

unsigned int rnic_watchdog(struct rnic *n)
{
	unsigned int k = 0;
	uint64_t now = now_ns(n), limit;

	pthread_mutex_lock(&n->lock);
	limit = (uint64_t)n->timeout_ms * 1000000ULL;
	if (n->timeout_ms && now >= limit) {
		k = reclaim(n, true, now - limit) + reclaim(n, false, now - limit);
		if (k)
			dev_err(&n->pdev->dev,
				"NETDEV WATCHDOG: transmit queue timed out after %u ms, %u buffers taken back\n",
				n->timeout_ms, k);
		n->st.timeouts += k;
	}
	pthread_mutex_unlock(&n->lock);
	return k;
}

size_t rnic_buffers(struct rnic *n, struct rnic_buf *out, size_t max)
{
	size_t k = 0;

	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < RNIC_RX_SLOTS; i++) {
		if (n->rx_used[i] && k < max)
			out[k++] = n->rx[i];
		if (n->tx_used[i] && k < max)
			out[k++] = n->tx[i];
	}
	pthread_mutex_unlock(&n->lock);
	return k;
}

void rnic_get_stats(struct rnic *n, struct rnic_stats *st)
{
	pthread_mutex_lock(&n->lock);
	*st = n->st;
	pthread_mutex_unlock(&n->lock);
}

size_t rnic_last_rx(struct rnic *n, void *buf, size_t len)
{
	size_t k;

	pthread_mutex_lock(&n->lock);
	k = n->last_len < len ? n->last_len : len;
	memcpy(buf, n->last, k);
	pthread_mutex_unlock(&n->lock);
	return n->last_len;
}

/* ---- interrupt -------------------------------------------------------- */

static void rx_done(struct rnic *n, int i)
{
	struct rnic_buf *b = &n->rx[i];
	u32 len = readl(n->regs + RNIC_REG_RX_DLEN(i));

	if (len > b->len)
		len = (u32)b->len;
	dma_unmap_single(&n->pdev->dev, b->dma, b->len, DMA_FROM_DEVICE);
	memcpy(n->last, b->cpu, len);
	n->last_len = len;
	n->st.rx_packets++;
	n->st.rx_bytes += len;
	kfree(b->cpu);
	n->rx_used[i] = false;
}

static irqreturn_t rnic_interrupt(int irq, void *dev_id)
{
	struct rnic *n = dev_id;
	u32 rx, tx;

	(void)irq;
	pthread_mutex_lock(&n->lock);
	rx = readl(n->regs + RNIC_REG_RX_DONE);
	tx = readl(n->regs + RNIC_REG_TX_DONE);
	writel(rx, n->regs + RNIC_REG_RX_DONE);
	writel(tx, n->regs + RNIC_REG_TX_DONE);
	for (int i = 0; i < RNIC_RX_SLOTS; i++) {
		if ((rx & (1u << i)) && n->rx_used[i])
			rx_done(n, i);
		if ((tx & (1u << i)) && n->tx_used[i]) {
			buf_release(n, &n->tx[i], &n->tx_used[i]);
			n->st.tx_packets++;
		}
	}
	pthread_mutex_unlock(&n->lock);
	return rx | tx ? IRQ_HANDLED : IRQ_NONE;
}

/* ---- probe and remove ------------------------------------------------- */

static const struct pci_device_id rnic_ids[] = {
	{ PCI_DEVICE(RNIC_PCI_VENDOR, RNIC_PCI_DEVICE) },
	{ 0 },
};

struct rnic *rnic_of(struct pci_dev *pdev)
{
	return pdev && pdev->driver && !strcmp(pdev->driver->name, DRV_NAME)
		       ? pci_get_drvdata(pdev)
		       : NULL;
}

static int rnic_setup(struct rnic *n)
{
	struct pci_dev *pdev = n->pdev;
	int ret = pci_enable_device(pdev);

	if (ret)
		return ret;
	pci_request_regions(pdev, DRV_NAME);
	pci_set_master(pdev);
	n->regs = pci_iomap(pdev, 0, 0);
	if (!n->regs || readl(n->regs + RNIC_REG_ID) != RNIC_ID_VALUE)
		return -ENODEV;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	n->irq = (unsigned int)pci_irq_vector(pdev, 0);
	ret = request_irq(n->irq, rnic_interrupt, 0, DRV_NAME, n);
	if (ret)
		pci_free_irq_vectors(pdev);
	return ret;
}

static int rnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct rnic *n = calloc(1, sizeof(*n));
	int ret;

	(void)id;
	if (!n)
		return -ENOMEM;
	n->pdev = pdev;
	pthread_mutex_init(&n->lock, NULL);
	ret = rnic_setup(n);
	if (ret) {
		dev_err(&pdev->dev, "probe failed: %d\n", ret);
		pci_clear_master(pdev);
		pci_disable_device(pdev);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return ret;
	}
	pci_set_drvdata(pdev, n);
	dev_info(&pdev->dev, "%u receive and %u transmit slots, irq %u\n",
		 RNIC_RX_SLOTS, RNIC_RX_SLOTS,
		 n->irq);
	return 0;
}

static void rnic_remove(struct pci_dev *pdev)
{
	struct rnic *n = pci_get_drvdata(pdev);

	if (!n)
		return;
	rnic_close(n);
	free_irq(n->irq, n);
	pci_free_irq_vectors(pdev);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

const struct pci_driver rnic_pci_driver = {
	.name = DRV_NAME,
	.id_table = rnic_ids,
	.probe = rnic_probe,
	.remove = rnic_remove,
	.driver = { .name = DRV_NAME },
};
