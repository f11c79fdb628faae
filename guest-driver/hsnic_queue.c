// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: queue life cycle. Ring and page pool allocation, handing the
 * rings to the device and taking them back, and the core's queue
 * management API (netdev_queue_mgmt_ops), which restarts one RX queue at
 * a time with new memory: memory providers (devmem TCP, io_uring zcrx)
 * and rx-page-size changes go through it.
 *
 * A restart is ndo_queue_mem_alloc() -> hsnic_rx_ring_alloc(),
 * ndo_queue_stop() -> hsnic_queue_stop(), ndo_queue_start() ->
 * hsnic_queue_start() -> hsnic_rxq_start(), then ndo_queue_mem_free() of
 * the old memory -> hsnic_rx_ring_free().
 */

#include <linux/dma-mapping.h>
#include <linux/iopoll.h>
#include <linux/log2.h>
#include <linux/netdevice.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>
#include <net/xdp.h>

#include "hsnic.h"

/* ---- ring and page pool allocation ---- */

int hsnic_tx_ring_alloc(struct hsnic_qp *qp)
{
	struct hsnic_priv *priv = qp->priv;
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;
	u32 size = priv->cfg.tx_ring_size;

	memset(tx, 0, sizeof(*tx));
	tx->size = size;
	tx->mask = size - 1;
	tx->max_desc = min_t(u32, MAX_SKB_FRAGS + 1, tx->mask / 2);
	tx->wake_thresh = min(2 * tx->max_desc, tx->mask);
	tx->cmpl_gen = true;
	tx->db = priv->regs + HSNIC_DB_TX(qp->idx);
	tx->db_rec = priv->db_rec ? &priv->db_rec[qp->idx] : NULL;

	tx->bufs = kvcalloc(size, sizeof(*tx->bufs), GFP_KERNEL);
	if (!tx->bufs)
		return -ENOMEM;

	tx->desc = dma_alloc_coherent(dev, size * sizeof(*tx->desc),
				      &tx->desc_dma, GFP_KERNEL);
	if (!tx->desc)
		goto err_free;

	tx->cmpl = dma_alloc_coherent(dev, size * sizeof(*tx->cmpl),
				      &tx->cmpl_dma, GFP_KERNEL);
	if (!tx->cmpl)
		goto err_free;

	return 0;

err_free:
	hsnic_tx_ring_free(qp);
	return -ENOMEM;
}

/* The device must no longer own the ring and NAPI must be disabled. */
void hsnic_tx_ring_free(struct hsnic_qp *qp)
{
	struct hsnic_priv *priv = qp->priv;
	struct device *dev = &priv->pdev->dev;
	struct hsnic_tx_ring *tx = &qp->tx;

	if (!tx->bufs)
		return;

	while (tx->head != tx->tail) {
		struct hsnic_tx_buf *buf = &tx->bufs[tx->head];

		hsnic_tx_unmap(dev, buf);
		hsnic_tx_buf_free(buf, 0, NULL);
		tx->head = (tx->head + 1) & tx->mask;
	}
	netdev_tx_reset_queue(netdev_get_tx_queue(priv->netdev, qp->idx));

	if (tx->cmpl)
		dma_free_coherent(dev, tx->size * sizeof(*tx->cmpl), tx->cmpl,
				  tx->cmpl_dma);
	if (tx->desc)
		dma_free_coherent(dev, tx->size * sizeof(*tx->desc), tx->desc,
				  tx->desc_dma);
	kvfree(tx->bufs);
	memset(tx, 0, sizeof(*tx));
}

/* Large payload buffers are posted in smaller numbers, so that a queue
 * pins about as much memory as with PAGE_SIZE buffers, but always enough
 * of them for the largest frame.
 */
static u32 hsnic_rx_fill_level(u32 size, u32 page_len, u32 buf_len)
{
	u32 fill = (size - 1) / (page_len / PAGE_SIZE);
	u32 need = DIV_ROUND_UP(HSNIC_MAX_FRAME, buf_len) + 1;

	return min(size - 1, max(fill, need));
}

/* Payload buffer layout for pages of @page_len bytes: returns BUF_LEN and
 * sets @headroom. Without XDP the device fills whole pages. With an XDP
 * program and header split off, every payload buffer may become the
 * linear part of an xdp_buff (and of the skb built from it): the device
 * fills it after XDP_PACKET_HEADROOM and leaves room for an
 * skb_shared_info. With header split the header buffer is that part and
 * the payload buffers, whole pages, are only ever frags.
 */
