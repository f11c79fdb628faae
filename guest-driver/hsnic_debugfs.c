// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: debugfs, under /sys/kernel/debug/hsnic/<PCI address>/.
 *
 *   queues            ring state of the active queue pairs (read)
 *   restart_rx_queue  write an RX queue index: restart that queue through
 *                     the core's queue management API, as binding a
 *                     memory provider does
 *   pp_hold           write y/n: hold a page of queue 0's page pool (or
 *                     give it back), so that the pool outlives its queue
 *   reset             write anything: run the device reset task
 */

#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/netdevice.h>
#include <linux/seq_file.h>
#include <net/netdev_lock.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>

#include "hsnic.h"

static struct dentry *hsnic_dbg_root;

static u32 hsnic_pp_id(const struct page_pool *pp)
{
	return pp ? pp->user.id : 0;
}

static void hsnic_dbg_qp(struct seq_file *m, struct hsnic_priv *priv,
			 struct hsnic_qp *qp)
{
	const struct hsnic_tx_ring *tx = &qp->tx;
	const struct hsnic_rx_ring *rx = &qp->rx;
	unsigned int q = qp->idx;

	seq_printf(m, "qp %u: napi %u%s%s\n", q, qp->napi.napi_id,
		   qp->napi_enabled ? "" : " (off)",
		   qp->faulted ? " FAULTED" : "");

	seq_printf(m, "  tx: size %u head %u tail %u db_tail %u cmpl_head %u gen %u\n",
		   tx->size, READ_ONCE(tx->head), READ_ONCE(tx->tail),
		   tx->db_tail, tx->cmpl_head, tx->cmpl_gen);
	seq_printf(m, "  tx dev: status %#x head %u tail %u cmpl_idx %u\n",
		   hsnic_rd32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_STATUS)),
		   hsnic_rd32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_HEAD)),
		   hsnic_rd32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_TAIL)),
		   hsnic_rd32(priv, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_IDX)));

	if (!rx->size) {
		seq_puts(m, "  rx: stopped\n");
		return;
	}

	seq_printf(m, "  rx: size %u page_len %u headroom %u buf_len %u fill %u hds %u hds_thresh %u xdp %u\n",
		   rx->size, rx->page_len, rx->headroom, rx->buf_len, rx->fill,
		   rx->hds, rx->hds_thresh, rx->xdp);
	seq_printf(m, "  rx payload: head %u tail %u posted %u pp %u%s order %u\n",
		   rx->head, rx->tail, (rx->tail - rx->head) & rx->mask,
		   hsnic_pp_id(rx->pp), rx->unreadable ? " (unreadable)" : "",
		   rx->pp ? rx->pp->p.order : 0);
	if (rx->hds)
		seq_printf(m, "  rx header: head %u tail %u posted %u pp %u headroom %u buf_len %u\n",
			   rx->hdr_head, rx->hdr_tail,
			   (rx->hdr_tail - rx->hdr_head) & rx->mask,
			   hsnic_pp_id(rx->hdr_pp), rx->hdr_headroom,
			   rx->hdr_buf_len);
	seq_printf(m, "  rx cmpl: head %u gen %u\n", rx->cmpl_head,
		   rx->cmpl_gen);
	seq_printf(m, "  rx dev: status %#x head %u tail %u hdr_head %u hdr_tail %u cmpl_idx %u\n",
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_STATUS)),
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_HEAD)),
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_TAIL)),
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_HEAD)),
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_TAIL)),
		   hsnic_rd32(priv, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_IDX)));
}

/* Indices move under NAPI while this runs: a snapshot, not a state. */
static int hsnic_dbg_queues_show(struct seq_file *m, void *v)
{
	struct hsnic_priv *priv = m->private;
	struct net_device *netdev = priv->netdev;
	unsigned int q;

	netdev_lock(netdev);
	seq_printf(m, "%s: %s, %u of %u queue pairs, resets %llu, doorbell records %s (DEV_CTRL %#x)\n",
		   netdev->name, priv->up ? "up" : "down", priv->cfg.num_qp,
		   priv->max_qp, priv->resets, priv->db_rec ? "on" : "off",
		   hsnic_rd32(priv, HSNIC_REG_DEV_CTRL));
	if (priv->up)
		for (q = 0; q < priv->cfg.num_qp; q++)
			hsnic_dbg_qp(m, priv, &priv->qps[q]);
	netdev_unlock(netdev);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hsnic_dbg_queues);

