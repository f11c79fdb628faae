// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: Linux driver for the hsnic virtual PCIe NIC.
 *
 * PCI probe and remove, device reset, netdev and ethtool operations.
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

#include "hsnic.h"

#define HSNIC_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_LINK | NETIF_MSG_IFUP | \
				 NETIF_MSG_IFDOWN)

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

/* Restore the configuration a device reset cleared. */
static void hsnic_dev_restore(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	bool any_mc;

	hsnic_wr32(priv, HSNIC_REG_EVT_CAUSE, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);
	hsnic_wr32(priv, HSNIC_REG_EVT_MASK, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);

	netif_addr_lock_bh(netdev);
	any_mc = !netdev_mc_empty(netdev);
	netif_addr_unlock_bh(netdev);
	hsnic_write_rx_mode(priv, any_mc);

	/* link changes while the events were masked raised no interrupt */
	hsnic_update_link(priv);
}

static void hsnic_qp_program(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	unsigned int q = qp->idx;

	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_DESC_LO),
		   lower_32_bits(qp->tx.desc_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_DESC_HI),
		   upper_32_bits(qp->tx.desc_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_LO),
		   lower_32_bits(qp->tx.cmpl_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_HI),
		   upper_32_bits(qp->tx.cmpl_dma));
	hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_RING_SIZE), qp->tx.size);

	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_DESC_LO),
		   lower_32_bits(qp->rx.desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_DESC_HI),
		   upper_32_bits(qp->rx.desc_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_LO),
		   lower_32_bits(qp->rx.cmpl_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_HI),
		   upper_32_bits(qp->rx.cmpl_dma));
	hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_RING_SIZE), qp->rx.size);
}

static int hsnic_queue_enable(struct hsnic_priv *priv, u32 base,
			      const char *type, unsigned int q)
{
	u32 val;
	int err;

	hsnic_wr32(priv, base + HSNIC_Q_CTRL, HSNIC_Q_CTRL_ENABLE);
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

static int hsnic_queues_enable(struct hsnic_priv *priv)
{
	unsigned int q;
	int err;

	for (q = 0; q < priv->num_qp; q++) {
		err = hsnic_queue_enable(priv, HSNIC_TXQ_REG(q, 0), "TX", q);
		if (err)
			return err;
		err = hsnic_queue_enable(priv, HSNIC_RXQ_REG(q, 0), "RX", q);
		if (err)
			return err;
	}

	return 0;
}

static bool hsnic_queue_wait_disabled(struct hsnic_priv *priv, u32 base,
				      const char *type, unsigned int q)
{
	u32 val;

	if (!readl_poll_timeout(priv->regs + base + HSNIC_Q_STATUS, val,
				!(val & HSNIC_Q_STATUS_ENABLED),
				HSNIC_POLL_US, HSNIC_Q_TIMEOUT_US))
		return true;

	netdev_err(priv->netdev, "%s queue %u failed to disable (status %#x)\n",
		   type, q, val);
	return false;
}

/* Take the rings away from the device. When a queue does not let go, the
 * device is reset so that it no longer touches memory about to be freed.
 */
static void hsnic_queues_disable(struct hsnic_priv *priv)
{
	bool ok = true;
	unsigned int q;

	for (q = 0; q < priv->num_qp; q++) {
		hsnic_wr32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CTRL), 0);
		hsnic_wr32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CTRL), 0);
	}
	for (q = 0; q < priv->num_qp; q++) {
		ok &= hsnic_queue_wait_disabled(priv, HSNIC_TXQ_REG(q, 0),
						"TX", q);
		ok &= hsnic_queue_wait_disabled(priv, HSNIC_RXQ_REG(q, 0),
						"RX", q);
	}
	hsnic_wr32(priv, HSNIC_REG_DEV_CTRL, 0);

	if (!ok && !hsnic_hw_reset(&priv->pdev->dev, priv->regs))
		hsnic_dev_restore(priv);
}

static void hsnic_free_qp_irqs(struct hsnic_priv *priv, unsigned int count)
{
	unsigned int q;

	for (q = 0; q < count; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		netif_napi_set_irq(&qp->napi, -1);
		free_irq(pci_irq_vector(priv->pdev, HSNIC_VEC_QP(q)), qp);
	}
}

