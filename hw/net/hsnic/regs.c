/*
 * QEMU hsnic: BAR0: the device, queue, interrupt, rule, RSS and
 * counter registers, the core reset, and the dispatch of both memory
 * regions (BAR0 and the lockless doorbell region in it)
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"

#include "hsnic.h"
#include "trace.h"

/* ---- Reset ---- */

void hsnic_rss_defaults(HsnicState *s)
{
    /* A fixed key, so that hashes are reproducible across runs. */
    static const uint8_t key[HSNIC_RSS_KEY_SIZE] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
        0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
        0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    unsigned c;

    for (c = 0; c < HSNIC_RSS_CTX_NUM; c++) {
        memset(&s->rss[c], 0, sizeof(s->rss[c]));
        memcpy(s->rss[c].key, key, sizeof(key));
    }
}

void hsnic_core_reset(HsnicState *s, const char *why)
{
    PCIDevice *d = PCI_DEVICE(s);
    unsigned v;

    trace_hsnic_reset(why);
    s->dev_ctrl = 0;
    hsnic_db_eventfds(s, false);
    s->db_rec_addr = 0;
    qatomic_set(&s->rx_db_pending, 0);
    qatomic_set(&s->tx_db_rung, 0);
    qatomic_set(&s->rx_db_rung, 0);
    qatomic_set(&s->hdr_db_rung, 0);
    s->evt_cause = 0;
    s->evt_mask = 0;
    s->rx_mode = HSNIC_RX_MODE_RESET;
    s->err_code = 0;
    s->stat_latch = 0;
    for (v = 0; v < HSNIC_NUM_VEC_MAX; v++) {
        HsnicVector *vec = &s->vec[v];

        vec->armed = false;
        vec->pending = false;
        vec->rx_pending = false;
        vec->npending = 0;
        vec->mod = 0;
        vec->txmod = 0;
        if (vec->timer) {
            timer_del(vec->timer);
        }
    }
    memset(s->txq, 0, sizeof(s->txq));
    memset(s->rxq, 0, sizeof(s->rxq));
    /* open aggregates are dropped: the driver starts from scratch */
    for (v = 0; v < s->num_qp; v++) {
        hsnic_rsc_discard(s, v, "reset");
    }
    memset(s->rules, 0, sizeof(s->rules));
    hsnic_rss_defaults(s);
    memset(s->dstat, 0, sizeof(s->dstat));
    memset(s->rx_qstat, 0, sizeof(s->rx_qstat));
    memset(s->tx_qstat, 0, sizeof(s->tx_qstat));
    if (msix_present(d)) {
        for (v = 0; v < HSNIC_VEC_QP(s->num_qp); v++) {
            msix_clr_pending(d, v);
        }
    }
}

/* ---- Register interface ---- */

static bool hsnic_decode_queue(HsnicState *s, hwaddr addr,
                               unsigned *q, bool *rx, hwaddr *reg)
{
    if (addr >= HSNIC_TXQ_BASE && addr < HSNIC_TXQ_REG(s->num_qp, 0)) {
        *rx = false;
        *q = (addr - HSNIC_TXQ_BASE) / HSNIC_TXQ_STRIDE;
        *reg = (addr - HSNIC_TXQ_BASE) % HSNIC_TXQ_STRIDE;
        return true;
    }
    if (addr >= HSNIC_RXQ_BASE && addr < HSNIC_RXQ_REG(s->num_qp, 0)) {
        *rx = true;
        *q = (addr - HSNIC_RXQ_BASE) / HSNIC_RXQ_STRIDE;
        *reg = (addr - HSNIC_RXQ_BASE) % HSNIC_RXQ_STRIDE;
        return true;
    }
    return false;
}

/* IRQ_CTRL and IRQ_MOD exist for the queue vectors (>= 1) only. */
static bool hsnic_decode_irq(HsnicState *s, hwaddr addr, hwaddr base,
                             unsigned *vector)
{
    if (addr < base + 4 * HSNIC_VEC_QP(0) ||
        addr >= base + 4 * HSNIC_VEC_QP(s->num_qp)) {
        return false;
    }
    *vector = (addr - base) / 4;
    return true;
}

