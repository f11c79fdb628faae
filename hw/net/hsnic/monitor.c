/*
 * QEMU hsnic: introspection: the x-state property (QMP qom-get)
 * and HMP "info hsnic" printed from it
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"

#include "hsnic.h"
#include "trace.h"

const HsnicStatProp hsnic_stat_props[] = {
    { "x-stat-rx-filtered", HSNIC_DSTAT_RX_FILTERED,
      "Read-only counter: frames dropped by the RX_MODE filter" },
    { "x-stat-rx-rule-drop", HSNIC_DSTAT_RX_RULE_DROP,
      "Read-only counter: frames dropped by a flow rule" },
    { "x-stat-rx-runt", HSNIC_DSTAT_RX_RUNT,
      "Read-only counter: frames shorter than an Ethernet header" },
    { "x-stat-rx-oversize", HSNIC_DSTAT_RX_OVERSIZE,
      "Read-only counter: frames longer than the device's maximum" },
    { "x-stat-guest-errors", HSNIC_DSTAT_GUEST_ERRORS,
      "Read-only counter: invalid register accesses and descriptors" },
    { "x-stat-queue-errors", HSNIC_DSTAT_QUEUE_ERRORS,
      "Read-only counter: queues stopped on an error" },
    { "x-stat-rx-no-queue", HSNIC_DSTAT_RX_NO_QUEUE,
      "Read-only counter: frames steered past the last queue pair" },
};

const size_t hsnic_num_stat_props = ARRAY_SIZE(hsnic_stat_props);

/*
 * ---- Introspection: x-state (QMP qom-get) and "info hsnic" (HMP) ----
 *
 * Read-only snapshot of the queues, counters, RSS contexts and valid flow
 * rules, for debugging without a debugger. Only QMP and HMP reach it, never
 * the guest; it runs under the BQL like all processing and only reads.
 */
static QDict *hsnic_queue_qdict(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    QDict *d = qdict_new();
    uint32_t qid = extract32(s->err_code, HSNIC_ERR_QUEUE_SHIFT,
                             HSNIC_ERR_QUEUE_WIDTH);
    uint32_t code = 0;
    const char *db = "mmio";

    if ((r->status & HSNIC_Q_STATUS_ERROR) && qid == HSNIC_QID(q, rx)) {
        code = extract32(s->err_code, HSNIC_ERR_CODE_SHIFT,
                         HSNIC_ERR_CODE_WIDTH);
    }
    if (hsnic_db_rec_on(s)) {
        db = s->db_eventfds ? "record+eventfd" : "record";
    }
    qdict_put_int(d, "queue", q);
    qdict_put_bool(d, "enabled", !!(r->ctrl & HSNIC_Q_CTRL_ENABLE));
    qdict_put_int(d, "ctrl", r->ctrl);
    qdict_put_int(d, "status", r->status);
    qdict_put_int(d, "error", code);
    qdict_put_int(d, "ring-size", r->ring_size);
    qdict_put_int(d, "head", r->head);
    qdict_put_int(d, "tail", r->tail);
    qdict_put_int(d, "cmpl-idx", r->cmpl_idx);
    qdict_put_bool(d, "gen", r->gen);
    qdict_put_int(d, "vector", HSNIC_VEC_QP(q));
    qdict_put_str(d, "doorbell", db);
    qdict_put_int(d, "desc-addr", r->desc_addr);
    qdict_put_int(d, "cmpl-addr", r->cmpl_addr);
    if (rx) {
        qdict_put_int(d, "buf-len", r->buf_len);
        qdict_put_bool(d, "hds", !!(r->ctrl & HSNIC_RXQ_CTRL_HDS));
        qdict_put_bool(d, "rsc", !!(r->ctrl & HSNIC_RXQ_CTRL_RSC));
        qdict_put_int(d, "rsc-open-segs", hsnic_rsc_open_segs(s, q));
        qdict_put_int(d, "rsc-open", s->rsc ? s->rsc[q].nopen : 0);
        qdict_put_int(d, "hdr-addr", r->hdr_addr);
        qdict_put_int(d, "hdr-buf-len", r->hdr_buf_len);
        qdict_put_int(d, "hdr-head", r->hdr_head);
        qdict_put_int(d, "hdr-tail", r->hdr_tail);
    }
    return d;
}

