// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: the transmit hot path: ndo_start_xmit, XDP_TX, ndo_xdp_xmit and
 * TX completions. The receive side (hsnic_txrx.c) calls into it for
 * XDP_TX and for the TX completions its NAPI poll cleans; nothing here
 * calls back.
 */

#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/netdev_queues.h>
#include <net/netmem.h>
#include <net/page_pool/helpers.h>
#include <net/tcp.h>
#include <net/xdp.h>

#include "hsnic.h"

/* The device broke the ABI: stop trusting this queue pair and reset. */
void hsnic_qp_fault(struct hsnic_qp *qp, const char *fmt, ...)
{
	struct hsnic_priv *priv = qp->priv;
	struct va_format vaf;
	va_list args;

	if (!qp->faulted) {
		atomic64_inc(&priv->faults);
		va_start(args, fmt);
		vaf.fmt = fmt;
		vaf.va = &args;
		netdev_err(priv->netdev, "queue pair %u: %pV, resetting\n",
			   qp->idx, &vaf);
		va_end(args);
	}
	qp->faulted = true;
	hsnic_schedule_reset(priv);
}

/* ---- TX ---- */

static u32 hsnic_tx_unused(const struct hsnic_tx_ring *tx)
{
	return tx->mask - ((READ_ONCE(tx->tail) - READ_ONCE(tx->head)) &
			   tx->mask);
}

void hsnic_tx_unmap(struct device *dev, struct hsnic_tx_buf *buf)
{
	u32 len = dma_unmap_len(buf, len);

	if (!len)
		return;

	if (buf->head)
		dma_unmap_single(dev, dma_unmap_addr(buf, dma), len,
				 DMA_TO_DEVICE);
	else	/* a zero address stands for a net_iov: nothing to unmap */
		netmem_dma_unmap_page_attrs(dev, dma_unmap_addr(buf, dma), len,
					    DMA_TO_DEVICE, 0);
	dma_unmap_len_set(buf, len, 0);
}

static void hsnic_tx_doorbell(struct hsnic_tx_ring *tx)
{
	/* writel() orders the descriptor and record writes before the
	 * doorbell
	 */
	if (tx->db_rec)
		WRITE_ONCE(tx->db_rec->tx_tail, cpu_to_le32(tx->tail));
	writel(tx->tail, tx->db);
	tx->db_tail = tx->tail;
}

/* Frames queued with xmit_more wait for a later frame to ring the
 * doorbell; if that frame is dropped instead, ring it here.
 */
static void hsnic_tx_flush(struct hsnic_tx_ring *tx)
{
	if (tx->db_tail != tx->tail)
		hsnic_tx_doorbell(tx);
}

static void hsnic_tx_drop(struct hsnic_qp *qp)
{
	hsnic_tx_flush(&qp->tx);

	u64_stats_update_begin(&qp->tx_stats.xmit_syncp);
	qp->tx_stats.dropped++;
	u64_stats_update_end(&qp->tx_stats.xmit_syncp);
}

static int hsnic_tx_maybe_stop(struct hsnic_qp *qp, struct netdev_queue *txq,
			       u32 needed)
{
	struct hsnic_tx_ring *tx = &qp->tx;
	int res;

	res = netif_txq_maybe_stop(txq, hsnic_tx_unused(tx), needed,
				   tx->wake_thresh);
	if (!res) {
		u64_stats_update_begin(&qp->tx_stats.xmit_syncp);
		qp->tx_stats.stops++;
		u64_stats_update_end(&qp->tx_stats.xmit_syncp);
	}

	return res;
}

/* A buffer mapped here, to unmap on completion: skb heads and frags, and
 * ndo_xdp_xmit frames.
 */
static void hsnic_tx_put_desc(struct hsnic_tx_ring *tx, u32 idx,
			      dma_addr_t dma, u32 len, netmem_ref netmem,
			      enum hsnic_tx_type type)
{
	struct hsnic_tx_desc *desc = &tx->desc[idx];
	struct hsnic_tx_buf *buf = &tx->bufs[idx];

	buf->skb = NULL;
	buf->type = type;
	buf->last = false;
	buf->head = !netmem;
	if (netmem)
		netmem_dma_unmap_addr_set(netmem, buf, dma, dma);
	else
		dma_unmap_addr_set(buf, dma, dma);
	dma_unmap_len_set(buf, len, len);