static int hsnic_request_qp_irqs(struct hsnic_priv *priv)
{
	unsigned int q;
	int irq, err;

	for (q = 0; q < priv->num_qp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		irq = pci_irq_vector(priv->pdev, HSNIC_VEC_QP(q));
		err = request_irq(irq, hsnic_qp_irq, 0, qp->irq_name, qp);
		if (err) {
			netdev_err(priv->netdev,
				   "failed to request IRQ %d for queue pair %u: %d\n",
				   irq, q, err);
			hsnic_free_qp_irqs(priv, q);
			return err;
		}
		netif_napi_set_irq(&qp->napi, irq);
	}

	return 0;
}

static void hsnic_free_qps(struct hsnic_priv *priv)
{
	unsigned int q;

	for (q = 0; q < priv->num_qp; q++)
		hsnic_qp_free(&priv->qps[q]);
}

/* Allocate the rings, hand them to the device and start the queues.
 * Called under RTNL.
 */
static int hsnic_up(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	unsigned int q;
	int err;

	for (q = 0; q < priv->num_qp; q++) {
		err = hsnic_qp_alloc(&priv->qps[q]);
		if (err) {
			netdev_err(netdev,
				   "failed to allocate rings for queue pair %u: %d\n",
				   q, err);
			goto err_free_qps;
		}
	}

	err = hsnic_request_qp_irqs(priv);
	if (err)
		goto err_free_qps;

	for (q = 0; q < priv->num_qp; q++)
		hsnic_qp_program(priv, &priv->qps[q]);

	err = hsnic_queues_enable(priv);
	if (err)
		goto err_disable;

	hsnic_wr32(priv, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE);

	for (q = 0; q < priv->num_qp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		napi_enable(&qp->napi);
		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_TX,
				     &qp->napi);
		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_RX,
				     &qp->napi);
		hsnic_rx_kick(qp);
		hsnic_wr32(priv, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(q)),
			   HSNIC_IRQ_ARM);
	}

	priv->up = true;
	/* wake, not start: after a reset the qdisc may hold frames */
	netif_tx_wake_all_queues(netdev);
	hsnic_update_link(priv);

	return 0;

err_disable:
	hsnic_queues_disable(priv);
	hsnic_free_qp_irqs(priv, priv->num_qp);
err_free_qps:
	hsnic_free_qps(priv);
	return err;
}

/* Stop the queues and free the rings. Called under RTNL. */
static void hsnic_down(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	unsigned int q;

	priv->up = false;

	for (q = 0; q < priv->num_qp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_TX, NULL);
		netif_queue_set_napi(netdev, q, NETDEV_QUEUE_TYPE_RX, NULL);
		napi_disable(&qp->napi);
	}
	/* after NAPI, so that TX completions cannot wake the queues again */
	netif_tx_disable(netdev);

	hsnic_queues_disable(priv);
	hsnic_free_qp_irqs(priv, priv->num_qp);
	hsnic_free_qps(priv);
}

static void hsnic_reset_task(struct work_struct *work)
{
	struct hsnic_priv *priv = container_of(work, struct hsnic_priv,
					       reset_task);
	struct net_device *netdev = priv->netdev;
	int err;

	rtnl_lock();

	netdev_warn(netdev, "resetting device\n");
	priv->resets++;

	if (priv->up)
		hsnic_down(priv);

	if (hsnic_hw_reset(&priv->pdev->dev, priv->regs))
		goto out;
	hsnic_dev_restore(priv);

	if (netif_running(netdev)) {
		err = hsnic_up(priv);
		if (err)
			netdev_err(netdev,
				   "failed to restart after reset: %d\n", err);
	}
out:
	rtnl_unlock();
}

void hsnic_schedule_reset(struct hsnic_priv *priv)
{
	schedule_work(&priv->reset_task);
}

