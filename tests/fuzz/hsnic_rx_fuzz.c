/*
 * hsnic receive-side fuzzer
 *
 * Each input programs the device as a driver would (PCI bus master,
 * MSI-X, RX queues with their payload, header and completion rings, RSS
 * contexts, flow rules, header split, RSC, doorbell records), then
 * injects frames from the input into the NIC's backend and lets the
 * input interleave driver actions with them (reposting buffers, toggling
 * RSC, queues, bus mastering, the device's ENABLE and RESET bits,
 * advancing the clock). The frames reach the device through
 * qemu_send_packet() on its -netdev, as a socket backend would hand them
 * over, so the net layer's queueing of frames the device cannot take yet
 * is part of the path. Every run starts from a system reset and ends
 * with one; its work is bounded by HSNIC_FUZZ_MAX_OPS.
 *
 * Input layout (see docs/fuzzing.md): a fixed-size HsnicFuzzConfig
 * (missing bytes read as zero), then operations, each
 * [opcode][length, 16 bits LE][length bytes of operand].
 *
 * Register offsets, bits and structures all come from
 * include/hsnic_abi.h.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"

#include "net/net.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "hsnic_fuzz.h"

#define HSNIC_FUZZ_NETDEV       "hsnicfuzz0"
#define HSNIC_FUZZ_QP           4       /* queue-pairs of the device */
#define HSNIC_FUZZ_MAX_OPS      256     /* operations per input */
#define HSNIC_FUZZ_MAX_TRAIN    80      /* segments per TCP train */
#define HSNIC_FUZZ_NRULES       4       /* rules the config can program */
#define HSNIC_FUZZ_NINDIR       16      /* indirection bytes in the config */
#define HSNIC_FUZZ_FRAME_MAX    (HSNIC_MAX_FRAME + 64)

/* Guest memory layout: one 16 MiB window per queue, above 256 MiB. */
#define HSNIC_FUZZ_RAM          "512M"
#define HSNIC_FUZZ_MSI_ADDR     0x0e000000ULL   /* MSI-X messages land here */
#define HSNIC_FUZZ_DBREC_ADDR   0x0f000000ULL
#define HSNIC_FUZZ_Q_BASE(q)    (0x10000000ULL + (uint64_t)(q) * 0x1000000)
#define HSNIC_FUZZ_DESC(q)      (HSNIC_FUZZ_Q_BASE(q) + 0x0000)
#define HSNIC_FUZZ_HDRRING(q)   (HSNIC_FUZZ_Q_BASE(q) + 0x1000)
#define HSNIC_FUZZ_CMPL(q)      (HSNIC_FUZZ_Q_BASE(q) + 0x2000)
#define HSNIC_FUZZ_HDRBUF(q)    (HSNIC_FUZZ_Q_BASE(q) + 0x10000)
#define HSNIC_FUZZ_PAYBUF(q)    (HSNIC_FUZZ_Q_BASE(q) + 0x100000)
#define HSNIC_FUZZ_PAYBUF_SIZE  0xf00000ULL
/* A descriptor address no RAM backs, for the DMA error paths. */
#define HSNIC_FUZZ_BAD_ADDR     0xfff0000000000000ULL

#define HSNIC_FUZZ_MAX_ORDER    6       /* rings of 8 .. 256 entries */
#define HSNIC_FUZZ_RING_MAX     (HSNIC_MIN_RING << (HSNIC_FUZZ_MAX_ORDER - 1))

/* misc bits of HsnicFuzzConfig */
#define HSNIC_FUZZ_M_DB_REC     (1u << 0)   /* doorbell records on */
#define HSNIC_FUZZ_M_ARM        (1u << 1)   /* arm the queue vectors */
#define HSNIC_FUZZ_M_BAD_DESC   (1u << 2)   /* one payload desc unbacked */
#define HSNIC_FUZZ_M_BAD_HDR    (1u << 3)   /* one header desc unbacked */
#define HSNIC_FUZZ_M_MOD        (1u << 4)   /* interrupt moderation */
#define HSNIC_FUZZ_M_NO_MSIX    (1u << 5)   /* leave MSI-X disabled */

