/*
 * QEMU hsnic: a virtual PCIe Ethernet controller with TCP/UDP header
 * split, RSS, flow steering and per-queue restart
 *
 * The device interface (PCI identity, BAR0 registers, descriptor and
 * completion layouts) is defined in hsnic_abi.h (include/hsnic_abi.h of
 * the hsnic tree, shared with the Linux driver; include/standard-headers/
 * misc/ in QEMU's) and described in docs/specs/hsnic.rst.
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

#ifndef HW_NET_HSNIC_H
#define HW_NET_HSNIC_H

#include "hw/pci/pci_device.h"
#include "net/net.h"
#include "qemu/event_notifier.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "system/replay.h"
#include "system/runstate.h"
#include "standard-headers/misc/hsnic_abi.h"

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
/*
 * Payload buffers one frame may use: the largest frame (a coalesced one,
 * HSNIC_RSC_MAX_FRAME) in the smallest buffers.
 */
#define HSNIC_RX_MAX_BUFS       DIV_ROUND_UP(HSNIC_RSC_MAX_FRAME, \
                                             HSNIC_MIN_RX_BUF)
/* RSC: the bytes a queue's open aggregates may hold together */
#define HSNIC_RSC_HELD_MAX      (2 * 1024 * 1024)
#define HSNIC_RSC_NIL           0xffff
/*
 * rsc-usecs: how long a queue's aggregates wait for its next frame. 20 ms:
 * under TCG a sender in the guest puts a frame on the wire every 0.1 ..
 * several ms (the kernel's gro.py sends its segments one by one from user
 * space). An aggregate is delivered HSNIC_RSC_AGE_MAX_US after it opened
 * whatever the queue receives.
 */
#define HSNIC_RSC_USECS_DEFAULT 20000
#define HSNIC_RSC_AGE_MAX_US    1000000
#define HSNIC_RSC_USECS_MAX     100000

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
 * merged frame so far (headers of the first segment, then the payload
 * of every segment) is held by the device in @data; nothing is in the
 * queue's buffers until it is delivered, but the buffers its delivery
 * will take are counted in HsnicRscQueue.res_bufs / res_hdrs. Not
 * migrated: the VM stop handler delivers it.
 */
typedef struct HsnicRsc {
    bool open;
    bool ip6[2];            /* IP header i is IPv6 */
    uint8_t nip;            /* IP headers: 1, or 2 with IPIP/IP6IP6 */
    uint8_t fixedid;        /* bit i: IPv4 header i keeps a fixed ID */
    uint16_t ipoff[2];      /* offsets of the IP headers */
    uint16_t l4off;
    uint16_t hlen;          /* L2-L4 header bytes */
    uint16_t mss;           /* payload bytes of the first segment */
    uint16_t segs;
    uint16_t prev, next;    /* age list of the queue, or free list */
    uint32_t hash;          /* of the flow key */
    uint32_t next_seq;      /* sequence number the next segment must have */
    uint32_t len;           /* bytes of @data: headers and payload */
    uint32_t pad;           /* Ethernet padding after them (1 segment) */
    uint32_t cap;           /* bytes allocated at @data */
    uint32_t nbufs;         /* payload buffers its delivery takes */
    int64_t deadline;       /* age cap, QEMU_CLOCK_VIRTUAL ns */
    HsnicRxLayout lay;      /* of the first segment alone */
    HsnicRxDecision dec;    /* of the first segment */
    uint8_t *data;
} HsnicRsc;

/* The open aggregates of one RX queue, oldest first. */
typedef struct HsnicRscQueue {
    HsnicRsc slot[HSNIC_RSC_MAX_FLOWS];
    uint16_t head, tail;    /* age list */
    uint16_t free;          /* free list */
    uint16_t nopen;
    uint32_t res_bufs;      /* payload buffers the open ones will take */
    uint32_t res_hdrs;      /* header buffers they will take */
    uint64_t held;          /* bytes they hold */
    int64_t last_rx;        /* the queue's last frame, QEMU_CLOCK_VIRTUAL ns */
} HsnicRscQueue;

