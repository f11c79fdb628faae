// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: the receive hot path and NAPI: RX completions, skbs and XDP,
 * RX buffer refill, and the poll that also cleans TX completions
 * (hsnic_tx.c). The rings are set up and torn down in hsnic_queue.c.
 */

#include <linux/bitfield.h>
#include <linux/bpf_trace.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/log2.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/gro.h>
#include <net/ip6_checksum.h>
#include <net/netdev_queues.h>
#include <net/netmem.h>
#include <net/page_pool/helpers.h>
#include <net/tcp.h>
#include <net/xdp.h>

#include "hsnic.h"

/* XDP work a NAPI poll leaves for its end */
#define HSNIC_XDP_TX		BIT(0)	/* TX doorbell to ring */
#define HSNIC_XDP_REDIRECT	BIT(1)	/* xdp_do_flush() */

/* ---- RX buffers ---- */

/* Post buffers in the free slots of both rings; the caller rings the
 * doorbells. Returns the number of buffers that could not be allocated.
 */
u32 hsnic_rx_refill(struct hsnic_rx_ring *rx, gfp_t gfp)
{
	u32 fail = 0;

	gfp |= __GFP_NOWARN;

	while (hsnic_rx_posted(rx) < rx->fill) {
		netmem_ref netmem;

		netmem = page_pool_alloc_netmems(rx->pp, gfp);
		if (unlikely(!netmem)) {
			fail++;
			break;
		}
		rx->bufs[rx->tail] = netmem;
		rx->desc[rx->tail].addr =
			cpu_to_le64(page_pool_get_dma_addr_netmem(netmem) +
				    rx->headroom);
		rx->tail = (rx->tail + 1) & rx->mask;
	}

	if (!rx->hds)
		return fail;

	while (hsnic_hdr_posted(rx) < rx->mask) {
		struct hsnic_hdr_buf *hb = &rx->hdr_bufs[rx->hdr_tail];
		unsigned int offset;
		struct page *page;

		page = page_pool_alloc_frag(rx->hdr_pp, &offset,
					    HSNIC_HDR_TRUESIZE, gfp);
		if (unlikely(!page)) {
			fail++;
			break;
		}
		hb->page = page;
		hb->offset = offset;
		rx->hdr_desc[rx->hdr_tail].addr =
			cpu_to_le64(page_pool_get_dma_addr(page) + offset +
				    rx->hdr_headroom);
		rx->hdr_tail = (rx->hdr_tail + 1) & rx->mask;
	}

	return fail;
}

void hsnic_rx_kick(struct hsnic_rx_ring *rx)
{
	/* writel() orders the descriptor and record writes before the
	 * doorbells
	 */
	if (rx->db_rec) {
		WRITE_ONCE(rx->db_rec->rx_tail, cpu_to_le32(rx->tail));
		if (rx->hds)
			WRITE_ONCE(rx->db_rec->rx_hdr_tail,
				   cpu_to_le32(rx->hdr_tail));
	}
	writel(rx->tail, rx->db);
	if (rx->hds)
		writel(rx->hdr_tail, rx->hdr_db);
}

/* ---- RX completions ---- */

struct hsnic_rx_frame {
	u32 flags;
	u32 hdr_len;
	u32 pay_len;
	u32 nbufs;
};

/* Check a completion against what the driver posted, the way the ABI
 * says the device consumes buffers: strictly in ring order, one header
 * buffer per frame with header split, payload buffers filled completely
 * except the last one. Anything else is a device bug: the completion is
 * not trusted and the device is reset.
 */
