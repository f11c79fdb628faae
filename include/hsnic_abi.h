/* SPDX-License-Identifier: ((GPL-2.0-or-later WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * hsnic device ABI: PCI identity, BAR0 register map, ring descriptors and
 * completions.
 *
 * This is the single definition of the device interface. It is included
 * as-is by the QEMU device model (hw/net/hsnic/), the Linux driver
 * (guest-driver/) and the host-side tests (tests/) of the hsnic
 * repository; a kernel tree has it as the uapi header <misc/hsnic_abi.h>,
 * QEMU as include/standard-headers/misc/hsnic_abi.h. docs/specs/hsnic.rst
 * is the prose description; when the two disagree, fix one of them.
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
#define HSNIC_PCI_REVISION		0x02

/* BAR0: registers and doorbells. BAR1: MSI-X table and PBA. */
#define HSNIC_BAR_REGS			0
#define HSNIC_BAR_MSIX			1
#define HSNIC_BAR0_SIZE			0x10000

/* Limits. MAX_QP and MAX_RING are also advertised in registers. */
#define HSNIC_MAX_QP			64
#define HSNIC_MIN_RING			8
#define HSNIC_MAX_RING			4096
#define HSNIC_MAX_FRAME			65535	/* bytes, without FCS */
/*
 * Receive segment coalescing: the largest frame it delivers (an IP
 * datagram of 65535 bytes after the Ethernet header), the longest header
 * stack it coalesces, the aggregates one RX queue keeps open at once.
 */
#define HSNIC_RSC_MAX_FRAME		(14 + 65535)
#define HSNIC_RSC_MAX_HLEN		192
#define HSNIC_RSC_MAX_FLOWS		512
#define HSNIC_MIN_RX_BUF		256	/* RX buffer lengths, bytes */
#define HSNIC_MAX_RX_BUF		65536
#define HSNIC_RX_BUF_ALIGN		64	/* BUF_LEN is a multiple */
#define HSNIC_RSS_CTX_NUM		8	/* RSS contexts, 0 = default */
#define HSNIC_RSS_KEY_SIZE		40	/* Toeplitz key, bytes */
#define HSNIC_RSS_INDIR_SIZE		128	/* indirection table entries */
#define HSNIC_NUM_RULES			64	/* flow steering rules */

/*
 * MSI-X vector assignment: vector 0 carries device events (link changes,
 * device errors); vector 1 + q carries the completions of queue pair q.
 */
#define HSNIC_VEC_EVENTS		0
#define HSNIC_VEC_QP(q)			(1 + (q))
#define HSNIC_NUM_VEC_MAX		HSNIC_VEC_QP(HSNIC_MAX_QP)

/* ---- Global registers (BAR0 0x0000 - 0x00ff) ---- */

#define HSNIC_REG_MAGIC			0x0000	/* RO, HSNIC_MAGIC */
#define HSNIC_MAGIC			0x4e53482b	/* "+HSN" in memory */

#define HSNIC_REG_VERSION		0x0004	/* RO */
#define HSNIC_VERSION_MINOR_SHIFT	0
#define HSNIC_VERSION_MINOR_WIDTH	16
#define HSNIC_VERSION_MINOR_MASK	0x0000ffffu
#define HSNIC_VERSION_MAJOR_SHIFT	16
#define HSNIC_VERSION_MAJOR_WIDTH	16
#define HSNIC_VERSION_MAJOR_MASK	0xffff0000u
#define HSNIC_ABI_MAJOR			2
#define HSNIC_ABI_MINOR			2

/*
 * A driver must not use the registers or descriptor bits of a feature
 * whose HSNIC_F_* bit is clear. (The QEMU model sets every bit, and its
 * RX_MODE, IRQ_MOD, rule, RSS and queue counter registers always exist.)
 */
#define HSNIC_REG_FEATURES		0x0008	/* RO, HSNIC_F_* */
#define HSNIC_F_RX_MODE			(1u << 0)	/* HSNIC_REG_RX_MODE */
#define HSNIC_F_HDS			(1u << 1)	/* header split */
#define HSNIC_F_RSS			(1u << 2)	/* RSS contexts */
#define HSNIC_F_RULES			(1u << 3)	/* flow steering */
#define HSNIC_F_RX_CSUM			(1u << 4)	/* RX csum check */
#define HSNIC_F_TX_CSUM			(1u << 5)	/* TX L4 csum */
#define HSNIC_F_TSO			(1u << 6)	/* TCP segmentation */
#define HSNIC_F_QSTATS			(1u << 7)	/* queue counters */
#define HSNIC_F_IRQ_MOD			(1u << 8)	/* IRQ_MOD registers */
#define HSNIC_F_RSC			(1u << 9)	/* RX segment coalescing */
#define HSNIC_F_DB_REC			(1u << 10)	/* doorbell records */
#define HSNIC_F_IRQ_TXMOD		(1u << 11)	/* IRQ_TXMOD registers */

#define HSNIC_REG_MAX_QP		0x000c	/* RO, queue pairs present */
#define HSNIC_REG_MAX_RING		0x0010	/* RO, entries per ring */

