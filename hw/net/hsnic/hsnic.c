/*
 * QEMU hsnic: a virtual PCIe Ethernet controller with TCP/UDP header
 * split, RSS, flow steering and per-queue restart
 *
 * The device interface (PCI identity, BAR0 registers, descriptor and
 * completion layouts) is defined in hsnic_abi.h (include/hsnic_abi.h of
 * the hsnic tree, include/hw/net/ in QEMU's) and described in the hsnic
 * tree's docs/hsnic-spec.md.
 *
 * Structure: register writes only record state (doorbells update a tail
 * and schedule a bottom half); TX rings are processed in one bottom half
 * per queue, a bounded number of frames at a time. Received frames are
 * classified (flow rules, then RSS) and written to the chosen RX queue
 * from the .receive callback; a frame that finds too few buffers posted
 * is left queued in the net layer and retried when the driver rings an RX
 * doorbell. Every descriptor is copied from guest memory and validated
 * before use; a guest error stops the queue or drops the frame, is
 * logged (LOG_GUEST_ERROR and a trace event) and counted, never asserted.
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/event_notifier.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "net/net.h"
#include "net/eth.h"
#include "net/checksum.h"
#include "standard-headers/linux/virtio_net.h"
#include "system/dma.h"
#include "system/kvm.h"
#include "system/replay.h"
#include "system/runstate.h"
#include "qom/object.h"

#include "hw/net/hsnic_abi.h"
#include "hw/net/net_tx_pkt.h"
#include "hw/net/net_rx_pkt.h"
#include "trace.h"

#define TYPE_HSNIC "hsnic"
OBJECT_DECLARE_SIMPLE_TYPE(HsnicState, HSNIC)

#define HSNIC_TX_DESC_SIZE      sizeof(struct hsnic_tx_desc)
#define HSNIC_TX_CMPL_SIZE      sizeof(struct hsnic_tx_cmpl)
#define HSNIC_RX_DESC_SIZE      sizeof(struct hsnic_rx_desc)
#define HSNIC_RX_CMPL_SIZE      sizeof(struct hsnic_rx_cmpl)
#define HSNIC_RING_ALIGN        16
#define HSNIC_CMPL_MAX_SIZE     32
/* Frames one TX bottom half run sends before it yields. */
#define HSNIC_TX_BUDGET         256
/* Payload buffers one frame may use: a full frame in the smallest ones. */
#define HSNIC_RX_MAX_BUFS       DIV_ROUND_UP(HSNIC_MAX_FRAME, HSNIC_MIN_RX_BUF)
/* RSC: the longest header stack kept (Ethernet, IPv6, TCP with options) */
#define HSNIC_RSC_HDR_MAX       128
#define HSNIC_RSC_MAX_SEGS      64
/* rsc-usecs: the longest an aggregate may wait for its next segment */
#define HSNIC_RSC_USECS_DEFAULT 50
#define HSNIC_RSC_USECS_MAX     10000

#define HSNIC_PM_CAP_OFFSET     0x40
#define HSNIC_PCIE_CAP_OFFSET   0xa0

#define HSNIC_FEATURES          (HSNIC_F_RX_MODE | HSNIC_F_HDS | \
                                 HSNIC_F_RSS | HSNIC_F_RULES | \
                                 HSNIC_F_RX_CSUM | HSNIC_F_TX_CSUM | \
                                 HSNIC_F_TSO | HSNIC_F_QSTATS | \
                                 HSNIC_F_IRQ_MOD | HSNIC_F_DB_REC | \
                                 HSNIC_F_IRQ_TXMOD | HSNIC_F_RSC)
#define HSNIC_EVT_ALL           (HSNIC_EVT_LINK | HSNIC_EVT_ERROR)
#define HSNIC_RX_MODE_ALL       (HSNIC_RX_MODE_PROMISC | \
                                 HSNIC_RX_MODE_ALLMULTI | \
                                 HSNIC_RX_MODE_BROADCAST)
#define HSNIC_RX_MODE_RESET     HSNIC_RX_MODE_BROADCAST
#define HSNIC_Q_STATUS_ALL      (HSNIC_Q_STATUS_ENABLED | HSNIC_Q_STATUS_ERROR)
#define HSNIC_DEV_CTRL_ALL      (HSNIC_DEV_CTRL_ENABLE | HSNIC_DEV_CTRL_DB_REC)
/* A queue pair's doorbells, as offsets from its HSNIC_DB_TX(q). */
#define HSNIC_DB_SLOT_TX        0
#define HSNIC_DB_SLOT_RX        (HSNIC_DB_RX(0) - HSNIC_DB_TX(0))
#define HSNIC_DB_SLOT_RX_HDR    (HSNIC_DB_RX_HDR(0) - HSNIC_DB_TX(0))
#define HSNIC_DB_PER_QP         3

G_STATIC_ASSERT(HSNIC_MAX_RING <= UINT16_MAX);   /* 16-bit slot fields */
G_STATIC_ASSERT(HSNIC_MAX_RX_BUF <= UINT32_MAX);
G_STATIC_ASSERT(HSNIC_RX_CMPL_SIZE <= HSNIC_CMPL_MAX_SIZE);
G_STATIC_ASSERT(HSNIC_TX_CMPL_SIZE <= HSNIC_CMPL_MAX_SIZE);
G_STATIC_ASSERT(HSNIC_NUM_RULES <= 256);         /* HSNIC_RXI_RULE */

/*
 * One TX or RX queue. TX uses the descriptor and completion rings; RX
 * adds the header ring and the buffer lengths.
 */
typedef struct HsnicQueue {
    uint64_t desc_addr;
    uint64_t cmpl_addr;
    uint64_t hdr_addr;
    uint32_t ring_size;
    uint32_t ctrl;
    uint32_t status;
    uint32_t head;          /* next descriptor the device reads */
    uint32_t tail;          /* last doorbell value */
    uint32_t cmpl_idx;      /* next completion slot */
    uint32_t hdr_head;
    uint32_t hdr_tail;
    uint32_t buf_len;
    uint32_t hdr_buf_len;
    uint32_t hds_thresh;
    bool gen;               /* GEN value of the next completion */
    /* TX, not migrated: descriptors of the frame at HEAD seen without EOP */
    uint32_t eop_scan_head; /* the HEAD they were counted from */
    uint32_t eop_scanned;
} HsnicQueue;

typedef struct HsnicRule {
    uint32_t ctrl;
    uint32_t dest;
    uint32_t ports;
    uint32_t ports_mask;
    uint32_t proto;
    uint32_t src[4];
    uint32_t src_mask[4];
    uint32_t dst[4];
    uint32_t dst_mask[4];
} HsnicRule;

typedef struct HsnicRss {
    uint32_t ctrl;
    uint32_t fields;
    uint8_t key[HSNIC_RSS_KEY_SIZE];
    uint8_t indir[HSNIC_RSS_INDIR_SIZE];
} HsnicRss;

/* Where a received frame goes. */
typedef struct HsnicRxDecision {
    bool drop;
    unsigned queue;
    uint32_t flags;         /* HSNIC_RXC_RSS, HSNIC_RXC_RULE */
    uint32_t csum_flags;    /* HSNIC_RXC_L3/L4_CSUM_OK, _CSUM_BAD */
    uint32_t rss_hash;
    unsigned rss_type;
    unsigned rule;
} HsnicRxDecision;

/* How a received frame is laid out over its buffers. */
typedef struct HsnicRxLayout {
    uint32_t flags;         /* HSNIC_RXC_HDR, _SPLIT, _HDR_OVF */
    unsigned reason;        /* enum hsnic_hds_reason */
    size_t hlen;            /* parsed header length, 0 if none */
    size_t hdr_bytes;       /* into the header buffer */
    size_t pay_bytes;       /* into payload buffers, after hdr_bytes */
    uint32_t nbufs;
} HsnicRxLayout;

/*
 * An open receive segment coalescing aggregate of one RX queue: the
 * payload of its segments is already in the queue's payload buffers
 * (from slot HEAD on, packed from byte @start of the first one), its
 * header buffer (with HDS) is reserved, and HEAD and HDR_HEAD only move
 * when it is delivered. Not migrated: the VM stop handler delivers it.
 */
typedef struct HsnicRsc {
    bool open;
    bool ip6;
    bool psh;               /* a segment had PSH (the last one) */
    uint16_t hlen;          /* L2-L4 header bytes */
    uint16_t l4off;
    uint16_t mss;           /* payload bytes of the first segment */
    uint16_t segs;
    uint32_t next_seq;      /* sequence number the next segment must have */
    uint32_t start;         /* payload offset in the first buffer */
    uint32_t pay_len;       /* payload bytes placed */
    uint32_t buf_idx;       /* slot (from HEAD) of buf_addr */
    uint64_t buf_addr;      /* payload buffer being filled */
    bool buf_valid;         /* buf_idx and buf_addr are set */
    uint64_t first_addr;    /* first payload buffer */
    uint64_t hdr_addr;      /* reserved header buffer (HDS) */
    HsnicRxLayout lay;      /* of the first segment */
    HsnicRxDecision dec;    /* of the first segment */
    uint8_t hdr[HSNIC_RSC_HDR_MAX];  /* headers of the first segment */
} HsnicRsc;

/* What the RSC parser found in a received frame. */
typedef struct HsnicRscSeg {
    bool ip6;
    uint8_t tcp_flags;
    size_t l4off;
    size_t hlen;
    size_t pay;
    uint32_t seq;
} HsnicRscSeg;

/* Interrupt state of one MSI-X vector. */
typedef struct HsnicVector {
    HsnicState *s;          /* for the timer callback */
    unsigned idx;
    bool armed;
    bool pending;           /* completions written since it fired */
    bool rx_pending;        /* ... and at least one of them is RX */
    uint32_t npending;
    uint32_t mod;           /* IRQ_MOD register */
    uint32_t txmod;         /* IRQ_TXMOD register */
    QEMUTimer *timer;       /* moderation delay */
} HsnicVector;

/* Queue pair @q of @s: the opaque of per-queue bottom halves and timers. */
typedef struct HsnicQueueRef {
    HsnicState *s;
    unsigned q;
} HsnicQueueRef;

/*
 * Device faults a test can inject at run time (qom-set on the x-fault-*
 * properties): each counter says how many more times the fault happens.
 * They let the lab check that the driver notices a misbehaving device
 * and recovers. Not migrated.
 */
typedef struct HsnicFaults {
    uint32_t drop_cmpl;     /* next completions are not written at all */
    uint32_t dup_cmpl;      /* ... are written twice (two slots) */
    uint32_t corrupt_cmpl;  /* ... have their index field corrupted */
    uint32_t fail_dma;      /* ... fail as DMA errors (queue stops) */
    uint32_t stop_delay;    /* STATUS reads after a stop that lie */
    uint32_t stop_lie;      /* left for the queue being stopped */
    uint64_t injected;      /* faults injected so far */
} HsnicFaults;

/* The eventfd behind one doorbell (ioeventfd, with doorbell records). */
typedef struct HsnicDbNotifier {
    EventNotifier e;
    HsnicState *s;
    unsigned q;
    unsigned slot;          /* HSNIC_DB_SLOT_* */
} HsnicDbNotifier;

struct HsnicState {
    PCIDevice parent_obj;

    NICState *nic;
    NICConf conf;
    MemoryRegion mmio;
    MemoryRegion db_mmio;   /* the doorbells: dispatched without the BQL */

    /* Properties */
    uint32_t num_qp;
    uint32_t max_ring;
    uint32_t rsc_usecs;     /* how long an aggregate may stay open */
    bool ioeventfd;
    bool vnet_hdr_prop;

    /* Registers */
    uint32_t dev_ctrl;
    uint32_t evt_cause;
    uint32_t evt_mask;
    uint32_t rx_mode;
    uint32_t err_code;
    uint32_t stat_latch;    /* upper half of the last counter read */
    uint64_t db_rec_addr;
    HsnicVector vec[HSNIC_NUM_VEC_MAX];
    HsnicQueue txq[HSNIC_MAX_QP];
    HsnicQueue rxq[HSNIC_MAX_QP];
    HsnicRule rules[HSNIC_NUM_RULES];
    HsnicRss rss[HSNIC_RSS_CTX_NUM];

    /* Counters */
    uint64_t dstat[HSNIC_DSTAT_NUM];
    uint64_t rx_qstat[HSNIC_MAX_QP][HSNIC_RXS_NUM];
    uint64_t tx_qstat[HSNIC_MAX_QP][HSNIC_TXS_NUM];

    /* Not migrated: bottom halves and scratch state */
    QEMUBH *tx_bh[HSNIC_MAX_QP];
    HsnicQueueRef qref[HSNIC_MAX_QP];
    QEMUBH *rx_bh;
    /* Set without the BQL by doorbell writes, cleared by the BHs */
    uint64_t rx_db_pending; /* bit q: read RX queue q's doorbell record */
    uint64_t tx_db_rung;    /* bit q: TX queue q's doorbell was written */
    uint64_t rx_db_rung;    /* bit q: RX queue q's payload doorbell */
    uint64_t hdr_db_rung;   /* bit q: RX queue q's header doorbell */
    HsnicDbNotifier db_notifier[HSNIC_MAX_QP][HSNIC_DB_PER_QP];
    bool db_eventfds;       /* the notifiers are attached to the doorbells */
    bool has_vnet;          /* frames to and from the peer carry a vnet hdr */
    QEMUBH *rsc_bh;         /* rsc-usecs=0: delivers them after a batch */
    QEMUTimer *rsc_timer[HSNIC_MAX_QP];     /* delivers an aggregate */
    uint64_t tx_desc_reads; /* TX descriptors read (x-stat-tx-desc-reads) */
    VMChangeStateEntry *vmstate_change;
    HsnicRsc rsc[HSNIC_MAX_QP];
    HsnicFaults fault;      /* x-fault-* properties (tests only) */
    bool tx_busy;
    unsigned tx_q;          /* queue being sent, for the send callback */
    size_t tso_left;        /* TSO payload bytes not yet sent */
    uint8_t tso_flags;      /* TCP flags for the last TSO segment */
    struct NetTxPkt *tx_pkt;
    uint8_t *tx_buf;        /* HSNIC_MAX_FRAME bytes: the frame being sent */
    struct NetRxPkt *rx_pkt;
    struct hsnic_rx_desc rx_desc[HSNIC_RX_MAX_BUFS];
};

static const char *hsnic_dir(bool rx)
{
    return rx ? "rx" : "tx";
}

/* Invalid register access or descriptor: log it, count it, carry on. */
#define hsnic_guest_error(s, fmt, ...)                                  \
    do {                                                                \
        (s)->dstat[HSNIC_DSTAT_GUEST_ERRORS]++;                         \
        qemu_log_mask(LOG_GUEST_ERROR, "hsnic: " fmt "\n", ## __VA_ARGS__); \
    } while (0)

/*
 * The device's re-entrancy guard, engaged by hand on the paths the memory
 * core does not guard: PCI config writes, timers, VM state and link
 * changes, the doorbells' BQL path. Its MMIO handlers and bottom halves
 * run with it engaged already. While it is, a DMA or MSI-X message that
 * lands on one of hsnic's own BARs fails (MEMTX_ACCESS_ERROR) instead of
 * becoming a register write in the middle of the device's own work.
 * Returns whether this call engaged it (false when nested).
 */
static bool hsnic_guard_enter(HsnicState *s)
{
    MemReentrancyGuard *g = &DEVICE(s)->mem_reentrancy_guard;

    if (g->engaged_in_io) {
        return false;
    }
    g->engaged_in_io = true;
    return true;
}

static void hsnic_guard_exit(HsnicState *s, bool entered)
{
    if (entered) {
        DEVICE(s)->mem_reentrancy_guard.engaged_in_io = false;
    }
}

/* ---- Interrupts ---- */

static void hsnic_irq_fire(HsnicState *s, unsigned vector)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicVector *v = &s->vec[vector];

    /* No INTx or MSI: without MSI-X the vector stays pending and armed. */
    if (!msix_enabled(d)) {
        return;
    }
    trace_hsnic_irq_fire(vector, v->npending);
    if (vector != HSNIC_VEC_EVENTS) {
        v->armed = false;
        v->pending = false;
        v->rx_pending = false;
        v->npending = 0;
        timer_del(v->timer);
    }
    msix_notify(d, vector);
}

/*
 * An armed vector with pending completions fires at once, or when its
 * moderation delay (IRQ_MOD.USECS) has passed, or once IRQ_MOD.FRAMES
 * completions are pending, whichever comes first.
 */
static void hsnic_irq_update(HsnicState *s, unsigned vector)
{
    HsnicVector *v = &s->vec[vector];
    /* Only TX completions pending: IRQ_TXMOD, if set, instead of IRQ_MOD */
    uint32_t mod = !v->rx_pending && v->txmod ? v->txmod : v->mod;
    uint32_t usecs = (mod & HSNIC_IRQ_MOD_USECS_MASK) >>
                     HSNIC_IRQ_MOD_USECS_SHIFT;
    uint32_t frames = (mod & HSNIC_IRQ_MOD_FRAMES_MASK) >>
                      HSNIC_IRQ_MOD_FRAMES_SHIFT;

    if (!v->armed || !v->pending) {
        return;
    }
    if (!usecs || (frames && v->npending >= frames)) {
        hsnic_irq_fire(s, vector);
    } else {
        /* An RX completion may bring a TX deadline forward. */
        timer_mod_anticipate(v->timer,
                             qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                             (int64_t)usecs * SCALE_US);
    }
}

static void hsnic_irq_timer(void *opaque)
{
    HsnicVector *v = opaque;
    bool guard = hsnic_guard_enter(v->s);

    trace_hsnic_irq_timer(v->idx, v->armed, v->npending);
    if (v->armed && v->pending) {
        hsnic_irq_fire(v->s, v->idx);
    }
    hsnic_guard_exit(v->s, guard);
}

/* A queue of @vector wrote @n completions. */
static void hsnic_irq_signal(HsnicState *s, unsigned vector, uint32_t n,
                             bool rx)
{
    HsnicVector *v = &s->vec[vector];

    v->pending = true;
    v->rx_pending |= rx;
    v->npending = MIN((uint64_t)v->npending + n, UINT32_MAX);
    hsnic_irq_update(s, vector);
}

static void hsnic_irq_arm(HsnicState *s, unsigned vector, bool arm)
{
    HsnicVector *v = &s->vec[vector];

    trace_hsnic_irq_arm(vector, arm, v->pending);
    v->armed = arm;
    if (!arm) {
        timer_del(v->timer);
    }
    hsnic_irq_update(s, vector);
}

/* Vector 0 is sent whenever an unmasked cause bit goes from 0 to 1. */
static void hsnic_evt_update(HsnicState *s, uint32_t old_active)
{
    uint32_t active = s->evt_cause & s->evt_mask;

    trace_hsnic_evt(s->evt_cause, s->evt_mask);
    if (active & ~old_active) {
        hsnic_irq_fire(s, HSNIC_VEC_EVENTS);
    }
}

static void hsnic_evt_raise(HsnicState *s, uint32_t cause)
{
    uint32_t old_active = s->evt_cause & s->evt_mask;

    s->evt_cause |= cause;
    hsnic_evt_update(s, old_active);
}

static void hsnic_rsc_flush(HsnicState *s, unsigned q, const char *why);
static void hsnic_rsc_flush_all(HsnicState *s, const char *why);

/* ---- Errors ---- */

static void hsnic_rx_kick(HsnicState *s)
{
    replay_bh_schedule_event(s->rx_bh);
}

static void hsnic_latch_error(HsnicState *s, enum hsnic_err code,
                              unsigned q, bool rx)
{
    uint32_t qid = HSNIC_QID(q, rx);

    s->err_code = ((code << HSNIC_ERR_CODE_SHIFT) & HSNIC_ERR_CODE_MASK) |
                  ((qid << HSNIC_ERR_QUEUE_SHIFT) & HSNIC_ERR_QUEUE_MASK);
    hsnic_evt_raise(s, HSNIC_EVT_ERROR);
}

static HsnicQueue *hsnic_queue(HsnicState *s, unsigned q, bool rx)
{
    return rx ? &s->rxq[q] : &s->txq[q];
}