static bool hsnic_rx_cmpl_valid(struct hsnic_qp *qp,
				const struct hsnic_rx_cmpl *cmpl,
				struct hsnic_rx_frame *f)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 hdr_idx = le16_to_cpu(cmpl->hdr_idx);
	u32 pay_idx = le16_to_cpu(cmpl->pay_idx);
	bool bad;
	u32 total;

	f->hdr_len = le16_to_cpu(cmpl->hdr_len);
	f->pay_len = le32_to_cpu(cmpl->pay_len);
	f->nbufs = le16_to_cpu(cmpl->pay_nbufs);

	if (rx->hds) {
		if (unlikely(!hsnic_hdr_posted(rx) || hdr_idx != rx->hdr_head)) {
			hsnic_qp_fault(qp, "bad RX header slot %u, expected %u",
				       hdr_idx, rx->hdr_head);
			return false;
		}
		if (unlikely(f->hdr_len > rx->hdr_buf_len)) {
			hsnic_qp_fault(qp, "bad RX header length %u", f->hdr_len);
			return false;
		}
		/* the header buffer stays empty exactly on a header
		 * overflow; otherwise it holds at least the Ethernet header
		 * of a frame that goes on in payload buffers, or
		 * eth_type_trans() would read garbage
		 */
		if (f->flags & HSNIC_RXC_HDR_OVF)
			bad = f->hdr_len || (f->flags & HSNIC_RXC_SPLIT);
		else
			bad = !f->hdr_len || !(f->flags & HSNIC_RXC_HDR) ||
			      (f->hdr_len < ETH_HLEN && f->pay_len);
		if (unlikely(bad)) {
			hsnic_qp_fault(qp, "bad RX header flags %#x for %u bytes",
				       f->flags, f->hdr_len);
			return false;
		}
	} else if (unlikely(f->hdr_len ||
			    (f->flags & (HSNIC_RXC_HDR | HSNIC_RXC_SPLIT |
					 HSNIC_RXC_HDR_OVF)))) {
		hsnic_qp_fault(qp, "RX header flags %#x without header split",
			       f->flags);
		return false;
	}

	if (unlikely(f->nbufs > hsnic_rx_posted(rx))) {
		hsnic_qp_fault(qp, "RX frame uses %u buffers, %u posted",
			       f->nbufs, hsnic_rx_posted(rx));
		return false;
	}
	/* pay_idx is only meaningful when the frame used payload buffers */
	if (unlikely(f->nbufs && pay_idx != rx->head)) {
		hsnic_qp_fault(qp, "bad RX payload slot %u, expected %u",
			       pay_idx, rx->head);
		return false;
	}
	if (unlikely(f->pay_len > f->nbufs * rx->buf_len ||
		     (f->nbufs && f->pay_len <= (f->nbufs - 1) * rx->buf_len))) {
		hsnic_qp_fault(qp, "bad RX payload length %u in %u buffers",
			       f->pay_len, f->nbufs);
		return false;
	}

	total = f->hdr_len + f->pay_len;
	if (unlikely(total < ETH_HLEN ||
		     total > ((f->flags & HSNIC_RXC_RSC) ? HSNIC_RSC_MAX_FRAME :
			      HSNIC_MAX_FRAME))) {
		hsnic_qp_fault(qp, "bad RX frame length %u", total);
		return false;
	}

	return true;
}

/* The skb head is the header buffer itself. */
static struct sk_buff *hsnic_rx_hdr_skb(struct hsnic_rx_ring *rx,
					const struct hsnic_hdr_buf *hb,
					u32 len)
{
	struct sk_buff *skb;

	page_pool_dma_sync_for_cpu(rx->hdr_pp, hb->page,
				   hb->offset + rx->hdr_headroom, len);

	skb = napi_build_skb(page_address(hb->page) + hb->offset,
			     HSNIC_HDR_TRUESIZE);
	if (unlikely(!skb)) {
		page_pool_recycle_direct(rx->hdr_pp, hb->page);
		return NULL;
	}

	skb_mark_for_recycle(skb);
	skb_reserve(skb, rx->hdr_headroom);
	__skb_put(skb, len);

	return skb;
}

/* No header buffer: copy the headers out of the first payload buffer into
 * a small head and attach the rest of that buffer as the first frag. This
 * keeps payload buffers whole, page-aligned pages in both modes, which the
 * memory providers and large rx_page_size need, at the cost of copying a
 * few hundred bytes per frame.
 */
