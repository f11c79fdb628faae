// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: ethtool operations. They check requests and keep the driver's
 * copies of the RSS contexts, flow steering rules and coalescing settings;
 * hsnic_rpc.c writes those to the device.
 *
 * The netdev is ops locked: all of these run under the netdev instance
 * lock, and under RTNL too only for the ops named in op_needs_rtnl.
 */

#include <linux/bitfield.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/unaligned.h>
#include <net/netdev_queues.h>

#include "hsnic.h"

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

/* ---- rings ---- */

static void hsnic_get_ringparam(struct net_device *netdev,
				struct ethtool_ringparam *ring,
				struct kernel_ethtool_ringparam *kring,
				struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	ring->rx_max_pending = priv->max_ring;
	ring->tx_max_pending = priv->max_ring;
	ring->rx_pending = priv->cfg.rx_ring_size;
	ring->tx_pending = priv->cfg.tx_ring_size;
	kring->rx_buf_len = priv->cfg.rx_buf_len;
	kring->tcp_data_split = priv->cfg.hds ? ETHTOOL_TCP_DATA_SPLIT_ENABLED :
						ETHTOOL_TCP_DATA_SPLIT_DISABLED;
	kring->hds_thresh = priv->cfg.hds_thresh;
	if (priv->features & HSNIC_F_HDS)
		kring->hds_thresh_max = HSNIC_HDS_THRESH_MAX;
}

static int hsnic_set_ringparam(struct net_device *netdev,
			       struct ethtool_ringparam *ring,
			       struct kernel_ethtool_ringparam *kring,
			       struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 buf_max = min_t(u32, HSNIC_RX_PAGE_MAX, priv->max_rx_buf);
	struct hsnic_cfg cfg = priv->cfg;
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
	cfg.tx_ring_size = ring->tx_pending;
	cfg.rx_ring_size = ring->rx_pending;

	/* "unknown" means the default, which is off */
	cfg.hds = kring->tcp_data_split == ETHTOOL_TCP_DATA_SPLIT_ENABLED;
	if (cfg.hds && !(priv->features & HSNIC_F_HDS)) {
		NL_SET_ERR_MSG_MOD(extack, "the device has no header split");
		return -EOPNOTSUPP;
	}
	/* the core checked it against hds_thresh_max */
	cfg.hds_thresh = kring->hds_thresh;

	if (kring->rx_buf_len) {
		if (!is_power_of_2(kring->rx_buf_len) ||
		    kring->rx_buf_len < PAGE_SIZE ||
		    kring->rx_buf_len > buf_max) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "rx-buf-len must be a power of two from %lu to %u",
					       PAGE_SIZE, buf_max);
			return -EINVAL;
		}
		cfg.rx_buf_len = kring->rx_buf_len;
	}
	/* a bound memory provider was created for the current page size */
	if (cfg.rx_buf_len != priv->cfg.rx_buf_len && hsnic_any_mp(priv)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "can't change rx-buf-len while a memory provider is bound");
		return -EBUSY;
	}

	/* header split and rx-buf-len change what an XDP program sees */
	err = hsnic_check_mtu(priv, &cfg, priv->xdp_prog, netdev->mtu, extack);
	if (err)
		return err;

	if (cfg.tx_ring_size == priv->cfg.tx_ring_size &&
	    cfg.rx_ring_size == priv->cfg.rx_ring_size &&
	    cfg.rx_buf_len == priv->cfg.rx_buf_len &&
	    cfg.hds == priv->cfg.hds && cfg.hds_thresh == priv->cfg.hds_thresh)
		return 0;

	return hsnic_reconfigure(priv, &cfg, extack);
}

/* ---- channels ---- */

static void hsnic_get_channels(struct net_device *netdev,
			       struct ethtool_channels *ch)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	ch->max_combined = priv->max_qp;
	ch->combined_count = priv->cfg.num_qp;
	ch->max_other = 1;	/* device events */
	ch->other_count = 1;
}

/* The highest queue a delivering flow rule (not RX_CLS_FLOW_DISC) can
 * deliver to: its queue, or for a rule with FLOW_RSS its offset plus the
 * highest entry of its context's table (the core knows the tables, not
 * what the offsets add to them).
 */
static u32 hsnic_rule_top(const struct hsnic_priv *priv,
			  const struct ethtool_rx_flow_spec *fs, u32 rss_context)
{
	u32 j, off = ethtool_get_flow_spec_ring(fs->ring_cookie), top = off;

	if (!(fs->flow_type & FLOW_RSS) || rss_context >= HSNIC_RSS_CTX_NUM)
		return top;
	for (j = 0; j < HSNIC_RSS_INDIR_SIZE; j++)
		top = max(top, off + priv->rss[rss_context].indir[j]);
	return top;
}

/* The highest queue any flow rule can deliver to. */
static u32 hsnic_rules_top_queue(const struct hsnic_priv *priv)
{
	u32 i, top = 0;

	for (i = 0; i < HSNIC_NUM_RULES; i++) {
		const struct hsnic_rule *r = &priv->rules[i];

		if (r->valid && r->fs.ring_cookie != RX_CLS_FLOW_DISC)
			top = max(top, hsnic_rule_top(priv, &r->fs,
						      r->rss_context));
	}
	return top;
}