/* flags of OP_FRAME_FIX and OP_TCP_TRAIN */
#define HSNIC_FUZZ_F_LEN        (1u << 0)   /* fix IP and UDP lengths */
#define HSNIC_FUZZ_F_CSUM       (1u << 1)   /* fix IPv4, TCP, UDP csums */
#define HSNIC_FUZZ_F_PAD        (1u << 2)   /* zero-pad to pad_to */
#define HSNIC_FUZZ_F_PAD64K     (1u << 3)   /* pad_to + 64 KiB */
#define HSNIC_FUZZ_F_PSH_LAST   (1u << 4)   /* train: PSH on the last */
#define HSNIC_FUZZ_F_SHORT_MID  (1u << 5)   /* train: a short segment */
#define HSNIC_FUZZ_F_SEQ_GAP    (1u << 6)   /* train: a hole in seq */

typedef struct QEMU_PACKED HsnicFuzzRule {
    uint32_t ctrl;
    uint32_t dest;
    uint32_t ports;
    uint32_t ports_mask;
    uint32_t proto;
    uint32_t src;
    uint32_t src_mask;
    uint32_t dst;
    uint32_t dst_mask;
} HsnicFuzzRule;

typedef struct QEMU_PACKED HsnicFuzzConfig {
    uint8_t nq;             /* RX queues enabled: 1 + nq % QP */
    uint8_t ring_order;     /* RING_SIZE: MIN_RING << (x % MAX_ORDER) */
    uint8_t buf_len;        /* BUF_LEN: see hsnic_fuzz_buf_len() */
    uint8_t hdr_buf_len;    /* HDR_BUF_LEN: MIN_RX_BUF + ALIGN * (x % 16) */
    uint8_t hds_thresh;     /* HDS_THRESH: 8 * x bytes */
    uint8_t qflags;         /* bit q: HDS on queue q, bit 4 + q: RSC */
    uint8_t rx_mode;        /* RX_MODE */
    uint8_t unposted;       /* buffers left unposted at start */
    uint8_t misc;           /* HSNIC_FUZZ_M_* */
    uint8_t nrules;         /* rules programmed: x % (NRULES + 1) */
    uint8_t bad_slot;       /* slot with the unbacked descriptor */
    uint8_t irq_mod;        /* IRQ_MOD: USECS = x, FRAMES = x >> 4 */
    uint32_t rss_ctrl[2];   /* RSS contexts 0 and 1 */
    uint32_t rss_fields[2];
    uint8_t rss_key[HSNIC_RSS_KEY_SIZE];
    uint8_t indir[HSNIC_FUZZ_NINDIR];
    HsnicFuzzRule rule[HSNIC_FUZZ_NRULES];
} HsnicFuzzConfig;

enum {
    OP_FRAME = 0,       /* operand: the frame, as is */
    OP_FRAME_FIX,       /* [flags][pad_to 16 LE][frame], fixed up */
    OP_TCP_TRAIN,       /* [count][flags][frame]: consecutive segments */
    OP_POST,            /* [queue][payload bufs][header bufs] */
    OP_RECYCLE,         /* repost every consumed buffer of every queue */
    OP_CLOCK,           /* [ns / 1000, 16 LE], or to the next deadline */
    OP_QCTRL,           /* [queue][CTRL value] */
    OP_REG,             /* [offset 16 LE][value 32 LE] rule/RSS register */
    OP_PCI_CMD,         /* [value]: bit 0 = bus master */
    OP_DEV_CTRL,        /* [DEV_CTRL value] */
    OP_CONFIG,          /* [offset][size][value 32]: config space write */
    OP_MSIX_SELF,       /* [vec][where][off 16][data 32]: MSI-X at itself */
    OP_NUM,
};

typedef struct HsnicFuzz {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    NetClientState *nc;
    HsnicFuzzConfig cfg;
    uint32_t ring_size;
    uint32_t buf_len;
    uint32_t hdr_buf_len;
    unsigned nq;
    bool db_rec;
    uint32_t tail[HSNIC_FUZZ_QP];
    uint32_t hdr_tail[HSNIC_FUZZ_QP];
} HsnicFuzz;

static int hsnic_devfn = -1;
static uint8_t frame[HSNIC_FUZZ_FRAME_MAX] QEMU_ALIGNED(16);
/*
 * Zeroes for guest memory: the fuzzer's qtest_memset() wrapper leaks its
 * buffer (tests/qtest/fuzz/qtest_wrappers.c), so memwrite this instead.
 */
