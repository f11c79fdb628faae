// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: Linux driver for the hsnic virtual PCIe NIC.
 *
 * PCI probe and remove, device reset, netdev operations, queue management
 * and queue statistics.
 *
 * Locking: the netdev is "ops locked" (it has queue_mgmt_ops), so every
 * control path runs under the netdev instance lock: ndo_open/ndo_stop and
 * the other ndos (with RTNL too), ethtool ops (RTNL only for the ops named
 * in op_needs_rtnl), queue management and qstat ops, the reset task and
 * the debugfs knobs (which take it themselves). The instance lock is what
 * protects priv->cfg, priv->up, the rings and the RSS/rule shadows.
 */

#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <net/netdev_lock.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>
#include <net/sock.h>

#include "hsnic.h"

static bool db_rec = true;
module_param(db_rec, bool, 0444);
MODULE_PARM_DESC(db_rec,
		 "Use doorbell records when the device has them, so that the hypervisor can take doorbells as eventfds (default: on)");

#define HSNIC_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_LINK | NETIF_MSG_IFUP | \
				 NETIF_MSG_IFDOWN)

/* ---- device counters ---- */

/* 64-bit device counter: reading LO latches the value, HI returns the
 * upper half of the latch, so the pair must not interleave with another.
 */
u64 hsnic_read_stat64(struct hsnic_priv *priv, u32 lo, u32 hi)
{
	u32 l, h;

	spin_lock(&priv->hw_stats_lock);
	l = hsnic_rd32(priv, lo);
	h = hsnic_rd32(priv, hi);
	spin_unlock(&priv->hw_stats_lock);

	return (u64)h << 32 | l;
}

u64 hsnic_rxq_hw_stat(struct hsnic_priv *priv, unsigned int q,
		      enum hsnic_rx_qstat i)
{
	u64 val = hsnic_read_stat64(priv, HSNIC_RXQ_STAT_LO(q, i),
				    HSNIC_RXQ_STAT_HI(q, i));

	return priv->qps[q].hw_rx_base[i] + val;
}

u64 hsnic_txq_hw_stat(struct hsnic_priv *priv, unsigned int q,
		      enum hsnic_tx_qstat i)
{
	u64 val = hsnic_read_stat64(priv, HSNIC_TXQ_STAT_LO(q, i),
				    HSNIC_TXQ_STAT_HI(q, i));

	return priv->qps[q].hw_tx_base[i] + val;
}

u64 hsnic_dev_hw_stat(struct hsnic_priv *priv, enum hsnic_dstat i)
{
	u64 val = hsnic_read_stat64(priv, HSNIC_REG_DSTAT_LO(i),
				    HSNIC_REG_DSTAT_HI(i));

	return priv->dstat_base[i] + val;
}

/* A device reset zeroes its counters: keep what they had counted. */
static void hsnic_hw_stats_fold(struct hsnic_priv *priv)
{
	unsigned int q, i;

	for (i = 0; i < HSNIC_DSTAT_NUM; i++)
		priv->dstat_base[i] = hsnic_dev_hw_stat(priv, i);

	if (!(priv->features & HSNIC_F_QSTATS))
		return;

	for (q = 0; q < priv->nr_qps; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		for (i = 0; i < HSNIC_RXS_NUM; i++)
			qp->hw_rx_base[i] = hsnic_rxq_hw_stat(priv, q, i);
		for (i = 0; i < HSNIC_TXS_NUM; i++)
			qp->hw_tx_base[i] = hsnic_txq_hw_stat(priv, q, i);
	}
}

/* ---- device control ---- */

static int hsnic_hw_reset(struct device *dev, void __iomem *regs)
{
	u32 val;
	int err;

	writel(HSNIC_DEV_CTRL_RESET, regs + HSNIC_REG_DEV_CTRL);
	err = readl_poll_timeout(regs + HSNIC_REG_DEV_CTRL, val,
				 !(val & HSNIC_DEV_CTRL_RESET), HSNIC_POLL_US,
				 HSNIC_RESET_TIMEOUT_US);
	if (err)
		dev_err(dev, "device reset timed out (DEV_CTRL %#x)\n", val);

	return err;
}

static void hsnic_write_rx_mode(struct hsnic_priv *priv, bool any_mc)
{
	struct net_device *netdev = priv->netdev;
	u32 mode = HSNIC_RX_MODE_BROADCAST;

	if (!(priv->features & HSNIC_F_RX_MODE))
		return;

	if (netdev->flags & IFF_PROMISC)
		mode |= HSNIC_RX_MODE_PROMISC;
	/* there is no multicast filter: any subscription means all */
	if ((netdev->flags & IFF_ALLMULTI) || any_mc)
		mode |= HSNIC_RX_MODE_ALLMULTI;

	hsnic_wr32(priv, HSNIC_REG_RX_MODE, mode);
}

static void hsnic_update_link(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	bool up;

	mutex_lock(&priv->link_lock);
	up = hsnic_rd32(priv, HSNIC_REG_DEV_STATUS) & HSNIC_DEV_STATUS_LINK_UP;
	if (up != netif_carrier_ok(netdev)) {
		if (up)
			netif_carrier_on(netdev);
		else
			netif_carrier_off(netdev);
		netif_info(priv, link, netdev, "Link is %s\n",
			   up ? "Up" : "Down");
	}
	mutex_unlock(&priv->link_lock);
}

/* Program the device-wide configuration a reset clears: receive filter
 * (@any_mc: the netdev has multicast addresses), RSS contexts, flow rules
 * and interrupt moderation.
 */
static void hsnic_hw_config(struct hsnic_priv *priv, bool any_mc)
{
	unsigned int c;

	hsnic_write_rx_mode(priv, any_mc);

	if (priv->features & HSNIC_F_RSS)
		for (c = 0; c < HSNIC_RSS_CTX_NUM; c++)
			hsnic_rss_write(priv, c);
	hsnic_rules_write_all(priv);
	hsnic_coal_write(priv);
}

