// SPDX-License-Identifier: GPL-2.0-only
/* hsnic: register programming for the receive filter, RSS contexts, flow
 * steering rules and interrupt moderation, from the driver's copies in
 * struct hsnic_priv.
 *
 * The lowest layer of the driver: it calls nothing in the other files, so
 * that both ethtool (which changes the copies) and the reset path (which
 * programs them again) can use it.
 */

#include <linux/bitfield.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/unaligned.h>

#include "hsnic.h"

/* ---- receive filter ---- */

void hsnic_write_rx_mode(struct hsnic_priv *priv, bool any_mc)
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

/* Program the device-wide configuration a reset clears: receive filter
 * (@any_mc: the netdev has multicast addresses), RSS contexts, flow rules
 * and interrupt moderation.
 */
void hsnic_hw_config(struct hsnic_priv *priv, bool any_mc)
{
	unsigned int c;

	hsnic_write_rx_mode(priv, any_mc);

	if (priv->features & HSNIC_F_RSS)
		for (c = 0; c < HSNIC_RSS_CTX_NUM; c++)
			hsnic_rss_write(priv, c);
	hsnic_rules_write_all(priv);
	hsnic_coal_write(priv);
}

/* ---- interrupt moderation ---- */

/* One vector serves both directions of a queue pair. With IRQ_TXMOD the
 * device moderates TX-only interrupts with the tx-* values and everything
 * else with the rx-* ones; without it the vector waits as long as the
 * more patient direction allows and fires as soon as either one's frame
 * budget is reached.
 */
void hsnic_coal_write(struct hsnic_priv *priv)
{
	const struct hsnic_coal *c = &priv->coal;
	u32 val, txval = 0;
	unsigned int v;

	if (!(priv->features & HSNIC_F_IRQ_MOD))
		return;

	if (priv->features & HSNIC_F_IRQ_TXMOD) {
		val = FIELD_PREP(HSNIC_IRQ_MOD_USECS_MASK, c->rx_usecs) |
		      FIELD_PREP(HSNIC_IRQ_MOD_FRAMES_MASK, c->rx_frames);
		txval = FIELD_PREP(HSNIC_IRQ_MOD_USECS_MASK, c->tx_usecs) |
			FIELD_PREP(HSNIC_IRQ_MOD_FRAMES_MASK, c->tx_frames);
	} else {
		val = FIELD_PREP(HSNIC_IRQ_MOD_USECS_MASK,
				 max(c->rx_usecs, c->tx_usecs)) |
		      FIELD_PREP(HSNIC_IRQ_MOD_FRAMES_MASK,
				 min_not_zero(c->rx_frames, c->tx_frames));
	}

	for (v = HSNIC_VEC_QP(0); v <= HSNIC_VEC_QP(priv->dev_max_qp - 1);
	     v++) {
		hsnic_wr32(priv, HSNIC_REG_IRQ_MOD(v), val);
		if (priv->features & HSNIC_F_IRQ_TXMOD)
			hsnic_wr32(priv, HSNIC_REG_IRQ_TXMOD(v), txval);
	}
}

/* ---- RSS ---- */

/* Keys and tables go into the registers byte 4n + k in bits 8k + 7:8k,
 * the layout the ABI gives for the indirection table.
 */
void hsnic_rss_write(struct hsnic_priv *priv, unsigned int c)
{
	const struct hsnic_rss_ctx *ctx = &priv->rss[c];
	u32 base = HSNIC_RSS(c);
	u32 ctrl = HSNIC_RSS_CTRL_ENABLE;
	unsigned int i;

	if (!(priv->features & HSNIC_F_RSS))
		return;

	if (!ctx->used) {
		hsnic_wr32(priv, base + HSNIC_RSS_CTRL, 0);
		return;
	}
	if (ctx->sym_xor)
		ctrl |= HSNIC_RSS_CTRL_SYM_XOR;

	hsnic_wr32(priv, base + HSNIC_RSS_FIELDS, ctx->fields);
	for (i = 0; i < HSNIC_RSS_KEY_SIZE / 4; i++)
		hsnic_wr32(priv, base + HSNIC_RSS_KEY(i),
			   get_unaligned_le32(&ctx->key[4 * i]));
	for (i = 0; i < HSNIC_RSS_INDIR_SIZE / 4; i++)
		hsnic_wr32(priv, base + HSNIC_RSS_INDIR(i),
			   get_unaligned_le32(&ctx->indir[4 * i]));
	hsnic_wr32(priv, base + HSNIC_RSS_CTRL, ctrl);
}

void hsnic_rss_fill_default(u8 *indir, u32 num_qp)
{
	unsigned int i;

	for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++)
		indir[i] = ethtool_rxfh_indir_default(i, num_qp);
}

