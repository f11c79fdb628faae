/*
 * QEMU hsnic: interrupts and their moderation, events, queue
 * errors, descriptor reads and the completion writer (with fault
 * injection), and queue enable/disable: the per-queue restart
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "hw/pci/msix.h"
#include "system/dma.h"

#include "hsnic.h"
#include "trace.h"

static void hsnic_irq_fire(HsnicState *s, unsigned vector)
{
    PCIDevice *d = PCI_DEVICE(s);
    HsnicVector *v = &s->vec[vector];

    /* No INTx or MSI: without MSI-X the vector stays pending and armed. */
    if (!msix_enabled(d)) {
        return;
    }
    trace_hsnic_irq_fire(vector, v->npending);
    if (vector != HSNIC_VEC_EVENTS) {
        v->armed = false;
        v->pending = false;
        v->rx_pending = false;
        v->npending = 0;
        timer_del(v->timer);
    }
    msix_notify(d, vector);
}

/*
 * An armed vector with pending completions fires at once, or when its
 * moderation delay (IRQ_MOD.USECS) has passed, or once IRQ_MOD.FRAMES
 * completions are pending, whichever comes first.
 */
static void hsnic_irq_update(HsnicState *s, unsigned vector)
{
    HsnicVector *v = &s->vec[vector];
    /* Only TX completions pending: IRQ_TXMOD, if set, instead of IRQ_MOD */
    uint32_t mod = !v->rx_pending && v->txmod ? v->txmod : v->mod;
    uint32_t usecs = extract32(mod, HSNIC_IRQ_MOD_USECS_SHIFT,
                               HSNIC_IRQ_MOD_USECS_WIDTH);
    uint32_t frames = extract32(mod, HSNIC_IRQ_MOD_FRAMES_SHIFT,
                                HSNIC_IRQ_MOD_FRAMES_WIDTH);

    if (!v->armed || !v->pending) {
        return;
    }
    if (!usecs || (frames && v->npending >= frames)) {
        hsnic_irq_fire(s, vector);
    } else {
        /* An RX completion may bring a TX deadline forward. */
        timer_mod_anticipate(v->timer,
                             qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                             (int64_t)usecs * SCALE_US);
    }
}

void hsnic_irq_timer(void *opaque)
{
    HsnicVector *v = opaque;
    bool guard = hsnic_guard_enter(v->s);

    trace_hsnic_irq_timer(v->idx, v->armed, v->npending);
    if (v->armed && v->pending) {
        hsnic_irq_fire(v->s, v->idx);
    }
    hsnic_guard_exit(v->s, guard);
}

/* A queue of @vector wrote @n completions. */
void hsnic_irq_signal(HsnicState *s, unsigned vector, uint32_t n,
                      bool rx)
{
    HsnicVector *v = &s->vec[vector];

    v->pending = true;
    v->rx_pending |= rx;
    v->npending = MIN((uint64_t)v->npending + n, UINT32_MAX);
    hsnic_irq_update(s, vector);
}

void hsnic_irq_arm(HsnicState *s, unsigned vector, bool arm)
{
    HsnicVector *v = &s->vec[vector];

    trace_hsnic_irq_arm(vector, arm, v->pending);
    v->armed = arm;
    if (!arm) {
        timer_del(v->timer);
    }
    hsnic_irq_update(s, vector);
}

/* Vector 0 is sent whenever an unmasked cause bit goes from 0 to 1. */
void hsnic_evt_update(HsnicState *s, uint32_t old_active)
{
    uint32_t active = s->evt_cause & s->evt_mask;

    trace_hsnic_evt(s->evt_cause, s->evt_mask);
    if (active & ~old_active) {
        hsnic_irq_fire(s, HSNIC_VEC_EVENTS);
    }
}

void hsnic_evt_raise(HsnicState *s, uint32_t cause)
{
    uint32_t old_active = s->evt_cause & s->evt_mask;

    s->evt_cause |= cause;
    hsnic_evt_update(s, old_active);
}

