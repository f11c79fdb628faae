/*
 * QTest testcases for the hsnic NIC: what a hostile guest can do
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each test feeds the device one class of invalid input (docs/
 * reliability.md numbers them) and asserts the outcome the device spec
 * documents (docs/specs/hsnic.rst, "Guest errors"): the right completion
 * status, queue error, counter or placement, and that the device still
 * works afterwards. A QEMU that crashes or asserts fails the test.
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/module.h"
#include "qemu/sockets.h"
#include "hw/pci/pci_regs.h"
#include "net/eth.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/hsnic.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"

#define RING            16
#define BUF_LEN         2048
#define HDR_BUF_LEN     256
#define FRAME_MAX       (HSNIC_MAX_FRAME + 4)
#define UNMAPPED_ADDR   (1ULL << 40)    /* far above the test's RAM */

typedef struct Peer {
    int fd[2];      /* fd[0]: the test's end, fd[1]: the netdev's */
} Peer;

static QTestState *qts_of(QHsnic *d)
{
    return d->pci_dev.bus->qts;
}

/* ---- Frames on the socket backend (4-byte big-endian length prefix) ---- */

static void peer_send(Peer *p, const void *frame, uint32_t len)
{
    uint32_t be = cpu_to_be32(len);
    struct iovec iov[] = {
        { .iov_base = &be, .iov_len = sizeof(be) },
        { .iov_base = (void *)frame, .iov_len = len },
    };
    ssize_t ret = iov_send(p->fd[0], iov, 2, 0, sizeof(be) + len);

    g_assert_cmpint(ret, ==, sizeof(be) + len);
}

/* A frame the device sent, or -1 if none arrives within timeout_ms. */
static int peer_recv(Peer *p, void *buf, size_t cap, int timeout_ms)
{
    struct pollfd pfd = { .fd = p->fd[0], .events = POLLIN };
    uint32_t be, len;
    ssize_t ret;

    if (poll(&pfd, 1, timeout_ms) != 1) {
        return -1;
    }
    ret = recv(p->fd[0], &be, sizeof(be), MSG_WAITALL);
    g_assert_cmpint(ret, ==, sizeof(be));
    len = be32_to_cpu(be);
    g_assert_cmpuint(len, <=, cap);
    ret = recv(p->fd[0], buf, len, MSG_WAITALL);
    g_assert_cmpint(ret, ==, len);
    return len;
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += lduw_be_p(p + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

/* A TCP/IPv4 frame's TCP checksum, over the pseudo header. */
static void tcp4_csum(uint8_t *f, size_t len)
{
    uint8_t *ip = f + 14, *tcp = ip + 20;
    size_t tlen = len - 34, i;
    uint32_t sum = 0;

    stw_be_p(tcp + 16, 0);
    for (i = 0; i < 8; i += 2) {
        sum += lduw_be_p(ip + 12 + i);
    }
    sum += 6 + tlen;
    for (i = 0; i + 1 < tlen; i += 2) {
        sum += lduw_be_p(tcp + i);
    }
    if (tlen & 1) {
        sum += tcp[tlen - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    stw_be_p(tcp + 16, ~sum);
}

static const uint8_t dst_mac[] = QHSNIC_MAC;
static const uint8_t src_mac[] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static size_t eth_hdr(uint8_t *f, uint16_t type)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    stw_be_p(f + 12, type);
    return 14;
}

/* TCP over IPv4, 192.0.2.1:1234 -> 192.0.2.2:80, payload bytes seed + i */
static size_t frame_tcp4(uint8_t *f, size_t payload, uint8_t seed,
                         uint16_t frag)
{
    size_t l2 = eth_hdr(f, 0x0800), i;
    uint8_t *ip = f + l2, *tcp = ip + 20;

    memset(ip, 0, 40);
    ip[0] = 0x45;
    stw_be_p(ip + 2, 40 + payload);
    stw_be_p(ip + 6, frag);
    ip[8] = 64;
    ip[9] = 6;
    stl_be_p(ip + 12, 0xc0000201);
    stl_be_p(ip + 16, 0xc0000202);
    stw_be_p(ip + 10, ip_csum(ip, 20));
    stw_be_p(tcp, 1234);
    stw_be_p(tcp + 2, 80);
    stl_be_p(tcp + 4, 1);
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    stw_be_p(tcp + 14, 65535);
    for (i = 0; i < payload; i++) {
        tcp[20 + i] = seed + i;
    }
    return l2 + 40 + payload;
}

/*
 * TCP over IPv6 behind a hop-by-hop options header of ext_len bytes (a
 * multiple of 8, >= 8, padded with PadN options).
 */
static size_t frame_tcp6_ext(uint8_t *f, size_t ext_len, size_t payload)
{
    size_t l2 = eth_hdr(f, 0x86dd), off, left, i;
    uint8_t *ip = f + l2, *ext = ip + 40, *tcp = ext + ext_len;

    memset(ip, 0, 40 + ext_len + 20);
    ip[0] = 0x60;
    stw_be_p(ip + 4, ext_len + 20 + payload);
    ip[6] = 0;          /* hop-by-hop options */
    ip[7] = 64;
    ip[8] = 0x20;       /* 2001:db8::1 -> 2001:db8::2 */
    ip[9] = 0x01;
    ip[10] = 0x0d;
    ip[11] = 0xb8;
    ip[23] = 1;
    memcpy(ip + 24, ip + 8, 16);
    ip[39] = 2;
    ext[0] = 6;
    ext[1] = ext_len / 8 - 1;
    for (off = 2; off < ext_len; off += 2 + ext[off + 1]) {
        left = ext_len - off;
        ext[off] = 1;   /* PadN */
        ext[off + 1] = MIN(left - 2, 200);
        if (left - 2 - ext[off + 1] == 1) {
            ext[off + 1]--;     /* never leave a single byte */
        }
    }
    stw_be_p(tcp, 1234);
    stw_be_p(tcp + 2, 80);
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    for (i = 0; i < payload; i++) {
        tcp[20 + i] = i;
    }
    return l2 + 40 + ext_len + 20 + payload;
}

/* ICMP echo over IPv4: IP, but no L4 header the device splits at. */
static size_t frame_icmp4(uint8_t *f, size_t payload)
{
    size_t len = frame_tcp4(f, payload + 20 - 8, 0, 0);

    f[14 + 9] = 1;
    stw_be_p(f + 14 + 10, 0);
    stw_be_p(f + 14 + 10, ip_csum(f + 14, 20));
    f[34] = 8;
    return len;
}

/* ---- Device helpers ---- */

static uint32_t err_code(QHsnic *d)
{
    return qhsnic_rd(d, HSNIC_REG_ERR_CODE);
}

static uint32_t expect_err(unsigned q, bool rx, enum hsnic_err code)
{
    return (code << HSNIC_ERR_CODE_SHIFT) |
           (HSNIC_QID(q, rx) << HSNIC_ERR_QUEUE_SHIFT);
}

static void clear_err_evt(QHsnic *d)
{
    qhsnic_wr(d, HSNIC_REG_EVT_CAUSE, HSNIC_EVT_ERROR | HSNIC_EVT_LINK);
}

static uint64_t guest_errors(QHsnic *d)
{
    return qhsnic_dstat(d, HSNIC_DSTAT_GUEST_ERRORS);
}

static uint64_t frame_buf(QHsnic *d, const void *frame, size_t len)
{
    uint64_t a = guest_alloc(d->alloc, len);

    g_assert(a);
    qtest_memwrite(qts_of(d), a, frame, len);
    return a;
}

/* A frame of one descriptor goes through TX queue t intact. */
static void check_tx_works(QHsnic *d, QHsnicTxq *t, Peer *p)
{
    uint8_t frame[128], got[FRAME_MAX];
    size_t len = frame_tcp4(frame, 60, 0x40, 0);
    uint64_t a = frame_buf(d, frame, len);
    struct hsnic_tx_cmpl c;

    qhsnic_tx_post(d, t, a, len, HSNIC_TXD_EOP);
    qhsnic_tx_ring(d, t);
    g_assert_true(qhsnic_tx_cmpl(d, t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    guest_free(d->alloc, a);
}

/* A frame sent to a peerless hub port still completes. */
static void check_tx_works_hub(QHsnic *d, QHsnicTxq *t)
{
    uint8_t frame[128];
    size_t len = frame_tcp4(frame, 60, 0x40, 0);
    struct hsnic_tx_cmpl c;

    qhsnic_tx_post(d, t, frame_buf(d, frame, len), len, HSNIC_TXD_EOP);
    qhsnic_tx_ring(d, t);
    g_assert_true(qhsnic_tx_cmpl(d, t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
}

/* One frame in, one completion out on RX queue r. */
static void check_rx_works(QHsnic *d, QHsnicRxq *r, Peer *p)
{
    uint8_t frame[256], got[256];
    size_t len = frame_icmp4(frame, 100);
    struct hsnic_rx_cmpl c;
    uint64_t buf;

    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, r, &c));
    g_assert_cmpuint(le32_to_cpu(c.pay_len) + le16_to_cpu(c.hdr_len), ==,
                     len);
    if (!r->hdr_buf_len) {
        buf = r->bufs + (uint64_t)le16_to_cpu(c.pay_idx) * r->buf_len;
        qtest_memread(qts_of(d), buf, got, len);
        g_assert_cmpmem(got, len, frame, len);
    }
}

static void txq_up(QHsnic *d, QHsnicTxq *t, unsigned q)
{
    qhsnic_txq_init(d, t, q, RING);
    g_assert_cmphex(qhsnic_txq_enable(d, t), ==, HSNIC_Q_STATUS_ENABLED);
}

static void rxq_up(QHsnic *d, QHsnicRxq *r, unsigned q, uint32_t hdr_buf_len)
{
    qhsnic_rxq_init(d, r, q, RING, BUF_LEN, hdr_buf_len);
    g_assert_cmphex(qhsnic_rxq_enable(d, r), ==, HSNIC_Q_STATUS_ENABLED);
    qhsnic_rx_post_all(d, r);
}

/* Frame error: completed with @status, counted, latched, queue runs on. */
static void tx_expect_error(QHsnic *d, QHsnicTxq *t, Peer *p,
                            uint16_t status, enum hsnic_err code)
{
    uint64_t ge = guest_errors(d);
    uint64_t errs = qhsnic_tx_qstat(d, t->q, HSNIC_TXS_ERRORS);
    struct hsnic_tx_cmpl c;
    uint8_t got[FRAME_MAX];

    clear_err_evt(d);
    qhsnic_tx_ring(d, t);
    g_assert_true(qhsnic_tx_cmpl(d, t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, status);
    g_assert_cmpuint(le32_to_cpu(c.head), ==, t->tail);
    g_assert_cmpuint(guest_errors(d), ==, ge + 1);
    g_assert_cmpuint(qhsnic_tx_qstat(d, t->q, HSNIC_TXS_ERRORS), ==,
                     errs + 1);
    g_assert_cmphex(err_code(d), ==, expect_err(t->q, false, code));
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_EVT_CAUSE) & HSNIC_EVT_ERROR, ==,
                    HSNIC_EVT_ERROR);
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 0), ==, -1);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_TXQ_REG(t->q, HSNIC_Q_STATUS)), ==,
                    HSNIC_Q_STATUS_ENABLED);
}