/* The core already refused counts that would orphan a memory provider,
 * an RSS table entry or a flow rule's own queue; a queue that a rule's
 * offset adds to an RSS table is ours to check.
 */
static int hsnic_set_channels(struct net_device *netdev,
			      struct ethtool_channels *ch)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_cfg cfg = priv->cfg;
	u32 top;

	if (ch->rx_count || ch->tx_count || ch->other_count != 1)
		return -EINVAL;
	if (ch->combined_count == priv->cfg.num_qp)
		return 0;
	top = hsnic_rules_top_queue(priv);
	if (ch->combined_count < priv->cfg.num_qp &&
	    top >= ch->combined_count) {
		netdev_err(netdev,
			   "a flow rule delivers to queue %u: cannot go down to %u channels\n",
			   top, ch->combined_count);
		return -EINVAL;
	}

	cfg.num_qp = ch->combined_count;
	return hsnic_reconfigure(priv, &cfg, NULL);
}

static u32 hsnic_get_rx_ring_count(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return priv->cfg.num_qp;
}

/* ---- interrupt moderation ---- */

static int hsnic_get_coalesce(struct net_device *netdev,
			      struct ethtool_coalesce *ec,
			      struct kernel_ethtool_coalesce *kec,
			      struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	ec->rx_coalesce_usecs = priv->coal.rx_usecs;
	ec->rx_max_coalesced_frames = priv->coal.rx_frames;
	ec->tx_coalesce_usecs = priv->coal.tx_usecs;
	ec->tx_max_coalesced_frames = priv->coal.tx_frames;

	return 0;
}

static int hsnic_set_coalesce(struct net_device *netdev,
			      struct ethtool_coalesce *ec,
			      struct kernel_ethtool_coalesce *kec,
			      struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 umax = FIELD_MAX(HSNIC_IRQ_MOD_USECS_MASK);
	u32 fmax = FIELD_MAX(HSNIC_IRQ_MOD_FRAMES_MASK);

	if (!(priv->features & HSNIC_F_IRQ_MOD)) {
		NL_SET_ERR_MSG_MOD(extack, "the device has no interrupt moderation");
		return -EOPNOTSUPP;
	}
	if (ec->rx_coalesce_usecs > umax || ec->tx_coalesce_usecs > umax) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "usecs must be at most %u", umax);
		return -ERANGE;
	}
	if (ec->rx_max_coalesced_frames > fmax ||
	    ec->tx_max_coalesced_frames > fmax) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "frames must be at most %u", fmax);
		return -ERANGE;
	}

	priv->coal.rx_usecs = ec->rx_coalesce_usecs;
	priv->coal.rx_frames = ec->rx_max_coalesced_frames;
	priv->coal.tx_usecs = ec->tx_coalesce_usecs;
	priv->coal.tx_frames = ec->tx_max_coalesced_frames;
	hsnic_coal_write(priv);

	return 0;
}

/* ---- statistics ---- */

static const char hsnic_dev_stat_names[][ETH_GSTRING_LEN] = {
	"resets",
	"faults",
};

static const char hsnic_dstat_names[HSNIC_DSTAT_NUM][ETH_GSTRING_LEN] = {
	[HSNIC_DSTAT_RX_FILTERED]	= "hw_rx_filtered",
	[HSNIC_DSTAT_RX_RULE_DROP]	= "hw_rx_rule_drop",
	[HSNIC_DSTAT_RX_RUNT]		= "hw_rx_runt",
	[HSNIC_DSTAT_RX_OVERSIZE]	= "hw_rx_oversize",
	[HSNIC_DSTAT_GUEST_ERRORS]	= "hw_guest_errors",
	[HSNIC_DSTAT_QUEUE_ERRORS]	= "hw_queue_errors",
	[HSNIC_DSTAT_RX_NO_QUEUE]	= "hw_rx_no_queue",
};

static const char hsnic_tx_stat_names[][ETH_GSTRING_LEN] = {
	"packets", "bytes", "dropped", "errors", "stops", "wakes", "csum",
	"tso_packets", "tso_bytes", "tso_segs", "xdp_xmit", "xdp_xmit_errors",
	"linearized",
};

/* xdp_*: verdicts of the program; xdp_*_errors: those of them that could
 * not be carried out (the frame was dropped)
 */
static const char hsnic_rx_stat_names[][ETH_GSTRING_LEN] = {
	"packets", "bytes", "dropped", "errors", "alloc_fail",
	"hdr_unreadable", "csum_ok", "csum_bad", "csum_none",
	"gro_hw_packets", "gro_hw_bytes", "gro_hw_wire_packets",
	"gro_hw_wire_bytes", "xdp_pass", "xdp_drop", "xdp_tx", "xdp_redirect", "xdp_aborted",
	"xdp_tx_errors", "xdp_redirect_errors",
};

