/*
 * QEMU hsnic: receive segment coalescing: TCP segments of a flow merged
 * into one completion, with the rules of Linux's GRO, up to
 * HSNIC_RSC_MAX_FLOWS flows open per queue
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "net/eth.h"
#include "net/checksum.h"
#include "system/dma.h"

#include "hsnic.h"
#include "trace.h"

#define RSC_IPV6_MAX_EXT    8   /* extension headers walked */
#define RSC_TCP_FINAL       (TH_URG | TH_PUSH | TH_RST | TH_SYN | TH_FIN)
#define RSC_PROTO_IPIP      4
#define RSC_PROTO_IPV6      41

static uint32_t hsnic_rsc_mix(uint32_t h, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* The TCP checksum of an encapsulated segment, which net_rx_pkt skips. */
static bool hsnic_rsc_tcp_csum_ok(const uint8_t *buf, const HsnicRscSeg *seg)
{
    const uint8_t *ip = buf + seg->ipoff[seg->nip - 1];
    size_t tlen = seg->end - seg->l4off;
    uint32_t sum;

    if (seg->ip6[seg->nip - 1]) {
        sum = net_checksum_add(32, (uint8_t *)ip + 8);
    } else {
        sum = net_checksum_add(8, (uint8_t *)ip + 12);
    }
    sum += IP_PROTO_TCP + tlen;
    sum += net_checksum_add(tlen, (uint8_t *)buf + seg->l4off);
    return net_checksum_finish(sum) == 0;
}

/*
 * One IPv4 header at @off: IHL 5, not a fragment, header checksum right,
 * total length @len (*@len: 0 to take it from the header). Sets the next
 * protocol and returns the offset after the header, or 0.
 */
static size_t hsnic_rsc_ip4(const uint8_t *buf, size_t size, size_t off,
                            size_t *len, uint8_t *proto)
{
    if (size < off + 20 || buf[off] != 0x45 ||
        (lduw_be_p(buf + off + 6) & ~IP_DF) ||
        net_raw_checksum((uint8_t *)buf + off, 20)) {
        return 0;
    }
    if (!*len) {
        *len = lduw_be_p(buf + off + 2);
    } else if (*len != lduw_be_p(buf + off + 2)) {
        return 0;
    }
    if (*len < 20 || off + *len > size) {
        return 0;
    }
    *proto = buf[off + 9];
    return off + 20;
}

/*
 * One IPv6 header at @off and the extension headers GRO walks over (hop
 * by hop, routing, destination options; not fragments).
 */
static size_t hsnic_rsc_ip6(const uint8_t *buf, size_t size, size_t off,
                            size_t *len, uint8_t *proto)
{
    size_t end;
    unsigned i;

    if (size < off + 40 || (buf[off] >> 4) != 6) {
        return 0;
    }
    if (!*len) {
        *len = 40 + lduw_be_p(buf + off + 4);
    } else if (*len != 40 + (size_t)lduw_be_p(buf + off + 4)) {
        return 0;
    }
    end = off + *len;
    if (end > size) {
        return 0;
    }
    *proto = buf[off + 6];
    off += 40;
    for (i = 0; i < RSC_IPV6_MAX_EXT; i++) {
        if (*proto != IP6_HOP_BY_HOP && *proto != IP6_ROUTING &&
            *proto != IP6_DESTINATON) {
            return off;
        }
        if (off + 8 > end) {
            return 0;
        }
        *proto = buf[off];
        off += (buf[off + 1] + 1) * 8;
    }
    return 0;
}

/*
 * Find the TCP flow of a frame: Ethernet, IPv4 or IPv6, optionally one
 * more IPv4/IPv6 header (IPIP, IP6IP6 and the mixed ones), TCP. The
 * datagram ends where the outer IP length says; only a 60-byte frame may
 * have bytes after it (Ethernet padding).
 */
static bool hsnic_rsc_parse_hdrs(const uint8_t *buf, size_t size,
                                 HsnicRscSeg *seg)
{
    uint16_t et = lduw_be_p(buf + 12);
    size_t off = ETH_HLEN, len = 0, doff;
    uint8_t proto = 0;
    bool ip6 = et == ETH_P_IPV6;
    unsigned i;

    if (et != ETH_P_IP && et != ETH_P_IPV6) {
        return false;
    }
    for (i = 0; i < 2; i++) {
        seg->ipoff[i] = off;
        seg->ip6[i] = ip6;
        seg->nip = i + 1;
        off = ip6 ? hsnic_rsc_ip6(buf, size, off, &len, &proto) :
                    hsnic_rsc_ip4(buf, size, off, &len, &proto);
        if (!off) {
            return false;
        }
        if (i == 0) {
            seg->end = seg->ipoff[0] + len;
            if (seg->end != size && size != ETH_ZLEN) {
                return false;
            }
        }
        len = seg->end - off;   /* the inner datagram's length */
        if (proto == IP_PROTO_TCP) {
            break;
        }
        if (i == 1 || (proto != RSC_PROTO_IPIP && proto != RSC_PROTO_IPV6)) {
            return false;
        }
        ip6 = proto == RSC_PROTO_IPV6;
    }
    if (proto != IP_PROTO_TCP || off + 20 > seg->end) {
        return false;
    }
    doff = (buf[off + 12] >> 4) * 4;
    if (doff < 20 || off + doff > seg->end) {
        return false;
    }
    seg->l4off = off;
    seg->hlen = off + doff;
    seg->pay = seg->end - seg->hlen;
    seg->seq = ldl_be_p(buf + off + 4);
    seg->tcp_flags = buf[off + 13];
    return true;
}

/*
 * Parse the frame for RSC: keyed when its flow is found (so that its
 * aggregate can be delivered before it), ok when it may also join or
 * open an aggregate: headers within HSNIC_RSC_MAX_HLEN, checksums right.
 */
static void hsnic_rsc_parse(const uint8_t *buf, size_t size,
                            const HsnicRxDecision *dec, HsnicRscSeg *seg)
{
    unsigned i;
    uint32_t h = 2166136261u;

    memset(seg, 0, sizeof(*seg));
    if (size < ETH_HLEN || !hsnic_rsc_parse_hdrs(buf, size, seg)) {
        return;
    }
    h = hsnic_rsc_mix(h, buf, ETH_HLEN);
    for (i = 0; i < seg->nip; i++) {
        const uint8_t *ip = buf + seg->ipoff[i];

        h = seg->ip6[i] ? hsnic_rsc_mix(h, ip + 8, 32) :
                          hsnic_rsc_mix(h, ip + 12, 8);
    }
    seg->hash = hsnic_rsc_mix(h, buf + seg->l4off, 4);
    seg->keyed = true;
    if (seg->hlen > HSNIC_RSC_MAX_HLEN) {
        return;
    }
    if (seg->nip == 1) {
        seg->ok = (dec->csum_flags & HSNIC_RXC_L4_CSUM_OK) &&
                  !(dec->csum_flags & HSNIC_RXC_CSUM_BAD);
    } else {
        seg->ok = hsnic_rsc_tcp_csum_ok(buf, seg);
    }
}

/*
 * Same flow (GRO's same_flow): Ethernet header, IP structure, versions,
 * protocols, addresses, IPv6 flow labels and extension headers, ports.
 */
static bool hsnic_rsc_same_flow(const HsnicRsc *a, const uint8_t *buf,
                                const HsnicRscSeg *seg)
{
    const uint8_t *h = a->data;
    unsigned i;

    if (a->hash != seg->hash || a->nip != seg->nip ||
        a->l4off != seg->l4off || memcmp(buf, h, ETH_HLEN)) {
        return false;
    }
    for (i = 0; i < a->nip; i++) {
        size_t o = a->ipoff[i];
        size_t next = i + 1 < a->nip ? a->ipoff[i + 1] : a->l4off;

        if (a->ip6[i] != seg->ip6[i] || o != seg->ipoff[i]) {
            return false;
        }
        if (a->ip6[i]) {
            /* version and flow label; next header; addresses; ext hdrs */
            if ((ldl_be_p(buf + o) ^ ldl_be_p(h + o)) & 0xf00fffff ||
                buf[o + 6] != h[o + 6] ||
                memcmp(buf + o + 8, h + o + 8, next - o - 8)) {
                return false;
            }
        } else if (buf[o + 9] != h[o + 9] ||
                   memcmp(buf + o + 12, h + o + 12, 8)) {
            return false;
        }
    }
    return !memcmp(buf + a->l4off, h + a->l4off, 4);
}

/* GRO's inet_gro_flush() / ipv6_gro_flush() for IP header @i. */
static bool hsnic_rsc_ip_flush(HsnicRsc *a, const uint8_t *buf, unsigned i)
{
    const uint8_t *n = buf + a->ipoff[i], *o = a->data + a->ipoff[i];
    uint16_t idoff;

    if (a->ip6[i]) {
        /* traffic class, hop limit */
        return ((ldl_be_p(n) ^ ldl_be_p(o)) & 0x0ff00000) || n[7] != o[7];
    }
    /* TOS, TTL, DF */
    if (n[1] != o[1] || n[8] != o[8] || ((n[6] ^ o[6]) & (IP_DF >> 8))) {
        return true;
    }
    idoff = lduw_be_p(n + 4) - lduw_be_p(o + 4);
    if (a->segs == 1 && !idoff) {
        a->fixedid |= 1 << i;
    }
    return idoff != ((a->fixedid & (1 << i)) ? 0 : a->segs);
}

/*
 * GRO's tcp_gro_receive(): may @seg be added to @a, its flow's
 * aggregate? (No when this ends the aggregate before the segment.)
 */
static bool hsnic_rsc_can_merge(HsnicRsc *a, const uint8_t *buf,
                                const HsnicRscSeg *seg)
{
    const uint8_t *t = buf + a->l4off, *t2 = a->data + a->l4off;
    unsigned i;
    bool flush = false;

    if (!seg->ok || seg->hlen != a->hlen) {
        return false;
    }
    /* data offset, flags but FIN and PSH, window; ack; options */
    flush |= ((ldl_be_p(t + 12) ^ ldl_be_p(t2 + 12)) &
              ~(uint32_t)((TH_FIN | TH_PUSH) << 16)) != 0;
    flush |= ldl_be_p(t + 8) != ldl_be_p(t2 + 8);
    flush |= memcmp(t + 20, t2 + 20, a->hlen - a->l4off - 20) != 0;
    for (i = 0; i < a->nip; i++) {
        flush |= hsnic_rsc_ip_flush(a, buf, i);
    }
    flush |= seg->pay == 0 || seg->pay > a->mss;
    flush |= seg->seq != a->next_seq;
    /* the merged IP datagram stays within 65535 bytes */
    flush |= a->len - a->ipoff[0] + seg->pay > 65535;
    return !flush;
}

static uint32_t hsnic_rsc_need(const HsnicQueue *r, const HsnicRsc *a,
                               size_t segs, size_t size, HsnicRxLayout *lay)
{
    if (segs == 1) {
        *lay = a->lay;
    } else if (r->ctrl & HSNIC_RXQ_CTRL_HDS) {
        hsnic_rx_layout_l4(r, size, a->hlen, lay);
    } else {
        memset(lay, 0, sizeof(*lay));
        lay->reason = HSNIC_HDS_OFF;
        lay->pay_bytes = size;
        lay->nbufs = DIV_ROUND_UP(size, r->buf_len);
    }
    return lay->nbufs;
}

/*
 * Would the buffers still free for aggregates (posted, less what the
 * other open ones will take) hold @a with @segs segments, @size bytes?
 */
static bool hsnic_rsc_room(HsnicState *s, unsigned q, const HsnicRsc *a,
                           size_t segs, size_t size)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRscQueue *t = &s->rsc[q];
    uint32_t others = t->res_bufs - (a->open ? a->nbufs : 0);
    uint32_t hdrs = t->res_hdrs + (a->open ? 0 : 1);
    HsnicRxLayout lay;
    uint32_t n = hsnic_rsc_need(r, a, segs, size, &lay);

    if (n > r->ring_size - 1 || n > HSNIC_RX_MAX_BUFS ||
        size > HSNIC_RSC_MAX_FRAME) {
        return false;
    }
    if ((r->ctrl & HSNIC_RXQ_CTRL_HDS) && hsnic_hdr_posted(r) < hdrs) {
        return false;
    }
    return (uint64_t)others + n <= hsnic_ring_posted(r);
}