/* Queue error: the queue stopped with @code, counted and latched. */
static void expect_queue_error(QHsnic *d, unsigned q, bool rx,
                               enum hsnic_err code, uint64_t qerrs_before)
{
    uint32_t base = rx ? HSNIC_RXQ_REG(q, 0) : HSNIC_TXQ_REG(q, 0);

    g_assert_cmphex(qhsnic_rd(d, base + HSNIC_Q_STATUS), ==,
                    HSNIC_Q_STATUS_ERROR);
    g_assert_cmphex(qhsnic_rd(d, base + HSNIC_Q_CTRL) & HSNIC_Q_CTRL_ENABLE,
                    ==, 0);
    g_assert_cmphex(err_code(d), ==, expect_err(q, rx, code));
    g_assert_cmpuint(qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS), ==,
                     qerrs_before + 1);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_EVT_CAUSE) & HSNIC_EVT_ERROR, ==,
                    HSNIC_EVT_ERROR);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_DEV_STATUS) &
                    HSNIC_DEV_STATUS_ERROR, ==, HSNIC_DEV_STATUS_ERROR);
}

/* Queue @r configured: once enabled, one frame in stops it on DMA. */
static void rx_expect_dma_stop(QHsnic *d, QHsnicRxq *r, Peer *p,
                               const uint8_t *frame, size_t len)
{
    uint64_t qerrs;

    g_assert_cmphex(qhsnic_rxq_enable(d, r), ==, HSNIC_Q_STATUS_ENABLED);
    qhsnic_rx_post_all(d, r);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    peer_send(p, frame, len);
    qhsnic_run(d);
    qhsnic_run(d);
    expect_queue_error(d, r->q, true, HSNIC_ERR_DMA, qerrs);
}

/* Queue @t configured: once enabled, a doorbell stops it on DMA. */
static void tx_expect_dma_stop(QHsnic *d, QHsnicTxq *t)
{
    uint64_t qerrs;

    g_assert_cmphex(qhsnic_txq_enable(d, t), ==, HSNIC_Q_STATUS_ENABLED);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qhsnic_wr(d, HSNIC_DB_TX(t->q), 1);
    qhsnic_run(d);
    expect_queue_error(d, t->q, false, HSNIC_ERR_DMA, qerrs);
}

static unsigned hds_reason(const struct hsnic_rx_cmpl *c)
{
    return (le16_to_cpu(c->info) & HSNIC_RXI_HDS_MASK) >>
           HSNIC_RXI_HDS_SHIFT;
}

/* ---- (1) TX lengths: zero, oversized, too short, wrapping ---- */

static void test_tx_lengths(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    uint8_t frame[128], got[FRAME_MAX];
    size_t len = frame_tcp4(frame, 60, 0, 0);
    uint64_t a = frame_buf(d, frame, len), big;
    int i;

    txq_up(d, &t, 0);

    /* len 0 in a descriptor */
    qhsnic_tx_post(d, &t, a, 0, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DESC, HSNIC_ERR_DESC);

    /* a descriptor longer than any frame */
    qhsnic_tx_post(d, &t, a, HSNIC_MAX_FRAME + 1, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DESC, HSNIC_ERR_DESC);

    /* the sum of descriptors past the frame limit (and past 2^16) */
    big = guest_alloc(alloc, 40000);
    qhsnic_tx_post(d, &t, big, 40000, 0);
    qhsnic_tx_post(d, &t, big, 40000, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_LEN, HSNIC_ERR_FRAME);

    /* shorter than an Ethernet header */
    qhsnic_tx_post(d, &t, a, 13, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_LEN, HSNIC_ERR_FRAME);

    /* a buffer that wraps around the 64-bit address space */
    qhsnic_tx_post(d, &t, UINT64_MAX - 15, 64, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DMA, HSNIC_ERR_DMA);

    /* TSO with an MSS below the minimum */
    qhsnic_tx_post(d, &t, a, len, HSNIC_TXD_EOP | HSNIC_TXD_TSO |
                   (16 << HSNIC_TXD_MSS_SHIFT));
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_OFFLOAD, HSNIC_ERR_DESC);

    /* a good frame whose descriptors wrap around the end of the ring */
    while (t.tail != RING - 2) {
        check_tx_works(d, &t, p);
    }
    for (i = 0; i < 4; i++) {
        size_t from = i * len / 4, to = (i + 1) * len / 4;

        qhsnic_tx_post(d, &t, a + from, to - from,
                       i == 3 ? HSNIC_TXD_EOP : 0);
    }
    qhsnic_tx_ring(d, &t);
    g_assert_cmpuint(t.tail, ==, 2);
    {
        struct hsnic_tx_cmpl c;

        g_assert_true(qhsnic_tx_cmpl(d, &t, &c));
        g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
        g_assert_cmpuint(le32_to_cpu(c.head), ==, 2);
    }
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    check_tx_works(d, &t, p);
}

/*
 * TSO cut by the device itself (the socket backend has no vnet header):
 * each segment a valid frame, and the TCP flags split as the kernel's GSO
 * splits them: CWR on the first segment only, FIN and PSH on the last
 * only, ACK on all (net_tx_pkt once cleared FIN and PSH on every one).
 */
static void check_tso_segments(QHsnic *d, QHsnicTxq *t, Peer *p,
                               size_t payload, uint32_t mss)
{
    uint8_t frame[14 + 40 + 4000], got[FRAME_MAX], seen[4000];
    uint8_t want_flags = TH_ACK | TH_PUSH | TH_FIN | TH_CWR;
    size_t len = frame_tcp4(frame, payload, 0x20, 0x4000), off = 0;
    unsigned nseg = DIV_ROUND_UP(payload, mss), i;
    struct hsnic_tx_cmpl c;
    uint64_t a;

    g_assert_cmpuint(payload, <=, sizeof(seen));
    stw_be_p(frame + 14 + 4, 0x1000);               /* IP ID */
    stl_be_p(frame + 34 + 4, 0x10000000);           /* sequence */
    frame[34 + 13] = want_flags;
    a = frame_buf(d, frame, len);
    qhsnic_tx_post(d, t, a, len, HSNIC_TXD_EOP | HSNIC_TXD_TSO |
                   (mss << HSNIC_TXD_MSS_SHIFT));
    qhsnic_tx_ring(d, t);
    g_assert_true(qhsnic_tx_cmpl(d, t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);

    for (i = 0; i < nseg; i++) {
        size_t seg = MIN(mss, payload - off);
        uint8_t *ip = got + 14, *tcp = ip + 20, flags = TH_ACK;
        uint16_t csum;

        g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==,
                        14 + 40 + seg);
        g_assert_cmpuint(lduw_be_p(ip + 2), ==, 40 + seg);
        g_assert_cmpuint(lduw_be_p(ip + 4), ==, 0x1000 + i);
        g_assert_cmpuint(ip_csum(ip, 20), ==, 0);
        g_assert_cmpuint(ldl_be_p(tcp + 4), ==, 0x10000000 + off);
        if (i == 0) {
            flags |= TH_CWR;
        }
        if (i == nseg - 1) {
            flags |= TH_PUSH | TH_FIN;
        }
        g_assert_cmphex(tcp[13], ==, flags);
        csum = lduw_be_p(tcp + 16);
        tcp4_csum(got, 14 + 40 + seg);
        g_assert_cmphex(lduw_be_p(tcp + 16), ==, csum);
        memcpy(seen + off, tcp + 20, seg);
        off += seg;
    }
    g_assert_cmpmem(seen, payload, frame + 54, payload);
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 0), ==, -1);
    guest_free(d->alloc, a);
}

static void test_tso_segments(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;

    txq_up(d, &t, 0);
    check_tso_segments(d, &t, p, 2600, 1000);   /* a short last segment */
    check_tso_segments(d, &t, p, 3000, 1000);   /* a full last segment */
    check_tso_segments(d, &t, p, 1400, 1400);   /* one segment: all flags */
    check_tx_works(d, &t, p);
}

/* ---- (2) Ring sizes and doorbell values ---- */

static void test_ring_config(void *obj, void *data, QGuestAllocator *alloc)
{
    static const uint32_t bad_sizes[] = {
        0, 1, HSNIC_MIN_RING / 2, 12, 100, HSNIC_MAX_RING * 2, UINT32_MAX,
    };
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    QHsnicRxq r;
    uint64_t qerrs, ge;
    size_t i;

    qhsnic_txq_init(d, &t, 1, RING);
    for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
        clear_err_evt(d);
        qhsnic_wr(d, HSNIC_TXQ_REG(1, HSNIC_Q_RING_SIZE), bad_sizes[i]);
        g_assert_cmphex(qhsnic_txq_enable(d, &t), ==, HSNIC_Q_STATUS_ERROR);
        expect_queue_error(d, 1, false, HSNIC_ERR_RING_CONFIG, qerrs);
    }
    /* a ring address that is not aligned, or wraps */
    qhsnic_wr(d, HSNIC_TXQ_REG(1, HSNIC_Q_RING_SIZE), RING);
    qhsnic_wr(d, HSNIC_TXQ_REG(1, HSNIC_Q_DESC_LO), t.desc + 8);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    g_assert_cmphex(qhsnic_txq_enable(d, &t), ==, HSNIC_Q_STATUS_ERROR);
    expect_queue_error(d, 1, false, HSNIC_ERR_RING_CONFIG, qerrs);
    qhsnic_set_addr(d, HSNIC_TXQ_REG(1, HSNIC_Q_DESC_LO), UINT64_MAX - 15);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    g_assert_cmphex(qhsnic_txq_enable(d, &t), ==, HSNIC_Q_STATUS_ERROR);
    expect_queue_error(d, 1, false, HSNIC_ERR_RING_CONFIG, qerrs);

    /* RX buffer lengths out of range or not a multiple of 64 */
    qhsnic_rxq_init(d, &r, 1, RING, BUF_LEN, 0);
    qhsnic_wr(d, HSNIC_RXQ_REG(1, HSNIC_RXQ_BUF_LEN), 100);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    g_assert_cmphex(qhsnic_rxq_enable(d, &r), ==, HSNIC_Q_STATUS_ERROR);
    expect_queue_error(d, 1, true, HSNIC_ERR_RING_CONFIG, qerrs);
    qhsnic_wr(d, HSNIC_RXQ_REG(1, HSNIC_RXQ_BUF_LEN), BUF_LEN + 1);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    g_assert_cmphex(qhsnic_rxq_enable(d, &r), ==, HSNIC_Q_STATUS_ERROR);
    expect_queue_error(d, 1, true, HSNIC_ERR_RING_CONFIG, qerrs);

    /* a doorbell of a disabled queue: ignored guest error */
    ge = guest_errors(d);
    qhsnic_wr(d, HSNIC_DB_TX(1), 1);
    g_assert_cmpuint(guest_errors(d), ==, ge + 1);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_TXQ_REG(1, HSNIC_Q_TAIL)), ==, 0);

    /* a doorbell value == RING_SIZE stops the queue */
    txq_up(d, &t, 1);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qhsnic_wr(d, HSNIC_DB_TX(1), RING);
    expect_queue_error(d, 1, false, HSNIC_ERR_TAIL, qerrs);
    rxq_up(d, &r, 1, 0);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qhsnic_wr(d, HSNIC_DB_RX(1), UINT32_MAX);
    expect_queue_error(d, 1, true, HSNIC_ERR_TAIL, qerrs);

    /* and the queue comes back once re-enabled */
    txq_up(d, &t, 1);
    check_tx_works(d, &t, p);
}