	desc->addr = cpu_to_le64(dma);
	desc->len = cpu_to_le32(len);
	desc->cmd = 0;
}

/* Map the first @nr_frags frags of @sinfo onto descriptors from *@tail on,
 * skipping empty ones; *@last follows the last descriptor used. On a
 * mapping error returns false, with *@tail past what was posted so far
 * (the caller unmaps from its first descriptor up to *@tail).
 */
static bool hsnic_tx_map_frags(struct hsnic_tx_ring *tx, struct device *dev,
			       const struct skb_shared_info *sinfo,
			       u32 nr_frags, enum hsnic_tx_type type,
			       u32 *tail, u32 *last)
{
	u32 i, len;
	dma_addr_t dma;

	for (i = 0; i < nr_frags; i++) {
		const skb_frag_t *frag = &sinfo->frags[i];

		len = skb_frag_size(frag);
		if (!len)
			continue;
		/* net_iov frags come pre-mapped by their dma-buf binding */
		dma = skb_frag_dma_map(dev, frag, 0, len, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dma))
			return false;
		hsnic_tx_put_desc(tx, *tail, dma, len, skb_frag_netmem(frag),
				  type);
		*last = *tail;
		*tail = (*tail + 1) & tx->mask;
	}
	return true;
}

/* Close the frame that ends with descriptor @last. */
static void hsnic_tx_put_eop(struct hsnic_tx_ring *tx, u32 last, u32 bytes,
			     u16 segs)
{
	tx->desc[last].cmd |= cpu_to_le32(HSNIC_TXD_EOP);
	tx->bufs[last].last = true;
	tx->bufs[last].bytes = bytes;
	tx->bufs[last].segs = segs;
}

/* The device finds the L4 header by parsing the frame, so it can fill the
 * checksum of plain TCP or UDP over IPv4 or IPv6 only; everything else is
 * checksummed here.
 */
static bool hsnic_tx_csum_ok(const struct sk_buff *skb)
{
	u8 proto;

	if (skb->encapsulation)
		return false;

	switch (skb->protocol) {
	case htons(ETH_P_IP):
		proto = ip_hdr(skb)->protocol;
		break;
	case htons(ETH_P_IPV6):
		proto = ipv6_hdr(skb)->nexthdr;
		break;
	default:
		return false;
	}

	if (proto == IPPROTO_TCP)
		return skb->csum_offset == offsetof(struct tcphdr, check);
	if (proto == IPPROTO_UDP)
		return skb->csum_offset == offsetof(struct udphdr, check);
	return false;
}

netdev_features_t hsnic_features_check(struct sk_buff *skb,
				       struct net_device *netdev,
				       netdev_features_t features)
{
	/* the whole TSO frame must be a valid device frame */
	if (skb_is_gso(skb) &&
	    (skb->len > HSNIC_MAX_FRAME ||
	     skb_shinfo(skb)->gso_size < HSNIC_TSO_MIN_MSS))
		features &= ~NETIF_F_GSO_MASK;

	/* the device parses outer headers only */
	if (skb->encapsulation)
		features &= ~(NETIF_F_CSUM_MASK | NETIF_F_GSO_MASK);

	return features;
}

/* Offloads of @skb: the first descriptor's command, and the bytes and
 * packets the frame becomes on the wire. False: drop the frame.
 */
static bool hsnic_tx_offloads(struct sk_buff *skb, u32 *cmd, u32 *bytes,
			      u32 *segs)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	*bytes = skb->len;
	if (skb_is_gso(skb)) {
		/* hsnic_features_check() keeps unsuitable frames away */
		*segs = shinfo->gso_segs;
		*bytes += (*segs - 1) * skb_tcp_all_headers(skb);
		*cmd = HSNIC_TXD_TSO | HSNIC_TXD_CSUM |
		       FIELD_PREP(HSNIC_TXD_MSS_MASK, shinfo->gso_size);
	} else if (unlikely(skb->len > HSNIC_MAX_FRAME)) {
		return false;
	} else if (skb->ip_summed == CHECKSUM_PARTIAL) {
		if (hsnic_tx_csum_ok(skb))
			*cmd = HSNIC_TXD_CSUM;
		else if (skb_checksum_help(skb))
			return false;
	}

	return true;
}