static struct sk_buff *hsnic_rx_copy_skb(struct hsnic_qp *qp,
					 netmem_ref netmem, u32 len)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	struct sk_buff *skb;
	u32 copy = len;
	void *va;

	page_pool_dma_sync_netmem_for_cpu(rx->pp, netmem, 0, len);
	va = netmem_address(netmem);

	skb = napi_alloc_skb(&qp->napi, HSNIC_RX_COPY_LEN);
	if (unlikely(!skb)) {
		page_pool_recycle_direct_netmem(rx->pp, netmem);
		return NULL;
	}
	skb_mark_for_recycle(skb);

	if (len > HSNIC_RX_COPY_LEN)
		copy = eth_get_headlen(qp->priv->netdev, va, HSNIC_RX_COPY_LEN);
	memcpy(__skb_put(skb, copy), va, copy);

	if (copy < len)
		skb_add_rx_frag_netmem(skb, 0, netmem, copy, len - copy,
				       rx->page_len);
	else
		page_pool_recycle_direct_netmem(rx->pp, netmem);

	return skb;
}

/* Turn the buffers of a validated completion into an skb. Every buffer
 * the frame used is consumed, whatever happens; NULL means the frame was
 * dropped and counted.
 */
static struct sk_buff *hsnic_rx_build(struct hsnic_qp *qp,
				      const struct hsnic_rx_frame *f,
				      struct hsnic_rx_stats *st)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	struct hsnic_hdr_buf hb = {};
	struct sk_buff *skb = NULL;
	u32 left = f->pay_len;
	bool drop = false;
	u32 i;

	if (rx->hds) {
		hb = rx->hdr_bufs[rx->hdr_head];
		rx->hdr_bufs[rx->hdr_head].page = NULL;
		rx->hdr_head = (rx->hdr_head + 1) & rx->mask;
	}

	if (f->hdr_len) {
		skb = hsnic_rx_hdr_skb(rx, &hb, f->hdr_len);
		if (unlikely(!skb)) {
			st->dropped++;
			drop = true;
		}
	} else if (hb.page) {
		/* header overflow: the header buffer stayed empty */
		page_pool_recycle_direct(rx->hdr_pp, hb.page);
	}

	for (i = 0; i < f->nbufs; i++) {
		netmem_ref netmem = rx->bufs[rx->head];
		u32 len = min(left, rx->buf_len);

		rx->bufs[rx->head] = 0;
		rx->head = (rx->head + 1) & rx->mask;
		left -= len;

		if (drop) {
			page_pool_recycle_direct_netmem(rx->pp, netmem);
			continue;
		}

		if (!skb) {
			/* the headers are in this buffer: the CPU must be
			 * able to read them
			 */
			if (unlikely(netmem_is_net_iov(netmem))) {
				page_pool_recycle_direct_netmem(rx->pp, netmem);
				st->hdr_unreadable++;
				st->dropped++;
				drop = true;
				continue;
			}
			skb = hsnic_rx_copy_skb(qp, netmem, len);
			if (unlikely(!skb)) {
				st->dropped++;
				drop = true;
			}
			continue;
		}

		if (unlikely(skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS)) {
			page_pool_recycle_direct_netmem(rx->pp, netmem);
			st->dropped++;
			drop = true;
			continue;
		}

		page_pool_dma_sync_netmem_for_cpu(rx->pp, netmem, 0, len);
		skb_add_rx_frag_netmem(skb, skb_shinfo(skb)->nr_frags, netmem,
				       0, len, rx->page_len);
	}

	if (unlikely(drop)) {
		if (skb)
			dev_kfree_skb_any(skb);
		return NULL;
	}

	st->packets++;
	st->bytes += skb->len;
	skb_record_rx_queue(skb, qp->idx);
	skb->protocol = eth_type_trans(skb, qp->priv->netdev);

	return skb;
}

/* Gather the buffers of a validated completion into @xdp, for a queue laid
 * out for XDP: the header buffer with header split, else the first payload
 * buffer, is the linear part; the payload buffers (after it) are frags.
 * Every buffer the frame used is consumed; false means the frame was
 * dropped and counted.
 */