/* ---- (3) A descriptor chain without EOP filling the ring ---- */

static void test_tx_no_eop(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    uint64_t a = guest_alloc(alloc, 64);
    int i;

    txq_up(d, &t, 0);
    check_tx_works(d, &t, p);
    for (i = 0; i < RING - 1; i++) {
        qhsnic_tx_post(d, &t, a, 64, 0);
    }
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DESC, HSNIC_ERR_DESC);
    check_tx_works(d, &t, p);
}

/* ---- (3b) A long frame without EOP and many doorbells ---- */

static char *hsnic_qom_path(QTestState *qts);
static QDict *state_find(QDict *st, const char *list, const char *key,
                         int64_t val);

static int64_t qom_get_int(QTestState *qts, const char *path,
                           const char *prop)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': %s, 'property': %s}}", path, prop);
    int64_t val;

    g_assert(qdict_haskey(resp, "return"));
    val = qdict_get_int(resp, "return");
    qobject_unref(resp);
    return val;
}

/*
 * 200 descriptors of a 60 KB frame posted without EOP, and 10,000
 * doorbells: each doorbell costs the device the descriptors it added, not
 * a re-read (and a re-copy) of the whole frame. Then EOP: the frame goes
 * out intact.
 */
static void test_tx_no_eop_doorbells(void *obj, void *data,
                                     QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    g_autofree char *path = hsnic_qom_path(qts);
    enum { NDESC = 200, PIECE = 300, DOORBELLS = 10000 };
    size_t len = NDESC * PIECE + 6;
    g_autofree uint8_t *frame = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(FRAME_MAX);
    struct hsnic_tx_cmpl c;
    QHsnicTxq t;
    uint64_t a;
    int64_t reads;
    size_t i;

    for (i = 0; i < len; i++) {
        frame[i] = i * 7 + (i >> 8);
    }
    memcpy(frame, dst_mac, 6);
    a = frame_buf(d, frame, len);
    qhsnic_txq_init(d, &t, 0, 256);
    g_assert_cmphex(qhsnic_txq_enable(d, &t), ==, HSNIC_Q_STATUS_ENABLED);
    for (i = 0; i < NDESC; i++) {
        qhsnic_tx_post(d, &t, a + i * PIECE, PIECE, 0);
    }
    reads = qom_get_int(qts, path, "x-stat-tx-desc-reads");
    for (i = 0; i < DOORBELLS; i++) {
        qhsnic_tx_ring(d, &t);
    }
    qhsnic_run(d);
    g_assert_false(qhsnic_tx_cmpl(d, &t, &c));
    /* once each, not once per doorbell (2,000,000) */
    g_assert_cmpint(qom_get_int(qts, path, "x-stat-tx-desc-reads") - reads,
                    <=, NDESC);
    g_assert_cmpint(peer_recv(p, got, FRAME_MAX, 0), ==, -1);

    qhsnic_tx_post(d, &t, a + NDESC * PIECE, 6, HSNIC_TXD_EOP);
    qhsnic_tx_ring(d, &t);
    g_assert_true(qhsnic_tx_cmpl(d, &t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
    g_assert_cmpuint(le32_to_cpu(c.head), ==, NDESC + 1);
    g_assert_cmpint(peer_recv(p, got, FRAME_MAX, 1000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    /* the scan, then the copy: each descriptor read at most twice */
    g_assert_cmpint(qom_get_int(qts, path, "x-stat-tx-desc-reads") - reads,
                    <=, 2 * (NDESC + 1));
    guest_free(alloc, a);
}

/* ---- (3c) Fault injection properties: ranges and duplicates ---- */

static void test_fault_props(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    g_autofree char *path = hsnic_qom_path(qts);
    static const char *const props[] = {
        "x-fault-drop-cmpl", "x-fault-dup-cmpl", "x-fault-corrupt-cmpl",
        "x-fault-fail-dma", "x-fault-stop-delay",
    };
    struct hsnic_tx_cmpl c[2];
    uint8_t frame[128], got[FRAME_MAX];
    size_t len = frame_tcp4(frame, 60, 1, 0);
    QHsnicTxq t;
    QDict *resp;
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(props); i++) {
        resp = qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': "
                         "{'path': %s, 'property': %s, 'value': 1000001}}",
                         path, props[i]);
        g_assert_true(qdict_haskey(resp, "error"));
        g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                              "desc"), "between 0 and"));
        qobject_unref(resp);
        g_assert_cmpint(qom_get_int(qts, path, props[i]), ==, 0);
    }

    /* a huge duplicate count: each completion still goes in two slots */
    txq_up(d, &t, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': 'x-fault-dup-cmpl', "
                             "'value': 1000000}}", path);
    qhsnic_tx_post(d, &t, frame_buf(d, frame, len), len, HSNIC_TXD_EOP);
    qhsnic_tx_ring(d, &t);
    g_assert_true(qhsnic_tx_cmpl(d, &t, &c[0]));
    g_assert_true(qhsnic_tx_cmpl(d, &t, &c[1]));
    g_assert_cmpmem(&c[0], sizeof(c[0]), &c[1], sizeof(c[1]));
    g_assert_false(qhsnic_tx_cmpl(d, &t, &c[0]));
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==, len);
    g_assert_cmpint(qom_get_int(qts, path, "x-fault-dup-cmpl"), ==, 999999);
    g_assert_cmpint(qom_get_int(qts, path, "x-fault-injected"), ==, 1);
    qtest_qmp_assert_success(qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': 'x-fault-dup-cmpl', "
                             "'value': 0}}", path);
}

/* ---- (4) Rings and buffers in hsnic's own BAR and MSI-X table ---- */

static uint64_t bar_addr(QHsnic *d, int bar)
{
    uint8_t cfg = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t lo = qpci_config_readl(&d->pci_dev, cfg);
    uint64_t a = lo & PCI_BASE_ADDRESS_MEM_MASK;

    if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
        PCI_BASE_ADDRESS_MEM_TYPE_64) {
        a |= (uint64_t)qpci_config_readl(&d->pci_dev, cfg + 4) << 32;
    }
    g_assert(a);
    return a;
}

static void test_dma_to_self(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    QHsnicRxq r;
    uint64_t regs = bar_addr(d, HSNIC_BAR_REGS);
    uint64_t msix = bar_addr(d, HSNIC_BAR_MSIX);
    uint64_t qerrs;
    uint32_t msix_before[8], msix_after[8];
    uint8_t frame[256], got[FRAME_MAX];
    size_t len;
    int i;

    for (i = 0; i < 8; i++) {
        msix_before[i] = qtest_readl(qts_of(d), msix + 4 * i);
    }

    /* TX buffer on the doorbells: the frame is dropped, not looped */
    txq_up(d, &t, 0);
    qhsnic_tx_post(d, &t, regs + HSNIC_DB_TX(0), 64, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DMA, HSNIC_ERR_DMA);

    /* TX completions into the MSI-X table */
    qhsnic_txq_init(d, &t, 0, RING);
    qhsnic_set_addr(d, HSNIC_TXQ_REG(0, HSNIC_Q_CMPL_LO), msix);
    g_assert_cmphex(qhsnic_txq_enable(d, &t), ==, HSNIC_Q_STATUS_ENABLED);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    len = frame_tcp4(frame, 60, 0, 0);
    qhsnic_tx_post(d, &t, frame_buf(d, frame, len), len, HSNIC_TXD_EOP);
    qhsnic_tx_ring(d, &t);
    qhsnic_run(d);
    expect_queue_error(d, 0, false, HSNIC_ERR_DMA, qerrs);
    /* the frame itself had gone out before its completion failed */
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==, len);
    g_assert_cmpmem(got, len, frame, len);

    /* TX descriptor ring on the queue's own registers */
    qhsnic_txq_init(d, &t, 0, RING);
    qhsnic_set_addr(d, HSNIC_TXQ_REG(0, HSNIC_Q_DESC_LO),
                    regs + HSNIC_TXQ_REG(0, 0));
    tx_expect_dma_stop(d, &t);

    /* RX payload buffers on the doorbells, completions into the table */
    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    r.bufs = regs + HSNIC_DB_BASE;
    len = frame_icmp4(frame, 100);
    rx_expect_dma_stop(d, &r, p, frame, len);

    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    qhsnic_set_addr(d, HSNIC_RXQ_REG(0, HSNIC_Q_CMPL_LO), msix);
    rx_expect_dma_stop(d, &r, p, frame, len);

    /* the MSI-X table was never written by the device */
    for (i = 0; i < 8; i++) {
        msix_after[i] = qtest_readl(qts_of(d), msix + 4 * i);
    }
    g_assert_cmpmem(msix_before, sizeof(msix_before), msix_after,
                    sizeof(msix_after));
    txq_up(d, &t, 0);
    check_tx_works(d, &t, p);
    rxq_up(d, &r, 0, 0);
    check_rx_works(d, &r, p);
}

/* ---- (4b) DMA and MSI-X on hsnic's own BAR from unguarded paths ---- */

/* Segments in RX queue @q's open RSC aggregate (x-state). */
static int64_t rsc_open_segs(QTestState *qts, const char *path, unsigned q)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': %s, 'property': 'x-state'}}", path);
    int64_t segs;

    g_assert(qdict_haskey(resp, "return"));
    segs = qdict_get_int(state_find(qdict_get_qdict(resp, "return"), "rxq",
                                    "queue", q), "rsc-open-segs");
    qobject_unref(resp);
    return segs;
}

/*
 * RX queue 0 with header split and RSC, its header buffers on hsnic's own
 * DEV_CTRL register, and an aggregate open (the virtual clock stands
 * still, so its rsc-usecs timer does not deliver it).
 */
static void rsc_open_on_bar0(QHsnic *d, QHsnicRxq *r, Peer *p,
                             const char *path)
{
    uint64_t regs = bar_addr(d, HSNIC_BAR_REGS);
    uint8_t frame[256];
    size_t len = frame_tcp4(frame, 100, 0, 0);
    unsigned i;

    tcp4_csum(frame, len);
    qhsnic_rxq_init(d, r, 0, RING, BUF_LEN, HDR_BUF_LEN);
    r->cidx = 0;
    r->gen = 1;
    qhsnic_wr(d, HSNIC_RXQ_REG(0, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE |
              HSNIC_RXQ_CTRL_HDS | HSNIC_RXQ_CTRL_RSC);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RXQ_REG(0, HSNIC_Q_STATUS)), ==,
                    HSNIC_Q_STATUS_ENABLED);
    qhsnic_rx_post_all(d, r);
    for (i = 0; i < RING; i++) {
        struct hsnic_rx_desc desc = {
            .addr = cpu_to_le64(regs + HSNIC_REG_DEV_CTRL),
        };

        qtest_memwrite(qts_of(d), r->hdr + i * sizeof(desc), &desc,
                       sizeof(desc));
    }
    peer_send(p, frame, len);
    for (i = 0; i < 1000 && !rsc_open_segs(qts_of(d), path, 0); i++) {
        g_usleep(1000);
    }
    g_assert_cmpint(rsc_open_segs(qts_of(d), path, 0), ==, 1);
}

/*
 * The aggregate delivered from a path the memory core does not guard: its
 * header write must fail (the queue stops on a DMA error) rather than
 * write hsnic's registers, and no completion follows.
 */
