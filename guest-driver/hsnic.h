/* SPDX-License-Identifier: GPL-2.0-only */
/* hsnic: Linux driver for the hsnic virtual PCIe NIC. */

#ifndef _HSNIC_H_
#define _HSNIC_H_

#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/netdev_queues.h>
#include <net/netmem.h>
#include <net/xdp.h>

#include "hsnic_abi.h"

#define HSNIC_DRV_NAME		"hsnic"

#define HSNIC_DEFAULT_RING	1024
#define HSNIC_DEFAULT_TX_USECS	1000
#define HSNIC_DEFAULT_TX_FRAMES	64
#define HSNIC_RX_REFILL_BATCH	32

/* What the device may fill of a buffer of @truesize bytes that starts
 * with @headroom and ends with room for an skb_shared_info: such a buffer
 * becomes an skb head, or the linear part of an xdp_buff, as is.
 */
#define HSNIC_RX_BUF_LEN(truesize, headroom)				\
	ALIGN_DOWN(SKB_WITH_OVERHEAD((truesize) - (headroom)),		\
		   HSNIC_RX_BUF_ALIGN)

/* Header buffers are page_pool fragments of HSNIC_HDR_TRUESIZE bytes laid
 * out that way, with the skb headroom, or XDP_PACKET_HEADROOM while an XDP
 * program runs on them.
 */
#define HSNIC_RX_HEADROOM	NET_SKB_PAD
#define HSNIC_HDR_TRUESIZE	2048
#define HSNIC_HDR_BUF_LEN	\
	HSNIC_RX_BUF_LEN(HSNIC_HDR_TRUESIZE, HSNIC_RX_HEADROOM)
#define HSNIC_HDR_BUF_LEN_XDP	\
	HSNIC_RX_BUF_LEN(HSNIC_HDR_TRUESIZE, XDP_PACKET_HEADROOM)

/* Frames with at most this much payload may stay whole in the header
 * buffer; leaves at least HSNIC_HDR_BUF_LEN_XDP - 1024 bytes for the
 * headers.
 */
#define HSNIC_HDS_THRESH_MAX	1024

/* Without a header buffer the headers are copied out of the first
 * payload buffer into a small skb head; frames this short are copied
 * whole and their buffer goes straight back to the page pool.
 */
#define HSNIC_RX_COPY_LEN	256

/* Payload buffers are page_pool pages of rx_page_size bytes: whole, or,
 * while an XDP program runs on them without header split, laid out like
 * header buffers with XDP_PACKET_HEADROOM (see hsnic_rx_layout()).
 */
#define HSNIC_RX_PAGE_MAX	SZ_64K

/* Longest frame the RX path can turn into an skb: at most one frag per
 * payload buffer, and buffers are at least PAGE_SIZE long.
 */
#define HSNIC_RX_MAX_FRAME	\
	min_t(u32, HSNIC_MAX_FRAME, MAX_SKB_FRAGS * PAGE_SIZE)

#define HSNIC_MIN_MTU		ETH_MIN_MTU
#define HSNIC_MAX_MTU		(HSNIC_RX_MAX_FRAME - VLAN_ETH_HLEN)

/* Wait for queue enable/disable and for a device reset to complete. */
#define HSNIC_POLL_US		10
#define HSNIC_Q_TIMEOUT_US	(100 * USEC_PER_MSEC)
#define HSNIC_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

#define HSNIC_TX_TIMEOUT	(5 * HZ)

/* Retry an RX refill that could not get memory after this long. */
#define HSNIC_REFILL_DELAY	1	/* jiffies */

struct hsnic_priv;

/* What a TX descriptor carries, and what its completion gives back. */
enum hsnic_tx_type {
	HSNIC_TX_SKB,		/* ndo_start_xmit: mapped here, skb freed */
	HSNIC_TX_XDP_TX,	/* XDP_TX: page_pool buffer of this queue pair,
				 * mapped by its pool, recycled
				 */
	HSNIC_TX_XDP_FRAME,	/* ndo_xdp_xmit: mapped here, frame returned */
};

