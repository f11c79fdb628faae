/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-side checks of the hsnic device ABI header (ABI 2.0): field offsets
 * of the descriptors and completions, that every FOO_MASK agrees with
 * FOO_SHIFT/FOO_WIDTH, that no two registers of a block share an offset
 * and every block fits where docs/specs/hsnic.rst says, and the values of
 * the enums. Compiled with -std=c11 -Wall -Wextra -Werror.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hsnic_abi.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* FOO_MASK == ((1 << FOO_WIDTH) - 1) << FOO_SHIFT, inside 32 bits. */
#define FIELD_OK(f) do { \
	CHECK(f##_WIDTH > 0 && f##_SHIFT + f##_WIDTH <= 32); \
	CHECK(f##_MASK == (uint32_t)((((uint64_t)1 << f##_WIDTH) - 1) << \
				     f##_SHIFT)); \
} while (0)

/* Offset and size of a member of a guest-memory structure. */
#define MEMBER_OK(type, m, off, size) do { \
	CHECK(offsetof(type, m) == (off)); \
	CHECK(sizeof(((type *)0)->m) == (size)); \
} while (0)

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Registers are 32 bits: @n offsets, each 4-byte aligned, in [lo, hi),
 * no two equal (so no two 4-byte registers overlap). Sorts @regs.
 */
static void check_regs(const char *what, uint32_t *regs, size_t n,
		       uint32_t lo, uint32_t hi)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (regs[i] % 4 || regs[i] < lo || regs[i] + 4 > hi) {
			fprintf(stderr, "%s: register 0x%x outside "
				"[0x%x, 0x%x) or unaligned\n", what,
				(unsigned int)regs[i], (unsigned int)lo, (unsigned int)hi);
			failures++;
		}
	}
	qsort(regs, n, sizeof(regs[0]), cmp_u32);
	for (i = 1; i < n; i++) {
		if (regs[i] == regs[i - 1]) {
			fprintf(stderr, "%s: offset 0x%x used twice\n", what,
				(unsigned int)regs[i]);
			failures++;
		}
	}
}

/* Bit masks that must be pairwise disjoint (fields of one register). */
static void check_disjoint(const char *what, const uint32_t *masks, size_t n)
{
	uint32_t seen = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!masks[i] || (seen & masks[i])) {
			fprintf(stderr, "%s: mask 0x%x is empty or overlaps\n",
				what, (unsigned int)masks[i]);
			failures++;
		}
		seen |= masks[i];
	}
}

static void check_layouts(void)
{
	/* Sizes (also asserted by the header itself). */
	CHECK(sizeof(struct hsnic_tx_desc) == 16);
	CHECK(sizeof(struct hsnic_tx_cmpl) == 16);
	CHECK(sizeof(struct hsnic_rx_desc) == 8);
	CHECK(sizeof(struct hsnic_rx_cmpl) == 32);

	/* TX descriptor */
	MEMBER_OK(struct hsnic_tx_desc, addr, 0, 8);
	MEMBER_OK(struct hsnic_tx_desc, len, 8, 4);
	MEMBER_OK(struct hsnic_tx_desc, cmd, 12, 4);

	/* TX completion: flags (GEN) first, the device writes byte 0 last */
	MEMBER_OK(struct hsnic_tx_cmpl, flags, 0, 2);
	MEMBER_OK(struct hsnic_tx_cmpl, status, 2, 2);
	MEMBER_OK(struct hsnic_tx_cmpl, head, 4, 4);
	MEMBER_OK(struct hsnic_tx_cmpl, rsvd, 8, 8);

	/* RX buffer descriptor (payload and header rings) */
	MEMBER_OK(struct hsnic_rx_desc, addr, 0, 8);

	/* RX completion */
	MEMBER_OK(struct hsnic_rx_cmpl, flags, 0, 4);
	MEMBER_OK(struct hsnic_rx_cmpl, hdr_idx, 4, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, hdr_len, 6, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, pay_idx, 8, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, pay_nbufs, 10, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, pay_len, 12, 4);
	MEMBER_OK(struct hsnic_rx_cmpl, rss_hash, 16, 4);
	MEMBER_OK(struct hsnic_rx_cmpl, info, 20, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, hlen, 22, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, rsc_segs, 24, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, rsc_mss, 26, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, rsc_l4off, 28, 2);
	MEMBER_OK(struct hsnic_rx_cmpl, rsc_inner, 30, 2);
	MEMBER_OK(struct hsnic_db_rec, tx_tail, 0, 4);
	MEMBER_OK(struct hsnic_db_rec, rx_tail, 4, 4);
	MEMBER_OK(struct hsnic_db_rec, rx_hdr_tail, 8, 4);
	CHECK(HSNIC_REG_DB_REC_HI < HSNIC_REG_DSTAT_LO(0));
}

