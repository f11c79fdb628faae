// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: netdev operations, bringing all queues up and down, device
 * reset, MTU and XDP setup.
 *
 * Locking: the netdev is "ops locked" (it has queue_mgmt_ops), so every
 * control path runs under the netdev instance lock: ndo_open/ndo_stop and
 * the other ndos (with RTNL too), ethtool ops (RTNL only for the ops named
 * in op_needs_rtnl), queue management and qstat ops, the reset task and
 * the debugfs knobs (which take it themselves). The instance lock is what
 * protects priv->cfg, priv->up, the rings and the RSS/rule shadows.
 */

#include <linux/cpumask.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/netdevice.h>
#include <net/netdev_lock.h>
#include <net/netdev_queues.h>
#include <net/sock.h>

#include "hsnic.h"

/* ---- device control ---- */

int hsnic_hw_reset(struct device *dev, void __iomem *regs)
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

void hsnic_update_link(struct hsnic_priv *priv)
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

void hsnic_events_enable(struct hsnic_priv *priv)
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

/* ---- all queues up and down ---- */

static void hsnic_free_qp_irq(struct hsnic_priv *priv, struct hsnic_qp *qp)
{
	int irq = pci_irq_vector(priv->pdev, HSNIC_VEC_QP(qp->idx));

	if (!qp->irq_requested)
		return;

	netif_napi_set_irq_locked(&qp->napi, -1);
	irq_update_affinity_hint(irq, NULL);
	free_irq(irq, qp);
	qp->irq_requested = false;
}

/* Queue pair n's vector on CPU n (mod the CPUs, nearest node first), as
 * NIC drivers spread their queues: its affinity hint, and the first time
 * the vector is requested its affinity, so that a queue's interrupts and
 * NAPI stay on one CPU. An affinity the user set afterwards is theirs: the
 * IRQ core keeps it across free_irq() and request_irq(), so it survives
 * down/up, ring, channel and XDP changes. (Transmit: hsnic_set_xps().)
 */
static void hsnic_spread_qp(struct hsnic_priv *priv, struct hsnic_qp *qp,
			    int irq)
{
	unsigned int cpu = cpumask_local_spread(qp->idx,
						dev_to_node(&priv->pdev->dev));
	const struct cpumask *mask = cpumask_of(cpu);
	int err;

	if (qp->irq_spread)
		err = irq_update_affinity_hint(irq, mask);
	else
		err = irq_set_affinity_and_hint(irq, mask);
	if (err)
		netdev_warn(priv->netdev,
			    "queue pair %u: IRQ %d affinity to CPU %u: %d\n",
			    qp->idx, irq, cpu, err);
	qp->irq_spread = true;
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
	hsnic_spread_qp(priv, qp, irq);

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

/* XPS: each CPU transmits on one queue, CPU c on queue c % n, so that
 * what one CPU sends (e.g. a packet socket's frames of many flows) leaves
 * in the order it was sent; queues no CPU maps to carry the frames of
 * connected sockets (hsnic_select_queue()). Set only when the queue count
 * changes, so maps written by the user survive a reset.
 */
static void hsnic_set_xps(struct hsnic_priv *priv, unsigned int n)
{
	unsigned int q, cpu;
	cpumask_var_t mask;

	if (priv->xps_qp == n || !zalloc_cpumask_var(&mask, GFP_KERNEL))
		return;
	for (q = 0; q < n; q++) {
		cpumask_clear(mask);
		for_each_possible_cpu(cpu)
			if (cpu % n == q)
				cpumask_set_cpu(cpu, mask);
		netif_set_xps_queue(priv->netdev, mask, q);
	}
	free_cpumask_var(mask);
	priv->xps_qp = n;
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
	hsnic_set_xps(priv, n);

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
void hsnic_down(struct hsnic_priv *priv)
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

void hsnic_reset_task(struct work_struct *work)
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

const struct net_device_ops hsnic_netdev_ops = {
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