static bool hsnic_queue_read(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                             uint32_t *val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    switch (reg) {
    case HSNIC_Q_DESC_LO:
        *val = extract64(r->desc_addr, 0, 32);
        return true;
    case HSNIC_Q_DESC_HI:
        *val = extract64(r->desc_addr, 32, 32);
        return true;
    case HSNIC_Q_CMPL_LO:
        *val = extract64(r->cmpl_addr, 0, 32);
        return true;
    case HSNIC_Q_CMPL_HI:
        *val = extract64(r->cmpl_addr, 32, 32);
        return true;
    case HSNIC_Q_RING_SIZE:
        *val = r->ring_size;
        return true;
    case HSNIC_Q_CTRL:
        *val = r->ctrl;
        return true;
    case HSNIC_Q_STATUS:
        *val = r->status;
        if (!hsnic_queue_active(r) &&
            hsnic_fault(s, &s->fault.stop_lie, q, rx, "stop not acked yet")) {
            *val |= HSNIC_Q_STATUS_ENABLED;
        }
        return true;
    case HSNIC_Q_HEAD:
        *val = r->head;
        return true;
    case HSNIC_Q_TAIL:
        *val = r->tail;
        return true;
    case HSNIC_Q_CMPL_IDX:
        *val = r->cmpl_idx;
        return true;
    }
    if (!rx) {
        return false;
    }
    switch (reg) {
    case HSNIC_RXQ_HDR_LO:
        *val = extract64(r->hdr_addr, 0, 32);
        return true;
    case HSNIC_RXQ_HDR_HI:
        *val = extract64(r->hdr_addr, 32, 32);
        return true;
    case HSNIC_RXQ_HDR_HEAD:
        *val = r->hdr_head;
        return true;
    case HSNIC_RXQ_HDR_TAIL:
        *val = r->hdr_tail;
        return true;
    case HSNIC_RXQ_BUF_LEN:
        *val = r->buf_len;
        return true;
    case HSNIC_RXQ_HDR_BUF_LEN:
        *val = r->hdr_buf_len;
        return true;
    case HSNIC_RXQ_HDS_THRESH:
        *val = r->hds_thresh;
        return true;
    }
    return false;
}

/* Registers that may only change while the queue is disabled. */
static bool hsnic_queue_reg_static(bool rx, hwaddr reg)
{
    switch (reg) {
    case HSNIC_Q_DESC_LO:
    case HSNIC_Q_DESC_HI:
    case HSNIC_Q_CMPL_LO:
    case HSNIC_Q_CMPL_HI:
    case HSNIC_Q_RING_SIZE:
        return true;
    case HSNIC_RXQ_HDR_LO:
    case HSNIC_RXQ_HDR_HI:
    case HSNIC_RXQ_BUF_LEN:
    case HSNIC_RXQ_HDR_BUF_LEN:
    case HSNIC_RXQ_HDS_THRESH:
        return rx;
    }
    return false;
}