void hsnic_latch_error(HsnicState *s, enum hsnic_err code,
                       unsigned q, bool rx)
{
    uint32_t qid = HSNIC_QID(q, rx);
    uint32_t err = deposit32(0, HSNIC_ERR_CODE_SHIFT, HSNIC_ERR_CODE_WIDTH,
                             code);

    s->err_code = deposit32(err, HSNIC_ERR_QUEUE_SHIFT,
                            HSNIC_ERR_QUEUE_WIDTH, qid);
    hsnic_evt_raise(s, HSNIC_EVT_ERROR);
}

/* Stop a queue: it does not touch guest memory until re-enabled. */
void hsnic_queue_error(HsnicState *s, unsigned q, bool rx,
                       enum hsnic_err code)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_err_queue(q, hsnic_dir(rx), code);
    qemu_log_mask(LOG_GUEST_ERROR, "hsnic: %s queue %u stopped, error %u\n",
                  hsnic_dir(rx), q, code);
    r->status = HSNIC_Q_STATUS_ERROR;
    r->ctrl &= ~HSNIC_Q_CTRL_ENABLE;
    s->dstat[HSNIC_DSTAT_QUEUE_ERRORS]++;
    hsnic_latch_error(s, code, q, rx);
    if (rx) {
        /* An open aggregate is lost with the queue: nothing completes. */
        s->rsc_discard(s, q, "queue error");
        /* A frame held for this queue is dropped now, not kept forever. */
        hsnic_rx_kick(s);
    }
}

/* Read descriptor @idx of the ring at @base into @desc (a local copy). */
bool hsnic_read_desc(HsnicState *s, unsigned q, bool rx,
                     uint64_t base, uint32_t idx, void *desc,
                     size_t size)
{
    dma_addr_t addr = base + (uint64_t)idx * size;

    if (!rx) {
        s->tx_desc_reads++;
    }
    if (pci_dma_read(PCI_DEVICE(s), addr, desc, size)) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "descriptor read", addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    return true;
}

/*
 * x-fault-corrupt-cmpl flips the top bit of this byte: bit 31 of a TX
 * completion's head, bit 15 of an RX completion's hdr_len (both are out
 * of any valid range, and a driver must notice).
 */
#define HSNIC_FAULT_CORRUPT_BYTE (offsetof(struct hsnic_tx_cmpl, head) + 3)
G_STATIC_ASSERT(HSNIC_FAULT_CORRUPT_BYTE ==
                offsetof(struct hsnic_rx_cmpl, hdr_len) + 1);

/* Consume one injected fault of the kind @left counts, if any is left. */
bool hsnic_fault(HsnicState *s, uint32_t *left, unsigned q, bool rx,
                 const char *what)
{
    if (likely(!*left)) {
        return false;
    }
    (*left)--;
    s->fault.injected++;
    trace_hsnic_fault(q, hsnic_dir(rx), what);
    return true;
}

/*
 * Write the completion @entry of @size bytes, whose GEN bit is bit 0 of
 * its first byte, into the next slot. The entry is first written with the
 * stale GEN value, then the byte holding GEN, so a driver polling on
 * another CPU never sees the new GEN value before the rest of the entry.
 */
static bool hsnic_write_cmpl_slot(HsnicState *s, unsigned q, bool rx,
                                  const void *entry, size_t size)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    PCIDevice *d = PCI_DEVICE(s);
    dma_addr_t addr = r->cmpl_addr + (uint64_t)r->cmpl_idx * size;
    uint8_t buf[HSNIC_CMPL_MAX_SIZE];
    uint8_t gen_byte;

    memcpy(buf, entry, size);
    if (hsnic_fault(s, &s->fault.drop_cmpl, q, rx, "completion dropped")) {
        return true;
    }
    if (hsnic_fault(s, &s->fault.corrupt_cmpl, q, rx,
                    "completion index corrupted")) {
        buf[HSNIC_FAULT_CORRUPT_BYTE] ^= 0x80;
    }
    gen_byte = (buf[0] & ~HSNIC_CMPL_GEN) | (r->gen ? HSNIC_CMPL_GEN : 0);
    buf[0] = (buf[0] & ~HSNIC_CMPL_GEN) | (r->gen ? 0 : HSNIC_CMPL_GEN);

    if (hsnic_fault(s, &s->fault.fail_dma, q, rx, "completion DMA failed") ||
        pci_dma_write(d, addr, buf, size) ||
        pci_dma_write(d, addr, &gen_byte, 1)) {
        trace_hsnic_err_ring_dma(q, hsnic_dir(rx), "completion write", addr);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_DMA);
        return false;
    }
    r->cmpl_idx = hsnic_ring_next(r, r->cmpl_idx);
    if (r->cmpl_idx == 0) {
        r->gen = !r->gen;
    }
    return true;
}

