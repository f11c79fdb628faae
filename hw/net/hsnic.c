/*
 * QEMU hsnic: a minimal virtual PCIe Ethernet controller
 *
 * The device interface (PCI identity, BAR0 registers, descriptor and
 * completion layouts) is defined in include/hw/net/hsnic_abi.h and
 * described in docs/hsnic-spec.md.
 *
 * The model is synchronous: a doorbell write processes the TX ring before
 * it returns, and a frame from the backend is written to the RX ring from
 * the .receive callback. No work is ever left in flight, so there is no
 * timer, bottom half or partially assembled frame to migrate.
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "net/net.h"
#include "net/eth.h"
#include "system/dma.h"
#include "qom/object.h"

#include "hw/net/hsnic_abi.h"
#include "net_tx_pkt.h"
#include "trace.h"

#define TYPE_HSNIC "hsnic"
OBJECT_DECLARE_SIMPLE_TYPE(HsnicState, HSNIC)

#define HSNIC_NUM_VEC_MAX       HSNIC_VEC_QP(HSNIC_MAX_QP)
#define HSNIC_RX_MAX_BUFS       DIV_ROUND_UP(HSNIC_MAX_FRAME, HSNIC_MIN_RX_BUF)
#define HSNIC_DESC_SIZE         16
#define HSNIC_CMPL_SIZE         16
#define HSNIC_RING_ALIGN        16

#define HSNIC_PM_CAP_OFFSET     0x40
#define HSNIC_PCIE_CAP_OFFSET   0xa0

#define HSNIC_EVT_ALL           (HSNIC_EVT_LINK | HSNIC_EVT_ERROR)
#define HSNIC_RX_MODE_ALL       (HSNIC_RX_MODE_PROMISC | \
                                 HSNIC_RX_MODE_ALLMULTI | \
                                 HSNIC_RX_MODE_BROADCAST)
#define HSNIC_RX_MODE_RESET     HSNIC_RX_MODE_BROADCAST

G_STATIC_ASSERT(sizeof(struct hsnic_tx_desc) == HSNIC_DESC_SIZE);
G_STATIC_ASSERT(sizeof(struct hsnic_rx_desc) == HSNIC_DESC_SIZE);
G_STATIC_ASSERT(sizeof(struct hsnic_tx_cmpl) == HSNIC_CMPL_SIZE);
G_STATIC_ASSERT(sizeof(struct hsnic_rx_cmpl) == HSNIC_CMPL_SIZE);
G_STATIC_ASSERT(HSNIC_MAX_RING <= UINT16_MAX);  /* rx_cmpl.desc_idx */
G_STATIC_ASSERT(HSNIC_MAX_FRAME <= UINT16_MAX); /* rx_cmpl.buf_len */

/* One descriptor ring and its completion ring (a TX or an RX queue). */
typedef struct HsnicQueue {
    uint64_t desc_addr;
    uint64_t cmpl_addr;
    uint32_t ring_size;
    uint32_t ctrl;
    uint32_t status;
    uint32_t head;      /* next descriptor the device reads */
    uint32_t tail;      /* last doorbell value */
    uint32_t cmpl_idx;  /* next completion slot */
    bool gen;           /* GEN value of the next completion */
} HsnicQueue;

typedef struct HsnicStats {
    uint64_t tx_frames;
    uint64_t tx_bytes;
    uint64_t tx_errors;
    uint64_t rx_frames;
    uint64_t rx_bytes;
    uint64_t rx_filtered;
    uint64_t rx_dropped;
    uint64_t queue_errors;
    uint64_t guest_errors;
} HsnicStats;

struct HsnicState {
    PCIDevice parent_obj;

    NICState *nic;
    NICConf conf;
    MemoryRegion mmio;

    /* Properties */
    uint32_t num_qp;
    uint32_t max_ring;

    /* Registers */
    uint32_t dev_ctrl;
    uint32_t evt_cause;
    uint32_t evt_mask;
    uint32_t rx_mode;
    uint32_t err_code;
    bool irq_armed[HSNIC_NUM_VEC_MAX];
    bool irq_pending[HSNIC_NUM_VEC_MAX];
    HsnicQueue txq[HSNIC_MAX_QP];
    HsnicQueue rxq[HSNIC_MAX_QP];
    HsnicStats stats;

