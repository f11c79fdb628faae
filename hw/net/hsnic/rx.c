/*
 * QEMU hsnic: receive: flow rules, RSS, header-split layout,
 * delivery into the RX rings and the net client's .receive
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "net/eth.h"
#include "net/checksum.h"
#include "standard-headers/linux/virtio_net.h"
#include "system/dma.h"
#include "hw/net/net_rx_pkt.h"

#include "hsnic.h"
#include "trace.h"

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
    unsigned flow = extract32(rule->ctrl, HSNIC_RULE_FLOW_SHIFT,
                              HSNIC_RULE_FLOW_WIDTH);
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
        uint8_t pval = extract32(rule->proto, HSNIC_RULE_PROTO_VAL_SHIFT,
                                 HSNIC_RULE_PROTO_VAL_WIDTH);
        uint8_t pmsk = extract32(rule->proto, HSNIC_RULE_PROTO_MSK_SHIFT,
                                 HSNIC_RULE_PROTO_MSK_WIDTH);

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
        ports = deposit32(0, HSNIC_RULE_SPORT_SHIFT, HSNIC_RULE_SPORT_WIDTH,
                          lduw_be_p(buf + off));
        ports = deposit32(ports, HSNIC_RULE_DPORT_SHIFT,
                          HSNIC_RULE_DPORT_WIDTH, lduw_be_p(buf + off + 2));
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
    f = extract32(rss->fields, HSNIC_RSS_FIELDS_SHIFT(ftype),
                  HSNIC_RSS_FIELDS_WIDTH);
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
        action = extract32(rule->ctrl, HSNIC_RULE_ACTION_SHIFT,
                           HSNIC_RULE_ACTION_WIDTH);
        dq = extract32(rule->dest, HSNIC_RULE_QUEUE_SHIFT,
                       HSNIC_RULE_QUEUE_WIDTH);
        ctx = extract32(rule->dest, HSNIC_RULE_CTX_SHIFT, HSNIC_RULE_CTX_WIDTH);
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

/* With CTRL.HDS: a TCP/UDP frame of @size bytes, @hlen of them headers. */
void hsnic_rx_layout_l4(const HsnicQueue *r, size_t size, size_t hlen,
                        HsnicRxLayout *lay)
{
    memset(lay, 0, sizeof(*lay));
    lay->flags = HSNIC_RXC_HDR;
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
    lay->nbufs = DIV_ROUND_UP(lay->pay_bytes, r->buf_len);
}