struct hsnic_tx_buf {
	union {
		struct sk_buff *skb;	/* HSNIC_TX_SKB, last descriptor */
		struct xdp_frame *xdpf;	/* HSNIC_TX_XDP_FRAME, last one */
		netmem_ref netmem;	/* HSNIC_TX_XDP_TX, every one */
	};
	DEFINE_DMA_UNMAP_ADDR(dma);
	DEFINE_DMA_UNMAP_LEN(len);	/* 0: nothing to unmap */
	u32 bytes;		/* last descriptor: bytes on the wire */
	u16 segs;		/* last descriptor: packets on the wire */
	u8 type;		/* enum hsnic_tx_type */
	bool head;		/* mapped with dma_map_single() */
	bool last;		/* the frame's last descriptor */
};

struct hsnic_tx_ring {
	struct hsnic_tx_desc *desc;
	struct hsnic_tx_cmpl *cmpl;
	struct hsnic_tx_buf *bufs;
	void __iomem *db;
	struct hsnic_db_rec *db_rec;	/* NULL without doorbell records */
	dma_addr_t desc_dma;
	dma_addr_t cmpl_dma;
	u32 size;
	u32 mask;
	u32 max_desc;		/* descriptors one frame may use */
	u32 wake_thresh;	/* free descriptors to restart the queue */

	/* producer side: ndo_start_xmit, XDP_TX and ndo_xdp_xmit, all under
	 * the netdev TX queue lock
	 */
	u32 tail;
	u32 db_tail;		/* last value written to the doorbell */

	/* consumer side, NAPI */
	u32 head;		/* oldest descriptor not yet completed */
	u32 cmpl_head;
	bool cmpl_gen;
};

struct hsnic_hdr_buf {
	struct page *page;
	u32 offset;		/* of the fragment in the page */
};

/* Everything an RX queue owns. This is also the queue memory the core's
 * queue management API allocates, starts, stops and frees, so it must
 * stay self-contained: nothing in it may point into struct hsnic_qp.
 */
struct hsnic_rx_ring {
	/* payload buffers: one netmem of buf_len bytes per slot */
	struct hsnic_rx_desc *desc;
	netmem_ref *bufs;
	struct page_pool *pp;
	void __iomem *db;
	struct hsnic_db_rec *db_rec;	/* NULL without doorbell records */
	dma_addr_t desc_dma;
	u32 head;		/* next buffer the device fills */
	u32 tail;		/* next slot to post a buffer in */
	u32 fill;		/* payload buffers to keep posted */

	/* header buffers, with header split only */
	struct hsnic_rx_desc *hdr_desc;
	struct hsnic_hdr_buf *hdr_bufs;
	struct page_pool *hdr_pp;
	void __iomem *hdr_db;
	dma_addr_t hdr_desc_dma;
	u32 hdr_head;
	u32 hdr_tail;

	/* one completion per frame */
	struct hsnic_rx_cmpl *cmpl;
	struct device *dev;
	dma_addr_t cmpl_dma;
	u32 cmpl_head;
	bool cmpl_gen;

	u32 size;
	u32 mask;
	u32 page_len;		/* payload buffer truesize, the pool's page size */
	u32 headroom;		/* payload buffer bytes before what the device
				 * fills (XDP only)
				 */
	u32 buf_len;		/* BUF_LEN: payload bytes per buffer */
	u32 hdr_headroom;
	u32 hdr_buf_len;	/* HDR_BUF_LEN */
	u32 hds_thresh;
	bool hds;		/* header split on */
	bool xdp;		/* buffers laid out for XDP, xdp_rxq registered */
	bool rsc;		/* CTRL.RSC: the device coalesces segments */
	bool unreadable;	/* payload pool backed by a memory provider */
	bool started;		/* the device has seen the rings */

	struct xdp_rxq_info xdp_rxq;
};

struct hsnic_tx_stats {
	/* written by NAPI */
	u64 packets;		/* on the wire, after segmentation */
	u64 bytes;
	u64 errors;		/* frames the device dropped */
	u64 wakes;
	struct u64_stats_sync syncp;

	/* written by ndo_start_xmit */
	u64 dropped;		/* frames the driver dropped */
	u64 stops;
	u64 csum;		/* frames with HSNIC_TXD_CSUM */
	u64 tso_packets;	/* frames with HSNIC_TXD_TSO */
	u64 tso_bytes;
	u64 tso_segs;
	u64 xdp_xmit;		/* frames ndo_xdp_xmit queued (also under the
				 * TX queue lock)
				 */
	u64 xdp_xmit_errors;	/* frames it refused */
	u64 linearized;		/* frames copied into one buffer: more
				 * fragments than max_desc
				 */
	struct u64_stats_sync xmit_syncp;
};