static bool hsnic_queue_write(HsnicState *s, unsigned q, bool rx, hwaddr reg,
                              uint32_t val)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint32_t ctrl_bits = HSNIC_Q_CTRL_ENABLE |
                         (rx ? HSNIC_RXQ_CTRL_HDS | HSNIC_RXQ_CTRL_RSC : 0);

    if (hsnic_queue_reg_static(rx, reg)) {
        if (hsnic_queue_active(r)) {
            trace_hsnic_err_queue_busy(q, hsnic_dir(rx), reg);
            hsnic_guest_error(s, "%s queue %u: register 0x%" HWADDR_PRIx
                              " written while enabled", hsnic_dir(rx), q,
                              reg);
            return true;
        }
    } else if (reg != HSNIC_Q_CTRL) {
        return false;
    }

    switch (reg) {
    case HSNIC_Q_DESC_LO:
        r->desc_addr = deposit64(r->desc_addr, 0, 32, val);
        break;
    case HSNIC_Q_DESC_HI:
        r->desc_addr = deposit64(r->desc_addr, 32, 32, val);
        break;
    case HSNIC_Q_CMPL_LO:
        r->cmpl_addr = deposit64(r->cmpl_addr, 0, 32, val);
        break;
    case HSNIC_Q_CMPL_HI:
        r->cmpl_addr = deposit64(r->cmpl_addr, 32, 32, val);
        break;
    case HSNIC_Q_RING_SIZE:
        r->ring_size = val;
        break;
    case HSNIC_RXQ_HDR_LO:
        r->hdr_addr = deposit64(r->hdr_addr, 0, 32, val);
        break;
    case HSNIC_RXQ_HDR_HI:
        r->hdr_addr = deposit64(r->hdr_addr, 32, 32, val);
        break;
    case HSNIC_RXQ_BUF_LEN:
        r->buf_len = val;
        break;
    case HSNIC_RXQ_HDR_BUF_LEN:
        r->hdr_buf_len = val;
        break;
    case HSNIC_RXQ_HDS_THRESH:
        r->hds_thresh = val;
        break;
    case HSNIC_Q_CTRL:
        if (!(val & HSNIC_Q_CTRL_ENABLE)) {
            if (hsnic_queue_active(r) || (r->ctrl & HSNIC_Q_CTRL_ENABLE)) {
                hsnic_queue_disable(s, q, rx);
                s->fault.stop_lie = s->fault.stop_delay;
            }
            r->ctrl = val & ctrl_bits;
            r->status &= ~HSNIC_Q_STATUS_ERROR;
        } else if (!hsnic_queue_active(r)) {
            r->ctrl = val & ctrl_bits & ~HSNIC_Q_CTRL_ENABLE;
            hsnic_queue_enable(s, q, rx);
        } else if ((val ^ r->ctrl) & ctrl_bits & ~HSNIC_RXQ_CTRL_RSC) {
            trace_hsnic_err_queue_busy(q, hsnic_dir(rx), reg);
            hsnic_guest_error(s, "%s queue %u: CTRL changed while enabled",
                              hsnic_dir(rx), q);
        } else if ((val ^ r->ctrl) & ctrl_bits) {
            /* RSC may change on a running queue */
            if (!(val & HSNIC_RXQ_CTRL_RSC)) {
                hsnic_rsc_flush(s, q, "RSC cleared");
            }
            r->ctrl = (r->ctrl & ~HSNIC_RXQ_CTRL_RSC) |
                      (val & HSNIC_RXQ_CTRL_RSC);
        }
        break;
    }
    return true;
}

static void hsnic_dev_ctrl_write(HsnicState *s, uint32_t val)
{
    uint32_t old = s->dev_ctrl;

    trace_hsnic_dev_ctrl(old, val);
    if (!(val & HSNIC_DEV_CTRL_ENABLE) && !(val & HSNIC_DEV_CTRL_RESET)) {
        hsnic_rsc_flush_all(s, "device disabled");
    }
    if (val & HSNIC_DEV_CTRL_RESET) {
        hsnic_core_reset(s, "DEV_CTRL.RESET");
        return;
    }
    s->dev_ctrl = val & HSNIC_DEV_CTRL_ALL;
    hsnic_db_eventfds(s, hsnic_db_rec_on(s));
    if ((!(old & HSNIC_DEV_CTRL_ENABLE) && hsnic_dev_enabled(s)) ||
        ((old ^ s->dev_ctrl) & HSNIC_DEV_CTRL_DB_REC)) {
        /* Doorbells written while the device was disabled. */
        hsnic_db_kick_all(s);
    }
}

static uint32_t hsnic_rule_read(HsnicState *s, unsigned i, hwaddr reg)
{
    HsnicRule *rule = &s->rules[i];

    switch (reg) {
    case HSNIC_RULE_CTRL:
        return rule->ctrl;
    case HSNIC_RULE_DEST:
        return rule->dest;
    case HSNIC_RULE_PORTS:
        return rule->ports;
    case HSNIC_RULE_PORTS_MASK:
        return rule->ports_mask;
    case HSNIC_RULE_PROTO:
        return rule->proto;
    case HSNIC_RULE_SRC(0) ... HSNIC_RULE_SRC(3):
        return rule->src[(reg - HSNIC_RULE_SRC(0)) / 4];
    case HSNIC_RULE_SRC_MASK(0) ... HSNIC_RULE_SRC_MASK(3):
        return rule->src_mask[(reg - HSNIC_RULE_SRC_MASK(0)) / 4];
    case HSNIC_RULE_DST(0) ... HSNIC_RULE_DST(3):
        return rule->dst[(reg - HSNIC_RULE_DST(0)) / 4];
    case HSNIC_RULE_DST_MASK(0) ... HSNIC_RULE_DST_MASK(3):
        return rule->dst_mask[(reg - HSNIC_RULE_DST_MASK(0)) / 4];
    }
    return 0;
}