/* A queue the device stopped on an error needs a reset to run again. */
static bool hsnic_queue_stopped(struct hsnic_priv *priv)
{
	unsigned int q;

	for (q = 0; q < priv->num_qp; q++) {
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

	netdev_err(priv->netdev, "device error %u on %s queue %u\n",
		   FIELD_GET(HSNIC_ERR_CODE_MASK, err),
		   qid & HSNIC_QID_RX ? "RX" : "TX", qid & ~HSNIC_QID_RX);

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

static int hsnic_change_mtu(struct net_device *netdev, int new_mtu)
{
	/* RX buffers do not depend on the MTU: longer frames simply use
	 * more of them, so no ring reconfiguration is needed.
	 */
	WRITE_ONCE(netdev->mtu, new_mtu);

	return 0;
}

static void hsnic_tx_timeout(struct net_device *netdev, unsigned int txqueue)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	netdev_err(netdev, "TX queue %u timed out\n", txqueue);
	hsnic_schedule_reset(priv);
}

static void hsnic_get_stats64(struct net_device *netdev,
			      struct rtnl_link_stats64 *stats)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q, start;

	for (q = 0; q < priv->num_qp; q++) {
		struct hsnic_tx_stats *tx = &priv->qps[q].tx_stats;
		struct hsnic_rx_stats *rx = &priv->qps[q].rx_stats;
		u64 packets, bytes, dropped, errors;

		do {
			start = u64_stats_fetch_begin(&rx->syncp);
			packets = rx->packets;
			bytes = rx->bytes;
			dropped = rx->dropped;
			errors = rx->errors;
		} while (u64_stats_fetch_retry(&rx->syncp, start));
		stats->rx_packets += packets;
		stats->rx_bytes += bytes;
		stats->rx_dropped += dropped;
		stats->rx_errors += errors;

		do {
			start = u64_stats_fetch_begin(&tx->syncp);
			packets = tx->packets;
			bytes = tx->bytes;
			errors = tx->errors;
		} while (u64_stats_fetch_retry(&tx->syncp, start));
		do {
			start = u64_stats_fetch_begin(&tx->xmit_syncp);
			dropped = tx->dropped;
		} while (u64_stats_fetch_retry(&tx->xmit_syncp, start));
		stats->tx_packets += packets;
		stats->tx_bytes += bytes;
		stats->tx_dropped += dropped;
		stats->tx_errors += errors;
	}
}

static const struct net_device_ops hsnic_netdev_ops = {
	.ndo_open		= hsnic_open,
	.ndo_stop		= hsnic_stop,
	.ndo_start_xmit		= hsnic_start_xmit,
	.ndo_get_stats64	= hsnic_get_stats64,
	.ndo_set_rx_mode_async	= hsnic_set_rx_mode,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_change_mtu		= hsnic_change_mtu,
	.ndo_tx_timeout		= hsnic_tx_timeout,
};

/* ---- ethtool ---- */

static const char hsnic_tx_stat_names[][ETH_GSTRING_LEN] = {
	"packets", "bytes", "dropped", "errors", "stops",
};

static const char hsnic_rx_stat_names[][ETH_GSTRING_LEN] = {
	"packets", "bytes", "dropped", "errors", "alloc_fail",
};

static const char hsnic_dev_stat_names[][ETH_GSTRING_LEN] = {
	"resets",
};

#define HSNIC_TX_NSTATS		ARRAY_SIZE(hsnic_tx_stat_names)
#define HSNIC_RX_NSTATS		ARRAY_SIZE(hsnic_rx_stat_names)
#define HSNIC_DEV_NSTATS	ARRAY_SIZE(hsnic_dev_stat_names)

static void hsnic_get_drvinfo(struct net_device *netdev,
			      struct ethtool_drvinfo *info)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 version = hsnic_rd32(priv, HSNIC_REG_VERSION);

	strscpy(info->driver, HSNIC_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(priv->pdev), sizeof(info->bus_info));
	snprintf(info->fw_version, sizeof(info->fw_version), "abi %u.%u",
		 FIELD_GET(HSNIC_VERSION_MAJOR_MASK, version),
		 FIELD_GET(HSNIC_VERSION_MINOR_MASK, version));
}

static u32 hsnic_get_msglevel(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return priv->msg_enable;
}

static void hsnic_set_msglevel(struct net_device *netdev, u32 value)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	priv->msg_enable = value;
}

static void hsnic_get_ringparam(struct net_device *netdev,
				struct ethtool_ringparam *ring,
				struct kernel_ethtool_ringparam *kring,
				struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	ring->rx_max_pending = priv->max_ring;
	ring->tx_max_pending = priv->max_ring;
	ring->rx_pending = priv->rx_ring_size;
	ring->tx_pending = priv->tx_ring_size;
}

