// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: descriptor rings, transmit, receive and NAPI. */

#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/netdev_queues.h>
#include <net/page_pool/helpers.h>

#include "hsnic.h"

static void hsnic_qp_fault(struct hsnic_qp *qp, const char *what,
			   u32 val, u32 expected)
{
	struct hsnic_priv *priv = qp->priv;

	if (!qp->faulted)
		netdev_err(priv->netdev,
			   "queue pair %u: %s (%u, expected %u), resetting\n",
			   qp->idx, what, val, expected);
	qp->faulted = true;
	hsnic_schedule_reset(priv);
}

/* ---- TX ---- */

static u32 hsnic_tx_unused(const struct hsnic_tx_ring *tx)
{
	return tx->mask - ((READ_ONCE(tx->tail) - READ_ONCE(tx->head)) &
			   tx->mask);
}

static void hsnic_tx_unmap(struct device *dev, struct hsnic_tx_buf *buf)
{
	if (!dma_unmap_len(buf, len))
		return;

	if (buf->frag)
		dma_unmap_page(dev, dma_unmap_addr(buf, dma),
			       dma_unmap_len(buf, len), DMA_TO_DEVICE);
	else
		dma_unmap_single(dev, dma_unmap_addr(buf, dma),
				 dma_unmap_len(buf, len), DMA_TO_DEVICE);
	dma_unmap_len_set(buf, len, 0);
}

static void hsnic_tx_doorbell(struct hsnic_tx_ring *tx)
{
	/* descriptors must be visible before the device sees the tail */
	dma_wmb();
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

static void hsnic_tx_put_desc(struct hsnic_tx_ring *tx, u32 idx,
			      dma_addr_t dma, u32 len, bool frag)
{
	struct hsnic_tx_desc *desc = &tx->desc[idx];
	struct hsnic_tx_buf *buf = &tx->bufs[idx];

	buf->skb = NULL;
	buf->frag = frag;
	dma_unmap_addr_set(buf, dma, dma);
	dma_unmap_len_set(buf, len, len);

	desc->addr = cpu_to_le64(dma);
	desc->len = cpu_to_le32(len);
	desc->cmd = 0;
}

netdev_tx_t hsnic_start_xmit(struct sk_buff *skb, struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_qp *qp = &priv->qps[skb_get_queue_mapping(skb)];
	struct netdev_queue *txq = netdev_get_tx_queue(netdev, qp->idx);
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 first, tail, last, len, i, nr_frags;
	struct skb_shared_info *shinfo;
	dma_addr_t dma;

	if (skb_put_padto(skb, ETH_ZLEN))
		goto drop_freed;

	if (unlikely(skb->len > HSNIC_MAX_FRAME))
		goto drop;

	if (skb_shinfo(skb)->nr_frags + 1 > tx->max_desc &&
	    skb_linearize(skb))
		goto drop;

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
		hsnic_tx_put_desc(tx, tail, dma, len, false);
		last = tail;
		tail = (tail + 1) & tx->mask;
	}

	for (i = 0; i < nr_frags; i++) {
		skb_frag_t *frag = &shinfo->frags[i];

		len = skb_frag_size(frag);
		if (!len)
			continue;
		dma = skb_frag_dma_map(dev, frag, 0, len, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dma))
			goto unmap;
		hsnic_tx_put_desc(tx, tail, dma, len, true);
		last = tail;
		tail = (tail + 1) & tx->mask;
	}

	if (unlikely(tail == first))
		goto drop;

	tx->desc[last].cmd = cpu_to_le32(HSNIC_TXD_EOP);
	tx->bufs[last].skb = skb;

	skb_tx_timestamp(skb);
	WRITE_ONCE(tx->tail, tail);

	/* make sure the next frame fits */
	hsnic_tx_maybe_stop(qp, txq, tx->max_desc);

	if (__netdev_tx_sent_queue(txq, skb->len, netdev_xmit_more()))
		hsnic_tx_doorbell(tx);

	return NETDEV_TX_OK;

unmap:
	if (net_ratelimit())
		netdev_err(netdev, "TX DMA mapping failed\n");
	for (i = first; i != tail; i = (i + 1) & tx->mask)
		hsnic_tx_unmap(dev, &tx->bufs[i]);
drop:
	dev_kfree_skb_any(skb);