static void hsnic_events_enable(struct hsnic_priv *priv)
{
	hsnic_wr32(priv, HSNIC_REG_EVT_CAUSE, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);
	hsnic_wr32(priv, HSNIC_REG_EVT_MASK, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);

	/* link changes while the events were masked raised no interrupt */
	hsnic_update_link(priv);
}

/* Reset the device and restore its configuration. Instance lock held. */
static int hsnic_dev_reset(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	bool any_mc;
	int err;

	hsnic_hw_stats_fold(priv);
	err = hsnic_hw_reset(&priv->pdev->dev, priv->regs);
	if (err)
		return err;

	netif_addr_lock_bh(netdev);
	any_mc = !netdev_mc_empty(netdev);
	netif_addr_unlock_bh(netdev);
	hsnic_hw_config(priv, any_mc);
	hsnic_events_enable(priv);
	return 0;
}

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
static int hsnic_queue_disable(struct hsnic_priv *priv, u32 base,
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

static int hsnic_txq_start(struct hsnic_priv *priv, struct hsnic_qp *qp)
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
static int hsnic_rxq_start(struct hsnic_priv *priv, struct hsnic_qp *qp)
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

static void hsnic_free_qp_irq(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	if (!qp->irq_requested)
		return;

	netif_napi_set_irq_locked(&qp->napi, -1);
	free_irq(pci_irq_vector(priv->pdev, HSNIC_VEC_QP(qp->idx)), qp);
	qp->irq_requested = false;
}

static int hsnic_request_qp_irq(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	int irq = pci_irq_vector(priv->pdev, HSNIC_VEC_QP(qp->idx));
	int err;

	err = request_irq(irq, hsnic_qp_irq, 0, qp->irq_name, qp);
	if (err) {
		netdev_err(priv->netdev,
			   "failed to request IRQ %d for queue pair %u: %d\n",
			   irq, qp->idx, err);
		return err;
	}
	qp->irq_requested = true;
	netif_napi_set_irq_locked(&qp->napi, irq);

	return 0;
}

/* Undo hsnic_up(), or whatever part of it succeeded. */
static void hsnic_teardown(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	unsigned int n = priv->cfg.num_qp, q;
	bool napi_del = false, stuck = false;

	/* ndo_xdp_xmit runs in other devices' NAPI polls, under RCU: once
	 * it is closed and they are done, nothing but us touches the rings
	 */
	if (priv->xdp_tx_qps) {
		WRITE_ONCE(priv->xdp_tx_qps, 0);
		synchronize_net();
	}

	for (q = 0; q < n; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		if (qp->napi_added) {
			netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_TX,
					     NULL);
			netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_RX,
					     NULL);
		}
		hsnic_qp_napi_off(qp);
	}
	/* after NAPI, so that TX completions cannot wake the queues again */
	netif_tx_disable(netdev);

	/* take the rings away from the device */
	for (q = 0; q < n; q++) {
		if (hsnic_queue_disable(priv, HSNIC_TXQ_REG(q, 0), "TX", q))
			stuck = true;
		if (hsnic_queue_disable(priv, HSNIC_RXQ_REG(q, 0), "RX", q))
			stuck = true;
	}
	hsnic_wr32(priv, HSNIC_REG_DEV_CTRL, 0);
	/* a queue that does not let go must not write into freed memory */
	if (stuck)
		hsnic_dev_reset(priv);

	for (q = 0; q < n; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		hsnic_free_qp_irq(priv, qp);
		timer_delete_sync(&qp->refill_timer);
		hsnic_tx_ring_free(qp);
		hsnic_rx_ring_free(&qp->rx);
		if (qp->napi_added) {
			__netif_napi_del_locked(&qp->napi);
			qp->napi_added = false;
			napi_del = true;
		}
	}
	if (napi_del)
		synchronize_net();
}

/* Allocate the rings of priv->cfg.num_qp queue pairs, hand them to the
 * device and start the queues. Instance lock held.
 */
static int hsnic_up(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	unsigned int n = priv->cfg.num_qp, q;
	int err;

	if (priv->db_rec) {
		hsnic_wr32(priv, HSNIC_REG_DB_REC_LO,
			   lower_32_bits(priv->db_rec_dma));
		hsnic_wr32(priv, HSNIC_REG_DB_REC_HI,
			   upper_32_bits(priv->db_rec_dma));
	}

	for (q = 0; q < n; q++) {
		struct hsnic_qp *qp = &priv->qps[q];
		struct netdev_queue_config qcfg;

		qp->faulted = false;
		netif_napi_add_config_locked(netdev, &qp->napi, hsnic_poll, q);
		qp->napi_added = true;

		err = hsnic_tx_ring_alloc(qp);
		if (err)
			goto err_alloc;

		/* rx_page_size from ndo_default_qcfg or a memory provider */
		netdev_queue_config(netdev, q, &qcfg);
		err = hsnic_rx_ring_alloc(priv, q, &qcfg, &qp->rx);
		if (err)
			goto err_alloc;

		err = hsnic_request_qp_irq(priv, qp);
		if (err)
			goto err_teardown;
	}

	for (q = 0; q < n; q++) {
		err = hsnic_txq_start(priv, &priv->qps[q]);
		if (err)
			goto err_teardown;
		err = hsnic_rxq_start(priv, &priv->qps[q]);
		if (err)
			goto err_teardown;
	}

	hsnic_wr32(priv, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE |
		   (priv->db_rec ? HSNIC_DEV_CTRL_DB_REC : 0));

	for (q = 0; q < n; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_TX,
				     &qp->napi);
		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_RX,
				     &qp->napi);
		hsnic_qp_napi_on(qp);
	}

	priv->up = true;
	/* wake, not start: after a reset the qdisc may hold frames */
	netif_tx_wake_all_queues(netdev);
	/* the TX rings are ready for ndo_xdp_xmit, see hsnic_xdp_xmit() */
	smp_store_release(&priv->xdp_tx_qps, n);
	hsnic_update_link(priv);

	return 0;

