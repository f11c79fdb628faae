/*
 * QEMU hsnic: doorbells: the BQL doorbell write, doorbell records,
 * their notifications and the eventfds behind them
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "system/dma.h"
#include "system/kvm.h"

#include "hsnic.h"
#include "trace.h"

/*
 * Take an enabled queue's producer indexes from its doorbell record. Only
 * called from bottom halves and the receive path, with DMA allowed.
 * Returns false when the queue stopped on an error.
 */
bool hsnic_db_rec_fetch(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint64_t addr = s->db_rec_addr + q * sizeof(struct hsnic_db_rec);
    struct hsnic_db_rec rec;
    uint32_t tail, hdr_tail;
    bool hds = rx && (r->ctrl & HSNIC_RXQ_CTRL_HDS);

    if (pci_dma_read(PCI_DEVICE(s), addr, &rec, sizeof(rec))) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "doorbell record read",
                                 addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    tail = le32_to_cpu(rx ? rec.rx_tail : rec.tx_tail);
    hdr_tail = hds ? le32_to_cpu(rec.rx_hdr_tail) : r->hdr_tail;
    trace_hsnic_db_rec(q, hsnic_dir(rx), tail, hdr_tail);
    if (tail >= r->ring_size || hdr_tail >= r->ring_size) {
        trace_hsnic_err_tail(q, hsnic_dir(rx), MAX(tail, hdr_tail),
                             r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_TAIL);
        return false;
    }
    r->tail = tail;
    r->hdr_tail = hdr_tail;
    return true;
}

const char *hsnic_db_name(unsigned slot)
{
    return slot == HSNIC_DB_SLOT_TX ? "tx" : slot == HSNIC_DB_SLOT_RX ? "rx" :
           "rx-hdr";
}

/* A doorbell for a queue (or header ring) that is not enabled: ignored. */
void hsnic_db_refused(HsnicState *s, unsigned q, unsigned slot)
{
    const char *name = hsnic_db_name(slot);

    trace_hsnic_err_db_disabled(q, name);
    hsnic_guest_error(s, "%s queue %u: doorbell while disabled%s", name, q,
                      slot == HSNIC_DB_SLOT_RX_HDR ? " or without HDS" : "");
}

/*
 * Doorbell notification with doorbell records on: only record it, the
 * bottom halves read the record (no DMA in the vCPU's MMIO path) and
 * check that the doorbell was allowed. Called without the BQL.
 */
void hsnic_db_notify(HsnicState *s, unsigned q, unsigned slot)
{
    switch (slot) {
    case HSNIC_DB_SLOT_TX:
        qatomic_or(&s->tx_db_rung, BIT_ULL(q));
        replay_bh_schedule_event(s->tx_bh[q]);
        break;
    default:
        qatomic_or(slot == HSNIC_DB_SLOT_RX ? &s->rx_db_rung :
                   &s->hdr_db_rung, BIT_ULL(q));
        qatomic_or(&s->rx_db_pending, BIT_ULL(q));
        hsnic_rx_kick(s);
        break;
    }
}

/* A doorbell write that reached an eventfd (KVM or the memory core). */
static void hsnic_db_notified(EventNotifier *e)
{
    HsnicDbNotifier *n = container_of(e, HsnicDbNotifier, e);

    if (event_notifier_test_and_clear(e)) {
        trace_hsnic_doorbell_eventfd(n->q, n->slot);
        hsnic_db_notify(n->s, n->q, n->slot);
    }
}

/*
 * Attach the doorbells' eventfds while doorbell records are on (the value
 * written is then not needed), detach them otherwise. Only where the
 * accelerator completes MMIO writes to eventfds itself (KVM): under TCG
 * the vCPU thread dispatches the write anyway, and the MMIO handler,
 * which only records the notification, is one thread hop shorter than
 * an eventfd.
 */