static void check_fields(void)
{
	/* Every field the header defines with SHIFT, WIDTH and MASK. */
	FIELD_OK(HSNIC_VERSION_MINOR);
	FIELD_OK(HSNIC_VERSION_MAJOR);
	FIELD_OK(HSNIC_ERR_CODE);
	FIELD_OK(HSNIC_ERR_QUEUE);
	FIELD_OK(HSNIC_IRQ_MOD_USECS);
	FIELD_OK(HSNIC_IRQ_MOD_FRAMES);
	FIELD_OK(HSNIC_RULE_ACTION);
	FIELD_OK(HSNIC_RULE_FLOW);
	FIELD_OK(HSNIC_RULE_QUEUE);
	FIELD_OK(HSNIC_RULE_CTX);
	FIELD_OK(HSNIC_RULE_SPORT);
	FIELD_OK(HSNIC_RULE_DPORT);
	FIELD_OK(HSNIC_RULE_PROTO_VAL);
	FIELD_OK(HSNIC_RULE_PROTO_MSK);
	FIELD_OK(HSNIC_TXD_MSS);
	FIELD_OK(HSNIC_RXI_HDS);
	FIELD_OK(HSNIC_RXI_RSS_TYPE);
	FIELD_OK(HSNIC_RXI_RULE);
	/* FIELDS: one HSNIC_RSS_FIELDS_WIDTH-bit field per frame type. */
	{
		unsigned int t;

		for (t = 0; t < HSNIC_RSS_FT_NUM; t++) {
			CHECK(HSNIC_RSS_FIELDS_SHIFT(t) +
			      HSNIC_RSS_FIELDS_WIDTH <= 32);
			CHECK(HSNIC_RSS_FIELDS_MASK(t) ==
			      (uint32_t)((((uint64_t)1 << HSNIC_RSS_FIELDS_WIDTH) -
					  1) << HSNIC_RSS_FIELDS_SHIFT(t)));
		}
	}

	/* Fields and flags sharing a register or word do not overlap. */
	{
		const uint32_t version[] = {
			HSNIC_VERSION_MINOR_MASK, HSNIC_VERSION_MAJOR_MASK,
		};
		const uint32_t err[] = {
			HSNIC_ERR_CODE_MASK, HSNIC_ERR_QUEUE_MASK,
		};
		const uint32_t irq_mod[] = {
			HSNIC_IRQ_MOD_USECS_MASK, HSNIC_IRQ_MOD_FRAMES_MASK,
		};
		const uint32_t features[] = {
			HSNIC_F_RX_MODE, HSNIC_F_HDS, HSNIC_F_RSS,
			HSNIC_F_RULES, HSNIC_F_RX_CSUM, HSNIC_F_TX_CSUM,
			HSNIC_F_TSO, HSNIC_F_QSTATS, HSNIC_F_IRQ_MOD,
		};
		const uint32_t dev_ctrl[] = {
			HSNIC_DEV_CTRL_ENABLE, HSNIC_DEV_CTRL_RESET,
		};
		const uint32_t dev_status[] = {
			HSNIC_DEV_STATUS_LINK_UP, HSNIC_DEV_STATUS_ENABLED,
			HSNIC_DEV_STATUS_ERROR,
		};
		const uint32_t evt[] = { HSNIC_EVT_LINK, HSNIC_EVT_ERROR };
		const uint32_t rx_mode[] = {
			HSNIC_RX_MODE_PROMISC, HSNIC_RX_MODE_ALLMULTI,
			HSNIC_RX_MODE_BROADCAST,
		};
		const uint32_t q_ctrl[] = {
			HSNIC_Q_CTRL_ENABLE, HSNIC_RXQ_CTRL_HDS,
		};
		const uint32_t q_status[] = {
			HSNIC_Q_STATUS_ENABLED, HSNIC_Q_STATUS_ERROR,
		};
		const uint32_t rule_ctrl[] = {
			HSNIC_RULE_VALID, HSNIC_RULE_ACTION_MASK,
			HSNIC_RULE_FLOW_MASK,
		};
		const uint32_t rule_dest[] = {
			HSNIC_RULE_QUEUE_MASK, HSNIC_RULE_CTX_MASK,
		};
		const uint32_t rule_ports[] = {
			HSNIC_RULE_SPORT_MASK, HSNIC_RULE_DPORT_MASK,
		};
		const uint32_t rule_proto[] = {
			HSNIC_RULE_PROTO_VAL_MASK, HSNIC_RULE_PROTO_MSK_MASK,
		};
		const uint32_t rss_ctrl[] = {
			HSNIC_RSS_CTRL_ENABLE, HSNIC_RSS_CTRL_SYM_XOR,
		};
		/* The bits of one frame type's 4-bit FIELDS field. */
		const uint32_t rss_sel[] = {
			HSNIC_RSS_SRC_IP, HSNIC_RSS_DST_IP,
			HSNIC_RSS_SRC_PORT, HSNIC_RSS_DST_PORT,
		};
		uint32_t rss_fields[HSNIC_RSS_FT_NUM];
		const uint32_t txd_cmd[] = {
			HSNIC_TXD_EOP, HSNIC_TXD_CSUM, HSNIC_TXD_TSO,
			HSNIC_TXD_MSS_MASK,
		};
		const uint32_t rxc_flags[] = {
			HSNIC_CMPL_GEN, HSNIC_RXC_HDR, HSNIC_RXC_SPLIT,
			HSNIC_RXC_HDR_OVF, HSNIC_RXC_L3_CSUM_OK,
			HSNIC_RXC_L4_CSUM_OK, HSNIC_RXC_CSUM_BAD,
			HSNIC_RXC_RSS, HSNIC_RXC_RULE, HSNIC_RXC_RSC,
			HSNIC_RXC_RSC_FIXEDID, HSNIC_RXC_RSC_FIXEDID_IN,
		};
		const uint32_t rxi[] = {
			HSNIC_RXI_HDS_MASK, HSNIC_RXI_RSS_TYPE_MASK,
			HSNIC_RXI_RULE_MASK,
		};
		uint32_t all = 0;
		size_t i;

		for (i = 0; i < HSNIC_RSS_FT_NUM; i++)
			rss_fields[i] = HSNIC_RSS_FIELDS_MASK(i);

		check_disjoint("VERSION", version, ARRAY_SIZE(version));
		check_disjoint("ERR_CODE", err, ARRAY_SIZE(err));
		check_disjoint("IRQ_MOD", irq_mod, ARRAY_SIZE(irq_mod));
		check_disjoint("FEATURES", features, ARRAY_SIZE(features));
		check_disjoint("DEV_CTRL", dev_ctrl, ARRAY_SIZE(dev_ctrl));
		check_disjoint("DEV_STATUS", dev_status,
			       ARRAY_SIZE(dev_status));
		check_disjoint("EVT", evt, ARRAY_SIZE(evt));
		check_disjoint("RX_MODE", rx_mode, ARRAY_SIZE(rx_mode));
		check_disjoint("Q_CTRL", q_ctrl, ARRAY_SIZE(q_ctrl));
		check_disjoint("Q_STATUS", q_status, ARRAY_SIZE(q_status));
		check_disjoint("RULE_CTRL", rule_ctrl, ARRAY_SIZE(rule_ctrl));
		check_disjoint("RULE_DEST", rule_dest, ARRAY_SIZE(rule_dest));
		check_disjoint("RULE_PORTS", rule_ports,
			       ARRAY_SIZE(rule_ports));
		check_disjoint("RULE_PROTO", rule_proto,
			       ARRAY_SIZE(rule_proto));
		check_disjoint("RSS_CTRL", rss_ctrl, ARRAY_SIZE(rss_ctrl));
		check_disjoint("RSS_FIELDS", rss_fields,
			       ARRAY_SIZE(rss_fields));
		check_disjoint("RSS field bits", rss_sel, ARRAY_SIZE(rss_sel));
		check_disjoint("tx_desc.cmd", txd_cmd, ARRAY_SIZE(txd_cmd));
		check_disjoint("rx_cmpl.flags", rxc_flags,
			       ARRAY_SIZE(rxc_flags));
		check_disjoint("rx_cmpl.info", rxi, ARRAY_SIZE(rxi));

		for (i = 0; i < ARRAY_SIZE(rss_fields); i++)
			all |= rss_fields[i];
		CHECK(all == HSNIC_RSS_FIELDS_ALL);
		for (i = 0, all = 0; i < ARRAY_SIZE(rss_sel); i++)
			all |= rss_sel[i];
		CHECK(all == (uint32_t)((1u << HSNIC_RSS_FIELDS_WIDTH) - 1));
		for (i = 0, all = 0; i < ARRAY_SIZE(rxi); i++)
			all |= rxi[i];
		CHECK(all <= 0xffffu);		/* info is 16 bits */
	}

	/* GEN is bit 0 of a completion's first byte. */
	CHECK(HSNIC_CMPL_GEN == 1u);
	/* Values fit the fields that carry them. */
	CHECK(HSNIC_ABI_MAJOR == 2 && HSNIC_ABI_MINOR == 2);
	CHECK(HSNIC_MAX_QP <= HSNIC_QID_RX);	/* queue id bits 6:0 */
	CHECK(HSNIC_QID(HSNIC_MAX_QP - 1, 1) <=
	      (HSNIC_ERR_QUEUE_MASK >> HSNIC_ERR_QUEUE_SHIFT));
	CHECK(HSNIC_QID(5, 0) == 5 && HSNIC_QID(5, 1) == (5 | 0x80));
	CHECK(HSNIC_MAX_QP - 1 <=
	      (HSNIC_RULE_QUEUE_MASK >> HSNIC_RULE_QUEUE_SHIFT));
	CHECK(HSNIC_MAX_QP <= 256);		/* 8-bit indirection entries */
	CHECK(HSNIC_RSS_CTX_NUM - 1 <=
	      (HSNIC_RULE_CTX_MASK >> HSNIC_RULE_CTX_SHIFT));
	CHECK(HSNIC_NUM_RULES - 1 <=
	      (HSNIC_RXI_RULE_MASK >> HSNIC_RXI_RULE_SHIFT));
	CHECK(HSNIC_HDS_HDR_OVF <= (HSNIC_RXI_HDS_MASK >> HSNIC_RXI_HDS_SHIFT));
	CHECK(HSNIC_RSS_TYPE_UDPV6 <=
	      (HSNIC_RXI_RSS_TYPE_MASK >> HSNIC_RXI_RSS_TYPE_SHIFT));
	CHECK(HSNIC_FLOW_IP6 <= (HSNIC_RULE_FLOW_MASK >> HSNIC_RULE_FLOW_SHIFT));
	CHECK(HSNIC_ACTION_DROP <=
	      (HSNIC_RULE_ACTION_MASK >> HSNIC_RULE_ACTION_SHIFT));
	CHECK(HSNIC_ERR_FRAME <= (HSNIC_ERR_CODE_MASK >> HSNIC_ERR_CODE_SHIFT));
	CHECK(HSNIC_TSO_MIN_MSS <= (HSNIC_TXD_MSS_MASK >> HSNIC_TXD_MSS_SHIFT));
}