struct hsnic_rx_stats {
	u64 packets;
	u64 bytes;
	u64 dropped;		/* no memory, too many buffers */
	u64 errors;		/* bad completions */
	u64 alloc_fail;
	u64 hdr_unreadable;	/* dropped: headers in unreadable memory */
	u64 csum_ok;
	u64 csum_bad;
	u64 csum_none;
	/* frames the device coalesced (NETIF_F_GRO_HW), and their segments */
	u64 gro_hw_packets;
	u64 gro_hw_bytes;
	u64 gro_hw_wire_packets;
	u64 gro_hw_wire_bytes;
	/* XDP verdicts, and those of them that could not be carried out */
	u64 xdp_pass;
	u64 xdp_drop;
	u64 xdp_tx;
	u64 xdp_redirect;
	u64 xdp_aborted;
	u64 xdp_tx_errors;	/* XDP_TX the TX ring could not take */
	u64 xdp_redirect_errors;
	struct u64_stats_sync syncp;
};

/* A queue pair: one TX queue, one RX queue, one MSI-X vector, one NAPI.
 * The array of them lives as long as the netdev, so that counters
 * survive ifdown, channel changes, queue restarts and device resets.
 */
struct hsnic_qp {
	struct napi_struct napi;
	struct hsnic_priv *priv;
	unsigned int idx;
	bool napi_added;
	bool napi_enabled;
	bool irq_requested;
	bool irq_spread;	/* vector's affinity set once (the user's after) */
	bool faulted;		/* bad completion seen, reset pending */
	struct timer_list refill_timer;

	struct hsnic_tx_ring tx;
	struct hsnic_rx_ring rx;

	struct hsnic_tx_stats tx_stats;
	struct hsnic_rx_stats rx_stats;

	/* device counters up to the last device reset */
	u64 hw_rx_base[HSNIC_RXS_NUM];
	u64 hw_tx_base[HSNIC_TXS_NUM];

	char irq_name[IFNAMSIZ + 16];
};

/* Settings that shape the queues; changing any of them re-creates them. */
struct hsnic_cfg {
	u32 num_qp;		/* combined channels */
	u32 tx_ring_size;
	u32 rx_ring_size;
	u32 rx_buf_len;		/* default rx_page_size (ethtool rx-buf-len) */
	u32 hds_thresh;
	bool hds;		/* tcp-data-split enabled */
	bool xdp;		/* buffers laid out for an XDP program */
};

/* Driver copy of an RSS context, programmed again after a device reset. */
struct hsnic_rss_ctx {
	bool used;
	bool sym_xor;		/* input-xfrm sym-xor */
	u32 fields;		/* HSNIC_RSS_FIELDS register */
	u8 key[HSNIC_RSS_KEY_SIZE];
	u8 indir[HSNIC_RSS_INDIR_SIZE];
};

/* Driver copy of a flow steering rule, as ethtool gave it. */
struct hsnic_rule {
	bool valid;
	u32 rss_context;
	struct ethtool_rx_flow_spec fs;
};

struct hsnic_coal {
	u32 rx_usecs;
	u32 rx_frames;
	u32 tx_usecs;
	u32 tx_frames;
};

struct hsnic_priv {
	struct net_device *netdev;
	struct pci_dev *pdev;
	void __iomem *regs;

	u32 features;		/* HSNIC_REG_FEATURES */
	u32 dev_max_qp;		/* queue pairs the device has */
	u32 max_qp;		/* queue pairs we have vectors for */
	u32 max_ring;
	u32 max_rx_buf;
	u32 msg_enable;
	u32 xps_qp;		/* queue pairs the XPS maps were set for */

	/* doorbell records, one per device queue pair (HSNIC_F_DB_REC) */
	struct hsnic_db_rec *db_rec;
	dma_addr_t db_rec_dma;