static const uint8_t zeroes[HSNIC_FUZZ_RING_MAX *
                            sizeof(struct hsnic_rx_cmpl)];

static void hsnic_wr(HsnicFuzz *f, uint32_t reg, uint32_t val)
{
    qpci_io_writel(f->dev, f->bar, reg, val);
}

static uint32_t hsnic_rd(HsnicFuzz *f, uint32_t reg)
{
    return qpci_io_readl(f->dev, f->bar, reg);
}

static void hsnic_wr_q(HsnicFuzz *f, unsigned q, uint32_t reg, uint64_t val)
{
    hsnic_wr(f, HSNIC_RXQ_REG(q, reg), (uint32_t)val);
    hsnic_wr(f, HSNIC_RXQ_REG(q, reg + 4), (uint32_t)(val >> 32));
}

/* Payload buffer lengths: small ones (many buffers per frame) to 64 KiB. */
static uint32_t hsnic_fuzz_buf_len(uint8_t x, uint32_t ring_size)
{
    uint32_t len;

    if (x >= 0xf0) {
        len = HSNIC_MAX_RX_BUF;
    } else {
        len = HSNIC_MIN_RX_BUF + HSNIC_RX_BUF_ALIGN * (x % 64);
    }
    /* All buffers of a queue must fit in its window. */
    while ((uint64_t)len * ring_size > HSNIC_FUZZ_PAYBUF_SIZE) {
        len /= 2;
    }
    return QEMU_ALIGN_DOWN(len, HSNIC_RX_BUF_ALIGN);
}

/* Tell the device about f->tail[q] and f->hdr_tail[q]. */
static void hsnic_fuzz_doorbell(HsnicFuzz *f, unsigned q, bool hdr)
{
    if (f->db_rec) {
        uint64_t rec = HSNIC_FUZZ_DBREC_ADDR +
                       q * sizeof(struct hsnic_db_rec);

        qtest_writel(f->qts, rec + offsetof(struct hsnic_db_rec, rx_tail),
                     f->tail[q]);
        qtest_writel(f->qts,
                     rec + offsetof(struct hsnic_db_rec, rx_hdr_tail),
                     f->hdr_tail[q]);
    }
    hsnic_wr(f, hdr ? HSNIC_DB_RX_HDR(q) : HSNIC_DB_RX(q),
             hdr ? f->hdr_tail[q] : f->tail[q]);
}

