/*
 * libqos driver for the hsnic NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qgraph.h"
#include "pci.h"
#include "hsnic.h"

/* Polls of a completion slot before giving up (each steps the clock). */
#define QHSNIC_POLLS    200

static QTestState *qhsnic_qts(QHsnic *d)
{
    return d->pci_dev.bus->qts;
}

uint32_t qhsnic_rd(QHsnic *d, uint32_t reg)
{
    return qpci_io_readl(&d->pci_dev, d->bar, reg);
}

void qhsnic_wr(QHsnic *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(&d->pci_dev, d->bar, reg, val);
}

uint64_t qhsnic_stat64(QHsnic *d, uint32_t lo)
{
    uint64_t v = qhsnic_rd(d, lo);

    return v | (uint64_t)qhsnic_rd(d, lo + 4) << 32;
}

uint64_t qhsnic_dstat(QHsnic *d, enum hsnic_dstat i)
{
    return qhsnic_stat64(d, HSNIC_REG_DSTAT_LO(i));
}

uint64_t qhsnic_rx_qstat(QHsnic *d, unsigned q, enum hsnic_rx_qstat i)
{
    return qhsnic_stat64(d, HSNIC_RXQ_STAT_LO(q, i));
}

uint64_t qhsnic_tx_qstat(QHsnic *d, unsigned q, enum hsnic_tx_qstat i)
{
    return qhsnic_stat64(d, HSNIC_TXQ_STAT_LO(q, i));
}

void qhsnic_run(QHsnic *d)
{
    qtest_clock_step(qhsnic_qts(d), 100 * 1000);
}

static void qhsnic_zero(QHsnic *d, uint64_t addr, size_t len)
{
    qtest_memset(qhsnic_qts(d), addr, 0, len);
}

/* A 64-bit address register pair: LO at @lo, HI at @lo + 4. */
void qhsnic_set_addr(QHsnic *d, uint32_t lo, uint64_t addr)
{
    qhsnic_wr(d, lo, (uint32_t)addr);
    qhsnic_wr(d, lo + 4, addr >> 32);
}

/* (Re)configure a TX queue: disabled, rings allocated and programmed. */
void qhsnic_txq_init(QHsnic *d, QHsnicTxq *t, unsigned q, uint32_t size)
{
    qhsnic_wr(d, HSNIC_TXQ_REG(q, HSNIC_Q_CTRL), 0);
    memset(t, 0, sizeof(*t));
    t->q = q;
    t->size = size;
    t->desc = guest_alloc(d->alloc, size * sizeof(struct hsnic_tx_desc));
    t->cmpl = guest_alloc(d->alloc, size * sizeof(struct hsnic_tx_cmpl));
    g_assert(t->desc && t->cmpl);
    qhsnic_zero(d, t->cmpl, size * sizeof(struct hsnic_tx_cmpl));
    qhsnic_set_addr(d, HSNIC_TXQ_REG(q, HSNIC_Q_DESC_LO), t->desc);
    qhsnic_set_addr(d, HSNIC_TXQ_REG(q, HSNIC_Q_CMPL_LO), t->cmpl);
    qhsnic_wr(d, HSNIC_TXQ_REG(q, HSNIC_Q_RING_SIZE), size);
}

/* Enable the queue; returns its STATUS afterwards. */
uint32_t qhsnic_txq_enable(QHsnic *d, QHsnicTxq *t)
{
    t->tail = 0;
    t->cidx = 0;
    t->gen = 1;
    qhsnic_wr(d, HSNIC_TXQ_REG(t->q, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE);
    return qhsnic_rd(d, HSNIC_TXQ_REG(t->q, HSNIC_Q_STATUS));
}

void qhsnic_tx_post(QHsnic *d, QHsnicTxq *t, uint64_t addr, uint32_t len,
                    uint32_t cmd)
{
    struct hsnic_tx_desc desc = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
        .cmd = cpu_to_le32(cmd),
    };

    qtest_memwrite(qhsnic_qts(d), t->desc + t->tail * sizeof(desc), &desc,
                   sizeof(desc));
    t->tail = (t->tail + 1) % t->size;
}

