/*
 * rnic: the driver of the rogue device's NIC face (dmasim/hw/rnic.h), and
 * what the attack suite and tests ask of it. Receive buffers and packets
 * to send are 2 KiB kmalloc objects (so they share pages with other
 * kmalloc-2k objects, as Thunderclap found of Linux's NIC drivers),
 * mapped with dma_map_single and handed to the device by register.
 */
#ifndef DMASIM_DRIVERS_RNIC_H
#define DMASIM_DRIVERS_RNIC_H

#include <stdbool.h>
#include <stddef.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/pci.h"

#define RNIC_BUF_SIZE 2048

struct rnic;

/* A buffer the device holds (posted, not completed). */
struct rnic_buf {
	void *cpu;
	dma_addr_t dma;
	size_t len;
	unsigned int slot;
	bool tx;
	uint64_t posted_ns;	/* machine clock */
};

struct rnic_stats {
	unsigned long rx_packets, rx_bytes, tx_packets;
	unsigned long timeouts;		/* buffers taken back by the watchdog */
	unsigned long map_errors;
};

/* The driver state of @pdev, or NULL if rnic is not bound to it. */
struct rnic *rnic_of(struct pci_dev *pdev);
/* Post @nbufs receive buffers (ifup). 0, -ENOMEM, -ENOSPC, -EIO. */
int rnic_open(struct rnic *n, unsigned int nbufs);
/* Send @len bytes (at most RNIC_BUF_SIZE): copy into a kmalloc'd
 * buffer, map it DMA_TO_DEVICE, post it. 0 or -errno. */
int rnic_xmit(struct rnic *n, const void *data, size_t len);
/* Take every buffer back from the device, unmap and free (ifdown). */
void rnic_close(struct rnic *n);
/* The buffers the device holds now. */
size_t rnic_buffers(struct rnic *n, struct rnic_buf *out, size_t max);
/* The transmit watchdog (Linux's netdev watchdog): a buffer the device
 * has held for @ms or more is taken back (revoked, unmapped, freed).
 * 0 turns it off (the default). rnic_watchdog runs it once now, as its
 * timer would; returns the buffers taken back. */
void rnic_set_timeout(struct rnic *n, unsigned int ms);
unsigned int rnic_watchdog(struct rnic *n);
void rnic_get_stats(struct rnic *n, struct rnic_stats *st);
/* The last packet received (up to @len bytes); its length. */
size_t rnic_last_rx(struct rnic *n, void *buf, size_t len);

#endif