static QDict *hsnic_rss_qdict(HsnicState *s, unsigned c)
{
    HsnicRss *rss = &s->rss[c];
    QDict *d = qdict_new();
    QList *indir = qlist_new();
    char key[2 * HSNIC_RSS_KEY_SIZE + 1];
    unsigned i;

    for (i = 0; i < HSNIC_RSS_KEY_SIZE; i++) {
        snprintf(key + 2 * i, 3, "%02x", rss->key[i]);
    }
    for (i = 0; i < HSNIC_RSS_INDIR_SIZE; i++) {
        qlist_append_int(indir, rss->indir[i]);
    }
    qdict_put_int(d, "context", c);
    qdict_put_bool(d, "enabled", !!(rss->ctrl & HSNIC_RSS_CTRL_ENABLE));
    qdict_put_bool(d, "sym-xor", !!(rss->ctrl & HSNIC_RSS_CTRL_SYM_XOR));
    qdict_put_int(d, "fields", rss->fields);
    qdict_put_str(d, "key", key);
    qdict_put(d, "indir", indir);
    return d;
}

static QList *hsnic_u32_qlist(const uint32_t *v, unsigned n)
{
    QList *l = qlist_new();
    unsigned i;

    for (i = 0; i < n; i++) {
        qlist_append_int(l, v[i]);
    }
    return l;
}

static QDict *hsnic_rule_qdict(HsnicState *s, unsigned i)
{
    HsnicRule *rule = &s->rules[i];
    QDict *d = qdict_new();

    qdict_put_int(d, "rule", i);
    qdict_put_int(d, "flow",
                  extract32(rule->ctrl, HSNIC_RULE_FLOW_SHIFT,
                            HSNIC_RULE_FLOW_WIDTH));
    qdict_put_int(d, "action",
                  extract32(rule->ctrl, HSNIC_RULE_ACTION_SHIFT,
                            HSNIC_RULE_ACTION_WIDTH));
    qdict_put_int(d, "queue",
                  extract32(rule->dest, HSNIC_RULE_QUEUE_SHIFT,
                            HSNIC_RULE_QUEUE_WIDTH));
    qdict_put_int(d, "context",
                  extract32(rule->dest, HSNIC_RULE_CTX_SHIFT,
                            HSNIC_RULE_CTX_WIDTH));
    qdict_put_int(d, "sport",
                  extract32(rule->ports, HSNIC_RULE_SPORT_SHIFT,
                            HSNIC_RULE_SPORT_WIDTH));
    qdict_put_int(d, "dport",
                  extract32(rule->ports, HSNIC_RULE_DPORT_SHIFT,
                            HSNIC_RULE_DPORT_WIDTH));
    qdict_put_int(d, "ports-mask", rule->ports_mask);
    qdict_put_int(d, "proto", rule->proto);
    qdict_put(d, "src", hsnic_u32_qlist(rule->src, 4));
    qdict_put(d, "src-mask", hsnic_u32_qlist(rule->src_mask, 4));
    qdict_put(d, "dst", hsnic_u32_qlist(rule->dst, 4));
    qdict_put(d, "dst-mask", hsnic_u32_qlist(rule->dst_mask, 4));
    return d;
}

static QDict *hsnic_state_qdict(HsnicState *s)
{
    QDict *d = qdict_new();
    QDict *stats = qdict_new();
    QList *txq = qlist_new();
    QList *rxq = qlist_new();
    QList *rss = qlist_new();
    QList *rules = qlist_new();
    unsigned nqp = MIN(s->num_qp, HSNIC_MAX_QP);
    unsigned i;

    qdict_put_int(d, "dev-ctrl", s->dev_ctrl);
    qdict_put_bool(d, "enabled", hsnic_dev_enabled(s));
    qdict_put_bool(d, "link-up",
                   s->nic && !qemu_get_queue(s->nic)->link_down);
    qdict_put_int(d, "err-code", s->err_code);
    qdict_put_int(d, "evt-cause", s->evt_cause);
    qdict_put_int(d, "evt-mask", s->evt_mask);
    qdict_put_int(d, "rx-mode", s->rx_mode);
    qdict_put_int(d, "queue-pairs", s->num_qp);
    qdict_put_int(d, "db-rec-addr", s->db_rec_addr);
    for (i = 0; i < nqp; i++) {
        qlist_append(txq, hsnic_queue_qdict(s, i, false));
        qlist_append(rxq, hsnic_queue_qdict(s, i, true));
    }
    qdict_put(d, "txq", txq);
    qdict_put(d, "rxq", rxq);
    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        /* the property's name without "x-stat-" */
        qdict_put_int(stats, hsnic_stat_props[i].name + 7,
                      s->dstat[hsnic_stat_props[i].idx]);
    }
    qdict_put(d, "stats", stats);
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        qlist_append(rss, hsnic_rss_qdict(s, i));
    }
    qdict_put(d, "rss", rss);
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        if (s->rules[i].ctrl & HSNIC_RULE_VALID) {
            qlist_append(rules, hsnic_rule_qdict(s, i));
        }
    }
    qdict_put(d, "rules", rules);
    return d;
}

void hsnic_get_state(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    QObject *o = QOBJECT(hsnic_state_qdict(HSNIC(obj)));

    visit_type_any(v, name, &o, errp);
    qobject_unref(o);
}