/* Stop a queue: it does not touch guest memory until re-enabled. */
static void hsnic_queue_error(HsnicState *s, unsigned q, bool rx,
                              enum hsnic_err code)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_err_queue(q, hsnic_dir(rx), code);
    qemu_log_mask(LOG_GUEST_ERROR, "hsnic: %s queue %u stopped, error %u\n",
                  hsnic_dir(rx), q, code);
    r->status = HSNIC_Q_STATUS_ERROR;
    r->ctrl &= ~HSNIC_Q_CTRL_ENABLE;
    s->dstat[HSNIC_DSTAT_QUEUE_ERRORS]++;
    hsnic_latch_error(s, code, q, rx);
    if (rx) {
        /* An open aggregate is lost with the queue: nothing completes. */
        if (s->rsc[q].open) {
            trace_hsnic_rsc_discard(q, s->rsc[q].segs, "queue error");
            s->rsc[q].open = false;
        }
        /* A frame held for this queue is dropped now, not kept forever. */
        hsnic_rx_kick(s);
    }
}

/* ---- Rings ---- */

static bool hsnic_queue_active(const HsnicQueue *r)
{
    return r->status & HSNIC_Q_STATUS_ENABLED;
}

/* ---- Doorbell records ---- */

static bool hsnic_db_rec_on(HsnicState *s)
{
    return s->dev_ctrl & HSNIC_DEV_CTRL_DB_REC;
}

/*
 * Take an enabled queue's producer indexes from its doorbell record. Only
 * called from bottom halves and the receive path, with DMA allowed.
 * Returns false when the queue stopped on an error.
 */
static bool hsnic_db_rec_fetch(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint64_t addr = s->db_rec_addr + q * sizeof(struct hsnic_db_rec);
    struct hsnic_db_rec rec;
    uint32_t tail, hdr_tail;
    bool hds = rx && (r->ctrl & HSNIC_RXQ_CTRL_HDS);

    if (pci_dma_read(PCI_DEVICE(s), addr, &rec, sizeof(rec))) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "doorbell record read",
                                 addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    tail = le32_to_cpu(rx ? rec.rx_tail : rec.tx_tail);
    hdr_tail = hds ? le32_to_cpu(rec.rx_hdr_tail) : r->hdr_tail;
    trace_hsnic_db_rec(q, hsnic_dir(rx), tail, hdr_tail);
    if (tail >= r->ring_size || hdr_tail >= r->ring_size) {
        trace_hsnic_err_tail(q, hsnic_dir(rx), MAX(tail, hdr_tail),
                             r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_TAIL);
        return false;
    }
    r->tail = tail;
    r->hdr_tail = hdr_tail;
    return true;
}

static const char *hsnic_db_name(unsigned slot)
{
    return slot == HSNIC_DB_SLOT_TX ? "tx" : slot == HSNIC_DB_SLOT_RX ? "rx" :
           "rx-hdr";
}

/* A doorbell for a queue (or header ring) that is not enabled: ignored. */
static void hsnic_db_refused(HsnicState *s, unsigned q, unsigned slot)
{
    const char *name = hsnic_db_name(slot);

    trace_hsnic_err_db_disabled(q, name);
    hsnic_guest_error(s, "%s queue %u: doorbell while disabled%s", name, q,
                      slot == HSNIC_DB_SLOT_RX_HDR ? " or without HDS" : "");
}

/*
 * Doorbell notification with doorbell records on: only record it, the
 * bottom halves read the record (no DMA in the vCPU's MMIO path) and
 * check that the doorbell was allowed. Called without the BQL.
 */
static void hsnic_db_notify(HsnicState *s, unsigned q, unsigned slot)
{
    switch (slot) {
    case HSNIC_DB_SLOT_TX:
        qatomic_or(&s->tx_db_rung, BIT_ULL(q));
        replay_bh_schedule_event(s->tx_bh[q]);
        break;
    default:
        qatomic_or(slot == HSNIC_DB_SLOT_RX ? &s->rx_db_rung :
                   &s->hdr_db_rung, BIT_ULL(q));
        qatomic_or(&s->rx_db_pending, BIT_ULL(q));
        hsnic_rx_kick(s);
        break;
    }
}

/* A doorbell write that reached an eventfd (KVM or the memory core). */
static void hsnic_db_notified(EventNotifier *e)
{
    HsnicDbNotifier *n = container_of(e, HsnicDbNotifier, e);

    if (event_notifier_test_and_clear(e)) {
        trace_hsnic_doorbell_eventfd(n->q, n->slot);
        hsnic_db_notify(n->s, n->q, n->slot);
    }
}

/*
 * Attach the doorbells' eventfds while doorbell records are on (the value
 * written is then not needed), detach them otherwise. Only where the
 * accelerator completes MMIO writes to eventfds itself (KVM): under TCG
 * the vCPU thread dispatches the write anyway, and the MMIO handler,
 * which only records the notification, is one thread hop shorter than
 * an eventfd (measured: TCP_RR +7..20%).
 */
static void hsnic_db_eventfds(HsnicState *s, bool on)
{
    unsigned q, w;

    /* Record/replay cannot synchronise fd-based events either. */
    on = on && s->ioeventfd && kvm_enabled() &&
         replay_mode == REPLAY_MODE_NONE;
    if (on == s->db_eventfds) {
        return;
    }
    trace_hsnic_db_eventfds(on);
    memory_region_transaction_begin();
    for (q = 0; q < s->num_qp; q++) {
        for (w = 0; w < HSNIC_DB_PER_QP; w++) {
            HsnicDbNotifier *n = &s->db_notifier[q][w];
            hwaddr addr = HSNIC_DB_TX(q) - HSNIC_DB_BASE + n->slot;

            if (on) {
                memory_region_add_eventfd(&s->db_mmio, addr, 4, false, 0,
                                          &n->e);
            } else {
                memory_region_del_eventfd(&s->db_mmio, addr, 4, false, 0,
                                          &n->e);
            }
        }
    }
    memory_region_transaction_commit();
    s->db_eventfds = on;
}

/* Work may be waiting: read every record, restart every TX queue. */
static void hsnic_db_kick_all(HsnicState *s)
{
    unsigned q;

    qatomic_or(&s->rx_db_pending, MAKE_64BIT_MASK(0, s->num_qp));
    for (q = 0; q < s->num_qp; q++) {
        replay_bh_schedule_event(s->tx_bh[q]);
    }
    hsnic_rx_kick(s);
}

static bool hsnic_dev_enabled(HsnicState *s)
{
    return s->dev_ctrl & HSNIC_DEV_CTRL_ENABLE;
}

static bool hsnic_ring_size_valid(HsnicState *s, uint32_t size)
{
    return is_power_of_2(size) && size >= HSNIC_MIN_RING &&
           size <= s->max_ring;
}

static bool hsnic_buf_len_valid(uint32_t len)
{
    return len >= HSNIC_MIN_RX_BUF && len <= HSNIC_MAX_RX_BUF &&
           QEMU_IS_ALIGNED(len, HSNIC_RX_BUF_ALIGN);
}

static uint32_t hsnic_ring_next(const HsnicQueue *r, uint32_t idx)
{
    return (idx + 1) & (r->ring_size - 1);
}

static uint32_t hsnic_ring_add(const HsnicQueue *r, uint32_t idx, uint32_t n)
{
    return (idx + n) & (r->ring_size - 1);
}

/* Descriptors the driver posted and the device has not consumed. */
static uint32_t hsnic_ring_posted(const HsnicQueue *r)
{
    return (r->tail - r->head) & (r->ring_size - 1);
}

static uint32_t hsnic_hdr_posted(const HsnicQueue *r)
{
    return (r->hdr_tail - r->hdr_head) & (r->ring_size - 1);
}

static bool hsnic_ring_fits(uint64_t addr, uint32_t entries, size_t size)
{
    uint64_t bytes = (uint64_t)entries * size;

    return QEMU_IS_ALIGNED(addr, HSNIC_RING_ALIGN) &&
           addr <= UINT64_MAX - bytes;
}

/* Read descriptor @idx of the ring at @base into @desc (a local copy). */
static bool hsnic_read_desc(HsnicState *s, unsigned q, bool rx,
                            uint64_t base, uint32_t idx, void *desc,
                            size_t size)
{
    dma_addr_t addr = base + (uint64_t)idx * size;

    if (!rx) {
        s->tx_desc_reads++;
    }
    if (pci_dma_read(PCI_DEVICE(s), addr, desc, size)) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "descriptor read", addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    return true;
}

/*
 * x-fault-corrupt-cmpl flips the top bit of this byte: bit 31 of a TX
 * completion's head, bit 15 of an RX completion's hdr_len (both are out
 * of any valid range, and a driver must notice).
 */
#define HSNIC_FAULT_CORRUPT_BYTE (offsetof(struct hsnic_tx_cmpl, head) + 3)
G_STATIC_ASSERT(HSNIC_FAULT_CORRUPT_BYTE ==
                offsetof(struct hsnic_rx_cmpl, hdr_len) + 1);

/* Consume one injected fault of the kind @left counts, if any is left. */
static bool hsnic_fault(HsnicState *s, uint32_t *left, unsigned q, bool rx,
                        const char *what)
{
    if (likely(!*left)) {
        return false;
    }
    (*left)--;
    s->fault.injected++;
    trace_hsnic_fault(q, hsnic_dir(rx), what);
    return true;
}

/*
 * Write the completion @entry of @size bytes, whose GEN bit is bit 0 of
 * its first byte, into the next slot. The entry is first written with the
 * stale GEN value, then the byte holding GEN, so a driver polling on
 * another CPU never sees the new GEN value before the rest of the entry.
 */
static bool hsnic_write_cmpl_slot(HsnicState *s, unsigned q, bool rx,
                                  const void *entry, size_t size)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    PCIDevice *d = PCI_DEVICE(s);
    dma_addr_t addr = r->cmpl_addr + (uint64_t)r->cmpl_idx * size;
    uint8_t buf[HSNIC_CMPL_MAX_SIZE];
    uint8_t gen_byte;

    memcpy(buf, entry, size);
    if (hsnic_fault(s, &s->fault.drop_cmpl, q, rx, "completion dropped")) {
        return true;
    }
    if (hsnic_fault(s, &s->fault.corrupt_cmpl, q, rx,
                    "completion index corrupted")) {
        buf[HSNIC_FAULT_CORRUPT_BYTE] ^= 0x80;
    }
    gen_byte = (buf[0] & ~HSNIC_CMPL_GEN) | (r->gen ? HSNIC_CMPL_GEN : 0);
    buf[0] = (buf[0] & ~HSNIC_CMPL_GEN) | (r->gen ? 0 : HSNIC_CMPL_GEN);

    if (hsnic_fault(s, &s->fault.fail_dma, q, rx, "completion DMA failed") ||
        pci_dma_write(d, addr, buf, size) ||
        pci_dma_write(d, addr, &gen_byte, 1)) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "completion write", addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    r->cmpl_idx = hsnic_ring_next(r, r->cmpl_idx);
    if (r->cmpl_idx == 0) {
        r->gen = !r->gen;
    }
    return true;
}

static bool hsnic_write_cmpl(HsnicState *s, unsigned q, bool rx,
                             const void *entry, size_t size)
{
    if (!hsnic_write_cmpl_slot(s, q, rx, entry, size)) {
        return false;
    }
    /* x-fault-dup-cmpl: the same entry once more, in the next slot */
    if (hsnic_fault(s, &s->fault.dup_cmpl, q, rx, "completion duplicated")) {
        return hsnic_write_cmpl_slot(s, q, rx, entry, size);
    }
    return true;
}

static bool hsnic_queue_config_valid(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    size_t dsize = rx ? HSNIC_RX_DESC_SIZE : HSNIC_TX_DESC_SIZE;
    size_t csize = rx ? HSNIC_RX_CMPL_SIZE : HSNIC_TX_CMPL_SIZE;

    if (!hsnic_ring_size_valid(s, r->ring_size) ||
        !hsnic_ring_fits(r->desc_addr, r->ring_size, dsize) ||
        !hsnic_ring_fits(r->cmpl_addr, r->ring_size, csize)) {
        return false;
    }
    if (!rx) {
        return true;
    }
    if (!hsnic_buf_len_valid(r->buf_len)) {
        return false;
    }
    if (r->ctrl & HSNIC_RXQ_CTRL_HDS) {
        return hsnic_buf_len_valid(r->hdr_buf_len) &&
               hsnic_ring_fits(r->hdr_addr, r->ring_size, dsize);
    }
    return true;
}

static void hsnic_queue_enable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    if (!hsnic_queue_config_valid(s, q, rx)) {
        trace_hsnic_err_ring_config(q, hsnic_dir(rx), r->desc_addr,
                                    r->cmpl_addr, r->ring_size, r->buf_len,
                                    r->hdr_buf_len);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_RING_CONFIG);
        return;
    }

    trace_hsnic_queue_enable(q, hsnic_dir(rx), r->desc_addr, r->cmpl_addr,
                             r->ring_size, r->ctrl);
    r->ctrl |= HSNIC_Q_CTRL_ENABLE;
    r->status = HSNIC_Q_STATUS_ENABLED;
    r->head = 0;
    r->tail = 0;
    r->hdr_head = 0;
    r->hdr_tail = 0;
    r->cmpl_idx = 0;
    r->gen = true;
    r->eop_scanned = 0;
}

/*
 * All processing runs under the BQL, in the .receive callback or in
 * bottom halves, never concurrently with this register write: once it
 * returns, the device no longer touches the queue's rings or buffers.
 */
static void hsnic_queue_disable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_queue_disable(q, hsnic_dir(rx));
    if (rx) {
        /* Its segments arrived while the queue ran: deliver them. */
        hsnic_rsc_flush(s, q, "queue disabled");
    }
    /*
     * A doorbell written while the queue ran, whose bottom half has not
     * run yet, is void now: the bottom half must not mistake it for a
     * doorbell on a disabled queue (a guest error).
     */
    if (rx) {
        qatomic_and(&s->rx_db_rung, ~BIT_ULL(q));
        qatomic_and(&s->hdr_db_rung, ~BIT_ULL(q));
        qatomic_and(&s->rx_db_pending, ~BIT_ULL(q));
    } else {
        qatomic_and(&s->tx_db_rung, ~BIT_ULL(q));
    }
    r->ctrl &= ~HSNIC_Q_CTRL_ENABLE;
    r->status = 0;
    if (rx) {
        /* A frame waiting for this queue's buffers is now dropped. */
        hsnic_rx_kick(s);
    }
}

/* ---- TX ---- */

/*
 * Copy one TX buffer into the frame being assembled; returns a TX status.
 * The frame is copied rather than mapped: pci_dma_map() would silently
 * bounce-buffer an unassigned address, and a copy cannot change under us
 * while NetTxPkt parses it.
 */
static uint16_t hsnic_tx_copy(HsnicState *s, unsigned q, uint32_t idx,
                              const struct hsnic_tx_desc *desc,
                              uint32_t *frame_len)
{
    uint64_t addr = le64_to_cpu(desc->addr);
    uint32_t len = le32_to_cpu(desc->len);

    if (len == 0 || len > HSNIC_MAX_FRAME) {
        trace_hsnic_err_tx_desc(q, idx, len);
        hsnic_guest_error(s, "tx queue %u descriptor %u: bad length %u",
                          q, idx, len);
        return HSNIC_TX_ERR_DESC;
    }
    if (*frame_len + len > HSNIC_MAX_FRAME) {
        trace_hsnic_err_tx_len(q, idx, *frame_len + len);
        hsnic_guest_error(s, "tx queue %u descriptor %u: frame longer "
                          "than %u bytes", q, idx, HSNIC_MAX_FRAME);
        return HSNIC_TX_ERR_LEN;
    }
    if (pci_dma_read(PCI_DEVICE(s), addr, s->tx_buf + *frame_len, len)) {
        trace_hsnic_err_tx_dma(q, idx, addr, len);
        hsnic_guest_error(s, "tx queue %u descriptor %u: cannot read "
                          "0x%" PRIx64 "+%u", q, idx, addr, len);
        return HSNIC_TX_ERR_DMA;
    }
    *frame_len += len;
    return HSNIC_TX_OK;
}

static void hsnic_tx_free_frag(void *opaque, void *base, size_t len)
{
    /* Fragments point into s->tx_buf: nothing to unmap. */
}

/* RFC 1624: update a 16-bit ones' complement checksum for one word. */
static void hsnic_csum_replace16(uint8_t *csum, uint16_t old, uint16_t new)
{
    uint32_t sum = (uint16_t)~lduw_be_p(csum) + (uint16_t)~old + new;

    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    stw_be_p(csum, ~sum);
}

/*
 * NetTxPkt clears FIN and PSH in every TCP segment it cuts; the frame's
 * last segment must carry them, as the guest's stack expects (a lost FIN
 * costs a retransmission timeout). @iov is L2, L3, L4 header, payload.
 */
static void hsnic_tso_fix_last(HsnicState *s, const struct iovec *iov,
                               int iovcnt)
{
    size_t payload;
    uint8_t *th;
    uint16_t old;

    if (!s->tso_left || iovcnt < 3 || iov[2].iov_len < 20) {
        return;
    }
    payload = iov_size(iov, iovcnt) - iov[0].iov_len - iov[1].iov_len -
              iov[2].iov_len;
    if (payload < s->tso_left) {
        s->tso_left -= payload;
        return;
    }
    s->tso_left = 0;
    th = iov[2].iov_base;
    old = lduw_be_p(th + 12);
    th[13] |= s->tso_flags;
    hsnic_csum_replace16(th + 16, old, lduw_be_p(th + 12));
}

static void hsnic_tx_sendv(void *opaque, const struct iovec *iov, int iovcnt,
                           const struct iovec *virt_iov, int virt_iovcnt)
{
    HsnicState *s = opaque;
    uint64_t *st = s->tx_qstat[s->tx_q];

    st[HSNIC_TXS_WIRE_PACKETS]++;
    st[HSNIC_TXS_WIRE_BYTES] += iov_size(iov, iovcnt);
    if (s->has_vnet) {
        /* The backend segments and checksums as the vnet header says. */
        qemu_sendv_packet(qemu_get_queue(s->nic), virt_iov, virt_iovcnt);
        return;
    }
    hsnic_tso_fix_last(s, iov, iovcnt);
    qemu_sendv_packet(qemu_get_queue(s->nic), iov, iovcnt);
}

/* A frame the parser could not take: sent as it is. */
static void hsnic_tx_send_raw(HsnicState *s, uint32_t len)
{
    struct virtio_net_hdr vhdr = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
    struct iovec iov[2] = {
        { &vhdr, sizeof(vhdr) },
        { s->tx_buf, len },
    };

    hsnic_tx_sendv(s, &iov[1], 1, iov, 2);
}

/*
 * Bytes of the frame in s->tx_buf that belong to its IP datagram: a
 * guest may pad short frames to 60 bytes, and the padding must not count
 * as L4 payload when the device computes checksums.
 */
static uint32_t hsnic_tx_ip_len(HsnicState *s, uint32_t len)
{
    const uint8_t *buf = s->tx_buf;
    struct iovec iov = { s->tx_buf, len };
    size_t l2 = eth_get_l2_hdr_length_iov(&iov, 1, 0);
    uint32_t want;

    switch (eth_get_l3_proto(&iov, 1, l2)) {
    case ETH_P_IP:
        if (l2 + sizeof(struct ip_header) > len) {
            return len;
        }
        want = l2 + lduw_be_p(buf + l2 + 2);
        break;
    case ETH_P_IPV6:
        if (l2 + sizeof(struct ip6_header) > len ||
            !lduw_be_p(buf + l2 + 4)) {
            return len;
        }
        want = l2 + sizeof(struct ip6_header) + lduw_be_p(buf + l2 + 4);
        break;
    default:
        return len;
    }
    return want < len && want > l2 ? want : len;
}