static const char hsnic_rxs_names[HSNIC_RXS_NUM][ETH_GSTRING_LEN] = {
	[HSNIC_RXS_PACKETS]	= "hw_packets",
	[HSNIC_RXS_BYTES]	= "hw_bytes",
	[HSNIC_RXS_DROP_DOWN]	= "hw_drop_down",
	[HSNIC_RXS_DROP_NOBUF]	= "hw_drop_nobuf",
	[HSNIC_RXS_HDS_SPLIT]	= "hw_hds_split",
	[HSNIC_RXS_HDS_NOSPLIT]	= "hw_hds_nosplit",
	[HSNIC_RXS_HDR_OVF]	= "hw_hdr_ovf",
	[HSNIC_RXS_CSUM_OK]	= "hw_csum_ok",
	[HSNIC_RXS_CSUM_BAD]	= "hw_csum_bad",
	[HSNIC_RXS_WAIT_BUF]	= "hw_wait_buf",
	[HSNIC_RXS_RSC_FRAMES]	= "hw_rsc_frames",
	[HSNIC_RXS_RSC_SEGS]	= "hw_rsc_segs",
};

static const char hsnic_txs_names[HSNIC_TXS_NUM][ETH_GSTRING_LEN] = {
	[HSNIC_TXS_PACKETS]	= "hw_packets",
	[HSNIC_TXS_BYTES]	= "hw_bytes",
	[HSNIC_TXS_WIRE_PACKETS] = "hw_wire_packets",
	[HSNIC_TXS_WIRE_BYTES]	= "hw_wire_bytes",
	[HSNIC_TXS_TSO]		= "hw_tso",
	[HSNIC_TXS_CSUM]	= "hw_csum",
	[HSNIC_TXS_ERRORS]	= "hw_errors",
};

#define HSNIC_DEV_NSTATS	ARRAY_SIZE(hsnic_dev_stat_names)
#define HSNIC_TX_NSTATS		ARRAY_SIZE(hsnic_tx_stat_names)
#define HSNIC_RX_NSTATS		ARRAY_SIZE(hsnic_rx_stat_names)

static bool hsnic_has_qstats(const struct hsnic_priv *priv)
{
	return priv->features & HSNIC_F_QSTATS;
}

static int hsnic_get_sset_count(struct net_device *netdev, int sset)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int per_q = HSNIC_TX_NSTATS + HSNIC_RX_NSTATS;

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;

	if (hsnic_has_qstats(priv))
		per_q += HSNIC_TXS_NUM + HSNIC_RXS_NUM;

	return HSNIC_DEV_NSTATS + HSNIC_DSTAT_NUM + priv->cfg.num_qp * per_q;
}

static void hsnic_get_strings(struct net_device *netdev, u32 sset, u8 *data)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q, i;

	if (sset != ETH_SS_STATS)
		return;

	for (i = 0; i < HSNIC_DEV_NSTATS; i++)
		ethtool_puts(&data, hsnic_dev_stat_names[i]);
	for (i = 0; i < HSNIC_DSTAT_NUM; i++)
		ethtool_puts(&data, hsnic_dstat_names[i]);

	for (q = 0; q < priv->cfg.num_qp; q++) {
		for (i = 0; i < HSNIC_TX_NSTATS; i++)
			ethtool_sprintf(&data, "tx%u_%s", q,
					hsnic_tx_stat_names[i]);
		for (i = 0; i < HSNIC_RX_NSTATS; i++)
			ethtool_sprintf(&data, "rx%u_%s", q,
					hsnic_rx_stat_names[i]);
		if (!hsnic_has_qstats(priv))
			continue;
		for (i = 0; i < HSNIC_TXS_NUM; i++)
			ethtool_sprintf(&data, "tx%u_%s", q, hsnic_txs_names[i]);
		for (i = 0; i < HSNIC_RXS_NUM; i++)
			ethtool_sprintf(&data, "rx%u_%s", q, hsnic_rxs_names[i]);
	}
}

static void hsnic_get_ethtool_stats(struct net_device *netdev,
				    struct ethtool_stats *estats, u64 *data)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	unsigned int q, i;

	*data++ = priv->resets;
	*data++ = atomic64_read(&priv->faults);
	for (i = 0; i < HSNIC_DSTAT_NUM; i++)
		*data++ = hsnic_dev_hw_stat(priv, i);

	for (q = 0; q < priv->cfg.num_qp; q++) {
		struct hsnic_qp *qp = &priv->qps[q];
		struct hsnic_tx_stats tx;
		struct hsnic_rx_stats rx;

		hsnic_fetch_tx_stats(qp, &tx);
		*data++ = tx.packets;
		*data++ = tx.bytes;
		*data++ = tx.dropped;
		*data++ = tx.errors;
		*data++ = tx.stops;
		*data++ = tx.wakes;
		*data++ = tx.csum;
		*data++ = tx.tso_packets;
		*data++ = tx.tso_bytes;
		*data++ = tx.tso_segs;
		*data++ = tx.xdp_xmit;
		*data++ = tx.xdp_xmit_errors;
		*data++ = tx.linearized;

		hsnic_fetch_rx_stats(qp, &rx);
		*data++ = rx.packets;
		*data++ = rx.bytes;
		*data++ = rx.dropped;
		*data++ = rx.errors;
		*data++ = rx.alloc_fail;
		*data++ = rx.hdr_unreadable;
		*data++ = rx.csum_ok;
		*data++ = rx.csum_bad;
		*data++ = rx.csum_none;
		*data++ = rx.gro_hw_packets;
		*data++ = rx.gro_hw_bytes;
		*data++ = rx.gro_hw_wire_packets;
		*data++ = rx.gro_hw_wire_bytes;
		*data++ = rx.xdp_pass;
		*data++ = rx.xdp_drop;
		*data++ = rx.xdp_tx;
		*data++ = rx.xdp_redirect;
		*data++ = rx.xdp_aborted;
		*data++ = rx.xdp_tx_errors;
		*data++ = rx.xdp_redirect_errors;

		if (!hsnic_has_qstats(priv))
			continue;
		for (i = 0; i < HSNIC_TXS_NUM; i++)
			*data++ = hsnic_txq_hw_stat(priv, q, i);
		for (i = 0; i < HSNIC_RXS_NUM; i++)
			*data++ = hsnic_rxq_hw_stat(priv, q, i);
	}
}