static void rsc_expect_blocked(QHsnic *d, QHsnicRxq *r, uint64_t ge,
                               uint64_t qerrs)
{
    struct hsnic_rx_cmpl c;

    expect_queue_error(d, 0, true, HSNIC_ERR_DMA, qerrs);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_DEV_CTRL), ==,
                    HSNIC_DEV_CTRL_ENABLE);
    g_assert_cmpuint(guest_errors(d), ==, ge);
    g_assert_false(qhsnic_rx_cmpl(d, r, &c));
    clear_err_evt(d);
}

static void test_rsc_flush_guarded(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    g_autofree char *path = hsnic_qom_path(qts);
    QHsnicRxq r;
    uint64_t ge, qerrs;
    uint16_t cmd;

    /* the PCI command register written (Bus Master Enable as it was) */
    rsc_open_on_bar0(d, &r, p, path);
    ge = guest_errors(d);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    cmd = qpci_config_readw(&d->pci_dev, PCI_COMMAND);
    qpci_config_writew(&d->pci_dev, PCI_COMMAND, cmd);
    rsc_expect_blocked(d, &r, ge, qerrs);

    /* the link going down */
    rsc_open_on_bar0(d, &r, p, path);
    ge = guest_errors(d);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qtest_qmp_assert_success(qts, "{'execute': 'set_link', 'arguments': "
                             "{'name': 'hs0', 'up': false}}");
    rsc_expect_blocked(d, &r, ge, qerrs);
    qtest_qmp_assert_success(qts, "{'execute': 'set_link', 'arguments': "
                             "{'name': 'hs0', 'up': true}}");
    clear_err_evt(d);

    /* the VM stopping */
    rsc_open_on_bar0(d, &r, p, path);
    ge = guest_errors(d);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    rsc_expect_blocked(d, &r, ge, qerrs);

    /* and the device still works */
    rxq_up(d, &r, 0, 0);
    check_rx_works(d, &r, p);
}

/* ---- RSC follows GRO's rules ---- */

/* One segment of a GRO rule case: changes to a plain TCP/IPv4 segment. */
typedef struct RscSeg {
    uint16_t pay;           /* payload bytes */
    uint32_t seq;           /* offset from the first sequence number */
    uint8_t flags;          /* TCP flags (0: ACK) */
    uint16_t ipid;
    bool df0;               /* DF clear */
    uint8_t ttl;            /* 0: 64 */
    uint8_t tos;
    uint16_t sport;         /* 0: 1234 */
    uint32_t tsval;         /* nonzero: NOP NOP timestamp option */
    bool bad_csum;
    uint16_t wait_ms;       /* virtual time that passes before it */
} RscSeg;

typedef struct RscCase {
    const char *name;
    RscSeg seg[8];
    unsigned nseg;
    uint16_t expect[8];     /* payload of each frame delivered, in order */
    unsigned nexp;
} RscCase;

static size_t rsc_frame(uint8_t *f, const RscSeg *g)
{
    size_t opt = g->tsval ? 12 : 0, len;
    uint8_t *ip = f + 14, *tcp = ip + 20;

    len = frame_tcp4(f, g->pay + opt, 0, g->df0 ? 0 : 0x4000);
    memmove(tcp + 20 + opt, tcp + 20, g->pay);
    stw_be_p(ip + 4, g->ipid);
    ip[8] = g->ttl ?: 64;
    ip[1] = g->tos;
    stw_be_p(ip + 10, 0);
    stw_be_p(ip + 10, ip_csum(ip, 20));
    if (g->sport) {
        stw_be_p(tcp, g->sport);
    }
    stl_be_p(tcp + 4, 1 + g->seq);
    tcp[13] = g->flags ?: 0x10;
    if (opt) {
        tcp[12] = 8 << 4;
        tcp[20] = 1;
        tcp[21] = 1;
        tcp[22] = 8;
        tcp[23] = 10;
        stl_be_p(tcp + 24, g->tsval);
        stl_be_p(tcp + 28, 0);
    }
    tcp4_csum(f, len);
    if (g->bad_csum) {
        tcp[16] ^= 1;
    }
    return len;
}

static const RscCase rsc_cases[] = {
    { "data_same", { { 100, 0 }, { 100, 100 } }, 2, { 200 }, 1 },
    { "lrg_sml", { { 100, 0 }, { 50, 100 } }, 2, { 150 }, 1 },
    { "sml_lrg", { { 50, 0 }, { 100, 50 } }, 2, { 50, 100 }, 2 },
    { "psh", { { 100, 0 }, { 100, 100, 0x18 }, { 100, 200 } }, 3,
      { 200, 100 }, 2 },
    { "syn", { { 100, 0 }, { 0, 100, 0x12 }, { 100, 100 } }, 3,
      { 100, 0, 100 }, 3 },
    { "cwr", { { 100, 0 }, { 100, 100, 0x90 }, { 100, 200, 0x90 } }, 3,
      { 100, 200 }, 2 },
    { "seq", { { 100, 0 }, { 100, 101 } }, 2, { 100, 100 }, 2 },
    { "csum", { { 100, 0 }, { 100, 100, .bad_csum = true } }, 2,
      { 100, 100 }, 2 },
    { "ts", { { 100, 0, .tsval = 1 }, { 100, 100, .tsval = 1 },
              { 100, 200, .tsval = 2 } }, 3, { 212, 112 }, 2 },
    { "ttl", { { 100, 0 }, { 100, 100, .ttl = 7 } }, 2, { 100, 100 }, 2 },
    { "tos", { { 100, 0 }, { 100, 100, .tos = 4 } }, 2, { 100, 100 }, 2 },
    { "id_df1_inc", { { 100, 0, .ipid = 8 }, { 100, 100, .ipid = 9 } }, 2,
      { 200 }, 1 },
    { "id_df1_fixed", { { 100, 0, .ipid = 8 }, { 100, 100, .ipid = 8 } }, 2,
      { 200 }, 1 },
    { "id_df0_fixed", { { 100, 0, .ipid = 8, .df0 = true },
                        { 100, 100, .ipid = 8, .df0 = true } }, 2,
      { 200 }, 1 },
    { "id_inc_fixed", { { 100, 0, .ipid = 8 }, { 100, 100, .ipid = 9 },
                        { 100, 200, .ipid = 9 } }, 3, { 200, 100 }, 2 },
    { "id_df_change", { { 100, 0, .ipid = 8 },
                        { 100, 100, .ipid = 9, .df0 = true } }, 2,
      { 100, 100 }, 2 },
    /* two flows interleaved: each keeps its own aggregate and order */
    { "two_flows", { { 100, 0 }, { 100, 0, .sport = 99 }, { 100, 100 },
                     { 100, 100, 0x18, .sport = 99 } }, 4, { 200, 200 }, 2 },
    /*
     * 30 ms between a flow's segments, but the queue never quiet for the
     * default rsc-usecs (20 ms): the aggregate waits (then the timer
     * delivers it after the PSH-ended one of the other flow)
     */
    { "busy_queue", { { 100, 0 }, { 100, 0, .sport = 99, .wait_ms = 15 },
                      { 100, 100, .wait_ms = 15 },
                      { 100, 100, 0x18, .sport = 99 } }, 4,
      { 200, 200 }, 2 },
    /* 30 ms of quiet: the aggregate goes before the next segment */
    { "quiet_queue", { { 100, 0 }, { 100, 100, .wait_ms = 30 } }, 2,
      { 100, 100 }, 2 },
};

/* Wire segments the device has taken: delivered, coalesced, held. */
static uint64_t rsc_taken(QHsnic *d, const char *path)
{
    return qhsnic_rx_qstat(d, 0, HSNIC_RXS_PACKETS) -
           qhsnic_rx_qstat(d, 0, HSNIC_RXS_RSC_FRAMES) +
           qhsnic_rx_qstat(d, 0, HSNIC_RXS_RSC_SEGS) +
           rsc_open_segs(qts_of(d), path, 0);
}

static void rsc_wait_taken(QHsnic *d, const char *path, uint64_t n)
{
    unsigned i;

    for (i = 0; i < 2000 && rsc_taken(d, path) < n; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(rsc_taken(d, path), ==, n);
}

static void rsc_run_case(QHsnic *d, QHsnicRxq *r, Peer *p, const char *path,
                         const RscCase *k)
{
    uint64_t taken = rsc_taken(d, path);
    uint8_t frame[512];
    struct hsnic_rx_cmpl c;
    unsigned i, n = 0;

    for (i = 0; i < k->nseg; i++) {
        if (k->seg[i].wait_ms) {
            rsc_wait_taken(d, path, taken + i);
            qtest_clock_step(qts_of(d), k->seg[i].wait_ms * 1000 * 1000);
        }
        peer_send(p, frame, rsc_frame(frame, &k->seg[i]));
    }
    for (i = 0; i < 2000 && rsc_taken(d, path) < taken + k->nseg; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(rsc_taken(d, path), ==, taken + k->nseg);
    /* the timer delivers what is still open (rsc-usecs is <= 100 ms) */
    qtest_clock_step(qts_of(d), 1000 * 1000 * 100 + 1);
    while (qhsnic_rx_cmpl(d, r, &c)) {
        uint32_t len = le32_to_cpu(c.pay_len);
        bool rsc = le32_to_cpu(c.flags) & HSNIC_RXC_RSC;

        g_test_message("%s: frame %u: %u bytes, rsc %d segs %u", k->name, n,
                       len - 54, rsc, le16_to_cpu(c.rsc_segs));
        g_assert_cmpuint(n, <, k->nexp);
        g_assert_cmpuint(len - 54, ==, k->expect[n]);
        if (rsc) {
            g_assert_cmpuint(le16_to_cpu(c.rsc_l4off), ==, 34);
            g_assert_cmpuint(le16_to_cpu(c.rsc_segs), >=, 2);
        }
        n++;
    }
    g_assert_cmpuint(n, ==, k->nexp);
}

static void test_rsc_gro_rules(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    g_autofree char *path = hsnic_qom_path(qts_of(d));
    QHsnicRxq r;
    unsigned i;

    qhsnic_rxq_init(d, &r, 0, 256, BUF_LEN, 0);
    r.cidx = 0;
    r.gen = 1;
    qhsnic_wr(d, HSNIC_RXQ_REG(0, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE |
              HSNIC_RXQ_CTRL_RSC);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RXQ_REG(0, HSNIC_Q_STATUS)), ==,
                    HSNIC_Q_STATUS_ENABLED);
    for (i = 0; i < ARRAY_SIZE(rsc_cases); i++) {
        qhsnic_rx_post_all(d, &r);
        rsc_run_case(d, &r, p, path, &rsc_cases[i]);
    }
}

/*
 * Vector 0's MSI-X message aimed at DEV_CTRL with RESET as its data, and
 * a queue error raised from the doorbells' BQL path: the message must not
 * reset the device in the middle of its own error handling.
 */
static void test_msix_on_bar0(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    uint64_t regs = bar_addr(d, HSNIC_BAR_REGS);
    uint64_t msix = bar_addr(d, HSNIC_BAR_MSIX);
    QTestState *qts = qts_of(d);
    uint64_t qerrs;
    QHsnicTxq t;

    txq_up(d, &t, 0);
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_LOWER_ADDR,
                 (uint32_t)(regs + HSNIC_REG_DEV_CTRL));
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_UPPER_ADDR,
                 (regs + HSNIC_REG_DEV_CTRL) >> 32);
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_DATA, HSNIC_DEV_CTRL_RESET);
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    clear_err_evt(d);
    qhsnic_wr(d, HSNIC_REG_EVT_MASK, HSNIC_EVT_ERROR);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);

    /* a producer index past the ring: the queue stops, vector 0 fires */
    qhsnic_wr(d, HSNIC_DB_TX(0), RING);
    expect_queue_error(d, 0, false, HSNIC_ERR_TAIL, qerrs);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_DEV_CTRL), ==,
                    HSNIC_DEV_CTRL_ENABLE);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_EVT_MASK), ==, HSNIC_EVT_ERROR);

    /* the same from a moderation timer: vector 1, TX completions */
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_LOWER_ADDR,
                 (uint32_t)(regs + HSNIC_REG_DEV_CTRL));
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_UPPER_ADDR,
                 (regs + HSNIC_REG_DEV_CTRL) >> 32);
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_DATA,
                 HSNIC_DEV_CTRL_RESET);
    qtest_writel(qts, msix + PCI_MSIX_ENTRY_SIZE +
                 PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    txq_up(d, &t, 0);
    qhsnic_wr(d, HSNIC_REG_IRQ_MOD(HSNIC_VEC_QP(0)), 50);   /* 50 us */
    qhsnic_wr(d, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(0)), HSNIC_IRQ_ARM);
    check_tx_works(d, &t, p);
    qhsnic_run(d);      /* the timer fires */
    g_assert_cmphex(qhsnic_rd(d, HSNIC_REG_DEV_CTRL), ==,
                    HSNIC_DEV_CTRL_ENABLE);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_TXQ_REG(0, HSNIC_Q_STATUS)), ==,
                    HSNIC_Q_STATUS_ENABLED);
    check_tx_works(d, &t, p);
}