    /* TX scratch state, only used inside hsnic_tx_process() */
    bool tx_busy;
    struct NetTxPkt *tx_pkt;
    uint8_t *tx_buf;    /* HSNIC_MAX_FRAME bytes: the frame being sent */

    /* RX scratch state: local copies of the descriptors of one frame */
    struct hsnic_rx_desc rx_desc[HSNIC_RX_MAX_BUFS];
};

static const char *hsnic_dir(bool rx)
{
    return rx ? "rx" : "tx";
}

/* Invalid register access or descriptor: log it, count it, carry on. */
#define hsnic_guest_error(s, fmt, ...)                                  \
    do {                                                                \
        (s)->stats.guest_errors++;                                      \
        qemu_log_mask(LOG_GUEST_ERROR, "hsnic: " fmt "\n", ## __VA_ARGS__); \
    } while (0)

/* ---- Interrupts ---- */

static void hsnic_irq_fire(HsnicState *s, unsigned vector)
{
    PCIDevice *d = PCI_DEVICE(s);

    /* No INTx or MSI: without MSI-X the vector stays pending and armed. */
    if (!msix_enabled(d)) {
        return;
    }
    trace_hsnic_irq_fire(vector);
    if (vector != HSNIC_VEC_EVENTS) {
        s->irq_armed[vector] = false;
        s->irq_pending[vector] = false;
    }
    msix_notify(d, vector);
}

/* A queue of @vector wrote completions. */
static void hsnic_irq_signal(HsnicState *s, unsigned vector)
{
    s->irq_pending[vector] = true;
    if (s->irq_armed[vector]) {
        hsnic_irq_fire(s, vector);
    }
}

static void hsnic_irq_arm(HsnicState *s, unsigned vector, bool arm)
{
    trace_hsnic_irq_arm(vector, arm, s->irq_pending[vector]);
    s->irq_armed[vector] = arm;
    if (arm && s->irq_pending[vector]) {
        hsnic_irq_fire(s, vector);
    }
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

/* ---- Errors ---- */

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
    s->stats.queue_errors++;
    hsnic_latch_error(s, code, q, rx);
}

/* ---- Rings ---- */

static bool hsnic_queue_active(HsnicQueue *r)
{
    return r->status & HSNIC_Q_STATUS_ENABLED;
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

static uint32_t hsnic_ring_next(HsnicQueue *r, uint32_t idx)
{
    return (idx + 1) & (r->ring_size - 1);
}

/* Descriptors the driver posted and the device has not consumed. */
static uint32_t hsnic_ring_posted(HsnicQueue *r)
{
    return (r->tail - r->head) & (r->ring_size - 1);
}

static bool hsnic_read_desc(HsnicState *s, unsigned q, bool rx,
                            uint32_t idx, void *desc)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    dma_addr_t addr = r->desc_addr + (uint64_t)idx * HSNIC_DESC_SIZE;

    if (pci_dma_read(PCI_DEVICE(s), addr, desc, HSNIC_DESC_SIZE)) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "descriptor read", addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    return true;
}

/*
 * Write the completion @entry, whose GEN bit is bit 0 of the byte at
 * @gen_off. The entry is first written with the stale GEN value, then the
 * byte holding GEN, so a driver polling on another CPU never sees the new
 * GEN value before the rest of the entry.
 */
static bool hsnic_write_cmpl(HsnicState *s, unsigned q, bool rx,
                             const void *entry, size_t gen_off)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    PCIDevice *d = PCI_DEVICE(s);
    dma_addr_t addr = r->cmpl_addr + (uint64_t)r->cmpl_idx * HSNIC_CMPL_SIZE;
    uint8_t buf[HSNIC_CMPL_SIZE];
    uint8_t gen_byte;

    memcpy(buf, entry, sizeof(buf));
    gen_byte = (buf[gen_off] & ~HSNIC_CMPL_GEN) | (r->gen ? HSNIC_CMPL_GEN : 0);
    buf[gen_off] = (buf[gen_off] & ~HSNIC_CMPL_GEN) |
                   (r->gen ? 0 : HSNIC_CMPL_GEN);

    if (pci_dma_write(d, addr, buf, sizeof(buf)) ||
        pci_dma_write(d, addr + gen_off, &gen_byte, 1)) {
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

static void hsnic_queue_enable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint64_t ring_bytes = (uint64_t)r->ring_size * HSNIC_DESC_SIZE;

    if (!hsnic_ring_size_valid(s, r->ring_size) ||
        !QEMU_IS_ALIGNED(r->desc_addr, HSNIC_RING_ALIGN) ||
        !QEMU_IS_ALIGNED(r->cmpl_addr, HSNIC_RING_ALIGN) ||
        r->desc_addr > UINT64_MAX - ring_bytes ||
        r->cmpl_addr > UINT64_MAX - ring_bytes) {
        trace_hsnic_err_ring_config(q, hsnic_dir(rx), r->desc_addr,
                                    r->cmpl_addr, r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_RING_CONFIG);
        return;
    }

    trace_hsnic_queue_enable(q, hsnic_dir(rx), r->desc_addr, r->cmpl_addr,
                             r->ring_size);
    r->ctrl |= HSNIC_Q_CTRL_ENABLE;
    r->status = HSNIC_Q_STATUS_ENABLED;
    r->head = 0;
    r->tail = 0;
    r->cmpl_idx = 0;
    r->gen = true;
}

static void hsnic_queue_disable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_queue_disable(q, hsnic_dir(rx));
    r->ctrl &= ~HSNIC_Q_CTRL_ENABLE;
    r->status = 0;
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

static void hsnic_tx_sendv(void *opaque, const struct iovec *iov, int iovcnt,
                           const struct iovec *virt_iov, int virt_iovcnt)
{
    qemu_sendv_packet(opaque, iov, iovcnt);
}

static void hsnic_tx_send(HsnicState *s, unsigned q, uint32_t len)
{
    NetClientState *nc = qemu_get_queue(s->nic);

    net_tx_pkt_add_raw_fragment(s->tx_pkt, s->tx_buf, len);
    if (net_tx_pkt_parse(s->tx_pkt)) {
        net_tx_pkt_send_custom(s->tx_pkt, false, hsnic_tx_sendv, nc);
    } else {
        /* NetTxPkt rejects e.g. truncated IP headers: send the bytes as-is. */
        trace_hsnic_tx_raw(q, len);
        qemu_send_packet(nc, s->tx_buf, len);
    }
    net_tx_pkt_reset(s->tx_pkt, hsnic_tx_free_frag, NULL);
}

static enum hsnic_err hsnic_tx_status_err(uint16_t status)
{
    switch (status) {
    case HSNIC_TX_ERR_DESC:
        return HSNIC_ERR_DESC;
    case HSNIC_TX_ERR_DMA:
        return HSNIC_ERR_DMA;
    default:
        return HSNIC_ERR_FRAME;
    }
}

static bool hsnic_tx_active(HsnicState *s, unsigned q)
{
    return hsnic_dev_enabled(s) && hsnic_queue_active(&s->txq[q]);
}

/*
 * Transmit the complete frames between head and tail. A frame whose EOP
 * descriptor has not been posted yet is left alone until the next doorbell
 * (unless it fills the whole ring). At most ring_size - 1 descriptors are
 * posted, so the work per doorbell is bounded by the ring size.
 */
static void hsnic_tx_process(HsnicState *s, unsigned q)
{
    HsnicQueue *r = &s->txq[q];
    bool completed = false;

    if (s->tx_busy) {
        trace_hsnic_err_reentrant(q);
        return;
    }
    s->tx_busy = true;

    while (hsnic_tx_active(s, q) && r->head != r->tail) {
        uint32_t idx = r->head;
        uint32_t ndesc = 0;
        uint32_t frame_len = 0;
        uint16_t status = HSNIC_TX_OK;
        bool eop = false;
        struct hsnic_tx_cmpl cmpl;

        while (!eop && idx != r->tail) {
            struct hsnic_tx_desc desc;

            if (!hsnic_read_desc(s, q, false, idx, &desc)) {
                goto out;
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
            hsnic_tx_send(s, q, frame_len);
            s->stats.tx_frames++;
            s->stats.tx_bytes += frame_len;
        }
        trace_hsnic_tx_frame(q, r->head, ndesc, frame_len, status);

        if (status != HSNIC_TX_OK) {
            s->stats.tx_errors++;
            hsnic_latch_error(s, hsnic_tx_status_err(status), q, false);
        }
        if (!hsnic_tx_active(s, q)) {
            break;
        }

        memset(&cmpl, 0, sizeof(cmpl));
        cmpl.head = cpu_to_le32(idx);
        cmpl.status = cpu_to_le16(status);
        if (!hsnic_write_cmpl(s, q, false, &cmpl,
                              offsetof(struct hsnic_tx_cmpl, flags))) {
            break;
        }
        r->head = idx;
        completed = true;
    }
out:
    s->tx_busy = false;
    if (completed) {
        hsnic_irq_signal(s, HSNIC_VEC_QP(q));
    }
}

/* ---- RX ---- */

static bool hsnic_rx_ready(HsnicState *s)
{
    PCIDevice *d = PCI_DEVICE(s);

    return hsnic_dev_enabled(s) && hsnic_queue_active(&s->rxq[0]) &&
           (d->config[PCI_COMMAND] & PCI_COMMAND_MASTER);
}

static bool hsnic_can_receive(NetClientState *nc)
{
    HsnicState *s = qemu_get_nic_opaque(nc);

    return !nc->link_down && hsnic_rx_ready(s) &&
           hsnic_ring_posted(&s->rxq[0]) > 0;
}

static void hsnic_rx_kick(HsnicState *s)
{
    NetClientState *nc = qemu_get_queue(s->nic);

    if (hsnic_can_receive(nc)) {
        qemu_flush_queued_packets(nc);
    }
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

static ssize_t hsnic_rx_drop(HsnicState *s, size_t size, const char *why)
{
    trace_hsnic_rx_drop(size, why);
    s->stats.rx_dropped++;
    return size;
}

/*
 * Receive one frame into RX queue 0 (no RSS yet). Returns 0, and QEMU
 * queues the frame, when not enough buffers are posted for all of it.
 */
static ssize_t hsnic_receive(NetClientState *nc, const uint8_t *buf,
                             size_t size)
{
    HsnicState *s = qemu_get_nic_opaque(nc);
    PCIDevice *d = PCI_DEVICE(s);
    const unsigned q = 0;
    HsnicQueue *r = &s->rxq[q];
    uint32_t posted, nbuf = 0, idx, i;
    size_t room = 0, off = 0;

    if (!hsnic_rx_ready(s)) {
        return 0;
    }
    if (size < ETH_HLEN) {
        return hsnic_rx_drop(s, size, "runt");
    }
    if (size > HSNIC_MAX_FRAME) {
        return hsnic_rx_drop(s, size, "oversize");
    }
    if (!hsnic_rx_accept(s, buf)) {
        trace_hsnic_rx_drop(size, "filtered");
        s->stats.rx_filtered++;
        return size;
    }

    /* Gather local copies of enough descriptors for the whole frame. */
    posted = hsnic_ring_posted(r);
    idx = r->head;
    while (room < size) {
        uint32_t len;

        if (nbuf == posted || nbuf == ARRAY_SIZE(s->rx_desc)) {
            if (posted == r->ring_size - 1) {
                /* Even a full ring cannot hold it: do not stall the queue */
                return hsnic_rx_drop(s, size, "larger than the ring");
            }
            trace_hsnic_rx_wait_buffers(q, size, posted);
            return 0;
        }
        if (!hsnic_read_desc(s, q, true, idx, &s->rx_desc[nbuf])) {
            return hsnic_rx_drop(s, size, "queue error");
        }
        len = le32_to_cpu(s->rx_desc[nbuf].len);
        if (len < HSNIC_MIN_RX_BUF || len > HSNIC_MAX_FRAME) {
            trace_hsnic_err_rx_desc(q, idx, len);
            hsnic_queue_error(s, q, true, HSNIC_ERR_DESC);
            return hsnic_rx_drop(s, size, "queue error");
        }
        room += len;
        nbuf++;
        idx = hsnic_ring_next(r, idx);
    }

    for (i = 0; i < nbuf; i++) {
        uint64_t addr = le64_to_cpu(s->rx_desc[i].addr);
        size_t chunk = MIN(size - off, le32_to_cpu(s->rx_desc[i].len));

        if (pci_dma_write(d, addr, buf + off, chunk)) {
            trace_hsnic_err_ring_dma(q, "rx", "buffer write", addr);
            hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
            return hsnic_rx_drop(s, size, "queue error");
        }
        off += chunk;
    }

    idx = r->head;
    off = 0;
    for (i = 0; i < nbuf; i++) {
        struct hsnic_rx_cmpl cmpl = { 0 };
        size_t chunk = MIN(size - off, le32_to_cpu(s->rx_desc[i].len));
        uint32_t flags = 0;

        off += chunk;
        if (i == nbuf - 1) {
            flags |= HSNIC_RXC_EOP;
            cmpl.frame_len = cpu_to_le32(size);
        }
        cmpl.desc_idx = cpu_to_le16(idx);
        cmpl.buf_len = cpu_to_le16(chunk);
        cmpl.flags = cpu_to_le32(flags);
        if (!hsnic_write_cmpl(s, q, true, &cmpl,
                              offsetof(struct hsnic_rx_cmpl, flags))) {
            return hsnic_rx_drop(s, size, "queue error");
        }
        idx = hsnic_ring_next(r, idx);
    }

    trace_hsnic_rx_frame(q, r->head, nbuf, size);
    r->head = idx;
    s->stats.rx_frames++;
    s->stats.rx_bytes += size;
    hsnic_irq_signal(s, HSNIC_VEC_QP(q));
    return size;
}

static void hsnic_set_link_status(NetClientState *nc)
{
    HsnicState *s = qemu_get_nic_opaque(nc);

    trace_hsnic_link_change(!nc->link_down);
    hsnic_evt_raise(s, HSNIC_EVT_LINK);
    hsnic_rx_kick(s);
}

static NetClientInfo hsnic_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = hsnic_can_receive,
    .receive = hsnic_receive,
    .link_status_changed = hsnic_set_link_status,
};

/* ---- Reset ---- */

static void hsnic_core_reset(HsnicState *s, const char *why)
{
    PCIDevice *d = PCI_DEVICE(s);
    unsigned v;

    trace_hsnic_reset(why);
    s->dev_ctrl = 0;
    s->evt_cause = 0;
    s->evt_mask = 0;
    s->rx_mode = HSNIC_RX_MODE_RESET;
    s->err_code = 0;
    memset(s->irq_armed, 0, sizeof(s->irq_armed));
    memset(s->irq_pending, 0, sizeof(s->irq_pending));
    memset(s->txq, 0, sizeof(s->txq));
    memset(s->rxq, 0, sizeof(s->rxq));
    memset(&s->stats, 0, sizeof(s->stats));
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
    hwaddr base;

    if (addr >= HSNIC_TXQ_BASE && addr < HSNIC_TXQ_REG(s->num_qp, 0)) {
        base = HSNIC_TXQ_BASE;
        *rx = false;
    } else if (addr >= HSNIC_RXQ_BASE &&
               addr < HSNIC_RXQ_REG(s->num_qp, 0)) {
        base = HSNIC_RXQ_BASE;
        *rx = true;
    } else {
        return false;
    }
    *q = (addr - base) / HSNIC_Q_STRIDE;
    *reg = (addr - base) % HSNIC_Q_STRIDE;
    return true;
}

static bool hsnic_decode_irq(HsnicState *s, hwaddr addr, unsigned *vector)
{
    if (addr < HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(0)) ||
        addr >= HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(s->num_qp))) {
        return false;
    }
    *vector = (addr - HSNIC_REG_IRQ_CTRL(0)) / 4;
    return true;
}