static bool hsnic_rx_xdp_buff(struct hsnic_qp *qp,
			      const struct hsnic_rx_frame *f,
			      struct xdp_buff *xdp, struct hsnic_rx_stats *st)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 left = f->pay_len, i;
	bool drop = false;

	if (rx->hds) {
		struct hsnic_hdr_buf hb = rx->hdr_bufs[rx->hdr_head];

		rx->hdr_bufs[rx->hdr_head].page = NULL;
		rx->hdr_head = (rx->hdr_head + 1) & rx->mask;

		page_pool_dma_sync_for_cpu(rx->hdr_pp, hb.page,
					   hb.offset + rx->hdr_headroom,
					   f->hdr_len);
		xdp_init_buff(xdp, HSNIC_HDR_TRUESIZE, &rx->xdp_rxq);
		xdp_prepare_buff(xdp, page_address(hb.page) + hb.offset,
				 rx->hdr_headroom, f->hdr_len, true);
	}

	for (i = 0; i < f->nbufs; i++) {
		netmem_ref netmem = rx->bufs[rx->head];
		u32 len = min(left, rx->buf_len);
		u32 off = rx->headroom;

		rx->bufs[rx->head] = 0;
		rx->head = (rx->head + 1) & rx->mask;
		left -= len;

		if (drop) {
			page_pool_recycle_direct_netmem(rx->pp, netmem);
			continue;
		}

		page_pool_dma_sync_netmem_for_cpu(rx->pp, netmem, 0, len);

		if (!i && !rx->hds) {
			xdp_init_buff(xdp, rx->page_len, &rx->xdp_rxq);
			xdp_prepare_buff(xdp, netmem_address(netmem), off, len,
					 true);
			continue;
		}

		if (!i && !f->hdr_len) {
			/* header overflow: the program wants the headers in
			 * the linear part, so copy what fits
			 */
			u32 copy = min(len, rx->hdr_buf_len);

			memcpy(xdp->data, netmem_address(netmem) + off, copy);
			xdp->data_end += copy;
			off += copy;
			len -= copy;
			if (!len) {
				page_pool_recycle_direct_netmem(rx->pp, netmem);
				continue;
			}
		}

		if (unlikely(!xdp_buff_add_frag(xdp, netmem, off, len,
						rx->page_len))) {
			page_pool_recycle_direct_netmem(rx->pp, netmem);
			drop = true;
		}
	}

	if (unlikely(drop)) {
		xdp_return_buff(xdp);
		st->dropped++;
		return false;
	}

	return true;
}

/* Run the XDP program on a frame of a queue laid out for XDP. Returns the
 * skb to pass up, or NULL when the program (or an error) consumed the
 * frame; counts the verdict and sets in @pending what the end of the NAPI
 * poll must flush.
 */
static struct sk_buff *hsnic_rx_xdp(struct hsnic_qp *qp,
				    const struct hsnic_rx_frame *f,
				    struct hsnic_rx_stats *st, u32 *pending)
{
	struct net_device *netdev = qp->priv->netdev;
	struct bpf_prog *prog;
	struct xdp_buff xdp;
	struct sk_buff *skb;
	u32 act;

	if (!hsnic_rx_xdp_buff(qp, f, &xdp, st))
		return NULL;

	/* NULL only while the program is being detached: the queues are
	 * about to be re-created without XDP
	 */
	prog = READ_ONCE(qp->priv->xdp_prog);
	if (unlikely(prog && xdp_buff_has_frags(&xdp) &&
		     !prog->aux->xdp_has_frags)) {
		/* longer than the MTU the program accepted */
		xdp_return_buff(&xdp);
		st->dropped++;
		return NULL;
	}

	/* XDP is the first layer of the stack: count what reaches it */
	st->packets++;
	st->bytes += f->hdr_len + f->pay_len;

	act = prog ? bpf_prog_run_xdp(prog, &xdp) : XDP_PASS;
	switch (act) {
	case XDP_PASS:
		st->xdp_pass += !!prog;
		break;
	case XDP_TX:
		st->xdp_tx++;
		if (likely(hsnic_xdp_tx(qp, &xdp))) {
			*pending |= HSNIC_XDP_TX;
			return NULL;
		}
		st->xdp_tx_errors++;
		goto exception;
	case XDP_REDIRECT:
		st->xdp_redirect++;
		if (likely(!xdp_do_redirect(netdev, &xdp, prog))) {
			*pending |= HSNIC_XDP_REDIRECT;
			return NULL;
		}
		st->xdp_redirect_errors++;
		goto exception;
	default:
		bpf_warn_invalid_xdp_action(netdev, prog, act);
		fallthrough;
	case XDP_ABORTED:
		st->xdp_aborted++;
exception:
		trace_xdp_exception(netdev, prog, act);
		xdp_return_buff(&xdp);
		return NULL;
	case XDP_DROP:
		st->xdp_drop++;
		xdp_return_buff(&xdp);
		return NULL;
	}

