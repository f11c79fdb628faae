/*
 * QEMU hsnic: the QOM and PCI device: realize, unrealize, reset,
 * properties, migration (VMState) and the net client
 *
 * Copyright (c) 2026 The hsnic authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/net/net_tx_pkt.h"
#include "hw/net/net_rx_pkt.h"

#include "hsnic.h"
#include "trace.h"

static void hsnic_set_link_status(NetClientState *nc)
{
    HsnicState *s = qemu_get_nic_opaque(nc);
    bool guard = hsnic_guard_enter(s);

    trace_hsnic_link_change(!nc->link_down);
    if (nc->link_down) {
        hsnic_rsc_flush_all(s, "link down");
    }
    hsnic_evt_raise(s, HSNIC_EVT_LINK);
    hsnic_rx_kick(s);
    hsnic_guard_exit(s, guard);
}

static NetClientInfo hsnic_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = hsnic_can_receive,
    .receive = hsnic_receive,
    .link_status_changed = hsnic_set_link_status,
};

static void hsnic_write_config(PCIDevice *d, uint32_t addr, uint32_t val,
                               int len)
{
    HsnicState *s = HSNIC(d);
    bool guard;

    if (range_covers_byte(addr, len, PCI_COMMAND)) {
        /* Bus Master Enable may be about to clear: DMA while we may. */
        guard = hsnic_guard_enter(s);
        hsnic_rsc_flush_all(s, "command register");
        hsnic_guard_exit(s, guard);
    }
    pci_default_write_config(d, addr, val, len);
    pcie_cap_flr_write_config(d, addr, val, len);
    if (range_covers_byte(addr, len, PCI_COMMAND)) {
        /* Bus Master Enable may just have been set: resume both ways. */
        hsnic_db_kick_all(s);
    }
}

static void hsnic_free_timers(HsnicState *s)
{
    unsigned i;

    for (i = 0; i < HSNIC_NUM_VEC_MAX; i++) {
        timer_free(s->vec[i].timer);
        s->vec[i].timer = NULL;
    }
    for (i = 0; i < HSNIC_MAX_QP; i++) {
        timer_free(s->rsc_timer[i]);
        s->rsc_timer[i] = NULL;
    }
}

static bool hsnic_props_valid(HsnicState *s, Error **errp)
{
    if (s->num_qp < 1 || s->num_qp > HSNIC_MAX_QP) {
        error_setg(errp, "queue-pairs must be between 1 and %d",
                   HSNIC_MAX_QP);
        return false;
    }
    if (!is_power_of_2(s->max_ring) || s->max_ring < HSNIC_MIN_RING ||
        s->max_ring > HSNIC_MAX_RING) {
        error_setg(errp, "max-ring must be a power of two between %d and %d",
                   HSNIC_MIN_RING, HSNIC_MAX_RING);
        return false;
    }
    if (s->rsc_usecs > HSNIC_RSC_USECS_MAX) {
        error_setg(errp, "rsc-usecs must be between 0 and %d",
                   HSNIC_RSC_USECS_MAX);
        return false;
    }
    return true;
}

/* The vectors' timers, the bottom halves and RSC's timers. */
static void hsnic_timers_init(HsnicState *s)
{
    DeviceState *dev = DEVICE(s);
    unsigned v, q;

    for (v = 0; v < HSNIC_NUM_VEC_MAX; v++) {
        s->vec[v].s = s;
        s->vec[v].idx = v;
        s->vec[v].timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, hsnic_irq_timer,
                                       &s->vec[v]);
    }
    /*
     * The bottom halves are always scheduled with replay_bh_schedule_event():
     * under record/replay (-icount rr=...) each run becomes an event at a
     * recorded instruction count instead of whenever the main loop gets to
     * it, so DMA and interrupts land at the same point when replayed.
     * Without record/replay it is qemu_bh_schedule().
     */
    for (q = 0; q < s->num_qp; q++) {
        HsnicQueueRef *arg = &s->qref[q];

        arg->s = s;
        arg->q = q;
        s->tx_bh[q] = aio_bh_new_full(qemu_get_aio_context(), hsnic_tx_bh,
                                      arg, "hsnic-tx",
                                      &dev->mem_reentrancy_guard);
    }
    s->rx_bh = aio_bh_new_guarded(qemu_get_aio_context(), hsnic_rx_bh, s,
                                  &dev->mem_reentrancy_guard);
    s->rsc_bh = aio_bh_new_guarded(qemu_get_aio_context(), hsnic_rsc_bh, s,
                                   &dev->mem_reentrancy_guard);
    for (q = 0; q < s->num_qp; q++) {
        s->rsc_timer[q] = timer_new_ns(QEMU_CLOCK_VIRTUAL, hsnic_rsc_timer,
                                       &s->qref[q]);
    }
}