#define HSNIC_REG_DEV_CTRL		0x0014	/* RW */
#define HSNIC_DEV_CTRL_ENABLE		(1u << 0)	/* device may DMA */
#define HSNIC_DEV_CTRL_RESET		(1u << 1)	/* WO, self-clearing */
#define HSNIC_DEV_CTRL_DB_REC		(1u << 2)	/* doorbell records */

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
	HSNIC_ERR_RING_CONFIG = 1,	/* bad ring size, address, length */
	HSNIC_ERR_TAIL = 2,		/* doorbell value >= ring size */
	HSNIC_ERR_DESC = 3,		/* malformed descriptor */
	HSNIC_ERR_DMA = 4,		/* DMA to or from guest memory failed */
	HSNIC_ERR_FRAME = 5,		/* TX frame too long or too short */
};

/* Read-only capabilities (the compile-time limits above). */
#define HSNIC_REG_RSS_CTX_NUM		0x0034	/* RO, HSNIC_RSS_CTX_NUM */
#define HSNIC_REG_RSS_INDIR_SIZE	0x0038	/* RO, HSNIC_RSS_INDIR_SIZE */
#define HSNIC_REG_RSS_KEY_SIZE		0x003c	/* RO, HSNIC_RSS_KEY_SIZE */
#define HSNIC_REG_NUM_RULES		0x0040	/* RO, HSNIC_NUM_RULES */
#define HSNIC_REG_MAX_RX_BUF		0x0044	/* RO, HSNIC_MAX_RX_BUF */

/*
 * Doorbell records (HSNIC_F_DB_REC): the guest-physical address of an
 * array of struct hsnic_db_rec, one per queue pair, 16-byte aligned (bits
 * 3:0 of DB_REC_LO read as 0). While DEV_CTRL.DB_REC is set the driver
 * stores each producer index in its record before it rings the doorbell,
 * and the device takes the index from the record, not from the value
 * written: a doorbell write is then only a notification, which the
 * hypervisor can deliver as an eventfd signal (ioeventfd) without running
 * the device model in the vCPU. The device reads a queue's record after
 * each notification and whenever it looks for more work on an enabled
 * queue; a driver resets a queue's fields to 0 before it enables it.
 */
#define HSNIC_REG_DB_REC_LO		0x0048	/* RW */
#define HSNIC_REG_DB_REC_HI		0x004c	/* RW */
#define HSNIC_DB_REC_ALIGN		16

/*
 * Device counters: 64 bits each, read as LO then HI. Reading LO latches
 * the whole value; HI returns the upper half of the latched value.
 */
#define HSNIC_REG_DSTAT_LO(i)		(0x0080 + 8 * (i))
#define HSNIC_REG_DSTAT_HI(i)		(0x0084 + 8 * (i))
enum hsnic_dstat {
	HSNIC_DSTAT_RX_FILTERED = 0,	/* dropped by the RX_MODE filter */
	HSNIC_DSTAT_RX_RULE_DROP = 1,	/* dropped by a flow rule */
	HSNIC_DSTAT_RX_RUNT = 2,	/* shorter than an Ethernet header */
	HSNIC_DSTAT_RX_OVERSIZE = 3,	/* longer than HSNIC_MAX_FRAME */
	HSNIC_DSTAT_GUEST_ERRORS = 4,	/* bad register accesses, etc. */
	HSNIC_DSTAT_QUEUE_ERRORS = 5,	/* queues stopped on an error */
	HSNIC_DSTAT_RX_NO_QUEUE = 6,	/* steered past the last pair */
	HSNIC_DSTAT_NUM = 7,
};

/*
 * Interrupt arming, one register per MSI-X vector >= 1. Writing
 * HSNIC_IRQ_ARM asks the device to send the vector's message on the next
 * completion it writes to any queue of that vector, or at once if it
 * wrote completions since the vector last fired (both subject to
 * IRQ_MOD). Writing 0 disarms the vector; it is also disarmed when it
 * fires.
 */
#define HSNIC_REG_IRQ_CTRL(v)		(0x0100 + 4 * (v))
#define HSNIC_IRQ_ARM			(1u << 0)

/*
 * Interrupt moderation, one register per MSI-X vector >= 1. An armed
 * vector with completions pending fires USECS microseconds after it found
 * itself armed with completions pending (0: at once), or as soon as
 * FRAMES completions are pending (0: no frame limit), whichever is first.
 * Completions count from the last time the vector fired: each RX frame
 * adds 1, a TX processing pass that completes n frames adds n.
 */
#define HSNIC_REG_IRQ_MOD(v)		(0x0300 + 4 * (v))
#define HSNIC_IRQ_MOD_USECS_SHIFT	0
#define HSNIC_IRQ_MOD_USECS_WIDTH	16
#define HSNIC_IRQ_MOD_USECS_MASK	0x0000ffffu
#define HSNIC_IRQ_MOD_FRAMES_SHIFT	16
#define HSNIC_IRQ_MOD_FRAMES_WIDTH	16
#define HSNIC_IRQ_MOD_FRAMES_MASK	0xffff0000u