void hsnic_rx_layout(HsnicState *s, const HsnicQueue *r, size_t size,
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
        hsnic_rx_layout_l4(r, size, hlen, lay);
        return;
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

ssize_t hsnic_rx_drop(HsnicState *s, size_t size, int dstat,
                      const char *why)
{
    trace_hsnic_rx_drop(size, why);
    if (dstat >= 0) {
        s->dstat[dstat]++;
    }
    return size;
}

/*
 * Write the completion of a frame whose data is in place, consume its
 * buffers and count it. @size is the frame length.
 */
bool hsnic_rx_complete(HsnicState *s, unsigned q, size_t size,
                       const HsnicRxCmpl *c,
                       const HsnicRxDecision *dec)
{
    HsnicQueue *r = &s->rxq[q];
    uint64_t *st = s->rx_qstat[q];
    struct hsnic_rx_cmpl cmpl;
    uint32_t flags = c->flags, info;

    info = deposit32(0, HSNIC_RXI_HDS_SHIFT, HSNIC_RXI_HDS_WIDTH, c->reason);
    info = deposit32(info, HSNIC_RXI_RSS_TYPE_SHIFT, HSNIC_RXI_RSS_TYPE_WIDTH,
                     dec->rss_type);
    if (dec->flags & HSNIC_RXC_RULE) {
        info = deposit32(info, HSNIC_RXI_RULE_SHIFT, HSNIC_RXI_RULE_WIDTH,
                         dec->rule);
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
        cmpl.rsc_l4off = cpu_to_le16(c->rsc_l4off);
        cmpl.rsc_inner = cpu_to_le16(c->rsc_inner);
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
    HsnicQueue *r = &s->rxq[q];
    uint64_t *st = s->rx_qstat[q];
    HsnicRxLayout lay;
    HsnicRxCmpl c;

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

    memset(&c, 0, sizeof(c));
    if (!hsnic_rx_place(s, q, buf, size, &lay, &c, dec)) {
        return hsnic_rx_drop(s, size, -1, "queue error");
    }
    return size;
}

/*
 * Write a frame whose buffers are posted into RX queue @q as @lay says,
 * and its completion: @c's RSC fields and flags, plus those of @lay and
 * @dec. Returns false on a queue error.
 */
bool hsnic_rx_place(HsnicState *s, unsigned q, const uint8_t *buf,
                    size_t size, const HsnicRxLayout *lay, HsnicRxCmpl *c,
                    const HsnicRxDecision *dec)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicQueue *r = &s->rxq[q];
    struct hsnic_rx_desc hdesc;
    uint32_t i, idx;
    size_t off;

    /* Local copies of every descriptor the frame uses. */
    if ((lay->flags & HSNIC_RXC_HDR) &&
        !hsnic_read_desc(s, q, true, r->hdr_addr, r->hdr_head, &hdesc,
                         sizeof(hdesc))) {
        return false;
    }
    for (i = 0, idx = r->head; i < lay->nbufs; i++) {
        if (!hsnic_read_desc(s, q, true, r->desc_addr, idx, &s->rx_desc[i],
                             sizeof(s->rx_desc[i]))) {
            return false;
        }
        idx = hsnic_ring_next(r, idx);
    }

    /* The data: header buffer first, then the payload buffers. */
    if (lay->hdr_bytes &&
        pci_dma_write(d, le64_to_cpu(hdesc.addr), buf, lay->hdr_bytes)) {
        trace_hsnic_err_ring_dma(q, "rx", "header buffer write",
                                 le64_to_cpu(hdesc.addr));
        hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
        return false;
    }
    off = lay->hdr_bytes;
    for (i = 0; i < lay->nbufs; i++) {
        uint64_t addr = le64_to_cpu(s->rx_desc[i].addr);
        size_t chunk = MIN(size - off, r->buf_len);

        if (pci_dma_write(d, addr, buf + off, chunk)) {
            trace_hsnic_err_ring_dma(q, "rx", "buffer write", addr);
            hsnic_queue_error(s, q, true, HSNIC_ERR_DMA);
            return false;
        }
        off += chunk;
    }

    c->flags |= lay->flags | dec->flags | dec->csum_flags;
    c->reason = lay->reason;
    if (!c->hlen) {
        c->hlen = lay->hlen;
    }
    c->hdr_bytes = lay->hdr_bytes;
    c->pay_bytes = lay->pay_bytes;
    c->nbufs = lay->nbufs;
    return hsnic_rx_complete(s, q, size, c, dec);
}

bool hsnic_rx_ready(HsnicState *s)
{
    return hsnic_dev_enabled(s) && hsnic_bus_master(s);
}

bool hsnic_can_receive(NetClientState *nc)
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
    /*
     * RSC takes the frame, or makes way for it: delivers its flow's
     * aggregate, and all of them if the frame needs their buffers.
     */
    if ((s->rxq[dec.queue].ctrl & HSNIC_RXQ_CTRL_RSC) &&
        s->rsc_receive(s, dec.queue, buf, size, &dec, &ret)) {
        return ret;
    }
    return hsnic_rx_deliver(s, dec.queue, buf, size, &dec);
}

/*
 * From the backend; with a vnet header peer (tap) every frame starts with
 * a struct virtio_net_hdr. The peer's offloads stay off, so it never
 * hands over GSO frames or partial checksums.
 */
ssize_t hsnic_receive(NetClientState *nc, const uint8_t *buf,
                      size_t size)
{
    HsnicState *s = qemu_get_nic_opaque(nc);
    struct virtio_net_hdr vhdr;
    size_t hl = s->has_vnet ? sizeof(vhdr) : 0;
    bool data_valid = false;
    ssize_t ret;

    if (!hsnic_rx_ready(s)) {
        s->rsc_flush_all(s, "rx stopped");
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
void hsnic_rx_bh(void *opaque)
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