static void hsnic_realize(PCIDevice *d, Error **errp)
{
    HsnicState *s = HSNIC(d);
    DeviceState *dev = DEVICE(d);
    NetClientState *nc;
    unsigned v;

    if (!hsnic_props_valid(s, errp)) {
        return;
    }
    hsnic_rsc_init(s);
    hsnic_rsc_alloc(s);

    d->config_write = hsnic_write_config;
    d->config[PCI_INTERRUPT_PIN] = 0;   /* MSI-X only */

    memory_region_init_io(&s->mmio, OBJECT(s), &hsnic_mmio_ops, s,
                          "hsnic-mmio", HSNIC_BAR0_SIZE);
    memory_region_init_io(&s->db_mmio, OBJECT(s), &hsnic_db_ops, s,
                          "hsnic-doorbells", HSNIC_DB_TX(s->num_qp) -
                          HSNIC_DB_BASE);
    memory_region_enable_lockless_io(&s->db_mmio);
    memory_region_add_subregion_overlap(&s->mmio, HSNIC_DB_BASE, &s->db_mmio,
                                        1);
    pci_register_bar(d, HSNIC_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    if (pcie_endpoint_cap_init(d, HSNIC_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return;
    }
    if (pci_pm_init(d, HSNIC_PM_CAP_OFFSET, errp) < 0) {
        goto err_pcie;
    }
    pci_set_word(d->config + HSNIC_PM_CAP_OFFSET + PCI_PM_PMC,
                 PCI_PM_CAP_VER_1_1);
    pci_set_word(d->wmask + HSNIC_PM_CAP_OFFSET + PCI_PM_CTRL,
                 PCI_PM_CTRL_STATE_MASK);

    if (msix_init_exclusive_bar(d, HSNIC_VEC_QP(s->num_qp), HSNIC_BAR_MSIX,
                                errp)) {
        goto err_pcie;
    }
    for (v = 0; v < HSNIC_VEC_QP(s->num_qp); v++) {
        msix_vector_use(d, v);
    }
    pcie_cap_flr_init(d);

    hsnic_timers_init(s);
    s->vmstate_change = qemu_add_vm_change_state_handler(
        hsnic_vm_state_change, s);
    if (s->ioeventfd && !hsnic_db_notifiers_init(s, errp)) {
        goto err_msix;
    }

    net_tx_pkt_init(&s->tx_pkt, 1);
    s->tx_buf = g_malloc(HSNIC_MAX_FRAME);
    net_rx_pkt_init(&s->rx_pkt);
    hsnic_rss_defaults(s);

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&hsnic_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);

    /* Offloads to a peer that takes a vnet header (tap, vnet_hdr=on). */
    nc = qemu_get_queue(s->nic);
    if (s->vnet_hdr_prop && nc->peer && qemu_has_vnet_hdr(nc->peer)) {
        s->has_vnet = true;
        qemu_set_vnet_hdr_len(nc->peer, sizeof(struct virtio_net_hdr));
    }
    trace_hsnic_vnet_hdr(s->has_vnet);
    return;

err_msix:
    qemu_del_vm_change_state_handler(s->vmstate_change);
    qemu_bh_delete(s->rsc_bh);
    hsnic_free_timers(s);
    msix_unuse_all_vectors(d);
    msix_uninit_exclusive_bar(d);
err_pcie:
    hsnic_rsc_free(s);
    pcie_cap_exit(d);
}

static void hsnic_exit(PCIDevice *d)
{
    HsnicState *s = HSNIC(d);
    unsigned q;

    qemu_del_nic(s->nic);
    /* Bottom halves that still run find no NIC and do nothing. */
    s->nic = NULL;
    hsnic_db_eventfds(s, false);
    if (s->ioeventfd) {
        hsnic_db_notifiers_cleanup(s, s->num_qp * HSNIC_DB_PER_QP);
    }
    for (q = 0; q < s->num_qp; q++) {
        qemu_bh_cancel(s->tx_bh[q]);
    }
    qemu_bh_cancel(s->rx_bh);
    qemu_bh_delete(s->rsc_bh);
    qemu_del_vm_change_state_handler(s->vmstate_change);
    hsnic_rsc_free(s);
    hsnic_free_timers(s);
    net_tx_pkt_uninit(s->tx_pkt);
    net_rx_pkt_uninit(s->rx_pkt);
    g_free(s->tx_buf);
    msix_unuse_all_vectors(d);
    msix_uninit_exclusive_bar(d);
    pcie_cap_exit(d);
}

static void hsnic_reset_hold(Object *obj, ResetType type)
{
    HsnicState *s = HSNIC(obj);
    bool guard = hsnic_guard_enter(s);

    hsnic_core_reset(s, "device reset");
    hsnic_guard_exit(s, guard);
}

static bool hsnic_queue_state_valid(HsnicState *s, unsigned q, bool rx)
{
    HsnicQueue *r = hsnic_queue(s, q, rx);
    uint32_t ctrl_bits = HSNIC_Q_CTRL_ENABLE |
                         (rx ? HSNIC_RXQ_CTRL_HDS | HSNIC_RXQ_CTRL_RSC : 0);

    if ((r->status & ~HSNIC_Q_STATUS_ALL) || (r->ctrl & ~ctrl_bits) ||
        !(r->ctrl & HSNIC_Q_CTRL_ENABLE) != !hsnic_queue_active(r)) {
        return false;
    }
    if (q >= s->num_qp && (r->ctrl || r->status)) {
        return false;   /* no registers: never configured */
    }
    if (!hsnic_queue_active(r)) {
        return true;
    }
    return q < s->num_qp && hsnic_queue_config_valid(s, q, rx) &&
           r->head < r->ring_size && r->tail < r->ring_size &&
           r->cmpl_idx < r->ring_size && r->hdr_head < r->ring_size &&
           r->hdr_tail < r->ring_size;
}

/*
 * A vector the device does not use (vector 0, which has no IRQ_CTRL, and
 * those past the last queue pair) can never be armed, pending or timed.
 */
static bool hsnic_vector_state_valid(HsnicState *s, unsigned v)
{
    HsnicVector *vec = &s->vec[v];

    if (v >= HSNIC_VEC_QP(0) && v < HSNIC_VEC_QP(s->num_qp)) {
        return true;
    }
    return !vec->armed && !vec->pending && !vec->rx_pending &&
           !vec->npending && !vec->mod && !vec->txmod &&
           !timer_pending(vec->timer);
}

/* Every field of the stream against what the registers can hold. */
static const char *hsnic_state_invalid(HsnicState *s)
{
    uint32_t err_bits = HSNIC_ERR_CODE_MASK | HSNIC_ERR_QUEUE_MASK;
    unsigned q, i;

    for (q = 0; q < HSNIC_MAX_QP; q++) {
        if (!hsnic_queue_state_valid(s, q, false) ||
            !hsnic_queue_state_valid(s, q, true)) {
            return "queue";
        }
    }
    for (i = 0; i < HSNIC_NUM_VEC_MAX; i++) {
        if (!hsnic_vector_state_valid(s, i)) {
            return "vector";
        }
    }
    for (i = 0; i < HSNIC_NUM_RULES; i++) {
        if (!hsnic_rule_ctrl_valid(s, i, s->rules[i].ctrl)) {
            return "flow rule";
        }
    }
    for (i = 0; i < HSNIC_RSS_CTX_NUM; i++) {
        if ((s->rss[i].ctrl & ~(HSNIC_RSS_CTRL_ENABLE |
                                HSNIC_RSS_CTRL_SYM_XOR)) ||
            (s->rss[i].fields & ~HSNIC_RSS_FIELDS_ALL)) {
            return "RSS context";
        }
    }
    if (s->dev_ctrl & ~HSNIC_DEV_CTRL_ALL) {
        return "DEV_CTRL";
    }
    if ((s->evt_cause | s->evt_mask) & ~HSNIC_EVT_ALL) {
        return "EVT_CAUSE or EVT_MASK";
    }
    if (s->rx_mode & ~HSNIC_RX_MODE_ALL) {
        return "RX_MODE";
    }
    if (s->err_code & ~err_bits) {
        return "ERR_CODE";
    }
    return NULL;
}

/* The migration stream is input too: refuse state we could not produce. */
static int hsnic_post_load(void *opaque, int version_id)
{
    HsnicState *s = opaque;
    const char *bad = hsnic_state_invalid(s);
    unsigned q;

    if (bad) {
        qemu_log_mask(LOG_GUEST_ERROR, "hsnic: migration stream refused: "
                      "invalid %s state\n", bad);
        trace_hsnic_err_post_load(bad);
        /* nothing of it may stay live (timers loaded with the vectors) */
        hsnic_core_reset(s, "invalid migration stream");
        return -EINVAL;
    }
    for (q = 0; q < s->num_qp; q++) {
        hsnic_rsc_discard(s, q, "migration");   /* never migrated */
    }
    for (q = 0; q < HSNIC_MAX_QP; q++) {
        s->txq[q].eop_scanned = 0;
    }
    s->db_rec_addr &= ~(uint64_t)(HSNIC_DB_REC_ALIGN - 1);
    s->tx_busy = false;
    hsnic_db_eventfds(s, hsnic_db_rec_on(s));
    hsnic_db_kick_all(s);
    return 0;
}

static const VMStateDescription vmstate_hsnic_queue = {
    .name = "hsnic-queue",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(desc_addr, HsnicQueue),
        VMSTATE_UINT64(cmpl_addr, HsnicQueue),
        VMSTATE_UINT64(hdr_addr, HsnicQueue),
        VMSTATE_UINT32(ring_size, HsnicQueue),
        VMSTATE_UINT32(ctrl, HsnicQueue),
        VMSTATE_UINT32(status, HsnicQueue),
        VMSTATE_UINT32(head, HsnicQueue),
        VMSTATE_UINT32(tail, HsnicQueue),
        VMSTATE_UINT32(cmpl_idx, HsnicQueue),
        VMSTATE_UINT32(hdr_head, HsnicQueue),
        VMSTATE_UINT32(hdr_tail, HsnicQueue),
        VMSTATE_UINT32(buf_len, HsnicQueue),
        VMSTATE_UINT32(hdr_buf_len, HsnicQueue),
        VMSTATE_UINT32(hds_thresh, HsnicQueue),
        VMSTATE_BOOL(gen, HsnicQueue),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_vector = {
    .name = "hsnic-vector",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(armed, HsnicVector),
        VMSTATE_BOOL(pending, HsnicVector),
        VMSTATE_UINT32(npending, HsnicVector),
        VMSTATE_UINT32(mod, HsnicVector),
        VMSTATE_TIMER_PTR(timer, HsnicVector),
        VMSTATE_BOOL(rx_pending, HsnicVector),
        VMSTATE_UINT32(txmod, HsnicVector),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_rule = {
    .name = "hsnic-rule",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, HsnicRule),
        VMSTATE_UINT32(dest, HsnicRule),
        VMSTATE_UINT32(ports, HsnicRule),
        VMSTATE_UINT32(ports_mask, HsnicRule),
        VMSTATE_UINT32(proto, HsnicRule),
        VMSTATE_UINT32_ARRAY(src, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(src_mask, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(dst, HsnicRule, 4),
        VMSTATE_UINT32_ARRAY(dst_mask, HsnicRule, 4),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic_rss = {
    .name = "hsnic-rss",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, HsnicRss),
        VMSTATE_UINT32(fields, HsnicRss),
        VMSTATE_UINT8_ARRAY(key, HsnicRss, HSNIC_RSS_KEY_SIZE),
        VMSTATE_UINT8_ARRAY(indir, HsnicRss, HSNIC_RSS_INDIR_SIZE),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_hsnic = {
    .name = "hsnic",
    .version_id = 3,
    .minimum_version_id = 3,
    .post_load = hsnic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, HsnicState),
        VMSTATE_MSIX(parent_obj, HsnicState),
        VMSTATE_UINT32_EQUAL(num_qp, HsnicState, "queue-pairs differs"),
        VMSTATE_UINT32_EQUAL(max_ring, HsnicState, "max-ring differs"),
        VMSTATE_UINT32(dev_ctrl, HsnicState),
        VMSTATE_UINT32(evt_cause, HsnicState),
        VMSTATE_UINT32(evt_mask, HsnicState),
        VMSTATE_UINT32(rx_mode, HsnicState),
        VMSTATE_UINT32(err_code, HsnicState),
        VMSTATE_UINT32(stat_latch, HsnicState),
        VMSTATE_STRUCT_ARRAY(vec, HsnicState, HSNIC_NUM_VEC_MAX, 1,
                             vmstate_hsnic_vector, HsnicVector),
        VMSTATE_STRUCT_ARRAY(txq, HsnicState, HSNIC_MAX_QP, 2,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT_ARRAY(rxq, HsnicState, HSNIC_MAX_QP, 2,
                             vmstate_hsnic_queue, HsnicQueue),
        VMSTATE_STRUCT_ARRAY(rules, HsnicState, HSNIC_NUM_RULES, 1,
                             vmstate_hsnic_rule, HsnicRule),
        VMSTATE_STRUCT_ARRAY(rss, HsnicState, HSNIC_RSS_CTX_NUM, 1,
                             vmstate_hsnic_rss, HsnicRss),
        VMSTATE_UINT64_ARRAY(dstat, HsnicState, HSNIC_DSTAT_NUM),
        VMSTATE_UINT64_2DARRAY(rx_qstat, HsnicState, HSNIC_MAX_QP,
                               HSNIC_RXS_NUM),
        VMSTATE_UINT64_2DARRAY(tx_qstat, HsnicState, HSNIC_MAX_QP,
                               HSNIC_TXS_NUM),
        VMSTATE_UINT64(db_rec_addr, HsnicState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property hsnic_properties[] = {
    DEFINE_NIC_PROPERTIES(HsnicState, conf),
    DEFINE_PROP_UINT32("queue-pairs", HsnicState, num_qp, 16),
    DEFINE_PROP_UINT32("max-ring", HsnicState, max_ring, HSNIC_MAX_RING),
    DEFINE_PROP_UINT32("rsc-usecs", HsnicState, rsc_usecs,
                       HSNIC_RSC_USECS_DEFAULT),
    DEFINE_PROP_BOOL("ioeventfd", HsnicState, ioeventfd, true),
    DEFINE_PROP_BOOL("vnet-hdr", HsnicState, vnet_hdr_prop, true),
};

/*
 * A vCPU may still be dispatching a doorbell write (without the BQL) while
 * the device is unrealized: the bottom halves it schedules are freed only
 * with the object, after the last memory region reference is gone.
 */
static void hsnic_instance_finalize(Object *obj)
{
    HsnicState *s = HSNIC(obj);
    unsigned q;

    for (q = 0; q < HSNIC_MAX_QP; q++) {
        if (s->tx_bh[q]) {
            qemu_bh_delete(s->tx_bh[q]);
        }
    }
    if (s->rx_bh) {
        qemu_bh_delete(s->rx_bh);
    }
}

static const struct {
    const char *name;
    size_t offset;
    const char *desc;
} hsnic_fault_props[] = {
    { "x-fault-drop-cmpl", offsetof(HsnicFaults, drop_cmpl),
      "Fault injection: drop the next N completions" },
    { "x-fault-dup-cmpl", offsetof(HsnicFaults, dup_cmpl),
      "Fault injection: write the next N completions twice" },
    { "x-fault-corrupt-cmpl", offsetof(HsnicFaults, corrupt_cmpl),
      "Fault injection: corrupt the index of the next N completions" },
    { "x-fault-fail-dma", offsetof(HsnicFaults, fail_dma),
      "Fault injection: fail the next N completion writes (DMA error)" },
    { "x-fault-stop-delay", offsetof(HsnicFaults, stop_delay),
      "Fault injection: a stopped queue reads as enabled N more times" },
};

/* The largest count an x-fault-* property takes. */
#define HSNIC_FAULT_MAX         1000000

static void hsnic_get_fault(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    uint32_t *counter = opaque;
    uint32_t val = *counter;

    visit_type_uint32(v, name, &val, errp);
}

static void hsnic_set_fault(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    uint32_t *counter = opaque;
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (val > HSNIC_FAULT_MAX) {
        error_setg(errp, "%s must be between 0 and %d, not %" PRIu32,
                   name, HSNIC_FAULT_MAX, val);
        return;
    }
    *counter = val;
}

static void hsnic_instance_init(Object *obj)
{
    HsnicState *s = HSNIC(obj);
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(hsnic_fault_props); i++) {
        object_property_add(obj, hsnic_fault_props[i].name, "uint32",
                            hsnic_get_fault, hsnic_set_fault, NULL,
                            (char *)&s->fault + hsnic_fault_props[i].offset);
        object_property_set_description(obj, hsnic_fault_props[i].name,
                                        hsnic_fault_props[i].desc);
    }
    object_property_add_uint64_ptr(obj, "x-stat-tx-desc-reads",
                                   &s->tx_desc_reads, OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "x-stat-tx-desc-reads",
        "Read-only counter: TX descriptors read from guest memory");
    object_property_add_uint64_ptr(obj, "x-fault-injected",
                                   &s->fault.injected, OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "x-fault-injected",
                                    "Read-only counter: faults injected");

    for (i = 0; i < hsnic_num_stat_props; i++) {
        object_property_add_uint64_ptr(obj, hsnic_stat_props[i].name,
                                       &s->dstat[hsnic_stat_props[i].idx],
                                       OBJ_PROP_FLAG_READ);
        object_property_set_description(obj, hsnic_stat_props[i].name,
                                        hsnic_stat_props[i].desc);
    }
    object_property_add(obj, "x-state", "any", hsnic_get_state, NULL, NULL,
                        NULL);
    object_property_set_description(obj, "x-state",
        "Read-only snapshot of the queues, counters, RSS and flow rules");
}

static void hsnic_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = hsnic_realize;
    k->exit = hsnic_exit;
    k->vendor_id = HSNIC_PCI_VENDOR_ID;
    k->device_id = HSNIC_PCI_DEVICE_ID;
    k->revision = HSNIC_PCI_REVISION;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;

    rc->phases.hold = hsnic_reset_hold;

    dc->desc = "hsnic virtual PCIe Ethernet controller (header split, RSS)";
    dc->vmsd = &vmstate_hsnic;
    device_class_set_props(dc, hsnic_properties);
    object_class_property_set_description(klass, "queue-pairs",
        "Number of TX/RX queue pairs, 1-" stringify(HSNIC_MAX_QP)
        " (one MSI-X vector each, plus vector 0 for events)");
    object_class_property_set_description(klass, "max-ring",
        "Largest ring the device accepts (MAX_RING register), a power of "
        "two between " stringify(HSNIC_MIN_RING) " and "
        stringify(HSNIC_MAX_RING));
    object_class_property_set_description(klass, "rsc-usecs",
        "Receive segment coalescing: a queue's open aggregates are "
        "delivered once it got no frame for this many microseconds "
        "(virtual clock), 0-" stringify(HSNIC_RSC_USECS_MAX) "; 0 delivers "
        "them at the end of each batch of frames from the backend (default "
        stringify(HSNIC_RSC_USECS_DEFAULT) ")");
    object_class_property_set_description(klass, "ioeventfd",
        "Back the doorbells with eventfds while the driver uses doorbell "
        "records (default on)");
    object_class_property_set_description(klass, "vnet-hdr",
        "Hand TSO and checksums to a backend that takes a virtio-net "
        "header (tap with vnet_hdr=on) instead of doing them in the "
        "device (default on)");
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo hsnic_info = {
    .name = TYPE_HSNIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(HsnicState),
    .instance_init = hsnic_instance_init,
    .instance_finalize = hsnic_instance_finalize,
    .class_init = hsnic_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void hsnic_register_types(void)
{
    type_register_static(&hsnic_info);
}

type_init(hsnic_register_types)