	/* the linear part becomes the skb head, frags included; sets the
	 * protocol and the queue
	 */
	skb = xdp_build_skb_from_buff(&xdp);
	if (unlikely(!skb)) {
		xdp_return_buff(&xdp);
		st->dropped++;
	}

	return skb;
}

static enum pkt_hash_types hsnic_rss_hash_type(u16 info)
{
	switch (FIELD_GET(HSNIC_RXI_RSS_TYPE_MASK, info)) {
	case HSNIC_RSS_TYPE_TCPV4:
	case HSNIC_RSS_TYPE_UDPV4:
	case HSNIC_RSS_TYPE_TCPV6:
	case HSNIC_RSS_TYPE_UDPV6:
		return PKT_HASH_TYPE_L4;
	case HSNIC_RSS_TYPE_IPV4:
	case HSNIC_RSS_TYPE_IPV6:
		return PKT_HASH_TYPE_L3;
	default:
		return PKT_HASH_TYPE_NONE;
	}
}

static void hsnic_rx_offloads(struct net_device *netdev, struct sk_buff *skb,
			      const struct hsnic_rx_cmpl *cmpl, u32 flags,
			      struct hsnic_rx_stats *st)
{
	netdev_features_t features = netdev->features;
	u16 info = le16_to_cpu(cmpl->info);
	enum pkt_hash_types type;

	if (!(features & NETIF_F_RXCSUM)) {
		st->csum_none++;
	} else if (unlikely(flags & HSNIC_RXC_CSUM_BAD)) {
		/* let the stack find out and count it where it belongs */
		st->csum_bad++;
	} else if (flags & HSNIC_RXC_L4_CSUM_OK) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		st->csum_ok++;
	} else {
		st->csum_none++;
	}

	if ((features & NETIF_F_RXHASH) && (flags & HSNIC_RXC_RSS)) {
		type = hsnic_rss_hash_type(info);
		if (type != PKT_HASH_TYPE_NONE)
			skb_set_hash(skb, le32_to_cpu(cmpl->rss_hash), type);
	}
}

/* A frame the device coalesced (HSNIC_RXC_RSC): make it the GSO skb that
 * GRO would have built (see bnxt_gro_skb() and inet_gro_complete(),
 * ipip_gro_complete()), so that it can be forwarded or resegmented. The
 * device names the TCP header (rsc_l4off) and, for IPIP/IP6IP6, the inner
 * IP header (rsc_inner). It left the first segment's TCP checksum in
 * place; CHECKSUM_PARTIAL wants the pseudo-header sum there. The headers
 * are in the linear part: the header buffer with header split, a copy
 * otherwise; the payload may be unreadable (devmem), it is not touched.
 */
static struct sk_buff *hsnic_rx_rsc(struct hsnic_qp *qp, struct sk_buff *skb,
				    const struct hsnic_rx_cmpl *cmpl,
				    struct hsnic_rx_stats *st)
{
	u16 segs = le16_to_cpu(cmpl->rsc_segs);
	u16 mss = le16_to_cpu(cmpl->rsc_mss);
	u32 hlen = le16_to_cpu(cmpl->hlen);
	u32 l4off = le16_to_cpu(cmpl->rsc_l4off);
	u32 inner = le16_to_cpu(cmpl->rsc_inner);
	u32 flags = le32_to_cpu(cmpl->flags);
	unsigned int nhoff, thoff, len, gso = 0;
	struct tcphdr *th;
	bool outer6, ip6;