void qhsnic_tx_ring(QHsnic *d, QHsnicTxq *t)
{
    qhsnic_wr(d, HSNIC_DB_TX(t->q), t->tail);
}

/*
 * Poll the completion slot *@cidx of a ring at @base for the generation
 * *@gen (GEN is bit 0 of a completion's first byte, TX and RX alike);
 * on success copy it to @c and move on to the next slot.
 */
static bool qhsnic_poll_cmpl(QHsnic *d, uint64_t base, uint32_t size,
                             uint32_t *cidx, uint8_t *gen, void *c,
                             size_t csize)
{
    uint64_t addr = base + *cidx * csize;
    int i;

    for (i = 0; i < QHSNIC_POLLS; i++) {
        qtest_memread(qhsnic_qts(d), addr, c, csize);
        if ((*(uint8_t *)c & HSNIC_CMPL_GEN) == *gen) {
            if (++*cidx == size) {
                *cidx = 0;
                *gen ^= 1;
            }
            return true;
        }
        qhsnic_run(d);
    }
    return false;
}

/* The next TX completion, if the device writes it within the polls. */
bool qhsnic_tx_cmpl(QHsnic *d, QHsnicTxq *t, struct hsnic_tx_cmpl *c)
{
    return qhsnic_poll_cmpl(d, t->cmpl, t->size, &t->cidx, &t->gen, c,
                            sizeof(*c));
}

void qhsnic_rxq_init(QHsnic *d, QHsnicRxq *r, unsigned q, uint32_t size,
                     uint32_t buf_len, uint32_t hdr_buf_len)
{
    qhsnic_wr(d, HSNIC_RXQ_REG(q, HSNIC_Q_CTRL), 0);
    memset(r, 0, sizeof(*r));
    r->q = q;
    r->size = size;
    r->buf_len = buf_len;
    r->hdr_buf_len = hdr_buf_len;
    r->desc = guest_alloc(d->alloc, size * sizeof(struct hsnic_rx_desc));
    r->cmpl = guest_alloc(d->alloc, size * sizeof(struct hsnic_rx_cmpl));
    r->bufs = guest_alloc(d->alloc, (uint64_t)size * buf_len);
    g_assert(r->desc && r->cmpl && r->bufs);
    qhsnic_zero(d, r->cmpl, size * sizeof(struct hsnic_rx_cmpl));
    qhsnic_set_addr(d, HSNIC_RXQ_REG(q, HSNIC_Q_DESC_LO), r->desc);
    qhsnic_set_addr(d, HSNIC_RXQ_REG(q, HSNIC_Q_CMPL_LO), r->cmpl);
    qhsnic_wr(d, HSNIC_RXQ_REG(q, HSNIC_Q_RING_SIZE), size);
    qhsnic_wr(d, HSNIC_RXQ_REG(q, HSNIC_RXQ_BUF_LEN), buf_len);
    if (hdr_buf_len) {
        r->hdr = guest_alloc(d->alloc, size * sizeof(struct hsnic_rx_desc));
        r->hdr_bufs = guest_alloc(d->alloc, (uint64_t)size * hdr_buf_len);
        g_assert(r->hdr && r->hdr_bufs);
        qhsnic_set_addr(d, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_LO), r->hdr);
        qhsnic_wr(d, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_BUF_LEN), hdr_buf_len);
    }
}