drop_freed:
	hsnic_tx_drop(qp);
	return NETDEV_TX_OK;
}

/* @head must move forward over in-flight descriptors only, and stop
 * right after the last descriptor of a frame.
 */
static bool hsnic_tx_head_valid(const struct hsnic_tx_ring *tx, u32 head)
{
	u32 in_flight = (READ_ONCE(tx->tail) - tx->head) & tx->mask;
	u32 done = (head - tx->head) & tx->mask;

	return head < tx->size && done && done <= in_flight &&
	       tx->bufs[(head - 1) & tx->mask].skb;
}

static void hsnic_tx_clean(struct hsnic_qp *qp, int budget)
{
	struct net_device *netdev = qp->priv->netdev;
	struct device *dev = &qp->priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 pkts = 0, bytes = 0, errors = 0;
	u32 bql_pkts = 0, bql_bytes = 0;
	struct netdev_queue *txq;

	for (;;) {
		struct hsnic_tx_cmpl *cmpl = &tx->cmpl[tx->cmpl_head];
		u16 flags = le16_to_cpu(READ_ONCE(cmpl->flags));
		u32 head, frame_bytes = 0;
		u16 status;

		if (!!(flags & HSNIC_CMPL_GEN) != tx->cmpl_gen)
			break;
		/* read the rest of the completion after its GEN bit */
		dma_rmb();

		head = le32_to_cpu(cmpl->head);
		status = le16_to_cpu(cmpl->status);
		if (unlikely(!hsnic_tx_head_valid(tx, head))) {
			hsnic_qp_fault(qp, "bad TX completion head", head,
				       tx->head);
			break;
		}

		while (tx->head != head) {
			struct hsnic_tx_buf *buf = &tx->bufs[tx->head];

			hsnic_tx_unmap(dev, buf);
			if (buf->skb) {
				bql_pkts++;
				frame_bytes += buf->skb->len;
				napi_consume_skb(buf->skb, budget);
				buf->skb = NULL;
			}
			tx->head = (tx->head + 1) & tx->mask;
		}
		bql_bytes += frame_bytes;

		if (likely(status == HSNIC_TX_OK)) {
			pkts++;
			bytes += frame_bytes;
		} else {
			errors++;
		}

		if (++tx->cmpl_head == tx->size) {
			tx->cmpl_head = 0;
			tx->cmpl_gen = !tx->cmpl_gen;
		}
	}

	if (!bql_pkts)
		return;

	u64_stats_update_begin(&qp->tx_stats.syncp);
	qp->tx_stats.packets += pkts;
	qp->tx_stats.bytes += bytes;
	qp->tx_stats.errors += errors;
	u64_stats_update_end(&qp->tx_stats.syncp);

	txq = netdev_get_tx_queue(netdev, qp->idx);
	netif_txq_completed_wake(txq, bql_pkts, bql_bytes, hsnic_tx_unused(tx),
				 tx->wake_thresh);
}

static int hsnic_tx_alloc(struct hsnic_qp *qp)
{
	struct hsnic_priv *priv = qp->priv;
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 size = priv->tx_ring_size;

	memset(tx, 0, sizeof(*tx));
	tx->size = size;
	tx->mask = size - 1;
	tx->max_desc = min_t(u32, MAX_SKB_FRAGS + 1, tx->mask / 2);
	tx->wake_thresh = min(2 * tx->max_desc, tx->mask);
	tx->cmpl_gen = true;
	tx->db = priv->regs + HSNIC_DB_TX(qp->idx);

	tx->bufs = kvcalloc(size, sizeof(*tx->bufs), GFP_KERNEL);
	if (!tx->bufs)
		return -ENOMEM;

	tx->desc = dma_alloc_coherent(dev, size * sizeof(*tx->desc),
				      &tx->desc_dma, GFP_KERNEL);
	if (!tx->desc)
		goto err_free_bufs;

	tx->cmpl = dma_alloc_coherent(dev, size * sizeof(*tx->cmpl),
				      &tx->cmpl_dma, GFP_KERNEL);
	if (!tx->cmpl)
		goto err_free_desc;

	return 0;

err_free_desc:
	dma_free_coherent(dev, size * sizeof(*tx->desc), tx->desc,
			  tx->desc_dma);
	tx->desc = NULL;
err_free_bufs:
	kvfree(tx->bufs);
	tx->bufs = NULL;
	return -ENOMEM;
}