bool hsnic_rule_ctrl_valid(HsnicState *s, unsigned i, uint32_t val)
{
    HsnicRule *rule = &s->rules[i];
    unsigned flow = extract32(val, HSNIC_RULE_FLOW_SHIFT,
                              HSNIC_RULE_FLOW_WIDTH);
    unsigned action = extract32(val, HSNIC_RULE_ACTION_SHIFT,
                                HSNIC_RULE_ACTION_WIDTH);
    unsigned ctx = extract32(rule->dest, HSNIC_RULE_CTX_SHIFT,
                             HSNIC_RULE_CTX_WIDTH);

    if (!(val & HSNIC_RULE_VALID)) {
        return true;
    }
    if (flow < HSNIC_FLOW_TCP4 || flow > HSNIC_FLOW_IP6) {
        return false;
    }
    if (action == HSNIC_ACTION_RSS && ctx >= HSNIC_RSS_CTX_NUM) {
        return false;
    }
    return action <= HSNIC_ACTION_DROP;
}

static void hsnic_rule_write(HsnicState *s, unsigned i, hwaddr reg,
                             uint32_t val)
{
    HsnicRule *rule = &s->rules[i];

    if (reg != HSNIC_RULE_CTRL && (rule->ctrl & HSNIC_RULE_VALID)) {
        trace_hsnic_err_rule(i, reg, val, "written while valid");
        hsnic_guest_error(s, "flow rule %u: register 0x%" HWADDR_PRIx
                          " written while valid", i, reg);
        return;
    }
    switch (reg) {
    case HSNIC_RULE_CTRL:
        if (!hsnic_rule_ctrl_valid(s, i, val)) {
            trace_hsnic_err_rule(i, reg, val, "bad flow, action or context");
            hsnic_guest_error(s, "flow rule %u: invalid CTRL 0x%x", i, val);
            rule->ctrl = 0;
            return;
        }
        rule->ctrl = val & (HSNIC_RULE_VALID | HSNIC_RULE_ACTION_MASK |
                            HSNIC_RULE_FLOW_MASK);
        trace_hsnic_rule(i, rule->ctrl, rule->dest);
        return;
    case HSNIC_RULE_DEST:
        rule->dest = val & (HSNIC_RULE_QUEUE_MASK | HSNIC_RULE_CTX_MASK);
        return;
    case HSNIC_RULE_PORTS:
        rule->ports = val;
        return;
    case HSNIC_RULE_PORTS_MASK:
        rule->ports_mask = val;
        return;
    case HSNIC_RULE_PROTO:
        rule->proto = val & (HSNIC_RULE_PROTO_VAL_MASK |
                             HSNIC_RULE_PROTO_MSK_MASK);
        return;
    case HSNIC_RULE_SRC(0) ... HSNIC_RULE_SRC(3):
        rule->src[(reg - HSNIC_RULE_SRC(0)) / 4] = val;
        return;
    case HSNIC_RULE_SRC_MASK(0) ... HSNIC_RULE_SRC_MASK(3):
        rule->src_mask[(reg - HSNIC_RULE_SRC_MASK(0)) / 4] = val;
        return;
    case HSNIC_RULE_DST(0) ... HSNIC_RULE_DST(3):
        rule->dst[(reg - HSNIC_RULE_DST(0)) / 4] = val;
        return;
    case HSNIC_RULE_DST_MASK(0) ... HSNIC_RULE_DST_MASK(3):
        rule->dst_mask[(reg - HSNIC_RULE_DST_MASK(0)) / 4] = val;
        return;
    }
    trace_hsnic_err_mmio_reg(HSNIC_RULE(i) + reg, true);
    hsnic_guest_error(s, "flow rule %u: no register 0x%" HWADDR_PRIx, i, reg);
}