static void check_limits(void)
{
	CHECK(HSNIC_PCI_VENDOR_ID == 0x1af4 && HSNIC_PCI_DEVICE_ID == 0x10f0);
	CHECK(HSNIC_PCI_REVISION == 0x02);
	CHECK(HSNIC_BAR_REGS == 0 && HSNIC_BAR_MSIX == 1);
	CHECK(HSNIC_BAR0_SIZE == 0x10000);
	CHECK((HSNIC_MIN_RING & (HSNIC_MIN_RING - 1)) == 0);
	CHECK((HSNIC_MAX_RING & (HSNIC_MAX_RING - 1)) == 0);
	CHECK(HSNIC_MIN_RING <= HSNIC_MAX_RING);
	CHECK(HSNIC_MAX_RING <= 0x10000);	/* 16-bit slot fields */
	CHECK(HSNIC_MAX_FRAME <= 0xffff);	/* rx_cmpl.hdr_len is 16 bits */
	CHECK(HSNIC_RSC_MAX_HLEN <= 0xffff);	/* rsc_l4off, rsc_inner: 16 bits */
	CHECK(HSNIC_RSC_MAX_FRAME > HSNIC_MAX_FRAME);
	CHECK(HSNIC_MIN_RX_BUF % HSNIC_RX_BUF_ALIGN == 0);
	CHECK(HSNIC_MAX_RX_BUF % HSNIC_RX_BUF_ALIGN == 0);
	CHECK(HSNIC_MIN_RX_BUF <= HSNIC_MAX_RX_BUF);
	CHECK(HSNIC_RSS_KEY_SIZE % 4 == 0 && HSNIC_RSS_INDIR_SIZE % 4 == 0);
	CHECK((HSNIC_RSS_INDIR_SIZE & (HSNIC_RSS_INDIR_SIZE - 1)) == 0);
	CHECK(HSNIC_VEC_EVENTS == 0 && HSNIC_VEC_QP(0) == 1);
	CHECK(HSNIC_NUM_VEC_MAX == 1 + HSNIC_MAX_QP);
}