static void hsnic_tx_free(struct hsnic_qp *qp)
{
	struct hsnic_priv *priv = qp->priv;
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;

	if (!tx->bufs)
		return;

	while (tx->head != tx->tail) {
		struct hsnic_tx_buf *buf = &tx->bufs[tx->head];

		hsnic_tx_unmap(dev, buf);
		if (buf->skb) {
			dev_kfree_skb_any(buf->skb);
			buf->skb = NULL;
		}
		tx->head = (tx->head + 1) & tx->mask;
	}
	netdev_tx_reset_queue(netdev_get_tx_queue(priv->netdev, qp->idx));

	dma_free_coherent(dev, tx->size * sizeof(*tx->cmpl), tx->cmpl,
			  tx->cmpl_dma);
	dma_free_coherent(dev, tx->size * sizeof(*tx->desc), tx->desc,
			  tx->desc_dma);
	kvfree(tx->bufs);
	memset(tx, 0, sizeof(*tx));
}

/* ---- RX ---- */

static u32 hsnic_rx_posted(const struct hsnic_rx_ring *rx)
{
	return (rx->tail - rx->head) & rx->mask;
}

/* Post buffers in every free slot; the caller rings the doorbell. */
static void hsnic_rx_refill(struct hsnic_qp *qp, gfp_t gfp)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 fail = 0;

	while (hsnic_rx_posted(rx) < rx->mask) {
		struct hsnic_rx_desc *desc = &rx->desc[rx->tail];
		struct page *page;

		page = page_pool_alloc_pages(rx->pp, gfp | __GFP_NOWARN);
		if (unlikely(!page)) {
			fail++;
			break;
		}

		rx->pages[rx->tail] = page;
		desc->addr = cpu_to_le64(page_pool_get_dma_addr(page) +
					 HSNIC_RX_HEADROOM);
		desc->len = cpu_to_le32(HSNIC_RX_BUF_LEN);
		desc->rsvd = 0;
		rx->tail = (rx->tail + 1) & rx->mask;
	}

	if (unlikely(fail)) {
		u64_stats_update_begin(&qp->rx_stats.syncp);
		qp->rx_stats.alloc_fail += fail;
		u64_stats_update_end(&qp->rx_stats.syncp);
	}
}

void hsnic_rx_kick(struct hsnic_qp *qp)
{
	/* descriptors must be visible before the device sees the tail */
	dma_wmb();
	writel(qp->rx.tail, qp->rx.db);
}

static void hsnic_rx_frame_reset(struct hsnic_rx_ring *rx)
{
	rx->skb = NULL;
	rx->frame_bytes = 0;
	rx->frame_drop = false;
	rx->frame_err = false;
}

/* Add one returned buffer to the frame being assembled. Never fails: a
 * buffer that cannot be used marks the frame for dropping.
 */
static void hsnic_rx_add_buf(struct hsnic_qp *qp, struct page *page, u32 len)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	struct sk_buff *skb = rx->skb;

	rx->frame_bytes += len;

	if (rx->frame_drop || rx->frame_err || !len)
		goto recycle;

	page_pool_dma_sync_for_cpu(rx->pp, page, 0, len);

	if (!skb) {
		skb = napi_build_skb(page_address(page), HSNIC_RX_TRUESIZE);
		if (unlikely(!skb))
			goto drop;
		skb_mark_for_recycle(skb);
		skb_reserve(skb, HSNIC_RX_HEADROOM);
		__skb_put(skb, len);
		rx->skb = skb;
		return;
	}

	if (unlikely(skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS))
		goto drop;

	skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page,
			HSNIC_RX_HEADROOM, len, HSNIC_RX_TRUESIZE);
	return;

drop:
	rx->frame_drop = true;
recycle:
	page_pool_recycle_direct(rx->pp, page);
}

