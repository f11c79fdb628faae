// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: device counters, the driver's per queue pair counters, and the
 * netdev statistics built from them (ndo_get_stats64, queue stats).
 */

#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>
#include <net/netdev_queues.h>

#include "hsnic.h"

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
void hsnic_hw_stats_fold(struct hsnic_priv *priv)
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
		s->linearized = tx->linearized;
	} while (u64_stats_fetch_retry(&tx->xmit_syncp, start));
}

/* Counters live in the queue pairs for the netdev's lifetime; summing all
 * of them keeps the totals steady across channel changes.
 */
void hsnic_get_stats64(struct net_device *netdev,
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

const struct netdev_stat_ops hsnic_stat_ops = {
	.get_queue_stats_rx	= hsnic_get_queue_stats_rx,
	.get_queue_stats_tx	= hsnic_get_queue_stats_tx,
	.get_base_stats		= hsnic_get_base_stats,
};