static void check_global_regs(void)
{
	uint32_t global[] = {
		HSNIC_REG_MAGIC, HSNIC_REG_VERSION, HSNIC_REG_FEATURES,
		HSNIC_REG_MAX_QP, HSNIC_REG_MAX_RING, HSNIC_REG_DEV_CTRL,
		HSNIC_REG_DEV_STATUS, HSNIC_REG_EVT_CAUSE, HSNIC_REG_EVT_MASK,
		HSNIC_REG_MAC_LO, HSNIC_REG_MAC_HI, HSNIC_REG_RX_MODE,
		HSNIC_REG_ERR_CODE, HSNIC_REG_RSS_CTX_NUM,
		HSNIC_REG_RSS_INDIR_SIZE, HSNIC_REG_RSS_KEY_SIZE,
		HSNIC_REG_NUM_RULES, HSNIC_REG_MAX_RX_BUF,
	};
	uint32_t dstat[2 * HSNIC_DSTAT_NUM];
	uint32_t irq[2 * HSNIC_MAX_QP];
	unsigned int i;

	/* Fixed offsets that drivers of ABI 1.0 also used. */
	CHECK(HSNIC_REG_MAGIC == 0x000 && HSNIC_REG_VERSION == 0x004);

	check_regs("global", global, ARRAY_SIZE(global), 0,
		   HSNIC_REG_DSTAT_LO(0));

	/* Device counters: LO/HI pairs, then the IRQ registers. */
	for (i = 0; i < HSNIC_DSTAT_NUM; i++) {
		CHECK(HSNIC_REG_DSTAT_HI(i) == HSNIC_REG_DSTAT_LO(i) + 4);
		CHECK(HSNIC_REG_DSTAT_LO(i) % 8 == 0);
		dstat[2 * i] = HSNIC_REG_DSTAT_LO(i);
		dstat[2 * i + 1] = HSNIC_REG_DSTAT_HI(i);
	}
	check_regs("DSTAT", dstat, ARRAY_SIZE(dstat), HSNIC_REG_DSTAT_LO(0),
		   HSNIC_REG_IRQ_CTRL(0));

	/* IRQ_CTRL and IRQ_MOD of every queue vector, below the queues. */
	for (i = 0; i < HSNIC_MAX_QP; i++) {
		irq[2 * i] = HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(i));
		irq[2 * i + 1] = HSNIC_REG_IRQ_MOD(HSNIC_VEC_QP(i));
	}
	check_regs("IRQ", irq, ARRAY_SIZE(irq), HSNIC_REG_IRQ_CTRL(0),
		   HSNIC_TXQ_BASE);
	CHECK(HSNIC_REG_IRQ_CTRL(HSNIC_NUM_VEC_MAX - 1) <
	      HSNIC_REG_IRQ_MOD(0));
}