/* Send the assembled frame of @len bytes with the offloads of @cmd. */
static uint16_t hsnic_tx_send(HsnicState *s, unsigned q, uint32_t len,
                              uint32_t cmd)
{
    bool tso = cmd & HSNIC_TXD_TSO;
    bool csum = cmd & (HSNIC_TXD_CSUM | HSNIC_TXD_TSO);
    uint32_t mss = (cmd & HSNIC_TXD_MSS_MASK) >> HSNIC_TXD_MSS_SHIFT;
    uint16_t status = HSNIC_TX_OK;
    struct virtio_net_hdr *vhdr;
    uint8_t gso;

    s->tx_q = q;
    s->tso_left = 0;
    if (csum) {
        len = hsnic_tx_ip_len(s, len);
    }
    net_tx_pkt_add_raw_fragment(s->tx_pkt, s->tx_buf, len);
    if (!net_tx_pkt_parse(s->tx_pkt)) {
        if (csum) {
            /* Offloads need headers the device can find. */
            trace_hsnic_err_tx_offload(q, len, cmd, "headers not parsed");
            hsnic_guest_error(s, "tx queue %u: offload requested on a "
                              "frame without parsable headers", q);
            status = HSNIC_TX_ERR_OFFLOAD;
        } else {
            /* e.g. truncated IP headers: send the bytes as they are */
            trace_hsnic_tx_raw(q, len);
            hsnic_tx_send_raw(s, len);
        }
        goto out;
    }
    if (tso && mss < HSNIC_TSO_MIN_MSS) {
        trace_hsnic_err_tx_offload(q, len, cmd, "MSS too small");
        hsnic_guest_error(s, "tx queue %u: TSO with MSS %u", q, mss);
        status = HSNIC_TX_ERR_OFFLOAD;
        goto out;
    }
    if (csum && !net_tx_pkt_build_vheader(s->tx_pkt, tso, true, mss)) {
        trace_hsnic_err_tx_offload(q, len, cmd, "no L4 header");
        hsnic_guest_error(s, "tx queue %u: offload on a frame without a "
                          "complete TCP/UDP header", q);
        status = HSNIC_TX_ERR_OFFLOAD;
        goto out;
    }
    if (tso) {
        vhdr = net_tx_pkt_get_vhdr(s->tx_pkt);
        gso = vhdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
        if (gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
            gso != VIRTIO_NET_HDR_GSO_TCPV6) {
            trace_hsnic_err_tx_offload(q, len, cmd, "TSO on a non-TCP frame");
            hsnic_guest_error(s, "tx queue %u: TSO on a frame that is not "
                              "TCP over IP", q);
            status = HSNIC_TX_ERR_OFFLOAD;
            goto out;
        }
        /* FIN and PSH belong on the last segment only (see above). */
        if (vhdr->hdr_len < len && vhdr->csum_start + 14 <= len) {
            s->tso_flags = s->tx_buf[vhdr->csum_start + 13] &
                           (TH_FIN | TH_PUSH);
            s->tso_left = s->tso_flags ? len - vhdr->hdr_len : 0;
        }
        s->tx_qstat[q][HSNIC_TXS_TSO]++;
    } else if (csum) {
        s->tx_qstat[q][HSNIC_TXS_CSUM]++;
    }
    /*
     * With a vnet header backend (tap) the backend does checksums and
     * segmentation, else the device does them itself.
     */
    if (!net_tx_pkt_send_custom(s->tx_pkt, s->has_vnet, hsnic_tx_sendv, s)) {
        trace_hsnic_err_tx_offload(q, len, cmd, "segmentation failed");
        hsnic_guest_error(s, "tx queue %u: cannot segment a %u byte frame",
                          q, len);
        status = HSNIC_TX_ERR_OFFLOAD;
    }
out:
    net_tx_pkt_reset(s->tx_pkt, hsnic_tx_free_frag, NULL);
    return status;
}

static enum hsnic_err hsnic_tx_status_err(uint16_t status)
{
    switch (status) {
    case HSNIC_TX_ERR_DESC:
    case HSNIC_TX_ERR_OFFLOAD:
        return HSNIC_ERR_DESC;
    case HSNIC_TX_ERR_DMA:
        return HSNIC_ERR_DMA;
    default:
        return HSNIC_ERR_FRAME;
    }
}

static bool hsnic_bus_master(HsnicState *s)
{
    return PCI_DEVICE(s)->config[PCI_COMMAND] & PCI_COMMAND_MASTER;
}

/* TX waits (descriptors stay posted) while DMA is not allowed. */
static bool hsnic_tx_active(HsnicState *s, unsigned q)
{
    return hsnic_dev_enabled(s) && hsnic_bus_master(s) &&
           hsnic_queue_active(&s->txq[q]);
}

/*
 * Whether the frame at HEAD has its EOP descriptor posted. A frame the
 * copy pass found incomplete is not copied again until its EOP shows up:
 * only the descriptors posted since the last look are read, and only the
 * descriptors, not their buffers: a doorbell costs work in proportion to
 * what it posted, however many doorbells a long frame takes. Also true
 * when RING_SIZE - 1 descriptors hold no EOP (the frame can never end;
 * the caller reports it). False when the frame must wait, or the queue
 * stopped on a DMA error.
 */
static bool hsnic_tx_eop_posted(HsnicState *s, unsigned q)
{
    HsnicQueue *r = &s->txq[q];
    uint32_t posted = hsnic_ring_posted(r);
    uint32_t n = r->eop_scan_head == r->head ? r->eop_scanned : 0;
    struct hsnic_tx_desc desc;

    if (!n || n > posted) {
        /* Nothing known about this frame (or TAIL went back): the copy
         * pass reads its descriptors once and records how far it got. */
        r->eop_scanned = 0;
        return true;
    }
    while (n < posted) {
        if (!hsnic_read_desc(s, q, false, r->desc_addr,
                             hsnic_ring_add(r, r->head, n), &desc,
                             sizeof(desc))) {
            return false;
        }
        n++;
        if (le32_to_cpu(desc.cmd) & HSNIC_TXD_EOP) {
            r->eop_scanned = 0;
            return true;
        }
    }
    r->eop_scan_head = r->head;
    r->eop_scanned = n;
    if (n >= r->ring_size - 1) {
        return true;
    }
    trace_hsnic_tx_wait_eop(q, r->head, n);
    return false;
}

/*
 * Transmit up to HSNIC_TX_BUDGET complete frames between head and tail;
 * returns true when more are waiting. A frame whose EOP descriptor has
 * not been posted yet is left alone until the next doorbell (unless it
 * fills the whole ring). At most ring_size - 1 descriptors are posted, so
 * the work per frame is bounded by the ring size.
 */
static bool hsnic_tx_process(HsnicState *s, unsigned q)
{
    HsnicQueue *r = &s->txq[q];
    uint64_t *st = s->tx_qstat[q];
    uint32_t completed = 0;
    bool more = false;
    unsigned budget = HSNIC_TX_BUDGET;

    if (s->tx_busy) {
        trace_hsnic_err_reentrant(q);
        return false;
    }
    s->tx_busy = true;

    if (hsnic_db_rec_on(s) && hsnic_tx_active(s, q) &&
        !hsnic_db_rec_fetch(s, q, false)) {
        goto out;
    }
    while (hsnic_tx_active(s, q) && r->head != r->tail) {
        uint32_t idx = r->head;
        uint32_t ndesc = 0;
        uint32_t frame_len = 0;
        uint32_t cmd = 0;
        uint16_t status = HSNIC_TX_OK;
        bool eop = false;
        struct hsnic_tx_cmpl cmpl;

        if (!budget--) {
            more = true;
            break;
        }
        if (!hsnic_tx_eop_posted(s, q)) {
            break;
        }
        while (!eop && idx != r->tail) {
            struct hsnic_tx_desc desc;

            if (!hsnic_read_desc(s, q, false, r->desc_addr, idx, &desc,
                                 sizeof(desc))) {
                goto out;
            }
            if (ndesc == 0) {
                cmd = le32_to_cpu(desc.cmd);
            }
            if (status == HSNIC_TX_OK) {
                status = hsnic_tx_copy(s, q, idx, &desc, &frame_len);
            }
            eop = le32_to_cpu(desc.cmd) & HSNIC_TXD_EOP;
            idx = hsnic_ring_next(r, idx);
            ndesc++;
        }
        if (!eop && ndesc < r->ring_size - 1) {
            trace_hsnic_tx_wait_eop(q, r->head, ndesc);
            /* the next doorbells only look at what they add */
            r->eop_scan_head = r->head;
            r->eop_scanned = ndesc;
            break;
        }
        if (!eop) {
            /* The ring is full and holds no EOP: the frame can never end */
            trace_hsnic_err_tx_desc(q, idx, 0);
            hsnic_guest_error(s, "tx queue %u: full ring without EOP", q);
            status = HSNIC_TX_ERR_DESC;
        }

        if (status == HSNIC_TX_OK && frame_len < ETH_HLEN) {
            trace_hsnic_err_tx_len(q, idx, frame_len);
            hsnic_guest_error(s, "tx queue %u: %u byte frame is shorter "
                              "than an Ethernet header", q, frame_len);
            status = HSNIC_TX_ERR_LEN;
        }
        if (status == HSNIC_TX_OK) {
            status = hsnic_tx_send(s, q, frame_len, cmd);
        }
        trace_hsnic_tx_frame(q, r->head, ndesc, frame_len, cmd, status);
        if (status == HSNIC_TX_OK) {
            st[HSNIC_TXS_PACKETS]++;
            st[HSNIC_TXS_BYTES] += frame_len;
        } else {
            st[HSNIC_TXS_ERRORS]++;
            hsnic_latch_error(s, hsnic_tx_status_err(status), q, false);
        }
        if (!hsnic_tx_active(s, q)) {
            break;
        }

        memset(&cmpl, 0, sizeof(cmpl));
        cmpl.head = cpu_to_le32(idx);
        cmpl.status = cpu_to_le16(status);
        if (!hsnic_write_cmpl(s, q, false, &cmpl, sizeof(cmpl))) {
            break;
        }
        r->head = idx;
        completed++;
    }
out:
    s->tx_busy = false;
    if (completed) {
        hsnic_irq_signal(s, HSNIC_VEC_QP(q), completed, false);
    }
    return more;
}

static void hsnic_tx_bh(void *opaque)
{
    HsnicQueueRef *arg = opaque;
    HsnicState *s = arg->s;

    if (!s->nic) {
        return;
    }
    if ((qatomic_fetch_and(&s->tx_db_rung, ~BIT_ULL(arg->q)) &
         BIT_ULL(arg->q)) && !hsnic_queue_active(&s->txq[arg->q])) {
        hsnic_db_refused(s, arg->q, HSNIC_DB_SLOT_TX);
    }
    if (hsnic_tx_process(s, arg->q)) {
        /* Let the RX side and other queues run, then continue. */
        replay_bh_schedule_event(s->tx_bh[arg->q]);
    }
}

/* ---- RX: classification ---- */

/* Bytes 0..3 of an address field in register layout (byte 0 in 7:0). */
static uint32_t hsnic_addr_word(const void *addr, unsigned n)
{
    return ldl_le_p((const uint8_t *)addr + 4 * n);
}

static bool hsnic_rule_addr_match(const uint32_t *val, const uint32_t *mask,
                                  const void *addr, unsigned words)
{
    unsigned n;

    for (n = 0; n < words; n++) {
        if ((hsnic_addr_word(addr, n) & mask[n]) != (val[n] & mask[n])) {
            return false;
        }
    }
    return true;
}

/* Does flow rule @rule match the frame parsed into s->rx_pkt? */
static bool hsnic_rule_match(HsnicState *s, const HsnicRule *rule,
                             const uint8_t *buf, size_t size)
{
    unsigned flow = (rule->ctrl & HSNIC_RULE_FLOW_MASK) >>
                    HSNIC_RULE_FLOW_SHIFT;
    bool hasip4, hasip6, v6, need_l4 = true;
    EthL4HdrProto l4;
    const void *src, *dst;
    uint8_t proto;
    unsigned words;

    net_rx_pkt_get_protocols(s->rx_pkt, &hasip4, &hasip6, &l4);
    switch (flow) {
    case HSNIC_FLOW_TCP4:
    case HSNIC_FLOW_UDP4:
    case HSNIC_FLOW_IP4:
        v6 = false;
        break;
    case HSNIC_FLOW_TCP6:
    case HSNIC_FLOW_UDP6:
    case HSNIC_FLOW_IP6:
        v6 = true;
        break;
    default:
        return false;   /* checked when the rule was written */
    }
    if (v6 ? !hasip6 : !hasip4) {
        return false;
    }
    if (v6) {
        eth_ip6_hdr_info *ip6 = net_rx_pkt_get_ip6_info(s->rx_pkt);

        src = &ip6->ip6_hdr.ip6_src;
        dst = &ip6->ip6_hdr.ip6_dst;
        proto = ip6->l4proto;
        words = 4;
    } else {
        eth_ip4_hdr_info *ip4 = net_rx_pkt_get_ip4_info(s->rx_pkt);

        src = &ip4->ip4_hdr.ip_src;
        dst = &ip4->ip4_hdr.ip_dst;
        proto = ip4->ip4_hdr.ip_p;
        words = 1;
    }

    switch (flow) {
    case HSNIC_FLOW_TCP4:
    case HSNIC_FLOW_TCP6:
        if (l4 != ETH_L4_HDR_PROTO_TCP) {
            return false;
        }
        break;
    case HSNIC_FLOW_UDP4:
    case HSNIC_FLOW_UDP6:
        if (l4 != ETH_L4_HDR_PROTO_UDP) {
            return false;
        }
        break;
    default: {
        uint8_t pval = (rule->proto & HSNIC_RULE_PROTO_VAL_MASK) >>
                       HSNIC_RULE_PROTO_VAL_SHIFT;
        uint8_t pmsk = (rule->proto & HSNIC_RULE_PROTO_MSK_MASK) >>
                       HSNIC_RULE_PROTO_MSK_SHIFT;

        if ((proto & pmsk) != (pval & pmsk)) {
            return false;
        }
        need_l4 = false;
        break;
    }
    }

    if (!hsnic_rule_addr_match(rule->src, rule->src_mask, src, words) ||
        !hsnic_rule_addr_match(rule->dst, rule->dst_mask, dst, words)) {
        return false;
    }
    if (need_l4 && rule->ports_mask) {
        size_t off = net_rx_pkt_get_l4_hdr_offset(s->rx_pkt);
        uint32_t ports;

        /* The L4 header was parsed, so both ports are inside the frame. */
        if (off + 4 > size) {
            return false;
        }
        ports = lduw_be_p(buf + off) << HSNIC_RULE_SPORT_SHIFT |
                lduw_be_p(buf + off + 2) << HSNIC_RULE_DPORT_SHIFT;
        if ((ports & rule->ports_mask) !=
            (rule->ports & rule->ports_mask)) {
            return false;
        }
    }
    return true;
}

/* XOR @n bytes of @b into @a (the symmetric input transformation). */
static void hsnic_xor_into(uint8_t *a, const uint8_t *b, size_t n)
{
    while (n--) {
        *a++ ^= *b++;
    }
}

/* RSS over context @ctx: sets queue (relative), hash and type. */
static void hsnic_rss(HsnicState *s, unsigned ctx, const uint8_t *buf,
                      size_t size, HsnicRxDecision *dec)
{
    HsnicRss *rss = &s->rss[ctx];
    uint8_t src[16], dst[16], sport[2] = { 0 }, dport[2] = { 0 };
    uint8_t input[36];
    size_t alen, len = 0;
    bool hasip4, hasip6, ports = false;
    EthL4HdrProto l4;
    unsigned ftype, rtype;
    uint32_t f, hash = 0;
    net_toeplitz_key key;

    dec->queue = 0;
    if (!(rss->ctrl & HSNIC_RSS_CTRL_ENABLE)) {
        return;
    }
    net_rx_pkt_get_protocols(s->rx_pkt, &hasip4, &hasip6, &l4);
    if (hasip4) {
        eth_ip4_hdr_info *ip4 = net_rx_pkt_get_ip4_info(s->rx_pkt);

        alen = 4;
        memcpy(src, &ip4->ip4_hdr.ip_src, alen);
        memcpy(dst, &ip4->ip4_hdr.ip_dst, alen);
        ftype = l4 == ETH_L4_HDR_PROTO_TCP ? HSNIC_RSS_FT_TCP4 :
                l4 == ETH_L4_HDR_PROTO_UDP ? HSNIC_RSS_FT_UDP4 :
                HSNIC_RSS_FT_IP4;
    } else if (hasip6) {
        eth_ip6_hdr_info *ip6 = net_rx_pkt_get_ip6_info(s->rx_pkt);

        alen = 16;
        memcpy(src, &ip6->ip6_hdr.ip6_src, alen);
        memcpy(dst, &ip6->ip6_hdr.ip6_dst, alen);
        ftype = l4 == ETH_L4_HDR_PROTO_TCP ? HSNIC_RSS_FT_TCP6 :
                l4 == ETH_L4_HDR_PROTO_UDP ? HSNIC_RSS_FT_UDP6 :
                HSNIC_RSS_FT_IP6;
    } else {
        dec->queue = rss->indir[0];
        return;
    }
    f = (rss->fields & HSNIC_RSS_FIELDS_MASK(ftype)) >>
        HSNIC_RSS_FIELDS_SHIFT(ftype);
    if (l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP) {
        size_t off = net_rx_pkt_get_l4_hdr_offset(s->rx_pkt);

        /* The L4 header was parsed, so both ports are in the frame. */
        if (off + 4 <= size) {
            memcpy(sport, buf + off, 2);
            memcpy(dport, buf + off + 2, 2);
            ports = true;
        }
    }
    if (!ports) {
        f &= HSNIC_RSS_SRC_IP | HSNIC_RSS_DST_IP;
    }
    if (rss->ctrl & HSNIC_RSS_CTRL_SYM_XOR) {
        hsnic_xor_into(src, dst, alen);
        memcpy(dst, src, alen);
        hsnic_xor_into(sport, dport, 2);
        memcpy(dport, sport, 2);
    }
    if (f & HSNIC_RSS_SRC_IP) {
        memcpy(input + len, src, alen);
        len += alen;
    }
    if (f & HSNIC_RSS_DST_IP) {
        memcpy(input + len, dst, alen);
        len += alen;
    }
    if (f & HSNIC_RSS_SRC_PORT) {
        memcpy(input + len, sport, 2);
        len += 2;
    }
    if (f & HSNIC_RSS_DST_PORT) {
        memcpy(input + len, dport, 2);
        len += 2;
    }
    if (!len) {
        dec->queue = rss->indir[0];
        return;
    }

    if (f & (HSNIC_RSS_SRC_PORT | HSNIC_RSS_DST_PORT)) {
        rtype = ftype == HSNIC_RSS_FT_TCP4 ? HSNIC_RSS_TYPE_TCPV4 :
                ftype == HSNIC_RSS_FT_UDP4 ? HSNIC_RSS_TYPE_UDPV4 :
                ftype == HSNIC_RSS_FT_TCP6 ? HSNIC_RSS_TYPE_TCPV6 :
                HSNIC_RSS_TYPE_UDPV6;
    } else {
        rtype = hasip4 ? HSNIC_RSS_TYPE_IPV4 : HSNIC_RSS_TYPE_IPV6;
    }
    net_toeplitz_key_init(&key, rss->key);
    net_toeplitz_add(&hash, input, len, &key);
    dec->rss_hash = hash;
    dec->rss_type = rtype;
    dec->flags |= HSNIC_RXC_RSS;
    dec->queue = rss->indir[hash % HSNIC_RSS_INDIR_SIZE];
}

/* Flow rules first, in index order, then RSS context 0. */
static void hsnic_rx_classify(HsnicState *s, const uint8_t *buf, size_t size,
                              HsnicRxDecision *dec)
{
    unsigned i;

    memset(dec, 0, sizeof(*dec));
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        const HsnicRule *rule = &s->rules[i];
        unsigned action, dq, ctx;

        if (!(rule->ctrl & HSNIC_RULE_VALID) ||
            !hsnic_rule_match(s, rule, buf, size)) {
            continue;
        }
        action = (rule->ctrl & HSNIC_RULE_ACTION_MASK) >>
                 HSNIC_RULE_ACTION_SHIFT;
        dq = (rule->dest & HSNIC_RULE_QUEUE_MASK) >> HSNIC_RULE_QUEUE_SHIFT;
        ctx = (rule->dest & HSNIC_RULE_CTX_MASK) >> HSNIC_RULE_CTX_SHIFT;
        dec->flags |= HSNIC_RXC_RULE;
        dec->rule = i;
        trace_hsnic_rx_rule(i, action, dq, ctx);
        switch (action) {
        case HSNIC_ACTION_QUEUE:
            dec->queue = dq;
            return;
        case HSNIC_ACTION_RSS:
            /* checked when the rule was written */
            hsnic_rss(s, ctx < HSNIC_RSS_CTX_NUM ? ctx : 0, buf, size, dec);
            dec->queue += dq;
            return;
        default:
            dec->drop = true;
            return;
        }
    }
    hsnic_rss(s, 0, buf, size, dec);
}

/* ---- RX: placement and delivery ---- */