/* ---- pause and FEC ----
 *
 * Neither is modelled: the device has no flow control (it neither sends
 * pause frames nor acts on received ones, which it delivers like any
 * other frame) and its link is a virtual wire without FEC. So the driver
 * has no pause or FEC operations and ethtool reports both as not
 * supported, rather than settings and counters that could never move.
 */

/* ---- register dump ---- */

static int hsnic_get_regs_len(struct net_device *netdev)
{
	return HSNIC_BAR0_SIZE;
}

static void hsnic_regs_rd(struct hsnic_priv *priv, u32 *buf, u32 off)
{
	buf[off / 4] = hsnic_rd32(priv, off);
}

static void hsnic_regs_rd64(struct hsnic_priv *priv, u32 *buf, u32 lo,
			    u32 hi)
{
	u64 val = hsnic_read_stat64(priv, lo, hi);

	buf[lo / 4] = lower_32_bits(val);
	buf[hi / 4] = upper_32_bits(val);
}

/* Dump the registers at their BAR0 offsets. Only registers the ABI
 * defines as readable are read: anything else is a guest error the device
 * counts. Doorbells are write-only and left out.
 */
static void hsnic_get_regs(struct net_device *netdev,
			   struct ethtool_regs *regs, void *p)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 *buf = p;
	u32 off, q, i;

	regs->version = hsnic_rd32(priv, HSNIC_REG_VERSION);

	for (off = HSNIC_REG_MAGIC; off <= HSNIC_REG_MAX_RX_BUF; off += 4)
		hsnic_regs_rd(priv, buf, off);
	for (i = 0; i < HSNIC_DSTAT_NUM; i++)
		hsnic_regs_rd64(priv, buf, HSNIC_REG_DSTAT_LO(i),
				HSNIC_REG_DSTAT_HI(i));

	for (q = 0; q < priv->dev_max_qp; q++) {
		hsnic_regs_rd(priv, buf, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(q)));
		if (priv->features & HSNIC_F_IRQ_MOD)
			hsnic_regs_rd(priv, buf,
				      HSNIC_REG_IRQ_MOD(HSNIC_VEC_QP(q)));
		for (off = HSNIC_Q_DESC_LO; off <= HSNIC_Q_CMPL_IDX; off += 4)
			hsnic_regs_rd(priv, buf, HSNIC_TXQ_REG(q, off));
		for (off = HSNIC_Q_DESC_LO; off <= HSNIC_RXQ_HDS_THRESH;
		     off += 4)
			hsnic_regs_rd(priv, buf, HSNIC_RXQ_REG(q, off));

		if (!hsnic_has_qstats(priv))
			continue;
		for (i = 0; i < HSNIC_RXS_NUM; i++)
			hsnic_regs_rd64(priv, buf, HSNIC_RXQ_STAT_LO(q, i),
					HSNIC_RXQ_STAT_HI(q, i));
		for (i = 0; i < HSNIC_TXS_NUM; i++)
			hsnic_regs_rd64(priv, buf, HSNIC_TXQ_STAT_LO(q, i),
					HSNIC_TXQ_STAT_HI(q, i));
	}

	if (priv->features & HSNIC_F_RULES) {
		for (q = 0; q < HSNIC_NUM_RULES; q++) {
			for (off = HSNIC_RULE_CTRL; off <= HSNIC_RULE_PROTO;
			     off += 4)
				hsnic_regs_rd(priv, buf, HSNIC_RULE(q) + off);
			for (off = HSNIC_RULE_SRC(0);
			     off <= HSNIC_RULE_DST_MASK(3); off += 4)
				hsnic_regs_rd(priv, buf, HSNIC_RULE(q) + off);
		}
	}

	if (priv->features & HSNIC_F_RSS) {
		for (q = 0; q < HSNIC_RSS_CTX_NUM; q++) {
			hsnic_regs_rd(priv, buf, HSNIC_RSS(q) + HSNIC_RSS_CTRL);
			hsnic_regs_rd(priv, buf,
				      HSNIC_RSS(q) + HSNIC_RSS_FIELDS);
			for (i = 0; i < HSNIC_RSS_KEY_SIZE / 4; i++)
				hsnic_regs_rd(priv, buf,
					      HSNIC_RSS(q) + HSNIC_RSS_KEY(i));
			for (i = 0; i < HSNIC_RSS_INDIR_SIZE / 4; i++)
				hsnic_regs_rd(priv, buf,
					      HSNIC_RSS(q) + HSNIC_RSS_INDIR(i));
		}
	}
}