/*
 * TX interrupt moderation (HSNIC_F_IRQ_TXMOD), one register per MSI-X
 * vector >= 1, same fields as IRQ_MOD. While the completions pending on
 * an armed vector are all TX completions, the vector fires USECS
 * microseconds after the first of them was written, or once FRAMES of
 * them are pending, instead of as IRQ_MOD says; an RX completion brings
 * IRQ_MOD back in force (at once with IRQ_MOD.USECS 0). USECS 0: TX
 * completions follow IRQ_MOD like RX ones. A driver that also cleans its
 * TX ring when it polls for RX thus takes no interrupt for TX alone as
 * long as RX traffic comes within USECS (request/response traffic).
 */
#define HSNIC_REG_IRQ_TXMOD(v)		(0x0500 + 4 * (v))

/* ---- Queue registers ----
 *
 * Queue pair q has a TX queue and an RX queue. A TX queue has a
 * descriptor ring that the driver fills and a completion ring that the
 * device fills, both RING_SIZE entries (a power of two). An RX queue has
 * three rings of RING_SIZE entries: the payload buffer ring (DESC), the
 * header buffer ring (HDR, used only with HSNIC_RXQ_CTRL_HDS) and the
 * completion ring (CMPL).
 *
 * Address, size, length and threshold registers may only change while
 * the queue is disabled. Clearing CTRL.ENABLE stops the queue; the device
 * acknowledges by clearing STATUS.ENABLED once it will never again touch
 * the queue's rings or buffers (in this model: before the write returns).
 * Frames steered to a disabled or stopped RX queue are dropped, including
 * one that was waiting for its buffers.
 *
 * Queues are processed only while DEV_CTRL.ENABLE and PCI Bus Master
 * Enable are both set. Otherwise TX descriptors stay posted (no error)
 * and received frames wait; setting DEV_CTRL.ENABLE, or any write to the
 * PCI command register, resumes both directions.
 */
#define HSNIC_TXQ_BASE			0x1000
#define HSNIC_TXQ_STRIDE		0x40
#define HSNIC_RXQ_BASE			0x2000
#define HSNIC_RXQ_STRIDE		0x80
#define HSNIC_TXQ_REG(q, r)		(HSNIC_TXQ_BASE + (q) * HSNIC_TXQ_STRIDE + (r))
#define HSNIC_RXQ_REG(q, r)		(HSNIC_RXQ_BASE + (q) * HSNIC_RXQ_STRIDE + (r))

/* Registers common to TX and RX queues. */
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

/*
 * RX queue only. CTRL.HDS may only change while the queue is disabled;
 * CTRL.RSC (with HSNIC_F_RSC) may also be set or cleared while it runs:
 * clearing it delivers the queue's open aggregate, if any, before the
 * write returns.
 */
#define HSNIC_RXQ_CTRL_HDS		(1u << 1)	/* header split on */
#define HSNIC_RXQ_CTRL_RSC		(1u << 2)	/* coalesce TCP segments */
#define HSNIC_RXQ_HDR_LO		0x28	/* RW, header ring address */
#define HSNIC_RXQ_HDR_HI		0x2c
#define HSNIC_RXQ_HDR_HEAD		0x30	/* RO */
#define HSNIC_RXQ_HDR_TAIL		0x34	/* RO, last doorbell value */
#define HSNIC_RXQ_BUF_LEN		0x38	/* RW, payload buffer bytes */
#define HSNIC_RXQ_HDR_BUF_LEN		0x3c	/* RW, header buffer bytes */
/*
 * HDS_THRESH: a TCP/UDP frame whose payload after its headers is at most
 * this many bytes stays whole in the header buffer, if it fits there
 * (reason HSNIC_HDS_THRESH; see struct hsnic_rx_cmpl).
 */
#define HSNIC_RXQ_HDS_THRESH		0x40	/* RW, bytes */

/*
 * Doorbells: the driver writes the index of the slot after the last
 * descriptor it made valid (its producer index, 0 .. RING_SIZE - 1).
 * Each doorbell sits alone in a 4-byte slot so it can be backed by an
 * ioeventfd. A doorbell of a queue that is not enabled, and a header
 * doorbell of a queue without HDS (whatever the value), are ignored guest
 * errors; otherwise a value >= RING_SIZE stops the queue (HSNIC_ERR_TAIL).
 */
#define HSNIC_DB_BASE			0x8000
#define HSNIC_DB_STRIDE			0x10
#define HSNIC_DB_TX(q)			(HSNIC_DB_BASE + HSNIC_DB_STRIDE * (q))
#define HSNIC_DB_RX(q)			(HSNIC_DB_TX(q) + 4)	/* payload */
#define HSNIC_DB_RX_HDR(q)		(HSNIC_DB_TX(q) + 8)	/* header */