static void hsnic_rx_layout(HsnicState *s, const HsnicQueue *r, size_t size,
                            HsnicRxLayout *lay)
{
    bool hasip4, hasip6, frag = false;
    EthL4HdrProto l4;
    size_t hlen;

    memset(lay, 0, sizeof(*lay));
    if (!(r->ctrl & HSNIC_RXQ_CTRL_HDS)) {
        lay->reason = HSNIC_HDS_OFF;
        lay->pay_bytes = size;
        goto bufs;
    }

    lay->flags = HSNIC_RXC_HDR;
    net_rx_pkt_get_protocols(s->rx_pkt, &hasip4, &hasip6, &l4);
    if (hasip4) {
        frag = net_rx_pkt_get_ip4_info(s->rx_pkt)->fragment;
    } else if (hasip6) {
        frag = net_rx_pkt_get_ip6_info(s->rx_pkt)->fragment;
    }
    if (!frag && (l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP)) {
        hlen = net_rx_pkt_get_l5_hdr_offset(s->rx_pkt);
        lay->hlen = hlen;
        if (hlen > r->hdr_buf_len || hlen > size) {
            lay->flags |= HSNIC_RXC_HDR_OVF;
            lay->reason = HSNIC_HDS_HDR_OVF;
            lay->pay_bytes = size;
        } else if (size - hlen <= r->hds_thresh && size <= r->hdr_buf_len) {
            lay->reason = HSNIC_HDS_THRESH;
            lay->hdr_bytes = size;
        } else {
            lay->flags |= HSNIC_RXC_SPLIT;
            lay->reason = HSNIC_HDS_SPLIT;
            lay->hdr_bytes = hlen;
            lay->pay_bytes = size - hlen;
        }
    } else {
        lay->reason = frag ? HSNIC_HDS_IP_FRAG : HSNIC_HDS_NO_L4;
        lay->hdr_bytes = MIN(size, r->hdr_buf_len);
        lay->pay_bytes = size - lay->hdr_bytes;
    }
bufs:
    lay->nbufs = DIV_ROUND_UP(lay->pay_bytes, r->buf_len);
}

/* @data_valid: the backend (host kernel) verified the L4 checksum. */
static uint32_t hsnic_rx_csum_flags(HsnicState *s, bool data_valid)
{
    bool hasip4, hasip6, valid;
    EthL4HdrProto l4;
    uint32_t flags = 0;

    net_rx_pkt_get_protocols(s->rx_pkt, &hasip4, &hasip6, &l4);
    if (hasip4 && net_rx_pkt_validate_l3_csum(s->rx_pkt, &valid)) {
        flags |= valid ? HSNIC_RXC_L3_CSUM_OK : HSNIC_RXC_CSUM_BAD;
    }
    if ((l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP) &&
        data_valid) {
        flags |= HSNIC_RXC_L4_CSUM_OK;
    } else if ((l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP) &&
        net_rx_pkt_validate_l4_csum(s->rx_pkt, &valid)) {
        flags |= valid ? HSNIC_RXC_L4_CSUM_OK : HSNIC_RXC_CSUM_BAD;
    }
    return flags;
}

static ssize_t hsnic_rx_drop(HsnicState *s, size_t size, int dstat,
                             const char *why)
{
    trace_hsnic_rx_drop(size, why);
    if (dstat >= 0) {
        s->dstat[dstat]++;
    }
    return size;
}

/* What one RX completion says; see struct hsnic_rx_cmpl. */
typedef struct HsnicRxCmpl {
    uint32_t flags;
    unsigned reason;
    size_t hlen;
    size_t hdr_bytes;
    size_t pay_bytes;
    uint32_t nbufs;
    uint16_t rsc_segs;
    uint16_t rsc_mss;
} HsnicRxCmpl;

/*
 * Write the completion of a frame whose data is in place, consume its
 * buffers and count it. @size is the frame length.
 */
static bool hsnic_rx_complete(HsnicState *s, unsigned q, size_t size,
                              const HsnicRxCmpl *c,
                              const HsnicRxDecision *dec)
{
    HsnicQueue *r = &s->rxq[q];
    uint64_t *st = s->rx_qstat[q];
    struct hsnic_rx_cmpl cmpl;
    uint32_t flags = c->flags, info;

    info = (c->reason << HSNIC_RXI_HDS_SHIFT) & HSNIC_RXI_HDS_MASK;
    info |= (dec->rss_type << HSNIC_RXI_RSS_TYPE_SHIFT) &
            HSNIC_RXI_RSS_TYPE_MASK;
    if (dec->flags & HSNIC_RXC_RULE) {
        info |= (dec->rule << HSNIC_RXI_RULE_SHIFT) & HSNIC_RXI_RULE_MASK;
    }
    memset(&cmpl, 0, sizeof(cmpl));
    cmpl.flags = cpu_to_le32(flags);
    cmpl.hdr_idx = cpu_to_le16((flags & HSNIC_RXC_HDR) ? r->hdr_head : 0);
    cmpl.hdr_len = cpu_to_le16(c->hdr_bytes);
    cmpl.pay_idx = cpu_to_le16(r->head);
    cmpl.pay_nbufs = cpu_to_le16(c->nbufs);
    cmpl.pay_len = cpu_to_le32(c->pay_bytes);
    cmpl.rss_hash = cpu_to_le32(dec->rss_hash);
    cmpl.info = cpu_to_le16(info);
    cmpl.hlen = cpu_to_le16(c->hlen);
    if (flags & HSNIC_RXC_RSC) {
        cmpl.rsc_segs = cpu_to_le16(c->rsc_segs);
        cmpl.rsc_mss = cpu_to_le16(c->rsc_mss);
    }
    if (!hsnic_write_cmpl(s, q, true, &cmpl, sizeof(cmpl))) {
        return false;
    }

    trace_hsnic_rx_frame(q, r->head, c->nbufs, size, c->hdr_bytes,
                         c->reason, flags);
    if (flags & HSNIC_RXC_HDR) {
        r->hdr_head = hsnic_ring_next(r, r->hdr_head);
    }
    r->head = hsnic_ring_add(r, r->head, c->nbufs);
    st[HSNIC_RXS_PACKETS]++;
    st[HSNIC_RXS_BYTES] += size;
    if (flags & HSNIC_RXC_SPLIT) {
        st[HSNIC_RXS_HDS_SPLIT]++;
    } else if (flags & HSNIC_RXC_HDR) {
        st[HSNIC_RXS_HDS_NOSPLIT]++;
    }
    if (flags & HSNIC_RXC_HDR_OVF) {
        st[HSNIC_RXS_HDR_OVF]++;
    }
    if (flags & HSNIC_RXC_L4_CSUM_OK) {
        st[HSNIC_RXS_CSUM_OK]++;
    }
    if (flags & HSNIC_RXC_CSUM_BAD) {
        st[HSNIC_RXS_CSUM_BAD]++;
    }
    if (flags & HSNIC_RXC_RSC) {
        st[HSNIC_RXS_RSC_FRAMES]++;
        st[HSNIC_RXS_RSC_SEGS] += c->rsc_segs;
    }
    hsnic_irq_signal(s, HSNIC_VEC_QP(q), 1, true);
    return true;
}

/*
 * Write one frame into RX queue @q. Returns 0, and the net layer keeps
 * the frame queued, when the queue has too few buffers posted.
 */
static ssize_t hsnic_rx_deliver(HsnicState *s, unsigned q,
                                const uint8_t *buf, size_t size,
                                const HsnicRxDecision *dec)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicQueue *r = &s->rxq[q];
    uint64_t *st = s->rx_qstat[q];
    struct hsnic_rx_desc hdesc;
    HsnicRxLayout lay;
    HsnicRxCmpl c;
    uint32_t i, idx;
    size_t off;

    hsnic_rx_layout(s, r, size, &lay);
    if (lay.nbufs > r->ring_size - 1 || lay.nbufs > HSNIC_RX_MAX_BUFS) {
        st[HSNIC_RXS_DROP_NOBUF]++;
        return hsnic_rx_drop(s, size, -1, "larger than the ring");
    }
    if (hsnic_db_rec_on(s) &&
        (hsnic_ring_posted(r) < lay.nbufs ||
         ((lay.flags & HSNIC_RXC_HDR) && hsnic_hdr_posted(r) < 1))) {
        /* Buffers the driver posted since the last notification */
        if (!hsnic_db_rec_fetch(s, q, true)) {
            return hsnic_rx_drop(s, size, -1, "queue error");
        }
    }
    if ((lay.flags & HSNIC_RXC_HDR) && hsnic_hdr_posted(r) < 1) {
        trace_hsnic_rx_wait_buffers(q, size, hsnic_hdr_posted(r), "header");
        st[HSNIC_RXS_WAIT_BUF]++;
        return 0;
    }
    if (hsnic_ring_posted(r) < lay.nbufs) {
        trace_hsnic_rx_wait_buffers(q, size, hsnic_ring_posted(r), "payload");
        st[HSNIC_RXS_WAIT_BUF]++;
        return 0;
    }

    /* Local copies of every descriptor the frame uses. */
    if ((lay.flags & HSNIC_RXC_HDR) &&
        !hsnic_read_desc(s, q, true, r->hdr_addr, r->hdr_head, &hdesc,
                         sizeof(hdesc))) {
        return hsnic_rx_drop(s, size, -1, "queue error");
    }
    for (i = 0, idx = r->head; i < lay.nbufs; i++) {
        if (!hsnic_read_desc(s, q, true, r->desc_addr, idx, &s->rx_desc[i],
                             sizeof(s->rx_desc[i]))) {
            return hsnic_rx_drop(s, size, -1, "queue error");
        }
        idx = hsnic_ring_next(r, idx);
    }

    /* The data: header buffer first, then the payload buffers. */
    if (lay.hdr_bytes &&
        pci_dma_write(d, le64_to_cpu(hdesc.addr), buf, lay.hdr_bytes)) {
        trace_hsnic_err_ring_dma(q, "rx", "header buffer write",
                                 le64_to_cpu(hdesc.addr));
        hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
        return hsnic_rx_drop(s, size, -1, "queue error");
    }
    off = lay.hdr_bytes;
    for (i = 0; i < lay.nbufs; i++) {
        uint64_t addr = le64_to_cpu(s->rx_desc[i].addr);
        size_t chunk = MIN(size - off, r->buf_len);

        if (pci_dma_write(d, addr, buf + off, chunk)) {
            trace_hsnic_err_ring_dma(q, "rx", "buffer write", addr);
            hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
            return hsnic_rx_drop(s, size, -1, "queue error");
        }
        off += chunk;
    }

    memset(&c, 0, sizeof(c));
    c.flags = lay.flags | dec->flags | dec->csum_flags;
    c.reason = lay.reason;
    c.hlen = lay.hlen;
    c.hdr_bytes = lay.hdr_bytes;
    c.pay_bytes = lay.pay_bytes;
    c.nbufs = lay.nbufs;
    if (!hsnic_rx_complete(s, q, size, &c, dec)) {
        return hsnic_rx_drop(s, size, -1, "queue error");
    }
    return size;
}

static bool hsnic_rx_ready(HsnicState *s)
{
    return hsnic_dev_enabled(s) && hsnic_bus_master(s);
}

static bool hsnic_can_receive(NetClientState *nc)
{
    HsnicState *s = qemu_get_nic_opaque(nc);

    return !nc->link_down && hsnic_rx_ready(s);
}

static bool hsnic_rx_accept(HsnicState *s, const uint8_t *dst)
{
    if (s->rx_mode & HSNIC_RX_MODE_PROMISC) {
        return true;
    }
    if (is_broadcast_ether_addr(dst)) {
        return s->rx_mode & HSNIC_RX_MODE_BROADCAST;
    }
    if (is_multicast_ether_addr(dst)) {
        return s->rx_mode & HSNIC_RX_MODE_ALLMULTI;
    }
    return !memcmp(dst, s->conf.macaddr.a, ETH_ALEN);
}

/* ---- RX: receive segment coalescing ---- */

/*
 * Is the frame in s->rx_pkt a TCP segment RSC may take: untagged IPv4
 * without options and not a fragment, or IPv6 without extension headers,
 * no bytes after the IP datagram, payload present, checksums verified?
 * Offsets are cross-checked against the frame itself.
 */
static bool hsnic_rsc_parse(HsnicState *s, const uint8_t *buf, size_t size,
                            const HsnicRxDecision *dec, HsnicRscSeg *seg)
{
    bool hasip4, hasip6;
    EthL4HdrProto l4;
    size_t l4off, l5off, doff, iplen;

    net_rx_pkt_get_protocols(s->rx_pkt, &hasip4, &hasip6, &l4);
    if (l4 != ETH_L4_HDR_PROTO_TCP || hasip4 == hasip6) {
        return false;
    }
    l4off = net_rx_pkt_get_l4_hdr_offset(s->rx_pkt);
    l5off = net_rx_pkt_get_l5_hdr_offset(s->rx_pkt);
    if (hasip4) {
        if (lduw_be_p(buf + 12) != ETH_P_IP || size < ETH_HLEN + 20 ||
            buf[ETH_HLEN] != 0x45 || buf[ETH_HLEN + 9] != IP_PROTO_TCP ||
            net_rx_pkt_get_ip4_info(s->rx_pkt)->fragment) {
            return false;
        }
        seg->ip6 = false;
        seg->l4off = ETH_HLEN + 20;
        iplen = lduw_be_p(buf + ETH_HLEN + 2);
    } else {
        if (lduw_be_p(buf + 12) != ETH_P_IPV6 || size < ETH_HLEN + 40 ||
            (buf[ETH_HLEN] >> 4) != 6 || buf[ETH_HLEN + 6] != IP_PROTO_TCP ||
            net_rx_pkt_get_ip6_info(s->rx_pkt)->has_ext_hdrs) {
            return false;
        }
        seg->ip6 = true;
        seg->l4off = ETH_HLEN + 40;
        iplen = 40 + lduw_be_p(buf + ETH_HLEN + 4);
    }
    if (l4off != seg->l4off || ETH_HLEN + iplen != size ||
        size < seg->l4off + 20) {
        return false;
    }
    doff = (buf[l4off + 12] >> 4) * 4;
    seg->hlen = l4off + doff;
    if (doff < 20 || seg->hlen != l5off || seg->hlen > HSNIC_RSC_HDR_MAX ||
        seg->hlen >= size) {
        return false;
    }
    /* reserved bits and AE: not a plain data segment */
    if (buf[l4off + 12] & 0x0f) {
        return false;
    }
    seg->pay = size - seg->hlen;
    seg->seq = ldl_be_p(buf + l4off + 4);
    seg->tcp_flags = buf[l4off + 13];
    if (!(dec->csum_flags & HSNIC_RXC_L4_CSUM_OK) ||
        (dec->csum_flags & HSNIC_RXC_CSUM_BAD) ||
        (!seg->ip6 && !(dec->csum_flags & HSNIC_RXC_L3_CSUM_OK))) {
        return false;
    }
    return true;
}

/* ACK alone, or ACK and PSH (which ends the aggregate). */
static bool hsnic_rsc_plain(uint8_t tcp_flags)
{
    return (tcp_flags & ~TH_PUSH) == TH_ACK;
}

/*
 * Does @seg continue aggregate @a: same addresses, ports, IP fields (but
 * length, IPv4 id and checksum), ack, window, TCP options, header
 * length, contiguous sequence number, at most mss payload bytes?
 */
static bool hsnic_rsc_match(const HsnicRsc *a, const uint8_t *buf,
                            const HsnicRscSeg *seg)
{
    const uint8_t *h = a->hdr;
    size_t t = a->l4off;

    if (seg->ip6 != a->ip6 || seg->hlen != a->hlen ||
        seg->seq != a->next_seq || seg->pay > a->mss ||
        !hsnic_rsc_plain(seg->tcp_flags)) {
        return false;
    }
    if (memcmp(buf, h, ETH_HLEN)) {
        return false;
    }
    if (a->ip6) {
        /* version, class, flow label; next header, hop limit, addresses */
        if (memcmp(buf + 14, h + 14, 4) || memcmp(buf + 20, h + 20, 34)) {
            return false;
        }
    } else {
        /* version, TOS; flags, fragment offset, TTL, protocol; addresses */
        if (memcmp(buf + 14, h + 14, 2) || memcmp(buf + 20, h + 20, 4) ||
            memcmp(buf + 26, h + 26, 8)) {
            return false;
        }
    }
    /* ports; ack; data offset; window; urgent pointer and options */
    return !memcmp(buf + t, h + t, 4) && !memcmp(buf + t + 8, h + t + 8, 5) &&
           !memcmp(buf + t + 14, h + t + 14, 2) &&
           !memcmp(buf + t + 18, h + t + 18, a->hlen - t - 18);
}

/* Payload buffers an aggregate of @pay payload bytes needs. */
static uint32_t hsnic_rsc_nbufs(const HsnicQueue *r, const HsnicRsc *a,
                                size_t pay)
{
    return DIV_ROUND_UP(a->start + pay, r->buf_len);
}

static bool hsnic_rsc_fits(const HsnicQueue *r, const HsnicRsc *a,
                           size_t pay)
{
    uint32_t nbufs = hsnic_rsc_nbufs(r, a, pay);

    return a->hlen + pay <= HSNIC_MAX_FRAME &&
           nbufs <= hsnic_ring_posted(r) && nbufs <= r->ring_size - 1 &&
           nbufs <= HSNIC_RX_MAX_BUFS;
}

/* Append @len payload bytes to aggregate @a, packed after the last ones. */
static bool hsnic_rsc_place(HsnicState *s, unsigned q, HsnicRsc *a,
                            const uint8_t *data, size_t len)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicQueue *r = &s->rxq[q];
    uint64_t off = (uint64_t)a->start + a->pay_len;

    while (len) {
        uint32_t idx = off / r->buf_len;
        uint32_t boff = off % r->buf_len;
        size_t chunk = MIN(len, r->buf_len - boff);

        if (idx != a->buf_idx || !a->buf_valid) {
            struct hsnic_rx_desc desc;

            if (!hsnic_read_desc(s, q, true, r->desc_addr,
                                 hsnic_ring_add(r, r->head, idx), &desc,
                                 sizeof(desc))) {
                return false;
            }
            a->buf_idx = idx;
            a->buf_addr = le64_to_cpu(desc.addr);
            a->buf_valid = true;
            if (idx == 0) {
                a->first_addr = a->buf_addr;
            }
        }
        if (pci_dma_write(d, a->buf_addr + boff, data, chunk)) {
            trace_hsnic_err_ring_dma(q, "rx", "buffer write",
                                     a->buf_addr + boff);
            hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
            return false;
        }
        data += chunk;
        len -= chunk;
        off += chunk;
        a->pay_len += chunk;
    }
    return true;
}

/*
 * Deliver the open aggregate of queue @q: write its (rewritten) headers
 * and its completion. A single segment is delivered exactly as without
 * RSC. Nothing is written, and the aggregate is lost, if the queue or
 * the device stopped.
 */
static void hsnic_rsc_flush(HsnicState *s, unsigned q, const char *why)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicQueue *r = &s->rxq[q];
    HsnicRsc *a = &s->rsc[q];
    bool hds = a->lay.flags & HSNIC_RXC_HDR;
    size_t size = a->hlen + a->pay_len;
    uint64_t hdr_addr;
    HsnicRxCmpl c;

    if (!a->open) {
        return;
    }
    a->open = false;
    if (s->rsc_timer[q]) {
        timer_del(s->rsc_timer[q]);
    }
    if (!hsnic_queue_active(r) || !hsnic_rx_ready(s)) {
        trace_hsnic_rsc_discard(q, a->segs, "queue or device stopped");
        return;
    }
    trace_hsnic_rsc_flush(q, a->segs, a->pay_len, why);

    memset(&c, 0, sizeof(c));
    c.nbufs = hsnic_rsc_nbufs(r, a, a->pay_len);
    if (hsnic_ring_posted(r) < c.nbufs || (hds && hsnic_hdr_posted(r) < 1)) {
        /* the driver moved a tail back over buffers we had taken */
        hsnic_guest_error(s, "rx queue %u: buffers withdrawn under RSC", q);
        trace_hsnic_rsc_discard(q, a->segs, "buffers withdrawn");
        return;
    }
    if (a->segs > 1) {
        uint8_t *h = a->hdr;

        if (a->ip6) {
            stw_be_p(h + ETH_HLEN + 4, size - ETH_HLEN - 40);
        } else {
            stw_be_p(h + ETH_HLEN + 2, size - ETH_HLEN);
            eth_fix_ip4_checksum(h + ETH_HLEN, 20);
        }
        /* ack and window are the same in every segment */
        if (a->psh) {
            h[a->l4off + 13] |= TH_PUSH;
        }
        c.flags |= HSNIC_RXC_RSC;
        c.rsc_segs = a->segs;
        c.rsc_mss = a->mss;
    }
    hdr_addr = hds ? a->hdr_addr : a->first_addr;
    if (pci_dma_write(d, hdr_addr, a->hdr, a->hlen)) {
        trace_hsnic_err_ring_dma(q, "rx", hds ? "header buffer write" :
                                 "buffer write", hdr_addr);
        hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
        return;
    }

    c.flags |= a->lay.flags | a->dec.flags | a->dec.csum_flags;
    c.reason = a->lay.reason;
    /* as for any frame, but a coalesced one always reports its headers */
    c.hlen = a->segs > 1 ? a->hlen : a->lay.hlen;
    c.hdr_bytes = hds ? a->hlen : 0;
    c.pay_bytes = a->start + a->pay_len;
    hsnic_rx_complete(s, q, size, &c, &a->dec);
}