/* What the RSC parser found in a received frame. */
typedef struct HsnicRscSeg {
    bool keyed;             /* a TCP flow: its aggregate can be found */
    bool ok;                /* and the frame may join or open one */
    bool ip6[2];
    uint8_t nip;
    uint8_t tcp_flags;
    uint16_t ipoff[2];
    uint16_t l4off;
    uint16_t hlen;
    uint32_t hash;
    uint32_t seq;
    size_t end;             /* end of the outer IP datagram */
    size_t pay;
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
    QEMUTimer *rsc_timer[HSNIC_MAX_QP];     /* delivers aggregates */
    uint64_t tx_desc_reads; /* TX descriptors read (x-stat-tx-desc-reads) */
    VMChangeStateEntry *vmstate_change;
    HsnicRscQueue *rsc;     /* num_qp of them, from realize */
    HsnicFaults fault;      /* x-fault-* properties (tests only) */
    /*
     * Receive segment coalescing (rsc.c), reached through these from the
     * layers below it (queue disable, .receive); set by hsnic_rsc_init().
     */
    void (*rsc_flush)(HsnicState *s, unsigned q, const char *why);
    void (*rsc_flush_all)(HsnicState *s, const char *why);
    void (*rsc_discard)(HsnicState *s, unsigned q, const char *why);
    bool (*rsc_receive)(HsnicState *s, unsigned q, const uint8_t *buf,
                        size_t size, const HsnicRxDecision *dec,
                        ssize_t *ret);
    bool tx_busy;
    unsigned tx_q;          /* queue being sent, for the send callback */
    struct NetTxPkt *tx_pkt;
    uint8_t *tx_buf;        /* HSNIC_MAX_FRAME bytes: the frame being sent */
    struct NetRxPkt *rx_pkt;
    struct hsnic_rx_desc rx_desc[HSNIC_RX_MAX_BUFS];
};

static inline const char *hsnic_dir(bool rx)
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
static inline bool hsnic_guard_enter(HsnicState *s)
{
    MemReentrancyGuard *g = &DEVICE(s)->mem_reentrancy_guard;

    if (g->engaged_in_io) {
        return false;
    }
    g->engaged_in_io = true;
    return true;
}

static inline void hsnic_guard_exit(HsnicState *s, bool entered)
{
    if (entered) {
        DEVICE(s)->mem_reentrancy_guard.engaged_in_io = false;
    }
}

/* ---- Small helpers shared by the files (they call no device code) ---- */

/* Retry a frame held in the net layer (buffers posted, queue down...). */
static inline void hsnic_rx_kick(HsnicState *s)
{
    replay_bh_schedule_event(s->rx_bh);
}

static inline HsnicQueue *hsnic_queue(HsnicState *s, unsigned q, bool rx)
{
    return rx ? &s->rxq[q] : &s->txq[q];
}

static inline bool hsnic_queue_active(const HsnicQueue *r)
{
    return r->status & HSNIC_Q_STATUS_ENABLED;
}

static inline bool hsnic_db_rec_on(HsnicState *s)
{
    return s->dev_ctrl & HSNIC_DEV_CTRL_DB_REC;
}

static inline bool hsnic_dev_enabled(HsnicState *s)
{
    return s->dev_ctrl & HSNIC_DEV_CTRL_ENABLE;
}

static inline bool hsnic_ring_size_valid(HsnicState *s, uint32_t size)
{
    return is_power_of_2(size) && size >= HSNIC_MIN_RING &&
           size <= s->max_ring;
}

static inline bool hsnic_buf_len_valid(uint32_t len)
{
    return len >= HSNIC_MIN_RX_BUF && len <= HSNIC_MAX_RX_BUF &&
           QEMU_IS_ALIGNED(len, HSNIC_RX_BUF_ALIGN);
}

static inline uint32_t hsnic_ring_next(const HsnicQueue *r, uint32_t idx)
{
    return (idx + 1) & (r->ring_size - 1);
}

static inline uint32_t hsnic_ring_add(const HsnicQueue *r, uint32_t idx,
                                      uint32_t n)
{
    return (idx + n) & (r->ring_size - 1);
}

/* Descriptors the driver posted and the device has not consumed. */
static inline uint32_t hsnic_ring_posted(const HsnicQueue *r)
{
    return (r->tail - r->head) & (r->ring_size - 1);
}

static inline uint32_t hsnic_hdr_posted(const HsnicQueue *r)
{
    return (r->hdr_tail - r->hdr_head) & (r->ring_size - 1);
}

static inline bool hsnic_ring_fits(uint64_t addr, uint32_t entries,
                                   size_t size)
{
    uint64_t bytes = (uint64_t)entries * size;

    return QEMU_IS_ALIGNED(addr, HSNIC_RING_ALIGN) &&
           addr <= UINT64_MAX - bytes;
}

static inline bool hsnic_bus_master(HsnicState *s)
{
    return PCI_DEVICE(s)->config[PCI_COMMAND] & PCI_COMMAND_MASTER;
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
    uint16_t rsc_l4off;
    uint16_t rsc_inner;
} HsnicRxCmpl;

/* queue.c */
void hsnic_irq_timer(void *opaque);
void hsnic_irq_signal(HsnicState *s, unsigned vector, uint32_t n,
                      bool rx);