/* ---- Flow steering rules (BAR0 0x4000 - 0x5fff) ----
 *
 * Rule i lives at HSNIC_RULE(i). The device evaluates the valid rules of
 * a received frame in increasing index order; the first one that matches
 * decides (queue, RSS context or drop) and RSS context 0 is only used
 * when none matches. Write CTRL last: a rule is changed by clearing
 * CTRL.VALID, writing the match fields, then writing CTRL with VALID.
 *
 * A frame matches when it is of the rule's flow type (IPv4 or IPv6 with
 * the given L4 protocol; the IP4/IP6 types match any protocol, subject
 * to PROTO) and (frame field & mask) == (rule field & mask) for every
 * field. Addresses are in network byte order: byte 0 of the address is
 * bits 7:0 of the first register. Ports are host-order values. TCP and
 * UDP rules never match IP fragments (the device does not reassemble);
 * IP4/IP6 rules do. A rule QUEUE past the last queue pair drops the frame
 * (HSNIC_DSTAT_RX_NO_QUEUE).
 */
#define HSNIC_RULE_BASE			0x4000
#define HSNIC_RULE_STRIDE		0x80
#define HSNIC_RULE(i)			(HSNIC_RULE_BASE + HSNIC_RULE_STRIDE * (i))

#define HSNIC_RULE_CTRL			0x00
#define HSNIC_RULE_VALID		(1u << 0)
#define HSNIC_RULE_ACTION_SHIFT		4
#define HSNIC_RULE_ACTION_WIDTH		2
#define HSNIC_RULE_ACTION_MASK		0x00000030u
#define HSNIC_RULE_FLOW_SHIFT		8
#define HSNIC_RULE_FLOW_WIDTH		4
#define HSNIC_RULE_FLOW_MASK		0x00000f00u

enum hsnic_rule_action {
	HSNIC_ACTION_QUEUE = 0,		/* to RX queue QUEUE */
	HSNIC_ACTION_RSS = 1,		/* RSS context CTX, + QUEUE offset */
	HSNIC_ACTION_DROP = 2,
};

enum hsnic_flow {
	HSNIC_FLOW_TCP4 = 1,
	HSNIC_FLOW_UDP4 = 2,
	HSNIC_FLOW_TCP6 = 3,
	HSNIC_FLOW_UDP6 = 4,
	HSNIC_FLOW_IP4 = 5,
	HSNIC_FLOW_IP6 = 6,
};

#define HSNIC_RULE_DEST			0x04
#define HSNIC_RULE_QUEUE_SHIFT		0
#define HSNIC_RULE_QUEUE_WIDTH		16
#define HSNIC_RULE_QUEUE_MASK		0x0000ffffu
#define HSNIC_RULE_CTX_SHIFT		16
#define HSNIC_RULE_CTX_WIDTH		8
#define HSNIC_RULE_CTX_MASK		0x00ff0000u

#define HSNIC_RULE_PORTS		0x08	/* value */
#define HSNIC_RULE_PORTS_MASK		0x0c	/* mask, same layout */
#define HSNIC_RULE_SPORT_SHIFT		0
#define HSNIC_RULE_SPORT_WIDTH		16
#define HSNIC_RULE_SPORT_MASK		0x0000ffffu
#define HSNIC_RULE_DPORT_SHIFT		16
#define HSNIC_RULE_DPORT_WIDTH		16
#define HSNIC_RULE_DPORT_MASK		0xffff0000u

#define HSNIC_RULE_PROTO		0x10	/* IP4/IP6: L4 protocol */
#define HSNIC_RULE_PROTO_VAL_SHIFT	0
#define HSNIC_RULE_PROTO_VAL_WIDTH	8
#define HSNIC_RULE_PROTO_VAL_MASK	0x000000ffu
#define HSNIC_RULE_PROTO_MSK_SHIFT	8
#define HSNIC_RULE_PROTO_MSK_WIDTH	8
#define HSNIC_RULE_PROTO_MSK_MASK	0x0000ff00u

/* IPv4 addresses use word 0 only. */
#define HSNIC_RULE_SRC(n)		(0x20 + 4 * (n))	/* n < 4 */
#define HSNIC_RULE_SRC_MASK(n)		(0x30 + 4 * (n))
#define HSNIC_RULE_DST(n)		(0x40 + 4 * (n))
#define HSNIC_RULE_DST_MASK(n)		(0x50 + 4 * (n))

/* ---- RSS contexts (BAR0 0x6000 - 0x6fff) ----
 *
 * A frame that no flow rule claims goes through context 0; a rule with
 * HSNIC_ACTION_RSS names another one. A disabled context sends every
 * frame to queue (rule offset + 0). Otherwise the device computes the
 * Toeplitz hash of the fields FIELDS selects for the frame's type (TCP,
 * UDP or other, over IPv4 or IPv6; IP fragments are "other"), in the
 * order source address, destination address, source port, destination
 * port, and sends the frame to queue (rule offset +
 * INDIR[hash % HSNIC_RSS_INDIR_SIZE]), reporting hash and type in the
 * completion. Frames that are not IP, and frames with no field selected
 * for their type, are not hashed and go to INDIR[0]. With CTRL.SYM_XOR,
 * each address (and port) is replaced by source XOR destination before
 * hashing, so both directions of a flow hash alike. Queues past the last
 * queue pair (HSNIC_DSTAT_RX_NO_QUEUE), or disabled (HSNIC_RXS_DROP_DOWN),
 * drop the frame.
 */
