/*
 * The rogue device's face: a minimal NIC's receive path, as a datasheet.
 * The device model (src/hw/rogue.c) and its driver (src/drivers/rnic.c)
 * both include this file and nothing else of each other.
 *
 * One PCI function (vendor 0xd3a5, device 0x0003, class 02:00:00, an
 * Ethernet controller) with one 4 KiB memory BAR and one MSI vector. The
 * driver gives it receive buffers one at a time: it writes the buffer's
 * DMA address and length, then the slot number to RX_POST. When a packet
 * arrives the device writes it into the buffer of a posted slot, records
 * its length, sets the slot's bit in RX_DONE and raises the MSI; the
 * driver reads RX_DONE, writes the bits back to clear them, and takes
 * the buffers. RX_REVOKE tells the device a posted buffer was taken back
 * without a packet (a driver timeout). Transmit is the same in reverse:
 * TX_ADDR, TX_LEN, then the slot to TX_POST; the device reads the packet,
 * sets the slot's bit in TX_DONE and raises the MSI; TX_REVOKE takes a
 * slot back. The MSI covers both rings. All registers are little-endian.
 *
 * That is what an honest device does with the addresses it is given; the
 * model is also a malicious bus master (src/hw/rogue.h).
 */
#ifndef DMASIM_HW_RNIC_H
#define DMASIM_HW_RNIC_H

#define RNIC_PCI_VENDOR	 0xd3a5
#define RNIC_PCI_DEVICE	 0x0003
#define RNIC_BAR0_SIZE	 0x1000
#define RNIC_RX_SLOTS	 16
#define RNIC_ID_VALUE	 0x43494e52u /* "RNIC" */

#define RNIC_REG_ID	 0x00 /* [4] RO: RNIC_ID_VALUE */
#define RNIC_REG_SLOTS	 0x04 /* [4] RO: RNIC_RX_SLOTS */
#define RNIC_REG_RX_ADDR 0x08 /* [8] the next buffer's DMA address */
#define RNIC_REG_RX_LEN	 0x10 /* [4] its length in bytes */
#define RNIC_REG_RX_POST 0x14 /* [4] W: post the buffer in this slot */
#define RNIC_REG_RX_DONE 0x18 /* [4] slots with a packet; W1C */
#define RNIC_REG_RX_REVOKE 0x1c /* [4] W: the driver took this slot back */
#define RNIC_REG_TX_ADDR 0x20 /* [8] the next packet's DMA address */
#define RNIC_REG_TX_LEN	 0x28 /* [4] its length in bytes */
#define RNIC_REG_TX_POST 0x2c /* [4] W: send the packet in this slot */
#define RNIC_REG_TX_DONE 0x30 /* [4] slots sent; W1C */
#define RNIC_REG_TX_REVOKE 0x34 /* [4] W: the driver took this slot back */
#define RNIC_REG_RX_DLEN(i) (0x40 + 4 * (i)) /* [4] RO: bytes received */

#endif