static int hsnic_rx_poll(struct hsnic_qp *qp, int budget)
{
	struct net_device *netdev = qp->priv->netdev;
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 pkts = 0, bytes = 0, dropped = 0, errors = 0;
	int done = 0;

	while (done < budget) {
		struct hsnic_rx_cmpl *cmpl = &rx->cmpl[rx->cmpl_head];
		u32 flags = le32_to_cpu(READ_ONCE(cmpl->flags));
		u32 idx, len, frame_len;
		struct sk_buff *skb;
		struct page *page;

		if (!!(flags & HSNIC_CMPL_GEN) != rx->cmpl_gen)
			break;
		/* read the rest of the completion after its GEN bit */
		dma_rmb();

		idx = le16_to_cpu(cmpl->desc_idx);
		len = le16_to_cpu(cmpl->buf_len);

		/* the device returns buffers in the order they were posted */
		if (unlikely(idx != rx->head || !hsnic_rx_posted(rx))) {
			hsnic_qp_fault(qp, "bad RX completion index", idx,
				       rx->head);
			goto fault;
		}
		if (unlikely(len > HSNIC_RX_BUF_LEN)) {
			hsnic_qp_fault(qp, "bad RX buffer length", len,
				       HSNIC_RX_BUF_LEN);
			goto fault;
		}

		page = rx->pages[idx];
		rx->pages[idx] = NULL;
		rx->head = (rx->head + 1) & rx->mask;
		if (++rx->cmpl_head == rx->size) {
			rx->cmpl_head = 0;
			rx->cmpl_gen = !rx->cmpl_gen;
		}

		if (unlikely(flags & HSNIC_RXC_ERR))
			rx->frame_err = true;

		hsnic_rx_add_buf(qp, page, len);

		if (!(flags & HSNIC_RXC_EOP))
			continue;

		/* last buffer of the frame */
		done++;
		skb = rx->skb;
		frame_len = le32_to_cpu(cmpl->frame_len);

		if (unlikely(rx->frame_err)) {
			errors++;
			goto drop_frame;
		}
		if (unlikely(frame_len != rx->frame_bytes)) {
			hsnic_qp_fault(qp, "bad RX frame length", frame_len,
				       rx->frame_bytes);
			goto fault;
		}
		if (unlikely(rx->frame_drop || !skb ||
			     skb_headlen(skb) < ETH_HLEN)) {
			dropped++;
			goto drop_frame;
		}

		pkts++;
		bytes += skb->len;
		skb_record_rx_queue(skb, qp->idx);
		skb->protocol = eth_type_trans(skb, netdev);
		napi_gro_receive(&qp->napi, skb);
		hsnic_rx_frame_reset(rx);
		continue;

drop_frame:
		if (skb)
			dev_kfree_skb_any(skb);
		hsnic_rx_frame_reset(rx);
	}

	goto out;

fault:
	if (rx->skb)
		dev_kfree_skb_any(rx->skb);
	hsnic_rx_frame_reset(rx);
	errors++;
out:
	if (pkts || dropped || errors) {
		u64_stats_update_begin(&qp->rx_stats.syncp);
		qp->rx_stats.packets += pkts;
		qp->rx_stats.bytes += bytes;
		qp->rx_stats.dropped += dropped;
		qp->rx_stats.errors += errors;
		u64_stats_update_end(&qp->rx_stats.syncp);
	}

	return done;
}