static void hsnic_rsc_unlink(HsnicRscQueue *t, uint16_t i)
{
    HsnicRsc *a = &t->slot[i];

    if (a->prev != HSNIC_RSC_NIL) {
        t->slot[a->prev].next = a->next;
    } else {
        t->head = a->next;
    }
    if (a->next != HSNIC_RSC_NIL) {
        t->slot[a->next].prev = a->prev;
    } else {
        t->tail = a->prev;
    }
    a->open = false;
    t->nopen--;
    t->res_bufs -= a->nbufs;
    t->res_hdrs--;
    t->held -= a->cap;
    g_free(a->data);
    a->data = NULL;
    a->cap = 0;
    a->next = t->free;
    t->free = i;
}

/* Drop every open aggregate of queue @q: nothing is written. */
void hsnic_rsc_discard(HsnicState *s, unsigned q, const char *why)
{
    HsnicRscQueue *t;
    unsigned n;

    if (!s->rsc) {
        return;
    }
    t = &s->rsc[q];
    for (n = 0; t->head != HSNIC_RSC_NIL && n < HSNIC_RSC_MAX_FLOWS; n++) {
        trace_hsnic_rsc_discard(q, t->slot[t->head].segs, why);
        hsnic_rsc_unlink(t, t->head);
    }
    if (s->rsc_timer[q]) {
        timer_del(s->rsc_timer[q]);
    }
}