static void check_queue_regs(void)
{
	uint32_t txq[] = {
		HSNIC_Q_DESC_LO, HSNIC_Q_DESC_HI, HSNIC_Q_CMPL_LO,
		HSNIC_Q_CMPL_HI, HSNIC_Q_RING_SIZE, HSNIC_Q_CTRL,
		HSNIC_Q_STATUS, HSNIC_Q_HEAD, HSNIC_Q_TAIL, HSNIC_Q_CMPL_IDX,
	};
	uint32_t rxq[] = {
		HSNIC_Q_DESC_LO, HSNIC_Q_DESC_HI, HSNIC_Q_CMPL_LO,
		HSNIC_Q_CMPL_HI, HSNIC_Q_RING_SIZE, HSNIC_Q_CTRL,
		HSNIC_Q_STATUS, HSNIC_Q_HEAD, HSNIC_Q_TAIL, HSNIC_Q_CMPL_IDX,
		HSNIC_RXQ_HDR_LO, HSNIC_RXQ_HDR_HI, HSNIC_RXQ_HDR_HEAD,
		HSNIC_RXQ_HDR_TAIL, HSNIC_RXQ_BUF_LEN, HSNIC_RXQ_HDR_BUF_LEN,
		HSNIC_RXQ_HDS_THRESH,
	};

	check_regs("TX queue", txq, ARRAY_SIZE(txq), 0, HSNIC_TXQ_STRIDE);
	check_regs("RX queue", rxq, ARRAY_SIZE(rxq), 0, HSNIC_RXQ_STRIDE);

	/* 64-bit addresses: LO then HI. */
	CHECK(HSNIC_Q_DESC_HI == HSNIC_Q_DESC_LO + 4);
	CHECK(HSNIC_Q_CMPL_HI == HSNIC_Q_CMPL_LO + 4);
	CHECK(HSNIC_RXQ_HDR_HI == HSNIC_RXQ_HDR_LO + 4);

	/* Blocks: IRQ < TX queues < RX queues < rules, strides as named. */
	CHECK(HSNIC_TXQ_REG(1, HSNIC_Q_CTRL) ==
	      HSNIC_TXQ_BASE + HSNIC_TXQ_STRIDE + HSNIC_Q_CTRL);
	CHECK(HSNIC_RXQ_REG(1, HSNIC_Q_CTRL) ==
	      HSNIC_RXQ_BASE + HSNIC_RXQ_STRIDE + HSNIC_Q_CTRL);
	CHECK(HSNIC_TXQ_STRIDE == 0x40 && HSNIC_RXQ_STRIDE == 0x80);
	CHECK(HSNIC_REG_IRQ_MOD(HSNIC_NUM_VEC_MAX - 1) + 4 <= HSNIC_TXQ_BASE);
	CHECK(HSNIC_TXQ_REG(HSNIC_MAX_QP - 1, HSNIC_TXQ_STRIDE - 4) <
	      HSNIC_RXQ_BASE);
	CHECK(HSNIC_RXQ_REG(HSNIC_MAX_QP - 1, HSNIC_RXQ_STRIDE - 4) <
	      HSNIC_RULE_BASE);
}