static void hsnic_hmp_queue(Monitor *mon, HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    QDict *d = hsnic_queue_qdict(s, q, rx);

    monitor_printf(mon, "  %s%-2u %-3s    0x%x %3" PRId64 " %5u %5u %5u %5u "
                   "%3u %3u ", hsnic_dir(rx), q,
                   (r->ctrl & HSNIC_Q_CTRL_ENABLE) ? "on" : "off",
                   r->status, qdict_get_int(d, "error"), r->ring_size,
                   r->head, r->tail, r->cmpl_idx, r->gen, HSNIC_VEC_QP(q));
    if (rx) {
        monitor_printf(mon, "%-14s hds=%s hdr %u/%u\n",
                       qdict_get_str(d, "doorbell"),
                       (r->ctrl & HSNIC_RXQ_CTRL_HDS) ? "on" : "off",
                       r->hdr_head, r->hdr_tail);
    } else {
        monitor_printf(mon, "%s\n", qdict_get_str(d, "doorbell"));
    }
    qobject_unref(d);
}

static int hsnic_hmp_one(Object *obj, void *opaque)
{
    Monitor *mon = opaque;
    HsnicState *s = (HsnicState *)object_dynamic_cast(obj, TYPE_HSNIC);
    unsigned nqp, i, j;
    g_autofree char *path = NULL;

    if (!s || !DEVICE(s)->realized) {
        return 0;
    }
    nqp = MIN(s->num_qp, HSNIC_MAX_QP);
    path = object_get_canonical_path(obj);
    monitor_printf(mon, "hsnic %s: dev_ctrl 0x%x %s link %s err_code 0x%x "
                   "queue-pairs %u\n", path, s->dev_ctrl,
                   hsnic_dev_enabled(s) ? "enabled" : "disabled",
                   qemu_get_queue(s->nic)->link_down ? "down" : "up",
                   s->err_code, s->num_qp);
    monitor_printf(mon, "  queue en  status err  size  head  tail  cmpl "
                   "gen vec doorbell       (rx: header ring)\n");
    for (i = 0; i < nqp; i++) {
        hsnic_hmp_queue(mon, s, i, false);
    }
    for (i = 0; i < nqp; i++) {
        hsnic_hmp_queue(mon, s, i, true);
    }
    monitor_printf(mon, "  counters:");
    for (i = 0; i < ARRAY_SIZE(hsnic_stat_props); i++) {
        monitor_printf(mon, " %s=%" PRIu64, hsnic_stat_props[i].name + 7,
                       s->dstat[hsnic_stat_props[i].idx]);
    }
    monitor_printf(mon, "\n");
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        HsnicRss *rss = &s->rss[i];

        if (i && !rss->ctrl) {
            continue;
        }
        monitor_printf(mon, "  rss ctx %u: %s%s fields 0x%x key ", i,
                       (rss->ctrl & HSNIC_RSS_CTRL_ENABLE) ? "on" : "off",
                       (rss->ctrl & HSNIC_RSS_CTRL_SYM_XOR) ? " sym-xor" : "",
                       rss->fields);
        for (j = 0; j < HSNIC_RSS_KEY_SIZE; j++) {
            monitor_printf(mon, "%02x", rss->key[j]);
        }
        for (j = 0; j < HSNIC_RSS_INDIR_SIZE; j++) {
            if (j % 16 == 0) {
                monitor_printf(mon, "\n    indir[%3u]:", j);
            }
            monitor_printf(mon, " %u", rss->indir[j]);
        }
        monitor_printf(mon, "\n");
    }
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        HsnicRule *rule = &s->rules[i];
        QDict *d;

        if (!(rule->ctrl & HSNIC_RULE_VALID)) {
            continue;
        }
        /* the fields decoded once, as x-state shows them */
        d = hsnic_rule_qdict(s, i);
        monitor_printf(mon, "  rule %u: flow %" PRId64 " action %" PRId64
                       " queue %" PRId64 " ctx %" PRId64 " ports 0x%x/0x%x "
                       "proto 0x%x src %08x/%08x dst %08x/%08x\n", i,
                       qdict_get_int(d, "flow"), qdict_get_int(d, "action"),
                       qdict_get_int(d, "queue"), qdict_get_int(d, "context"),
                       rule->ports, rule->ports_mask, rule->proto,
                       rule->src[0], rule->src_mask[0], rule->dst[0],
                       rule->dst_mask[0]);
        qobject_unref(d);
    }
    return 0;
}

/* HMP "info hsnic": every hsnic device, as a table. */
void hmp_info_hsnic(Monitor *mon, const QDict *qdict)
{
    object_child_foreach_recursive(object_get_root(), hsnic_hmp_one, mon);
}