static void hsnic_rsc_flush_all(HsnicState *s, const char *why)
{
    unsigned q;

    for (q = 0; q < s->num_qp; q++) {
        hsnic_rsc_flush(s, q, why);
    }
}

/* rsc-usecs=0: the end of a batch of received frames. */
static void hsnic_rsc_bh(void *opaque)
{
    hsnic_rsc_flush_all(opaque, "batch end");
}

/* An aggregate has been open for rsc-usecs. */
static void hsnic_rsc_timer(void *opaque)
{
    HsnicQueueRef *ref = opaque;
    bool guard = hsnic_guard_enter(ref->s);

    hsnic_rsc_flush(ref->s, ref->q, "timer");
    hsnic_guard_exit(ref->s, guard);
}

static void hsnic_vm_state_change(void *opaque, bool running, RunState state)
{
    HsnicState *s = opaque;
    bool guard;

    /* An open aggregate is never migrated: deliver it while we can. */
    if (!running) {
        guard = hsnic_guard_enter(s);
        hsnic_rsc_flush_all(s, "vm stop");
        hsnic_guard_exit(s, guard);
    }
}

/* Start an aggregate on queue @q with the segment in s->rx_pkt. */
static bool hsnic_rsc_open(HsnicState *s, unsigned q, const uint8_t *buf,
                           size_t size, const HsnicRscSeg *seg,
                           const HsnicRxDecision *dec, ssize_t *ret)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRsc *a = &s->rsc[q];
    struct hsnic_rx_desc hdesc;
    HsnicRxLayout lay;

    if (!runstate_is_running() || seg->tcp_flags != TH_ACK ||
        seg->pay > UINT16_MAX) {
        return false;
    }
    /* The single-segment placement must be that of a plain frame. */
    hsnic_rx_layout(s, r, size, &lay);
    if (lay.flags & HSNIC_RXC_HDR) {
        if (lay.reason != HSNIC_HDS_SPLIT || lay.hdr_bytes != seg->hlen ||
            hsnic_hdr_posted(r) < 1) {
            return false;
        }
    } else if (seg->hlen > r->buf_len) {
        return false;
    }

    memset(a, 0, offsetof(HsnicRsc, hdr));
    a->ip6 = seg->ip6;
    a->hlen = seg->hlen;
    a->l4off = seg->l4off;
    a->mss = seg->pay;
    a->start = (lay.flags & HSNIC_RXC_HDR) ? 0 : seg->hlen;
    a->lay = lay;
    a->dec = *dec;
    if (!hsnic_rsc_fits(r, a, seg->pay)) {
        return false;   /* the normal path holds or drops it */
    }
    if (lay.flags & HSNIC_RXC_HDR) {
        /* reserve the header buffer: HDR_HEAD moves at the flush */
        if (!hsnic_read_desc(s, q, true, r->hdr_addr, r->hdr_head, &hdesc,
                             sizeof(hdesc))) {
            *ret = hsnic_rx_drop(s, size, -1, "queue error");
            return true;
        }
        a->hdr_addr = le64_to_cpu(hdesc.addr);
    }
    if (!hsnic_rsc_place(s, q, a, buf + seg->hlen, seg->pay)) {
        *ret = hsnic_rx_drop(s, size, -1, "queue error");
        return true;
    }
    memcpy(a->hdr, buf, seg->hlen);
    a->segs = 1;
    a->next_seq = seg->seq + seg->pay;
    a->open = true;
    trace_hsnic_rsc_open(q, seg->seq, seg->pay, seg->hlen);
    if (s->rsc_usecs) {
        timer_mod(s->rsc_timer[q], qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  (int64_t)s->rsc_usecs * SCALE_US);
    } else {
        replay_bh_schedule_event(s->rsc_bh);
    }
    *ret = size;
    return true;
}

/*
 * RSC on queue @q (CTRL.RSC set): add the frame in s->rx_pkt to the
 * queue's aggregate or start one. Returns false, with any aggregate of
 * the queue delivered, when the frame is for the normal path.
 */
static bool hsnic_rsc_receive(HsnicState *s, unsigned q, const uint8_t *buf,
                              size_t size, const HsnicRxDecision *dec,
                              ssize_t *ret)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRsc *a = &s->rsc[q];
    HsnicRscSeg seg;

    if (!hsnic_rsc_parse(s, buf, size, dec, &seg)) {
        hsnic_rsc_flush(s, q, "not a segment");
        return false;
    }
    if (a->open) {
        if (!hsnic_rsc_match(a, buf, &seg)) {
            hsnic_rsc_flush(s, q, "no match");
        } else if (a->segs >= HSNIC_RSC_MAX_SEGS ||
                   !hsnic_rsc_fits(r, a, a->pay_len + seg.pay)) {
            hsnic_rsc_flush(s, q, "full");
        } else {
            if (!hsnic_rsc_place(s, q, a, buf + seg.hlen, seg.pay)) {
                *ret = hsnic_rx_drop(s, size, -1, "queue error");
                return true;
            }
            a->segs++;
            a->next_seq = seg.seq + seg.pay;
            if (seg.tcp_flags & TH_PUSH) {
                a->psh = true;
                hsnic_rsc_flush(s, q, "psh");
            } else if (seg.pay < a->mss) {
                hsnic_rsc_flush(s, q, "short segment");
            }
            *ret = size;
            return true;
        }
    }
    return hsnic_rsc_open(s, q, buf, size, &seg, dec, ret);
}

static ssize_t hsnic_receive_frame(HsnicState *s, const uint8_t *buf,
                                   size_t size, bool data_valid)
{
    HsnicRxDecision dec;
    ssize_t ret;

    if (size < ETH_HLEN) {
        return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_RUNT, "runt");
    }
    if (size > HSNIC_MAX_FRAME) {
        return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_OVERSIZE, "oversize");
    }
    if (!hsnic_rx_accept(s, buf)) {
        return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_FILTERED, "filtered");
    }

    /* From the bytes: @buf need not be aligned for struct eth_header */
    net_rx_pkt_set_packet_type(s->rx_pkt,
                               is_broadcast_ether_addr(buf) ? ETH_PKT_BCAST :
                               is_multicast_ether_addr(buf) ? ETH_PKT_MCAST :
                               ETH_PKT_UCAST);
    net_rx_pkt_attach_data(s->rx_pkt, buf, size, false);
    hsnic_rx_classify(s, buf, size, &dec);
    if (dec.drop) {
        return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_RULE_DROP, "flow rule");
    }
    if (dec.queue >= s->num_qp) {
        /* An indirection entry or rule past the last queue pair. */
        return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_NO_QUEUE,
                             "no such queue");
    }
    if (!hsnic_queue_active(&s->rxq[dec.queue])) {
        s->rx_qstat[dec.queue][HSNIC_RXS_DROP_DOWN]++;
        return hsnic_rx_drop(s, size, -1, "queue disabled");
    }
    /* Once per frame: RSC and the completion both need them. */
    dec.csum_flags = hsnic_rx_csum_flags(s, data_valid);
    if ((s->rxq[dec.queue].ctrl & HSNIC_RXQ_CTRL_RSC) &&
        hsnic_rsc_receive(s, dec.queue, buf, size, &dec, &ret)) {
        return ret;
    }
    /* In ring order: the queue's aggregate first, then this frame. */
    hsnic_rsc_flush(s, dec.queue, "other frame");
    return hsnic_rx_deliver(s, dec.queue, buf, size, &dec);
}

/*
 * From the backend; with a vnet header peer (tap) every frame starts with
 * a struct virtio_net_hdr. The peer's offloads stay off, so it never
 * hands over GSO frames or partial checksums.
 */
static ssize_t hsnic_receive(NetClientState *nc, const uint8_t *buf,
                             size_t size)
{
    HsnicState *s = qemu_get_nic_opaque(nc);
    struct virtio_net_hdr vhdr;
    size_t hl = s->has_vnet ? sizeof(vhdr) : 0;
    bool data_valid = false;
    ssize_t ret;

    if (!hsnic_rx_ready(s)) {
        hsnic_rsc_flush_all(s, "rx stopped");
        return 0;
    }
    if (hl) {
        if (size < hl) {
            return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_RUNT, "runt");
        }
        memcpy(&vhdr, buf, hl);
        if (vhdr.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
            (vhdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            return hsnic_rx_drop(s, size, HSNIC_DSTAT_RX_OVERSIZE,
                                 "GSO frame from the backend");
        }
        data_valid = vhdr.flags & VIRTIO_NET_HDR_F_DATA_VALID;
    }
    ret = hsnic_receive_frame(s, buf + hl, size - hl, data_valid);
    return ret > 0 ? size : ret;
}

/* Buffers were posted or a queue went down: retry the held frame. */
static void hsnic_rx_bh(void *opaque)
{
    HsnicState *s = opaque;
    NetClientState *nc;
    uint64_t rung = qatomic_xchg(&s->rx_db_rung, 0);
    uint64_t hdr_rung = qatomic_xchg(&s->hdr_db_rung, 0);
    uint64_t m;
    unsigned q;

    if (!s->nic) {
        return;
    }
    nc = qemu_get_queue(s->nic);

    /* Only the queues whose doorbells rang: this runs for every frame */
    for (m = rung | hdr_rung; m; m &= m - 1) {
        HsnicQueue *r;

        q = ctz64(m);
        r = &s->rxq[q];
        if ((rung & BIT_ULL(q)) && !hsnic_queue_active(r)) {
            hsnic_db_refused(s, q, HSNIC_DB_SLOT_RX);
        }
        if ((hdr_rung & BIT_ULL(q)) &&
            (!hsnic_queue_active(r) || !(r->ctrl & HSNIC_RXQ_CTRL_HDS))) {
            hsnic_db_refused(s, q, HSNIC_DB_SLOT_RX_HDR);
        }
    }
    if (hsnic_rx_ready(s) && hsnic_db_rec_on(s)) {
        uint64_t pending = qatomic_xchg(&s->rx_db_pending, 0);

        for (q = 0; q < s->num_qp; q++) {
            if ((pending & BIT_ULL(q)) && hsnic_queue_active(&s->rxq[q])) {
                hsnic_db_rec_fetch(s, q, true);
            }
        }
    }
    if (hsnic_can_receive(nc)) {
        qemu_flush_queued_packets(nc);
    }
}

static void hsnic_set_link_status(NetClientState *nc)
{
    HsnicState *s = qemu_get_nic_opaque(nc);
    bool guard = hsnic_guard_enter(s);

    trace_hsnic_link_change(!nc->link_down);
    if (nc->link_down) {
        hsnic_rsc_flush_all(s, "link down");
    }
    hsnic_evt_raise(s, HSNIC_EVT_LINK);
    hsnic_rx_kick(s);
    hsnic_guard_exit(s, guard);
}

static NetClientInfo hsnic_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = hsnic_can_receive,
    .receive = hsnic_receive,
    .link_status_changed = hsnic_set_link_status,
};

/* ---- Reset ---- */

static void hsnic_rss_defaults(HsnicState *s)
{
    /* A fixed key, so that hashes are reproducible across runs. */
    static const uint8_t key[HSNIC_RSS_KEY_SIZE] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
        0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
        0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    unsigned c;

    for (c = 0; c < HSNIC_RSS_CTX_NUM; c++) {
        memset(&s->rss[c], 0, sizeof(s->rss[c]));
        memcpy(s->rss[c].key, key, sizeof(key));
    }
}

static void hsnic_core_reset(HsnicState *s, const char *why)
{
    PCIDevice *d = PCI_DEVICE(s);
    unsigned v;

    trace_hsnic_reset(why);
    s->dev_ctrl = 0;
    hsnic_db_eventfds(s, false);
    s->db_rec_addr = 0;
    qatomic_set(&s->rx_db_pending, 0);
    qatomic_set(&s->tx_db_rung, 0);
    qatomic_set(&s->rx_db_rung, 0);
    qatomic_set(&s->hdr_db_rung, 0);
    s->evt_cause = 0;
    s->evt_mask = 0;
    s->rx_mode = HSNIC_RX_MODE_RESET;
    s->err_code = 0;
    s->stat_latch = 0;
    for (v = 0; v < HSNIC_NUM_VEC_MAX; v++) {
        HsnicVector *vec = &s->vec[v];

        vec->armed = false;
        vec->pending = false;
        vec->rx_pending = false;
        vec->npending = 0;
        vec->mod = 0;
        vec->txmod = 0;
        if (vec->timer) {
            timer_del(vec->timer);
        }
    }
    memset(s->txq, 0, sizeof(s->txq));
    memset(s->rxq, 0, sizeof(s->rxq));
    /* open aggregates are dropped: the driver starts from scratch */
    memset(s->rsc, 0, sizeof(s->rsc));
    for (v = 0; v < HSNIC_MAX_QP; v++) {
        if (s->rsc_timer[v]) {
            timer_del(s->rsc_timer[v]);
        }
    }
    memset(s->rules, 0, sizeof(s->rules));
    hsnic_rss_defaults(s);
    memset(s->dstat, 0, sizeof(s->dstat));
    memset(s->rx_qstat, 0, sizeof(s->rx_qstat));
    memset(s->tx_qstat, 0, sizeof(s->tx_qstat));
    if (msix_present(d)) {
        for (v = 0; v < HSNIC_VEC_QP(s->num_qp); v++) {
            msix_clr_pending(d, v);
        }
    }
}

/* ---- Register interface ---- */

static bool hsnic_decode_queue(HsnicState *s, hwaddr addr,
                               unsigned *q, bool *rx, hwaddr *reg)
{
    if (addr >= HSNIC_TXQ_BASE && addr < HSNIC_TXQ_REG(s->num_qp, 0)) {
        *rx = false;
        *q = (addr - HSNIC_TXQ_BASE) / HSNIC_TXQ_STRIDE;
        *reg = (addr - HSNIC_TXQ_BASE) % HSNIC_TXQ_STRIDE;
        return true;
    }
    if (addr >= HSNIC_RXQ_BASE && addr < HSNIC_RXQ_REG(s->num_qp, 0)) {
        *rx = true;
        *q = (addr - HSNIC_RXQ_BASE) / HSNIC_RXQ_STRIDE;
        *reg = (addr - HSNIC_RXQ_BASE) % HSNIC_RXQ_STRIDE;
        return true;
    }
    return false;
}

/* IRQ_CTRL and IRQ_MOD exist for the queue vectors (>= 1) only. */
static bool hsnic_decode_irq(HsnicState *s, hwaddr addr, hwaddr base,
                             unsigned *vector)
{
    if (addr < base + 4 * HSNIC_VEC_QP(0) ||
        addr >= base + 4 * HSNIC_VEC_QP(s->num_qp)) {
        return false;
    }
    *vector = (addr - base) / 4;
    return true;
}

static bool hsnic_queue_read(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                             uint32_t *val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    switch (reg) {
    case HSNIC_Q_DESC_LO:
        *val = extract64(r->desc_addr, 0, 32);
        return true;
    case HSNIC_Q_DESC_HI:
        *val = extract64(r->desc_addr, 32, 32);
        return true;
    case HSNIC_Q_CMPL_LO:
        *val = extract64(r->cmpl_addr, 0, 32);
        return true;
    case HSNIC_Q_CMPL_HI:
        *val = extract64(r->cmpl_addr, 32, 32);
        return true;
    case HSNIC_Q_RING_SIZE:
        *val = r->ring_size;
        return true;
    case HSNIC_Q_CTRL:
        *val = r->ctrl;
        return true;
    case HSNIC_Q_STATUS:
        *val = r->status;
        if (!hsnic_queue_active(r) &&
            hsnic_fault(s, &s->fault.stop_lie, q, rx, "stop not acked yet")) {
            *val |= HSNIC_Q_STATUS_ENABLED;
        }
        return true;
    case HSNIC_Q_HEAD:
        *val = r->head;
        return true;
    case HSNIC_Q_TAIL:
        *val = r->tail;
        return true;
    case HSNIC_Q_CMPL_IDX:
        *val = r->cmpl_idx;
        return true;
    }
    if (!rx) {
        return false;
    }
    switch (reg) {
    case HSNIC_RXQ_HDR_LO:
        *val = extract64(r->hdr_addr, 0, 32);
        return true;
    case HSNIC_RXQ_HDR_HI:
        *val = extract64(r->hdr_addr, 32, 32);
        return true;
    case HSNIC_RXQ_HDR_HEAD:
        *val = r->hdr_head;
        return true;
    case HSNIC_RXQ_HDR_TAIL:
        *val = r->hdr_tail;
        return true;
    case HSNIC_RXQ_BUF_LEN:
        *val = r->buf_len;
        return true;
    case HSNIC_RXQ_HDR_BUF_LEN:
        *val = r->hdr_buf_len;
        return true;
    case HSNIC_RXQ_HDS_THRESH:
        *val = r->hds_thresh;
        return true;
    }
    return false;
}

/* Registers that may only change while the queue is disabled. */
static bool hsnic_queue_reg_static(bool rx, hwaddr reg)
{
    switch (reg) {
    case HSNIC_Q_DESC_LO:
    case HSNIC_Q_DESC_HI:
    case HSNIC_Q_CMPL_LO:
    case HSNIC_Q_CMPL_HI:
    case HSNIC_Q_RING_SIZE:
        return true;
    case HSNIC_RXQ_HDR_LO:
    case HSNIC_RXQ_HDR_HI:
    case HSNIC_RXQ_BUF_LEN:
    case HSNIC_RXQ_HDR_BUF_LEN:
    case HSNIC_RXQ_HDS_THRESH:
        return rx;
    }
    return false;
}

static bool hsnic_queue_write(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                              uint32_t val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint32_t ctrl_bits = HSNIC_Q_CTRL_ENABLE |
                         (rx ? HSNIC_RXQ_CTRL_HDS | HSNIC_RXQ_CTRL_RSC : 0);

    if (hsnic_queue_reg_static(rx, reg)) {
        if (hsnic_queue_active(r)) {
            trace_hsnic_err_queue_busy(q, hsnic_dir(rx), reg);
            hsnic_guest_error(s, "%s queue %u: register 0x%" HWADDR_PRIx
                              " written while enabled", hsnic_dir(rx), q,
                              reg);
            return true;
        }
    } else if (reg != HSNIC_Q_CTRL) {
        return false;
    }

    switch (reg) {
    case HSNIC_Q_DESC_LO:
        r->desc_addr = deposit64(r->desc_addr, 0, 32, val);
        break;
    case HSNIC_Q_DESC_HI:
        r->desc_addr = deposit64(r->desc_addr, 32, 32, val);
        break;
    case HSNIC_Q_CMPL_LO:
        r->cmpl_addr = deposit64(r->cmpl_addr, 0, 32, val);
        break;
    case HSNIC_Q_CMPL_HI:
        r->cmpl_addr = deposit64(r->cmpl_addr, 32, 32, val);
        break;
    case HSNIC_Q_RING_SIZE:
        r->ring_size = val;
        break;
    case HSNIC_RXQ_HDR_LO:
        r->hdr_addr = deposit64(r->hdr_addr, 0, 32, val);
        break;
    case HSNIC_RXQ_HDR_HI:
        r->hdr_addr = deposit64(r->hdr_addr, 32, 32, val);
        break;
    case HSNIC_RXQ_BUF_LEN:
        r->buf_len = val;
        break;
    case HSNIC_RXQ_HDR_BUF_LEN:
        r->hdr_buf_len = val;
        break;
    case HSNIC_RXQ_HDS_THRESH:
        r->hds_thresh = val;
        break;
    case HSNIC_Q_CTRL:
        if (!(val & HSNIC_Q_CTRL_ENABLE)) {
            if (hsnic_queue_active(r) || (r->ctrl & HSNIC_Q_CTRL_ENABLE)) {
                hsnic_queue_disable(s, q, rx);
                s->fault.stop_lie = s->fault.stop_delay;
            }
            r->ctrl = val & ctrl_bits;
            r->status &= ~HSNIC_Q_STATUS_ERROR;
        } else if (!hsnic_queue_active(r)) {
            r->ctrl = val & ctrl_bits & ~HSNIC_Q_CTRL_ENABLE;
            hsnic_queue_enable(s, q, rx);
        } else if ((val ^ r->ctrl) & ctrl_bits & ~HSNIC_RXQ_CTRL_RSC) {
            trace_hsnic_err_queue_busy(q, hsnic_dir(rx), reg);
            hsnic_guest_error(s, "%s queue %u: CTRL changed while enabled",
                              hsnic_dir(rx), q);
        } else if ((val ^ r->ctrl) & ctrl_bits) {
            /* RSC may change on a running queue */
            if (!(val & HSNIC_RXQ_CTRL_RSC)) {
                hsnic_rsc_flush(s, q, "RSC cleared");
            }
            r->ctrl = (r->ctrl & ~HSNIC_RXQ_CTRL_RSC) |
                      (val & HSNIC_RXQ_CTRL_RSC);
        }
        break;
    }
    return true;
}