static bool hsnic_queue_read(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                             uint32_t *val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    switch (reg) {
    case HSNIC_Q_DESC_LO:
        *val = extract64(r->desc_addr, 0, 32);
        break;
    case HSNIC_Q_DESC_HI:
        *val = extract64(r->desc_addr, 32, 32);
        break;
    case HSNIC_Q_CMPL_LO:
        *val = extract64(r->cmpl_addr, 0, 32);
        break;
    case HSNIC_Q_CMPL_HI:
        *val = extract64(r->cmpl_addr, 32, 32);
        break;
    case HSNIC_Q_RING_SIZE:
        *val = r->ring_size;
        break;
    case HSNIC_Q_CTRL:
        *val = r->ctrl;
        break;
    case HSNIC_Q_STATUS:
        *val = r->status;
        break;
    case HSNIC_Q_HEAD:
        *val = r->head;
        break;
    case HSNIC_Q_TAIL:
        *val = r->tail;
        break;
    case HSNIC_Q_CMPL_IDX:
        *val = r->cmpl_idx;
        break;
    default:
        return false;
    }
    return true;
}

static bool hsnic_queue_write(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                              uint32_t val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    switch (reg) {
    case HSNIC_Q_DESC_LO:
    case HSNIC_Q_DESC_HI:
    case HSNIC_Q_CMPL_LO:
    case HSNIC_Q_CMPL_HI:
    case HSNIC_Q_RING_SIZE:
        if (hsnic_queue_active(r)) {
            trace_hsnic_err_queue_busy(q, hsnic_dir(rx), reg);
            hsnic_guest_error(s, "%s queue %u: register 0x%" HWADDR_PRIx
                              " written while enabled", hsnic_dir(rx), q,
                              reg);
            return true;
        }
        break;
    case HSNIC_Q_CTRL:
        break;
    default:
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
    case HSNIC_Q_CTRL:
        if (!(val & HSNIC_Q_CTRL_ENABLE)) {
            hsnic_queue_disable(s, q, rx);
        } else if (!hsnic_queue_active(r)) {
            hsnic_queue_enable(s, q, rx);
        }
        break;
    }
    return true;
}