u32 hsnic_rx_layout(const struct hsnic_cfg *cfg, u32 page_len, u32 *headroom)
{
	if (cfg->xdp && !cfg->hds) {
		*headroom = XDP_PACKET_HEADROOM;
		return HSNIC_RX_BUF_LEN(page_len, XDP_PACKET_HEADROOM);
	}

	*headroom = 0;
	return page_len;
}

/* Longest frame @prog can see with @cfg: the linear part alone for a
 * single-buffer program, plus MAX_SKB_FRAGS payload buffers otherwise.
 */
u32 hsnic_xdp_max_frame(const struct hsnic_cfg *cfg,
			const struct bpf_prog *prog)
{
	u32 headroom, buf_len = hsnic_rx_layout(cfg, cfg->rx_buf_len,
						&headroom);
	u32 head = cfg->hds ? HSNIC_HDR_BUF_LEN_XDP : buf_len;

	if (!prog->aux->xdp_has_frags)
		return head;

	return min_t(u32, HSNIC_MAX_FRAME, head + MAX_SKB_FRAGS * buf_len);
}

/* Give every posted buffer back to its pool. Process context, with NAPI
 * and direct recycling off.
 */
static void hsnic_rx_release(struct hsnic_rx_ring *rx)
{
	while (rx->bufs && rx->head != rx->tail) {
		page_pool_put_full_netmem(rx->pp, rx->bufs[rx->head], false);
		rx->bufs[rx->head] = 0;
		rx->head = (rx->head + 1) & rx->mask;
	}
	while (rx->hdr_bufs && rx->hdr_head != rx->hdr_tail) {
		page_pool_put_full_page(rx->hdr_pp,
					rx->hdr_bufs[rx->hdr_head].page, false);
		rx->hdr_bufs[rx->hdr_head].page = NULL;
		rx->hdr_head = (rx->hdr_head + 1) & rx->mask;
	}
}

static int hsnic_rx_fill_initial(struct hsnic_rx_ring *rx)
{
	hsnic_rx_refill(rx, GFP_KERNEL);

	/* what is missing is retried from NAPI; nothing at all means the
	 * pool (or its memory provider) cannot give us anything
	 */
	if (!hsnic_rx_posted(rx) || (rx->hds && !hsnic_hdr_posted(rx)))
		return -ENOMEM;

	return 0;
}

/* Lay out RX queue @q in @rx, with nothing allocated yet. */
static int hsnic_rx_ring_init(struct hsnic_priv *priv, unsigned int q,
			      const struct netdev_queue_config *qcfg,
			      struct hsnic_rx_ring *rx)
{
	u32 size = priv->cfg.rx_ring_size;

	memset(rx, 0, sizeof(*rx));
	rx->page_len = qcfg->rx_page_size ?: PAGE_SIZE;
	/* ndo_validate_qcfg() saw this already; cheap to make sure */
	if (!is_power_of_2(rx->page_len) || rx->page_len < PAGE_SIZE ||
	    rx->page_len > priv->max_rx_buf)
		return -EINVAL;

	rx->dev = &priv->pdev->dev;
	rx->size = size;
	rx->mask = size - 1;
	rx->cmpl_gen = true;
	rx->hds = priv->cfg.hds;
	rx->hds_thresh = rx->hds ? priv->cfg.hds_thresh : 0;
	rx->xdp = priv->cfg.xdp;
	rx->buf_len = hsnic_rx_layout(&priv->cfg, rx->page_len, &rx->headroom);
	rx->hdr_headroom = rx->xdp ? XDP_PACKET_HEADROOM : HSNIC_RX_HEADROOM;
	rx->hdr_buf_len = rx->xdp ? HSNIC_HDR_BUF_LEN_XDP : HSNIC_HDR_BUF_LEN;
	rx->fill = hsnic_rx_fill_level(size, rx->page_len, rx->buf_len);
	rx->db = priv->regs + HSNIC_DB_RX(q);
	rx->db_rec = priv->db_rec ? &priv->db_rec[q] : NULL;
	rx->hdr_db = priv->regs + HSNIC_DB_RX_HDR(q);