static void hsnic_fuzz_setup_queue(HsnicFuzz *f, unsigned q)
{
    const HsnicFuzzConfig *c = &f->cfg;
    bool hds = c->qflags & (1u << q);
    bool rsc = c->qflags & (0x10u << q);
    uint32_t ctrl = HSNIC_Q_CTRL_ENABLE;
    uint64_t pay_ring[HSNIC_FUZZ_RING_MAX];
    uint64_t hdr_ring[ARRAY_SIZE(pay_ring)];
    uint32_t i, posted;

    /* Rings: every slot names a buffer, completions zeroed. */
    for (i = 0; i < f->ring_size; i++) {
        uint64_t pay = HSNIC_FUZZ_PAYBUF(q) + (uint64_t)i * f->buf_len;
        uint64_t hdr = HSNIC_FUZZ_HDRBUF(q) + (uint64_t)i * f->hdr_buf_len;

        if ((c->misc & HSNIC_FUZZ_M_BAD_DESC) &&
            i == c->bad_slot % f->ring_size) {
            pay = HSNIC_FUZZ_BAD_ADDR;
        }
        if ((c->misc & HSNIC_FUZZ_M_BAD_HDR) &&
            i == c->bad_slot % f->ring_size) {
            hdr = HSNIC_FUZZ_BAD_ADDR;
        }
        pay_ring[i] = cpu_to_le64(pay);
        hdr_ring[i] = cpu_to_le64(hdr);
    }
    qtest_memwrite(f->qts, HSNIC_FUZZ_DESC(q), pay_ring,
                   f->ring_size * sizeof(struct hsnic_rx_desc));
    qtest_memwrite(f->qts, HSNIC_FUZZ_HDRRING(q), hdr_ring,
                   f->ring_size * sizeof(struct hsnic_rx_desc));
    qtest_memwrite(f->qts, HSNIC_FUZZ_CMPL(q), zeroes,
                   f->ring_size * sizeof(struct hsnic_rx_cmpl));

    hsnic_wr_q(f, q, HSNIC_Q_DESC_LO, HSNIC_FUZZ_DESC(q));
    hsnic_wr_q(f, q, HSNIC_Q_CMPL_LO, HSNIC_FUZZ_CMPL(q));
    hsnic_wr_q(f, q, HSNIC_RXQ_HDR_LO, HSNIC_FUZZ_HDRRING(q));
    hsnic_wr(f, HSNIC_RXQ_REG(q, HSNIC_Q_RING_SIZE), f->ring_size);
    hsnic_wr(f, HSNIC_RXQ_REG(q, HSNIC_RXQ_BUF_LEN), f->buf_len);
    hsnic_wr(f, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_BUF_LEN), f->hdr_buf_len);
    hsnic_wr(f, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDS_THRESH), 8 * c->hds_thresh);
    if (hds) {
        ctrl |= HSNIC_RXQ_CTRL_HDS;
    }
    if (rsc) {
        ctrl |= HSNIC_RXQ_CTRL_RSC;
    }
    hsnic_wr(f, HSNIC_RXQ_REG(q, HSNIC_Q_CTRL), ctrl);

    posted = f->ring_size - 1 - c->unposted % f->ring_size;
    f->tail[q] = posted % f->ring_size;
    f->hdr_tail[q] = hds ? f->tail[q] : 0;
    if (f->db_rec) {
        qtest_memwrite(f->qts, HSNIC_FUZZ_DBREC_ADDR +
                       q * sizeof(struct hsnic_db_rec), zeroes,
                       sizeof(struct hsnic_db_rec));
    }
    hsnic_fuzz_doorbell(f, q, false);
    if (hds) {
        hsnic_fuzz_doorbell(f, q, true);
    }
}

static void hsnic_fuzz_setup_rss(HsnicFuzz *f, unsigned ctx)
{
    const HsnicFuzzConfig *c = &f->cfg;
    unsigned i;

    for (i = 0; i < HSNIC_RSS_KEY_SIZE / 4; i++) {
        hsnic_wr(f, HSNIC_RSS(ctx) + HSNIC_RSS_KEY(i),
                 ldl_le_p(c->rss_key + 4 * ((i + ctx) %
                                            (HSNIC_RSS_KEY_SIZE / 4))));
    }
    for (i = 0; i < HSNIC_RSS_INDIR_SIZE / 4; i++) {
        uint32_t v = 0;
        unsigned k;

        /* Entries past the enabled queues (and pairs) are allowed. */
        for (k = 0; k < 4; k++) {
            uint8_t e = c->indir[(4 * i + k + 8 * ctx) % HSNIC_FUZZ_NINDIR];

            v |= (uint32_t)(e % (HSNIC_FUZZ_QP + 2)) << (8 * k);
        }
        hsnic_wr(f, HSNIC_RSS(ctx) + HSNIC_RSS_INDIR(i), v);
    }
    hsnic_wr(f, HSNIC_RSS(ctx) + HSNIC_RSS_FIELDS,
             le32_to_cpu(c->rss_fields[ctx]));
    hsnic_wr(f, HSNIC_RSS(ctx) + HSNIC_RSS_CTRL,
             le32_to_cpu(c->rss_ctrl[ctx]));
}

static void hsnic_fuzz_setup_rule(HsnicFuzz *f, unsigned i)
{
    const HsnicFuzzRule *r = &f->cfg.rule[i];
    uint32_t base = HSNIC_RULE(i);
    unsigned n;

    hsnic_wr(f, base + HSNIC_RULE_DEST, le32_to_cpu(r->dest));
    hsnic_wr(f, base + HSNIC_RULE_PORTS, le32_to_cpu(r->ports));
    hsnic_wr(f, base + HSNIC_RULE_PORTS_MASK, le32_to_cpu(r->ports_mask));
    hsnic_wr(f, base + HSNIC_RULE_PROTO, le32_to_cpu(r->proto));
    /* Word 0 from the input; IPv6 rules match the others exactly. */
    hsnic_wr(f, base + HSNIC_RULE_SRC(0), le32_to_cpu(r->src));
    hsnic_wr(f, base + HSNIC_RULE_SRC_MASK(0), le32_to_cpu(r->src_mask));
    hsnic_wr(f, base + HSNIC_RULE_DST(0), le32_to_cpu(r->dst));
    hsnic_wr(f, base + HSNIC_RULE_DST_MASK(0), le32_to_cpu(r->dst_mask));
    for (n = 1; n < 4; n++) {
        hsnic_wr(f, base + HSNIC_RULE_SRC_MASK(n), 0);
        hsnic_wr(f, base + HSNIC_RULE_DST_MASK(n), 0);
    }
    /* CTRL last, with VALID; an invalid value leaves the rule off. */
    hsnic_wr(f, base + HSNIC_RULE_CTRL,
             le32_to_cpu(r->ctrl) | HSNIC_RULE_VALID);
}