#define HSNIC_RSS_BASE			0x6000
#define HSNIC_RSS_STRIDE		0x200
#define HSNIC_RSS(c)			(HSNIC_RSS_BASE + HSNIC_RSS_STRIDE * (c))

#define HSNIC_RSS_CTRL			0x000
#define HSNIC_RSS_CTRL_ENABLE		(1u << 0)
#define HSNIC_RSS_CTRL_SYM_XOR		(1u << 1)

/*
 * FIELDS: four bits per frame type, at HSNIC_RSS_FIELDS_SHIFT(type):
 * source address, destination address, source port, destination port.
 * Port bits are ignored for the two "other" types.
 */
#define HSNIC_RSS_FIELDS		0x004
enum hsnic_rss_ftype {
	HSNIC_RSS_FT_TCP4 = 0,
	HSNIC_RSS_FT_UDP4 = 1,
	HSNIC_RSS_FT_IP4 = 2,		/* other IPv4 */
	HSNIC_RSS_FT_TCP6 = 3,
	HSNIC_RSS_FT_UDP6 = 4,
	HSNIC_RSS_FT_IP6 = 5,		/* other IPv6 */
	HSNIC_RSS_FT_NUM = 6,
};

#define HSNIC_RSS_FIELDS_SHIFT(t)	(4 * (t))
#define HSNIC_RSS_FIELDS_WIDTH		4
#define HSNIC_RSS_FIELDS_MASK(t)	(0xfu << HSNIC_RSS_FIELDS_SHIFT(t))
#define HSNIC_RSS_SRC_IP		(1u << 0)
#define HSNIC_RSS_DST_IP		(1u << 1)
#define HSNIC_RSS_SRC_PORT		(1u << 2)
#define HSNIC_RSS_DST_PORT		(1u << 3)
#define HSNIC_RSS_FIELDS_ALL		0x00ffffffu

/* Key bytes 4n .. 4n + 3, key byte 4n + k in bits 8k + 7 : 8k. */
#define HSNIC_RSS_KEY(n)		(0x040 + 4 * (n))	/* n < 10 */
/* Entries 4n .. 4n + 3, entry 4n + k in bits 8k + 7 : 8k. */
#define HSNIC_RSS_INDIR(n)		(0x100 + 4 * (n))	/* n < 32 */

/* ---- Queue counters (BAR0 0xa000 - 0xdfff) ----
 *
 * 64-bit counters, read as LO then HI (LO latches, as for DSTAT; HI is
 * LO + 4). They count from device reset; a queue restart does not clear
 * them.
 */
#define HSNIC_QSTAT_BASE		0xa000
#define HSNIC_QSTAT_STRIDE		0x100
#define HSNIC_RXQ_STAT_LO(q, i)		(HSNIC_QSTAT_BASE + \
					 HSNIC_QSTAT_STRIDE * (q) + 8 * (i))
#define HSNIC_RXQ_STAT_HI(q, i)		(HSNIC_RXQ_STAT_LO(q, i) + 4)
#define HSNIC_TXQ_STAT_LO(q, i)		(HSNIC_RXQ_STAT_LO(q, i) + 0x80)
#define HSNIC_TXQ_STAT_HI(q, i)		(HSNIC_TXQ_STAT_LO(q, i) + 4)

enum hsnic_rx_qstat {
	HSNIC_RXS_PACKETS = 0,
	HSNIC_RXS_BYTES = 1,
	HSNIC_RXS_DROP_DOWN = 2,	/* steered to a disabled queue */
	HSNIC_RXS_DROP_NOBUF = 3,	/* frame larger than the ring */
	HSNIC_RXS_HDS_SPLIT = 4,	/* split at the end of L4 */
	HSNIC_RXS_HDS_NOSPLIT = 5,	/* HDS on, not split */
	HSNIC_RXS_HDR_OVF = 6,		/* headers did not fit */
	HSNIC_RXS_CSUM_OK = 7,		/* L4 checksum verified */
	HSNIC_RXS_CSUM_BAD = 8,		/* L3 or L4 checksum wrong */
	HSNIC_RXS_WAIT_BUF = 9,		/* frame held: too few buffers */
	HSNIC_RXS_RSC_FRAMES = 10,	/* completions with HSNIC_RXC_RSC */
	HSNIC_RXS_RSC_SEGS = 11,	/* segments coalesced into them */
	HSNIC_RXS_NUM = 12,
};

enum hsnic_tx_qstat {
	HSNIC_TXS_PACKETS = 0,		/* frames the driver queued */
	HSNIC_TXS_BYTES = 1,
	HSNIC_TXS_WIRE_PACKETS = 2,	/* after segmentation */
	HSNIC_TXS_WIRE_BYTES = 3,
	HSNIC_TXS_TSO = 4,		/* frames with HSNIC_TXD_TSO */
	HSNIC_TXS_CSUM = 5,		/* frames with HSNIC_TXD_CSUM */
	HSNIC_TXS_ERRORS = 6,		/* frames dropped with an error */
	HSNIC_TXS_NUM = 7,
};