/* ---- RSS ---- */

static u32 hsnic_get_rxfh_key_size(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return priv->features & HSNIC_F_RSS ? HSNIC_RSS_KEY_SIZE : 0;
}

static u32 hsnic_get_rxfh_indir_size(struct net_device *netdev)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	return priv->features & HSNIC_F_RSS ? HSNIC_RSS_INDIR_SIZE : 0;
}

static int hsnic_get_rxfh(struct net_device *netdev,
			  struct ethtool_rxfh_param *rxfh)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	const struct hsnic_rss_ctx *ctx = &priv->rss[0];
	unsigned int i;

	if (!(priv->features & HSNIC_F_RSS))
		return -EOPNOTSUPP;

	rxfh->hfunc = ETH_RSS_HASH_TOP;
	rxfh->input_xfrm = ctx->sym_xor ? RXH_XFRM_SYM_XOR : 0;
	if (rxfh->key)
		memcpy(rxfh->key, ctx->key, HSNIC_RSS_KEY_SIZE);
	if (rxfh->indir)
		for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++)
			rxfh->indir[i] = ctx->indir[i];

	return 0;
}

static int hsnic_rxfh_check(struct hsnic_priv *priv,
			    const struct ethtool_rxfh_param *rxfh,
			    struct netlink_ext_ack *extack)
{
	if (!(priv->features & HSNIC_F_RSS)) {
		NL_SET_ERR_MSG_MOD(extack, "the device has no RSS");
		return -EOPNOTSUPP;
	}
	if (rxfh->hfunc != ETH_RSS_HASH_NO_CHANGE &&
	    rxfh->hfunc != ETH_RSS_HASH_TOP) {
		NL_SET_ERR_MSG_MOD(extack, "only the Toeplitz hash is supported");
		return -EOPNOTSUPP;
	}
	/* the core checked that the hash fields suit a symmetric hash */
	if (rxfh->input_xfrm != RXH_XFRM_NO_CHANGE &&
	    rxfh->input_xfrm & ~RXH_XFRM_SYM_XOR) {
		NL_SET_ERR_MSG_MOD(extack, "only the sym-xor input transformation is supported");
		return -EOPNOTSUPP;
	}

	return 0;
}

/* Flow rules with FLOW_RSS add their queue offset to what context @c's
 * table picks: with the table @indir (NULL: unchanged) each sum must be
 * a queue that exists.
 */
static int hsnic_rss_rules_fit(struct hsnic_priv *priv, u32 c,
			       const u32 *indir, struct netlink_ext_ack *extack)
{
	u32 i, top = 0, off;

	if (!indir)
		return 0;
	for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++)
		top = max(top, indir[i]);
	for (i = 0; i < HSNIC_NUM_RULES; i++) {
		const struct hsnic_rule *r = &priv->rules[i];

		if (!r->valid || !(r->fs.flow_type & FLOW_RSS) ||
		    r->rss_context != c || r->fs.ring_cookie == RX_CLS_FLOW_DISC)
			continue;
		off = ethtool_get_flow_spec_ring(r->fs.ring_cookie);
		if (top + off >= priv->cfg.num_qp) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "flow rule %u adds %u to this table: queue %u does not exist",
					       i, off, top + off);
			return -EINVAL;
		}
	}
	return 0;
}

/* The core checked that every entry is a valid queue. */
static void hsnic_rxfh_apply(struct hsnic_priv *priv, unsigned int c,
			     const struct ethtool_rxfh_param *rxfh)
{
	struct hsnic_rss_ctx *ctx = &priv->rss[c];
	unsigned int i;

	if (rxfh->key)
		memcpy(ctx->key, rxfh->key, HSNIC_RSS_KEY_SIZE);
	if (rxfh->indir)
		for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++)
			ctx->indir[i] = rxfh->indir[i];
	if (rxfh->input_xfrm != RXH_XFRM_NO_CHANGE)
		ctx->sym_xor = rxfh->input_xfrm & RXH_XFRM_SYM_XOR;
	hsnic_rss_write(priv, c);
}

static int hsnic_set_rxfh(struct net_device *netdev,
			  struct ethtool_rxfh_param *rxfh,
			  struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	int err;

	err = hsnic_rxfh_check(priv, rxfh, extack);
	if (!err)
		err = hsnic_rss_rules_fit(priv, 0, rxfh->indir, extack);
	if (err)
		return err;

	hsnic_rxfh_apply(priv, 0, rxfh);
	return 0;
}