	/* The fields below are protected by the netdev instance lock. */
	struct hsnic_cfg cfg;
	bool up;		/* rings allocated and queues enabled */
	bool rsc;		/* NETIF_F_GRO_HW wanted (never with XDP) */
	struct hsnic_coal coal;
	struct hsnic_rss_ctx rss[HSNIC_RSS_CTX_NUM];
	struct hsnic_rule rules[HSNIC_NUM_RULES];
	struct page *held_page;	/* debugfs pp_hold */
	struct page_pool *held_pool;
	/* written under the instance lock, read by NAPI with READ_ONCE() */
	struct bpf_prog *xdp_prog;

	/* queue pairs ndo_xdp_xmit may use: 0 while the TX rings are not
	 * ready, published with smp_store_release()
	 */
	unsigned int xdp_tx_qps;

	struct work_struct reset_task;
	u64 resets;
	atomic64_t faults;		/* invalid completions seen */

	struct mutex link_lock;	/* serialises carrier updates */

	/* device counters: LO/HI read pairs, base up to the last reset */
	spinlock_t hw_stats_lock;
	u64 dstat_base[HSNIC_DSTAT_NUM];

	struct dentry *dbg_dir;
	char evt_irq_name[IFNAMSIZ + 16];

	unsigned int nr_qps;
	struct hsnic_qp qps[] __counted_by(nr_qps);
};

static inline u32 hsnic_rd32(const struct hsnic_priv *priv, u32 reg)
{
	return readl(priv->regs + reg);
}

static inline void hsnic_wr32(const struct hsnic_priv *priv, u32 reg, u32 val)
{
	writel(val, priv->regs + reg);
}

/* A reset re-creates the queues: from any context, including NAPI. */
static inline void hsnic_schedule_reset(struct hsnic_priv *priv)
{
	schedule_work(&priv->reset_task);
}

static inline u32 hsnic_rx_posted(const struct hsnic_rx_ring *rx)
{
	return (rx->tail - rx->head) & rx->mask;
}

static inline u32 hsnic_hdr_posted(const struct hsnic_rx_ring *rx)
{
	return (rx->hdr_tail - rx->hdr_head) & rx->mask;
}

/* The files are layered, each calling only into the ones listed before
 * it (README.md): rpc and stats program and read the device, tx and txrx
 * are the hot path, queue the queue life cycle, netdev brings the interface up and
 * down, ethtool and debugfs translate user requests, pci probes.
 */

/* hsnic_rpc.c */

/* Register values of a flow steering rule. */
struct hsnic_rule_hw {
	u32 ctrl;
	u32 dest;
	u32 ports;
	u32 ports_mask;
	u32 proto;
	u32 src[4];
	u32 src_mask[4];
	u32 dst[4];
	u32 dst_mask[4];
};

void hsnic_write_rx_mode(struct hsnic_priv *priv, bool any_mc);
void hsnic_hw_config(struct hsnic_priv *priv, bool any_mc);
void hsnic_coal_write(struct hsnic_priv *priv);
void hsnic_rss_write(struct hsnic_priv *priv, unsigned int ctx);
void hsnic_rss_fill_default(u8 *indir, u32 num_qp);
void hsnic_rss_init(struct hsnic_priv *priv);
void hsnic_rss_default_indir(struct hsnic_priv *priv);
int hsnic_rule_to_hw(const struct ethtool_rx_flow_spec *fs, u32 rss_context,
		     struct hsnic_rule_hw *hw);
void hsnic_rule_write(struct hsnic_priv *priv, unsigned int i,
		      const struct hsnic_rule_hw *hw);
void hsnic_rules_write_all(struct hsnic_priv *priv);
void hsnic_rules_clear(struct hsnic_priv *priv);

/* hsnic_stats.c */
extern const struct netdev_stat_ops hsnic_stat_ops;
u64 hsnic_read_stat64(struct hsnic_priv *priv, u32 lo, u32 hi);
u64 hsnic_rxq_hw_stat(struct hsnic_priv *priv, unsigned int q,
		      enum hsnic_rx_qstat i);
u64 hsnic_txq_hw_stat(struct hsnic_priv *priv, unsigned int q,
		      enum hsnic_tx_qstat i);
u64 hsnic_dev_hw_stat(struct hsnic_priv *priv, enum hsnic_dstat i);
void hsnic_hw_stats_fold(struct hsnic_priv *priv);
void hsnic_fetch_rx_stats(struct hsnic_qp *qp, struct hsnic_rx_stats *s);
void hsnic_fetch_tx_stats(struct hsnic_qp *qp, struct hsnic_tx_stats *s);
void hsnic_get_stats64(struct net_device *netdev,
		       struct rtnl_link_stats64 *stats);