static void hsnic_tx_count_offloads(struct hsnic_qp *qp, struct sk_buff *skb,
				    u32 cmd, u32 segs)
{
	u64_stats_update_begin(&qp->tx_stats.xmit_syncp);
	qp->tx_stats.csum++;
	if (cmd & HSNIC_TXD_TSO) {
		qp->tx_stats.tso_packets++;
		qp->tx_stats.tso_bytes += skb->len;
		qp->tx_stats.tso_segs += segs;
	}
	u64_stats_update_end(&qp->tx_stats.xmit_syncp);
}

netdev_tx_t hsnic_start_xmit(struct sk_buff *skb, struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_qp *qp = &priv->qps[skb_get_queue_mapping(skb)];
	struct netdev_queue *txq = netdev_get_tx_queue(netdev, qp->idx);
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 first, tail, last, len, i, nr_frags, cmd = 0, bytes, segs = 1;
	struct skb_shared_info *shinfo;
	dma_addr_t dma;

	if (unlikely(!tx->desc))
		goto drop;

	/* The device sends frames of 14 bytes and up as they are and needs
	 * no padding (docs/specs/hsnic.rst, "Transmit"); like virtio-net the
	 * driver sends short frames unpadded, so the peer's GRO can merge
	 * them (GRO does not merge a frame with bytes after its datagram).
	 */
	if (!hsnic_tx_offloads(skb, &cmd, &bytes, &segs))
		goto drop;

	/* a frame with unreadable (devmem) frags cannot be linearized and
	 * is dropped; only rings shorter than 2 * MAX_SKB_FRAGS need this
	 */
	if (skb_shinfo(skb)->nr_frags + 1 > tx->max_desc) {
		if (skb_linearize(skb))
			goto drop;
		u64_stats_update_begin(&qp->tx_stats.xmit_syncp);
		qp->tx_stats.linearized++;
		u64_stats_update_end(&qp->tx_stats.xmit_syncp);
	}
	/* skb_checksum_help() and skb_linearize() may have given the skb a
	 * new head, and the shared info with it: read it only now
	 */
	shinfo = skb_shinfo(skb);
	nr_frags = shinfo->nr_frags;

	/* the queue is stopped before the ring can run out, so this only
	 * catches a false wake-up
	 */
	if (unlikely(!hsnic_tx_maybe_stop(qp, txq, nr_frags + 1))) {
		hsnic_tx_flush(tx);
		return NETDEV_TX_BUSY;
	}

	first = tx->tail;
	tail = first;
	last = first;

	len = skb_headlen(skb);
	if (len) {
		dma = dma_map_single(dev, skb->data, len, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dma))
			goto unmap;
		hsnic_tx_put_desc(tx, tail, dma, len, 0, HSNIC_TX_SKB);
		last = tail;
		tail = (tail + 1) & tx->mask;
	}

	if (!hsnic_tx_map_frags(tx, dev, shinfo, nr_frags, HSNIC_TX_SKB,
				&tail, &last))
		goto unmap;

	if (unlikely(tail == first))
		goto drop;

	/* offloads are taken from the first descriptor */
	tx->desc[first].cmd = cpu_to_le32(cmd);
	hsnic_tx_put_eop(tx, last, bytes, segs);
	tx->bufs[last].skb = skb;

	if (cmd)
		hsnic_tx_count_offloads(qp, skb, cmd, segs);

	skb_tx_timestamp(skb);
	WRITE_ONCE(tx->tail, tail);

	/* make sure the next frame fits */
	hsnic_tx_maybe_stop(qp, txq, tx->max_desc);

	if (__netdev_tx_sent_queue(txq, bytes, netdev_xmit_more()))
		hsnic_tx_doorbell(tx);

	return NETDEV_TX_OK;

unmap:
	if (net_ratelimit())
		netdev_err(netdev, "TX DMA mapping failed\n");
	for (i = first; i != tail; i = (i + 1) & tx->mask)
		hsnic_tx_unmap(dev, &tx->bufs[i]);
drop:
	dev_kfree_skb_any(skb);
	hsnic_tx_drop(qp);
	return NETDEV_TX_OK;
}

