/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-3-Clause) */
/*
 * hsnic device ABI: PCI identity, BAR0 register map, ring descriptors and
 * completions.
 *
 * This is the single definition of the device interface. It is included
 * as-is by the QEMU device model (hw/net/hsnic.c), the Linux driver
 * (guest-driver/) and the host-side tests (tests/). docs/hsnic-spec.md is
 * the prose description; when the two disagree, fix one of them.
 *
 * Conventions:
 *  - all registers are 32 bits wide and must be accessed as such;
 *  - all multi-byte fields in guest memory are little endian;
 *  - a field FOO inside a register or word is described by FOO_SHIFT,
 *    FOO_WIDTH and FOO_MASK (the mask already shifted into place);
 *  - reserved fields and bits are written as zero and ignored on read.
 */
#ifndef HSNIC_ABI_H
#define HSNIC_ABI_H

#if defined(__KERNEL__) || defined(__linux__)
#include <linux/types.h>
#else
#include <stdint.h>
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;
#endif

/* PCI identity: the experimental range of docs/specs/pci-ids.rst. */
#define HSNIC_PCI_VENDOR_ID		0x1af4
#define HSNIC_PCI_DEVICE_ID		0x10f0
#define HSNIC_PCI_REVISION		0x01

/* BAR0: registers and doorbells. BAR1: MSI-X table and PBA. */
#define HSNIC_BAR_REGS			0
#define HSNIC_BAR_MSIX			1
#define HSNIC_BAR0_SIZE			0x10000

/* Limits advertised in HSNIC_REG_MAX_QP / HSNIC_REG_MAX_RING. */
#define HSNIC_MAX_QP			64
#define HSNIC_MIN_RING			8
#define HSNIC_MAX_RING			4096
#define HSNIC_MAX_FRAME			65535	/* bytes, without FCS */
#define HSNIC_MIN_RX_BUF		256	/* smallest RX buffer length */

/*
 * MSI-X vector assignment: vector 0 carries device events (link changes,
 * device errors); vector 1 + q carries the completions of queue pair q.
 */
#define HSNIC_VEC_EVENTS		0
#define HSNIC_VEC_QP(q)			(1 + (q))

/* ---- Global registers (BAR0) ---- */

#define HSNIC_REG_MAGIC			0x0000	/* RO, HSNIC_MAGIC */
#define HSNIC_MAGIC			0x4e53482b	/* "+HSN" in memory */

#define HSNIC_REG_VERSION		0x0004	/* RO */
#define HSNIC_VERSION_MINOR_SHIFT	0
#define HSNIC_VERSION_MINOR_WIDTH	16
#define HSNIC_VERSION_MINOR_MASK	0x0000ffffu
#define HSNIC_VERSION_MAJOR_SHIFT	16
#define HSNIC_VERSION_MAJOR_WIDTH	16
#define HSNIC_VERSION_MAJOR_MASK	0xffff0000u
#define HSNIC_ABI_MAJOR			1
#define HSNIC_ABI_MINOR			0

#define HSNIC_REG_FEATURES		0x0008	/* RO, HSNIC_F_* */
#define HSNIC_F_RX_MODE			(1u << 0)	/* HSNIC_REG_RX_MODE */

#define HSNIC_REG_MAX_QP		0x000c	/* RO, queue pairs present */
#define HSNIC_REG_MAX_RING		0x0010	/* RO, entries per ring */

#define HSNIC_REG_DEV_CTRL		0x0014	/* RW */
#define HSNIC_DEV_CTRL_ENABLE		(1u << 0)	/* device may DMA */
#define HSNIC_DEV_CTRL_RESET		(1u << 1)	/* WO, self-clearing */

#define HSNIC_REG_DEV_STATUS		0x0018	/* RO */
#define HSNIC_DEV_STATUS_LINK_UP	(1u << 0)
#define HSNIC_DEV_STATUS_ENABLED	(1u << 1)
#define HSNIC_DEV_STATUS_ERROR		(1u << 2)	/* see ERR_CODE */

/* Event causes: set by the device, cleared by writing 1 (W1C). */
#define HSNIC_REG_EVT_CAUSE		0x001c
#define HSNIC_REG_EVT_MASK		0x0020	/* RW, 1 = raise vector 0 */
#define HSNIC_EVT_LINK			(1u << 0)	/* link state changed */
#define HSNIC_EVT_ERROR			(1u << 1)	/* device or queue error */

