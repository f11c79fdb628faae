/*
 * QEMU hsnic: transmit: the TX bottom half, frame assembly and
 * checksum/TSO offloads
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "net/eth.h"
#include "standard-headers/linux/virtio_net.h"
#include "system/dma.h"
#include "hw/net/net_tx_pkt.h"

#include "hsnic.h"
#include "trace.h"

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
    HsnicState *s = opaque;
    uint64_t *st = s->tx_qstat[s->tx_q];

    st[HSNIC_TXS_WIRE_PACKETS]++;
    st[HSNIC_TXS_WIRE_BYTES] += iov_size(iov, iovcnt);
    if (s->has_vnet) {
        /* The backend segments and checksums as the vnet header says. */
        qemu_sendv_packet(qemu_get_queue(s->nic), virt_iov, virt_iovcnt);
        return;
    }
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
    uint32_t mss = extract32(cmd, HSNIC_TXD_MSS_SHIFT, HSNIC_TXD_MSS_WIDTH);
    uint16_t status = HSNIC_TX_OK;
    struct virtio_net_hdr *vhdr;
    uint8_t gso;

    s->tx_q = q;
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
        /*
         * Nothing known about this frame (or TAIL went back): the copy
         * pass reads its descriptors once and records how far it got.
         */
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
 * The frame of @ndesc descriptors at HEAD, ending before @idx, has been
 * read (@status so far): check it, send it and count it; returns its
 * final TX status.
 */
static uint16_t hsnic_tx_finish(HsnicState *s, unsigned q, uint32_t idx,
                                uint32_t ndesc, uint32_t frame_len,
                                uint32_t cmd, uint16_t status, bool eop)
{
    HsnicQueue *r = &s->txq[q];
    uint64_t *st = s->tx_qstat[q];

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
    return status;
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
        status = hsnic_tx_finish(s, q, idx, ndesc, frame_len, cmd, status,
                                 eop);
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

void hsnic_tx_bh(void *opaque)
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