/* ---- XDP transmit ---- */

/* Queue an XDP_TX frame on the queue pair's own TX ring. Its buffers are
 * page pool buffers of this queue pair, mapped by their pools (both ways
 * while an XDP program runs): each descriptor keeps its buffer until the
 * completion recycles it. Called from NAPI; false means nothing was queued
 * and the buffers are still the caller's.
 */
bool hsnic_xdp_tx(struct hsnic_qp *qp, struct xdp_buff *xdp)
{
	struct net_device *netdev = qp->priv->netdev;
	struct device *dev = &qp->priv->pdev->dev;
	struct netdev_queue *txq = netdev_get_tx_queue(netdev, qp->idx);
	struct hsnic_tx_ring *tx = &qp->tx;
	struct skb_shared_info *sinfo = NULL;
	u32 i, nr_frags = 0, tail, last, off, len;
	bool queued = false;
	netmem_ref netmem;
	dma_addr_t dma;

	if (unlikely(xdp_buff_has_frags(xdp))) {
		sinfo = xdp_get_shared_info_from_buff(xdp);
		nr_frags = sinfo->nr_frags;
	}
	if (unlikely(xdp_get_buff_len(xdp) > HSNIC_MAX_FRAME))
		return false;

	__netif_tx_lock(txq, smp_processor_id());

	if (unlikely(!tx->desc || hsnic_tx_unused(tx) < nr_frags + 1))
		goto out;

	tail = tx->tail;
	last = tail;
	for (i = 0; i <= nr_frags; i++) {
		if (!i) {
			/* a header buffer is a fragment of a page */
			struct page *page = virt_to_head_page(xdp->data);

			netmem = page_to_netmem(page);
			off = xdp->data - page_address(page);
			len = xdp->data_end - xdp->data;
		} else {
			skb_frag_t *frag = &sinfo->frags[i - 1];

			netmem = skb_frag_netmem(frag);
			off = skb_frag_off(frag);
			len = skb_frag_size(frag);
		}
		/* the program may have written to it */
		dma = page_pool_get_dma_addr_netmem(netmem);
		dma_sync_single_range_for_device(dev, dma, off, len,
						 DMA_BIDIRECTIONAL);
		dma += off;

		tx->bufs[tail].netmem = netmem;
		tx->bufs[tail].type = HSNIC_TX_XDP_TX;
		tx->bufs[tail].last = false;
		tx->bufs[tail].head = false;
		dma_unmap_len_set(&tx->bufs[tail], len, 0);
		tx->desc[tail].addr = cpu_to_le64(dma);
		tx->desc[tail].len = cpu_to_le32(len);
		tx->desc[tail].cmd = 0;
		last = tail;
		tail = (tail + 1) & tx->mask;
	}
	hsnic_tx_put_eop(tx, last, xdp_get_buff_len(xdp), 1);

	WRITE_ONCE(tx->tail, tail);
	txq_trans_cond_update(txq);
	/* keep room for the stack's next frame, see hsnic_start_xmit() */
	hsnic_tx_maybe_stop(qp, txq, tx->max_desc);
	queued = true;
out:
	__netif_tx_unlock(txq);
	return queued;
}

/* Ring the doorbell for the XDP_TX frames of a NAPI poll. */
void hsnic_xdp_tx_flush(struct hsnic_qp *qp)
{
	struct netdev_queue *txq;

	txq = netdev_get_tx_queue(qp->priv->netdev, qp->idx);
	__netif_tx_lock(txq, smp_processor_id());
	hsnic_tx_flush(&qp->tx);
	__netif_tx_unlock(txq);
}

