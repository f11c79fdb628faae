// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: Linux driver for the hsnic virtual PCIe NIC.
 *
 * PCI probe and remove, BAR and MSI-X setup, the device event vector, and
 * the module itself. The top layer: see README.md for how the files call
 * each other.
 */

#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <linux/unaligned.h>
#include <net/netdev_lock.h>
#include <net/netdev_queues.h>

#include "hsnic.h"

static bool db_rec = true;
module_param(db_rec, bool, 0444);
MODULE_PARM_DESC(db_rec,
		 "Use doorbell records when the device has them, so that the hypervisor can take doorbells as eventfds (default: on)");

#define HSNIC_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_LINK | NETIF_MSG_IFUP | \
				 NETIF_MSG_IFDOWN)

/* ---- device events ---- */

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

/* ---- PCI ---- */

static void hsnic_read_mac(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	u32 lo = hsnic_rd32(priv, HSNIC_REG_MAC_LO);
	u32 hi = hsnic_rd32(priv, HSNIC_REG_MAC_HI);
	u8 addr[ETH_ALEN];

	/* byte 0 in bits 7:0 of MAC_LO, bytes 4 and 5 in 15:0 of MAC_HI */
	put_unaligned_le32(lo, addr);
	put_unaligned_le16(hi, addr + 4);

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

/* Enable the function, map BAR0 into @regsp and set up DMA. */
static int hsnic_pci_map(struct pci_dev *pdev, void __iomem **regsp)
{
	struct device *dev = &pdev->dev;
	void __iomem *regs;
	int err;

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

	*regsp = regs;
	return 0;
}

/* Check that the device is an hsnic with an ABI this driver speaks, and
 * reset it. Returns the ABI version in @version.
 */
static int hsnic_dev_check(struct pci_dev *pdev, void __iomem *regs,
			   u32 *version)
{
	struct device *dev = &pdev->dev;
	u32 magic;

	magic = readl(regs + HSNIC_REG_MAGIC);
	if (magic != HSNIC_MAGIC)
		return dev_err_probe(dev, -ENODEV,
				     "bad magic %#010x, expected %#010x\n",
				     magic, HSNIC_MAGIC);

	*version = readl(regs + HSNIC_REG_VERSION);
	if (FIELD_GET(HSNIC_VERSION_MAJOR_MASK, *version) != HSNIC_ABI_MAJOR)
		return dev_err_probe(dev, -ENODEV,
				     "unsupported device ABI %u.%u, driver supports %u.x\n",
				     FIELD_GET(HSNIC_VERSION_MAJOR_MASK, *version),
				     FIELD_GET(HSNIC_VERSION_MINOR_MASK, *version),
				     HSNIC_ABI_MAJOR);

	pci_set_master(pdev);

	return hsnic_hw_reset(dev, regs);
}

/* What the device has, capped to what the driver supports. */
struct hsnic_caps {
	u32 max_qp;
	u32 max_ring;
	u32 max_rx_buf;
	u32 features;
};

static int hsnic_read_caps(struct device *dev, void __iomem *regs,
			   struct hsnic_caps *caps)
{
	u32 max_qp, max_ring, max_rx_buf;

	max_qp = readl(regs + HSNIC_REG_MAX_QP);
	max_ring = readl(regs + HSNIC_REG_MAX_RING);
	max_rx_buf = readl(regs + HSNIC_REG_MAX_RX_BUF);
	caps->features = readl(regs + HSNIC_REG_FEATURES);
	if (!max_qp || max_ring < HSNIC_MIN_RING || max_rx_buf < PAGE_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "bad device limits: %u queue pairs, %u ring entries, %u byte RX buffers\n",
				     max_qp, max_ring, max_rx_buf);
	caps->max_qp = min(max_qp, HSNIC_MAX_QP);
	caps->max_ring = rounddown_pow_of_two(min(max_ring, HSNIC_MAX_RING));
	caps->max_rx_buf = min(max_rx_buf, HSNIC_MAX_RX_BUF);

	return 0;
}

/* Fill in a new priv with @nqp queue pairs: limits, default settings,
 * locks, work, and the queue pairs, which live as long as it.
 */
static void hsnic_priv_init(struct hsnic_priv *priv, struct pci_dev *pdev,
			    void __iomem *regs, const struct hsnic_caps *caps,
			    unsigned int nqp)
{
	struct device *dev = &pdev->dev;
	unsigned int q, def;

	priv->pdev = pdev;
	priv->regs = regs;
	priv->features = caps->features;
	priv->dev_max_qp = caps->max_qp;
	priv->max_qp = nqp;
	priv->max_ring = caps->max_ring;
	priv->max_rx_buf = caps->max_rx_buf;
	priv->msg_enable = HSNIC_MSG_DEFAULT;

	if ((caps->features & HSNIC_F_DB_REC) && db_rec) {
		priv->db_rec = dmam_alloc_coherent(dev, caps->max_qp *
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
	priv->cfg.tx_ring_size = min(HSNIC_DEFAULT_RING, caps->max_ring);
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
}

/* Operations, MTU range and features of the netdev. */
static void hsnic_netdev_init(struct hsnic_priv *priv)
{
	struct net_device *netdev = priv->netdev;

	hsnic_read_mac(priv);

	netdev->netdev_ops = &hsnic_netdev_ops;
	netdev->ethtool_ops = &hsnic_ethtool_ops;
	netdev->stat_ops = &hsnic_stat_ops;
	/* makes the netdev "ops locked": see hsnic_netdev.c */
	netdev->queue_mgmt_ops = &hsnic_queue_mgmt_ops;
	netdev->watchdog_timeo = HSNIC_TX_TIMEOUT;
	netdev->min_mtu = HSNIC_MIN_MTU;
	netdev->max_mtu = HSNIC_MAX_MTU;
	hsnic_set_features_init(priv);
}

static int hsnic_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct device *dev = &pdev->dev;
	struct net_device *netdev;
	struct hsnic_priv *priv;
	struct hsnic_caps caps;
	void __iomem *regs;
	u32 version;
	unsigned int nqp;
	int nvec, err;

	err = hsnic_pci_map(pdev, &regs);
	if (err)
		return err;
	err = hsnic_dev_check(pdev, regs, &version);
	if (err)
		return err;
	err = hsnic_read_caps(dev, regs, &caps);
	if (err)
		return err;
	/* RSC completions carry rsc_l4off and rsc_inner since ABI 2.2 */
	if (FIELD_GET(HSNIC_VERSION_MINOR_MASK, version) < 2 &&
	    caps.features & HSNIC_F_RSC) {
		dev_info(dev, "device ABI 2.%u: no rx-gro-hw (needs 2.2)\n",
			 FIELD_GET(HSNIC_VERSION_MINOR_MASK, version));
		caps.features &= ~HSNIC_F_RSC;
	}

	/* vector 0 for device events, one per queue pair after it */
	nvec = pci_alloc_irq_vectors(pdev, HSNIC_VEC_QP(0) + 1,
				     HSNIC_VEC_QP(caps.max_qp - 1) + 1,
				     PCI_IRQ_MSIX);
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
	hsnic_priv_init(priv, pdev, regs, &caps, nqp);
	hsnic_netdev_init(priv);

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
		   FIELD_GET(HSNIC_VERSION_MINOR_MASK, version), caps.features,
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