err_alloc:
	netdev_err(netdev, "failed to allocate rings for queue pair %u: %d\n",
		   q, err);
err_teardown:
	hsnic_teardown(priv);
	return err;
}

/* Stop the queues and free the rings. Instance lock held. */
static void hsnic_down(struct hsnic_priv *priv)
{
	priv->up = false;
	hsnic_teardown(priv);
}

/* Apply @cfg, re-creating the queues if the interface is running. If the
 * new queues cannot be started the old configuration comes back.
 */
int hsnic_reconfigure(struct hsnic_priv *priv, const struct hsnic_cfg *cfg,
		      struct netlink_ext_ack *extack)
{
	struct net_device *netdev = priv->netdev;
	struct hsnic_cfg old = priv->cfg;
	int err;

	if (priv->up)
		hsnic_down(priv);

	if (cfg->num_qp != old.num_qp) {
		err = netif_set_real_num_queues(netdev, cfg->num_qp,
						cfg->num_qp);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack,
					   "failed to change the number of queues");
			goto restart;
		}
	}
	priv->cfg = *cfg;
	if (cfg->num_qp != old.num_qp)
		hsnic_rss_default_indir(priv);

	if (!netif_running(netdev))
		return 0;

	err = hsnic_up(priv);
	if (!err)
		return 0;

	NL_SET_ERR_MSG_MOD(extack, "failed to start with the new configuration");
	if (cfg->num_qp != old.num_qp &&
	    netif_set_real_num_queues(netdev, old.num_qp, old.num_qp))
		netdev_err(netdev, "failed to restore the number of queues\n");
	priv->cfg = old;
	if (cfg->num_qp != old.num_qp)
		hsnic_rss_default_indir(priv);
restart:
	if (netif_running(netdev) && hsnic_up(priv))
		netdev_err(netdev, "failed to restart with the old configuration\n");
	return err;
}

static void hsnic_reset_task(struct work_struct *work)
{
	struct hsnic_priv *priv = container_of(work, struct hsnic_priv,
					       reset_task);
	struct net_device *netdev = priv->netdev;
	int err;

	netdev_lock(netdev);

	netdev_warn(netdev, "resetting device\n");
	priv->resets++;

	if (priv->up)
		hsnic_down(priv);

	err = hsnic_dev_reset(priv);
	if (!err && netif_running(netdev))
		err = hsnic_up(priv);
	if (err) {
		netdev_err(netdev, "failed to restart after reset: %d\n", err);
		netif_carrier_off(netdev);
	}

	netdev_unlock(netdev);
}

void hsnic_schedule_reset(struct hsnic_priv *priv)
{
	schedule_work(&priv->reset_task);
}

/* A queue the device stopped on an error needs a reset to run again. */
static bool hsnic_queue_stopped(struct hsnic_priv *priv)
{
	unsigned int q;

	for (q = 0; q < priv->dev_max_qp; q++) {
		if ((hsnic_rd32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_STATUS)) |
		     hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_STATUS))) &
		    HSNIC_Q_STATUS_ERROR)
			return true;
	}

	return false;
}

static void hsnic_handle_error(struct hsnic_priv *priv)
{
	u32 err = hsnic_rd32(priv, HSNIC_REG_ERR_CODE);
	u32 qid = FIELD_GET(HSNIC_ERR_QUEUE_MASK, err);

	if (net_ratelimit())
		netdev_err(priv->netdev, "device error %u on %s queue %u\n",
			   FIELD_GET(HSNIC_ERR_CODE_MASK, err),
			   qid & HSNIC_QID_RX ? "RX" : "TX",
			   qid & ~HSNIC_QID_RX);

	/* errors that only dropped a frame leave the queues running */
	if (hsnic_queue_stopped(priv))
		hsnic_schedule_reset(priv);
}

/* Threaded handler of the event vector: link changes and device errors. */
static irqreturn_t hsnic_evt_irq(int irq, void *data)
{
	struct hsnic_priv *priv = data;
	u32 cause;

	cause = hsnic_rd32(priv, HSNIC_REG_EVT_CAUSE);
	if (!cause)
		return IRQ_NONE;
	hsnic_wr32(priv, HSNIC_REG_EVT_CAUSE, cause);

	if (cause & HSNIC_EVT_LINK)
		hsnic_update_link(priv);
	if (cause & HSNIC_EVT_ERROR)
		hsnic_handle_error(priv);

	return IRQ_HANDLED;
}

/* ---- netdev operations ---- */

static int hsnic_open(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return hsnic_up(priv);
}

static int hsnic_stop(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	if (priv->up)
		hsnic_down(priv);

	return 0;
}

static int hsnic_set_rx_mode(struct net_device *netdev,
			     struct netdev_hw_addr_list *uc,
			     struct netdev_hw_addr_list *mc)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	/* unicast addresses other than ours make the core set IFF_PROMISC,
	 * as the device has no unicast filter (no IFF_UNICAST_FLT)
	 */
	hsnic_write_rx_mode(priv, !!netdev_hw_addr_list_count(mc));

	return 0;
}

/* ndo_change_mtu has no extack: log instead */
static __printf(3, 4) void hsnic_mtu_err(struct hsnic_priv *priv,
					 struct netlink_ext_ack *extack,
					 const char *fmt, ...)
{
	char msg[NETLINK_MAX_FMTMSG_LEN];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);

	if (extack)
		NL_SET_ERR_MSG_FMT_MOD(extack, "%s", msg);
	else
		netdev_err(priv->netdev, "%s\n", msg);
}

/* Check that frames of @mtu fit the RX buffers of @cfg, and an XDP
 * program @prog (if any) can see all of them.
 */