static int hsnic_create_rxfh_context(struct net_device *netdev,
				     struct ethtool_rxfh_context *ctx,
				     const struct ethtool_rxfh_param *rxfh,
				     struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 id = rxfh->rss_context;
	struct hsnic_rss_ctx *c;
	unsigned int i;
	int err;

	err = hsnic_rxfh_check(priv, rxfh, extack);
	if (err)
		return err;
	/* rxfh_max_num_contexts keeps the core below HSNIC_RSS_CTX_NUM */
	if (!id || id >= HSNIC_RSS_CTX_NUM)
		return -EINVAL;

	c = &priv->rss[id];
	c->used = true;
	c->sym_xor = false;
	c->fields = HSNIC_RSS_FIELDS_ALL;

	/* what the user did not give comes from context 0 and the channel
	 * count, and the core must learn what we picked
	 */
	if (!rxfh->key) {
		memcpy(c->key, priv->rss[0].key, HSNIC_RSS_KEY_SIZE);
		memcpy(ethtool_rxfh_context_key(ctx), c->key,
		       HSNIC_RSS_KEY_SIZE);
	}
	if (!rxfh->indir) {
		hsnic_rss_fill_default(c->indir, priv->cfg.num_qp);
		for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++)
			ethtool_rxfh_context_indir(ctx)[i] = c->indir[i];
	}
	if (rxfh->hfunc == ETH_RSS_HASH_NO_CHANGE)
		ctx->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->input_xfrm == RXH_XFRM_NO_CHANGE)
		ctx->input_xfrm = 0;

	hsnic_rxfh_apply(priv, id, rxfh);
	return 0;
}

static int hsnic_modify_rxfh_context(struct net_device *netdev,
				     struct ethtool_rxfh_context *ctx,
				     const struct ethtool_rxfh_param *rxfh,
				     struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	u32 id = rxfh->rss_context;
	int err;

	err = hsnic_rxfh_check(priv, rxfh, extack);
	if (err)
		return err;
	if (!id || id >= HSNIC_RSS_CTX_NUM || !priv->rss[id].used)
		return -ENOENT;
	err = hsnic_rss_rules_fit(priv, id, rxfh->indir, extack);
	if (err)
		return err;

	hsnic_rxfh_apply(priv, id, rxfh);
	return 0;
}

/* The core refuses to remove a context flow rules still point at. */
static int hsnic_remove_rxfh_context(struct net_device *netdev,
				     struct ethtool_rxfh_context *ctx,
				     u32 rss_context,
				     struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	if (!rss_context || rss_context >= HSNIC_RSS_CTX_NUM)
		return -ENOENT;

	priv->rss[rss_context].used = false;
	hsnic_rss_write(priv, rss_context);
	return 0;
}

/* The ethtool flow types the device has hash field selections for. TCP
 * and UDP may hash on any of addresses and ports, "other" IP frames on
 * addresses only.
 */
static int hsnic_rss_ftype(u32 flow_type, u32 *allowed)
{
	*allowed = RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 | RXH_L4_B_2_3;

	switch (flow_type) {
	case TCP_V4_FLOW:
		return HSNIC_RSS_FT_TCP4;
	case UDP_V4_FLOW:
		return HSNIC_RSS_FT_UDP4;
	case TCP_V6_FLOW:
		return HSNIC_RSS_FT_TCP6;
	case UDP_V6_FLOW:
		return HSNIC_RSS_FT_UDP6;
	case IPV4_FLOW:
		*allowed = RXH_IP_SRC | RXH_IP_DST;
		return HSNIC_RSS_FT_IP4;
	case IPV6_FLOW:
		*allowed = RXH_IP_SRC | RXH_IP_DST;
		return HSNIC_RSS_FT_IP6;
	default:
		return -EOPNOTSUPP;
	}
}

static struct hsnic_rss_ctx *hsnic_rss_ctx_get(struct hsnic_priv *priv,
					       u32 id)
{
	if (!(priv->features & HSNIC_F_RSS) || id >= HSNIC_RSS_CTX_NUM ||
	    !priv->rss[id].used)
		return NULL;

	return &priv->rss[id];
}

static int hsnic_get_rxfh_fields(struct net_device *netdev,
				 struct ethtool_rxfh_fields *nfc)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_rss_ctx *ctx;
	u32 allowed, bits;
	int t;

	ctx = hsnic_rss_ctx_get(priv, nfc->rss_context);
	if (!ctx)
		return -ENOENT;
	t = hsnic_rss_ftype(nfc->flow_type, &allowed);
	if (t < 0)
		return t;

	bits = field_get(HSNIC_RSS_FIELDS_MASK(t), ctx->fields);
	nfc->data = 0;
	if (bits & HSNIC_RSS_SRC_IP)
		nfc->data |= RXH_IP_SRC;
	if (bits & HSNIC_RSS_DST_IP)
		nfc->data |= RXH_IP_DST;
	if (bits & HSNIC_RSS_SRC_PORT)
		nfc->data |= RXH_L4_B_0_1;
	if (bits & HSNIC_RSS_DST_PORT)
		nfc->data |= RXH_L4_B_2_3;
	/* the device ignores port bits of "other" frames */
	nfc->data &= allowed;

	return 0;
}