/* ---- (5) DMA addresses nothing is mapped at ---- */

static void test_unmapped_dma(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    QHsnicRxq r;
    uint8_t frame[256];
    size_t len = frame_icmp4(frame, 100);

    txq_up(d, &t, 2);
    qhsnic_tx_post(d, &t, UNMAPPED_ADDR, 64, HSNIC_TXD_EOP);
    tx_expect_error(d, &t, p, HSNIC_TX_ERR_DMA, HSNIC_ERR_DMA);

    /* descriptor ring */
    qhsnic_txq_init(d, &t, 2, RING);
    qhsnic_wr(d, HSNIC_TXQ_REG(2, HSNIC_Q_DESC_HI), UNMAPPED_ADDR >> 32);
    tx_expect_dma_stop(d, &t);

    /* RX payload buffers */
    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    r.bufs = UNMAPPED_ADDR;
    rx_expect_dma_stop(d, &r, p, frame, len);

    /* RX completion ring */
    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    qhsnic_wr(d, HSNIC_RXQ_REG(0, HSNIC_Q_CMPL_HI), UNMAPPED_ADDR >> 32);
    rx_expect_dma_stop(d, &r, p, frame, len);

    rxq_up(d, &r, 0, 0);
    check_rx_works(d, &r, p);
}

/* ---- (6) Queue, vector, RSS entry and rule queue out of range ---- */

static void test_out_of_range(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    unsigned nq = d->num_qp;
    QHsnicRxq r;
    uint64_t ge, noq;
    uint8_t frame[256];
    size_t len = frame_tcp4(frame, 100, 0, 0);
    int i;

    /* registers of queue pairs, vectors and doorbells that do not exist */
    ge = guest_errors(d);
    qhsnic_wr(d, HSNIC_TXQ_REG(nq, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE);
    qhsnic_wr(d, HSNIC_RXQ_REG(HSNIC_MAX_QP - 1, HSNIC_Q_CTRL),
              HSNIC_Q_CTRL_ENABLE);
    qhsnic_wr(d, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(nq)), HSNIC_IRQ_ARM);
    qhsnic_wr(d, HSNIC_REG_IRQ_CTRL(0), HSNIC_IRQ_ARM);
    qhsnic_wr(d, HSNIC_DB_TX(nq), 0);
    qhsnic_wr(d, HSNIC_DB_RX(HSNIC_MAX_QP - 1), 0);
    g_assert_cmpuint(guest_errors(d), ==, ge + 6);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_TXQ_REG(nq, HSNIC_Q_STATUS)), ==, 0);

    rxq_up(d, &r, 0, 0);

    /* RSS: every indirection entry names a queue past the last one */
    qhsnic_wr(d, HSNIC_RSS(0) + HSNIC_RSS_FIELDS, HSNIC_RSS_FIELDS_ALL);
    for (i = 0; i < HSNIC_RSS_INDIR_SIZE / 4; i++) {
        qhsnic_wr(d, HSNIC_RSS(0) + HSNIC_RSS_INDIR(i), 0xc8c8c8c8);
    }
    qhsnic_wr(d, HSNIC_RSS(0) + HSNIC_RSS_CTRL, HSNIC_RSS_CTRL_ENABLE);
    noq = qhsnic_dstat(d, HSNIC_DSTAT_RX_NO_QUEUE);
    peer_send(p, frame, len);
    qhsnic_run(d);
    g_assert_cmpuint(qhsnic_dstat(d, HSNIC_DSTAT_RX_NO_QUEUE), ==, noq + 1);
    qhsnic_wr(d, HSNIC_RSS(0) + HSNIC_RSS_CTRL, 0);

    /* a rule sending TCP to queue 1000 */
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_CTRL, 0);
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_DEST, 1000);
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (HSNIC_ACTION_QUEUE << HSNIC_RULE_ACTION_SHIFT) |
              (HSNIC_FLOW_TCP4 << HSNIC_RULE_FLOW_SHIFT));
    noq = qhsnic_dstat(d, HSNIC_DSTAT_RX_NO_QUEUE);
    peer_send(p, frame, len);
    qhsnic_run(d);
    g_assert_cmpuint(qhsnic_dstat(d, HSNIC_DSTAT_RX_NO_QUEUE), ==, noq + 1);

    /* rules the device refuses: RSS context past the last, action 3 */
    ge = guest_errors(d);
    qhsnic_wr(d, HSNIC_RULE(6) + HSNIC_RULE_DEST,
              HSNIC_RSS_CTX_NUM << HSNIC_RULE_CTX_SHIFT);
    qhsnic_wr(d, HSNIC_RULE(6) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (HSNIC_ACTION_RSS << HSNIC_RULE_ACTION_SHIFT) |
              (HSNIC_FLOW_TCP4 << HSNIC_RULE_FLOW_SHIFT));
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RULE(6) + HSNIC_RULE_CTRL), ==, 0);
    qhsnic_wr(d, HSNIC_RULE(7) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (3 << HSNIC_RULE_ACTION_SHIFT) |
              (HSNIC_FLOW_TCP4 << HSNIC_RULE_FLOW_SHIFT));
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RULE(7) + HSNIC_RULE_CTRL), ==, 0);
    qhsnic_wr(d, HSNIC_RULE(8) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (15 << HSNIC_RULE_FLOW_SHIFT));
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RULE(8) + HSNIC_RULE_CTRL), ==, 0);
    g_assert_cmpuint(guest_errors(d), ==, ge + 3);

    /* with the rule gone, the frame lands on queue 0 */
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_CTRL, 0);
    check_rx_works(d, &r, p);
}

/* ---- (7) Header split: headers too long, frames with nothing to split */

static void test_hds_edges(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicRxq r;
    struct hsnic_rx_cmpl c;
    uint8_t frame[2048], got[2048];
    size_t len;
    uint32_t flags, reason;
    uint64_t ovf;

    rxq_up(d, &r, 0, HDR_BUF_LEN);

    /* a normal split for reference */
    len = frame_tcp4(frame, 1000, 7, 0);
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &c));
    flags = le32_to_cpu(c.flags);
    g_assert_cmphex(flags & (HSNIC_RXC_HDR | HSNIC_RXC_SPLIT), ==,
                    HSNIC_RXC_HDR | HSNIC_RXC_SPLIT);
    g_assert_cmpuint(le16_to_cpu(c.hdr_len), ==, 54);
    g_assert_cmpuint(le32_to_cpu(c.pay_len), ==, 1000);
    qtest_memread(qts_of(d), r.bufs + le16_to_cpu(c.pay_idx) * BUF_LEN, got,
                  1000);
    g_assert_cmpmem(got, 1000, frame + 54, 1000);

    /* headers longer than the header buffer: all of it in payload */
    ovf = qhsnic_rx_qstat(d, 0, HSNIC_RXS_HDR_OVF);
    len = frame_tcp6_ext(frame, 264, 500);
    g_assert_cmpuint(len - 500, >, HDR_BUF_LEN);
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &c));
    flags = le32_to_cpu(c.flags);
    reason = hds_reason(&c);
    g_assert_cmphex(flags & (HSNIC_RXC_HDR | HSNIC_RXC_HDR_OVF |
                             HSNIC_RXC_SPLIT), ==,
                    HSNIC_RXC_HDR | HSNIC_RXC_HDR_OVF);
    g_assert_cmpuint(reason, ==, HSNIC_HDS_HDR_OVF);
    g_assert_cmpuint(le16_to_cpu(c.hdr_len), ==, 0);
    g_assert_cmpuint(le32_to_cpu(c.pay_len), ==, len);
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_HDR_OVF), ==, ovf + 1);
    qtest_memread(qts_of(d), r.bufs + le16_to_cpu(c.pay_idx) * BUF_LEN, got,
                  len);
    g_assert_cmpmem(got, len, frame, len);

    /* not TCP or UDP: the first HDR_BUF_LEN bytes in the header buffer */
    len = frame_icmp4(frame, 600);
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &c));
    reason = hds_reason(&c);
    g_assert_cmpuint(reason, ==, HSNIC_HDS_NO_L4);
    g_assert_cmpuint(le16_to_cpu(c.hdr_len), ==, HDR_BUF_LEN);
    g_assert_cmpuint(le32_to_cpu(c.pay_len), ==, len - HDR_BUF_LEN);
    qtest_memread(qts_of(d), r.hdr_bufs + le16_to_cpu(c.hdr_idx) *
                  HDR_BUF_LEN, got, HDR_BUF_LEN);
    g_assert_cmpmem(got, HDR_BUF_LEN, frame, HDR_BUF_LEN);

    /* an IP fragment of TCP: not split either */
    len = frame_tcp4(frame, 800, 3, 0x2000);    /* more fragments */
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &c));
    reason = hds_reason(&c);
    g_assert_cmpuint(reason, ==, HSNIC_HDS_IP_FRAG);
    g_assert_cmphex(le32_to_cpu(c.flags) & HSNIC_RXC_SPLIT, ==, 0);

    /* runt frames never reach a queue */
    {
        uint64_t runt = qhsnic_dstat(d, HSNIC_DSTAT_RX_RUNT);

        peer_send(p, frame, 10);
        qhsnic_run(d);
        g_assert_cmpuint(qhsnic_dstat(d, HSNIC_DSTAT_RX_RUNT), ==, runt + 1);
    }
    check_rx_works(d, &r, p);
}

/* ---- (8) Loopback: every frame sent comes straight back in ---- */