/* Rewrite the IP lengths and checksums and the TCP flags for delivery. */
static void hsnic_rsc_fix_hdrs(HsnicRsc *a)
{
    uint8_t *h = a->data;
    unsigned i;

    for (i = 0; i < a->nip; i++) {
        uint8_t *ip = h + a->ipoff[i];
        size_t len = a->len - a->ipoff[i];

        if (a->ip6[i]) {
            stw_be_p(ip + 4, len - 40);
        } else {
            stw_be_p(ip + 2, len);
            eth_fix_ip4_checksum(ip, 20);
        }
    }
}

/*
 * Deliver aggregate @i of queue @q: a single segment exactly as without
 * RSC, several as one frame with HSNIC_RXC_RSC. Lost, with nothing
 * written, if the queue or the device stopped.
 */
static void hsnic_rsc_deliver(HsnicState *s, unsigned q, uint16_t i,
                              const char *why)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRscQueue *t = &s->rsc[q];
    HsnicRsc *a = &t->slot[i];
    size_t size = a->segs > 1 ? a->len : a->len + a->pad;
    HsnicRxLayout lay;
    HsnicRxCmpl c;

    if (!hsnic_queue_active(r) || !hsnic_rx_ready(s)) {
        trace_hsnic_rsc_discard(q, a->segs, "queue or device stopped");
        hsnic_rsc_unlink(t, i);
        return;
    }
    trace_hsnic_rsc_flush(q, a->segs, a->len - a->hlen, why);
    memset(&c, 0, sizeof(c));
    hsnic_rsc_need(r, a, a->segs, size, &lay);
    if (hsnic_ring_posted(r) < lay.nbufs ||
        ((lay.flags & HSNIC_RXC_HDR) && hsnic_hdr_posted(r) < 1)) {
        /* the driver moved a tail back over buffers we had counted */
        hsnic_guest_error(s, "rx queue %u: buffers withdrawn under RSC", q);
        trace_hsnic_rsc_discard(q, a->segs, "buffers withdrawn");
        hsnic_rsc_unlink(t, i);
        return;
    }
    if (a->segs > 1) {
        hsnic_rsc_fix_hdrs(a);
        c.flags = HSNIC_RXC_RSC | HSNIC_RXC_L4_CSUM_OK |
                  (a->ip6[0] ? 0 : HSNIC_RXC_L3_CSUM_OK) |
                  ((a->fixedid & 1) ? HSNIC_RXC_RSC_FIXEDID : 0) |
                  ((a->fixedid & 2) ? HSNIC_RXC_RSC_FIXEDID_IN : 0);
        c.rsc_segs = a->segs;
        c.rsc_mss = a->mss;
        c.rsc_l4off = a->l4off;
        c.rsc_inner = a->nip > 1 ? a->ipoff[1] : 0;
        c.hlen = a->hlen;
    }
    hsnic_rx_place(s, q, a->data, size, &lay, &c, &a->dec);
    if (a->open) {      /* a queue error discards them all */
        hsnic_rsc_unlink(t, i);
    }
}