static void hsnic_fuzz_setup(HsnicFuzz *f)
{
    const HsnicFuzzConfig *c = &f->cfg;
    unsigned i;

    f->bus = qpci_new_pc(f->qts, NULL);
    f->dev = qpci_device_find(f->bus, hsnic_devfn);
    g_assert(f->dev);
    f->bar = qpci_iomap(f->dev, HSNIC_BAR_REGS, NULL);
    qpci_device_enable(f->dev);
    if (!(c->misc & HSNIC_FUZZ_M_NO_MSIX)) {
        hsnic_fuzz_msix(f->dev, HSNIC_VEC_QP(HSNIC_FUZZ_QP),
                        HSNIC_FUZZ_MSI_ADDR);
    }

    f->nq = 1 + c->nq % HSNIC_FUZZ_QP;
    f->ring_size = HSNIC_MIN_RING << (c->ring_order % HSNIC_FUZZ_MAX_ORDER);
    f->buf_len = hsnic_fuzz_buf_len(c->buf_len, f->ring_size);
    f->hdr_buf_len = HSNIC_MIN_RX_BUF +
                     HSNIC_RX_BUF_ALIGN * (c->hdr_buf_len % 16);
    f->db_rec = c->misc & HSNIC_FUZZ_M_DB_REC;

    if (f->db_rec) {
        hsnic_wr(f, HSNIC_REG_DB_REC_LO, (uint32_t)HSNIC_FUZZ_DBREC_ADDR);
        hsnic_wr(f, HSNIC_REG_DB_REC_HI, HSNIC_FUZZ_DBREC_ADDR >> 32);
    }
    hsnic_wr(f, HSNIC_REG_RX_MODE, c->rx_mode);
    hsnic_wr(f, HSNIC_REG_EVT_MASK, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);
    hsnic_wr(f, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE |
             (f->db_rec ? HSNIC_DEV_CTRL_DB_REC : 0));

    hsnic_fuzz_setup_rss(f, 0);
    hsnic_fuzz_setup_rss(f, 1);
    for (i = 0; i < c->nrules % (HSNIC_FUZZ_NRULES + 1); i++) {
        hsnic_fuzz_setup_rule(f, i);
    }
    for (i = 0; i < f->nq; i++) {
        hsnic_fuzz_setup_queue(f, i);
        if (c->misc & HSNIC_FUZZ_M_MOD) {
            hsnic_wr(f, HSNIC_REG_IRQ_MOD(HSNIC_VEC_QP(i)),
                     (c->irq_mod & 0xf) |
                     ((c->irq_mod >> 4) << HSNIC_IRQ_MOD_FRAMES_SHIFT));
        }
        if (c->misc & HSNIC_FUZZ_M_ARM) {
            hsnic_wr(f, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(i)), HSNIC_IRQ_ARM);
        }
    }
    flush_events(f->qts);
}

/* ---- Frame fix-ups: make lengths and checksums right on request ---- */

static void hsnic_fuzz_l4_csum(uint8_t *buf, size_t l4, size_t l4len,
                               uint8_t proto, const uint8_t *addrs,
                               size_t alen)
{
    size_t off = proto == IP_PROTO_TCP ? 16 : 6;
    uint32_t sum;
    uint16_t csum;

    if (l4len < off + 2) {
        return;
    }
    stw_be_p(buf + l4 + off, 0);
    sum = net_checksum_add(alen, (uint8_t *)addrs);
    sum += proto + l4len;
    sum += net_checksum_add(l4len, buf + l4);
    csum = proto == IP_PROTO_UDP ? net_checksum_finish_nozero(sum) :
                                   net_checksum_finish(sum);
    stw_be_p(buf + l4 + off, csum);
}