/* ---- Descriptors and completions (guest memory, little endian) ---- */

/*
 * Completion ownership: the device writes each completion with the GEN bit
 * equal to its current generation, which is 1 on the first pass over the
 * ring after the queue is enabled and flips on every wrap. The driver
 * zeroes the ring before enabling the queue and consumes entries while
 * their GEN bit matches the generation it expects. GEN is bit 0 of the
 * completion's first byte; the device writes that byte last.
 */
#define HSNIC_CMPL_GEN			(1u << 0)

/*
 * TX descriptor: one buffer of a frame; the last one carries EOP. The
 * offload bits and MSS are taken from the frame's first descriptor.
 *
 * A frame is 14 .. HSNIC_MAX_FRAME bytes; the driver need not pad short
 * frames. With CSUM or TSO, bytes after the IP datagram (IPv4 total
 * length, IPv6 payload length) are trimmed before the checksum is
 * computed, so padding to 60 bytes is harmless; frames without offload
 * are sent as they are. The parser (QEMU's net_tx_pkt) skips an 802.1Q
 * tag or an 802.1ad + 802.1Q pair, so offloads work on tagged frames.
 * TSO: FIN and PSH of the frame are set on its last segment only.
 */
struct hsnic_tx_desc {
	__le64 addr;
	__le32 len;		/* 1 .. HSNIC_MAX_FRAME */
	__le32 cmd;		/* HSNIC_TXD_* */
};

#define HSNIC_TXD_EOP			(1u << 0)
#define HSNIC_TXD_CSUM			(1u << 1)	/* fill TCP/UDP csum */
#define HSNIC_TXD_TSO			(1u << 2)	/* segment TCP at MSS */
#define HSNIC_TXD_MSS_SHIFT		16
#define HSNIC_TXD_MSS_WIDTH		16
#define HSNIC_TXD_MSS_MASK		0xffff0000u
#define HSNIC_TSO_MIN_MSS		64

/* TX completion: one per frame, written after the frame left the device. */
struct hsnic_tx_cmpl {
	__le16 flags;		/* HSNIC_CMPL_GEN */
	__le16 status;		/* enum hsnic_tx_status */
	__le32 head;		/* descriptor index after the frame's EOP */
	__le64 rsvd;
};

enum hsnic_tx_status {
	HSNIC_TX_OK = 0,
	HSNIC_TX_ERR_DESC = 1,	/* frame dropped: bad descriptor */
	HSNIC_TX_ERR_DMA = 2,	/* frame dropped: DMA read failed */
	HSNIC_TX_ERR_LEN = 3,	/* frame dropped: too long or < 14 bytes */
	/* frame dropped: bad offload request (latches HSNIC_ERR_DESC) */
	HSNIC_TX_ERR_OFFLOAD = 4,
};

/*
 * RX buffer descriptor, for both the payload ring (BUF_LEN bytes at addr)
 * and the header ring (HDR_BUF_LEN bytes at addr).
 */
struct hsnic_rx_desc {
	__le64 addr;
};

/*
 * RX completion: one per frame. The device consumes header buffers (one
 * per frame, with HDS only) and payload buffers (as many as the frame
 * needs, possibly none) strictly in ring order; the completion names the
 * slots it used so the driver can check them. pay_idx is the first payload
 * slot used; with pay_nbufs 0 it is the current payload head (the queue's
 * HEAD) and nothing was consumed from the payload ring.
 *
 * Placement with HSNIC_RXQ_CTRL_HDS clear: the whole frame goes into
 * payload buffers (HDR clear, reason HSNIC_HDS_OFF).
 * With HSNIC_RXQ_CTRL_HDS set, every frame consumes exactly one header
 * buffer and has HSNIC_RXC_HDR set (also on HDR_OVF, with hdr_len 0), and:
 *  - TCP or UDP over IPv4/IPv6 (VLAN tags and IPv6 extension headers
 *    allowed, not an IP fragment), headers of hlen bytes up to the end of
 *    the L4 header, payload of plen bytes:
 *      hlen > HDR_BUF_LEN (or > the frame): HDR_OVF; header buffer gets
 *        nothing, the whole frame goes into payload buffers (reason
 *        HSNIC_HDS_HDR_OVF);
 *      plen <= HDS_THRESH and the frame fits the header buffer: the whole
 *        frame goes into the header buffer (reason HSNIC_HDS_THRESH);
 *      otherwise: SPLIT; hlen bytes into the header buffer, the payload
 *        into payload buffers (reason HSNIC_HDS_SPLIT).
 *  - anything else: the first HDR_BUF_LEN bytes go into the header buffer,
 *    the rest into payload buffers (reason HSNIC_HDS_NO_L4 or
 *    HSNIC_HDS_IP_FRAG).
 */