static uint32_t hsnic_rss_read(HsnicState *s, unsigned c, hwaddr reg)
{
    HsnicRss *rss = &s->rss[c];

    switch (reg) {
    case HSNIC_RSS_CTRL:
        return rss->ctrl;
    case HSNIC_RSS_FIELDS:
        return rss->fields;
    case HSNIC_RSS_KEY(0) ... HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4 - 1):
        return ldl_le_p(rss->key + (reg - HSNIC_RSS_KEY(0)));
    case HSNIC_RSS_INDIR(0) ...
         HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4 - 1):
        return ldl_le_p(rss->indir + (reg - HSNIC_RSS_INDIR(0)));
    }
    return 0;
}

/* RSS registers may change at any time; the next frame uses them. */
static void hsnic_rss_write(HsnicState *s, unsigned c, hwaddr reg,
                            uint32_t val)
{
    HsnicRss *rss = &s->rss[c];

    switch (reg) {
    case HSNIC_RSS_CTRL:
        rss->ctrl = val & (HSNIC_RSS_CTRL_ENABLE | HSNIC_RSS_CTRL_SYM_XOR);
        trace_hsnic_rss(c, rss->ctrl, rss->fields);
        return;
    case HSNIC_RSS_FIELDS:
        rss->fields = val & HSNIC_RSS_FIELDS_ALL;
        return;
    case HSNIC_RSS_KEY(0) ... HSNIC_RSS_KEY(HSNIC_RSS_KEY_SIZE / 4 - 1):
        stl_le_p(rss->key + (reg - HSNIC_RSS_KEY(0)), val);
        return;
    case HSNIC_RSS_INDIR(0) ...
         HSNIC_RSS_INDIR(HSNIC_RSS_INDIR_SIZE / 4 - 1):
        stl_le_p(rss->indir + (reg - HSNIC_RSS_INDIR(0)), val);
        return;
    }
    trace_hsnic_err_mmio_reg(HSNIC_RSS(c) + reg, true);
    hsnic_guest_error(s, "RSS context %u: no register 0x%" HWADDR_PRIx,
                      c, reg);
}

/* 64-bit counters: LO latches the value, HI reads the latched half. */
static bool hsnic_counter_read(HsnicState *s, hwaddr addr, uint32_t *val)
{
    uint64_t *ctr = NULL;
    bool hi = addr & 4;

    if (addr >= HSNIC_REG_DSTAT_LO(0) &&
        addr < HSNIC_REG_DSTAT_LO(HSNIC_DSTAT_NUM)) {
        ctr = &s->dstat[(addr - HSNIC_REG_DSTAT_LO(0)) / 8];
    } else if (addr >= HSNIC_QSTAT_BASE &&
               addr < HSNIC_QSTAT_BASE + HSNIC_QSTAT_STRIDE * s->num_qp) {
        unsigned q = (addr - HSNIC_QSTAT_BASE) / HSNIC_QSTAT_STRIDE;
        unsigned off = (addr - HSNIC_QSTAT_BASE) % HSNIC_QSTAT_STRIDE;

        if (off < 8 * HSNIC_RXS_NUM) {
            ctr = &s->rx_qstat[q][off / 8];
        } else if (off >= 0x80 && off < 0x80 + 8 * HSNIC_TXS_NUM) {
            ctr = &s->tx_qstat[q][(off - 0x80) / 8];
        } else {
            return false;
        }
    } else {
        return false;
    }
    if (hi) {
        *val = s->stat_latch;
    } else {
        *val = extract64(*ctr, 0, 32);
        s->stat_latch = extract64(*ctr, 32, 32);
    }
    return true;
}

/*
 * An access that was dispatched before the device was unrealized but got
 * the BQL only after it (a vCPU that looked its BAR up just before the
 * unplug): the NIC, timers and packet state are gone, the object itself
 * stays until the last reference to its memory regions is dropped.
 * Called with the BQL, which unrealize holds throughout.
 */