	return 0;
}

/* Descriptor, completion and buffer arrays of @rx; the caller frees
 * them on error, with hsnic_rx_ring_free().
 */
static int hsnic_rx_ring_alloc_mem(struct hsnic_rx_ring *rx)
{
	struct device *dev = rx->dev;
	u32 size = rx->size;

	rx->bufs = kvcalloc(size, sizeof(*rx->bufs), GFP_KERNEL);
	if (!rx->bufs)
		return -ENOMEM;
	rx->desc = dma_alloc_coherent(dev, size * sizeof(*rx->desc),
				      &rx->desc_dma, GFP_KERNEL);
	if (!rx->desc)
		return -ENOMEM;
	rx->cmpl = dma_alloc_coherent(dev, size * sizeof(*rx->cmpl),
				      &rx->cmpl_dma, GFP_KERNEL);
	if (!rx->cmpl)
		return -ENOMEM;

	if (!rx->hds)
		return 0;

	rx->hdr_bufs = kvcalloc(size, sizeof(*rx->hdr_bufs), GFP_KERNEL);
	if (!rx->hdr_bufs)
		return -ENOMEM;
	rx->hdr_desc = dma_alloc_coherent(dev, size * sizeof(*rx->hdr_desc),
					  &rx->hdr_desc_dma, GFP_KERNEL);
	if (!rx->hdr_desc)
		return -ENOMEM;

	return 0;
}

static int hsnic_rx_xdp_reg(struct hsnic_priv *priv, unsigned int q,
			    struct hsnic_rx_ring *rx)
{
	int err;

	/* the core keeps memory providers and XDP apart */
	if (WARN_ON_ONCE(rx->unreadable))
		return -EINVAL;
	/* frags may grow to the end of their page */
	err = __xdp_rxq_info_reg(&rx->xdp_rxq, priv->netdev, q, 0,
				 rx->page_len);
	if (err)
		return err;
	return xdp_rxq_info_reg_mem_model(&rx->xdp_rxq, MEM_TYPE_PAGE_POOL,
					  rx->pp);
}

/* Allocate the rings, page pools and buffers of RX queue @q with the
 * queue configuration @qcfg (rx_page_size), laid out for XDP if
 * priv->cfg.xdp. Runs with the netdev instance lock held, which
 * page_pool_create() needs for a pool that may get a memory provider. The
 * device does not see any of it yet.
 */
int hsnic_rx_ring_alloc(struct hsnic_priv *priv, unsigned int q,
			const struct netdev_queue_config *qcfg,
			struct hsnic_rx_ring *rx)
{
	struct device *dev = &priv->pdev->dev;
	u32 size = priv->cfg.rx_ring_size;
	struct page_pool_params pp = {
		.flags		= PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.pool_size	= size,
		.nid		= dev_to_node(dev),
		.dev		= dev,
		.netdev		= priv->netdev,
		.queue_idx	= q,
		.dma_dir	= DMA_FROM_DEVICE,
	};
	struct page_pool *pool;
	int err;

	/* header buffers hold a useful header stack and the frames that
	 * hds_thresh keeps whole
	 */
	BUILD_BUG_ON(HSNIC_HDR_BUF_LEN_XDP < HSNIC_MIN_RX_BUF);
	BUILD_BUG_ON(HSNIC_HDS_THRESH_MAX + 256 > HSNIC_HDR_BUF_LEN_XDP);
	BUILD_BUG_ON(HSNIC_HDR_BUF_LEN_XDP > HSNIC_HDR_BUF_LEN);
	BUILD_BUG_ON(HSNIC_RX_BUF_LEN(PAGE_SIZE, XDP_PACKET_HEADROOM) <
		     HSNIC_MIN_RX_BUF);
	BUILD_BUG_ON(HSNIC_RX_PAGE_MAX > HSNIC_MAX_RX_BUF);

	err = hsnic_rx_ring_init(priv, q, qcfg, rx);
	if (err)
		return err;

	/* XDP_TX sends from the buffers as they are */
	if (rx->xdp)
		pp.dma_dir = DMA_BIDIRECTIONAL;

	err = hsnic_rx_ring_alloc_mem(rx);
	if (err)
		goto err_free;