uint32_t qhsnic_rxq_enable(QHsnic *d, QHsnicRxq *r)
{
    r->cidx = 0;
    r->gen = 1;
    qhsnic_wr(d, HSNIC_RXQ_REG(r->q, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE |
              (r->hdr_buf_len ? HSNIC_RXQ_CTRL_HDS : 0));
    return qhsnic_rd(d, HSNIC_RXQ_REG(r->q, HSNIC_Q_STATUS));
}

/* Post size - 1 buffers on each ring, slot i pointing at buffer i. */
void qhsnic_rx_post_all(QHsnic *d, QHsnicRxq *r)
{
    uint32_t i;

    for (i = 0; i < r->size; i++) {
        struct hsnic_rx_desc desc = {
            .addr = cpu_to_le64(r->bufs + (uint64_t)i * r->buf_len),
        };

        qtest_memwrite(qhsnic_qts(d), r->desc + i * sizeof(desc), &desc,
                       sizeof(desc));
        if (r->hdr_buf_len) {
            desc.addr = cpu_to_le64(r->hdr_bufs +
                                    (uint64_t)i * r->hdr_buf_len);
            qtest_memwrite(qhsnic_qts(d), r->hdr + i * sizeof(desc), &desc,
                           sizeof(desc));
        }
    }
    if (r->hdr_buf_len) {
        qhsnic_wr(d, HSNIC_DB_RX_HDR(r->q), r->size - 1);
    }
    qhsnic_wr(d, HSNIC_DB_RX(r->q), r->size - 1);
}

bool qhsnic_rx_cmpl(QHsnic *d, QHsnicRxq *r, struct hsnic_rx_cmpl *c)
{
    return qhsnic_poll_cmpl(d, r->cmpl, r->size, &r->cidx, &r->gen, c,
                            sizeof(*c));
}

void qhsnic_queue_disable(QHsnic *d, unsigned q, bool rx)
{
    uint32_t reg = rx ? HSNIC_RXQ_REG(q, 0) : HSNIC_TXQ_REG(q, 0);

    qhsnic_wr(d, reg + HSNIC_Q_CTRL, 0);
    g_assert_cmphex(qhsnic_rd(d, reg + HSNIC_Q_STATUS) &
                    HSNIC_Q_STATUS_ENABLED, ==, 0);
}

static void qhsnic_foreach_callback(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice *res = data;

    memcpy(res, dev, sizeof(QPCIDevice));
    g_free(dev);
}

static void qhsnic_destructor(QOSGraphObject *obj)
{
    QHsnic *d = (QHsnic *)obj;

    qpci_iounmap(&d->pci_dev, d->bar);
    qpci_msix_disable(&d->pci_dev);
}

static void qhsnic_start_hw(QOSGraphObject *obj)
{
    QHsnic *d = (QHsnic *)obj;

    qpci_device_enable(&d->pci_dev);
    qpci_msix_enable(&d->pci_dev);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_MAGIC), ==, HSNIC_MAGIC);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_REG_VERSION) >>
                     HSNIC_VERSION_MAJOR_SHIFT, ==, HSNIC_ABI_MAJOR);
    qhsnic_wr(d, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_RESET);
    d->num_qp = qhsnic_rd(d, HSNIC_REG_MAX_QP);
    g_assert_cmpuint(d->num_qp, >=, 1);
    qhsnic_wr(d, HSNIC_REG_RX_MODE, HSNIC_RX_MODE_PROMISC);
    qhsnic_wr(d, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE);
}

static void *qhsnic_get_driver(void *obj, const char *interface)
{
    QHsnic *d = obj;

    if (!g_strcmp0(interface, "hsnic-if")) {
        return d;
    }
    if (!g_strcmp0(interface, "pci-device")) {
        return &d->pci_dev;
    }
    fprintf(stderr, "%s not present in hsnic\n", interface);
    g_assert_not_reached();
}

static void *qhsnic_create(void *pci_bus, QGuestAllocator *alloc, void *addr)
{
    QHsnic *d = g_new0(QHsnic, 1);
    QPCIAddress *address = addr;

    qpci_device_foreach(pci_bus, address->vendor_id, address->device_id,
                        qhsnic_foreach_callback, &d->pci_dev);
    d->bar = qpci_iomap(&d->pci_dev, HSNIC_BAR_REGS, NULL);
    d->alloc = alloc;
    d->obj.get_driver = qhsnic_get_driver;
    d->obj.start_hw = qhsnic_start_hw;
    d->obj.destructor = qhsnic_destructor;
    return &d->obj;
}

static void qhsnic_register_nodes(void)
{
    QPCIAddress addr = {
        .vendor_id = HSNIC_PCI_VENDOR_ID,
        .device_id = HSNIC_PCI_DEVICE_ID,
    };
    /* Every test adds -netdev ...,id=hs0 (hsnic-test.c). */
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "netdev=hs0,queue-pairs=4,max-ring=256",
    };

    add_qpci_address(&opts, &addr);
    qos_node_create_driver("hsnic", qhsnic_create);
    qos_node_consumes("hsnic", "pci-bus", &opts);
}

libqos_init(qhsnic_register_nodes);