static bool hsnic_gone(HsnicState *s, hwaddr addr, bool write)
{
    if (likely(s->nic)) {
        return false;
    }
    trace_hsnic_err_gone(addr, write);
    return true;
}

/* Registers of a range (counters, interrupts, queues, rules, RSS). */
static void hsnic_mmio_read_range(HsnicState *s, hwaddr addr, uint32_t *val)
{
    unsigned q, vector;
    hwaddr reg;
    bool rx;

    if (hsnic_counter_read(s, addr, val)) {
        /* done */
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_CTRL(0),
                                &vector)) {
        *val = s->vec[vector].armed ? HSNIC_IRQ_ARM : 0;
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_MOD(0),
                                &vector)) {
        *val = s->vec[vector].mod;
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_TXMOD(0),
                                &vector)) {
        *val = s->vec[vector].txmod;
    } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
               hsnic_queue_read(s, q, rx, reg, val)) {
        /* done */
    } else if (addr >= HSNIC_RULE_BASE &&
               addr < HSNIC_RULE(HSNIC_NUM_RULES)) {
        *val = hsnic_rule_read(s, (addr - HSNIC_RULE_BASE) /
                               HSNIC_RULE_STRIDE,
                               (addr - HSNIC_RULE_BASE) %
                               HSNIC_RULE_STRIDE);
    } else if (addr >= HSNIC_RSS_BASE &&
               addr < HSNIC_RSS(HSNIC_RSS_CTX_NUM)) {
        *val = hsnic_rss_read(s, (addr - HSNIC_RSS_BASE) /
                              HSNIC_RSS_STRIDE,
                              (addr - HSNIC_RSS_BASE) % HSNIC_RSS_STRIDE);
    } else if (addr >= HSNIC_DB_BASE && addr < HSNIC_DB_TX(s->num_qp)) {
        *val = 0;    /* doorbells are write-only */
    } else {
        trace_hsnic_err_mmio_reg(addr, false);
        hsnic_guest_error(s, "read of unknown register 0x%" HWADDR_PRIx,
                          addr);
    }
}

static uint64_t hsnic_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    HsnicState *s = opaque;
    NetClientState *nc;
    const uint8_t *mac = s->conf.macaddr.a;
    uint32_t val = 0;

    if (hsnic_gone(s, addr, false)) {
        return UINT32_MAX;      /* what a removed device reads as */
    }
    nc = qemu_get_queue(s->nic);
    if (size != 4 || !QEMU_IS_ALIGNED(addr, 4)) {
        trace_hsnic_err_mmio_size(addr, size, false);
        hsnic_guest_error(s, "%u byte read at 0x%" HWADDR_PRIx, size, addr);
        return 0;
    }

    switch (addr) {
    case HSNIC_REG_MAGIC:
        val = HSNIC_MAGIC;
        break;
    case HSNIC_REG_VERSION:
        val = deposit32(0, HSNIC_VERSION_MAJOR_SHIFT,
                        HSNIC_VERSION_MAJOR_WIDTH, HSNIC_ABI_MAJOR);
        val = deposit32(val, HSNIC_VERSION_MINOR_SHIFT,
                        HSNIC_VERSION_MINOR_WIDTH, HSNIC_ABI_MINOR);
        break;
    case HSNIC_REG_FEATURES:
        val = HSNIC_FEATURES;
        break;
    case HSNIC_REG_MAX_QP:
        val = s->num_qp;
        break;
    case HSNIC_REG_MAX_RING:
        val = s->max_ring;
        break;
    case HSNIC_REG_DEV_CTRL:
        val = s->dev_ctrl;
        break;
    case HSNIC_REG_DB_REC_LO:
        val = extract64(s->db_rec_addr, 0, 32);
        break;
    case HSNIC_REG_DB_REC_HI:
        val = extract64(s->db_rec_addr, 32, 32);
        break;
    case HSNIC_REG_DEV_STATUS:
        val = (nc->link_down ? 0 : HSNIC_DEV_STATUS_LINK_UP) |
              (hsnic_dev_enabled(s) ? HSNIC_DEV_STATUS_ENABLED : 0) |
              (s->err_code ? HSNIC_DEV_STATUS_ERROR : 0);
        break;
    case HSNIC_REG_EVT_CAUSE:
        val = s->evt_cause;
        break;
    case HSNIC_REG_EVT_MASK:
        val = s->evt_mask;
        break;
    case HSNIC_REG_MAC_LO:
        val = ldl_le_p(mac);
        break;
    case HSNIC_REG_MAC_HI:
        val = lduw_le_p(mac + 4);
        break;
    case HSNIC_REG_RX_MODE:
        val = s->rx_mode;
        break;
    case HSNIC_REG_ERR_CODE:
        val = s->err_code;
        break;
    case HSNIC_REG_RSS_CTX_NUM:
        val = HSNIC_RSS_CTX_NUM;
        break;
    case HSNIC_REG_RSS_INDIR_SIZE:
        val = HSNIC_RSS_INDIR_SIZE;
        break;
    case HSNIC_REG_RSS_KEY_SIZE:
        val = HSNIC_RSS_KEY_SIZE;
        break;
    case HSNIC_REG_NUM_RULES:
        val = HSNIC_NUM_RULES;
        break;
    case HSNIC_REG_MAX_RX_BUF:
        val = HSNIC_MAX_RX_BUF;
        break;
    default:
        hsnic_mmio_read_range(s, addr, &val);
        break;
    }

    trace_hsnic_mmio_read(addr, val);
    return val;
}