static int hsnic_set_ringparam(struct net_device *netdev,
			       struct ethtool_ringparam *ring,
			       struct kernel_ethtool_ringparam *kring,
			       struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 old_tx = priv->tx_ring_size, old_rx = priv->rx_ring_size;
	int err;

	if (ring->tx_pending < HSNIC_MIN_RING ||
	    ring->rx_pending < HSNIC_MIN_RING ||
	    !is_power_of_2(ring->tx_pending) ||
	    !is_power_of_2(ring->rx_pending)) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "ring sizes must be powers of two from %u to %u",
				       HSNIC_MIN_RING, priv->max_ring);
		return -EINVAL;
	}

	if (ring->tx_pending == old_tx && ring->rx_pending == old_rx)
		return 0;

	if (priv->up)
		hsnic_down(priv);

	priv->tx_ring_size = ring->tx_pending;
	priv->rx_ring_size = ring->rx_pending;

	if (!netif_running(netdev))
		return 0;

	err = hsnic_up(priv);
	if (!err)
		return 0;

	NL_SET_ERR_MSG_MOD(extack, "failed to start with the new ring sizes");
	priv->tx_ring_size = old_tx;
	priv->rx_ring_size = old_rx;
	if (hsnic_up(priv))
		netdev_err(netdev, "failed to restart with the old ring sizes\n");

	return err;
}

static void hsnic_get_channels(struct net_device *netdev,
			       struct ethtool_channels *ch)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	ch->max_combined = priv->num_qp;
	ch->combined_count = priv->num_qp;
	ch->max_other = 1;	/* device events */
	ch->other_count = 1;
}

static int hsnic_get_sset_count(struct net_device *netdev, int sset)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;

	return HSNIC_DEV_NSTATS +
	       priv->num_qp * (HSNIC_TX_NSTATS + HSNIC_RX_NSTATS);
}

static void hsnic_get_strings(struct net_device *netdev, u32 sset, u8 *data)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q, i;

	if (sset != ETH_SS_STATS)
		return;

	for (i = 0; i < HSNIC_DEV_NSTATS; i++)
		ethtool_puts(&data, hsnic_dev_stat_names[i]);

	for (q = 0; q < priv->num_qp; q++) {
		for (i = 0; i < HSNIC_TX_NSTATS; i++)
			ethtool_sprintf(&data, "tx%u_%s", q,
					hsnic_tx_stat_names[i]);
		for (i = 0; i < HSNIC_RX_NSTATS; i++)
			ethtool_sprintf(&data, "rx%u_%s", q,
					hsnic_rx_stat_names[i]);
	}
}

static void hsnic_get_ethtool_stats(struct net_device *netdev,
				    struct ethtool_stats *estats, u64 *data)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q, start;

	*data++ = priv->resets;

	for (q = 0; q < priv->num_qp; q++) {
		struct hsnic_tx_stats *tx = &priv->qps[q].tx_stats;
		struct hsnic_rx_stats *rx = &priv->qps[q].rx_stats;

		do {
			start = u64_stats_fetch_begin(&tx->syncp);
			data[0] = tx->packets;
			data[1] = tx->bytes;
			data[3] = tx->errors;
		} while (u64_stats_fetch_retry(&tx->syncp, start));
		do {
			start = u64_stats_fetch_begin(&tx->xmit_syncp);
			data[2] = tx->dropped;
			data[4] = tx->stops;
		} while (u64_stats_fetch_retry(&tx->xmit_syncp, start));
		data += HSNIC_TX_NSTATS;

		do {
			start = u64_stats_fetch_begin(&rx->syncp);
			data[0] = rx->packets;
			data[1] = rx->bytes;
			data[2] = rx->dropped;
			data[3] = rx->errors;
			data[4] = rx->alloc_fail;
		} while (u64_stats_fetch_retry(&rx->syncp, start));
		data += HSNIC_RX_NSTATS;
	}
}