/*
 * Find the L4 header of an IPv4/IPv6 frame (up to two VLAN tags, no IPv6
 * extension headers); fix lengths and checksums as @flags asks. Returns
 * the offset of the TCP header, or 0 if the frame is not TCP.
 */
static size_t hsnic_fuzz_fixup(uint8_t *buf, size_t len, unsigned flags)
{
    size_t l3 = ETH_HLEN, l4, end, alen;
    uint16_t proto_be = lduw_be_p(buf + 12);
    const uint8_t *addrs;
    uint8_t proto;
    int tags = 0;

    while ((proto_be == ETH_P_VLAN || proto_be == ETH_P_DVLAN) &&
           tags++ < 2 && l3 + 4 <= len) {
        proto_be = lduw_be_p(buf + l3 + 2);
        l3 += 4;
    }
    if (proto_be == ETH_P_IP) {
        size_t ihl;
        bool frag;

        if (l3 + 20 > len) {
            return 0;
        }
        ihl = (buf[l3] & 0xf) * 4;
        if (ihl < 20 || l3 + ihl > len) {
            return 0;
        }
        if (flags & HSNIC_FUZZ_F_LEN) {
            buf[l3] = 0x40 | (buf[l3] & 0xf);
            stw_be_p(buf + l3 + 2, MIN(len - l3, UINT16_MAX));
        }
        end = MIN(len, l3 + lduw_be_p(buf + l3 + 2));
        if (flags & HSNIC_FUZZ_F_CSUM) {
            stw_be_p(buf + l3 + 10, 0);
            stw_be_p(buf + l3 + 10, net_raw_checksum(buf + l3, ihl));
        }
        proto = buf[l3 + 9];
        frag = lduw_be_p(buf + l3 + 6) & (IP_OFFMASK | IP_MF);
        l4 = l3 + ihl;
        if (frag || end < l4) {
            return 0;
        }
        addrs = buf + l3 + 12;
        alen = 8;
    } else if (proto_be == ETH_P_IPV6) {
        if (l3 + 40 > len) {
            return 0;
        }
        if (flags & HSNIC_FUZZ_F_LEN) {
            buf[l3] = 0x60 | (buf[l3] & 0xf);
            stw_be_p(buf + l3 + 4, MIN(len - l3 - 40, UINT16_MAX));
        }
        end = MIN(len, l3 + 40 + lduw_be_p(buf + l3 + 4));
        proto = buf[l3 + 6];
        l4 = l3 + 40;
        addrs = buf + l3 + 8;
        alen = 32;
    } else {
        return 0;
    }
    if (proto == IP_PROTO_UDP && (flags & HSNIC_FUZZ_F_LEN) &&
        l4 + 8 <= end) {
        stw_be_p(buf + l4 + 4, end - l4);
    }
    if ((flags & HSNIC_FUZZ_F_CSUM) &&
        (proto == IP_PROTO_TCP || proto == IP_PROTO_UDP)) {
        hsnic_fuzz_l4_csum(buf, l4, end - l4, proto, addrs, alen);
    }
    return proto == IP_PROTO_TCP && l4 + 20 <= end ? l4 : 0;
}

/*
 * Frames are not followed by a main loop iteration: consecutive frame
 * operations form one batch, as the frames a tap backend reads in one go
 * do (RSC aggregates stay open until the batch ends). Every other
 * operation runs the main loop.
 */
static void hsnic_fuzz_send(HsnicFuzz *f, const uint8_t *buf, size_t len)
{
    qemu_send_packet(f->nc, buf, len);
}

/* ---- Operations ---- */

/*
 * The frame is copied to an aligned buffer first, as every backend's
 * buffer is: the operand may start at any byte of the input. With
 * HSNIC_FUZZ_UNALIGNED=1 in the environment it is passed in place
 * instead (tests/fuzz/crashes/README.md).
 */