int hsnic_check_mtu(struct hsnic_priv *priv, const struct hsnic_cfg *cfg,
		    const struct bpf_prog *prog, u32 mtu,
		    struct netlink_ext_ack *extack)
{
	u32 headroom, buf_len, max;

	/* with header split off (or a header overflow) the whole frame
	 * lands in the payload buffers one ring can post
	 */
	buf_len = hsnic_rx_layout(cfg, cfg->rx_buf_len, &headroom);
	if (DIV_ROUND_UP(mtu + VLAN_ETH_HLEN, buf_len) >= cfg->rx_ring_size) {
		hsnic_mtu_err(priv, extack,
			      "MTU %u needs over %u RX buffers of %u bytes: grow the RX ring",
			      mtu, cfg->rx_ring_size - 1, buf_len);
		return -EINVAL;
	}

	if (!prog)
		return 0;

	max = hsnic_xdp_max_frame(cfg, prog);
	if (mtu + VLAN_ETH_HLEN > max) {
		hsnic_mtu_err(priv, extack,
			      "MTU %u is too large for %s XDP program: at most %u",
			      mtu, prog->aux->xdp_has_frags ?
			      "a multi-buffer" : "a single-buffer",
			      max - VLAN_ETH_HLEN);
		return -EINVAL;
	}

	return 0;
}

static int hsnic_change_mtu(struct net_device *netdev, int new_mtu)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	int err;

	/* Buffers do not depend on the MTU, longer frames just use more of
	 * them, so the queues keep running. The smallest buffers are the
	 * default ones: memory providers may only ask for larger pages.
	 */
	err = hsnic_check_mtu(priv, &priv->cfg, priv->xdp_prog, new_mtu, NULL);
	if (err)
		return err;

	WRITE_ONCE(netdev->mtu, new_mtu);
	return 0;
}

/* Attach, replace or detach the XDP program. The queues are re-created
 * only when the buffer layout changes, i.e. on attach and detach; a
 * replacement is a pointer swap NAPI picks up at its next frame. Either
 * way the old program is only put after the swap, and runs at most until
 * the end of an RCU grace period, like any BPF program.
 */
static int hsnic_xdp_setup(struct hsnic_priv *priv, struct bpf_prog *prog,
			   struct netlink_ext_ack *extack)
{
	struct net_device *netdev = priv->netdev;
	struct bpf_prog *old = priv->xdp_prog;
	struct hsnic_cfg cfg = priv->cfg;
	int err;

	cfg.xdp = !!prog;
	if (prog) {
		err = hsnic_check_mtu(priv, &cfg, prog, netdev->mtu, extack);
		if (err)
			return err;
	}

	/* rings not laid out for XDP never look at the program */
	WRITE_ONCE(priv->xdp_prog, prog);
	if (cfg.xdp != priv->cfg.xdp) {
		err = hsnic_reconfigure(priv, &cfg, extack);
		if (err) {
			WRITE_ONCE(priv->xdp_prog, old);
			return err;
		}
	}

	if (old)
		bpf_prog_put(old);
	/* GRO_HW comes and goes with the program, see hsnic_fix_features() */
	if (!!old != !!prog)
		netdev_update_features(netdev);
	return 0;
}

static int hsnic_bpf(struct net_device *netdev, struct netdev_bpf *bpf)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	switch (bpf->command) {
	case XDP_SETUP_PROG:
		return hsnic_xdp_setup(priv, bpf->prog, bpf->extack);
	case XDP_SETUP_PROG_HW:
		NL_SET_ERR_MSG_MOD(bpf->extack, "XDP offload is not supported");
		return -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP;
	}
}

static netdev_features_t
hsnic_fix_features(struct net_device *netdev, netdev_features_t features)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	/* an XDP program cannot see the segments of a coalesced frame, and
	 * coalescing needs the checksums the device verified
	 */
	if (priv->xdp_prog || !(features & NETIF_F_RXCSUM))
		features &= ~NETIF_F_GRO_HW;
	return features;
}

/* CTRL.RSC may change on a running queue: clearing it makes the device
 * deliver what it was coalescing. A queue that is not running (stopped
 * on an error, say) is left alone; it gets CTRL.RSC when it restarts.
 */
static void hsnic_rsc_write(struct hsnic_priv *priv)
{
	unsigned int q;
	u32 ctrl;

	if (!priv->up)
		return;
	for (q = 0; q < priv->cfg.num_qp; q++) {
		struct hsnic_rx_ring *rx = &priv->qps[q].rx;

		if (!rx->started ||
		    !(hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_STATUS)) &
		      HSNIC_Q_STATUS_ENABLED))
			continue;
		ctrl = hsnic_rxq_ctrl(priv, rx);
		if (rx->rsc == !!(ctrl & HSNIC_RXQ_CTRL_RSC))
			continue;
		hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CTRL), ctrl);
		rx->rsc = ctrl & HSNIC_RXQ_CTRL_RSC;
	}
}

static int hsnic_set_features(struct net_device *netdev,
			      netdev_features_t features)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	bool rsc = features & NETIF_F_GRO_HW;

	/* RXCSUM and RXHASH are looked at per frame */
	if ((netdev->features & NETIF_F_NTUPLE) && !(features & NETIF_F_NTUPLE))
		hsnic_rules_clear(priv);

	if (rsc != priv->rsc) {
		priv->rsc = rsc;
		hsnic_rsc_write(priv);
	}

	return 0;
}

static void hsnic_tx_timeout(struct net_device *netdev, unsigned int txqueue)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	netdev_err(netdev, "TX queue %u timed out\n", txqueue);
	hsnic_schedule_reset(priv);
}