/*
 * Write to a doorbell slot of a queue pair that exists, with the BQL.
 * Doorbell records off: the value is the producer index.
 */
static void hsnic_doorbell(HsnicState *s, hwaddr addr, uint32_t val)
{
    unsigned q = (addr - HSNIC_DB_BASE) / HSNIC_DB_STRIDE;
    unsigned which = (addr - HSNIC_DB_BASE) % HSNIC_DB_STRIDE;
    bool rx = which != HSNIC_DB_SLOT_TX;
    HsnicQueue *r = hsnic_queue(s, q, rx);
    const char *name = hsnic_db_name(which);

    trace_hsnic_doorbell(q, name, val);
    if (which > HSNIC_DB_SLOT_RX_HDR) {
        trace_hsnic_err_mmio_reg(addr, true);
        hsnic_guest_error(s, "write to unused doorbell slot 0x%"
                          HWADDR_PRIx, addr);
        return;
    }
    if (hsnic_db_rec_on(s)) {
        /* A notification: the index is in the doorbell record. */
        hsnic_db_notify(s, q, which);
        return;
    }
    if (!hsnic_queue_active(r) ||
        (which == HSNIC_DB_SLOT_RX_HDR && !(r->ctrl & HSNIC_RXQ_CTRL_HDS))) {
        hsnic_db_refused(s, q, which);
        return;
    }
    if (val >= r->ring_size) {
        trace_hsnic_err_tail(q, name, val, r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_TAIL);
        return;
    }
    switch (which) {
    case HSNIC_DB_SLOT_TX:
        r->tail = val;
        replay_bh_schedule_event(s->tx_bh[q]);
        break;
    case HSNIC_DB_SLOT_RX:
        r->tail = val;
        hsnic_rx_kick(s);
        break;
    default:
        r->hdr_tail = val;
        hsnic_rx_kick(s);
        break;
    }
}

static void hsnic_dev_ctrl_write(HsnicState *s, uint32_t val)
{
    uint32_t old = s->dev_ctrl;

    trace_hsnic_dev_ctrl(old, val);
    if (!(val & HSNIC_DEV_CTRL_ENABLE) && !(val & HSNIC_DEV_CTRL_RESET)) {
        hsnic_rsc_flush_all(s, "device disabled");
    }
    if (val & HSNIC_DEV_CTRL_RESET) {
        hsnic_core_reset(s, "DEV_CTRL.RESET");
        return;
    }
    s->dev_ctrl = val & HSNIC_DEV_CTRL_ALL;
    hsnic_db_eventfds(s, hsnic_db_rec_on(s));
    if ((!(old & HSNIC_DEV_CTRL_ENABLE) && hsnic_dev_enabled(s)) ||
        ((old ^ s->dev_ctrl) & HSNIC_DEV_CTRL_DB_REC)) {
        /* Doorbells written while the device was disabled. */
        hsnic_db_kick_all(s);
    }
}

static uint32_t hsnic_rule_read(HsnicState *s, unsigned i, hwaddr reg)
{
    HsnicRule *rule = &s->rules[i];

    switch (reg) {
    case HSNIC_RULE_CTRL:
        return rule->ctrl;
    case HSNIC_RULE_DEST:
        return rule->dest;
    case HSNIC_RULE_PORTS:
        return rule->ports;
    case HSNIC_RULE_PORTS_MASK:
        return rule->ports_mask;
    case HSNIC_RULE_PROTO:
        return rule->proto;
    case HSNIC_RULE_SRC(0) ... HSNIC_RULE_SRC(3):
        return rule->src[(reg - HSNIC_RULE_SRC(0)) / 4];
    case HSNIC_RULE_SRC_MASK(0) ... HSNIC_RULE_SRC_MASK(3):
        return rule->src_mask[(reg - HSNIC_RULE_SRC_MASK(0)) / 4];
    case HSNIC_RULE_DST(0) ... HSNIC_RULE_DST(3):
        return rule->dst[(reg - HSNIC_RULE_DST(0)) / 4];
    case HSNIC_RULE_DST_MASK(0) ... HSNIC_RULE_DST_MASK(3):
        return rule->dst_mask[(reg - HSNIC_RULE_DST_MASK(0)) / 4];
    }
    return 0;
}

static bool hsnic_rule_ctrl_valid(HsnicState *s, unsigned i, uint32_t val)
{
    HsnicRule *rule = &s->rules[i];
    unsigned flow = (val & HSNIC_RULE_FLOW_MASK) >> HSNIC_RULE_FLOW_SHIFT;
    unsigned action = (val & HSNIC_RULE_ACTION_MASK) >>
                      HSNIC_RULE_ACTION_SHIFT;
    unsigned ctx = (rule->dest & HSNIC_RULE_CTX_MASK) >> HSNIC_RULE_CTX_SHIFT;

    if (!(val & HSNIC_RULE_VALID)) {
        return true;
    }
    if (flow < HSNIC_FLOW_TCP4 || flow > HSNIC_FLOW_IP6) {
        return false;
    }
    if (action == HSNIC_ACTION_RSS && ctx >= HSNIC_RSS_CTX_NUM) {
        return false;
    }
    return action <= HSNIC_ACTION_DROP;
}

static void hsnic_rule_write(HsnicState *s, unsigned i, hwaddr reg,
                             uint32_t val)
{
    HsnicRule *rule = &s->rules[i];

    if (reg != HSNIC_RULE_CTRL && (rule->ctrl & HSNIC_RULE_VALID)) {
        trace_hsnic_err_rule(i, reg, val, "written while valid");
        hsnic_guest_error(s, "flow rule %u: register 0x%" HWADDR_PRIx
                          " written while valid", i, reg);
        return;
    }
    switch (reg) {
    case HSNIC_RULE_CTRL:
        if (!hsnic_rule_ctrl_valid(s, i, val)) {
            trace_hsnic_err_rule(i, reg, val, "bad flow, action or context");
            hsnic_guest_error(s, "flow rule %u: invalid CTRL 0x%x", i, val);
            rule->ctrl = 0;
            return;
        }
        rule->ctrl = val & (HSNIC_RULE_VALID | HSNIC_RULE_ACTION_MASK |
                            HSNIC_RULE_FLOW_MASK);
        trace_hsnic_rule(i, rule->ctrl, rule->dest);
        return;
    case HSNIC_RULE_DEST:
        rule->dest = val & (HSNIC_RULE_QUEUE_MASK | HSNIC_RULE_CTX_MASK);
        return;
    case HSNIC_RULE_PORTS:
        rule->ports = val;
        return;
    case HSNIC_RULE_PORTS_MASK:
        rule->ports_mask = val;
        return;
    case HSNIC_RULE_PROTO:
        rule->proto = val & (HSNIC_RULE_PROTO_VAL_MASK |
                             HSNIC_RULE_PROTO_MSK_MASK);
        return;
    case HSNIC_RULE_SRC(0) ... HSNIC_RULE_SRC(3):
        rule->src[(reg - HSNIC_RULE_SRC(0)) / 4] = val;
        return;
    case HSNIC_RULE_SRC_MASK(0) ... HSNIC_RULE_SRC_MASK(3):
        rule->src_mask[(reg - HSNIC_RULE_SRC_MASK(0)) / 4] = val;
        return;
    case HSNIC_RULE_DST(0) ... HSNIC_RULE_DST(3):
        rule->dst[(reg - HSNIC_RULE_DST(0)) / 4] = val;
        return;
    case HSNIC_RULE_DST_MASK(0) ... HSNIC_RULE_DST_MASK(3):
        rule->dst_mask[(reg - HSNIC_RULE_DST_MASK(0)) / 4] = val;
        return;
    }
    trace_hsnic_err_mmio_reg(HSNIC_RULE(i) + reg, true);
    hsnic_guest_error(s, "flow rule %u: no register 0x%" HWADDR_PRIx, i, reg);
}

static uint32_t hsnic_rss_read(HsnicState *s, unsigned c, hwaddr reg)
{
    HsnicRss *rss = &s->rss[c];

    switch (reg) {
    case HSNIC_RSS_CTRL:
        return rss->ctrl;
    case HSNIC_RSS_FIELDS:
        return rss->fields;
    case HSNIC_RSS_KEY(0) ... HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4 - 1):
        return ldl_le_p(rss->key + (reg - HSNIC_RSS_KEY(0)));
    case HSNIC_RSS_INDIR(0) ...
         HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4 - 1):
        return ldl_le_p(rss->indir + (reg - HSNIC_RSS_INDIR(0)));
    }
    return 0;
}

/* RSS registers may change at any time; the next frame uses them. */
static void hsnic_rss_write(HsnicState *s, unsigned c, hwaddr reg,
                            uint32_t val)
{
    HsnicRss *rss = &s->rss[c];

    switch (reg) {
    case HSNIC_RSS_CTRL:
        rss->ctrl = val & (HSNIC_RSS_CTRL_ENABLE | HSNIC_RSS_CTRL_SYM_XOR);
        trace_hsnic_rss(c, rss->ctrl, rss->fields);
        return;
    case HSNIC_RSS_FIELDS:
        rss->fields = val & HSNIC_RSS_FIELDS_ALL;
        return;
    case HSNIC_RSS_KEY(0) ... HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4 - 1):
        stl_le_p(rss->key + (reg - HSNIC_RSS_KEY(0)), val);
        return;
    case HSNIC_RSS_INDIR(0) ...
         HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4 - 1):
        stl_le_p(rss->indir + (reg - HSNIC_RSS_INDIR(0)), val);
        return;
    }
    trace_hsnic_err_mmio_reg(HSNIC_RSS(c) + reg, true);
    hsnic_guest_error(s, "RSS context %u: no register 0x%" HWADDR_PRIx,
                      c, reg);
}

/* 64-bit counters: LO latches the value, HI reads the latched half. */
static bool hsnic_counter_read(HsnicState *s, hwaddr addr, uint32_t *val)
{
    uint64_t *ctr = NULL;
    bool hi = addr & 4;

    if (addr >= HSNIC_REG_DSTAT_LO(0) &&
        addr < HSNIC_REG_DSTAT_LO(HSNIC_DSTAT_NUM)) {
        ctr = &s->dstat[(addr - HSNIC_REG_DSTAT_LO(0)) / 8];
    } else if (addr >= HSNIC_QSTAT_BASE &&
               addr < HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE * s->num_qp) {
        unsigned q = (addr - HSNIC_QSTAT_BASE) / HSNIC_QSTAT_STRIDE;
        unsigned off = (addr - HSNIC_QSTAT_BASE) % HSNIC_QSTAT_STRIDE;

        if (off < 8 * HSNIC_RXS_NUM) {
            ctr = &s->rx_qstat[q][off / 8];
        } else if (off >= 0x80 && off < 0x80 + 8 * HSNIC_TXS_NUM) {
            ctr = &s->tx_qstat[q][(off - 0x80) / 8];
        } else {
            return false;
        }
    } else {
        return false;
    }
    if (hi) {
        *val = s->stat_latch;
    } else {
        *val = extract64(*ctr, 0, 32);
        s->stat_latch = extract64(*ctr, 32, 32);
    }
    return true;
}

/*
 * An access that was dispatched before the device was unrealized but got
 * the BQL only after it (a vCPU that looked its BAR up just before the
 * unplug): the NIC, timers and packet state are gone, the object itself
 * stays until the last reference to its memory regions is dropped.
 * Called with the BQL, which unrealize holds throughout.
 */
static bool hsnic_gone(HsnicState *s, hwaddr addr, bool write)
{
    if (likely(s->nic)) {
        return false;
    }
    trace_hsnic_err_gone(addr, write);
    return true;
}

static uint64_t hsnic_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    HsnicState *s = opaque;
    NetClientState *nc;
    const uint8_t *mac = s->conf.macaddr.a;
    uint32_t val = 0;
    unsigned q, vector;
    hwaddr reg;
    bool rx;

    if (hsnic_gone(s, addr, false)) {
        return UINT32_MAX;      /* what a removed device reads as */
    }
    nc = qemu_get_queue(s->nic);
    if (size != 4 || !QEMU_IS_ALIGNED(addr, 4)) {
        trace_hsnic_err_mmio_size(addr, size, false);
        hsnic_guest_error(s, "%u byte read at 0x%" HWADDR_PRIx, size, addr);
        return 0;
    }

    switch (addr) {
    case HSNIC_REG_MAGIC:
        val = HSNIC_MAGIC;
        break;
    case HSNIC_REG_VERSION:
        val = (HSNIC_ABI_MAJOR << HSNIC_VERSION_MAJOR_SHIFT) |
              (HSNIC_ABI_MINOR << HSNIC_VERSION_MINOR_SHIFT);
        break;
    case HSNIC_REG_FEATURES:
        val = HSNIC_FEATURES;
        break;
    case HSNIC_REG_MAX_QP:
        val = s->num_qp;
        break;
    case HSNIC_REG_MAX_RING:
        val = s->max_ring;
        break;
    case HSNIC_REG_DEV_CTRL:
        val = s->dev_ctrl;
        break;
    case HSNIC_REG_DB_REC_LO:
        val = extract64(s->db_rec_addr, 0, 32);
        break;
    case HSNIC_REG_DB_REC_HI:
        val = extract64(s->db_rec_addr, 32, 32);
        break;
    case HSNIC_REG_DEV_STATUS:
        val = (nc->link_down ? 0 : HSNIC_DEV_STATUS_LINK_UP) |
              (hsnic_dev_enabled(s) ? HSNIC_DEV_STATUS_ENABLED : 0) |
              (s->err_code ? HSNIC_DEV_STATUS_ERROR : 0);
        break;
    case HSNIC_REG_EVT_CAUSE:
        val = s->evt_cause;
        break;
    case HSNIC_REG_EVT_MASK:
        val = s->evt_mask;
        break;
    case HSNIC_REG_MAC_LO:
        val = ldl_le_p(mac);
        break;
    case HSNIC_REG_MAC_HI:
        val = lduw_le_p(mac + 4);
        break;
    case HSNIC_REG_RX_MODE:
        val = s->rx_mode;
        break;
    case HSNIC_REG_ERR_CODE:
        val = s->err_code;
        break;
    case HSNIC_REG_RSS_CTX_NUM:
        val = HSNIC_RSS_CTX_NUM;
        break;
    case HSNIC_REG_RSS_INDIR_SIZE:
        val = HSNIC_RSS_INDIR_SIZE;
        break;
    case HSNIC_REG_RSS_KEY_SIZE:
        val = HSNIC_RSS_KEY_SIZE;
        break;
    case HSNIC_REG_NUM_RULES:
        val = HSNIC_NUM_RULES;
        break;
    case HSNIC_REG_MAX_RX_BUF:
        val = HSNIC_MAX_RX_BUF;
        break;
    default:
        if (hsnic_counter_read(s, addr, &val)) {
            /* done */
        } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_CTRL(0),
                                    &vector)) {
            val = s->vec[vector].armed ? HSNIC_IRQ_ARM : 0;
        } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_MOD(0),
                                    &vector)) {
            val = s->vec[vector].mod;
        } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_TXMOD(0),
                                    &vector)) {
            val = s->vec[vector].txmod;
        } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
                   hsnic_queue_read(s, q, rx, reg, &val)) {
            /* done */
        } else if (addr >= HSNIC_RULE_BASE &&
                   addr < HSNIC_RULE(HSNIC_NUM_RULES)) {
            val = hsnic_rule_read(s, (addr - HSNIC_RULE_BASE) /
                                  HSNIC_RULE_STRIDE,
                                  (addr - HSNIC_RULE_BASE) %
                                  HSNIC_RULE_STRIDE);
        } else if (addr >= HSNIC_RSS_BASE &&
                   addr < HSNIC_RSS(HSNIC_RSS_CTX_NUM)) {
            val = hsnic_rss_read(s, (addr - HSNIC_RSS_BASE) /
                                 HSNIC_RSS_STRIDE,
                                 (addr - HSNIC_RSS_BASE) % HSNIC_RSS_STRIDE);
        } else if (addr >= HSNIC_DB_BASE && addr < HSNIC_DB_TX(s->num_qp)) {
            val = 0;    /* doorbells are write-only */
        } else {
            trace_hsnic_err_mmio_reg(addr, false);
            hsnic_guest_error(s, "read of unknown register 0x%" HWADDR_PRIx,
                              addr);
        }
        break;
    }

    trace_hsnic_mmio_read(addr, val);
    return val;
}

static void hsnic_mmio_write(void *opaque, hwaddr addr, uint64_t val64,
                             unsigned size)
{
    HsnicState *s = opaque;
    uint32_t val = val64;
    uint32_t old_active;
    unsigned q, vector;
    hwaddr reg;
    bool rx;

    if (hsnic_gone(s, addr, true)) {
        return;
    }
    if (size != 4 || !QEMU_IS_ALIGNED(addr, 4)) {
        trace_hsnic_err_mmio_size(addr, size, true);
        hsnic_guest_error(s, "%u byte write at 0x%" HWADDR_PRIx, size, addr);
        return;
    }
    trace_hsnic_mmio_write(addr, val);

    switch (addr) {
    case HSNIC_REG_DEV_CTRL:
        hsnic_dev_ctrl_write(s, val);
        return;
    case HSNIC_REG_EVT_CAUSE:
        s->evt_cause &= ~val;
        trace_hsnic_evt(s->evt_cause, s->evt_mask);
        return;
    case HSNIC_REG_EVT_MASK:
        old_active = s->evt_cause & s->evt_mask;
        s->evt_mask = val & HSNIC_EVT_ALL;
        hsnic_evt_update(s, old_active);
        return;
    case HSNIC_REG_RX_MODE:
        s->rx_mode = val & HSNIC_RX_MODE_ALL;
        return;
    case HSNIC_REG_DB_REC_LO:
        s->db_rec_addr = deposit64(s->db_rec_addr, 0, 32,
                                   val & ~(HSNIC_DB_REC_ALIGN - 1));
        return;
    case HSNIC_REG_DB_REC_HI:
        s->db_rec_addr = deposit64(s->db_rec_addr, 32, 32, val);
        return;
    }

    if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_CTRL(0), &vector)) {
        hsnic_irq_arm(s, vector, val & HSNIC_IRQ_ARM);
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_MOD(0), &vector)) {
        s->vec[vector].mod = val;
        trace_hsnic_irq_mod(vector, val);
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_TXMOD(0), &vector)) {
        s->vec[vector].txmod = val;
        trace_hsnic_irq_mod(vector, val);
    } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
               hsnic_queue_write(s, q, rx, reg, val)) {
        /* done */
    } else if (addr >= HSNIC_RULE_BASE && addr < HSNIC_RULE(HSNIC_NUM_RULES)) {
        hsnic_rule_write(s, (addr - HSNIC_RULE_BASE) / HSNIC_RULE_STRIDE,
                         (addr - HSNIC_RULE_BASE) % HSNIC_RULE_STRIDE, val);
    } else if (addr >= HSNIC_RSS_BASE && addr < HSNIC_RSS(HSNIC_RSS_CTX_NUM)) {
        hsnic_rss_write(s, (addr - HSNIC_RSS_BASE) / HSNIC_RSS_STRIDE,
                        (addr - HSNIC_RSS_BASE) % HSNIC_RSS_STRIDE, val);
    } else if (addr >= HSNIC_DB_BASE && addr < HSNIC_DB_TX(s->num_qp)) {
        hsnic_doorbell(s, addr, val);
    } else {
        trace_hsnic_err_mmio_reg(addr, true);
        hsnic_guest_error(s, "write of 0x%x to read-only or unknown "
                          "register 0x%" HWADDR_PRIx, val, addr);
    }
}