	switch (skb->protocol) {
	case htons(ETH_P_IP):
		outer6 = false;
		break;
	case htons(ETH_P_IPV6):
		outer6 = true;
		break;
	default:
		goto bad;
	}
	if (unlikely(segs < 2 || !mss || l4off < ETH_HLEN + sizeof(struct iphdr) ||
		     l4off + sizeof(struct tcphdr) > hlen ||
		     skb_headlen(skb) < hlen - ETH_HLEN))
		goto bad;
	thoff = l4off - ETH_HLEN;
	nhoff = 0;
	ip6 = outer6;
	if (inner) {
		if (unlikely(inner < ETH_HLEN + sizeof(struct iphdr) ||
			     inner + sizeof(struct iphdr) > l4off))
			goto bad;
		nhoff = inner - ETH_HLEN;
		ip6 = (skb->data[nhoff] >> 4) == 6;
		if (unlikely(ip6 && nhoff + sizeof(struct ipv6hdr) > thoff))
			goto bad;
		skb->encapsulation = 1;
		skb_set_inner_protocol(skb, ip6 ? htons(ETH_P_IPV6) :
					    htons(ETH_P_IP));
		skb_set_inner_network_header(skb, nhoff);
		gso |= outer6 ? SKB_GSO_IPXIP6 : SKB_GSO_IPXIP4;
	}
	if (ip6) {
		gso |= SKB_GSO_TCPV6;
	} else {
		gso |= SKB_GSO_TCPV4;
		if (flags & HSNIC_RXC_RSC_FIXEDID)
			gso |= SKB_GSO_TCP_FIXEDID;
		if (flags & HSNIC_RXC_RSC_FIXEDID_IN)
			gso |= SKB_GSO_TCP_FIXEDID_INNER;
	}
	skb_shinfo(skb)->gso_type = gso;

	skb_set_network_header(skb, 0);
	skb_set_transport_header(skb, thoff);
	th = tcp_hdr(skb);
	len = skb->len - thoff;
	if (!ip6) {
		const struct iphdr *iph = (void *)(skb->data + nhoff);

		th->check = ~tcp_v4_check(len, iph->saddr, iph->daddr, 0);
	} else {
		const struct ipv6hdr *iph = (void *)(skb->data + nhoff);

		th->check = ~tcp_v6_check(len, &iph->saddr, &iph->daddr, 0);
	}

	/* rx-packets and rx-bytes count wire packets (netdev.yaml): the
	 * frame was counted as one, it was segs of them
	 */
	st->packets += segs - 1;
	st->bytes += (segs - 1) * hlen;
	st->gro_hw_packets++;
	st->gro_hw_bytes += skb->len + ETH_HLEN;
	st->gro_hw_wire_packets += segs;
	st->gro_hw_wire_bytes += skb->len + ETH_HLEN + (segs - 1) * hlen;

	NAPI_GRO_CB(skb)->count = segs;
	skb_shinfo(skb)->gso_size = mss;
	tcp_gro_complete(skb);
	return skb;

bad:
	/* the device broke its promise: count it, let the stack drop it */
	net_warn_ratelimited("%s: bad coalesced frame (%u segments, mss %u, headers %u)\n",
			     netdev_name(qp->priv->netdev), segs, mss, hlen);
	st->errors++;
	dev_kfree_skb_any(skb);
	return NULL;
}