static void check_rule_regs(void)
{
	uint32_t rule[5 + 16];
	unsigned int n, k = 0;

	rule[k++] = HSNIC_RULE_CTRL;
	rule[k++] = HSNIC_RULE_DEST;
	rule[k++] = HSNIC_RULE_PORTS;
	rule[k++] = HSNIC_RULE_PORTS_MASK;
	rule[k++] = HSNIC_RULE_PROTO;
	for (n = 0; n < 4; n++) {
		rule[k++] = HSNIC_RULE_SRC(n);
		rule[k++] = HSNIC_RULE_SRC_MASK(n);
		rule[k++] = HSNIC_RULE_DST(n);
		rule[k++] = HSNIC_RULE_DST_MASK(n);
	}
	CHECK(k == ARRAY_SIZE(rule));
	check_regs("flow rule", rule, k, 0, HSNIC_RULE_STRIDE);

	CHECK(HSNIC_RULE(1) == HSNIC_RULE_BASE + HSNIC_RULE_STRIDE);
	CHECK(HSNIC_RULE(HSNIC_NUM_RULES - 1) + HSNIC_RULE_STRIDE <=
	      HSNIC_RSS_BASE);
}

static void check_rss_regs(void)
{
	uint32_t rss[2 + HSNIC_RSS_KEY_SIZE / 4 + HSNIC_RSS_INDIR_SIZE / 4];
	unsigned int n, k = 0;

	rss[k++] = HSNIC_RSS_CTRL;
	rss[k++] = HSNIC_RSS_FIELDS;
	for (n = 0; n < HSNIC_RSS_KEY_SIZE / 4; n++)
		rss[k++] = HSNIC_RSS_KEY(n);
	for (n = 0; n < HSNIC_RSS_INDIR_SIZE / 4; n++)
		rss[k++] = HSNIC_RSS_INDIR(n);
	CHECK(k == ARRAY_SIZE(rss));
	check_regs("RSS context", rss, k, 0, HSNIC_RSS_STRIDE);

	/* Key and table are contiguous runs, the key below the table. */
	CHECK(HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4 - 1) + 4 <=
	      HSNIC_RSS_INDIR(0));
	CHECK(HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4 - 1) + 4 <=
	      HSNIC_RSS_STRIDE);
	CHECK(HSNIC_RSS(1) == HSNIC_RSS_BASE + HSNIC_RSS_STRIDE);
	CHECK(HSNIC_RSS(HSNIC_RSS_CTX_NUM - 1) + HSNIC_RSS_STRIDE <=
	      HSNIC_DB_BASE);
}