/* hsnic_tx.c */
__printf(2, 3) void hsnic_qp_fault(struct hsnic_qp *qp, const char *fmt, ...);
void hsnic_tx_unmap(struct device *dev, struct hsnic_tx_buf *buf);
void hsnic_tx_buf_free(struct hsnic_tx_buf *buf, int budget,
		       struct xdp_frame_bulk *bq);
netdev_tx_t hsnic_start_xmit(struct sk_buff *skb, struct net_device *netdev);
netdev_features_t hsnic_features_check(struct sk_buff *skb,
				       struct net_device *netdev,
				       netdev_features_t features);
bool hsnic_xdp_tx(struct hsnic_qp *qp, struct xdp_buff *xdp);
void hsnic_xdp_tx_flush(struct hsnic_qp *qp);
int hsnic_xdp_xmit(struct net_device *netdev, int n,
		   struct xdp_frame **frames, u32 flags);
void hsnic_tx_clean(struct hsnic_qp *qp, int budget);

/* hsnic_txrx.c */
u32 hsnic_rx_refill(struct hsnic_rx_ring *rx, gfp_t gfp);
void hsnic_rx_kick(struct hsnic_rx_ring *rx);
int hsnic_poll(struct napi_struct *napi, int budget);
irqreturn_t hsnic_qp_irq(int irq, void *data);
void hsnic_refill_timer(struct timer_list *t);

/* hsnic_queue.c */
extern const struct netdev_queue_mgmt_ops hsnic_queue_mgmt_ops;
int hsnic_tx_ring_alloc(struct hsnic_qp *qp);
void hsnic_tx_ring_free(struct hsnic_qp *qp);
u32 hsnic_rx_layout(const struct hsnic_cfg *cfg, u32 page_len,
		    u32 *headroom);
u32 hsnic_xdp_max_frame(const struct hsnic_cfg *cfg,
			const struct bpf_prog *prog);
int hsnic_rx_ring_alloc(struct hsnic_priv *priv, unsigned int q,
			const struct netdev_queue_config *qcfg,
			struct hsnic_rx_ring *rx);
void hsnic_rx_ring_free(struct hsnic_rx_ring *rx);
int hsnic_rx_ring_rewind(struct hsnic_rx_ring *rx);
int hsnic_queue_disable(struct hsnic_priv *priv, u32 base, const char *type,
			unsigned int q);
int hsnic_txq_start(struct hsnic_priv *priv, struct hsnic_qp *qp);
u32 hsnic_rxq_ctrl(const struct hsnic_priv *priv,
		   const struct hsnic_rx_ring *rx);
int hsnic_rxq_start(struct hsnic_priv *priv, struct hsnic_qp *qp);
void hsnic_qp_napi_on(struct hsnic_qp *qp);
void hsnic_qp_napi_off(struct hsnic_qp *qp);
bool hsnic_any_mp(struct hsnic_priv *priv);

/* hsnic_netdev.c */
extern const struct net_device_ops hsnic_netdev_ops;
int hsnic_hw_reset(struct device *dev, void __iomem *regs);
void hsnic_update_link(struct hsnic_priv *priv);
void hsnic_events_enable(struct hsnic_priv *priv);
void hsnic_down(struct hsnic_priv *priv);
int hsnic_reconfigure(struct hsnic_priv *priv, const struct hsnic_cfg *cfg,
		      struct netlink_ext_ack *extack);
void hsnic_reset_task(struct work_struct *work);
int hsnic_check_mtu(struct hsnic_priv *priv, const struct hsnic_cfg *cfg,
		    const struct bpf_prog *prog, u32 mtu,
		    struct netlink_ext_ack *extack);

/* hsnic_ethtool.c */
extern const struct ethtool_ops hsnic_ethtool_ops;

/* hsnic_debugfs.c */
void hsnic_debugfs_register(void);
void hsnic_debugfs_unregister(void);
void hsnic_debugfs_init(struct hsnic_priv *priv);
void hsnic_debugfs_exit(struct hsnic_priv *priv);
void hsnic_debugfs_release_page(struct hsnic_priv *priv);

#endif /* _HSNIC_H_ */