static void hsnic_mmio_write(void *opaque, hwaddr addr, uint64_t val64,
                             unsigned size)
{
    HsnicState *s = opaque;
    uint32_t val = val64;
    uint32_t old_active;
    unsigned q, vector;
    hwaddr reg;
    bool rx;

    if (hsnic_gone(s, addr, true)) {
        return;
    }
    if (size != 4 || !QEMU_IS_ALIGNED(addr, 4)) {
        trace_hsnic_err_mmio_size(addr, size, true);
        hsnic_guest_error(s, "%u byte write at 0x%" HWADDR_PRIx, size, addr);
        return;
    }
    trace_hsnic_mmio_write(addr, val);

    switch (addr) {
    case HSNIC_REG_DEV_CTRL:
        hsnic_dev_ctrl_write(s, val);
        return;
    case HSNIC_REG_EVT_CAUSE:
        s->evt_cause &= ~val;
        trace_hsnic_evt(s->evt_cause, s->evt_mask);
        return;
    case HSNIC_REG_EVT_MASK:
        old_active = s->evt_cause & s->evt_mask;
        s->evt_mask = val & HSNIC_EVT_ALL;
        hsnic_evt_update(s, old_active);
        return;
    case HSNIC_REG_RX_MODE:
        s->rx_mode = val & HSNIC_RX_MODE_ALL;
        return;
    case HSNIC_REG_DB_REC_LO:
        s->db_rec_addr = deposit64(s->db_rec_addr, 0, 32,
                                   val & ~(HSNIC_DB_REC_ALIGN - 1));
        return;
    case HSNIC_REG_DB_REC_HI:
        s->db_rec_addr = deposit64(s->db_rec_addr, 32, 32, val);
        return;
    }

    if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_CTRL(0), &vector)) {
        hsnic_irq_arm(s, vector, val & HSNIC_IRQ_ARM);
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_MOD(0), &vector)) {
        s->vec[vector].mod = val;
        trace_hsnic_irq_mod(vector, val);
    } else if (hsnic_decode_irq(s, addr, HSNIC_REG_IRQ_TXMOD(0), &vector)) {
        s->vec[vector].txmod = val;
        trace_hsnic_irq_mod(vector, val);
    } else if (hsnic_decode_queue(s, addr, &q, &rx, &reg) &&
               hsnic_queue_write(s, q, rx, reg, val)) {
        /* done */
    } else if (addr >= HSNIC_RULE_BASE && addr < HSNIC_RULE(HSNIC_NUM_RULES)) {
        hsnic_rule_write(s, (addr - HSNIC_RULE_BASE) / HSNIC_RULE_STRIDE,
                         (addr - HSNIC_RULE_BASE) % HSNIC_RULE_STRIDE, val);
    } else if (addr >= HSNIC_RSS_BASE && addr < HSNIC_RSS(HSNIC_RSS_CTX_NUM)) {
        hsnic_rss_write(s, (addr - HSNIC_RSS_BASE) / HSNIC_RSS_STRIDE,
                        (addr - HSNIC_RSS_BASE) % HSNIC_RSS_STRIDE, val);
    } else if (addr >= HSNIC_DB_BASE && addr < HSNIC_DB_TX(s->num_qp)) {
        hsnic_doorbell(s, addr, val);
    } else {
        trace_hsnic_err_mmio_reg(addr, true);
        hsnic_guest_error(s, "write of 0x%x to read-only or unknown "
                          "register 0x%" HWADDR_PRIx, val, addr);
    }
}