	if (rx->hds) {
		/* header buffers: host pages, split into fragments */
		pp.order = 0;
		pp.max_len = PAGE_SIZE;
		pool = page_pool_create(&pp);
		if (IS_ERR(pool)) {
			err = PTR_ERR(pool);
			goto err_free;
		}
		rx->hdr_pp = pool;

		/* with the headers elsewhere, the payload may live in memory
		 * the CPU cannot read (dma-buf, io_uring zcrx)
		 */
		pp.flags |= PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	}

	pp.order = ilog2(rx->page_len) - PAGE_SHIFT;
	pp.offset = rx->headroom;
	pp.max_len = rx->buf_len;
	pool = page_pool_create(&pp);
	if (IS_ERR(pool)) {
		err = PTR_ERR(pool);
		goto err_free;
	}
	rx->pp = pool;
	rx->unreadable = page_pool_is_unreadable(pool);

	if (rx->xdp) {
		err = hsnic_rx_xdp_reg(priv, q, rx);
		if (err)
			goto err_free;
	}

	err = hsnic_rx_fill_initial(rx);
	if (err)
		goto err_free;

	return 0;

err_free:
	hsnic_rx_ring_free(rx);
	return err;
}

/* The device must no longer own the rings and NAPI must not touch them. */
void hsnic_rx_ring_free(struct hsnic_rx_ring *rx)
{
	struct device *dev = rx->dev;

	if (!dev)
		return;

	hsnic_rx_release(rx);
	/* drops the pool reference its memory model took */
	if (xdp_rxq_info_is_reg(&rx->xdp_rxq))
		xdp_rxq_info_unreg(&rx->xdp_rxq);
	/* pages still held by skbs and XDP frames keep the pools alive
	 * until they return
	 */
	page_pool_destroy(rx->pp);
	page_pool_destroy(rx->hdr_pp);

	if (rx->hdr_desc)
		dma_free_coherent(dev, rx->size * sizeof(*rx->hdr_desc),
				  rx->hdr_desc, rx->hdr_desc_dma);
	if (rx->cmpl)
		dma_free_coherent(dev, rx->size * sizeof(*rx->cmpl), rx->cmpl,
				  rx->cmpl_dma);
	if (rx->desc)
		dma_free_coherent(dev, rx->size * sizeof(*rx->desc), rx->desc,
				  rx->desc_dma);
	kvfree(rx->hdr_bufs);
	kvfree(rx->bufs);
	memset(rx, 0, sizeof(*rx));
}

/* Make rings that already ran usable for a fresh queue enable, which
 * restarts the device's indices at 0 with generation 1: return the posted
 * buffers and post new ones from slot 0. Only the core's restart error
 * path, which starts the old queue memory again, needs this.
 */
int hsnic_rx_ring_rewind(struct hsnic_rx_ring *rx)
{
	if (!rx->started)
		return 0;

	hsnic_rx_release(rx);
	rx->head = 0;
	rx->tail = 0;
	rx->hdr_head = 0;
	rx->hdr_tail = 0;
	rx->cmpl_head = 0;
	rx->cmpl_gen = true;
	memset(rx->cmpl, 0, rx->size * sizeof(*rx->cmpl));
	rx->started = false;

	return hsnic_rx_fill_initial(rx);
}

/* ---- handing rings to the device and taking them back ---- */

static int hsnic_queue_enable(struct hsnic_priv *priv, u32 base, u32 ctrl,
			      const char *type, unsigned int q)
{
	u32 val;
	int err;

	hsnic_wr32(priv, base + HSNIC_Q_CTRL, ctrl);
	err = readl_poll_timeout(priv->regs + base + HSNIC_Q_STATUS, val,
				 val & (HSNIC_Q_STATUS_ENABLED |
					HSNIC_Q_STATUS_ERROR),
				 HSNIC_POLL_US, HSNIC_Q_TIMEOUT_US);
	if (err || !(val & HSNIC_Q_STATUS_ENABLED) ||
	    (val & HSNIC_Q_STATUS_ERROR)) {
		netdev_err(priv->netdev,
			   "%s queue %u failed to enable (status %#x, error code %#x)\n",
			   type, q, val, hsnic_rd32(priv, HSNIC_REG_ERR_CODE));
		return -EIO;
	}

	return 0;
}