static int hsnic_rx_poll(struct hsnic_qp *qp, int budget)
{
	struct net_device *netdev = qp->priv->netdev;
	struct hsnic_rx_ring *rx = &qp->rx;
	struct hsnic_rx_stats st = {};
	u32 xdp_pending = 0;
	int done = 0;

	while (done < budget) {
		struct hsnic_rx_cmpl *cmpl = &rx->cmpl[rx->cmpl_head];
		struct hsnic_rx_frame f;
		struct sk_buff *skb;

		f.flags = le32_to_cpu(READ_ONCE(cmpl->flags));
		if (!!(f.flags & HSNIC_CMPL_GEN) != rx->cmpl_gen)
			break;
		/* read the rest of the completion after its GEN bit */
		dma_rmb();

		if (unlikely(!hsnic_rx_cmpl_valid(qp, cmpl, &f))) {
			st.errors++;
			break;
		}

		if (++rx->cmpl_head == rx->size) {
			rx->cmpl_head = 0;
			rx->cmpl_gen = !rx->cmpl_gen;
		}
		done++;

		if (rx->xdp)
			skb = hsnic_rx_xdp(qp, &f, &st, &xdp_pending);
		else
			skb = hsnic_rx_build(qp, &f, &st);
		if (!skb)
			continue;

		hsnic_rx_offloads(netdev, skb, cmpl, f.flags, &st);
		if (f.flags & HSNIC_RXC_RSC) {
			skb = hsnic_rx_rsc(qp, skb, cmpl, &st);
			if (!skb)
				continue;
		}
		napi_gro_receive(&qp->napi, skb);
	}

	if (xdp_pending & HSNIC_XDP_TX)
		hsnic_xdp_tx_flush(qp);
	if (xdp_pending & HSNIC_XDP_REDIRECT)
		xdp_do_flush();

	if (done || st.errors) {
		struct hsnic_rx_stats *s = &qp->rx_stats;

		u64_stats_update_begin(&s->syncp);
		s->packets += st.packets;
		s->bytes += st.bytes;
		s->dropped += st.dropped;
		s->errors += st.errors;
		s->hdr_unreadable += st.hdr_unreadable;
		s->csum_ok += st.csum_ok;
		s->csum_bad += st.csum_bad;
		s->csum_none += st.csum_none;
		s->gro_hw_packets += st.gro_hw_packets;
		s->gro_hw_bytes += st.gro_hw_bytes;
		s->gro_hw_wire_packets += st.gro_hw_wire_packets;
		s->gro_hw_wire_bytes += st.gro_hw_wire_bytes;
		s->xdp_pass += st.xdp_pass;
		s->xdp_drop += st.xdp_drop;
		s->xdp_tx += st.xdp_tx;
		s->xdp_redirect += st.xdp_redirect;
		s->xdp_aborted += st.xdp_aborted;
		s->xdp_tx_errors += st.xdp_tx_errors;
		s->xdp_redirect_errors += st.xdp_redirect_errors;
		u64_stats_update_end(&s->syncp);
	}

	return done;
}

/* Refill from NAPI. Returns true when a ring could not be filled: the
 * device may then be waiting for buffers and raise no interrupt, so the
 * caller retries from a timer.
 */
static bool hsnic_rx_refill_napi(struct hsnic_qp *qp)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 tail = rx->tail, hdr_tail = rx->hdr_tail, fail;
	u32 batch = clamp_t(u32, rx->fill / 4, 1, HSNIC_RX_REFILL_BATCH);

	/* one doorbell per batch of buffers, not one per poll */
	if (rx->fill - hsnic_rx_posted(rx) < batch &&
	    (!rx->hds || rx->mask - hsnic_hdr_posted(rx) < batch))
		return false;

	fail = hsnic_rx_refill(rx, GFP_ATOMIC);
	if (rx->tail != tail || rx->hdr_tail != hdr_tail)
		hsnic_rx_kick(rx);

	if (unlikely(fail)) {
		u64_stats_update_begin(&qp->rx_stats.syncp);
		qp->rx_stats.alloc_fail += fail;
		u64_stats_update_end(&qp->rx_stats.syncp);
	}

	return fail;
}

/* ---- NAPI ---- */

int hsnic_poll(struct napi_struct *napi, int budget)
{
	struct hsnic_qp *qp = container_of(napi, struct hsnic_qp, napi);
	struct hsnic_priv *priv = qp->priv;
	bool starved = false;
	int work_done = 0;

	if (likely(!qp->faulted))
		hsnic_tx_clean(qp, budget);

	/* budget 0 means netpoll: TX completions only */
	if (likely(!qp->faulted) && budget && qp->rx.cmpl) {
		work_done = hsnic_rx_poll(qp, budget);
		if (likely(!qp->faulted))
			starved = hsnic_rx_refill_napi(qp);
	}

	if (work_done < budget && napi_complete_done(napi, work_done) &&
	    likely(!qp->faulted)) {
		hsnic_wr32(priv, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(qp->idx)),
			   HSNIC_IRQ_ARM);
		if (unlikely(starved))
			mod_timer(&qp->refill_timer,
				  jiffies + HSNIC_REFILL_DELAY);
	}

	return work_done;
}

void hsnic_refill_timer(struct timer_list *t)
{
	struct hsnic_qp *qp = timer_container_of(qp, t, refill_timer);

	napi_schedule(&qp->napi);
}

irqreturn_t hsnic_qp_irq(int irq, void *data)
{
	struct hsnic_qp *qp = data;

	/* the device disarmed the vector when it fired */
	napi_schedule_irqoff(&qp->napi);

	return IRQ_HANDLED;
}