static int hsnic_set_rxfh_fields(struct net_device *netdev,
				 const struct ethtool_rxfh_fields *nfc,
				 struct netlink_ext_ack *extack)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	struct hsnic_rss_ctx *ctx;
	u32 allowed, bits = 0;
	int t;

	ctx = hsnic_rss_ctx_get(priv, nfc->rss_context);
	if (!ctx)
		return -ENOENT;
	t = hsnic_rss_ftype(nfc->flow_type, &allowed);
	if (t < 0) {
		NL_SET_ERR_MSG_MOD(extack, "no hash field selection for this flow type");
		return t;
	}
	if (nfc->data & ~allowed) {
		NL_SET_ERR_MSG_MOD(extack,
				   "hash fields must be among IP addresses and, for TCP and UDP, ports");
		return -EINVAL;
	}

	if (nfc->data & RXH_IP_SRC)
		bits |= HSNIC_RSS_SRC_IP;
	if (nfc->data & RXH_IP_DST)
		bits |= HSNIC_RSS_DST_IP;
	if (nfc->data & RXH_L4_B_0_1)
		bits |= HSNIC_RSS_SRC_PORT;
	if (nfc->data & RXH_L4_B_2_3)
		bits |= HSNIC_RSS_DST_PORT;

	ctx->fields &= ~HSNIC_RSS_FIELDS_MASK(t);
	ctx->fields |= field_prep(HSNIC_RSS_FIELDS_MASK(t), bits);
	hsnic_rss_write(priv, nfc->rss_context);
	return 0;
}

/* ---- flow steering rules ---- */

static u32 hsnic_rule_count(const struct hsnic_priv *priv)
{
	u32 i, n = 0;

	for (i = 0; i < HSNIC_NUM_RULES; i++)
		n += priv->rules[i].valid;

	return n;
}

/* The device tries rules in index order, so "first" and "last" mean the
 * lowest and highest free index.
 */
/* A rule matching the same frames (same flow type, fields, masks and RSS
 * context; the action may differ), which a new rule without a location
 * replaces, as rss_ctx.py expects.
 */
static int hsnic_rule_same_match(const struct hsnic_priv *priv,
				 const struct ethtool_rx_flow_spec *fs,
				 u32 rss_context)
{
	const struct ethtool_rx_flow_spec *o;
	int i;

	for (i = 0; i < HSNIC_NUM_RULES; i++) {
		if (!priv->rules[i].valid ||
		    priv->rules[i].rss_context != rss_context)
			continue;
		o = &priv->rules[i].fs;
		if (o->flow_type == fs->flow_type &&
		    !memcmp(&o->h_u, &fs->h_u, sizeof(fs->h_u)) &&
		    !memcmp(&o->m_u, &fs->m_u, sizeof(fs->m_u)) &&
		    !memcmp(&o->h_ext, &fs->h_ext, sizeof(fs->h_ext)) &&
		    !memcmp(&o->m_ext, &fs->m_ext, sizeof(fs->m_ext)))
			return i;
	}
	return -ENOENT;
}

static int hsnic_rule_location(const struct hsnic_priv *priv,
			       const struct ethtool_rx_flow_spec *fs,
			       u32 rss_context)
{
	u32 loc = fs->location;
	int i;

	if (loc == RX_CLS_LOC_ANY || loc == RX_CLS_LOC_FIRST ||
	    loc == RX_CLS_LOC_LAST) {
		i = hsnic_rule_same_match(priv, fs, rss_context);
		if (i >= 0)
			return i;
	}

	switch (loc) {
	case RX_CLS_LOC_ANY:
	case RX_CLS_LOC_FIRST:
		for (i = 0; i < HSNIC_NUM_RULES; i++)
			if (!priv->rules[i].valid)
				return i;
		return -ENOSPC;
	case RX_CLS_LOC_LAST:
		for (i = HSNIC_NUM_RULES - 1; i >= 0; i--)
			if (!priv->rules[i].valid)
				return i;
		return -ENOSPC;
	default:
		return loc < HSNIC_NUM_RULES ? loc : -EINVAL;
	}
}

static int hsnic_rule_insert(struct hsnic_priv *priv,
			     struct ethtool_rxnfc *cmd)
{
	struct ethtool_rx_flow_spec *fs = &cmd->fs;
	struct hsnic_rule_hw hw;
	u32 rss_context = 0;
	struct hsnic_rule *r;
	int loc, err;

	if (!(priv->netdev->features & NETIF_F_NTUPLE))
		return -EOPNOTSUPP;

	if (fs->flow_type & FLOW_RSS) {
		rss_context = cmd->rss_context;
		if (!hsnic_rss_ctx_get(priv, rss_context))
			return -EINVAL;
	}

	/* the queue, or the offset added to what RSS picks: every queue the
	 * rule can deliver to must exist
	 */
	if (fs->ring_cookie != RX_CLS_FLOW_DISC &&
	    hsnic_rule_top(priv, fs, rss_context) >= priv->cfg.num_qp)
		return -EINVAL;

	err = hsnic_rule_to_hw(fs, rss_context, &hw);
	if (err)
		return err;

	loc = hsnic_rule_location(priv, fs, rss_context);
	if (loc < 0)
		return loc;

	fs->location = loc;
	r = &priv->rules[loc];
	r->valid = true;
	r->rss_context = rss_context;
	r->fs = *fs;
	hsnic_rule_write(priv, loc, &hw);

	return 0;
}