static void check_doorbells(void)
{
	uint32_t db[3 * HSNIC_MAX_QP];
	unsigned int q;

	for (q = 0; q < HSNIC_MAX_QP; q++) {
		db[3 * q] = HSNIC_DB_TX(q);
		db[3 * q + 1] = HSNIC_DB_RX(q);
		db[3 * q + 2] = HSNIC_DB_RX_HDR(q);
		/* The three doorbells of a pair share its DB_STRIDE slot. */
		CHECK(HSNIC_DB_TX(q) == HSNIC_DB_BASE + HSNIC_DB_STRIDE * q);
		CHECK(HSNIC_DB_RX_HDR(q) + 4 <= HSNIC_DB_TX(q) +
		      HSNIC_DB_STRIDE);
	}
	check_regs("doorbells", db, ARRAY_SIZE(db), HSNIC_DB_BASE,
		   HSNIC_QSTAT_BASE);
	CHECK(HSNIC_DB_STRIDE == 0x10);
	CHECK(HSNIC_DB_RX(0) == HSNIC_DB_BASE + 4);
	CHECK(HSNIC_DB_RX_HDR(0) == HSNIC_DB_BASE + 8);
}

static void check_counters(void)
{
	uint32_t qstat[2 * (HSNIC_RXS_NUM + HSNIC_TXS_NUM)];
	unsigned int i, k = 0;

	/* One queue pair's block: RX counters, TX counters at +0x80. */
	for (i = 0; i < HSNIC_RXS_NUM; i++) {
		qstat[k++] = HSNIC_RXQ_STAT_LO(0, i);
		qstat[k++] = HSNIC_RXQ_STAT_LO(0, i) + 4;	/* HI */
	}
	for (i = 0; i < HSNIC_TXS_NUM; i++) {
		qstat[k++] = HSNIC_TXQ_STAT_LO(0, i);
		qstat[k++] = HSNIC_TXQ_STAT_LO(0, i) + 4;
	}
	check_regs("queue counters", qstat, k, HSNIC_QSTAT_BASE,
		   HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE);
	CHECK(HSNIC_RXQ_STAT_LO(0, HSNIC_RXS_NUM - 1) + 8 <=
	      HSNIC_TXQ_STAT_LO(0, 0));
	CHECK(HSNIC_TXQ_STAT_LO(0, 0) == HSNIC_QSTAT_BASE + 0x80);
	CHECK(HSNIC_RXQ_STAT_LO(1, 0) ==
	      HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE);

	/* The last queue pair's counters end inside BAR0. */
	CHECK(HSNIC_RXQ_STAT_LO(HSNIC_MAX_QP - 1, HSNIC_RXS_NUM - 1) + 8 <=
	      HSNIC_TXQ_STAT_LO(HSNIC_MAX_QP - 1, 0));
	CHECK(HSNIC_TXQ_STAT_LO(HSNIC_MAX_QP - 1, HSNIC_TXS_NUM - 1) + 8 <=
	      HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE * HSNIC_MAX_QP);
	CHECK(HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE * HSNIC_MAX_QP <=
	      HSNIC_BAR0_SIZE);
}