static const struct ethtool_ops hsnic_ethtool_ops = {
	.get_drvinfo		= hsnic_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_msglevel		= hsnic_get_msglevel,
	.set_msglevel		= hsnic_set_msglevel,
	.get_ringparam		= hsnic_get_ringparam,
	.set_ringparam		= hsnic_set_ringparam,
	.get_channels		= hsnic_get_channels,
	.get_sset_count		= hsnic_get_sset_count,
	.get_strings		= hsnic_get_strings,
	.get_ethtool_stats	= hsnic_get_ethtool_stats,
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

static int hsnic_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	u32 magic, version, max_qp, max_ring, num_qp;
	struct device *dev = &pdev->dev;
	struct net_device *netdev;
	struct hsnic_priv *priv;
	void __iomem *regs;
	unsigned int q;
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
	if (!max_qp || max_ring < HSNIC_MIN_RING)
		return dev_err_probe(dev, -ENODEV,
				     "bad device limits: %u queue pairs, %u ring entries\n",
				     max_qp, max_ring);
	max_qp = min(max_qp, HSNIC_MAX_QP);
	max_ring = rounddown_pow_of_two(min(max_ring, HSNIC_MAX_RING));

	/* vector 0 for device events, one per queue pair after it */
	num_qp = min(num_online_cpus(), max_qp);
	nvec = pci_alloc_irq_vectors(pdev, HSNIC_VEC_QP(0) + 1,
				     HSNIC_VEC_QP(num_qp - 1) + 1, PCI_IRQ_MSIX);
	if (nvec < 0)
		return dev_err_probe(dev, nvec,
				     "failed to allocate MSI-X vectors\n");
	num_qp = nvec - HSNIC_VEC_QP(0);

	netdev = alloc_etherdev_mqs(struct_size(priv, qps, num_qp), num_qp,
				    num_qp);
	if (!netdev) {
		err = -ENOMEM;
		goto err_free_vectors;
	}
	SET_NETDEV_DEV(netdev, dev);

	priv = netdev_priv(netdev);
	priv->num_qp = num_qp;
	priv->netdev = netdev;
	priv->pdev = pdev;
	priv->regs = regs;
	priv->features = readl(regs + HSNIC_REG_FEATURES);
	priv->max_ring = max_ring;
	priv->tx_ring_size = min(HSNIC_DEFAULT_RING, max_ring);
	priv->rx_ring_size = priv->tx_ring_size;
	priv->msg_enable = HSNIC_MSG_DEFAULT;
	INIT_WORK(&priv->reset_task, hsnic_reset_task);
	mutex_init(&priv->link_lock);
	snprintf(priv->evt_irq_name, sizeof(priv->evt_irq_name),
		 HSNIC_DRV_NAME "-%s-evt", pci_name(pdev));
	pci_set_drvdata(pdev, priv);

	hsnic_read_mac(priv);

	netdev->netdev_ops = &hsnic_netdev_ops;
	netdev->ethtool_ops = &hsnic_ethtool_ops;
	netdev->watchdog_timeo = HSNIC_TX_TIMEOUT;
	netdev->min_mtu = HSNIC_MIN_MTU;
	netdev->max_mtu = HSNIC_MAX_MTU;
	/* no checksum or segmentation offloads yet */
	netdev->hw_features = NETIF_F_SG;
	netdev->features = NETIF_F_SG | NETIF_F_HIGHDMA;

	for (q = 0; q < num_qp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];

		qp->priv = priv;
		qp->idx = q;
		u64_stats_init(&qp->tx_stats.syncp);
		u64_stats_init(&qp->tx_stats.xmit_syncp);
		u64_stats_init(&qp->rx_stats.syncp);
		snprintf(qp->irq_name, sizeof(qp->irq_name),
			 HSNIC_DRV_NAME "-%s-q%u", pci_name(pdev), q);
		netif_napi_add_config(netdev, &qp->napi, hsnic_poll, q);
	}

	err = request_threaded_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS),
				   NULL, hsnic_evt_irq, IRQF_ONESHOT,
				   priv->evt_irq_name, priv);
	if (err) {
		dev_err(dev, "failed to request the event IRQ: %d\n", err);
		goto err_del_napi;
	}

	netif_carrier_off(netdev);
	err = register_netdev(netdev);
	if (err) {
		dev_err(dev, "failed to register netdev: %d\n", err);
		goto err_free_evt_irq;
	}

	hsnic_dev_restore(priv);

	netif_info(priv, probe, netdev,
		   "hsnic ABI %u.%u, %u queue pair(s), MAC %pM\n",
		   FIELD_GET(HSNIC_VERSION_MAJOR_MASK, version),
		   FIELD_GET(HSNIC_VERSION_MINOR_MASK, version), num_qp,
		   netdev->dev_addr);

	return 0;

err_free_evt_irq:
	free_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS), priv);
err_del_napi:
	for (q = 0; q < num_qp; q++)
		netif_napi_del(&priv->qps[q].napi);
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

	/* no resets, link or error events once the netdev goes away */
	disable_work_sync(&priv->reset_task);
	hsnic_wr32(priv, HSNIC_REG_EVT_MASK, 0);
	free_irq(pci_irq_vector(pdev, HSNIC_VEC_EVENTS), priv);

	unregister_netdev(netdev);

	hsnic_hw_reset(&pdev->dev, priv->regs);

	for (q = 0; q < priv->num_qp; q++)
		netif_napi_del(&priv->qps[q].napi);
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
	netif_device_detach(netdev);
	if (priv->up)
		hsnic_down(priv);
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
module_pci_driver(hsnic_driver);

MODULE_DESCRIPTION("hsnic virtual PCIe NIC driver");
MODULE_LICENSE("GPL");