static int hsnic_rule_delete(struct hsnic_priv *priv, u32 loc)
{
	if (loc >= HSNIC_NUM_RULES || !priv->rules[loc].valid)
		return -ENOENT;

	priv->rules[loc].valid = false;
	hsnic_rule_write(priv, loc, NULL);
	return 0;
}

static int hsnic_get_rxnfc(struct net_device *netdev,
			   struct ethtool_rxnfc *cmd, u32 *rule_locs)
{
	struct hsnic_priv *priv = netdev_priv(netdev);
	const struct hsnic_rule *r;
	u32 i, n = 0;

	/* without HSNIC_F_RULES the table is empty, but the core asks for
	 * the rule count before removing an RSS context or channels
	 */
	switch (cmd->cmd) {
	case ETHTOOL_GRXCLSRLCNT:
		cmd->rule_cnt = hsnic_rule_count(priv);
		/* we pick locations for RX_CLS_LOC_ANY ourselves */
		cmd->data = HSNIC_NUM_RULES | RX_CLS_LOC_SPECIAL;
		return 0;
	case ETHTOOL_GRXCLSRULE:
		if (cmd->fs.location >= HSNIC_NUM_RULES)
			return -EINVAL;
		r = &priv->rules[cmd->fs.location];
		if (!r->valid)
			return -ENOENT;
		cmd->fs = r->fs;
		cmd->rss_context = r->rss_context;
		cmd->data = HSNIC_NUM_RULES;
		return 0;
	case ETHTOOL_GRXCLSRLALL:
		for (i = 0; i < HSNIC_NUM_RULES; i++) {
			if (!priv->rules[i].valid)
				continue;
			if (n == cmd->rule_cnt)
				return -EMSGSIZE;
			rule_locs[n++] = i;
		}
		cmd->rule_cnt = n;
		cmd->data = HSNIC_NUM_RULES;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int hsnic_set_rxnfc(struct net_device *netdev,
			   struct ethtool_rxnfc *cmd)
{
	struct hsnic_priv *priv = netdev_priv(netdev);

	if (!(priv->features & HSNIC_F_RULES))
		return -EOPNOTSUPP;

	switch (cmd->cmd) {
	case ETHTOOL_SRXCLSRLINS:
		return hsnic_rule_insert(priv, cmd);
	case ETHTOOL_SRXCLSRLDEL:
		return hsnic_rule_delete(priv, cmd->fs.location);
	default:
		return -EOPNOTSUPP;
	}
}

const struct ethtool_ops hsnic_ethtool_ops = {
	.supported_input_xfrm		= RXH_XFRM_SYM_XOR,
	.cap_rss_rxnfc_adds		= 1,
	.rxfh_per_ctx_fields		= 1,
	.rxfh_per_ctx_key		= 1,
	.rxfh_max_num_contexts		= HSNIC_RSS_CTX_NUM,
	.supported_coalesce_params	= ETHTOOL_COALESCE_USECS |
					  ETHTOOL_COALESCE_MAX_FRAMES,
	.supported_ring_params		= ETHTOOL_RING_USE_TCP_DATA_SPLIT |
					  ETHTOOL_RING_USE_HDS_THRS |
					  ETHTOOL_RING_USE_RX_BUF_LEN,
	/* netif_set_real_num_queues() and the link watch need RTNL */
	.op_needs_rtnl			= ETHTOOL_OP_NEEDS_RTNL_SCHANNELS |
					  ETHTOOL_OP_NEEDS_RTNL_GLINK,
	.get_drvinfo			= hsnic_get_drvinfo,
	.get_regs_len			= hsnic_get_regs_len,
	.get_regs			= hsnic_get_regs,
	.get_msglevel			= hsnic_get_msglevel,
	.set_msglevel			= hsnic_set_msglevel,
	.get_link			= ethtool_op_get_link,
	.get_coalesce			= hsnic_get_coalesce,
	.set_coalesce			= hsnic_set_coalesce,
	.get_ringparam			= hsnic_get_ringparam,
	.set_ringparam			= hsnic_set_ringparam,
	.get_strings			= hsnic_get_strings,
	.get_ethtool_stats		= hsnic_get_ethtool_stats,
	.get_sset_count			= hsnic_get_sset_count,
	.get_rxnfc			= hsnic_get_rxnfc,
	.set_rxnfc			= hsnic_set_rxnfc,
	.get_rx_ring_count		= hsnic_get_rx_ring_count,
	.get_rxfh_key_size		= hsnic_get_rxfh_key_size,
	.get_rxfh_indir_size		= hsnic_get_rxfh_indir_size,
	.get_rxfh			= hsnic_get_rxfh,
	.set_rxfh			= hsnic_set_rxfh,
	.get_rxfh_fields		= hsnic_get_rxfh_fields,
	.set_rxfh_fields		= hsnic_set_rxfh_fields,
	.create_rxfh_context		= hsnic_create_rxfh_context,
	.modify_rxfh_context		= hsnic_modify_rxfh_context,
	.remove_rxfh_context		= hsnic_remove_rxfh_context,
	.get_channels			= hsnic_get_channels,
	.set_channels			= hsnic_set_channels,
};