static void op_frame(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    static int unaligned = -1;

    if (unaligned < 0) {
        unaligned = g_strcmp0(getenv("HSNIC_FUZZ_UNALIGNED"), "1") == 0;
    }
    if (unaligned) {
        hsnic_fuzz_send(f, d, len);
        return;
    }
    len = MIN(len, sizeof(frame));
    memcpy(frame, d, len);
    hsnic_fuzz_send(f, frame, len);
}

/* Copy [flags][pad_to][frame] into frame[]; returns its length. */
static size_t hsnic_fuzz_build(const uint8_t *d, size_t len, size_t hdr,
                               unsigned *flags)
{
    size_t flen, pad;

    if (len < hdr) {
        return 0;
    }
    *flags = d[0];
    pad = hdr >= 3 ? lduw_le_p(d + 1) : 0;
    if (*flags & HSNIC_FUZZ_F_PAD64K) {
        pad += 0x10000;
    }
    flen = MIN(len - hdr, sizeof(frame));
    memcpy(frame, d + hdr, flen);
    if ((*flags & HSNIC_FUZZ_F_PAD) && pad > flen) {
        pad = MIN(pad, sizeof(frame));
        memset(frame + flen, 0, pad - flen);
        flen = pad;
    }
    return flen;
}

static void op_frame_fix(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    unsigned flags;
    size_t flen = hsnic_fuzz_build(d, len, 3, &flags);

    if (flen) {
        hsnic_fuzz_fixup(frame, flen, flags);
        hsnic_fuzz_send(f, frame, flen);
    }
}

/*
 * A run of in-order TCP segments made from one template, for RSC: the
 * sequence number advances by the payload length, lengths and checksums
 * are fixed unless the flags say otherwise.
 */
static void op_tcp_train(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    uint8_t tmpl[HSNIC_FUZZ_FRAME_MAX];
    unsigned count, flags, i;
    size_t tlen, l4, doff, pay, flen;
    uint32_t seq;

    if (len < 3) {
        return;
    }
    count = d[0] % (HSNIC_FUZZ_MAX_TRAIN + 1);
    tlen = hsnic_fuzz_build(d + 1, len - 1, 1, &flags);
    /* Fix lengths always, checksums unless asked not to. */
    flags ^= HSNIC_FUZZ_F_CSUM;
    flags |= HSNIC_FUZZ_F_LEN;
    l4 = hsnic_fuzz_fixup(frame, tlen, flags);
    if (!l4) {
        return;
    }
    doff = (frame[l4 + 12] >> 4) * 4;
    if (doff < 20 || l4 + doff > tlen) {
        return;
    }
    pay = tlen - l4 - doff;
    memcpy(tmpl, frame, tlen);
    seq = ldl_be_p(tmpl + l4 + 4);
    for (i = 0; i < count; i++) {
        flen = tlen;
        memcpy(frame, tmpl, tlen);
        if ((flags & HSNIC_FUZZ_F_SHORT_MID) && i == count / 2 && pay > 1) {
            flen -= pay / 2;
        }
        if ((flags & HSNIC_FUZZ_F_SEQ_GAP) && i == count / 2) {
            seq += 1;
        }
        stl_be_p(frame + l4 + 4, seq);
        if ((flags & HSNIC_FUZZ_F_PSH_LAST) && i == count - 1) {
            frame[l4 + 13] |= TH_PUSH;
        }
        hsnic_fuzz_fixup(frame, flen, flags);
        hsnic_fuzz_send(f, frame, flen);
        seq += flen - l4 - doff;
    }
}

static void op_post(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    unsigned q;

    if (len < 3) {
        return;
    }
    q = d[0] % f->nq;
    f->tail[q] = (f->tail[q] + d[1]) % f->ring_size;
    hsnic_fuzz_doorbell(f, q, false);
    if (d[2]) {
        f->hdr_tail[q] = (f->hdr_tail[q] + d[2]) % f->ring_size;
        hsnic_fuzz_doorbell(f, q, true);
    }
    flush_events(f->qts);
}

/* What a driver's NAPI poll does: give back what the device consumed. */
static void op_recycle(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    unsigned q;

    for (q = 0; q < f->nq; q++) {
        uint32_t head = hsnic_rd(f, HSNIC_RXQ_REG(q, HSNIC_Q_HEAD));
        uint32_t hhead = hsnic_rd(f, HSNIC_RXQ_REG(q, HSNIC_RXQ_HDR_HEAD));

        f->tail[q] = (head + f->ring_size - 1) % f->ring_size;
        f->hdr_tail[q] = (hhead + f->ring_size - 1) % f->ring_size;
        hsnic_fuzz_doorbell(f, q, false);
        hsnic_fuzz_doorbell(f, q, true);
        hsnic_wr(f, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(q)), HSNIC_IRQ_ARM);
    }
    flush_events(f->qts);
}