/* Queue a frame redirected to us: TX queue lock held. */
static bool hsnic_xdp_xmit_frame(struct hsnic_qp *qp, struct xdp_frame *xdpf)
{
	struct device *dev = &qp->priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	struct skb_shared_info *sinfo = NULL;
	u32 i, nr_frags = 0, first, tail, last;
	dma_addr_t dma;

	if (unlikely(xdp_frame_has_frags(xdpf))) {
		sinfo = xdp_get_shared_info_from_frame(xdpf);
		nr_frags = sinfo->nr_frags;
	}
	if (unlikely(xdp_get_frame_len(xdpf) > HSNIC_MAX_FRAME ||
		     hsnic_tx_unused(tx) < nr_frags + 1))
		return false;

	first = tx->tail;
	tail = first;

	dma = dma_map_single(dev, xdpf->data, xdpf->len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, dma))
		return false;
	hsnic_tx_put_desc(tx, tail, dma, xdpf->len, 0, HSNIC_TX_XDP_FRAME);
	last = tail;
	tail = (tail + 1) & tx->mask;

	if (sinfo && !hsnic_tx_map_frags(tx, dev, sinfo, nr_frags,
					 HSNIC_TX_XDP_FRAME, &tail, &last))
		goto unmap;

	hsnic_tx_put_eop(tx, last, xdp_get_frame_len(xdpf), 1);
	tx->bufs[last].xdpf = xdpf;
	WRITE_ONCE(tx->tail, tail);
	return true;

unmap:
	for (i = first; i != tail; i = (i + 1) & tx->mask)
		hsnic_tx_unmap(dev, &tx->bufs[i]);
	return false;
}

/* ndo_xdp_xmit: frames other devices (or our own queues) redirect to us.
 * They go on the TX ring of the queue pair picked by the CPU, shared with
 * the stack under the TX queue lock. Returns how many of the first frames
 * were queued; the caller frees the others.
 */
int hsnic_xdp_xmit(struct net_device *netdev, int n,
		   struct xdp_frame **frames, u32 flags)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct netdev_queue *txq;
	unsigned int nqp, cpu;
	struct hsnic_qp *qp;
	int i;

	if (unlikely(flags & ~XDP_XMIT_FLAGS_MASK))
		return -EINVAL;

	/* pairs with smp_store_release() in hsnic_up(); hsnic_teardown()
	 * clears it and waits for us before it frees the rings
	 */
	nqp = smp_load_acquire(&priv->xdp_tx_qps);
	if (unlikely(!nqp))
		return -ENETDOWN;

	cpu = smp_processor_id();
	qp = &priv->qps[cpu % nqp];
	txq = netdev_get_tx_queue(netdev, qp->idx);

	__netif_tx_lock(txq, cpu);

	for (i = 0; i < n; i++)
		if (!hsnic_xdp_xmit_frame(qp, frames[i]))
			break;

	if (i) {
		txq_trans_cond_update(txq);
		hsnic_tx_maybe_stop(qp, txq, qp->tx.max_desc);
	}
	if (flags & XDP_XMIT_FLUSH)
		hsnic_tx_flush(&qp->tx);

	u64_stats_update_begin(&qp->tx_stats.xmit_syncp);
	qp->tx_stats.xdp_xmit += i;
	qp->tx_stats.xdp_xmit_errors += n - i;
	u64_stats_update_end(&qp->tx_stats.xmit_syncp);

	__netif_tx_unlock(txq);

	return i;
}

/* @head must move forward over in-flight descriptors only, and stop
 * right after the last descriptor of a frame.
 */
static bool hsnic_tx_head_valid(const struct hsnic_tx_ring *tx, u32 head)
{
	u32 in_flight = (READ_ONCE(tx->tail) - tx->head) & tx->mask;
	u32 done = (head - tx->head) & tx->mask;

	return head < tx->size && done && done <= in_flight &&
	       tx->bufs[(head - 1) & tx->mask].last;
}

/* Give back what a descriptor held once the device is done with it: from
 * NAPI with @bq, from process context without.
 */
void hsnic_tx_buf_free(struct hsnic_tx_buf *buf, int budget,
		       struct xdp_frame_bulk *bq)
{
	switch (buf->type) {
	case HSNIC_TX_SKB:
		if (!buf->skb)
			break;
		if (bq)
			napi_consume_skb(buf->skb, budget);
		else
			dev_kfree_skb_any(buf->skb);
		break;
	case HSNIC_TX_XDP_TX:
		/* the pool may be one a queue restart retired: it recycles
		 * directly only if it still belongs to the running NAPI
		 */
		page_pool_put_full_netmem(netmem_get_pp(buf->netmem),
					  buf->netmem, false);
		break;
	case HSNIC_TX_XDP_FRAME:
		if (!buf->xdpf)
			break;
		if (bq)
			xdp_return_frame_bulk(buf->xdpf, bq);
		else
			xdp_return_frame(buf->xdpf);
		break;
	}
	buf->skb = NULL;
	buf->type = HSNIC_TX_SKB;
	buf->last = false;
}