const MemoryRegionOps hsnic_mmio_ops = {
    .read = hsnic_mmio_read,
    .write = hsnic_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* Let every size through so that wrong ones can be reported. */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/*
 * The doorbells' own region, dispatched without the BQL: with doorbell
 * records on, a well-formed doorbell write only sets a bit and schedules
 * a bottom half (both thread-safe), so the vCPU never waits for the main
 * loop. Everything else takes the BQL and the common path.
 *
 * Lockless regions lose the memory core's re-entrancy guard, so it is
 * checked here: an access made while this device is in its own I/O (a
 * DMA of hsnic's into its doorbells) fails like one to any other of its
 * registers would. Only a thread holding the BQL can be inside the
 * device's I/O, so a vCPU's doorbell never mistakes another thread's I/O
 * for its own.
 */
static bool hsnic_db_reentrant(HsnicState *s, hwaddr off, bool write)
{
    if (!bql_locked() || !DEVICE(s)->mem_reentrancy_guard.engaged_in_io) {
        /* (with the BQL the memory core guards the region itself) */
        return false;
    }
    /* Not counted: the failed DMA is, by whoever made it. */
    trace_hsnic_err_db_reentrant(HSNIC_DB_BASE + off, write);
    qemu_log_mask(LOG_GUEST_ERROR, "hsnic: DMA to its own doorbell 0x%"
                  HWADDR_PRIx " blocked\n", HSNIC_DB_BASE + off);
    return true;
}

static MemTxResult hsnic_db_write(void *opaque, hwaddr off, uint64_t val,
                                  unsigned size, MemTxAttrs attrs)
{
    HsnicState *s = opaque;
    unsigned slot = off % HSNIC_DB_STRIDE;
    bool guard;

    if (hsnic_db_reentrant(s, off, true)) {
        return MEMTX_ACCESS_ERROR;
    }
    if (size == 4 && QEMU_IS_ALIGNED(off, 4) &&
        slot <= HSNIC_DB_SLOT_RX_HDR &&
        (qatomic_read(&s->dev_ctrl) & HSNIC_DEV_CTRL_DB_REC)) {
        trace_hsnic_doorbell(off / HSNIC_DB_STRIDE, hsnic_db_name(slot),
                             val);
        hsnic_db_notify(s, off / HSNIC_DB_STRIDE, slot);
        return MEMTX_OK;
    }
    BQL_LOCK_GUARD();
    guard = hsnic_guard_enter(s);
    hsnic_mmio_write(s, HSNIC_DB_BASE + off, val, size);
    hsnic_guard_exit(s, guard);
    return MEMTX_OK;
}

static MemTxResult hsnic_db_read(void *opaque, hwaddr off, uint64_t *val,
                                 unsigned size, MemTxAttrs attrs)
{
    HsnicState *s = opaque;
    bool guard;

    if (hsnic_db_reentrant(s, off, false)) {
        return MEMTX_ACCESS_ERROR;
    }
    BQL_LOCK_GUARD();
    guard = hsnic_guard_enter(s);
    *val = hsnic_mmio_read(s, HSNIC_DB_BASE + off, size);
    hsnic_guard_exit(s, guard);
    return MEMTX_OK;
}

const MemoryRegionOps hsnic_db_ops = {
    .read_with_attrs = hsnic_db_read,
    .write_with_attrs = hsnic_db_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};