/* When the queue's aggregates go: it is quiet, or the oldest too old. */
static int64_t hsnic_rsc_due(HsnicState *s, HsnicRscQueue *t)
{
    return MIN(t->last_rx + (int64_t)s->rsc_usecs * SCALE_US,
               t->slot[t->head].deadline);
}

/* Arm the queue's timer for its aggregates. */
static void hsnic_rsc_arm(HsnicState *s, unsigned q)
{
    HsnicRscQueue *t = &s->rsc[q];

    if (!s->rsc_timer[q]) {
        return;
    }
    if (t->head == HSNIC_RSC_NIL) {
        timer_del(s->rsc_timer[q]);
    } else if (s->rsc_usecs) {
        timer_mod(s->rsc_timer[q], hsnic_rsc_due(s, t));
    }
}

/* Deliver every open aggregate of queue @q, oldest first. */
void hsnic_rsc_flush(HsnicState *s, unsigned q, const char *why)
{
    HsnicRscQueue *t = &s->rsc[q];
    unsigned n;

    for (n = 0; t->head != HSNIC_RSC_NIL && n < HSNIC_RSC_MAX_FLOWS; n++) {
        hsnic_rsc_deliver(s, q, t->head, why);
    }
    hsnic_rsc_arm(s, q);
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

/*
 * The queue got no frame for rsc-usecs (all its aggregates go), or its
 * oldest aggregates reached their age cap. Frames that arrive move the
 * quiet time on without touching the timer: it re-arms itself here.
 */
void hsnic_rsc_timer(void *opaque)
{
    HsnicQueueRef *ref = opaque;
    HsnicState *s = ref->s;
    HsnicRscQueue *t = &s->rsc[ref->q];
    bool guard = hsnic_guard_enter(s);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    bool quiet = t->last_rx + (int64_t)s->rsc_usecs * SCALE_US <= now;
    unsigned n;

    for (n = 0; t->head != HSNIC_RSC_NIL && n < HSNIC_RSC_MAX_FLOWS &&
                (quiet || t->slot[t->head].deadline <= now); n++) {
        hsnic_rsc_deliver(s, ref->q, t->head, quiet ? "quiet" : "age");
    }
    hsnic_rsc_arm(s, ref->q);
    hsnic_guard_exit(s, guard);
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

/* Make @a hold @need bytes, within the queue's budget. */
static bool hsnic_rsc_grow(HsnicRscQueue *t, HsnicRsc *a, size_t need)
{
    size_t cap;

    if (need <= a->cap) {
        return true;
    }
    cap = MIN(MAX(need, (size_t)a->cap * 2), HSNIC_RSC_MAX_FRAME);
    if (t->held - a->cap + cap > HSNIC_RSC_HELD_MAX) {
        cap = need;
        if (t->held - a->cap + cap > HSNIC_RSC_HELD_MAX) {
            return false;
        }
    }
    a->data = g_realloc(a->data, cap);
    t->held += cap - a->cap;
    a->cap = cap;
    return true;
}

/* Start an aggregate on queue @q with the segment; false: not possible. */
static bool hsnic_rsc_open(HsnicState *s, unsigned q, const uint8_t *buf,
                           size_t size, const HsnicRscSeg *seg,
                           const HsnicRxDecision *dec)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRscQueue *t = &s->rsc[q];
    HsnicRsc *a, tmp;
    uint16_t i;

    if (!runstate_is_running() || !seg->ok || seg->pay == 0 ||
        (seg->tcp_flags & RSC_TCP_FINAL)) {
        return false;
    }
    memset(&tmp, 0, sizeof(tmp));
    hsnic_rx_layout(s, r, size, &tmp.lay);
    if (t->free == HSNIC_RSC_NIL || !hsnic_rsc_room(s, q, &tmp, 1, size) ||
        t->held + size > HSNIC_RSC_HELD_MAX) {
        /* make room: the oldest aggregate goes */
        if (t->head == HSNIC_RSC_NIL) {
            return false;
        }
        hsnic_rsc_deliver(s, q, t->head, "full");
        if (t->free == HSNIC_RSC_NIL || !hsnic_rsc_room(s, q, &tmp, 1, size) ||
            t->held + size > HSNIC_RSC_HELD_MAX) {
            return false;   /* the normal path holds or drops it */
        }
    }
    i = t->free;
    a = &t->slot[i];
    t->free = a->next;
    *a = tmp;
    a->data = g_malloc(size);
    a->cap = size;
    memcpy(a->data, buf, size);
    a->open = true;
    a->nip = seg->nip;
    memcpy(a->ip6, seg->ip6, sizeof(a->ip6));
    memcpy(a->ipoff, seg->ipoff, sizeof(a->ipoff));
    a->l4off = seg->l4off;
    a->hlen = seg->hlen;
    a->mss = seg->pay;
    a->segs = 1;
    a->hash = seg->hash;
    a->next_seq = seg->seq + seg->pay;
    a->len = seg->end;
    a->pad = size - seg->end;
    a->nbufs = a->lay.nbufs;
    a->dec = *dec;
    a->deadline = t->last_rx + (int64_t)HSNIC_RSC_AGE_MAX_US * SCALE_US;
    a->next = HSNIC_RSC_NIL;
    a->prev = t->tail;
    if (t->tail != HSNIC_RSC_NIL) {
        t->slot[t->tail].next = i;
    } else {
        t->head = i;
    }
    t->tail = i;
    t->nopen++;
    t->res_bufs += a->nbufs;
    t->res_hdrs++;
    t->held += a->cap;
    trace_hsnic_rsc_open(q, seg->seq, seg->pay, seg->hlen);
    if (!s->rsc_usecs) {
        replay_bh_schedule_event(s->rsc_bh);
    } else if (t->head == i) {
        hsnic_rsc_arm(s, q);
    }
    return true;
}

/* Add the segment to aggregate @i; false if it does not fit. */
static bool hsnic_rsc_add(HsnicState *s, unsigned q, uint16_t i,
                          const uint8_t *buf, const HsnicRscSeg *seg)
{
    HsnicRscQueue *t = &s->rsc[q];
    HsnicRsc *a = &t->slot[i];
    size_t len = a->len + seg->pay;
    HsnicRxLayout lay;

    if (!hsnic_rsc_room(s, q, a, a->segs + 1, len) ||
        !hsnic_rsc_grow(t, a, len)) {
        return false;
    }
    memcpy(a->data + a->len, buf + seg->hlen, seg->pay);
    a->len = len;
    a->pad = 0;
    a->segs++;
    a->next_seq = seg->seq + seg->pay;
    a->data[a->l4off + 13] |= seg->tcp_flags & (TH_FIN | TH_PUSH);
    t->res_bufs -= a->nbufs;
    a->nbufs = hsnic_rsc_need(&s->rxq[q], a, a->segs, len, &lay);
    t->res_bufs += a->nbufs;
    return true;
}

/* The frame is for the normal path: leave it the buffers it needs. */
static void hsnic_rsc_make_way(HsnicState *s, unsigned q, size_t size)
{
    HsnicQueue *r = &s->rxq[q];
    HsnicRscQueue *t = &s->rsc[q];
    bool hds = r->ctrl & HSNIC_RXQ_CTRL_HDS;

    if (t->head == HSNIC_RSC_NIL) {
        return;
    }
    if ((uint64_t)t->res_bufs + DIV_ROUND_UP(size, r->buf_len) >
        hsnic_ring_posted(r) ||
        (hds && t->res_hdrs + 1 > hsnic_hdr_posted(r))) {
        hsnic_rsc_flush(s, q, "buffers for another frame");
    }
}

/*
 * RSC on queue @q (CTRL.RSC set), GRO's dev_gro_receive(): the frame
 * joins its flow's aggregate or opens one (true, *@ret set), or is for
 * the normal path (false), its flow's aggregate delivered before it.
 */
static bool hsnic_rsc_receive(HsnicState *s, unsigned q, const uint8_t *buf,
                              size_t size, const HsnicRxDecision *dec,
                              ssize_t *ret)
{
    HsnicRscQueue *t = &s->rsc[q];
    HsnicRscSeg seg;
    uint16_t i;
    unsigned n;

    t->last_rx = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    hsnic_rsc_parse(buf, size, dec, &seg);
    if (seg.keyed) {
        for (i = t->head, n = 0; i != HSNIC_RSC_NIL && n < HSNIC_RSC_MAX_FLOWS;
             i = t->slot[i].next, n++) {
            if (hsnic_rsc_same_flow(&t->slot[i], buf, &seg)) {
                break;
            }
        }
        if (i != HSNIC_RSC_NIL && n < HSNIC_RSC_MAX_FLOWS) {
            if (hsnic_rsc_can_merge(&t->slot[i], buf, &seg) &&
                hsnic_rsc_add(s, q, i, buf, &seg)) {
                if (seg.pay < t->slot[i].mss ||
                    (seg.tcp_flags & RSC_TCP_FINAL)) {
                    hsnic_rsc_deliver(s, q, i, "last segment");
                    hsnic_rsc_arm(s, q);
                }
                *ret = size;
                return true;
            }
            hsnic_rsc_deliver(s, q, i, "flush");
            hsnic_rsc_arm(s, q);
        }
        if (hsnic_rsc_open(s, q, buf, size, &seg, dec)) {
            *ret = size;
            return true;
        }
    }
    hsnic_rsc_make_way(s, q, size);
    return false;
}

void hsnic_rsc_alloc(HsnicState *s)
{
    unsigned q, i;

    s->rsc = g_new0(HsnicRscQueue, s->num_qp);
    for (q = 0; q < s->num_qp; q++) {
        HsnicRscQueue *t = &s->rsc[q];

        t->head = t->tail = HSNIC_RSC_NIL;
        for (i = 0; i < HSNIC_RSC_MAX_FLOWS; i++) {
            t->slot[i].next = i + 1 < HSNIC_RSC_MAX_FLOWS ? i + 1
                                                          : HSNIC_RSC_NIL;
        }
        t->free = 0;
    }
}

void hsnic_rsc_free(HsnicState *s)
{
    unsigned q;

    if (!s->rsc) {
        return;
    }
    for (q = 0; q < s->num_qp; q++) {
        hsnic_rsc_discard(s, q, "unrealize");
    }
    g_free(s->rsc);
    s->rsc = NULL;
}

/* Reached from the layers below RSC through hooks: see HsnicState. */
void hsnic_rsc_init(HsnicState *s)
{
    s->rsc_flush = hsnic_rsc_flush;
    s->rsc_flush_all = hsnic_rsc_flush_all;
    s->rsc_discard = hsnic_rsc_discard;
    s->rsc_receive = hsnic_rsc_receive;
}