static const MemoryRegionOps hsnic_mmio_ops = {
    .read = hsnic_mmio_read,
    .write = hsnic_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* Let every size through so that wrong ones can be reported. */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/*
 * The doorbells' own region, dispatched without the BQL: with doorbell
 * records on, a well-formed doorbell write only sets a bit and schedules
 * a bottom half (both thread-safe), so the vCPU never waits for the main
 * loop. Everything else takes the BQL and the common path.
 *
 * Lockless regions lose the memory core's re-entrancy guard, so it is
 * checked here: an access made while this device is in its own I/O (a
 * DMA of hsnic's into its doorbells) fails like one to any other of its
 * registers would. Only a thread holding the BQL can be inside the
 * device's I/O, so a vCPU's doorbell never mistakes another thread's I/O
 * for its own.
 */
static bool hsnic_db_reentrant(HsnicState *s, hwaddr off, bool write)
{
    if (!bql_locked() || !DEVICE(s)->mem_reentrancy_guard.engaged_in_io) {
        /* (with the BQL the memory core guards the region itself) */
        return false;
    }
    /* Not counted: the failed DMA is, by whoever made it. */
    trace_hsnic_err_db_reentrant(HSNIC_DB_BASE + off, write);
    qemu_log_mask(LOG_GUEST_ERROR, "hsnic: DMA to its own doorbell 0x%"
                  HWADDR_PRIx " blocked\n", HSNIC_DB_BASE + off);
    return true;
}

static MemTxResult hsnic_db_write(void *opaque, hwaddr off, uint64_t val,
                                  unsigned size, MemTxAttrs attrs)
{
    HsnicState *s = opaque;
    unsigned slot = off % HSNIC_DB_STRIDE;
    bool guard;

    if (hsnic_db_reentrant(s, off, true)) {
        return MEMTX_ACCESS_ERROR;
    }
    if (size == 4 && QEMU_IS_ALIGNED(off, 4) &&
        slot <= HSNIC_DB_SLOT_RX_HDR &&
        (qatomic_read(&s->dev_ctrl) & HSNIC_DEV_CTRL_DB_REC)) {
        trace_hsnic_doorbell(off / HSNIC_DB_STRIDE, hsnic_db_name(slot),
                             val);
        hsnic_db_notify(s, off / HSNIC_DB_STRIDE, slot);
        return MEMTX_OK;
    }
    BQL_LOCK_GUARD();
    guard = hsnic_guard_enter(s);
    hsnic_mmio_write(s, HSNIC_DB_BASE + off, val, size);
    hsnic_guard_exit(s, guard);
    return MEMTX_OK;
}

static MemTxResult hsnic_db_read(void *opaque, hwaddr off, uint64_t *val,
                                 unsigned size, MemTxAttrs attrs)
{
    HsnicState *s = opaque;
    bool guard;

    if (hsnic_db_reentrant(s, off, false)) {
        return MEMTX_ACCESS_ERROR;
    }
    BQL_LOCK_GUARD();
    guard = hsnic_guard_enter(s);
    *val = hsnic_mmio_read(s, HSNIC_DB_BASE + off, size);
    hsnic_guard_exit(s, guard);
    return MEMTX_OK;
}

static const MemoryRegionOps hsnic_db_ops = {
    .read_with_attrs = hsnic_db_read,
    .write_with_attrs = hsnic_db_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/* ---- PCI device ---- */

static void hsnic_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                               int len)
{
    HsnicState *s = HSNIC(d);
    bool guard;

    if (range_covers_byte(addr, len, PCI_COMMAND)) {
        /* Bus Master Enable may be about to clear: DMA while we may. */
        guard = hsnic_guard_enter(s);
        hsnic_rsc_flush_all(s, "command register");
        hsnic_guard_exit(s, guard);
    }
    pci_default_write_config(d, addr, val, len);
    pcie_cap_flr_write_config(d, addr, val, len);
    if (range_covers_byte(addr, len, PCI_COMMAND)) {
        /* Bus Master Enable may just have been set: resume both ways. */
        hsnic_db_kick_all(s);
    }
}

static void hsnic_db_notifiers_cleanup(HsnicState *s, unsigned n)
{
    HsnicDbNotifier *all = &s->db_notifier[0][0];
    unsigned i;

    for (i = 0; i < n; i++) {
        event_notifier_set_handler(&all[i].e, NULL);
        event_notifier_cleanup(&all[i].e);
    }
}

static bool hsnic_db_notifiers_init(HsnicState *s, Error **errp)
{
    static const unsigned slots[HSNIC_DB_PER_QP] = {
        HSNIC_DB_SLOT_TX, HSNIC_DB_SLOT_RX, HSNIC_DB_SLOT_RX_HDR,
    };
    HsnicDbNotifier *all = &s->db_notifier[0][0];
    unsigned i, n = s->num_qp * HSNIC_DB_PER_QP;
    int ret;

    for (i = 0; i < n; i++) {
        all[i].s = s;
        all[i].q = i / HSNIC_DB_PER_QP;
        all[i].slot = slots[i % HSNIC_DB_PER_QP];
        ret = event_notifier_init(&all[i].e, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "cannot create a doorbell eventfd "
                             "(ioeventfd=off avoids them)");
            hsnic_db_notifiers_cleanup(s, i);
            return false;
        }
        event_notifier_set_handler(&all[i].e, hsnic_db_notified);
    }
    return true;
}

static void hsnic_free_timers(HsnicState *s)
{
    unsigned i;

    for (i = 0; i < HSNIC_NUM_VEC_MAX; i++) {
        timer_free(s->vec[i].timer);
        s->vec[i].timer = NULL;
    }
    for (i = 0; i < HSNIC_MAX_QP; i++) {
        timer_free(s->rsc_timer[i]);
        s->rsc_timer[i] = NULL;
    }
}

static void hsnic_realize(PCIDevice *d, Error **errp)
{
    HsnicState *s = HSNIC(d);
    DeviceState *dev = DEVICE(d);
    NetClientState *nc;
    unsigned v, q;

    if (s->num_qp < 1 || s->num_qp > HSNIC_MAX_QP) {
        error_setg(errp, "queue-pairs must be between 1 and %d",
                   HSNIC_MAX_QP);
        return;
    }
    if (!is_power_of_2(s->max_ring) || s->max_ring < HSNIC_MIN_RING ||
        s->max_ring > HSNIC_MAX_RING) {
        error_setg(errp, "max-ring must be a power of two between %d and %d",
                   HSNIC_MIN_RING, HSNIC_MAX_RING);
        return;
    }
    if (s->rsc_usecs > HSNIC_RSC_USECS_MAX) {
        error_setg(errp, "rsc-usecs must be between 0 and %d",
                   HSNIC_RSC_USECS_MAX);
        return;
    }

    d->config_write = hsnic_write_config;
    d->config[PCI_INTERRUPT_PIN] = 0;   /* MSI-X only */

    memory_region_init_io(&s->mmio, OBJECT(s), &hsnic_mmio_ops, s,
                          "hsnic-mmio", HSNIC_BAR0_SIZE);
    memory_region_init_io(&s->db_mmio, OBJECT(s), &hsnic_db_ops, s,
                          "hsnic-doorbells", HSNIC_DB_TX(s->num_qp) -
                          HSNIC_DB_BASE);
    memory_region_enable_lockless_io(&s->db_mmio);
    memory_region_add_subregion_overlap(&s->mmio, HSNIC_DB_BASE, &s->db_mmio,
                                        1);
    pci_register_bar(d, HSNIC_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    if (pcie_endpoint_cap_init(d, HSNIC_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return;
    }
    if (pci_pm_init(d, HSNIC_PM_CAP_OFFSET, errp) < 0) {
        goto err_pcie;
    }
    pci_set_word(d->config + HSNIC_PM_CAP_OFFSET + PCI_PM_PMC,
                 PCI_PM_CAP_VER_1_1);
    pci_set_word(d->wmask + HSNIC_PM_CAP_OFFSET + PCI_PM_CTRL,
                 PCI_PM_CTRL_STATE_MASK);

    if (msix_init_exclusive_bar(d, HSNIC_VEC_QP(s->num_qp), HSNIC_BAR_MSIX,
                                errp)) {
        goto err_pcie;
    }
    for (v = 0; v < HSNIC_VEC_QP(s->num_qp); v++) {
        msix_vector_use(d, v);
    }
    pcie_cap_flr_init(d);

    for (v = 0; v < HSNIC_NUM_VEC_MAX; v++) {
        s->vec[v].s = s;
        s->vec[v].idx = v;
        s->vec[v].timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, hsnic_irq_timer,
                                       &s->vec[v]);
    }
    /*
     * The bottom halves are always scheduled with replay_bh_schedule_event():
     * under record/replay (-icount rr=...) each run becomes an event at a
     * recorded instruction count instead of whenever the main loop gets to
     * it, so DMA and interrupts land at the same point when replayed.
     * Without record/replay it is qemu_bh_schedule().
     */
    for (q = 0; q < s->num_qp; q++) {
        HsnicQueueRef *arg = &s->qref[q];

        arg->s = s;
        arg->q = q;
        s->tx_bh[q] = aio_bh_new_full(qemu_get_aio_context(), hsnic_tx_bh,
                                      arg, "hsnic-tx",
                                      &dev->mem_reentrancy_guard);
    }
    s->rx_bh = aio_bh_new_guarded(qemu_get_aio_context(), hsnic_rx_bh, s,
                                  &dev->mem_reentrancy_guard);
    s->rsc_bh = aio_bh_new_guarded(qemu_get_aio_context(), hsnic_rsc_bh, s,
                                   &dev->mem_reentrancy_guard);
    for (q = 0; q < s->num_qp; q++) {
        s->rsc_timer[q] = timer_new_ns(QEMU_CLOCK_VIRTUAL, hsnic_rsc_timer,
                                       &s->qref[q]);
    }
    s->vmstate_change = qemu_add_vm_change_state_handler(
        hsnic_vm_state_change, s);
    if (s->ioeventfd && !hsnic_db_notifiers_init(s, errp)) {
        goto err_msix;
    }

    net_tx_pkt_init(&s->tx_pkt, 1);
    s->tx_buf = g_malloc(HSNIC_MAX_FRAME);
    net_rx_pkt_init(&s->rx_pkt);
    hsnic_rss_defaults(s);

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&hsnic_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);

    /* Offloads to a peer that takes a vnet header (tap, vnet_hdr=on). */
    nc = qemu_get_queue(s->nic);
    if (s->vnet_hdr_prop && nc->peer && qemu_has_vnet_hdr(nc->peer)) {
        s->has_vnet = true;
        qemu_set_vnet_hdr_len(nc->peer, sizeof(struct virtio_net_hdr));
    }
    trace_hsnic_vnet_hdr(s->has_vnet);
    return;

err_msix:
    qemu_del_vm_change_state_handler(s->vmstate_change);
    qemu_bh_delete(s->rsc_bh);
    hsnic_free_timers(s);
    msix_unuse_all_vectors(d);
    msix_uninit_exclusive_bar(d);
err_pcie:
    pcie_cap_exit(d);
}

static void hsnic_exit(PCIDevice *d)
{
    HsnicState *s = HSNIC(d);
    unsigned q;

    qemu_del_nic(s->nic);
    /* Bottom halves that still run find no NIC and do nothing. */
    s->nic = NULL;
    hsnic_db_eventfds(s, false);
    if (s->ioeventfd) {
        hsnic_db_notifiers_cleanup(s, s->num_qp * HSNIC_DB_PER_QP);
    }
    for (q = 0; q < s->num_qp; q++) {
        qemu_bh_cancel(s->tx_bh[q]);
    }
    qemu_bh_cancel(s->rx_bh);
    qemu_bh_delete(s->rsc_bh);
    qemu_del_vm_change_state_handler(s->vmstate_change);
    hsnic_free_timers(s);
    net_tx_pkt_uninit(s->tx_pkt);
    net_rx_pkt_uninit(s->rx_pkt);
    g_free(s->tx_buf);
    msix_unuse_all_vectors(d);
    msix_uninit_exclusive_bar(d);
    pcie_cap_exit(d);
}

static void hsnic_reset_hold(Object *obj, ResetType type)
{
    HsnicState *s = HSNIC(obj);
    bool guard = hsnic_guard_enter(s);

    hsnic_core_reset(s, "device reset");
    hsnic_guard_exit(s, guard);
}

static bool hsnic_queue_state_valid(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint32_t ctrl_bits = HSNIC_Q_CTRL_ENABLE |
                         (rx ? HSNIC_RXQ_CTRL_HDS | HSNIC_RXQ_CTRL_RSC : 0);

    if ((r->status & ~HSNIC_Q_STATUS_ALL) || (r->ctrl & ~ctrl_bits) ||
        !(r->ctrl & HSNIC_Q_CTRL_ENABLE) != !hsnic_queue_active(r)) {
        return false;
    }
    if (q >= s->num_qp && (r->ctrl || r->status)) {
        return false;   /* no registers: never configured */
    }
    if (!hsnic_queue_active(r)) {
        return true;
    }
    return q < s->num_qp && hsnic_queue_config_valid(s, q, rx) &&
           r->head < r->ring_size && r->tail < r->ring_size &&
           r->cmpl_idx < r->ring_size && r->hdr_head < r->ring_size &&
           r->hdr_tail < r->ring_size;
}

/*
 * A vector the device does not use (vector 0, which has no IRQ_CTRL, and
 * those past the last queue pair) can never be armed, pending or timed.
 */
static bool hsnic_vector_state_valid(HsnicState *s, unsigned v)
{
    HsnicVector *vec = &s->vec[v];

    if (v >= HSNIC_VEC_QP(0) && v < HSNIC_VEC_QP(s->num_qp)) {
        return true;
    }
    return !vec->armed && !vec->pending && !vec->rx_pending &&
           !vec->npending && !vec->mod && !vec->txmod &&
           !timer_pending(vec->timer);
}

/* Every field of the stream against what the registers can hold. */
static const char *hsnic_state_invalid(HsnicState *s)
{
    uint32_t err_bits = HSNIC_ERR_CODE_MASK | HSNIC_ERR_QUEUE_MASK;
    unsigned q, i;

    for (q = 0; q < HSNIC_MAX_QP; q++) {
        if (!hsnic_queue_state_valid(s, q, false) ||
            !hsnic_queue_state_valid(s, q, true)) {
            return "queue";
        }
    }
    for (i = 0; i < HSNIC_NUM_VEC_MAX; i++) {
        if (!hsnic_vector_state_valid(s, i)) {
            return "vector";
        }
    }
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        if (!hsnic_rule_ctrl_valid(s, i, s->rules[i].ctrl)) {
            return "flow rule";
        }
    }
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        if ((s->rss[i].ctrl & ~(HSNIC_RSS_CTRL_ENABLE |
                                HSNIC_RSS_CTRL_SYM_XOR)) ||
            (s->rss[i].fields & ~HSNIC_RSS_FIELDS_ALL)) {
            return "RSS context";
        }
    }
    if (s->dev_ctrl & ~HSNIC_DEV_CTRL_ALL) {
        return "DEV_CTRL";
    }
    if ((s->evt_cause | s->evt_mask) & ~HSNIC_EVT_ALL) {
        return "EVT_CAUSE or EVT_MASK";
    }
    if (s->rx_mode & ~HSNIC_RX_MODE_ALL) {
        return "RX_MODE";
    }
    if (s->err_code & ~err_bits) {
        return "ERR_CODE";
    }
    return NULL;
}

/* The migration stream is input too: refuse state we could not produce. */
static int hsnic_post_load(void *opaque, int version_id)
{
    HsnicState *s = opaque;
    const char *bad = hsnic_state_invalid(s);
    unsigned q;

    if (bad) {
        qemu_log_mask(LOG_GUEST_ERROR, "hsnic: migration stream refused: "
                      "invalid %s state\n", bad);
        trace_hsnic_err_post_load(bad);
        /* nothing of it may stay live (timers loaded with the vectors) */
        hsnic_core_reset(s, "invalid migration stream");
        return -EINVAL;
    }
    memset(s->rsc, 0, sizeof(s->rsc));  /* never migrated */
    for (q = 0; q < HSNIC_MAX_QP; q++) {
        s->txq[q].eop_scanned = 0;
    }
    s->db_rec_addr &= ~(uint64_t)(HSNIC_DB_REC_ALIGN - 1);
    s->tx_busy = false;
    hsnic_db_eventfds(s, hsnic_db_rec_on(s));
    hsnic_db_kick_all(s);
    return 0;
}