/* Clear CTRL.ENABLE and wait until the device lets go of the rings. */
int hsnic_queue_disable(struct hsnic_priv *priv, u32 base,
			const char *type, unsigned int q)
{
	u32 val;

	hsnic_wr32(priv, base + HSNIC_Q_CTRL, 0);
	if (!readl_poll_timeout(priv->regs + base + HSNIC_Q_STATUS, val,
				!(val & HSNIC_Q_STATUS_ENABLED),
				HSNIC_POLL_US, HSNIC_Q_TIMEOUT_US))
		return 0;

	netdev_err(priv->netdev, "%s queue %u failed to disable (status %#x)\n",
		   type, q, val);
	return -ETIMEDOUT;
}

int hsnic_txq_start(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	struct hsnic_tx_ring *tx = &qp->tx;
	unsigned int q = qp->idx;

	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_DESC_LO),
		   lower_32_bits(tx->desc_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_DESC_HI),
		   upper_32_bits(tx->desc_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_LO),
		   lower_32_bits(tx->cmpl_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_HI),
		   upper_32_bits(tx->cmpl_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_RING_SIZE), tx->size);
	/* the device reads the record as soon as the queue is enabled */
	if (tx->db_rec)
		WRITE_ONCE(tx->db_rec->tx_tail, 0);

	return hsnic_queue_enable(priv, HSNIC_TXQ_REG(q, 0),
				  HSNIC_Q_CTRL_ENABLE, "TX", q);
}

/* CTRL of a running RX queue. RSC only where no XDP program runs: the
 * program could not see the segments of a coalesced frame.
 */
u32 hsnic_rxq_ctrl(const struct hsnic_priv *priv,
		   const struct hsnic_rx_ring *rx)
{
	u32 ctrl = HSNIC_Q_CTRL_ENABLE;

	if (rx->hds)
		ctrl |= HSNIC_RXQ_CTRL_HDS;
	if (priv->rsc && !rx->xdp)
		ctrl |= HSNIC_RXQ_CTRL_RSC;
	return ctrl;
}

/* Hand qp->rx to the device: program, enable, post the buffers. */
int hsnic_rxq_start(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	struct hsnic_rx_ring *rx = &qp->rx;
	unsigned int q = qp->idx;
	u32 ctrl;
	int err;

	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_DESC_LO),
		   lower_32_bits(rx->desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_DESC_HI),
		   upper_32_bits(rx->desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_LO),
		   lower_32_bits(rx->cmpl_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_HI),
		   upper_32_bits(rx->cmpl_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_RING_SIZE), rx->size);
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_LO),
		   lower_32_bits(rx->hdr_desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_HI),
		   upper_32_bits(rx->hdr_desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_BUF_LEN), rx->buf_len);
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_BUF_LEN),
		   rx->hdr_buf_len);
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDS_THRESH),
		   rx->hds_thresh);
	ctrl = hsnic_rxq_ctrl(priv, rx);
	rx->rsc = ctrl & HSNIC_RXQ_CTRL_RSC;
	if (rx->db_rec) {
		WRITE_ONCE(rx->db_rec->rx_tail, 0);
		WRITE_ONCE(rx->db_rec->rx_hdr_tail, 0);
	}

	/* from here on the device may write into the rings */
	rx->started = true;
	err = hsnic_queue_enable(priv, HSNIC_RXQ_REG(q, 0), ctrl, "RX", q);
	if (err)
		return err;

	/* pages freed from this NAPI may go straight back to the caches */
	page_pool_enable_direct_recycling(rx->pp, &qp->napi);
	if (rx->hdr_pp)
		page_pool_enable_direct_recycling(rx->hdr_pp, &qp->napi);

	hsnic_rx_kick(rx);
	return 0;
}

void hsnic_qp_napi_on(struct hsnic_qp *qp)
{
	if (qp->napi_enabled)
		return;

	napi_enable_locked(&qp->napi);
	qp->napi_enabled = true;

	/* Completions written while NAPI was off raised an interrupt that
	 * could not schedule it (or none, if the vector was not armed):
	 * poll once, the poll arms the vector again.
	 */
	local_bh_disable();
	napi_schedule(&qp->napi);
	local_bh_enable();
}

void hsnic_qp_napi_off(struct hsnic_qp *qp)
{
	if (!qp->napi_enabled)
		return;

	napi_disable_locked(&qp->napi);
	qp->napi_enabled = false;
}