struct hsnic_rx_cmpl {
	__le32 flags;		/* HSNIC_CMPL_GEN, HSNIC_RXC_* */
	__le16 hdr_idx;		/* header buffer slot (HSNIC_RXC_HDR) */
	__le16 hdr_len;		/* bytes written into it */
	__le16 pay_idx;		/* first payload buffer slot (see above) */
	__le16 pay_nbufs;	/* payload buffers used, from pay_idx on */
	__le32 pay_len;		/* bytes written into payload buffers */
	__le32 rss_hash;	/* with HSNIC_RXC_RSS */
	__le16 info;		/* HSNIC_RXI_* */
	__le16 hlen;		/* L2-L4 header length found (0: none) */
	__le16 rsc_segs;	/* with HSNIC_RXC_RSC: segments coalesced */
	__le16 rsc_mss;		/* with HSNIC_RXC_RSC: their payload size */
	__le16 rsc_l4off;	/* with HSNIC_RXC_RSC: TCP header offset */
	__le16 rsc_inner;	/* with HSNIC_RXC_RSC: inner IP header, or 0 */
};

/*
 * Receive segment coalescing (HSNIC_RXQ_CTRL_RSC, docs/specs/hsnic.rst):
 * a completion with HSNIC_RXC_RSC describes one TCP frame the device made
 * of rsc_segs >= 2 in-order segments of one flow, the rules of Linux's
 * GRO deciding which, every one but the last carrying exactly rsc_mss
 * payload bytes. Its headers (hlen bytes: Ethernet, IPv4 or IPv6 with
 * extension headers, with IPIP/IP6IP6 a second IP header at rsc_inner,
 * TCP at rsc_l4off) are those of the first segment with every IPv4 total
 * length and header checksum, and every IPv6 payload length, rewritten
 * for the merged frame, and PSH and FIN set if the last segment had them.
 * Each segment's IP and TCP checksums were verified (HSNIC_RXC_L4_CSUM_OK,
 * and L3_CSUM_OK for IPv4), but the TCP checksum field of the merged frame
 * is the first segment's: the driver must not rely on it.
 * HSNIC_RXC_RSC_FIXEDID (HSNIC_RXC_RSC_FIXEDID_IN): every segment had the
 * same IPv4 ID in the outer (inner) header; otherwise they incremented by
 * one. Placement is that of a single frame of that size (hds rules with
 * hlen). RSS hash and rule are the first segment's.
 */

#define HSNIC_RXC_HDR			(1u << 1)	/* header buffer used */
#define HSNIC_RXC_SPLIT			(1u << 2)	/* split at end of L4 */
#define HSNIC_RXC_HDR_OVF		(1u << 3)	/* headers > header buf */
#define HSNIC_RXC_L3_CSUM_OK		(1u << 4)	/* IPv4 header csum ok */
#define HSNIC_RXC_L4_CSUM_OK		(1u << 5)	/* TCP/UDP csum ok */
#define HSNIC_RXC_CSUM_BAD		(1u << 6)	/* L3 or L4 csum wrong */
#define HSNIC_RXC_RSS			(1u << 7)	/* rss_hash valid */
#define HSNIC_RXC_RULE			(1u << 8)	/* a flow rule matched */
#define HSNIC_RXC_RSC			(1u << 9)	/* coalesced segments */
#define HSNIC_RXC_RSC_FIXEDID		(1u << 10)	/* outer IPv4 ID fixed */
#define HSNIC_RXC_RSC_FIXEDID_IN	(1u << 11)	/* inner IPv4 ID fixed */

/* info: why the frame was (not) split, and the RSS hash type. */
#define HSNIC_RXI_HDS_SHIFT		0
#define HSNIC_RXI_HDS_WIDTH		4
#define HSNIC_RXI_HDS_MASK		0x000fu
#define HSNIC_RXI_RSS_TYPE_SHIFT	4
#define HSNIC_RXI_RSS_TYPE_WIDTH	4
#define HSNIC_RXI_RSS_TYPE_MASK		0x00f0u
#define HSNIC_RXI_RULE_SHIFT		8	/* rule index, with RXC_RULE */
#define HSNIC_RXI_RULE_WIDTH		8
#define HSNIC_RXI_RULE_MASK		0xff00u

enum hsnic_hds_reason {
	HSNIC_HDS_OFF = 0,	/* header split disabled on this queue */
	HSNIC_HDS_SPLIT = 1,	/* split at the end of the L4 header */
	HSNIC_HDS_THRESH = 2,	/* payload <= HDS_THRESH, kept together */
	HSNIC_HDS_NO_L4 = 3,	/* not TCP/UDP over IP: nowhere to split */
	HSNIC_HDS_IP_FRAG = 4,	/* IP fragment */
	HSNIC_HDS_HDR_OVF = 5,	/* headers longer than the header buffer */
};