static const VMStateDescription vmstate_hsnic_queue = {
    .name = "hsnic-queue",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(desc_addr, HsnicQueue),
        VMSTATE_UINT64(cmpl_addr, HsnicQueue),
        VMSTATE_UINT64(hdr_addr, HsnicQueue),
        VMSTATE_UINT32(ring_size, HsnicQueue),
        VMSTATE_UINT32(ctrl, HsnicQueue),
        VMSTATE_UINT32(status, HsnicQueue),
        VMSTATE_UINT32(head, HsnicQueue),
        VMSTATE_UINT32(tail, HsnicQueue),
        VMSTATE_UINT32(cmpl_idx, HsnicQueue),
        VMSTATE_UINT32(hdr_head, HsnicQueue),
        VMSTATE_UINT32(hdr_tail, HsnicQueue),
        VMSTATE_UINT32(buf_len, HsnicQueue),
        VMSTATE_UINT32(hdr_buf_len, HsnicQueue),
        VMSTATE_UINT32(hds_thresh, HsnicQueue),
        VMSTATE_BOOL(gen, HsnicQueue),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_vector = {
    .name = "hsnic-vector",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(armed, HsnicVector),
        VMSTATE_BOOL(pending, HsnicVector),
        VMSTATE_UINT32(npending, HsnicVector),
        VMSTATE_UINT32(mod, HsnicVector),
        VMSTATE_TIMER_PTR(timer, HsnicVector),
        VMSTATE_BOOL(rx_pending, HsnicVector),
        VMSTATE_UINT32(txmod, HsnicVector),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_rule = {
    .name = "hsnic-rule",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, HsnicRule),
        VMSTATE_UINT32(dest, HsnicRule),
        VMSTATE_UINT32(ports, HsnicRule),
        VMSTATE_UINT32(ports_mask, HsnicRule),
        VMSTATE_UINT32(proto, HsnicRule),
        VMSTATE_UINT32_ARRAY(src, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(src_mask, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(dst, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(dst_mask, HsnicRule, 4),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_rss = {
    .name = "hsnic-rss",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, HsnicRss),
        VMSTATE_UINT32(fields, HsnicRss),
        VMSTATE_UINT8_ARRAY(key, HsnicRss, HSNIC_RSS_KEY_SIZE),
        VMSTATE_UINT8_ARRAY(indir, HsnicRss, HSNIC_RSS_INDIR_SIZE),
        VMSTATE_END_OF_LIST()
    }
};

/* Version 3: two more RX queue counters (ABI 2.1, RSC). */
static const VMStateDescription vmstate_hsnic = {
    .name = "hsnic",
    .version_id = 3,
    .minimum_version_id = 3,
    .post_load = hsnic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, HsnicState),
        VMSTATE_MSIX(parent_obj, HsnicState),
        VMSTATE_UINT32_EQUAL(num_qp, HsnicState, "queue-pairs differs"),
        VMSTATE_UINT32_EQUAL(max_ring, HsnicState, "max-ring differs"),
        VMSTATE_UINT32(dev_ctrl, HsnicState),
        VMSTATE_UINT32(evt_cause, HsnicState),
        VMSTATE_UINT32(evt_mask, HsnicState),
        VMSTATE_UINT32(rx_mode, HsnicState),
        VMSTATE_UINT32(err_code, HsnicState),
        VMSTATE_UINT32(stat_latch, HsnicState),
        VMSTATE_STRUCT_ARRAY(vec, HsnicState, HSNIC_NUM_VEC_MAX, 1,
                             vmstate_hsnic_vector, HsnicVector),
        VMSTATE_STRUCT_ARRAY(txq, HsnicState, HSNIC_MAX_QP, 2,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT_ARRAY(rxq, HsnicState, HSNIC_MAX_QP, 2,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT_ARRAY(rules, HsnicState, HSNIC_NUM_RULES, 1,
                             vmstate_hsnic_rule, HsnicRule),
        VMSTATE_STRUCT_ARRAY(rss, HsnicState, HSNIC_RSS_CTX_NUM, 1,
                             vmstate_hsnic_rss, HsnicRss),
        VMSTATE_UINT64_ARRAY(dstat, HsnicState, HSNIC_DSTAT_NUM),
        VMSTATE_UINT64_2DARRAY(rx_qstat, HsnicState, HSNIC_MAX_QP,
                               HSNIC_RXS_NUM),
        VMSTATE_UINT64_2DARRAY(tx_qstat, HsnicState, HSNIC_MAX_QP,
                               HSNIC_TXS_NUM),
        VMSTATE_UINT64(db_rec_addr, HsnicState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property hsnic_properties[] = {
    DEFINE_NIC_PROPERTIES(HsnicState, conf),
    DEFINE_PROP_UINT32("queue-pairs", HsnicState, num_qp, 4),
    DEFINE_PROP_UINT32("max-ring", HsnicState, max_ring, HSNIC_MAX_RING),
    DEFINE_PROP_UINT32("rsc-usecs", HsnicState, rsc_usecs,
                       HSNIC_RSC_USECS_DEFAULT),
    DEFINE_PROP_BOOL("ioeventfd", HsnicState, ioeventfd, true),
    DEFINE_PROP_BOOL("vnet-hdr", HsnicState, vnet_hdr_prop, true),
};

static const struct {
    const char *name;
    unsigned idx;
    const char *desc;
} hsnic_stat_props[] = {
    { "x-stat-rx-filtered", HSNIC_DSTAT_RX_FILTERED,
      "Read-only counter: frames dropped by the RX_MODE filter" },
    { "x-stat-rx-rule-drop", HSNIC_DSTAT_RX_RULE_DROP,
      "Read-only counter: frames dropped by a flow rule" },
    { "x-stat-rx-runt", HSNIC_DSTAT_RX_RUNT,
      "Read-only counter: frames shorter than an Ethernet header" },
    { "x-stat-rx-oversize", HSNIC_DSTAT_RX_OVERSIZE,
      "Read-only counter: frames longer than the device's maximum" },
    { "x-stat-guest-errors", HSNIC_DSTAT_GUEST_ERRORS,
      "Read-only counter: invalid register accesses and descriptors" },
    { "x-stat-queue-errors", HSNIC_DSTAT_QUEUE_ERRORS,
      "Read-only counter: queues stopped on an error" },
    { "x-stat-rx-no-queue", HSNIC_DSTAT_RX_NO_QUEUE,
      "Read-only counter: frames steered past the last queue pair" },
};

/*
 * ---- Introspection: x-state (QMP qom-get) and "info hsnic" (HMP) ----
 *
 * Read-only snapshot of the queues, counters, RSS contexts and valid flow
 * rules, for debugging without a debugger. Only QMP and HMP reach it, never
 * the guest; it runs under the BQL like all processing and only reads.
 */
static QDict *hsnic_queue_qdict(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    QDict *d = qdict_new();
    uint32_t qid = (s->err_code & HSNIC_ERR_QUEUE_MASK) >>
                   HSNIC_ERR_QUEUE_SHIFT;
    uint32_t code = 0;
    const char *db = "mmio";

    if ((r->status & HSNIC_Q_STATUS_ERROR) && qid == HSNIC_QID(q, rx)) {
        code = (s->err_code & HSNIC_ERR_CODE_MASK) >> HSNIC_ERR_CODE_SHIFT;
    }
    if (hsnic_db_rec_on(s)) {
        db = s->db_eventfds ? "record+eventfd" : "record";
    }
    qdict_put_int(d, "queue", q);
    qdict_put_bool(d, "enabled", !!(r->ctrl & HSNIC_Q_CTRL_ENABLE));
    qdict_put_int(d, "ctrl", r->ctrl);
    qdict_put_int(d, "status", r->status);
    qdict_put_int(d, "error", code);
    qdict_put_int(d, "ring-size", r->ring_size);
    qdict_put_int(d, "head", r->head);
    qdict_put_int(d, "tail", r->tail);
    qdict_put_int(d, "cmpl-idx", r->cmpl_idx);
    qdict_put_bool(d, "gen", r->gen);
    qdict_put_int(d, "vector", HSNIC_VEC_QP(q));
    qdict_put_str(d, "doorbell", db);
    qdict_put_int(d, "desc-addr", r->desc_addr);
    qdict_put_int(d, "cmpl-addr", r->cmpl_addr);
    if (rx) {
        qdict_put_int(d, "buf-len", r->buf_len);
        qdict_put_bool(d, "hds", !!(r->ctrl & HSNIC_RXQ_CTRL_HDS));
        qdict_put_bool(d, "rsc", !!(r->ctrl & HSNIC_RXQ_CTRL_RSC));
        qdict_put_int(d, "rsc-open-segs", s->rsc[q].open ? s->rsc[q].segs : 0);
        qdict_put_int(d, "hdr-addr", r->hdr_addr);
        qdict_put_int(d, "hdr-buf-len", r->hdr_buf_len);
        qdict_put_int(d, "hdr-head", r->hdr_head);
        qdict_put_int(d, "hdr-tail", r->hdr_tail);
    }
    return d;
}

static QDict *hsnic_rss_qdict(HsnicState *s, unsigned c)
{
    HsnicRss *rss = &s->rss[c];
    QDict *d = qdict_new();
    QList *indir = qlist_new();
    char key[2 * HSNIC_RSS_KEY_SIZE + 1];
    unsigned i;

    for (i = 0; i < HSNIC_RSS_KEY_SIZE; i++) {
        snprintf(key + 2 * i, 3, "%02x", rss->key[i]);
    }
    for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++) {
        qlist_append_int(indir, rss->indir[i]);
    }
    qdict_put_int(d, "context", c);
    qdict_put_bool(d, "enabled", !!(rss->ctrl & HSNIC_RSS_CTRL_ENABLE));
    qdict_put_bool(d, "sym-xor", !!(rss->ctrl & HSNIC_RSS_CTRL_SYM_XOR));
    qdict_put_int(d, "fields", rss->fields);
    qdict_put_str(d, "key", key);
    qdict_put(d, "indir", indir);
    return d;
}

static QList *hsnic_u32_qlist(const uint32_t *v, unsigned n)
{
    QList *l = qlist_new();
    unsigned i;

    for (i = 0; i < n; i++) {
        qlist_append_int(l, v[i]);
    }
    return l;
}

static QDict *hsnic_rule_qdict(HsnicState *s, unsigned i)
{
    HsnicRule *rule = &s->rules[i];
    QDict *d = qdict_new();

    qdict_put_int(d, "rule", i);
    qdict_put_int(d, "flow", (rule->ctrl & HSNIC_RULE_FLOW_MASK) >>
                  HSNIC_RULE_FLOW_SHIFT);
    qdict_put_int(d, "action", (rule->ctrl & HSNIC_RULE_ACTION_MASK) >>
                  HSNIC_RULE_ACTION_SHIFT);
    qdict_put_int(d, "queue", (rule->dest & HSNIC_RULE_QUEUE_MASK) >>
                  HSNIC_RULE_QUEUE_SHIFT);
    qdict_put_int(d, "context", (rule->dest & HSNIC_RULE_CTX_MASK) >>
                  HSNIC_RULE_CTX_SHIFT);
    qdict_put_int(d, "sport", (rule->ports & HSNIC_RULE_SPORT_MASK) >>
                  HSNIC_RULE_SPORT_SHIFT);
    qdict_put_int(d, "dport", (rule->ports & HSNIC_RULE_DPORT_MASK) >>
                  HSNIC_RULE_DPORT_SHIFT);
    qdict_put_int(d, "ports-mask", rule->ports_mask);
    qdict_put_int(d, "proto", rule->proto);
    qdict_put(d, "src", hsnic_u32_qlist(rule->src, 4));
    qdict_put(d, "src-mask", hsnic_u32_qlist(rule->src_mask, 4));
    qdict_put(d, "dst", hsnic_u32_qlist(rule->dst, 4));
    qdict_put(d, "dst-mask", hsnic_u32_qlist(rule->dst_mask, 4));
    return d;
}

static QDict *hsnic_state_qdict(HsnicState *s)
{
    QDict *d = qdict_new();
    QDict *stats = qdict_new();
    QList *txq = qlist_new();
    QList *rxq = qlist_new();
    QList *rss = qlist_new();
    QList *rules = qlist_new();
    unsigned nqp = MIN(s->num_qp, HSNIC_MAX_QP);
    unsigned i;

    qdict_put_int(d, "dev-ctrl", s->dev_ctrl);
    qdict_put_bool(d, "enabled", hsnic_dev_enabled(s));
    qdict_put_bool(d, "link-up",
                   s->nic && !qemu_get_queue(s->nic)->link_down);
    qdict_put_int(d, "err-code", s->err_code);
    qdict_put_int(d, "evt-cause", s->evt_cause);
    qdict_put_int(d, "evt-mask", s->evt_mask);
    qdict_put_int(d, "rx-mode", s->rx_mode);
    qdict_put_int(d, "queue-pairs", s->num_qp);
    qdict_put_int(d, "db-rec-addr", s->db_rec_addr);
    for (i = 0; i < nqp; i++) {
        qlist_append(txq, hsnic_queue_qdict(s, i, false));
        qlist_append(rxq, hsnic_queue_qdict(s, i, true));
    }
    qdict_put(d, "txq", txq);
    qdict_put(d, "rxq", rxq);
    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        /* the property's name without "x-stat-" */
        qdict_put_int(stats, hsnic_stat_props[i].name + 7,
                      s->dstat[hsnic_stat_props[i].idx]);
    }
    qdict_put(d, "stats", stats);
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        qlist_append(rss, hsnic_rss_qdict(s, i));
    }
    qdict_put(d, "rss", rss);
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        if (s->rules[i].ctrl & HSNIC_RULE_VALID) {
            qlist_append(rules, hsnic_rule_qdict(s, i));
        }
    }
    qdict_put(d, "rules", rules);
    return d;
}

static void hsnic_get_state(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    QObject *o = QOBJECT(hsnic_state_qdict(HSNIC(obj)));

    visit_type_any(v, name, &o, errp);
    qobject_unref(o);
}

static void hsnic_hmp_queue(Monitor *mon, HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    QDict *d = hsnic_queue_qdict(s, q, rx);

    monitor_printf(mon, "  %s%-2u %-3s    0x%x %3" PRId64 " %5u %5u %5u %5u "
                   "%3u %3u ", hsnic_dir(rx), q,
                   (r->ctrl & HSNIC_Q_CTRL_ENABLE) ? "on" : "off",
                   r->status, qdict_get_int(d, "error"), r->ring_size,
                   r->head, r->tail, r->cmpl_idx, r->gen, HSNIC_VEC_QP(q));
    if (rx) {
        monitor_printf(mon, "%-14s hds=%s hdr %u/%u\n",
                       qdict_get_str(d, "doorbell"),
                       (r->ctrl & HSNIC_RXQ_CTRL_HDS) ? "on" : "off",
                       r->hdr_head, r->hdr_tail);
    } else {
        monitor_printf(mon, "%s\n", qdict_get_str(d, "doorbell"));
    }
    qobject_unref(d);
}

static int hsnic_hmp_one(Object *obj, void *opaque)
{
    Monitor *mon = opaque;
    HsnicState *s = (HsnicState *)object_dynamic_cast(obj, TYPE_HSNIC);
    unsigned nqp, i, j;
    g_autofree char *path = NULL;

    if (!s || !DEVICE(s)->realized) {
        return 0;
    }
    nqp = MIN(s->num_qp, HSNIC_MAX_QP);
    path = object_get_canonical_path(obj);
    monitor_printf(mon, "hsnic %s: dev_ctrl 0x%x %s link %s err_code 0x%x "
                   "queue-pairs %u\n", path, s->dev_ctrl,
                   hsnic_dev_enabled(s) ? "enabled" : "disabled",
                   qemu_get_queue(s->nic)->link_down ? "down" : "up",
                   s->err_code, s->num_qp);
    monitor_printf(mon, "  queue en  status err  size  head  tail  cmpl "
                   "gen vec doorbell       (rx: header ring)\n");
    for (i = 0; i < nqp; i++) {
        hsnic_hmp_queue(mon, s, i, false);
    }
    for (i = 0; i < nqp; i++) {
        hsnic_hmp_queue(mon, s, i, true);
    }
    monitor_printf(mon, "  counters:");
    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        monitor_printf(mon, " %s=%" PRIu64, hsnic_stat_props[i].name + 7,
                       s->dstat[hsnic_stat_props[i].idx]);
    }
    monitor_printf(mon, "\n");
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        HsnicRss *rss = &s->rss[i];

        if (i && !rss->ctrl) {
            continue;
        }
        monitor_printf(mon, "  rss ctx %u: %s%s fields 0x%x key ", i,
                       (rss->ctrl & HSNIC_RSS_CTRL_ENABLE) ? "on" : "off",
                       (rss->ctrl & HSNIC_RSS_CTRL_SYM_XOR) ? " sym-xor" : "",
                       rss->fields);
        for (j = 0; j < HSNIC_RSS_KEY_SIZE; j++) {
            monitor_printf(mon, "%02x", rss->key[j]);
        }
        for (j = 0; j < HSNIC_RSS_INDIR_SIZE; j++) {
            if (j % 16 == 0) {
                monitor_printf(mon, "\n    indir[%3u]:", j);
            }
            monitor_printf(mon, " %u", rss->indir[j]);
        }
        monitor_printf(mon, "\n");
    }
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        HsnicRule *rule = &s->rules[i];
        QDict *d;

        if (!(rule->ctrl & HSNIC_RULE_VALID)) {
            continue;
        }
        /* the fields decoded once, as x-state shows them */
        d = hsnic_rule_qdict(s, i);
        monitor_printf(mon, "  rule %u: flow %" PRId64 " action %" PRId64
                       " queue %" PRId64 " ctx %" PRId64 " ports 0x%x/0x%x "
                       "proto 0x%x src %08x/%08x dst %08x/%08x\n", i,
                       qdict_get_int(d, "flow"), qdict_get_int(d, "action"),
                       qdict_get_int(d, "queue"), qdict_get_int(d, "context"),
                       rule->ports, rule->ports_mask, rule->proto,
                       rule->src[0], rule->src_mask[0], rule->dst[0],
                       rule->dst_mask[0]);
        qobject_unref(d);
    }
    return 0;
}

/* HMP "info hsnic": every hsnic device, as a table. */
void hmp_info_hsnic(Monitor *mon, const QDict *qdict)
{
    object_child_foreach_recursive(object_get_root(), hsnic_hmp_one, mon);
}

/*
 * A vCPU may still be dispatching a doorbell write (without the BQL) while
 * the device is unrealized: the bottom halves it schedules are freed only
 * with the object, after the last memory region reference is gone.
 */
static void hsnic_instance_finalize(Object *obj)
{
    HsnicState *s = HSNIC(obj);
    unsigned q;

    for (q = 0; q < HSNIC_MAX_QP; q++) {
        if (s->tx_bh[q]) {
            qemu_bh_delete(s->tx_bh[q]);
        }
    }
    if (s->rx_bh) {
        qemu_bh_delete(s->rx_bh);
    }
}

static const struct {
    const char *name;
    size_t offset;
    const char *desc;
} hsnic_fault_props[] = {
    { "x-fault-drop-cmpl", offsetof(HsnicFaults, drop_cmpl),
      "Fault injection: drop the next N completions" },
    { "x-fault-dup-cmpl", offsetof(HsnicFaults, dup_cmpl),
      "Fault injection: write the next N completions twice" },
    { "x-fault-corrupt-cmpl", offsetof(HsnicFaults, corrupt_cmpl),
      "Fault injection: corrupt the index of the next N completions" },
    { "x-fault-fail-dma", offsetof(HsnicFaults, fail_dma),
      "Fault injection: fail the next N completion writes (DMA error)" },
    { "x-fault-stop-delay", offsetof(HsnicFaults, stop_delay),
      "Fault injection: a stopped queue reads as enabled N more times" },
};

/* The largest count an x-fault-* property takes. */
#define HSNIC_FAULT_MAX         1000000

static void hsnic_get_fault(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    uint32_t *counter = opaque;
    uint32_t val = *counter;

    visit_type_uint32(v, name, &val, errp);
}

static void hsnic_set_fault(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    uint32_t *counter = opaque;
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (val > HSNIC_FAULT_MAX) {
        error_setg(errp, "%s must be between 0 and %d, not %" PRIu32,
                   name, HSNIC_FAULT_MAX, val);
        return;
    }
    *counter = val;
}

static void hsnic_instance_init(Object *obj)
{
    HsnicState *s = HSNIC(obj);
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(hsnic_fault_props); i++) {
        object_property_add(obj, hsnic_fault_props[i].name, "uint32",
                            hsnic_get_fault, hsnic_set_fault, NULL,
                            (char *)&s->fault + hsnic_fault_props[i].offset);
        object_property_set_description(obj, hsnic_fault_props[i].name,
                                        hsnic_fault_props[i].desc);
    }
    object_property_add_uint64_ptr(obj, "x-stat-tx-desc-reads",
                                   &s->tx_desc_reads, OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "x-stat-tx-desc-reads",
        "Read-only counter: TX descriptors read from guest memory");
    object_property_add_uint64_ptr(obj, "x-fault-injected",
                                   &s->fault.injected, OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "x-fault-injected",
                                    "Read-only counter: faults injected");

    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        object_property_add_uint64_ptr(obj, hsnic_stat_props[i].name,
                                       &s->dstat[hsnic_stat_props[i].idx],
                                       OBJ_PROP_FLAG_READ);
        object_property_set_description(obj, hsnic_stat_props[i].name,
                                        hsnic_stat_props[i].desc);
    }
    object_property_add(obj, "x-state", "any", hsnic_get_state, NULL, NULL,
                        NULL);
    object_property_set_description(obj, "x-state",
        "Read-only snapshot of the queues, counters, RSS and flow rules");
}

static void hsnic_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = hsnic_realize;
    k->exit = hsnic_exit;
    k->vendor_id = HSNIC_PCI_VENDOR_ID;
    k->device_id = HSNIC_PCI_DEVICE_ID;
    k->revision = HSNIC_PCI_REVISION;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;

    rc->phases.hold = hsnic_reset_hold;

    dc->desc = "hsnic virtual PCIe Ethernet controller (header split, RSS)";
    dc->vmsd = &vmstate_hsnic;
    device_class_set_props(dc, hsnic_properties);
    object_class_property_set_description(klass, "queue-pairs",
        "Number of TX/RX queue pairs, 1-" stringify(HSNIC_MAX_QP)
        " (one MSI-X vector each, plus vector 0 for events)");
    object_class_property_set_description(klass, "max-ring",
        "Largest ring the device accepts (MAX_RING register), a power of "
        "two between " stringify(HSNIC_MIN_RING) " and "
        stringify(HSNIC_MAX_RING));
    object_class_property_set_description(klass, "rsc-usecs",
        "Receive segment coalescing: an open aggregate is delivered this "
        "many microseconds (virtual clock) after its first segment at the "
        "latest, 0-" stringify(HSNIC_RSC_USECS_MAX) "; 0 delivers it at "
        "the end of each batch of frames from the backend (default "
        stringify(HSNIC_RSC_USECS_DEFAULT) ")");
    object_class_property_set_description(klass, "ioeventfd",
        "Back the doorbells with eventfds while the driver uses doorbell "
        "records (default on)");
    object_class_property_set_description(klass, "vnet-hdr",
        "Hand TSO and checksums to a backend that takes a virtio-net "
        "header (tap with vnet_hdr=on) instead of doing them in the "
        "device (default on)");
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo hsnic_info = {
    .name = TYPE_HSNIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(HsnicState),
    .instance_init = hsnic_instance_init,
    .instance_finalize = hsnic_instance_finalize,
    .class_init = hsnic_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void hsnic_register_types(void)
{
    type_register_static(&hsnic_info);
}

type_init(hsnic_register_types)