static void hsnic_doorbell(HsnicState *s, hwaddr addr, uint32_t val)
{
    unsigned q = (addr - HSNIC_DB_BASE) / 8;
    bool rx = addr & 4;
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_doorbell(q, hsnic_dir(rx), val);
    if (!hsnic_queue_active(r)) {
        trace_hsnic_err_db_disabled(q, hsnic_dir(rx));
        hsnic_guest_error(s, "%s queue %u: doorbell while disabled",
                          hsnic_dir(rx), q);
        return;
    }
    if (val >= r->ring_size) {
        trace_hsnic_err_tail(q, hsnic_dir(rx), val, r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_TAIL);
        return;
    }
    r->tail = val;
    if (!rx) {
        hsnic_tx_process(s, q);
    } else if (q == 0) {
        hsnic_rx_kick(s);
    }
}

static void hsnic_dev_ctrl_write(HsnicState *s, uint32_t val)
{
    uint32_t old = s->dev_ctrl;
    unsigned q;

    trace_hsnic_dev_ctrl(old, val);
    if (val & HSNIC_DEV_CTRL_RESET) {
        hsnic_core_reset(s, "DEV_CTRL.RESET");
        return;
    }
    s->dev_ctrl = val & HSNIC_DEV_CTRL_ENABLE;
    if (!(old & HSNIC_DEV_CTRL_ENABLE) && hsnic_dev_enabled(s)) {
        /* Doorbells written while the device was disabled. */
        for (q = 0; q < s->num_qp; q++) {
            hsnic_tx_process(s, q);
        }
        hsnic_rx_kick(s);
    }
}

