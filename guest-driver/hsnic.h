/* SPDX-License-Identifier: GPL-2.0-only */
/* hsnic: Linux driver for the hsnic virtual PCIe NIC. */

#ifndef _HSNIC_H_
#define _HSNIC_H_

#include <linux/bpf.h>
#include <linux/if_vlan.h>
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "hsnic_abi.h"

#define HSNIC_DRV_NAME		"hsnic"

#define HSNIC_DEFAULT_RING	1024

/* Every RX buffer is one page: headroom, data, then room for the
 * skb_shared_info, so the first buffer of a frame becomes the skb head.
 */
#define HSNIC_RX_HEADROOM	XDP_PACKET_HEADROOM
#define HSNIC_RX_TRUESIZE	PAGE_SIZE
#define HSNIC_RX_BUF_LEN	\
	SKB_WITH_OVERHEAD(HSNIC_RX_TRUESIZE - HSNIC_RX_HEADROOM)

/* Longest frame the RX path can turn into an skb (head + frags). */
#define HSNIC_RX_MAX_FRAME	\
	min_t(u32, HSNIC_MAX_FRAME, (MAX_SKB_FRAGS + 1) * HSNIC_RX_BUF_LEN)

#define HSNIC_MIN_MTU		ETH_MIN_MTU
#define HSNIC_MAX_MTU		(HSNIC_RX_MAX_FRAME - VLAN_ETH_HLEN)

/* Wait for queue enable/disable and for a device reset to complete. */
#define HSNIC_POLL_US		10
#define HSNIC_Q_TIMEOUT_US	(100 * USEC_PER_MSEC)
#define HSNIC_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

#define HSNIC_TX_TIMEOUT	(5 * HZ)

struct hsnic_priv;

struct hsnic_tx_buf {
	struct sk_buff *skb;	/* set on the frame's last descriptor */
	DEFINE_DMA_UNMAP_ADDR(dma);
	DEFINE_DMA_UNMAP_LEN(len);
	bool frag;		/* mapped with skb_frag_dma_map() */
};

struct hsnic_tx_ring {
	struct hsnic_tx_desc *desc;
	struct hsnic_tx_cmpl *cmpl;
	struct hsnic_tx_buf *bufs;
	void __iomem *db;
	dma_addr_t desc_dma;
	dma_addr_t cmpl_dma;
	u32 size;
	u32 mask;
	u32 max_desc;		/* descriptors one frame may use */
	u32 wake_thresh;	/* free descriptors to restart the queue */

	/* producer side, ndo_start_xmit */
	u32 tail;
	u32 db_tail;		/* last value written to the doorbell */

	/* consumer side, NAPI */
	u32 head;		/* oldest descriptor not yet completed */
	u32 cmpl_head;
	bool cmpl_gen;
};

struct hsnic_rx_ring {
	struct hsnic_rx_desc *desc;
	struct hsnic_rx_cmpl *cmpl;
	struct page **pages;	/* page posted in each descriptor slot */
	struct page_pool *pp;
	void __iomem *db;
	dma_addr_t desc_dma;
	dma_addr_t cmpl_dma;
	u32 size;
	u32 mask;
	u32 head;		/* next buffer the device returns */
	u32 tail;		/* next slot to post a buffer in */
	u32 cmpl_head;
	bool cmpl_gen;

	/* frame being assembled across completions (and NAPI polls) */
	struct sk_buff *skb;
	u32 frame_bytes;
	bool frame_drop;	/* drop the rest of the frame */
	bool frame_err;		/* the device flagged the frame */
};

struct hsnic_tx_stats {
	/* written by NAPI */
	u64 packets;
	u64 bytes;
	u64 errors;		/* dropped by the device */
	struct u64_stats_sync syncp;

	/* written by ndo_start_xmit */
	u64 dropped;		/* dropped by the driver */
	u64 stops;
	struct u64_stats_sync xmit_syncp;
};

struct hsnic_rx_stats {
	u64 packets;
	u64 bytes;
	u64 dropped;		/* no memory, too many buffers */
	u64 errors;		/* device errors, bad completions */
	u64 alloc_fail;
	struct u64_stats_sync syncp;
};

struct hsnic_qp {
	struct napi_struct napi;
	struct hsnic_priv *priv;
	unsigned int idx;
	bool faulted;		/* bad completion seen, reset pending */

	struct hsnic_tx_ring tx;
	struct hsnic_rx_ring rx;

	struct hsnic_tx_stats tx_stats;
	struct hsnic_rx_stats rx_stats;

	char irq_name[IFNAMSIZ + 16];
};

struct hsnic_priv {
	struct net_device *netdev;
	struct pci_dev *pdev;
	void __iomem *regs;

	u32 features;		/* HSNIC_REG_FEATURES */
	u32 max_ring;
	u32 tx_ring_size;
	u32 rx_ring_size;
	bool up;		/* rings allocated and queues enabled */
	u32 msg_enable;

	struct work_struct reset_task;
	u64 resets;

	struct mutex link_lock;	/* serialises carrier updates */

	char evt_irq_name[IFNAMSIZ + 16];

	unsigned int num_qp;
	struct hsnic_qp qps[] __counted_by(num_qp);
};

static inline u32 hsnic_rd32(const struct hsnic_priv *priv, u32 reg)
{
	return readl(priv->regs + reg);
}

static inline void hsnic_wr32(const struct hsnic_priv *priv, u32 reg, u32 val)
{
	writel(val, priv->regs + reg);
}

/* hsnic_main.c */
void hsnic_schedule_reset(struct hsnic_priv *priv);

/* hsnic_txrx.c */
int hsnic_qp_alloc(struct hsnic_qp *qp);
void hsnic_qp_free(struct hsnic_qp *qp);
void hsnic_rx_kick(struct hsnic_qp *qp);
netdev_tx_t hsnic_start_xmit(struct sk_buff *skb, struct net_device *netdev);
int hsnic_poll(struct napi_struct *napi, int budget);
irqreturn_t hsnic_qp_irq(int irq, void *data);

#endif /* _HSNIC_H_ */