static void test_loopback(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    QHsnicRxq r;
    struct hsnic_tx_cmpl tc;
    struct hsnic_rx_cmpl rc;
    uint8_t frame[BUF_LEN], got[FRAME_MAX];
    uint64_t a;
    size_t len;
    int i, n;

    txq_up(d, &t, 0);
    rxq_up(d, &r, 0, HDR_BUF_LEN);
    qhsnic_wr(d, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(0)), HSNIC_IRQ_ARM);
    for (i = 0; i < 3 * RING; i++) {
        len = frame_tcp4(frame, 100 + i * 37, i, 0);
        g_assert_cmpuint(len, <=, sizeof(frame));
        a = frame_buf(d, frame, len);
        qhsnic_tx_post(d, &t, a, len, HSNIC_TXD_EOP);
        qhsnic_tx_ring(d, &t);
        g_assert_true(qhsnic_tx_cmpl(d, &t, &tc));
        g_assert_cmpuint(le16_to_cpu(tc.status), ==, HSNIC_TX_OK);
        n = peer_recv(p, got, sizeof(got), 1000);
        g_assert_cmpint(n, ==, len);
        peer_send(p, got, n);
        g_assert_true(qhsnic_rx_cmpl(d, &r, &rc));
        g_assert_cmpuint(le16_to_cpu(rc.hdr_len), ==, 54);
        g_assert_cmpuint(le32_to_cpu(rc.pay_len), ==, len - 54);
        qtest_memread(qts_of(d), r.bufs + le16_to_cpu(rc.pay_idx) * BUF_LEN,
                      got, len - 54);
        g_assert_cmpmem(got, len - 54, frame + 54, len - 54);
        guest_free(alloc, a);
        /* post the slots again: the producer index moves past them */
        g_assert_cmpuint(le16_to_cpu(rc.pay_nbufs), ==, 1);
        qhsnic_wr(d, HSNIC_DB_RX_HDR(0), le16_to_cpu(rc.hdr_idx));
        qhsnic_wr(d, HSNIC_DB_RX(0), le16_to_cpu(rc.pay_idx));
    }
    g_assert_true(qpci_msix_pending(&d->pci_dev, HSNIC_VEC_QP(0)));
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_PACKETS), ==, 3 * RING);
}

/* ---- (9) A queue stopped while a frame waits for its buffers ---- */

static void test_stop_while_waiting(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicRxq r;
    struct hsnic_rx_cmpl c;
    uint8_t frame[256], pattern[BUF_LEN], got[BUF_LEN];
    size_t len = frame_icmp4(frame, 100);
    uint64_t down;

    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    g_assert_cmphex(qhsnic_rxq_enable(d, &r), ==, HSNIC_Q_STATUS_ENABLED);
    memset(pattern, 0xa5, sizeof(pattern));
    qtest_memwrite(qts_of(d), r.bufs, pattern, sizeof(pattern));

    /* no buffers posted: the frame waits */
    peer_send(p, frame, len);
    qhsnic_run(d);
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_WAIT_BUF), >=, 1);
    down = qhsnic_rx_qstat(d, 0, HSNIC_RXS_DROP_DOWN);
    qhsnic_queue_disable(d, 0, true);
    qhsnic_run(d);
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_DROP_DOWN), ==,
                     down + 1);

    /* re-enabled: the old frame is gone, the buffers untouched */
    qhsnic_rxq_init(d, &r, 0, RING, BUF_LEN, 0);
    g_assert_cmphex(qhsnic_rxq_enable(d, &r), ==, HSNIC_Q_STATUS_ENABLED);
    qtest_memwrite(qts_of(d), r.bufs, pattern, sizeof(pattern));
    qhsnic_rx_post_all(d, &r);
    qhsnic_run(d);
    qtest_memread(qts_of(d), r.bufs, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), pattern, sizeof(pattern));
    frame[40] = 0x77;
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &c));
    g_assert_cmpuint(le16_to_cpu(c.pay_idx), ==, 0);
    qtest_memread(qts_of(d), r.bufs, got, len);
    g_assert_cmpmem(got, len, frame, len);
}

/* ---- (10) Reset with traffic in flight ---- */

static void test_reset_in_flight(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QHsnicTxq t;
    QHsnicRxq r;
    uint8_t frame[256], pattern[BUF_LEN], got[BUF_LEN];
    size_t len = frame_icmp4(frame, 100);
    struct hsnic_rx_cmpl zero = { 0 }, c;
    int i;

    txq_up(d, &t, 0);
    rxq_up(d, &r, 0, 0);
    check_rx_works(d, &r, p);
    /* frames posted, not yet rung; and a ring of RX buffers */
    for (i = 0; i < RING - 1; i++) {
        qhsnic_tx_post(d, &t, frame_buf(d, frame, len), len, HSNIC_TXD_EOP);
    }
    qhsnic_wr(d, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_RESET);
    qhsnic_tx_ring(d, &t);      /* ignored: the queue is gone */

    g_assert_cmpuint(qhsnic_rd(d, HSNIC_REG_DEV_CTRL), ==, 0);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_TXQ_REG(0, HSNIC_Q_STATUS)), ==, 0);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_RXQ_REG(0, HSNIC_Q_STATUS)), ==, 0);
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_PACKETS), ==, 0);
    g_assert_cmpuint(qhsnic_rd(d, HSNIC_RXQ_REG(0, HSNIC_Q_DESC_LO)), ==, 0);

    /* no DMA into the old rings or buffers after the reset */
    memset(pattern, 0x5a, sizeof(pattern));
    qtest_memwrite(qts_of(d), r.bufs + BUF_LEN, pattern, sizeof(pattern));
    qhsnic_wr(d, HSNIC_REG_RX_MODE, HSNIC_RX_MODE_PROMISC);
    qhsnic_wr(d, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE);
    peer_send(p, frame, len);
    qhsnic_run(d);
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 100), ==, -1);
    qtest_memread(qts_of(d), r.bufs + BUF_LEN, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), pattern, sizeof(pattern));
    qtest_memread(qts_of(d), r.cmpl + sizeof(c), &c, sizeof(c));
    g_assert_cmpmem(&c, sizeof(c), &zero, sizeof(zero));
    g_assert_cmpuint(qhsnic_rx_qstat(d, 0, HSNIC_RXS_DROP_DOWN), ==, 1);

    /* and everything works again once set up */
    txq_up(d, &t, 0);
    check_tx_works(d, &t, p);
    rxq_up(d, &r, 0, 0);
    check_rx_works(d, &r, p);
}

/* ---- Doorbell records: indexes from guest memory ---- */

static void test_db_records(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    uint64_t rec = guest_alloc(alloc, d->num_qp * sizeof(struct hsnic_db_rec));
    struct hsnic_db_rec zero = { 0 };
    uint8_t frame[128], got[FRAME_MAX];
    size_t len = frame_tcp4(frame, 60, 9, 0);
    uint64_t qerrs, ge;
    struct hsnic_tx_cmpl c;
    QHsnicTxq t;
    uint32_t tail;
    unsigned q;

    for (q = 0; q < d->num_qp; q++) {
        qtest_memwrite(qts_of(d), rec + q * sizeof(zero), &zero,
                       sizeof(zero));
    }
    qhsnic_set_addr(d, HSNIC_REG_DB_REC_LO, rec);
    qhsnic_wr(d, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE |
              HSNIC_DEV_CTRL_DB_REC);

    /* a notification of a disabled queue: a guest error, later */
    ge = guest_errors(d);
    qhsnic_wr(d, HSNIC_DB_TX(3), 5);
    qhsnic_wr(d, HSNIC_DB_RX_HDR(3), 5);
    qhsnic_run(d);
    g_assert_cmpuint(guest_errors(d), ==, ge + 2);

    /* the value written is ignored, the record's is used */
    txq_up(d, &t, 3);
    qhsnic_tx_post(d, &t, frame_buf(d, frame, len), len, HSNIC_TXD_EOP);
    tail = cpu_to_le32(t.tail);
    qtest_memwrite(qts_of(d), rec + 3 * sizeof(zero), &tail, sizeof(tail));
    qhsnic_wr(d, HSNIC_DB_TX(3), 0xdead);
    g_assert_true(qhsnic_tx_cmpl(d, &t, &c));
    g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 1000), ==, len);
    g_assert_cmpmem(got, len, frame, len);

    /* a record index out of range stops the queue */
    tail = cpu_to_le32(RING);
    qtest_memwrite(qts_of(d), rec + 3 * sizeof(zero), &tail, sizeof(tail));
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qhsnic_wr(d, HSNIC_DB_TX(3), 0);
    qhsnic_run(d);
    expect_queue_error(d, 3, false, HSNIC_ERR_TAIL, qerrs);

    /* records in unmapped memory: the next queue to look stops (DMA) */
    qhsnic_wr(d, HSNIC_REG_DB_REC_HI, UNMAPPED_ADDR >> 32);
    txq_up(d, &t, 3);
    qerrs = qhsnic_dstat(d, HSNIC_DSTAT_QUEUE_ERRORS);
    qhsnic_wr(d, HSNIC_DB_TX(3), 0);
    qhsnic_run(d);
    expect_queue_error(d, 3, false, HSNIC_ERR_DMA, qerrs);
}

/* ---- Hot-unplug of a device with its queues running ---- */

static void test_unplug_busy(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    QHsnic hp = { .alloc = alloc };
    QPCIDevice *dev;
    QHsnicTxq t;
    QHsnicRxq r;
    uint8_t frame[256];
    size_t len = frame_icmp4(frame, 100);
    int i;

    if (d->pci_dev.bus->not_hotpluggable) {
        g_test_skip("pci bus does not support hotplug");
        return;
    }
    /* a second hsnic, its queues running with frames in flight */
    qtest_qmp_device_add(qts, "hsnic", "hsnic_hp",
                         "{'addr': '0x06', 'netdev': 'hs1'}");
    dev = qpci_device_find(d->pci_dev.bus, QPCI_DEVFN(6, 0));
    g_assert(dev);
    hp.pci_dev = *dev;
    g_free(dev);
    qpci_device_enable(&hp.pci_dev);
    hp.bar = qpci_iomap(&hp.pci_dev, HSNIC_BAR_REGS, NULL);
    g_assert_cmphex(qhsnic_rd(&hp, HSNIC_REG_MAGIC), ==, HSNIC_MAGIC);
    qhsnic_wr(&hp, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE);
    txq_up(&hp, &t, 0);
    rxq_up(&hp, &r, 0, HDR_BUF_LEN);
    check_tx_works_hub(&hp, &t);
    for (i = 0; i < RING - 1; i++) {
        qhsnic_tx_post(&hp, &t, frame_buf(&hp, frame, len), len,
                       HSNIC_TXD_EOP);
    }
    qhsnic_tx_ring(&hp, &t);

    /* unplugged before its bottom halves ran */
    qpci_unplug_acpi_device_test(qts, "hsnic_hp", 0x06);
    qhsnic_run(d);

    /* the first one still works */
    txq_up(d, &t, 1);
    check_tx_works(d, &t, p);
}

/* ---- (11) Migration streams with fields out of range ---- */

#define MIG_MARKER      0x00007e57a1f00000ULL   /* a queue's DESC address */
#define MIG_VEC_MARKER  0x5eb7c0deu             /* vector 4's IRQ_MOD */
/*
 * A vector in the stream: armed (1 byte), pending (1), npending (4), mod
 * (4), its timer's expiry (8, -1 if not pending), rx_pending (1), txmod
 * (4); vector 0 follows DEV_CTRL, EVT_CAUSE, EVT_MASK, RX_MODE, ERR_CODE
 * and STAT_LATCH (4 bytes each).
 */