static void op_clock(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_clock(f->qts, d, len);
}

static void op_qctrl(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    if (len < 2) {
        return;
    }
    hsnic_wr(f, HSNIC_RXQ_REG(d[0] % f->nq, HSNIC_Q_CTRL), d[1]);
    flush_events(f->qts);
}

/* Any register of the flow rules or the RSS contexts. */
static void op_reg(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    uint32_t span = HSNIC_RSS(HSNIC_RSS_CTX_NUM) - HSNIC_RULE_BASE;

    if (len < 6) {
        return;
    }
    hsnic_wr(f, HSNIC_RULE_BASE + ((lduw_le_p(d) * 4) % span),
             ldl_le_p(d + 2));
}

static void op_pci_cmd(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_pci_cmd(f->qts, f->dev, d, len);
}

static void op_dev_ctrl(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_dev_ctrl(f->qts, f->dev, f->bar, d, len);
}

static void op_config(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_config(f->qts, f->dev, d, len);
}

static void op_msix_self(HsnicFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_msix_self(f->qts, f->dev, f->bar, HSNIC_VEC_QP(HSNIC_FUZZ_QP), d,
                         len);
}

static void hsnic_rx_fuzz(QTestState *s, const unsigned char *data,
                          size_t size)
{
    static void (* const ops[OP_NUM])(HsnicFuzz *, const uint8_t *,
                                      size_t) = {
        [OP_FRAME] = op_frame,
        [OP_FRAME_FIX] = op_frame_fix,
        [OP_TCP_TRAIN] = op_tcp_train,
        [OP_POST] = op_post,
        [OP_RECYCLE] = op_recycle,
        [OP_CLOCK] = op_clock,
        [OP_QCTRL] = op_qctrl,
        [OP_REG] = op_reg,
        [OP_PCI_CMD] = op_pci_cmd,
        [OP_DEV_CTRL] = op_dev_ctrl,
        [OP_CONFIG] = op_config,
        [OP_MSIX_SELF] = op_msix_self,
    };
    HsnicFuzz f = { .qts = s };
    size_t n = MIN(size, sizeof(f.cfg));
    unsigned nops = 0;

    memcpy(&f.cfg, data, n);
    data += n;
    size -= n;
    f.nc = qemu_find_netdev(HSNIC_FUZZ_NETDEV);
    g_assert(f.nc);

    hsnic_fuzz_setup(&f);
    while (size >= 3 && nops++ < HSNIC_FUZZ_MAX_OPS) {
        uint8_t op = data[0] % OP_NUM;
        size_t len = MIN(lduw_le_p(data + 1), size - 3);

        ops[op](&f, data + 3, len);
        data += 3 + len;
        size -= 3 + len;
    }
    flush_events(s);

    /* Frames the device left in the net layer's queue go too. */
    qemu_purge_queued_packets(f.nc);
    g_free(f.dev);
    qpci_free_pc(f.bus);
    fuzz_reset(s);
}

static void hsnic_rx_pre_fuzz(QTestState *s)
{
    hsnic_devfn = hsnic_fuzz_find_devfn(s);
}

static GString *hsnic_rx_fuzz_cmdline(FuzzTarget *t)
{
    return hsnic_fuzz_cmdline(HSNIC_FUZZ_NETDEV, HSNIC_FUZZ_RAM,
                              HSNIC_FUZZ_QP, HSNIC_FUZZ_RING_MAX);
}

static void register_hsnic_rx_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "hsnic-rx",
        .description = "Fuzz hsnic's receive path: frames and the RX "
                       "queue, header split, RSS, flow rule and RSC "
                       "configuration they meet",
        .get_init_cmdline = hsnic_rx_fuzz_cmdline,
        .pre_fuzz = hsnic_rx_pre_fuzz,
        .fuzz = hsnic_rx_fuzz,
    });
}

fuzz_target_init(register_hsnic_rx_fuzz_targets);