static uint64_t hsnic_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    HsnicState *s = opaque;
    NetClientState *nc = qemu_get_queue(s->nic);
    const uint8_t *mac = s->conf.macaddr.a;
    uint32_t val = 0;
    unsigned q, vector;
    hwaddr reg;
    bool rx;

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
        val = HSNIC_F_RX_MODE;
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
    default:
        if (hsnic_decode_irq(s, addr, &vector)) {
            val = s->irq_armed[vector] ? HSNIC_IRQ_ARM : 0;
        } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
                   hsnic_queue_read(s, q, rx, reg, &val)) {
            /* done */
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
    }

    if (hsnic_decode_irq(s, addr, &vector)) {
        hsnic_irq_arm(s, vector, val & HSNIC_IRQ_ARM);
    } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
               hsnic_queue_write(s, q, rx, reg, val)) {
        /* done */
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

/* ---- PCI device ---- */

static void hsnic_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                               int len)
{
    HsnicState *s = HSNIC(d);

    pci_default_write_config(d, addr, val, len);
    pcie_cap_flr_write_config(d, addr, val, len);
    if (range_covers_byte(addr, len, PCI_COMMAND)) {
        hsnic_rx_kick(s);
    }
}

static void hsnic_realize(PCIDevice *d, Error **errp)
{
    HsnicState *s = HSNIC(d);
    DeviceState *dev = DEVICE(d);
    unsigned v;
    int ret;

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

    d->config_write = hsnic_write_config;
    d->config[PCI_INTERRUPT_PIN] = 0;   /* MSI-X only */

    memory_region_init_io(&s->mmio, OBJECT(s), &hsnic_mmio_ops, s,
                          "hsnic-mmio", HSNIC_BAR0_SIZE);
    pci_register_bar(d, HSNIC_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    ret = pcie_endpoint_cap_init(d, HSNIC_PCIE_CAP_OFFSET);
    if (ret < 0) {
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

    net_tx_pkt_init(&s->tx_pkt, 1);
    s->tx_buf = g_malloc(HSNIC_MAX_FRAME);

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&hsnic_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);
    return;

err_pcie:
    pcie_cap_exit(d);
}

static void hsnic_exit(PCIDevice *d)
{
    HsnicState *s = HSNIC(d);

    qemu_del_nic(s->nic);
    net_tx_pkt_uninit(s->tx_pkt);
    g_free(s->tx_buf);
    msix_unuse_all_vectors(d);
    msix_uninit_exclusive_bar(d);
    pcie_cap_exit(d);
}

static void hsnic_reset_hold(Object *obj, ResetType type)
{
    hsnic_core_reset(HSNIC(obj), "device reset");
}

static int hsnic_post_load(void *opaque, int version_id)
{
    HsnicState *s = opaque;
    unsigned q, rx;

    for (q = 0; q < HSNIC_MAX_QP; q++) {
        for (rx = 0; rx < 2; rx++) {
            HsnicQueue *r = hsnic_queue(s, q, rx);

            if (r->status & ~(HSNIC_Q_STATUS_ENABLED | HSNIC_Q_STATUS_ERROR)) {
                return -EINVAL;
            }
            if (!hsnic_queue_active(r)) {
                continue;
            }
            if (q >= s->num_qp || !hsnic_ring_size_valid(s, r->ring_size) ||
                r->head >= r->ring_size || r->tail >= r->ring_size ||
                r->cmpl_idx >= r->ring_size) {
                return -EINVAL;
            }
        }
    }
    s->tx_busy = false;
    return 0;
}

static const VMStateDescription vmstate_hsnic_queue = {
    .name = "hsnic-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(desc_addr, HsnicQueue),
        VMSTATE_UINT64(cmpl_addr, HsnicQueue),
        VMSTATE_UINT32(ring_size, HsnicQueue),
        VMSTATE_UINT32(ctrl, HsnicQueue),
        VMSTATE_UINT32(status, HsnicQueue),
        VMSTATE_UINT32(head, HsnicQueue),
        VMSTATE_UINT32(tail, HsnicQueue),
        VMSTATE_UINT32(cmpl_idx, HsnicQueue),
        VMSTATE_BOOL(gen, HsnicQueue),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_stats = {
    .name = "hsnic-stats",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(tx_frames, HsnicStats),
        VMSTATE_UINT64(tx_bytes, HsnicStats),
        VMSTATE_UINT64(tx_errors, HsnicStats),
        VMSTATE_UINT64(rx_frames, HsnicStats),
        VMSTATE_UINT64(rx_bytes, HsnicStats),
        VMSTATE_UINT64(rx_filtered, HsnicStats),
        VMSTATE_UINT64(rx_dropped, HsnicStats),
        VMSTATE_UINT64(queue_errors, HsnicStats),
        VMSTATE_UINT64(guest_errors, HsnicStats),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic = {
    .name = "hsnic",
    .version_id = 1,
    .minimum_version_id = 1,
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
        VMSTATE_BOOL_ARRAY(irq_armed, HsnicState, HSNIC_NUM_VEC_MAX),
        VMSTATE_BOOL_ARRAY(irq_pending, HsnicState, HSNIC_NUM_VEC_MAX),
        VMSTATE_STRUCT_ARRAY(txq, HsnicState, HSNIC_MAX_QP, 1,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT_ARRAY(rxq, HsnicState, HSNIC_MAX_QP, 1,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT(stats, HsnicState, 1, vmstate_hsnic_stats, HsnicStats),
        VMSTATE_END_OF_LIST()
    }
};

static const Property hsnic_properties[] = {
    DEFINE_NIC_PROPERTIES(HsnicState, conf),
    DEFINE_PROP_UINT32("queue-pairs", HsnicState, num_qp, 1),
    DEFINE_PROP_UINT32("max-ring", HsnicState, max_ring, HSNIC_MAX_RING),
};

static const struct {
    const char *name;
    size_t offset;
    const char *desc;
} hsnic_stat_props[] = {
    { "x-stat-tx-frames", offsetof(HsnicStats, tx_frames),
      "Read-only counter: frames transmitted" },
    { "x-stat-tx-bytes", offsetof(HsnicStats, tx_bytes),
      "Read-only counter: bytes transmitted" },
    { "x-stat-tx-errors", offsetof(HsnicStats, tx_errors),
      "Read-only counter: TX frames dropped with an error completion" },
    { "x-stat-rx-frames", offsetof(HsnicStats, rx_frames),
      "Read-only counter: frames received" },
    { "x-stat-rx-bytes", offsetof(HsnicStats, rx_bytes),
      "Read-only counter: bytes received" },
    { "x-stat-rx-filtered", offsetof(HsnicStats, rx_filtered),
      "Read-only counter: frames dropped by the RX_MODE filter" },
    { "x-stat-rx-dropped", offsetof(HsnicStats, rx_dropped),
      "Read-only counter: received frames dropped (runt, oversize, "
      "larger than the ring, queue error)" },
    { "x-stat-queue-errors", offsetof(HsnicStats, queue_errors),
      "Read-only counter: queues stopped on an error" },
    { "x-stat-guest-errors", offsetof(HsnicStats, guest_errors),
      "Read-only counter: invalid register accesses and descriptors" },
};

static void hsnic_instance_init(Object *obj)
{
    HsnicState *s = HSNIC(obj);
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        object_property_add_uint64_ptr(obj, hsnic_stat_props[i].name,
                                       (uint64_t *)((char *)&s->stats +
                                                    hsnic_stat_props[i].offset),
                                       OBJ_PROP_FLAG_READ);
        object_property_set_description(obj, hsnic_stat_props[i].name,
                                        hsnic_stat_props[i].desc);
    }
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

    dc->desc = "hsnic virtual PCIe Ethernet controller";
    dc->vmsd = &vmstate_hsnic;
    device_class_set_props(dc, hsnic_properties);
    object_class_property_set_description(klass, "queue-pairs",
        "Number of TX/RX queue pairs, 1-" stringify(HSNIC_MAX_QP)
        " (one MSI-X vector each, plus vector 0 for events)");
    object_class_property_set_description(klass, "max-ring",
        "Largest ring the device accepts (MAX_RING register), a power of "
        "two between " stringify(HSNIC_MIN_RING) " and "
        stringify(HSNIC_MAX_RING));
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo hsnic_info = {
    .name = TYPE_HSNIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(HsnicState),
    .instance_init = hsnic_instance_init,
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