void hsnic_fetch_rx_stats(struct hsnic_qp *qp, struct hsnic_rx_stats *s)
{
	const struct hsnic_rx_stats *rx = &qp->rx_stats;
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&rx->syncp);
		s->packets = rx->packets;
		s->bytes = rx->bytes;
		s->dropped = rx->dropped;
		s->errors = rx->errors;
		s->alloc_fail = rx->alloc_fail;
		s->hdr_unreadable = rx->hdr_unreadable;
		s->csum_ok = rx->csum_ok;
		s->csum_bad = rx->csum_bad;
		s->csum_none = rx->csum_none;
		s->gro_hw_packets = rx->gro_hw_packets;
		s->gro_hw_bytes = rx->gro_hw_bytes;
		s->gro_hw_wire_packets = rx->gro_hw_wire_packets;
		s->gro_hw_wire_bytes = rx->gro_hw_wire_bytes;
		s->xdp_pass = rx->xdp_pass;
		s->xdp_drop = rx->xdp_drop;
		s->xdp_tx = rx->xdp_tx;
		s->xdp_redirect = rx->xdp_redirect;
		s->xdp_aborted = rx->xdp_aborted;
		s->xdp_tx_errors = rx->xdp_tx_errors;
		s->xdp_redirect_errors = rx->xdp_redirect_errors;
	} while (u64_stats_fetch_retry(&rx->syncp, start));
}

void hsnic_fetch_tx_stats(struct hsnic_qp *qp, struct hsnic_tx_stats *s)
{
	const struct hsnic_tx_stats *tx = &qp->tx_stats;
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&tx->syncp);
		s->packets = tx->packets;
		s->bytes = tx->bytes;
		s->errors = tx->errors;
		s->wakes = tx->wakes;
	} while (u64_stats_fetch_retry(&tx->syncp, start));
	do {
		start = u64_stats_fetch_begin(&tx->xmit_syncp);
		s->dropped = tx->dropped;
		s->stops = tx->stops;
		s->csum = tx->csum;
		s->tso_packets = tx->tso_packets;
		s->tso_bytes = tx->tso_bytes;
		s->tso_segs = tx->tso_segs;
		s->xdp_xmit = tx->xdp_xmit;
		s->xdp_xmit_errors = tx->xdp_xmit_errors;
	} while (u64_stats_fetch_retry(&tx->xmit_syncp, start));
}

/* Counters live in the queue pairs for the netdev's lifetime; summing all
 * of them keeps the totals steady across channel changes.
 */
static void hsnic_get_stats64(struct net_device *netdev,
			      struct rtnl_link_stats64 *stats)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q;

	for (q = 0; q < priv->nr_qps; q++) {
		struct hsnic_rx_stats rx;
		struct hsnic_tx_stats tx;

		hsnic_fetch_rx_stats(&priv->qps[q], &rx);
		hsnic_fetch_tx_stats(&priv->qps[q], &tx);

		stats->rx_packets += rx.packets;
		stats->rx_bytes += rx.bytes;
		stats->rx_dropped += rx.dropped;
		stats->rx_errors += rx.errors;
		stats->tx_packets += tx.packets;
		stats->tx_bytes += tx.bytes;
		stats->tx_dropped += tx.dropped;
		stats->tx_errors += tx.errors;
	}
}

/* A connected socket transmits on the queue pair it receives on, so that
 * its TX completions and its RX frames share one vector, and one
 * interrupt (see IRQ_TXMOD) serves a request and its reply.
 */
static u16 hsnic_select_queue(struct net_device *netdev, struct sk_buff *skb,
			      struct net_device *sb_dev)
{
	int q = sk_rx_queue_get(skb->sk);

	if (!sb_dev && q >= 0 && q < netdev->real_num_tx_queues)
		return q;

	return netdev_pick_tx(netdev, skb, sb_dev);
}

static const struct net_device_ops hsnic_netdev_ops = {
	.ndo_open		= hsnic_open,
	.ndo_stop		= hsnic_stop,
	.ndo_start_xmit		= hsnic_start_xmit,
	.ndo_select_queue	= hsnic_select_queue,
	.ndo_features_check	= hsnic_features_check,
	.ndo_get_stats64	= hsnic_get_stats64,
	.ndo_set_rx_mode_async	= hsnic_set_rx_mode,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_change_mtu		= hsnic_change_mtu,
	.ndo_fix_features	= hsnic_fix_features,
	.ndo_set_features	= hsnic_set_features,
	.ndo_tx_timeout		= hsnic_tx_timeout,
	.ndo_bpf		= hsnic_bpf,
	.ndo_xdp_xmit		= hsnic_xdp_xmit,
};

/* ---- queue statistics (netdev qstats) ---- */

/* Only the counters set here are reported: the core pre-fills the rest
 * with ETHTOOL_STAT_NOT_SET.
 */
static void hsnic_qstat_rx_zero(struct hsnic_priv *priv,
				struct netdev_queue_stats_rx *s)
{
	s->packets = 0;
	s->bytes = 0;
	s->alloc_fail = 0;
	s->csum_unnecessary = 0;
	s->csum_none = 0;
	s->csum_bad = 0;
	if (priv->features & HSNIC_F_RSC) {
		s->hw_gro_packets = 0;
		s->hw_gro_bytes = 0;
		s->hw_gro_wire_packets = 0;
		s->hw_gro_wire_bytes = 0;
	}
	if (priv->features & HSNIC_F_QSTATS)
		s->hw_drops = 0;
}

static void hsnic_qstat_tx_zero(struct netdev_queue_stats_tx *s)
{
	s->packets = 0;
	s->bytes = 0;
	s->hw_drops = 0;
	s->hw_drop_errors = 0;
	s->needs_csum = 0;
	s->hw_gso_packets = 0;
	s->hw_gso_bytes = 0;
	s->hw_gso_wire_packets = 0;
	s->stop = 0;
	s->wake = 0;
}

static void hsnic_qstat_rx_add(struct hsnic_priv *priv, unsigned int q,
			       struct netdev_queue_stats_rx *s)
{
	struct hsnic_rx_stats rx;