/* Completions freed descriptors: wake the TX queue if it waits for them,
 * and count what was sent.
 */
static void hsnic_tx_cleaned(struct hsnic_qp *qp, u32 bql_pkts, u32 bql_bytes,
			     u32 pkts, u32 bytes, u32 errors)
{
	struct net_device *netdev = qp->priv->netdev;
	struct hsnic_tx_ring *tx = &qp->tx;
	struct netdev_queue *txq;
	bool woken = false;

	/* XDP frames are not in BQL, but free descriptors all the same */
	txq = netdev_get_tx_queue(netdev, qp->idx);
	if (bql_pkts) {
		woken = !netif_txq_completed_wake(txq, bql_pkts, bql_bytes,
						  hsnic_tx_unused(tx),
						  tx->wake_thresh);
	} else {
		/* the barrier BQL would give, pairs with the one in
		 * netif_txq_try_stop()
		 */
		smp_mb();
		if (unlikely(netif_tx_queue_stopped(txq)) &&
		    hsnic_tx_unused(tx) >= tx->wake_thresh) {
			netif_tx_wake_queue(txq);
			woken = true;
		}
	}

	u64_stats_update_begin(&qp->tx_stats.syncp);
	qp->tx_stats.packets += pkts;
	qp->tx_stats.bytes += bytes;
	qp->tx_stats.errors += errors;
	qp->tx_stats.wakes += woken;
	u64_stats_update_end(&qp->tx_stats.syncp);
}

void hsnic_tx_clean(struct hsnic_qp *qp, int budget)
{
	struct device *dev = &qp->priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 pkts = 0, bytes = 0, errors = 0, frames = 0;
	u32 bql_pkts = 0, bql_bytes = 0;
	struct xdp_frame_bulk bq;

	if (!tx->cmpl)
		return;

	xdp_frame_bulk_init(&bq);

	for (;;) {
		struct hsnic_tx_cmpl *cmpl = &tx->cmpl[tx->cmpl_head];
		u16 flags = le16_to_cpu(READ_ONCE(cmpl->flags));
		u32 head, frame_bytes = 0, frame_segs = 0;
		u16 status;

		if (!!(flags & HSNIC_CMPL_GEN) != tx->cmpl_gen)
			break;
		/* read the rest of the completion after its GEN bit */
		dma_rmb();

		head = le32_to_cpu(cmpl->head);
		status = le16_to_cpu(cmpl->status);
		if (unlikely(!hsnic_tx_head_valid(tx, head))) {
			hsnic_qp_fault(qp, "bad TX completion head %u (head %u, tail %u)",
				       head, tx->head, READ_ONCE(tx->tail));
			break;
		}

		/* netpoll may poll with interrupts off, where pages cannot
		 * go back to a page pool: XDP frames wait for NAPI, whose
		 * interrupt this completion raised or will raise
		 */
		if (unlikely(!budget &&
			     tx->bufs[(head - 1) & tx->mask].type !=
			     HSNIC_TX_SKB))
			break;

		while (tx->head != head) {
			struct hsnic_tx_buf *buf = &tx->bufs[tx->head];

			hsnic_tx_unmap(dev, buf);
			if (buf->last) {
				frame_bytes += buf->bytes;
				frame_segs += buf->segs;
				if (buf->type == HSNIC_TX_SKB) {
					bql_pkts++;
					bql_bytes += buf->bytes;
				}
			}
			hsnic_tx_buf_free(buf, budget, &bq);
			WRITE_ONCE(tx->head, (tx->head + 1) & tx->mask);
		}
		frames++;

		if (likely(status == HSNIC_TX_OK)) {
			pkts += frame_segs;
			bytes += frame_bytes;
		} else {
			errors++;
		}

		if (++tx->cmpl_head == tx->size) {
			tx->cmpl_head = 0;
			tx->cmpl_gen = !tx->cmpl_gen;
		}
	}

	xdp_flush_frame_bulk(&bq);
	if (!frames)
		return;

	hsnic_tx_cleaned(qp, bql_pkts, bql_bytes, pkts, bytes, errors);
}