void hsnic_rss_init(struct hsnic_priv *priv)
{
	struct hsnic_rss_ctx *ctx = &priv->rss[0];

	ctx->used = true;
	ctx->fields = HSNIC_RSS_FIELDS_ALL;
	netdev_rss_key_fill(ctx->key, sizeof(ctx->key));
	hsnic_rss_fill_default(ctx->indir, priv->cfg.num_qp);
}

/* The default table follows the channel count, a user's table does not
 * (the core refuses channel counts that it would point past).
 */
void hsnic_rss_default_indir(struct hsnic_priv *priv)
{
	if (netif_is_rxfh_configured(priv->netdev))
		return;

	hsnic_rss_fill_default(priv->rss[0].indir, priv->cfg.num_qp);
	hsnic_rss_write(priv, 0);
}

/* ---- flow steering rules ---- */

/* Addresses are in network byte order, byte 0 in bits 7:0. */
static void hsnic_rule_addr(u32 *reg, const __be32 *addr, unsigned int words)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		reg[i] = get_unaligned_le32(&addr[i]);
}

static u32 hsnic_rule_ports(__be16 sport, __be16 dport)
{
	return FIELD_PREP(HSNIC_RULE_SPORT_MASK, be16_to_cpu(sport)) |
	       FIELD_PREP(HSNIC_RULE_DPORT_MASK, be16_to_cpu(dport));
}

/* What a rule matching device flow type @flow does: the CTRL and DEST
 * register values.
 */
static int hsnic_rule_action_to_hw(const struct ethtool_rx_flow_spec *fs,
				   u32 rss_context, u32 flow,
				   struct hsnic_rule_hw *hw)
{
	u32 action, queue = 0, ctx = 0;

	if (fs->ring_cookie == RX_CLS_FLOW_DISC) {
		action = HSNIC_ACTION_DROP;
	} else if (fs->ring_cookie == RX_CLS_FLOW_WAKE ||
		   ethtool_get_flow_spec_ring_vf(fs->ring_cookie)) {
		return -EOPNOTSUPP;
	} else if (fs->flow_type & FLOW_RSS) {
		action = HSNIC_ACTION_RSS;
		ctx = rss_context;
		queue = ethtool_get_flow_spec_ring(fs->ring_cookie);
	} else {
		action = HSNIC_ACTION_QUEUE;
		queue = ethtool_get_flow_spec_ring(fs->ring_cookie);
	}

	hw->ctrl = HSNIC_RULE_VALID |
		   FIELD_PREP(HSNIC_RULE_ACTION_MASK, action) |
		   FIELD_PREP(HSNIC_RULE_FLOW_MASK, flow);
	hw->dest = FIELD_PREP(HSNIC_RULE_QUEUE_MASK, queue) |
		   FIELD_PREP(HSNIC_RULE_CTX_MASK, ctx);

	return 0;
}

/* Translate an ethtool rule into register values. The masks have the
 * device's meaning already: a set bit is a bit that must match.
 */