static int hsnic_rx_alloc(struct hsnic_qp *qp)
{
	struct hsnic_priv *priv = qp->priv;
	struct device *dev = &priv->pdev->dev;
	struct hsnic_rx_ring *rx = &qp->rx;
	u32 size = priv->rx_ring_size;
	struct page_pool_params pp = {
		.flags		= PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.order		= 0,
		.pool_size	= size,
		.nid		= dev_to_node(dev),
		.dev		= dev,
		.napi		= &qp->napi,
		.netdev		= priv->netdev,
		.queue_idx	= qp->idx,
		.dma_dir	= DMA_FROM_DEVICE,
		.offset		= HSNIC_RX_HEADROOM,
		.max_len	= HSNIC_RX_BUF_LEN,
	};
	int err = -ENOMEM;

	memset(rx, 0, sizeof(*rx));
	rx->size = size;
	rx->mask = size - 1;
	rx->cmpl_gen = true;
	rx->db = priv->regs + HSNIC_DB_RX(qp->idx);

	rx->pages = kvcalloc(size, sizeof(*rx->pages), GFP_KERNEL);
	if (!rx->pages)
		return -ENOMEM;

	rx->desc = dma_alloc_coherent(dev, size * sizeof(*rx->desc),
				      &rx->desc_dma, GFP_KERNEL);
	if (!rx->desc)
		goto err_free_pages;

	rx->cmpl = dma_alloc_coherent(dev, size * sizeof(*rx->cmpl),
				      &rx->cmpl_dma, GFP_KERNEL);
	if (!rx->cmpl)
		goto err_free_desc;

	rx->pp = page_pool_create(&pp);
	if (IS_ERR(rx->pp)) {
		err = PTR_ERR(rx->pp);
		rx->pp = NULL;
		goto err_free_cmpl;
	}

	/* NAPI is not running yet, so the pool may be used from here */
	hsnic_rx_refill(qp, GFP_KERNEL);
	if (!hsnic_rx_posted(rx))
		goto err_destroy_pool;

	return 0;

err_destroy_pool:
	page_pool_destroy(rx->pp);
	rx->pp = NULL;
err_free_cmpl:
	dma_free_coherent(dev, size * sizeof(*rx->cmpl), rx->cmpl,
			  rx->cmpl_dma);
	rx->cmpl = NULL;
err_free_desc:
	dma_free_coherent(dev, size * sizeof(*rx->desc), rx->desc,
			  rx->desc_dma);
	rx->desc = NULL;
err_free_pages:
	kvfree(rx->pages);
	rx->pages = NULL;
	return err;
}

static void hsnic_rx_free(struct hsnic_qp *qp)
{
	struct device *dev = &qp->priv->pdev->dev;
	struct hsnic_rx_ring *rx = &qp->rx;

	if (!rx->pages)
		return;

	if (rx->skb)
		dev_kfree_skb_any(rx->skb);
	hsnic_rx_frame_reset(rx);

	while (rx->head != rx->tail) {
		page_pool_put_full_page(rx->pp, rx->pages[rx->head], false);
		rx->pages[rx->head] = NULL;
		rx->head = (rx->head + 1) & rx->mask;
	}
	page_pool_destroy(rx->pp);

	dma_free_coherent(dev, rx->size * sizeof(*rx->cmpl), rx->cmpl,
			  rx->cmpl_dma);
	dma_free_coherent(dev, rx->size * sizeof(*rx->desc), rx->desc,
			  rx->desc_dma);
	kvfree(rx->pages);
	memset(rx, 0, sizeof(*rx));
}

/* ---- queue pairs and NAPI ---- */

int hsnic_qp_alloc(struct hsnic_qp *qp)
{
	int err;

	qp->faulted = false;

	err = hsnic_tx_alloc(qp);
	if (err)
		return err;

	err = hsnic_rx_alloc(qp);
	if (err) {
		hsnic_tx_free(qp);
		return err;
	}

	return 0;
}

/* NAPI must be disabled and the device must no longer own the rings. */
void hsnic_qp_free(struct hsnic_qp *qp)
{
	hsnic_rx_free(qp);
	hsnic_tx_free(qp);
}

int hsnic_poll(struct napi_struct *napi, int budget)
{
	struct hsnic_qp *qp = container_of(napi, struct hsnic_qp, napi);
	struct hsnic_priv *priv = qp->priv;
	struct hsnic_rx_ring *rx = &qp->rx;
	int work_done = 0;
	u32 tail;

	if (likely(!qp->faulted))
		hsnic_tx_clean(qp, budget);

	/* budget 0 means netpoll: TX completions only */
	if (likely(!qp->faulted) && budget) {
		work_done = hsnic_rx_poll(qp, budget);

		tail = rx->tail;
		hsnic_rx_refill(qp, GFP_ATOMIC);
		if (rx->tail != tail)
			hsnic_rx_kick(qp);

		/* with no buffer posted the device cannot raise RX
		 * completions: keep polling until memory is back
		 */
		if (unlikely(!hsnic_rx_posted(rx)))
			work_done = budget;
	}

	if (work_done < budget && napi_complete_done(napi, work_done) &&
	    likely(!qp->faulted))
		hsnic_wr32(priv, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(qp->idx)),
			   HSNIC_IRQ_ARM);

	return work_done;
}

irqreturn_t hsnic_qp_irq(int irq, void *data)
{
	struct hsnic_qp *qp = data;

	/* the device disarmed the vector when it fired */
	napi_schedule_irqoff(&qp->napi);

	return IRQ_HANDLED;
}