bool hsnic_write_cmpl(HsnicState *s, unsigned q, bool rx,
                      const void *entry, size_t size)
{
    if (!hsnic_write_cmpl_slot(s, q, rx, entry, size)) {
        return false;
    }
    /* x-fault-dup-cmpl: the same entry once more, in the next slot */
    if (hsnic_fault(s, &s->fault.dup_cmpl, q, rx, "completion duplicated")) {
        return hsnic_write_cmpl_slot(s, q, rx, entry, size);
    }
    return true;
}

bool hsnic_queue_config_valid(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    size_t dsize = rx ? HSNIC_RX_DESC_SIZE : HSNIC_TX_DESC_SIZE;
    size_t csize = rx ? HSNIC_RX_CMPL_SIZE : HSNIC_TX_CMPL_SIZE;

    if (!hsnic_ring_size_valid(s, r->ring_size) ||
        !hsnic_ring_fits(r->desc_addr, r->ring_size, dsize) ||
        !hsnic_ring_fits(r->cmpl_addr, r->ring_size, csize)) {
        return false;
    }
    if (!rx) {
        return true;
    }
    if (!hsnic_buf_len_valid(r->buf_len)) {
        return false;
    }
    if (r->ctrl & HSNIC_RXQ_CTRL_HDS) {
        return hsnic_buf_len_valid(r->hdr_buf_len) &&
               hsnic_ring_fits(r->hdr_addr, r->ring_size, dsize);
    }
    return true;
}

void hsnic_queue_enable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    if (!hsnic_queue_config_valid(s, q, rx)) {
        trace_hsnic_err_ring_config(q, hsnic_dir(rx), r->desc_addr,
                                    r->cmpl_addr, r->ring_size, r->buf_len,
                                    r->hdr_buf_len);
        hsnic_queue_error(s, q, rx, HSNIC_ERR_RING_CONFIG);
        return;
    }

    trace_hsnic_queue_enable(q, hsnic_dir(rx), r->desc_addr, r->cmpl_addr,
                             r->ring_size, r->ctrl);
    r->ctrl |= HSNIC_Q_CTRL_ENABLE;
    r->status = HSNIC_Q_STATUS_ENABLED;
    r->head = 0;
    r->tail = 0;
    r->hdr_head = 0;
    r->hdr_tail = 0;
    r->cmpl_idx = 0;
    r->gen = true;
    r->eop_scanned = 0;
}

/*
 * All processing runs under the BQL, in the .receive callback or in
 * bottom halves, never concurrently with this register write: once it
 * returns, the device no longer touches the queue's rings or buffers.
 */
void hsnic_queue_disable(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);

    trace_hsnic_queue_disable(q, hsnic_dir(rx));
    if (rx) {
        /* Its segments arrived while the queue ran: deliver them. */
        s->rsc_flush(s, q, "queue disabled");
    }
    /*
     * A doorbell written while the queue ran, whose bottom half has not
     * run yet, is void now: the bottom half must not mistake it for a
     * doorbell on a disabled queue (a guest error).
     */
    if (rx) {
        qatomic_and(&s->rx_db_rung, ~BIT_ULL(q));
        qatomic_and(&s->hdr_db_rung, ~BIT_ULL(q));
        qatomic_and(&s->rx_db_pending, ~BIT_ULL(q));
    } else {
        qatomic_and(&s->tx_db_rung, ~BIT_ULL(q));
    }
    r->ctrl &= ~HSNIC_Q_CTRL_ENABLE;
    r->status = 0;
    if (rx) {
        /* A frame waiting for this queue's buffers is now dropped. */
        hsnic_rx_kick(s);
    }
}