int hsnic_rule_to_hw(const struct ethtool_rx_flow_spec *fs,
		     u32 rss_context, struct hsnic_rule_hw *hw)
{
	u32 flow_type = fs->flow_type & ~FLOW_RSS;
	u32 flow;

	memset(hw, 0, sizeof(*hw));

	switch (flow_type) {
	case TCP_V4_FLOW:
	case UDP_V4_FLOW: {
		const struct ethtool_tcpip4_spec *v = &fs->h_u.tcp_ip4_spec;
		const struct ethtool_tcpip4_spec *m = &fs->m_u.tcp_ip4_spec;

		if (m->tos)
			return -EOPNOTSUPP;
		flow = flow_type == TCP_V4_FLOW ? HSNIC_FLOW_TCP4 :
						  HSNIC_FLOW_UDP4;
		hsnic_rule_addr(hw->src, &v->ip4src, 1);
		hsnic_rule_addr(hw->src_mask, &m->ip4src, 1);
		hsnic_rule_addr(hw->dst, &v->ip4dst, 1);
		hsnic_rule_addr(hw->dst_mask, &m->ip4dst, 1);
		hw->ports = hsnic_rule_ports(v->psrc, v->pdst);
		hw->ports_mask = hsnic_rule_ports(m->psrc, m->pdst);
		break;
	}
	case IPV4_USER_FLOW: {
		const struct ethtool_usrip4_spec *v = &fs->h_u.usr_ip4_spec;
		const struct ethtool_usrip4_spec *m = &fs->m_u.usr_ip4_spec;

		if (v->ip_ver != ETH_RX_NFC_IP4 || m->l4_4_bytes || m->tos)
			return -EOPNOTSUPP;
		flow = HSNIC_FLOW_IP4;
		hsnic_rule_addr(hw->src, &v->ip4src, 1);
		hsnic_rule_addr(hw->src_mask, &m->ip4src, 1);
		hsnic_rule_addr(hw->dst, &v->ip4dst, 1);
		hsnic_rule_addr(hw->dst_mask, &m->ip4dst, 1);
		hw->proto = FIELD_PREP(HSNIC_RULE_PROTO_VAL_MASK, v->proto) |
			    FIELD_PREP(HSNIC_RULE_PROTO_MSK_MASK, m->proto);
		break;
	}
	case TCP_V6_FLOW:
	case UDP_V6_FLOW: {
		const struct ethtool_tcpip6_spec *v = &fs->h_u.tcp_ip6_spec;
		const struct ethtool_tcpip6_spec *m = &fs->m_u.tcp_ip6_spec;

		if (m->tclass)
			return -EOPNOTSUPP;
		flow = flow_type == TCP_V6_FLOW ? HSNIC_FLOW_TCP6 :
						  HSNIC_FLOW_UDP6;
		hsnic_rule_addr(hw->src, v->ip6src, 4);
		hsnic_rule_addr(hw->src_mask, m->ip6src, 4);
		hsnic_rule_addr(hw->dst, v->ip6dst, 4);
		hsnic_rule_addr(hw->dst_mask, m->ip6dst, 4);
		hw->ports = hsnic_rule_ports(v->psrc, v->pdst);
		hw->ports_mask = hsnic_rule_ports(m->psrc, m->pdst);
		break;
	}
	case IPV6_USER_FLOW: {
		const struct ethtool_usrip6_spec *v = &fs->h_u.usr_ip6_spec;
		const struct ethtool_usrip6_spec *m = &fs->m_u.usr_ip6_spec;

		if (m->l4_4_bytes || m->tclass)
			return -EOPNOTSUPP;
		flow = HSNIC_FLOW_IP6;
		hsnic_rule_addr(hw->src, v->ip6src, 4);
		hsnic_rule_addr(hw->src_mask, m->ip6src, 4);
		hsnic_rule_addr(hw->dst, v->ip6dst, 4);
		hsnic_rule_addr(hw->dst_mask, m->ip6dst, 4);
		hw->proto = FIELD_PREP(HSNIC_RULE_PROTO_VAL_MASK, v->l4_proto) |
			    FIELD_PREP(HSNIC_RULE_PROTO_MSK_MASK, m->l4_proto);
		break;
	}
	default:
		/* FLOW_EXT and FLOW_MAC_EXT (VLAN, MAC) end up here too */
		return -EOPNOTSUPP;
	}

	return hsnic_rule_action_to_hw(fs, rss_context, flow, hw);
}

/* Invalidate rule @i, then, with @hw, write its fields and CTRL last. */
void hsnic_rule_write(struct hsnic_priv *priv, unsigned int i,
		      const struct hsnic_rule_hw *hw)
{
	u32 base = HSNIC_RULE(i);
	unsigned int n;

	hsnic_wr32(priv, base + HSNIC_RULE_CTRL, 0);
	if (!hw)
		return;

	hsnic_wr32(priv, base + HSNIC_RULE_DEST, hw->dest);
	hsnic_wr32(priv, base + HSNIC_RULE_PORTS, hw->ports);
	hsnic_wr32(priv, base + HSNIC_RULE_PORTS_MASK, hw->ports_mask);
	hsnic_wr32(priv, base + HSNIC_RULE_PROTO, hw->proto);
	for (n = 0; n < 4; n++) {
		hsnic_wr32(priv, base + HSNIC_RULE_SRC(n), hw->src[n]);
		hsnic_wr32(priv, base + HSNIC_RULE_SRC_MASK(n),
			   hw->src_mask[n]);
		hsnic_wr32(priv, base + HSNIC_RULE_DST(n), hw->dst[n]);
		hsnic_wr32(priv, base + HSNIC_RULE_DST_MASK(n),
			   hw->dst_mask[n]);
	}
	hsnic_wr32(priv, base + HSNIC_RULE_CTRL, hw->ctrl);
}

void hsnic_rules_write_all(struct hsnic_priv *priv)
{
	struct hsnic_rule_hw hw;
	unsigned int i;

	if (!(priv->features & HSNIC_F_RULES))
		return;

	for (i = 0; i < HSNIC_NUM_RULES; i++) {
		const struct hsnic_rule *r = &priv->rules[i];

		if (r->valid && !hsnic_rule_to_hw(&r->fs, r->rss_context, &hw))
			hsnic_rule_write(priv, i, &hw);
		else
			hsnic_rule_write(priv, i, NULL);
	}
}

void hsnic_rules_clear(struct hsnic_priv *priv)
{
	unsigned int i;

	for (i = 0; i < HSNIC_NUM_RULES; i++) {
		if (!priv->rules[i].valid)
			continue;
		priv->rules[i].valid = false;
		hsnic_rule_write(priv, i, NULL);
	}
}
