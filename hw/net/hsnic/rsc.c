/*
 * QEMU hsnic: receive segment coalescing: TCP segments of one flow
 * merged into one completion
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "net/eth.h"
#include "system/dma.h"
#include "hw/net/net_rx_pkt.h"

#include "hsnic.h"
#include "trace.h"

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
void hsnic_rsc_flush(HsnicState *s, unsigned q, const char *why)
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

void hsnic_rsc_flush_all(HsnicState *s, const char *why)
{
    unsigned q;

    for (q = 0; q < s->num_qp; q++) {
        hsnic_rsc_flush(s, q, why);
    }
}

/* rsc-usecs=0: the end of a batch of received frames. */
void hsnic_rsc_bh(void *opaque)
{
    hsnic_rsc_flush_all(opaque, "batch end");
}

/* An aggregate has been open for rsc-usecs. */
void hsnic_rsc_timer(void *opaque)
{
    HsnicQueueRef *ref = opaque;
    bool guard = hsnic_guard_enter(ref->s);

    hsnic_rsc_flush(ref->s, ref->q, "timer");
    hsnic_guard_exit(ref->s, guard);
}

void hsnic_vm_state_change(void *opaque, bool running, RunState state)
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

/* Reached from the layers below RSC through hooks: see HsnicState. */
void hsnic_rsc_init(HsnicState *s)
{
    s->rsc_flush = hsnic_rsc_flush;
    s->rsc_flush_all = hsnic_rsc_flush_all;
    s->rsc_receive = hsnic_rsc_receive;
}