static ssize_t hsnic_dbg_restart_write(struct file *file,
				       const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct hsnic_priv *priv = file->private_data;
	struct net_device *netdev = priv->netdev;
	unsigned int idx;
	int err;

	err = kstrtouint_from_user(ubuf, count, 0, &idx);
	if (err)
		return err;

	netdev_lock(netdev);
	if (idx >= netdev->real_num_rx_queues)
		err = -EINVAL;
	else
		err = netdev_rx_queue_restart(netdev, idx);
	netdev_unlock(netdev);

	if (err)
		return err;

	return count;
}

static const struct file_operations hsnic_dbg_restart_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= hsnic_dbg_restart_write,
	.llseek	= noop_llseek,
};

static ssize_t hsnic_dbg_pp_hold_read(struct file *file, char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct hsnic_priv *priv = file->private_data;
	char buf[2] = { 'n', '\n' };

	if (READ_ONCE(priv->held_page))
		buf[0] = 'y';

	return simple_read_from_buffer(ubuf, count, ppos, buf, sizeof(buf));
}

/* Take one page from queue 0. The allocation side of a page pool belongs
 * to its NAPI, so NAPI is paused around it.
 */
static int hsnic_dbg_hold_page(struct hsnic_priv *priv)
{
	struct hsnic_qp *qp = &priv->qps[0];
	struct hsnic_rx_ring *rx = &qp->rx;
	struct page_pool *pool;
	struct page *page;

	if (!priv->up || !rx->size)
		return -ENETDOWN;

	/* a memory provider's buffers are not pages */
	pool = rx->unreadable ? rx->hdr_pp : rx->pp;

	hsnic_qp_napi_off(qp);
	page = page_pool_alloc_pages(pool, GFP_KERNEL);
	hsnic_qp_napi_on(qp);
	if (!page)
		return -ENOMEM;

	priv->held_pool = pool;
	WRITE_ONCE(priv->held_page, page);
	return 0;
}

/* Pages may go back to a pool after page_pool_destroy(): it waits. */
void hsnic_debugfs_release_page(struct hsnic_priv *priv)
{
	if (!priv->held_page)
		return;

	page_pool_put_full_page(priv->held_pool, priv->held_page, false);
	WRITE_ONCE(priv->held_page, NULL);
	priv->held_pool = NULL;
}

static ssize_t hsnic_dbg_pp_hold_write(struct file *file,
				       const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct hsnic_priv *priv = file->private_data;
	struct net_device *netdev = priv->netdev;
	bool val;
	int err;

	err = kstrtobool_from_user(ubuf, count, &val);
	if (err)
		return err;

	netdev_lock(netdev);
	if (val && !priv->held_page)
		err = hsnic_dbg_hold_page(priv);
	else if (!val)
		hsnic_debugfs_release_page(priv);
	netdev_unlock(netdev);

	if (err)
		return err;

	return count;
}

static const struct file_operations hsnic_dbg_pp_hold_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= hsnic_dbg_pp_hold_read,
	.write	= hsnic_dbg_pp_hold_write,
	.llseek	= default_llseek,
};

static ssize_t hsnic_dbg_reset_write(struct file *file,
				     const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct hsnic_priv *priv = file->private_data;

	hsnic_schedule_reset(priv);
	return count;
}

static const struct file_operations hsnic_dbg_reset_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= hsnic_dbg_reset_write,
	.llseek	= noop_llseek,
};

void hsnic_debugfs_init(struct hsnic_priv *priv)
{
	struct dentry *dir;

	dir = debugfs_create_dir(pci_name(priv->pdev), hsnic_dbg_root);
	priv->dbg_dir = dir;

	debugfs_create_file("queues", 0400, dir, priv, &hsnic_dbg_queues_fops);
	debugfs_create_file("restart_rx_queue", 0200, dir, priv,
			    &hsnic_dbg_restart_fops);
	debugfs_create_file("pp_hold", 0600, dir, priv,
			    &hsnic_dbg_pp_hold_fops);
	debugfs_create_file("reset", 0200, dir, priv, &hsnic_dbg_reset_fops);
}

/* Waits for readers and writers, none of which can be holding locks the
 * caller holds: remove() calls this before taking any.
 */
void hsnic_debugfs_exit(struct hsnic_priv *priv)
{
	debugfs_remove_recursive(priv->dbg_dir);
	priv->dbg_dir = NULL;
}

void hsnic_debugfs_register(void)
{
	hsnic_dbg_root = debugfs_create_dir(HSNIC_DRV_NAME, NULL);
}

void hsnic_debugfs_unregister(void)
{
	debugfs_remove_recursive(hsnic_dbg_root);
	hsnic_dbg_root = NULL;
}