/* ---- queue management: restart one RX queue at a time ---- */

bool hsnic_any_mp(struct hsnic_priv *priv)
{
	unsigned int q;

	for (q = 0; q < priv->netdev->real_num_rx_queues; q++)
		if (netif_rxq_has_unreadable_mp(priv->netdev, q))
			return true;

	return false;
}

static void hsnic_default_qcfg(struct net_device *netdev,
			       struct netdev_queue_config *qcfg)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	qcfg->rx_page_size = priv->cfg.rx_buf_len;
}

static int hsnic_validate_qcfg(struct net_device *netdev,
			       struct netdev_queue_config *qcfg,
			       struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 max = min_t(u32, HSNIC_RX_PAGE_MAX, priv->max_rx_buf);
	u32 size = qcfg->rx_page_size;

	if (!is_power_of_2(size) || size < PAGE_SIZE || size > max) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "rx-page-size %u: must be a power of two from %lu to %u",
				       size, PAGE_SIZE, max);
		return -ERANGE;
	}

	return 0;
}

static int hsnic_queue_mem_alloc(struct net_device *netdev,
				 struct netdev_queue_config *qcfg,
				 void *mem, int idx)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return hsnic_rx_ring_alloc(priv, idx, qcfg, mem);
}

static void hsnic_queue_mem_free(struct net_device *netdev, void *mem)
{
	hsnic_rx_ring_free(mem);
}

/* Stop RX queue @idx and move its memory to @mem. Only this queue pair's
 * NAPI stops, and only until ndo_queue_start(), which the core always
 * calls next, with the new memory or, if that fails, this one.
 */
static int hsnic_queue_stop(struct net_device *netdev, void *mem, int idx)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_qp *qp = &priv->qps[idx];
	struct hsnic_rx_ring *rx = &qp->rx;
	int err;

	if (!priv->up || !rx->cmpl)
		return -ENETDOWN;

	hsnic_qp_napi_off(qp);

	err = hsnic_queue_disable(priv, HSNIC_RXQ_REG(idx, 0), "RX", idx);
	if (err) {
		/* rings still owned by the device: keep them, reset it */
		hsnic_qp_napi_on(qp);
		hsnic_schedule_reset(priv);
		return err;
	}

	/* the pools may outlive this NAPI: no more direct recycling */
	page_pool_disable_direct_recycling(rx->pp);
	if (rx->hdr_pp)
		page_pool_disable_direct_recycling(rx->hdr_pp);

	memcpy(mem, rx, sizeof(*rx));
	memset(rx, 0, sizeof(*rx));
	return 0;
}

static int hsnic_queue_start(struct net_device *netdev,
			     struct netdev_queue_config *qcfg,
			     void *mem, int idx)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_qp *qp = &priv->qps[idx];
	struct hsnic_rx_ring *rx = mem;
	int err;

	if (!priv->up)
		return -ENETDOWN;

	hsnic_qp_napi_off(qp);

	/* the old memory, when the new one failed to start */
	err = hsnic_rx_ring_rewind(rx);
	if (err)
		goto out;

	memcpy(&qp->rx, rx, sizeof(*rx));
	err = hsnic_rxq_start(priv, qp);
	if (err) {
		/* @mem still describes the rings; the core frees them */
		hsnic_queue_disable(priv, HSNIC_RXQ_REG(idx, 0), "RX", idx);
		memset(&qp->rx, 0, sizeof(qp->rx));
	}

out:
	/* TX completions of this queue pair need NAPI either way */
	hsnic_qp_napi_on(qp);
	return err;
}

const struct netdev_queue_mgmt_ops hsnic_queue_mgmt_ops = {
	.ndo_queue_mem_size	= sizeof(struct hsnic_rx_ring),
	.ndo_queue_mem_alloc	= hsnic_queue_mem_alloc,
	.ndo_queue_mem_free	= hsnic_queue_mem_free,
	.ndo_queue_start	= hsnic_queue_start,
	.ndo_queue_stop		= hsnic_queue_stop,
	.ndo_default_qcfg	= hsnic_default_qcfg,
	.ndo_validate_qcfg	= hsnic_validate_qcfg,
	.supported_params	= QCFG_RX_PAGE_SIZE,
};