void hsnic_irq_arm(HsnicState *s, unsigned vector, bool arm);
void hsnic_evt_update(HsnicState *s, uint32_t old_active);
void hsnic_evt_raise(HsnicState *s, uint32_t cause);
void hsnic_latch_error(HsnicState *s, enum hsnic_err code,
                       unsigned q, bool rx);
void hsnic_queue_error(HsnicState *s, unsigned q, bool rx,
                       enum hsnic_err code);
bool hsnic_read_desc(HsnicState *s, unsigned q, bool rx,
                     uint64_t base, uint32_t idx, void *desc,
                     size_t size);
bool hsnic_fault(HsnicState *s, uint32_t *left, unsigned q, bool rx,
                 const char *what);
bool hsnic_write_cmpl(HsnicState *s, unsigned q, bool rx,
                      const void *entry, size_t size);
bool hsnic_queue_config_valid(HsnicState *s, unsigned q, bool rx);
void hsnic_queue_enable(HsnicState *s, unsigned q, bool rx);
void hsnic_queue_disable(HsnicState *s, unsigned q, bool rx);

/* doorbell.c */
bool hsnic_db_rec_fetch(HsnicState *s, unsigned q, bool rx);
const char *hsnic_db_name(unsigned slot);
void hsnic_db_refused(HsnicState *s, unsigned q, unsigned slot);
void hsnic_db_notify(HsnicState *s, unsigned q, unsigned slot);
void hsnic_db_eventfds(HsnicState *s, bool on);
void hsnic_db_kick_all(HsnicState *s);
void hsnic_doorbell(HsnicState *s, hwaddr addr, uint32_t val);
void hsnic_db_notifiers_cleanup(HsnicState *s, unsigned n);
bool hsnic_db_notifiers_init(HsnicState *s, Error **errp);

/* tx.c */
void hsnic_tx_bh(void *opaque);

/* rx.c */
void hsnic_rx_layout(HsnicState *s, const HsnicQueue *r, size_t size,
                     HsnicRxLayout *lay);
void hsnic_rx_layout_l4(const HsnicQueue *r, size_t size, size_t hlen,
                        HsnicRxLayout *lay);
bool hsnic_rx_place(HsnicState *s, unsigned q, const uint8_t *buf,
                    size_t size, const HsnicRxLayout *lay, HsnicRxCmpl *c,
                    const HsnicRxDecision *dec);
ssize_t hsnic_rx_drop(HsnicState *s, size_t size, int dstat,
                      const char *why);
bool hsnic_rx_complete(HsnicState *s, unsigned q, size_t size,
                       const HsnicRxCmpl *c,
                       const HsnicRxDecision *dec);
bool hsnic_rx_ready(HsnicState *s);
bool hsnic_can_receive(NetClientState *nc);
ssize_t hsnic_receive(NetClientState *nc, const uint8_t *buf,
                      size_t size);
void hsnic_rx_bh(void *opaque);

/* Segments held in the open aggregates of RX queue @q. */
static inline unsigned hsnic_rsc_open_segs(HsnicState *s, unsigned q)
{
    const HsnicRscQueue *t;
    unsigned n = 0, i, k;

    if (!s->rsc || q >= s->num_qp) {
        return 0;
    }
    t = &s->rsc[q];
    for (i = t->head, k = 0; i != HSNIC_RSC_NIL && k < HSNIC_RSC_MAX_FLOWS;
         i = t->slot[i].next, k++) {
        n += t->slot[i].segs;
    }
    return n;
}

/* rsc.c */
void hsnic_rsc_init(HsnicState *s);
void hsnic_rsc_flush(HsnicState *s, unsigned q, const char *why);
void hsnic_rsc_flush_all(HsnicState *s, const char *why);
void hsnic_rsc_discard(HsnicState *s, unsigned q, const char *why);
void hsnic_rsc_alloc(HsnicState *s);
void hsnic_rsc_free(HsnicState *s);
void hsnic_rsc_bh(void *opaque);
void hsnic_rsc_timer(void *opaque);
void hsnic_vm_state_change(void *opaque, bool running, RunState state);

/* regs.c */
void hsnic_rss_defaults(HsnicState *s);
void hsnic_core_reset(HsnicState *s, const char *why);
bool hsnic_rule_ctrl_valid(HsnicState *s, unsigned i, uint32_t val);
extern const MemoryRegionOps hsnic_mmio_ops;
extern const MemoryRegionOps hsnic_db_ops;

/* monitor.c */
/* The dstat counters shown by x-state and "info hsnic", and x-stat-*. */
typedef struct HsnicStatProp {
    const char *name;
    unsigned idx;
    const char *desc;
} HsnicStatProp;

extern const HsnicStatProp hsnic_stat_props[];
extern const size_t hsnic_num_stat_props;
void hsnic_get_state(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp);

#endif