#define MIG_VEC_SIZE    23
#define MIG_VEC_MOD     6
#define MIG_VEC_TIMER   10

/* Offset of field @off of vector @v from vector 4's IRQ_MOD. */
static long mig_vec(unsigned v, int off)
{
    return ((long)v - 4) * MIG_VEC_SIZE - MIG_VEC_MOD + off;
}

/* Find @marker (big endian, @len bytes) exactly once in @buf. */
static size_t mig_find(const uint8_t *buf, size_t len, uint64_t marker,
                       size_t mlen)
{
    uint8_t m[8];
    size_t i, at = 0;

    if (mlen == 8) {
        stq_be_p(m, marker);
    } else {
        stl_be_p(m, marker);
    }
    for (i = 0; i + mlen <= len; i++) {
        if (!memcmp(buf + i, m, mlen)) {
            g_assert_cmpuint(at, ==, 0);        /* exactly once */
            at = i;
        }
    }
    g_assert_cmpuint(at, !=, 0);
    return at;
}

/* Wait for the migration to end; returns its final status. */
static char *migration_wait(QTestState *qts)
{
    int i;

    for (i = 0; i < 600; i++) {
        QDict *r = qtest_qmp_assert_success_ref(qts,
                                                "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(r, "status");
        char *ret = NULL;

        if (st && (!strcmp(st, "completed") || !strcmp(st, "failed"))) {
            ret = g_strdup(st);
        }
        qobject_unref(r);
        if (ret) {
            return ret;
        }
        g_usleep(50 * 1000);
    }
    g_assert_not_reached();
}

/* Load @path into a fresh QEMU; returns whether the load succeeded. */
static bool migration_load(const char *path, const char *dev_opts)
{
    QTestState *dst = qtest_initf("-M pc -device hsnic,%s "
                                  "-netdev hubport,hubid=0,id=hs0 "
                                  "-incoming defer", dev_opts);
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree char *st = NULL;

    qtest_qmp_assert_success(dst, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s, "
                             "'exit-on-error': false}}", uri);
    st = migration_wait(dst);
    /* QEMU is still there and answers */
    qtest_qmp_assert_success(dst, "{'execute': 'query-status'}");
    qtest_quit(dst);
    return !strcmp(st, "completed");
}

static void test_migration_bad(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    QTestState *qts = qts_of(d);
    g_autofree char *path = g_strdup_printf("%s/hsnic-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL, *st = NULL;
    g_autofree uint8_t *buf = NULL;
    static const struct {
        unsigned off;           /* from the marker (desc_addr) */
        uint32_t val;
        const char *what;
    } bad[] = {
        { 36, RING, "HEAD == RING_SIZE" },
        { 44, 0x8000, "CMPL_IDX past the ring" },
        { 24, 12, "RING_SIZE not a power of two" },
        { 32, 0xff, "STATUS with undefined bits" },
        { 48, 0x10000, "HDR_HEAD past the ring" },
        { 28, HSNIC_Q_CTRL_ENABLE | HSNIC_RXQ_CTRL_HDS | 0x100,
          "CTRL with undefined bits" },
        { 28, HSNIC_RXQ_CTRL_HDS, "CTRL.ENABLE clear, STATUS enabled" },
    };
    /*
     * Fields of vector @vec patched, at @off (negative: the registers
     * before vector 0), @len bytes; a @len of 0 ends the list.
     */
    static const struct {
        struct {
            unsigned vec;
            int off;
            unsigned len;
            uint64_t val;
        } p[4];
        const char *what;
    } bad_vec[] = {
        { { { 40, 0, 1, 1 }, { 40, 1, 1, 1 }, { 40, 2, 4, 1 },
            { 40, MIG_VEC_TIMER, 8, 0 } },
          "vector 40 (of 5) armed, pending and due" },
        { { { 0, 0, 1, 1 } }, "vector 0 (events) armed" },
        { { { 40, MIG_VEC_MOD, 4, 3 } }, "vector 40 with an IRQ_MOD value" },
        { { { 7, MIG_VEC_TIMER, 8, 0 } }, "vector 7 with its timer running" },
        { { { 0, -16, 4, 0x80000000u } }, "EVT_MASK with undefined bits" },
        { { { 0, -12, 4, 0x100 } }, "RX_MODE with undefined bits" },
        { { { 0, -8, 4, 0x10000 } }, "ERR_CODE with undefined bits" },
    };
    gsize len;
    size_t i, at, vat;
    int fd = g_mkstemp(path);
    const char *dev_opts = "netdev=hs0,queue-pairs=4,max-ring=256";

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    /* RX queue 2 enabled with header split, its rings at MIG_MARKER */
    qhsnic_set_addr(d, HSNIC_RXQ_REG(2, HSNIC_Q_DESC_LO), MIG_MARKER);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_Q_CMPL_HI), 1);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_RXQ_HDR_HI), 2);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_Q_RING_SIZE), RING);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_RXQ_BUF_LEN), BUF_LEN);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_RXQ_HDR_BUF_LEN), HDR_BUF_LEN);
    qhsnic_wr(d, HSNIC_RXQ_REG(2, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE |
              HSNIC_RXQ_CTRL_HDS);
    g_assert_cmphex(qhsnic_rd(d, HSNIC_RXQ_REG(2, HSNIC_Q_STATUS)), ==,
                    HSNIC_Q_STATUS_ENABLED);
    qhsnic_wr(d, HSNIC_REG_IRQ_MOD(4), MIG_VEC_MARKER);

    uri = g_strdup_printf("file:%s", path);
    qtest_qmp_assert_success(qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    st = migration_wait(qts);
    g_assert_cmpstr(st, ==, "completed");
    g_assert_true(g_file_get_contents(path, (char **)&buf, &len, NULL));

    /* the queue's state in the stream: vmstate fields are big endian */
    at = mig_find(buf, len, MIG_MARKER, 8);
    g_assert_cmpuint(ldl_be_p(buf + at + 24), ==, RING);
    /* the vectors: no timer runs on vector 40, vector 5 follows 4 */
    vat = mig_find(buf, len, MIG_VEC_MARKER, 4);
    g_assert_cmpuint(vat + mig_vec(40, MIG_VEC_TIMER) + 8, <=, len);
    g_assert_cmphex(ldq_be_p(buf + vat + mig_vec(40, MIG_VEC_TIMER)), ==,
                    UINT64_MAX);
    g_assert_cmphex(ldl_be_p(buf + vat + mig_vec(5, MIG_VEC_MOD)), ==, 0);

    /* the stream as saved loads */
    g_assert_true(migration_load(path, dev_opts));

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        uint32_t old = ldl_be_p(buf + at + bad[i].off);

        g_test_message("stream with %s", bad[i].what);
        stl_be_p(buf + at + bad[i].off, bad[i].val);
        g_assert_true(g_file_set_contents(path, (char *)buf, len, NULL));
        g_assert_false(migration_load(path, dev_opts));
        stl_be_p(buf + at + bad[i].off, old);
    }
    for (i = 0; i < ARRAY_SIZE(bad_vec); i++) {
        g_autofree uint8_t *copy = g_memdup2(buf, len);
        unsigned j;

        g_test_message("stream with %s", bad_vec[i].what);
        for (j = 0; j < ARRAY_SIZE(bad_vec[i].p) && bad_vec[i].p[j].len;
             j++) {
            uint8_t *f = copy + vat + mig_vec(bad_vec[i].p[j].vec,
                                              bad_vec[i].p[j].off);

            switch (bad_vec[i].p[j].len) {
            case 1:
                *f = bad_vec[i].p[j].val;
                break;
            case 4:
                stl_be_p(f, bad_vec[i].p[j].val);
                break;
            default:
                stq_be_p(f, bad_vec[i].p[j].val);
                break;
            }
        }
        g_assert_true(g_file_set_contents(path, (char *)copy, len, NULL));
        g_assert_false(migration_load(path, dev_opts));
    }
    /* and with another number of queue pairs */
    g_assert_true(g_file_set_contents(path, (char *)buf, len, NULL));
    g_assert_false(migration_load(path,
                                  "netdev=hs0,queue-pairs=2,max-ring=256"));
    unlink(path);
}

/*
 * ---- Migration of a busy device between two QEMU processes ----
 *
 * The source has sent and received frames (indexes and generations are
 * somewhere in the rings, an RX frame's buffers are posted, a vector is
 * armed); the destination must carry on exactly there: the next TX
 * frame posted goes out intact with its completion in the next slot,
 * the next received frame lands in the next buffer.
 */
static void test_migration_busy(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    g_autofree char *path = g_strdup_printf("%s/hsnic-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL, *st = NULL;
    uint8_t frame[256], got[FRAME_MAX];
    size_t len = frame_tcp4(frame, 100, 0x33, 0);
    uint64_t next_tx = frame_buf(d, frame, len);
    QHsnic dst_dev = { .alloc = alloc };
    QHsnicTxq t;
    QHsnicRxq r;
    QPCIBus *bus;
    QPCIDevice *dev;
    QTestState *dst;
    Peer dp;
    int i, n, fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    txq_up(d, &t, 1);
    rxq_up(d, &r, 1, 0);
    /* steer everything to queue pair 1 */
    qhsnic_wr(d, HSNIC_RULE(0) + HSNIC_RULE_DEST, 1);
    qhsnic_wr(d, HSNIC_RULE(0) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (HSNIC_ACTION_QUEUE << HSNIC_RULE_ACTION_SHIFT) |
              (HSNIC_FLOW_IP4 << HSNIC_RULE_FLOW_SHIFT));
    for (i = 0; i < RING + 5; i++) {
        check_tx_works(d, &t, p);
    }
    for (i = 0; i < 5; i++) {
        check_rx_works(d, &r, p);
    }
    qhsnic_wr(d, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(1)), HSNIC_IRQ_ARM);

    uri = g_strdup_printf("file:%s", path);
    qtest_qmp_assert_success(qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    st = migration_wait(qts);
    g_assert_cmpstr(st, ==, "completed");

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, dp.fd), ==, 0);
    dst = qtest_initf("-M pc -device hsnic,netdev=hs0,queue-pairs=4,"
                      "max-ring=256 -netdev socket,fd=%d,id=hs0 "
                      "-incoming defer", dp.fd[1]);
    qtest_qmp_assert_success(dst, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s}}", uri);
    g_free(st);
    st = migration_wait(dst);
    g_assert_cmpstr(st, ==, "completed");
    qtest_qmp_assert_success(dst, "{'execute': 'cont'}");

    /* the same device, seen from the destination */
    bus = qpci_new_pc(dst, NULL);
    dev = qpci_device_find(bus, d->pci_dev.devfn);
    g_assert(dev);
    dst_dev.pci_dev = *dev;
    dst_dev.pci_dev.msix_enabled = d->pci_dev.msix_enabled;
    dst_dev.pci_dev.msix_table_bar = d->pci_dev.msix_table_bar;
    dst_dev.pci_dev.msix_table_off = d->pci_dev.msix_table_off;
    dst_dev.pci_dev.msix_pba_bar = d->pci_dev.msix_pba_bar;
    dst_dev.pci_dev.msix_pba_off = d->pci_dev.msix_pba_off;
    dst_dev.bar = d->bar;
    dst_dev.num_qp = d->num_qp;
    g_free(dev);
    g_assert_cmphex(qhsnic_rd(&dst_dev, HSNIC_REG_MAGIC), ==, HSNIC_MAGIC);
    g_assert_cmphex(qhsnic_rd(&dst_dev, HSNIC_TXQ_REG(1, HSNIC_Q_STATUS)),
                    ==, HSNIC_Q_STATUS_ENABLED);
    g_assert_cmpuint(qhsnic_rd(&dst_dev, HSNIC_TXQ_REG(1, HSNIC_Q_HEAD)),
                     ==, t.tail);
    g_assert_cmpuint(qhsnic_rx_qstat(&dst_dev, 1, HSNIC_RXS_PACKETS), ==, 5);

    /* TX carries on: next slot, the wrapped generation */
    qtest_memwrite(dst, next_tx, frame, len);
    qhsnic_tx_post(&dst_dev, &t, next_tx, len, HSNIC_TXD_EOP);
    qhsnic_tx_ring(&dst_dev, &t);
    {
        struct hsnic_tx_cmpl c;

        g_assert_true(qhsnic_tx_cmpl(&dst_dev, &t, &c));
        g_assert_cmpuint(le16_to_cpu(c.status), ==, HSNIC_TX_OK);
        g_assert_cmpuint(le32_to_cpu(c.head), ==, t.tail);
    }
    /* (after the RARP frames QEMU announces a migrated NIC with) */
    do {
        n = peer_recv(&dp, got, sizeof(got), 1000);
    } while (n == 60 && lduw_be_p(got + 12) == 0x8035);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, len, frame, len);
    /* and RX, into the next buffer, raising the armed vector */
    check_rx_works(&dst_dev, &r, &dp);
    g_assert_true(qpci_msix_pending(&dst_dev.pci_dev, HSNIC_VEC_QP(1)));
    /* nothing came out of the source after it stopped */
    g_assert_cmpint(peer_recv(p, got, sizeof(got), 0), ==, -1);

    qpci_free_pc(bus);
    qtest_quit(dst);
    close(dp.fd[0]);
    close(dp.fd[1]);
    unlink(path);
}