	hsnic_fetch_rx_stats(&priv->qps[q], &rx);
	s->packets += rx.packets;
	s->bytes += rx.bytes;
	s->alloc_fail += rx.alloc_fail;
	s->csum_unnecessary += rx.csum_ok;
	s->csum_none += rx.csum_none;
	s->csum_bad += rx.csum_bad;
	if (priv->features & HSNIC_F_RSC) {
		s->hw_gro_packets += rx.gro_hw_packets;
		s->hw_gro_bytes += rx.gro_hw_bytes;
		s->hw_gro_wire_packets += rx.gro_hw_wire_packets;
		s->hw_gro_wire_bytes += rx.gro_hw_wire_bytes;
	}
	/* frames the device could not place: queue down or too few buffers */
	if (priv->features & HSNIC_F_QSTATS)
		s->hw_drops += hsnic_rxq_hw_stat(priv, q, HSNIC_RXS_DROP_DOWN) +
			       hsnic_rxq_hw_stat(priv, q, HSNIC_RXS_DROP_NOBUF);
}

static void hsnic_qstat_tx_add(struct hsnic_priv *priv, unsigned int q,
			       struct netdev_queue_stats_tx *s)
{
	struct hsnic_tx_stats tx;

	hsnic_fetch_tx_stats(&priv->qps[q], &tx);
	s->packets += tx.packets;
	s->bytes += tx.bytes;
	s->hw_drops += tx.errors;
	s->hw_drop_errors += tx.errors;
	s->needs_csum += tx.csum;
	s->hw_gso_packets += tx.tso_packets;
	s->hw_gso_bytes += tx.tso_bytes;
	s->hw_gso_wire_packets += tx.tso_segs;
	s->stop += tx.stops;
	s->wake += tx.wakes;
}

static void hsnic_get_queue_stats_rx(struct net_device *netdev, int idx,
				     struct netdev_queue_stats_rx *s)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	hsnic_qstat_rx_zero(priv, s);
	hsnic_qstat_rx_add(priv, idx, s);
}

static void hsnic_get_queue_stats_tx(struct net_device *netdev, int idx,
				     struct netdev_queue_stats_tx *s)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	hsnic_qstat_tx_zero(s);
	hsnic_qstat_tx_add(priv, idx, s);
}

/* Everything counted by the queue pairs that are not active right now,
 * so that totals do not drop when channels go away.
 */
static void hsnic_get_base_stats(struct net_device *netdev,
				 struct netdev_queue_stats_rx *rx,
				 struct netdev_queue_stats_tx *tx)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q;

	hsnic_qstat_rx_zero(priv, rx);
	hsnic_qstat_tx_zero(tx);

	for (q = netdev->real_num_rx_queues; q < priv->nr_qps; q++)
		hsnic_qstat_rx_add(priv, q, rx);
	for (q = netdev->real_num_tx_queues; q < priv->nr_qps; q++)
		hsnic_qstat_tx_add(priv, q, tx);
}

static const struct netdev_stat_ops hsnic_stat_ops = {
	.get_queue_stats_rx	= hsnic_get_queue_stats_rx,
	.get_queue_stats_tx	= hsnic_get_queue_stats_tx,
	.get_base_stats		= hsnic_get_base_stats,
};

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

static const struct netdev_queue_mgmt_ops hsnic_queue_mgmt_ops = {
	.ndo_queue_mem_size	= sizeof(struct hsnic_rx_ring),
	.ndo_queue_mem_alloc	= hsnic_queue_mem_alloc,
	.ndo_queue_mem_free	= hsnic_queue_mem_free,
	.ndo_queue_start	= hsnic_queue_start,
	.ndo_queue_stop		= hsnic_queue_stop,
	.ndo_default_qcfg	= hsnic_default_qcfg,
	.ndo_validate_qcfg	= hsnic_validate_qcfg,
	.supported_params	= QCFG_RX_PAGE_SIZE,
};

/* ---- PCI ---- */

static void hsnic_read_mac(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	u32 lo = hsnic_rd32(priv, HSNIC_REG_MAC_LO);
	u32 hi = hsnic_rd32(priv, HSNIC_REG_MAC_HI);
	u8 addr[ETH_ALEN];

	addr[0] = lo;
	addr[1] = lo >> 8;
	addr[2] = lo >> 16;
	addr[3] = lo >> 24;
	addr[4] = hi;
	addr[5] = hi >> 8;

	if (is_valid_ether_addr(addr)) {
		eth_hw_addr_set(netdev, addr);
		return;
	}

	dev_warn(&priv->pdev->dev, "invalid MAC address %pM, using a random one\n",
		 addr);
	eth_hw_addr_random(netdev);
}

static void hsnic_set_features_init(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	netdev_features_t hw = NETIF_F_SG;

	if (priv->features & HSNIC_F_RX_CSUM)
		hw |= NETIF_F_RXCSUM;
	if (priv->features & HSNIC_F_RSS)
		hw |= NETIF_F_RXHASH;
	if (priv->features & HSNIC_F_TX_CSUM) {
		hw |= NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM;
		if (priv->features & HSNIC_F_TSO)
			hw |= NETIF_F_TSO | NETIF_F_TSO6;
	}
	if (priv->features & HSNIC_F_RULES)
		hw |= NETIF_F_NTUPLE;

	/* Receive segment coalescing is offered but off by default, like
	 * LRO: it changes the frames taps and forwarding see, and software
	 * GRO already merges these segments; ethtool -K rx-gro-hw on.
	 */
	netdev->hw_features = hw;
	if (priv->features & HSNIC_F_RSC)
		netdev->hw_features |= NETIF_F_GRO_HW;
	netdev->features = hw | NETIF_F_HIGHDMA;
	/* the ABI does not say the TX parser skips VLAN tags */
	netdev->vlan_features = NETIF_F_SG | NETIF_F_HIGHDMA;
	netif_set_tso_max_size(netdev, HSNIC_MAX_FRAME);
	/* devmem TX: frags may be dma-buf net_iovs, see hsnic_tx_unmap() */
	netdev->netmem_tx = NETMEM_TX_DMA;

	/* Both queue layouts (with and without header split) run every
	 * action on multi-buffer frames, and redirected frames share the
	 * stack's TX rings under the TX queue lock: nothing here depends on
	 * the configuration, so these never change. The core refuses what
	 * cannot work: single-buffer programs with header split, XDP with
	 * memory providers.
	 */
	netdev->xdp_features = NETDEV_XDP_ACT_BASIC | NETDEV_XDP_ACT_REDIRECT |
			       NETDEV_XDP_ACT_RX_SG | NETDEV_XDP_ACT_NDO_XMIT |
			       NETDEV_XDP_ACT_NDO_XMIT_SG;
}