void hsnic_db_eventfds(HsnicState *s, bool on)
{
    unsigned q, w;

    /* Record/replay cannot synchronise fd-based events either. */
    on = on && s->ioeventfd && kvm_enabled() &&
         replay_mode == REPLAY_MODE_NONE;
    if (on == s->db_eventfds) {
        return;
    }
    trace_hsnic_db_eventfds(on);
    memory_region_transaction_begin();
    for (q = 0; q < s->num_qp; q++) {
        for (w = 0; w < HSNIC_DB_PER_QP; w++) {
            HsnicDbNotifier *n = &s->db_notifier[q][w];
            hwaddr addr = HSNIC_DB_TX(q) - HSNIC_DB_BASE + n->slot;

            if (on) {
                memory_region_add_eventfd(&s->db_mmio, addr, 4, false, 0,
                                          &n->e);
            } else {
                memory_region_del_eventfd(&s->db_mmio, addr, 4, false, 0,
                                          &n->e);
            }
        }
    }
    memory_region_transaction_commit();
    s->db_eventfds = on;
}

/* Work may be waiting: read every record, restart every TX queue. */
void hsnic_db_kick_all(HsnicState *s)
{
    unsigned q;

    qatomic_or(&s->rx_db_pending, MAKE_64BIT_MASK(0, s->num_qp));
    for (q = 0; q < s->num_qp; q++) {
        replay_bh_schedule_event(s->tx_bh[q]);
    }
    hsnic_rx_kick(s);
}

/*
 * Write to a doorbell slot of a queue pair that exists, with the BQL.
 * Doorbell records off: the value is the producer index.
 */
void hsnic_doorbell(HsnicState *s, hwaddr addr, uint32_t val)
{
    unsigned q = (addr - HSNIC_DB_BASE) / HSNIC_DB_STRIDE;
    unsigned which = (addr - HSNIC_DB_BASE) % HSNIC_DB_STRIDE;
    bool rx = which != HSNIC_DB_SLOT_TX;
    HsnicQueue *r = hsnic_queue(s, q, rx);
    const char *name = hsnic_db_name(which);

    trace_hsnic_doorbell(q, name, val);
    if (which > HSNIC_DB_SLOT_RX_HDR) {
        trace_hsnic_err_mmio_reg(addr, true);
        hsnic_guest_error(s, "write to unused doorbell slot 0x%"
                          HWADDR_PRIx, addr);
        return;
    }
    if (hsnic_db_rec_on(s)) {
        /* A notification: the index is in the doorbell record. */
        hsnic_db_notify(s, q, which);
        return;
    }
    if (!hsnic_queue_active(r) ||
        (which == HSNIC_DB_SLOT_RX_HDR && !(r->ctrl & HSNIC_RXQ_CTRL_HDS))) {
        hsnic_db_refused(s, q, which);
        return;
    }
    if (val >= r->ring_size) {
        trace_hsnic_err_tail(q, name, val, r->ring_size);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_TAIL);
        return;
    }
    switch (which) {
    case HSNIC_DB_SLOT_TX:
        r->tail = val;
        replay_bh_schedule_event(s->tx_bh[q]);
        break;
    case HSNIC_DB_SLOT_RX:
        r->tail = val;
        hsnic_rx_kick(s);
        break;
    default:
        r->hdr_tail = val;
        hsnic_rx_kick(s);
        break;
    }
}

void hsnic_db_notifiers_cleanup(HsnicState *s, unsigned n)
{
    HsnicDbNotifier *all = &s->db_notifier[0][0];
    unsigned i;

    for (i = 0; i < n; i++) {
        event_notifier_set_handler(&all[i].e, NULL);
        event_notifier_cleanup(&all[i].e);
    }
}

bool hsnic_db_notifiers_init(HsnicState *s, Error **errp)
{
    static const unsigned slots[HSNIC_DB_PER_QP] = {
        HSNIC_DB_SLOT_TX, HSNIC_DB_SLOT_RX, HSNIC_DB_SLOT_RX_HDR,
    };
    HsnicDbNotifier *all = &s->db_notifier[0][0];
    unsigned i, n = s->num_qp * HSNIC_DB_PER_QP;
    int ret;

    for (i = 0; i < n; i++) {
        all[i].s = s;
        all[i].q = i / HSNIC_DB_PER_QP;
        all[i].slot = slots[i % HSNIC_DB_PER_QP];
        ret = event_notifier_init(&all[i].e, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "cannot create a doorbell eventfd "
                             "(ioeventfd=off avoids them)");
            hsnic_db_notifiers_cleanup(s, i);
            return false;
        }
        event_notifier_set_handler(&all[i].e, hsnic_db_notified);
    }
    return true;
}