/* Station address: MAC_LO holds bytes 0..3 (byte 0 in bits 7:0). */
#define HSNIC_REG_MAC_LO		0x0024	/* RO */
#define HSNIC_REG_MAC_HI		0x0028	/* RO, bytes 4..5 in 15:0 */

#define HSNIC_REG_RX_MODE		0x002c	/* RW */
#define HSNIC_RX_MODE_PROMISC		(1u << 0)	/* accept every frame */
#define HSNIC_RX_MODE_ALLMULTI		(1u << 1)	/* accept multicast */
#define HSNIC_RX_MODE_BROADCAST		(1u << 2)	/* accept broadcast */

/* Last error the device latched (device or queue level), 0 if none. */
#define HSNIC_REG_ERR_CODE		0x0030	/* RO, cleared by reset */
#define HSNIC_ERR_CODE_SHIFT		0
#define HSNIC_ERR_CODE_WIDTH		8
#define HSNIC_ERR_CODE_MASK		0x000000ffu
#define HSNIC_ERR_QUEUE_SHIFT		8	/* HSNIC_QID of the queue */
#define HSNIC_ERR_QUEUE_WIDTH		8
#define HSNIC_ERR_QUEUE_MASK		0x0000ff00u
/* Queue id in ERR_QUEUE: the queue pair number, bit 7 set for RX. */
#define HSNIC_QID_RX			0x80u
#define HSNIC_QID(q, rx)		((q) | ((rx) ? HSNIC_QID_RX : 0))

enum hsnic_err {
	HSNIC_ERR_NONE = 0,
	HSNIC_ERR_RING_CONFIG = 1,	/* bad ring size or address */
	HSNIC_ERR_TAIL = 2,		/* doorbell value >= ring size */
	HSNIC_ERR_DESC = 3,		/* malformed descriptor */
	HSNIC_ERR_DMA = 4,		/* DMA to or from guest memory failed */
	HSNIC_ERR_FRAME = 5,		/* TX frame too long or too short */
};

/*
 * Interrupt arming, one register per MSI-X vector >= 1. Writing
 * HSNIC_IRQ_ARM asks the device to send the vector's message on the next
 * completion it writes to any queue of that vector, or at once if it
 * wrote completions since the vector last fired. The vector is disarmed
 * when it fires.
 */
#define HSNIC_REG_IRQ_CTRL(v)		(0x0100 + 4 * (v))
#define HSNIC_IRQ_ARM			(1u << 0)

/* ---- Queue registers (BAR0) ----
 *
 * Queue pair q has a TX queue and an RX queue, each with a descriptor ring
 * that the driver fills and a completion ring that the device fills. Both
 * rings of a queue have RING_SIZE entries (a power of two).
 */
#define HSNIC_TXQ_BASE			0x1000
#define HSNIC_RXQ_BASE			0x2000
#define HSNIC_Q_STRIDE			0x40
#define HSNIC_TXQ_REG(q, r)		(HSNIC_TXQ_BASE + (q) * HSNIC_Q_STRIDE + (r))
#define HSNIC_RXQ_REG(q, r)		(HSNIC_RXQ_BASE + (q) * HSNIC_Q_STRIDE + (r))

#define HSNIC_Q_DESC_LO			0x00	/* RW, descriptor ring address */
#define HSNIC_Q_DESC_HI			0x04
#define HSNIC_Q_CMPL_LO			0x08	/* RW, completion ring address */
#define HSNIC_Q_CMPL_HI			0x0c
#define HSNIC_Q_RING_SIZE		0x10	/* RW, entries */
#define HSNIC_Q_CTRL			0x14	/* RW */
#define HSNIC_Q_CTRL_ENABLE		(1u << 0)
#define HSNIC_Q_STATUS			0x18	/* RO */
#define HSNIC_Q_STATUS_ENABLED		(1u << 0)	/* device owns rings */
#define HSNIC_Q_STATUS_ERROR		(1u << 1)	/* stopped on an error */
#define HSNIC_Q_HEAD			0x1c	/* RO, next descriptor read */
#define HSNIC_Q_TAIL			0x20	/* RO, last doorbell value */
#define HSNIC_Q_CMPL_IDX		0x24	/* RO, next completion slot */

/* Address and size registers may only change while the queue is disabled. */