static int hsnic_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	u32 magic, version, max_qp, max_ring, max_rx_buf, features;
	struct device *dev = &pdev->dev;
	struct net_device *netdev;
	struct hsnic_priv *priv;
	void __iomem *regs;
	unsigned int q, nqp, def;
	int nvec, err;

	err = pcim_enable_device(pdev);
	if (err)
		return dev_err_probe(dev, err, "failed to enable PCI device\n");

	if (pci_resource_len(pdev, HSNIC_BAR_REGS) < HSNIC_BAR0_SIZE)
		return dev_err_probe(dev, -ENODEV, "BAR%d is too small\n",
				     HSNIC_BAR_REGS);

	regs = pcim_iomap_region(pdev, HSNIC_BAR_REGS, HSNIC_DRV_NAME);
	if (IS_ERR(regs))
		return dev_err_probe(dev, PTR_ERR(regs),
				     "failed to map BAR%d\n", HSNIC_BAR_REGS);

	err = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (err)
		err = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (err)
		return dev_err_probe(dev, err, "no usable DMA configuration\n");
	/* Descriptors carry an address and a length each, so the device has
	 * no segment limit: memory providers map whole dma-bufs and zcrx
	 * areas in segments far larger than the 64 KiB PCI default.
	 */
	dma_set_max_seg_size(dev, UINT_MAX);

	magic = readl(regs + HSNIC_REG_MAGIC);
	if (magic != HSNIC_MAGIC)
		return dev_err_probe(dev, -ENODEV,
				     "bad magic %#010x, expected %#010x\n",
				     magic, HSNIC_MAGIC);

	version = readl(regs + HSNIC_REG_VERSION);
	if (FIELD_GET(HSNIC_VERSION_MAJOR_MASK, version) != HSNIC_ABI_MAJOR)
		return dev_err_probe(dev, -ENODEV,
				     "unsupported device ABI %u.%u, driver supports %u.x\n",
				     FIELD_GET(HSNIC_VERSION_MAJOR_MASK, version),
				     FIELD_GET(HSNIC_VERSION_MINOR_MASK, version),
				     HSNIC_ABI_MAJOR);

	pci_set_master(pdev);

	err = hsnic_hw_reset(dev, regs);
	if (err)
		return err;

	max_qp = readl(regs + HSNIC_REG_MAX_QP);
	max_ring = readl(regs + HSNIC_REG_MAX_RING);
	max_rx_buf = readl(regs + HSNIC_REG_MAX_RX_BUF);
	features = readl(regs + HSNIC_REG_FEATURES);
	if (!max_qp || max_ring < HSNIC_MIN_RING || max_rx_buf < PAGE_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "bad device limits: %u queue pairs, %u ring entries, %u byte RX buffers\n",
				     max_qp, max_ring, max_rx_buf);
	max_qp = min(max_qp, HSNIC_MAX_QP);
	max_ring = rounddown_pow_of_two(min(max_ring, HSNIC_MAX_RING));
	max_rx_buf = min(max_rx_buf, HSNIC_MAX_RX_BUF);

	/* vector 0 for device events, one per queue pair after it */
	nvec = pci_alloc_irq_vectors(pdev, HSNIC_VEC_QP(0) + 1,
				     HSNIC_VEC_QP(max_qp - 1) + 1, PCI_IRQ_MSIX);
	if (nvec < 0)
		return dev_err_probe(dev, nvec,
				     "failed to allocate MSI-X vectors\n");
	nqp = nvec - HSNIC_VEC_QP(0);

	netdev = alloc_etherdev_mqs(struct_size(priv, qps, nqp), nqp, nqp);
	if (!netdev) {
		err = -ENOMEM;
		goto err_free_vectors;
	}
	SET_NETDEV_DEV(netdev, dev);

	priv = netdev_priv(netdev);
	priv->nr_qps = nqp;
	priv->netdev = netdev;
	priv->pdev = pdev;
	priv->regs = regs;
	priv->features = features;
	priv->dev_max_qp = max_qp;
	priv->max_qp = nqp;
	priv->max_ring = max_ring;
	priv->max_rx_buf = max_rx_buf;
	priv->msg_enable = HSNIC_MSG_DEFAULT;

	if ((features & HSNIC_F_DB_REC) && db_rec) {
		priv->db_rec = dmam_alloc_coherent(dev, max_qp *
						   sizeof(*priv->db_rec),
						   &priv->db_rec_dma, GFP_KERNEL);
		if (!priv->db_rec)
			dev_warn(dev, "no memory for doorbell records, not using them\n");
	}

	/* at least two channels when the device has them: RSS, flow rules
	 * and memory providers are only interesting with a spare queue
	 */
	def = netif_get_num_default_rss_queues();
	priv->cfg.num_qp = clamp_t(u32, def, min(2U, nqp), nqp);
	priv->cfg.tx_ring_size = min(HSNIC_DEFAULT_RING, max_ring);
	priv->cfg.rx_ring_size = priv->cfg.tx_ring_size;
	priv->cfg.rx_buf_len = PAGE_SIZE;
	/* TX completions wait for the next RX interrupt (the poll cleans
	 * both rings), up to a millisecond or 64 of them: request/response
	 * traffic then takes one interrupt per exchange instead of two.
	 */
	priv->coal.tx_usecs = HSNIC_DEFAULT_TX_USECS;
	priv->coal.tx_frames = HSNIC_DEFAULT_TX_FRAMES;

	INIT_WORK(&priv->reset_task, hsnic_reset_task);
	mutex_init(&priv->link_lock);
	spin_lock_init(&priv->hw_stats_lock);
	snprintf(priv->evt_irq_name, sizeof(priv->evt_irq_name),
		 HSNIC_DRV_NAME "-%s-evt", pci_name(pdev));
	pci_set_drvdata(pdev, priv);

	for (q = 0; q < nqp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		qp->priv = priv;
		qp->idx = q;
		u64_stats_init(&qp->tx_stats.syncp);
		u64_stats_init(&qp->tx_stats.xmit_syncp);
		u64_stats_init(&qp->rx_stats.syncp);
		timer_setup(&qp->refill_timer, hsnic_refill_timer, 0);
		snprintf(qp->irq_name, sizeof(qp->irq_name),
			 HSNIC_DRV_NAME "-%s-q%u", pci_name(pdev), q);
	}

	hsnic_read_mac(priv);

	netdev->netdev_ops = &hsnic_netdev_ops;
	netdev->ethtool_ops = &hsnic_ethtool_ops;
	netdev->stat_ops = &hsnic_stat_ops;
	/* makes the netdev "ops locked": see the comment at the top */
	netdev->queue_mgmt_ops = &hsnic_queue_mgmt_ops;
	netdev->watchdog_timeo = HSNIC_TX_TIMEOUT;
	netdev->min_mtu = HSNIC_MIN_MTU;
	netdev->max_mtu = HSNIC_MAX_MTU;
	hsnic_set_features_init(priv);

	err = netif_set_real_num_queues(netdev, priv->cfg.num_qp,
					priv->cfg.num_qp);
	if (err)
		goto err_free_netdev;

	/* not registered: no addresses yet, and register_netdevice() is what
	 * initialises the address list lock
	 */
	hsnic_rss_init(priv);
	hsnic_hw_config(priv, false);

	err = request_threaded_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS),
				   NULL, hsnic_evt_irq, IRQF_ONESHOT,
				   priv->evt_irq_name, priv);
	if (err) {
		dev_err(dev, "failed to request the event IRQ: %d\n", err);
		goto err_free_netdev;
	}

	netif_carrier_off(netdev);
	err = register_netdev(netdev);
	if (err) {
		dev_err(dev, "failed to register netdev: %d\n", err);
		goto err_free_evt_irq;
	}

	hsnic_events_enable(priv);
	hsnic_debugfs_init(priv);

	netif_info(priv, probe, netdev,
		   "hsnic ABI %u.%u, features %#x, %u/%u queue pairs, MAC %pM\n",
		   FIELD_GET(HSNIC_VERSION_MAJOR_MASK, version),
		   FIELD_GET(HSNIC_VERSION_MINOR_MASK, version), features,
		   priv->cfg.num_qp, nqp, netdev->dev_addr);

	return 0;