static void check_enums(void)
{
	CHECK(HSNIC_ERR_NONE == 0 && HSNIC_ERR_RING_CONFIG == 1 &&
	      HSNIC_ERR_TAIL == 2 && HSNIC_ERR_DESC == 3 &&
	      HSNIC_ERR_DMA == 4 && HSNIC_ERR_FRAME == 5);

	CHECK(HSNIC_DSTAT_RX_FILTERED == 0 && HSNIC_DSTAT_RX_RULE_DROP == 1 &&
	      HSNIC_DSTAT_RX_RUNT == 2 && HSNIC_DSTAT_RX_OVERSIZE == 3 &&
	      HSNIC_DSTAT_GUEST_ERRORS == 4 && HSNIC_DSTAT_QUEUE_ERRORS == 5 &&
	      HSNIC_DSTAT_RX_NO_QUEUE == 6 && HSNIC_DSTAT_NUM == 7);

	CHECK(HSNIC_ACTION_QUEUE == 0 && HSNIC_ACTION_RSS == 1 &&
	      HSNIC_ACTION_DROP == 2);

	CHECK(HSNIC_FLOW_TCP4 == 1 && HSNIC_FLOW_UDP4 == 2 &&
	      HSNIC_FLOW_TCP6 == 3 && HSNIC_FLOW_UDP6 == 4 &&
	      HSNIC_FLOW_IP4 == 5 && HSNIC_FLOW_IP6 == 6);

	CHECK(HSNIC_RXS_PACKETS == 0 && HSNIC_RXS_BYTES == 1 &&
	      HSNIC_RXS_DROP_DOWN == 2 && HSNIC_RXS_DROP_NOBUF == 3 &&
	      HSNIC_RXS_HDS_SPLIT == 4 && HSNIC_RXS_HDS_NOSPLIT == 5 &&
	      HSNIC_RXS_HDR_OVF == 6 && HSNIC_RXS_CSUM_OK == 7 &&
	      HSNIC_RXS_CSUM_BAD == 8 && HSNIC_RXS_WAIT_BUF == 9 &&
	      HSNIC_RXS_RSC_FRAMES == 10 && HSNIC_RXS_RSC_SEGS == 11 &&
	      HSNIC_RXS_NUM == 12);

	CHECK(HSNIC_TXS_PACKETS == 0 && HSNIC_TXS_BYTES == 1 &&
	      HSNIC_TXS_WIRE_PACKETS == 2 && HSNIC_TXS_WIRE_BYTES == 3 &&
	      HSNIC_TXS_TSO == 4 && HSNIC_TXS_CSUM == 5 &&
	      HSNIC_TXS_ERRORS == 6 && HSNIC_TXS_NUM == 7);

	CHECK(HSNIC_TX_OK == 0 && HSNIC_TX_ERR_DESC == 1 &&
	      HSNIC_TX_ERR_DMA == 2 && HSNIC_TX_ERR_LEN == 3 &&
	      HSNIC_TX_ERR_OFFLOAD == 4);

	CHECK(HSNIC_HDS_OFF == 0 && HSNIC_HDS_SPLIT == 1 &&
	      HSNIC_HDS_THRESH == 2 && HSNIC_HDS_NO_L4 == 3 &&
	      HSNIC_HDS_IP_FRAG == 4 && HSNIC_HDS_HDR_OVF == 5);

	CHECK(HSNIC_RSS_FT_TCP4 == 0 && HSNIC_RSS_FT_UDP4 == 1 &&
	      HSNIC_RSS_FT_IP4 == 2 && HSNIC_RSS_FT_TCP6 == 3 &&
	      HSNIC_RSS_FT_UDP6 == 4 && HSNIC_RSS_FT_IP6 == 5 &&
	      HSNIC_RSS_FT_NUM == 6);

	CHECK(HSNIC_RSS_TYPE_NONE == 0 && HSNIC_RSS_TYPE_IPV4 == 1 &&
	      HSNIC_RSS_TYPE_TCPV4 == 2 && HSNIC_RSS_TYPE_UDPV4 == 3 &&
	      HSNIC_RSS_TYPE_IPV6 == 4 && HSNIC_RSS_TYPE_TCPV6 == 5 &&
	      HSNIC_RSS_TYPE_UDPV6 == 6);
}

int main(void)
{
	check_layouts();
	check_fields();
	check_limits();
	check_global_regs();
	check_queue_regs();
	check_rule_regs();
	check_rss_regs();
	check_doorbells();
	check_counters();
	check_enums();

	if (failures) {
		fprintf(stderr, "test-abi: %d checks failed\n", failures);
		return 1;
	}
	printf("test-abi: all checks passed\n");
	return 0;
}