/*
 * Doorbells: the driver writes the index of the slot after the last
 * descriptor it made valid (its producer index, 0 .. RING_SIZE - 1).
 * Each doorbell sits alone in a 4-byte slot of its own page region so it
 * can be backed by an ioeventfd.
 */
#define HSNIC_DB_BASE			0x8000
#define HSNIC_DB_TX(q)			(HSNIC_DB_BASE + 8 * (q))
#define HSNIC_DB_RX(q)			(HSNIC_DB_BASE + 8 * (q) + 4)

/* ---- Descriptors and completions (guest memory, little endian) ---- */

/*
 * Completion ownership: the device writes each completion with the GEN bit
 * equal to its current generation, which is 1 on the first pass over the
 * ring after the queue is enabled and flips on every wrap. The driver
 * zeroes the ring before enabling the queue and consumes entries while
 * their GEN bit matches the generation it expects.
 */

/* TX descriptor: one buffer of a frame; the last one carries EOP. */
struct hsnic_tx_desc {
	__le64 addr;
	__le32 len;		/* 1 .. HSNIC_MAX_FRAME */
	__le32 cmd;		/* HSNIC_TXD_* */
};

#define HSNIC_TXD_EOP			(1u << 0)

/* TX completion: one per frame, written after the frame left the device. */
struct hsnic_tx_cmpl {
	__le32 head;		/* descriptor index after the frame's EOP */
	__le16 status;		/* enum hsnic_tx_status */
	__le16 flags;		/* HSNIC_CMPL_GEN */
	__le64 rsvd;
};

enum hsnic_tx_status {
	HSNIC_TX_OK = 0,
	HSNIC_TX_ERR_DESC = 1,	/* frame dropped: bad descriptor */
	HSNIC_TX_ERR_DMA = 2,	/* frame dropped: DMA read failed */
	HSNIC_TX_ERR_LEN = 3,	/* frame dropped: too long or empty */
};

/* RX descriptor: one empty buffer the device may fill. */
struct hsnic_rx_desc {
	__le64 addr;
	__le32 len;		/* HSNIC_MIN_RX_BUF .. HSNIC_MAX_FRAME */
	__le32 rsvd;
};

/*
 * RX completion: one per buffer used. A frame larger than one buffer uses
 * consecutive buffers; its last completion carries EOP and the frame's
 * total length in FRAME_LEN.
 */
struct hsnic_rx_cmpl {
	__le16 desc_idx;	/* descriptor (buffer) this entry returns */
	__le16 buf_len;		/* bytes written into that buffer */
	__le32 flags;		/* HSNIC_CMPL_GEN, HSNIC_RXC_* */
	__le32 frame_len;	/* with EOP: whole frame length */
	__le32 rsvd;
};

#define HSNIC_CMPL_GEN			(1u << 0)
#define HSNIC_RXC_EOP			(1u << 1)
#define HSNIC_RXC_ERR			(1u << 2)	/* frame truncated */

#ifdef __KERNEL__
#define HSNIC_ABI_ASSERT(cond, msg)	static_assert(cond, msg)
#else
#define HSNIC_ABI_ASSERT(cond, msg)	_Static_assert(cond, msg)
#endif

HSNIC_ABI_ASSERT(sizeof(struct hsnic_tx_desc) == 16, "tx desc is 16 bytes");
HSNIC_ABI_ASSERT(sizeof(struct hsnic_tx_cmpl) == 16, "tx cmpl is 16 bytes");
HSNIC_ABI_ASSERT(sizeof(struct hsnic_rx_desc) == 16, "rx desc is 16 bytes");
HSNIC_ABI_ASSERT(sizeof(struct hsnic_rx_cmpl) == 16, "rx cmpl is 16 bytes");
HSNIC_ABI_ASSERT(HSNIC_DB_RX(HSNIC_MAX_QP - 1) < HSNIC_BAR0_SIZE,
		 "doorbells fit in BAR0");
HSNIC_ABI_ASSERT(HSNIC_RXQ_REG(HSNIC_MAX_QP, 0) <= HSNIC_DB_BASE,
		 "queue registers fit below the doorbells");
HSNIC_ABI_ASSERT(HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(HSNIC_MAX_QP)) <=
		 HSNIC_TXQ_BASE, "IRQ registers fit below the queues");

#endif /* HSNIC_ABI_H */