enum hsnic_rss_type {
	HSNIC_RSS_TYPE_NONE = 0,
	HSNIC_RSS_TYPE_IPV4 = 1,
	HSNIC_RSS_TYPE_TCPV4 = 2,
	HSNIC_RSS_TYPE_UDPV4 = 3,
	HSNIC_RSS_TYPE_IPV6 = 4,
	HSNIC_RSS_TYPE_TCPV6 = 5,
	HSNIC_RSS_TYPE_UDPV6 = 6,
};

/* Doorbell record of one queue pair (see HSNIC_REG_DB_REC_LO). */
struct hsnic_db_rec {
	__le32 tx_tail;		/* as written to HSNIC_DB_TX */
	__le32 rx_tail;		/* as written to HSNIC_DB_RX */
	__le32 rx_hdr_tail;	/* as written to HSNIC_DB_RX_HDR */
	__le32 rsvd;
};

/*
 * Layout checks at compile time: static_assert (the kernel's; C11's from
 * <assert.h>, which QEMU and the tests include first; C++11's). The kernel
 * also compile-tests uapi headers as C90 and C++98, which have none: there,
 * and for a C11 user that did not include <assert.h>, a failed check is a
 * negative bit-field width in struct hsnic_abi_check_<name> (a compile-time
 * trick, no part of the ABI).
 */
#if defined(__KERNEL__) || defined(static_assert) || \
	(defined(__cplusplus) && __cplusplus >= 201103L)
#define HSNIC_ABI_ASSERT(name, cond)	static_assert(cond, #name)
#else
#define HSNIC_ABI_ASSERT(name, cond)	\
	struct hsnic_abi_check_##name { int check : (cond) ? 1 : -1; }
#endif

HSNIC_ABI_ASSERT(tx_desc_is_16_bytes, sizeof(struct hsnic_tx_desc) == 16);
HSNIC_ABI_ASSERT(tx_cmpl_is_16_bytes, sizeof(struct hsnic_tx_cmpl) == 16);
HSNIC_ABI_ASSERT(rx_desc_is_8_bytes, sizeof(struct hsnic_rx_desc) == 8);
HSNIC_ABI_ASSERT(rx_cmpl_is_32_bytes, sizeof(struct hsnic_rx_cmpl) == 32);
HSNIC_ABI_ASSERT(db_rec_is_16_bytes,
		 sizeof(struct hsnic_db_rec) == HSNIC_DB_REC_ALIGN);
HSNIC_ABI_ASSERT(dstat_below_irq_ctrl,
		 HSNIC_REG_DSTAT_HI(HSNIC_DSTAT_NUM - 1) < HSNIC_REG_IRQ_CTRL(0));
HSNIC_ABI_ASSERT(irq_ctrl_below_irq_mod,
		 HSNIC_REG_IRQ_CTRL(HSNIC_NUM_VEC_MAX) <= HSNIC_REG_IRQ_MOD(0));
HSNIC_ABI_ASSERT(irq_mod_below_irq_txmod,
		 HSNIC_REG_IRQ_MOD(HSNIC_NUM_VEC_MAX) <= HSNIC_REG_IRQ_TXMOD(0));
HSNIC_ABI_ASSERT(irq_below_txq,
		 HSNIC_REG_IRQ_TXMOD(HSNIC_NUM_VEC_MAX) <= HSNIC_TXQ_BASE);
HSNIC_ABI_ASSERT(txq_below_rxq,
		 HSNIC_TXQ_REG(HSNIC_MAX_QP, 0) <= HSNIC_RXQ_BASE);
HSNIC_ABI_ASSERT(rxq_below_rules,
		 HSNIC_RXQ_REG(HSNIC_MAX_QP, 0) <= HSNIC_RULE_BASE);
HSNIC_ABI_ASSERT(rxq_fits_stride, HSNIC_RXQ_HDS_THRESH < HSNIC_RXQ_STRIDE);
HSNIC_ABI_ASSERT(rules_below_rss,
		 HSNIC_RULE(HSNIC_NUM_RULES) <= HSNIC_RSS_BASE);
HSNIC_ABI_ASSERT(rule_fits_stride, HSNIC_RULE_DST_MASK(3) < HSNIC_RULE_STRIDE);
HSNIC_ABI_ASSERT(rss_below_db, HSNIC_RSS(HSNIC_RSS_CTX_NUM) <= HSNIC_DB_BASE);
HSNIC_ABI_ASSERT(rss_fits_stride,
		 HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4) <= HSNIC_RSS_STRIDE);
HSNIC_ABI_ASSERT(rss_key_below_indir,
		 HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4) <= HSNIC_RSS_INDIR(0));
HSNIC_ABI_ASSERT(db_below_qstat,
		 HSNIC_DB_RX_HDR(HSNIC_MAX_QP - 1) < HSNIC_QSTAT_BASE);
HSNIC_ABI_ASSERT(qstat_fits_bar0,
		 HSNIC_TXQ_STAT_LO(HSNIC_MAX_QP - 1, HSNIC_TXS_NUM) <= HSNIC_BAR0_SIZE);
HSNIC_ABI_ASSERT(rx_stats_fit_0x80, HSNIC_RXS_NUM * 8 <= 0x80);

#endif /* HSNIC_ABI_H */