/* ---- (15) Introspection: x-state (QMP) and info hsnic (HMP) ---- */

/* The QOM path of the (only) hsnic device, added without an id. */
static char *hsnic_qom_path(QTestState *qts)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-list', 'arguments': "
                            "{'path': '/machine/peripheral-anon'}}");
    QListEntry *e;
    char *path = NULL;

    g_assert(qdict_haskey(resp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), e) {
        QDict *p = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(p, "type"), "child<hsnic>")) {
            g_assert_null(path);
            path = g_strdup_printf("/machine/peripheral-anon/%s",
                                   qdict_get_str(p, "name"));
        }
    }
    qobject_unref(resp);
    g_assert_nonnull(path);
    return path;
}

/* The entry of @list whose member @key is @val. */
static QDict *state_find(QDict *st, const char *list, const char *key,
                         int64_t val)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(st, list), e) {
        QDict *q = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(q, key) == val) {
            return q;
        }
    }
    g_assert_not_reached();
}

static void test_state(void *obj, void *data, QGuestAllocator *alloc)
{
    QHsnic *d = obj;
    Peer *p = data;
    QTestState *qts = qts_of(d);
    QHsnicTxq t;
    QHsnicRxq r;
    struct hsnic_rx_cmpl rc;
    uint8_t frame[256];
    size_t len = frame_tcp4(frame, 100, 0, 0);
    g_autofree char *path = hsnic_qom_path(qts);
    QDict *resp, *st, *q;
    QList *indir;
    char *hmp;

    txq_up(d, &t, 1);
    rxq_up(d, &r, 2, HDR_BUF_LEN);
    /* rule 5: TCP/IPv4 to port 80 goes to RX queue 2 */
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_DEST, 2 << HSNIC_RULE_QUEUE_SHIFT);
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_PORTS,
              80 << HSNIC_RULE_DPORT_SHIFT);
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_PORTS_MASK,
              HSNIC_RULE_DPORT_MASK);
    qhsnic_wr(d, HSNIC_RULE(5) + HSNIC_RULE_CTRL, HSNIC_RULE_VALID |
              (HSNIC_ACTION_QUEUE << HSNIC_RULE_ACTION_SHIFT) |
              (HSNIC_FLOW_TCP4 << HSNIC_RULE_FLOW_SHIFT));
    /* RSS context 0: indirection entries 0-3 */
    qhsnic_wr(d, HSNIC_RSS(0) + HSNIC_RSS_INDIR(0), 0x00010203);
    check_tx_works(d, &t, p);
    peer_send(p, frame, len);
    g_assert_true(qhsnic_rx_cmpl(d, &r, &rc));

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': %s, 'property': 'x-state'}}", path);
    g_assert(qdict_haskey(resp, "return"));
    st = qdict_get_qdict(resp, "return");
    g_assert_cmpint(qdict_get_int(st, "queue-pairs"), ==, d->num_qp);
    g_assert_true(qdict_get_bool(st, "enabled"));
    g_assert_cmpint(qlist_size(qdict_get_qlist(st, "txq")), ==, d->num_qp);

    q = state_find(st, "txq", "queue", 1);
    g_assert_true(qdict_get_bool(q, "enabled"));
    g_assert_cmpint(qdict_get_int(q, "status"), ==, HSNIC_Q_STATUS_ENABLED);
    g_assert_cmpint(qdict_get_int(q, "error"), ==, 0);
    g_assert_cmpint(qdict_get_int(q, "ring-size"), ==, RING);
    g_assert_cmpint(t.tail, ==, 1);
    g_assert_cmpint(qdict_get_int(q, "tail"), ==, t.tail);
    g_assert_cmpint(qdict_get_int(q, "head"), ==, t.tail);
    g_assert_cmpint(qdict_get_int(q, "cmpl-idx"), ==, 1);
    g_assert_true(qdict_get_bool(q, "gen"));
    g_assert_cmpint(qdict_get_int(q, "vector"), ==, HSNIC_VEC_QP(1));
    g_assert_cmpstr(qdict_get_str(q, "doorbell"), ==, "mmio");
    q = state_find(st, "txq", "queue", 0);
    g_assert_false(qdict_get_bool(q, "enabled"));

    q = state_find(st, "rxq", "queue", 2);
    g_assert_true(qdict_get_bool(q, "enabled"));
    g_assert_true(qdict_get_bool(q, "hds"));
    g_assert_cmpint(qdict_get_int(q, "ring-size"), ==, RING);
    g_assert_cmpint(qdict_get_int(q, "tail"), ==, RING - 1);
    g_assert_cmpint(qdict_get_int(q, "head"), ==, 1);
    g_assert_cmpint(qdict_get_int(q, "hdr-tail"), ==, RING - 1);
    g_assert_cmpint(qdict_get_int(q, "hdr-head"), ==, 1);
    g_assert_cmpint(qdict_get_int(q, "cmpl-idx"), ==, 1);

    q = state_find(st, "rss", "context", 0);
    indir = qdict_get_qlist(q, "indir");
    g_assert_cmpint(qlist_size(indir), ==, HSNIC_RSS_INDIR_SIZE);
    g_assert_cmpint(qnum_get_int(qobject_to(QNum, qlist_peek(indir))), ==,
                    3);
    g_assert_cmpint(strlen(qdict_get_str(q, "key")), ==,
                    2 * HSNIC_RSS_KEY_SIZE);

    g_assert_cmpint(qlist_size(qdict_get_qlist(st, "rules")), ==, 1);
    q = state_find(st, "rules", "rule", 5);
    g_assert_cmpint(qdict_get_int(q, "flow"), ==, HSNIC_FLOW_TCP4);
    g_assert_cmpint(qdict_get_int(q, "action"), ==, HSNIC_ACTION_QUEUE);
    g_assert_cmpint(qdict_get_int(q, "queue"), ==, 2);
    g_assert_cmpint(qdict_get_int(q, "dport"), ==, 80);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(st, "stats"),
                                  "guest-errors"), ==, 0);
    qobject_unref(resp);

    hmp = qtest_hmp(qts, "info hsnic");
    g_assert_nonnull(strstr(hmp, "  tx1  on     0x1   0    16     1     1"
                            "     1   1   2 mmio"));
    g_assert_nonnull(strstr(hmp, "  rx2  on     0x1   0    16     1    15"
                            "     1   1   3 mmio           hds=on hdr 1/15"));
    g_assert_nonnull(strstr(hmp, "  rule 5: flow 1 action 0 queue 2 "));
    g_assert_nonnull(strstr(hmp, "indir[  0]: 3 2 1 0 0"));
    g_free(hmp);
}

static void peer_destroy(void *data)
{
    Peer *p = data;

    close(p->fd[0]);
    qos_invalidate_command_line();
    close(p->fd[1]);
    g_free(p);
}

static void *peer_init(GString *cmd_line, void *arg)
{
    Peer *p = g_new0(Peer, 1);
    int ret = socketpair(PF_UNIX, SOCK_STREAM, 0, p->fd);

    g_assert_cmpint(ret, !=, -1);
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 "
                           "-netdev hubport,hubid=1,id=hs1 ", p->fd[1]);
    g_test_queue_destroy(peer_destroy, p);
    return p;
}

static void register_hsnic_test(void)
{
    QOSGraphTestOptions opts = { .before = peer_init };

    qos_add_test("tx-lengths", "hsnic", test_tx_lengths, &opts);
    qos_add_test("ring-config", "hsnic", test_ring_config, &opts);
    qos_add_test("tso-segments", "hsnic", test_tso_segments, &opts);
    qos_add_test("tx-no-eop", "hsnic", test_tx_no_eop, &opts);
    qos_add_test("tx-no-eop-doorbells", "hsnic", test_tx_no_eop_doorbells,
                 &opts);
    qos_add_test("rsc-flush-guarded", "hsnic", test_rsc_flush_guarded,
                 &opts);
    qos_add_test("rsc-gro-rules", "hsnic", test_rsc_gro_rules, &opts);
    qos_add_test("msix-on-bar0", "hsnic", test_msix_on_bar0, &opts);
    qos_add_test("fault-props", "hsnic", test_fault_props, &opts);
    qos_add_test("dma-to-self", "hsnic", test_dma_to_self, &opts);
    qos_add_test("unmapped-dma", "hsnic", test_unmapped_dma, &opts);
    qos_add_test("out-of-range", "hsnic", test_out_of_range, &opts);
    qos_add_test("hds-edges", "hsnic", test_hds_edges, &opts);
    qos_add_test("loopback", "hsnic", test_loopback, &opts);
    qos_add_test("stop-while-waiting", "hsnic", test_stop_while_waiting,
                 &opts);
    qos_add_test("reset-in-flight", "hsnic", test_reset_in_flight, &opts);
    qos_add_test("db-records", "hsnic", test_db_records, &opts);
    qos_add_test("unplug-busy", "hsnic", test_unplug_busy, &opts);
    qos_add_test("migration-bad-fields", "hsnic", test_migration_bad, &opts);
    qos_add_test("migration-busy", "hsnic", test_migration_busy, &opts);
    qos_add_test("state", "hsnic", test_state, &opts);
}

libqos_init(register_hsnic_test);