err_free_evt_irq:
	free_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS), priv);
err_free_netdev:
	mutex_destroy(&priv->link_lock);
	free_netdev(netdev);
err_free_vectors:
	pci_free_irq_vectors(pdev);
	hsnic_hw_reset(dev, regs);
	return err;
}

static void hsnic_remove(struct pci_dev *pdev)
{
	struct hsnic_priv *priv = pci_get_drvdata(pdev);
	struct net_device *netdev = priv->netdev;
	unsigned int q;

	hsnic_debugfs_exit(priv);
	hsnic_debugfs_release_page(priv);

	/* no resets, link or error events once the netdev goes away */
	disable_work_sync(&priv->reset_task);
	hsnic_wr32(priv, HSNIC_REG_EVT_MASK, 0);
	free_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS), priv);

	unregister_netdev(netdev);

	hsnic_hw_reset(&pdev->dev, priv->regs);

	for (q = 0; q < priv->nr_qps; q++)
		timer_shutdown_sync(&priv->qps[q].refill_timer);
	mutex_destroy(&priv->link_lock);
	free_netdev(netdev);
	pci_free_irq_vectors(pdev);
}

static void hsnic_shutdown(struct pci_dev *pdev)
{
	struct hsnic_priv *priv = pci_get_drvdata(pdev);
	struct net_device *netdev = priv->netdev;

	disable_work_sync(&priv->reset_task);

	rtnl_lock();
	netdev_lock(netdev);
	netif_device_detach(netdev);
	if (priv->up)
		hsnic_down(priv);
	netdev_unlock(netdev);
	rtnl_unlock();

	hsnic_wr32(priv, HSNIC_REG_EVT_MASK, 0);
	hsnic_hw_reset(&pdev->dev, priv->regs);
}

static const struct pci_device_id hsnic_pci_tbl[] = {
	{ PCI_DEVICE(HSNIC_PCI_VENDOR_ID, HSNIC_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hsnic_pci_tbl);

static struct pci_driver hsnic_driver = {
	.name		= HSNIC_DRV_NAME,
	.id_table	= hsnic_pci_tbl,
	.probe		= hsnic_probe,
	.remove		= hsnic_remove,
	.shutdown	= hsnic_shutdown,
};

static int __init hsnic_init(void)
{
	int err;

	hsnic_debugfs_register();
	err = pci_register_driver(&hsnic_driver);
	if (err)
		hsnic_debugfs_unregister();

	return err;
}
module_init(hsnic_init);

static void __exit hsnic_exit(void)
{
	pci_unregister_driver(&hsnic_driver);
	hsnic_debugfs_unregister();
}
module_exit(hsnic_exit);

MODULE_DESCRIPTION("hsnic virtual PCIe NIC driver");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("NETDEV_INTERNAL");
