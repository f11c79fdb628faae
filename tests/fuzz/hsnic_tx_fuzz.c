/*
 * hsnic transmit-side fuzzer
 *
 * Each input programs the device as a driver would (PCI bus master,
 * MSI-X, TX queues, interrupt moderation, doorbell records), then lets
 * the input post descriptors, fill the buffers they point at and ring
 * doorbells, interleaved with the driver actions that race with a
 * transmit (queue stop, device reset, bus master off, the clock). The
 * descriptors may point anywhere: at the queue's own buffers, at memory
 * no RAM backs, at the device's own BAR0 and MSI-X table. Frames can be
 * written raw or synthesised from a few input bytes (Ethernet, VLAN
 * tags, IPv4 with options or IPv6, TCP with options, UDP, or another
 * protocol), so that the offload paths (checksum, TSO through QEMU's
 * net_tx_pkt) are reached with headers that parse. What the device sends
 * goes to a hub port with no peer. Every run starts from a system reset
 * and ends with one; its work is bounded by HSNIC_TXF_MAX_OPS.
 *
 * Input layout (see docs/fuzzing.md): a fixed-size HsnicTxFuzzConfig
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
#include "net/eth.h"
#include "hsnic_fuzz.h"

#define HSNIC_TXF_NETDEV        "hsnictxfuzz0"
#define HSNIC_TXF_QP            4       /* queue-pairs of the device */
#define HSNIC_TXF_MAX_OPS       256     /* operations per input */
#define HSNIC_TXF_MAX_ORDER     6       /* rings of 8 .. 256 entries */
#define HSNIC_TXF_RING_MAX      (HSNIC_MIN_RING << (HSNIC_TXF_MAX_ORDER - 1))

/* Guest memory: one 1 MiB window per queue, above 256 MiB. */
#define HSNIC_TXF_RAM           "512M"
#define HSNIC_TXF_MSI_ADDR      0x0e000000ULL
#define HSNIC_TXF_DBREC_ADDR    0x0f000000ULL
#define HSNIC_TXF_Q_BASE(q)     (0x10000000ULL + (uint64_t)(q) * 0x100000)
#define HSNIC_TXF_DESC(q)       (HSNIC_TXF_Q_BASE(q) + 0x0000)
#define HSNIC_TXF_CMPL(q)       (HSNIC_TXF_Q_BASE(q) + 0x1000)
#define HSNIC_TXF_BUF(q)        (HSNIC_TXF_Q_BASE(q) + 0x10000)
#define HSNIC_TXF_BUF_SIZE      0xf0000u
#define HSNIC_TXF_BAD_ADDR      0xfff0000000000000ULL

/* misc bits of HsnicTxFuzzConfig */
#define HSNIC_TXF_M_DB_REC      (1u << 0)   /* doorbell records on */
#define HSNIC_TXF_M_ARM         (1u << 1)   /* arm the queue vectors */
#define HSNIC_TXF_M_TXMOD       (1u << 2)   /* TX interrupt moderation */
#define HSNIC_TXF_M_NO_MSIX     (1u << 3)   /* leave MSI-X disabled */

/* where a descriptor points: the low 2 bits of OP_DESC's selector */
enum {
    HSNIC_TXF_A_BUF,        /* the queue's buffer window + offset */
    HSNIC_TXF_A_UNBACKED,   /* memory no RAM backs */
    HSNIC_TXF_A_BAR,        /* the device's own BAR0 */
    HSNIC_TXF_A_MSIX,       /* the device's MSI-X table */
};

/* OP_FRAME's shape byte */
#define HSNIC_TXF_S_IPV6        (1u << 0)
#define HSNIC_TXF_S_UDP         (1u << 1)   /* else TCP ... */
#define HSNIC_TXF_S_OTHER       (1u << 2)   /* ... unless neither */
#define HSNIC_TXF_S_VLAN_SHIFT  3           /* 0, 1 or 2 tags */
#define HSNIC_TXF_S_BAD_LEN     (1u << 5)   /* leave the IP length wrong */
#define HSNIC_TXF_S_OPT_SHIFT   6           /* IPv4/TCP options: 4 * x */

typedef struct QEMU_PACKED HsnicTxFuzzConfig {
    uint8_t nq;             /* TX queues enabled: 1 + nq % QP */
    uint8_t ring_order;     /* RING_SIZE: MIN_RING << (x % MAX_ORDER) */
    uint8_t misc;           /* HSNIC_TXF_M_* */
    uint8_t txmod;          /* IRQ_TXMOD: USECS = x, FRAMES = x >> 4 */
} HsnicTxFuzzConfig;

enum {
    OP_FRAME = 0,       /* [q][segs][cmd][mss 16][shape][paylen 16][data] */
    OP_RAW,             /* [q][segs][cmd][mss 16][frame bytes] */
    OP_DESC,            /* [q][slot][sel][off 32][len 32][cmd 32] */
    OP_DATA,            /* [q][off 16][bytes] into the buffer window */
    OP_DOORBELL,        /* [q][tail 16]: any value, tail moves to it */
    OP_REAP,            /* read completions, re-arm every vector */
    OP_CLOCK,           /* [ns / 1000, 16 LE], or to the next deadline */
    OP_QCTRL,           /* [q][CTRL value] */
    OP_REG,             /* [offset 16 LE][value 32 LE] below the queues */
    OP_PCI_CMD,         /* [value]: bit 0 = bus master */
    OP_DEV_CTRL,        /* [DEV_CTRL value] */
    OP_CONFIG,          /* [offset][size][value 32]: config space write */
    OP_MSIX_SELF,       /* [vec][where][off 16][data 32]: MSI-X at itself */
    OP_NUM,
};

typedef struct HsnicTxFuzz {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    HsnicTxFuzzConfig cfg;
    uint32_t ring_size;
    unsigned nq;
    bool db_rec;
    uint32_t tail[HSNIC_TXF_QP];
    uint32_t buf_off[HSNIC_TXF_QP];     /* next free byte of the window */
} HsnicTxFuzz;

static int hsnic_txf_devfn = -1;
static uint8_t txf_frame[HSNIC_MAX_FRAME + 64];
static const uint8_t txf_zeroes[HSNIC_TXF_RING_MAX *
                                sizeof(struct hsnic_tx_cmpl)];

static void txf_wr(HsnicTxFuzz *f, uint32_t reg, uint32_t val)
{
    qpci_io_writel(f->dev, f->bar, reg, val);
}

static uint32_t txf_rd(HsnicTxFuzz *f, uint32_t reg)
{
    return qpci_io_readl(f->dev, f->bar, reg);
}

static void txf_wr_q64(HsnicTxFuzz *f, unsigned q, uint32_t reg,
                       uint64_t val)
{
    txf_wr(f, HSNIC_TXQ_REG(q, reg), (uint32_t)val);
    txf_wr(f, HSNIC_TXQ_REG(q, reg + 4), (uint32_t)(val >> 32));
}

/* Tell the device about f->tail[q] (any value the input chose). */
static void txf_doorbell(HsnicTxFuzz *f, unsigned q)
{
    if (f->db_rec) {
        qtest_writel(f->qts, HSNIC_TXF_DBREC_ADDR +
                     q * sizeof(struct hsnic_db_rec) +
                     offsetof(struct hsnic_db_rec, tx_tail), f->tail[q]);
    }
    txf_wr(f, HSNIC_DB_TX(q), f->tail[q]);
    flush_events(f->qts);
}

static void txf_setup_queue(HsnicTxFuzz *f, unsigned q)
{
    qtest_memwrite(f->qts, HSNIC_TXF_DESC(q), txf_zeroes,
                   f->ring_size * sizeof(struct hsnic_tx_desc));
    qtest_memwrite(f->qts, HSNIC_TXF_CMPL(q), txf_zeroes,
                   f->ring_size * sizeof(struct hsnic_tx_cmpl));
    if (f->db_rec) {
        qtest_memwrite(f->qts, HSNIC_TXF_DBREC_ADDR +
                       q * sizeof(struct hsnic_db_rec), txf_zeroes,
                       sizeof(struct hsnic_db_rec));
    }
    txf_wr_q64(f, q, HSNIC_Q_DESC_LO, HSNIC_TXF_DESC(q));
    txf_wr_q64(f, q, HSNIC_Q_CMPL_LO, HSNIC_TXF_CMPL(q));
    txf_wr(f, HSNIC_TXQ_REG(q, HSNIC_Q_RING_SIZE), f->ring_size);
    txf_wr(f, HSNIC_TXQ_REG(q, HSNIC_Q_CTRL), HSNIC_Q_CTRL_ENABLE);
}

static void txf_setup(HsnicTxFuzz *f)
{
    const HsnicTxFuzzConfig *c = &f->cfg;
    unsigned q;

    f->bus = qpci_new_pc(f->qts, NULL);
    f->dev = qpci_device_find(f->bus, hsnic_txf_devfn);
    g_assert(f->dev);
    f->bar = qpci_iomap(f->dev, HSNIC_BAR_REGS, NULL);
    qpci_device_enable(f->dev);
    if (!(c->misc & HSNIC_TXF_M_NO_MSIX)) {
        hsnic_fuzz_msix(f->dev, HSNIC_VEC_QP(HSNIC_TXF_QP),
                        HSNIC_TXF_MSI_ADDR);
    }

    f->nq = 1 + c->nq % HSNIC_TXF_QP;
    f->ring_size = HSNIC_MIN_RING << (c->ring_order % HSNIC_TXF_MAX_ORDER);
    f->db_rec = c->misc & HSNIC_TXF_M_DB_REC;
    if (f->db_rec) {
        txf_wr(f, HSNIC_REG_DB_REC_LO, (uint32_t)HSNIC_TXF_DBREC_ADDR);
        txf_wr(f, HSNIC_REG_DB_REC_HI, HSNIC_TXF_DBREC_ADDR >> 32);
    }
    txf_wr(f, HSNIC_REG_EVT_MASK, HSNIC_EVT_LINK | HSNIC_EVT_ERROR);
    txf_wr(f, HSNIC_REG_DEV_CTRL, HSNIC_DEV_CTRL_ENABLE |
           (f->db_rec ? HSNIC_DEV_CTRL_DB_REC : 0));
    for (q = 0; q < f->nq; q++) {
        txf_setup_queue(f, q);
        if (c->misc & HSNIC_TXF_M_TXMOD) {
            txf_wr(f, HSNIC_REG_IRQ_TXMOD(HSNIC_VEC_QP(q)),
                   (c->txmod & 0xf) |
                   ((c->txmod >> 4) << HSNIC_IRQ_MOD_FRAMES_SHIFT));
        }
        if (c->misc & HSNIC_TXF_M_ARM) {
            txf_wr(f, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(q)), HSNIC_IRQ_ARM);
        }
    }
    flush_events(f->qts);
}

/* ---- Posting frames ---- */

static void txf_put_desc(HsnicTxFuzz *f, unsigned q, uint32_t slot,
                         uint64_t addr, uint32_t len, uint32_t cmd)
{
    struct hsnic_tx_desc d = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
        .cmd = cpu_to_le32(cmd),
    };

    qtest_memwrite(f->qts, HSNIC_TXF_DESC(q) +
                   (uint64_t)(slot % f->ring_size) * sizeof(d),
                   &d, sizeof(d));
}

/*
 * Copy @len bytes of txf_frame into queue @q's buffer window and post
 * them as @segs descriptors (EOP on the last) from the queue's tail, then
 * ring its doorbell. @cmd and @mss go into every descriptor, as the
 * device reads the offload request of a frame's first one.
 */
static void txf_post(HsnicTxFuzz *f, unsigned q, unsigned segs,
                     uint32_t cmd, uint16_t mss, size_t len)
{
    uint64_t addr;
    size_t done = 0;
    unsigned i;

    if (f->buf_off[q] + len > HSNIC_TXF_BUF_SIZE) {
        f->buf_off[q] = 0;
    }
    addr = HSNIC_TXF_BUF(q) + f->buf_off[q];
    qtest_memwrite(f->qts, addr, txf_frame, len);
    f->buf_off[q] += QEMU_ALIGN_UP(len, 64);

    segs = MAX(1, MIN(segs, f->ring_size - 1));
    cmd = (cmd & ~(HSNIC_TXD_EOP | HSNIC_TXD_MSS_MASK)) |
          ((uint32_t)mss << HSNIC_TXD_MSS_SHIFT);
    for (i = 0; i < segs; i++) {
        size_t n = i == segs - 1 ? len - done : len / segs;

        txf_put_desc(f, q, f->tail[q], addr + done, n,
                     cmd | (i == segs - 1 ? HSNIC_TXD_EOP : 0));
        f->tail[q] = (f->tail[q] + 1) % f->ring_size;
        done += n;
    }
    txf_doorbell(f, q);
}

/*
 * Build a frame in txf_frame from a shape byte: Ethernet, 0-2 VLAN tags,
 * IPv4 (with options) or IPv6, then TCP (with options), UDP or protocol
 * 0xfd, then @paylen bytes of payload from @data (repeated). Returns its
 * length.
 */
static size_t txf_build(uint8_t shape, size_t paylen, const uint8_t *data,
                        size_t dlen)
{
    unsigned tags = ((shape >> HSNIC_TXF_S_VLAN_SHIFT) & 3) % 3;
    unsigned opt = 4 * (shape >> HSNIC_TXF_S_OPT_SHIFT);
    bool ip6 = shape & HSNIC_TXF_S_IPV6;
    uint8_t proto = shape & HSNIC_TXF_S_UDP ? IP_PROTO_UDP :
                    shape & HSNIC_TXF_S_OTHER ? 0xfd : IP_PROTO_TCP;
    uint8_t *p = txf_frame;
    size_t l3, l4, l4len, hlen, len, i;

    memset(p, 0, 64 + 60);
    memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    l3 = 12;
    for (i = 0; i < tags; i++) {
        stw_be_p(p + l3, i == 0 && tags == 2 ? ETH_P_DVLAN : ETH_P_VLAN);
        stw_be_p(p + l3 + 2, 100 + i);
        l3 += 4;
    }
    stw_be_p(p + l3, ip6 ? ETH_P_IPV6 : ETH_P_IP);
    l3 += 2;
    if (ip6) {
        l4 = l3 + 40;
    } else {
        l4 = l3 + 20 + opt;
    }
    l4len = proto == IP_PROTO_TCP ? 20 + opt : 8;
    hlen = l4 + l4len;
    paylen = MIN(paylen, sizeof(txf_frame) - hlen);
    len = hlen + paylen;

    if (ip6) {
        p[l3] = 0x60;
        stw_be_p(p + l3 + 4, len - l3 - 40);
        p[l3 + 6] = proto;
        p[l3 + 7] = 64;
        p[l3 + 8] = 0x20;       /* 2001:db8::1 -> 2001:db8::2 */
        p[l3 + 9] = 0x01;
        p[l3 + 10] = 0x0d;
        p[l3 + 11] = 0xb8;
        memcpy(p + l3 + 24, p + l3 + 8, 4);
        p[l3 + 23] = 1;
        p[l3 + 39] = 2;
    } else {
        p[l3] = 0x45 + opt / 4;
        stw_be_p(p + l3 + 2, MIN(len - l3, UINT16_MAX));
        stw_be_p(p + l3 + 6, 0x4000);   /* DF */
        p[l3 + 8] = 64;
        p[l3 + 9] = proto;
        stl_be_p(p + l3 + 12, 0xc0000201);      /* 192.0.2.1 */
        stl_be_p(p + l3 + 16, 0xc0000202);      /* 192.0.2.2 */
    }
    if (shape & HSNIC_TXF_S_BAD_LEN) {
        stw_be_p(p + l3 + (ip6 ? 4 : 2), paylen);
    }
    stw_be_p(p + l4, 40000);
    stw_be_p(p + l4 + 2, 5201);
    if (proto == IP_PROTO_TCP) {
        stl_be_p(p + l4 + 4, 1000);
        p[l4 + 12] = (l4len / 4) << 4;
        p[l4 + 13] = TH_ACK | TH_PUSH;
        stw_be_p(p + l4 + 14, 65535);
    } else if (proto == IP_PROTO_UDP) {
        stw_be_p(p + l4 + 4, MIN(len - l4, UINT16_MAX));
    }
    for (i = 0; i < paylen; i++) {
        p[hlen + i] = dlen ? data[i % dlen] : (uint8_t)i;
    }
    return len;
}

/* ---- Operations ---- */

static void op_frame(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    size_t flen;

    if (len < 8) {
        return;
    }
    flen = txf_build(d[5], lduw_le_p(d + 6), d + 8, len - 8);
    txf_post(f, d[0] % f->nq, d[1] % 8, d[2], lduw_le_p(d + 3), flen);
}

static void op_raw(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    size_t flen;

    if (len < 5) {
        return;
    }
    flen = MIN(len - 5, sizeof(txf_frame));
    memcpy(txf_frame, d + 5, flen);
    txf_post(f, d[0] % f->nq, d[1] % 8, d[2], lduw_le_p(d + 3), flen);
}

/* One descriptor, anywhere the selector says; no doorbell. */
static void op_desc(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    unsigned q;
    uint64_t addr;
    uint32_t off;

    if (len < 15) {
        return;
    }
    q = d[0] % f->nq;
    off = ldl_le_p(d + 3);
    switch (d[2] & 3) {
    case HSNIC_TXF_A_BUF:
        addr = HSNIC_TXF_BUF(q) + off % HSNIC_TXF_BUF_SIZE;
        break;
    case HSNIC_TXF_A_UNBACKED:
        addr = HSNIC_TXF_BAD_ADDR + off;
        break;
    case HSNIC_TXF_A_BAR:
        addr = f->bar.addr + off % 0x10000;
        break;
    default:
        addr = f->bar.addr + off % 0x10000;
        if (f->dev->msix_table_bar.addr) {
            addr = f->dev->msix_table_bar.addr + f->dev->msix_table_off +
                   off % 0x1000;
        }
        break;
    }
    txf_put_desc(f, q, d[1], addr, ldl_le_p(d + 7), ldl_le_p(d + 11));
}

static void op_data(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    uint32_t off;

    if (len < 3) {
        return;
    }
    off = lduw_le_p(d + 1) * 16u % HSNIC_TXF_BUF_SIZE;
    len = MIN(len - 3, HSNIC_TXF_BUF_SIZE - off);
    qtest_memwrite(f->qts, HSNIC_TXF_BUF(d[0] % f->nq) + off, d + 3, len);
}

/* The raw value, so that tails >= RING_SIZE reach the device too. */
static void op_doorbell(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    unsigned q;

    if (len < 3) {
        return;
    }
    q = d[0] % f->nq;
    f->tail[q] = lduw_le_p(d + 1);
    txf_doorbell(f, q);
    f->tail[q] %= f->ring_size;
}

/* What a driver's completion clean does, then re-arm the vectors. */
static void op_reap(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    struct hsnic_tx_cmpl c[HSNIC_TXF_RING_MAX];
    unsigned q;

    for (q = 0; q < f->nq; q++) {
        qtest_memread(f->qts, HSNIC_TXF_CMPL(q), c,
                      f->ring_size * sizeof(c[0]));
        txf_rd(f, HSNIC_TXQ_REG(q, HSNIC_Q_STATUS));
        txf_wr(f, HSNIC_REG_IRQ_CTRL(HSNIC_VEC_QP(q)), HSNIC_IRQ_ARM);
    }
    flush_events(f->qts);
}

static void op_clock(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_clock(f->qts, d, len);
}

static void op_qctrl(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    if (len < 2) {
        return;
    }
    txf_wr(f, HSNIC_TXQ_REG(d[0] % f->nq, HSNIC_Q_CTRL), d[1]);
    flush_events(f->qts);
}

/* Any register below the TX queues' (interrupts, moderation, ...). */
static void op_reg(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    if (len < 6) {
        return;
    }
    txf_wr(f, (lduw_le_p(d) * 4) % HSNIC_TXQ_BASE, ldl_le_p(d + 2));
    flush_events(f->qts);
}

static void op_pci_cmd(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_pci_cmd(f->qts, f->dev, d, len);
}

static void op_dev_ctrl(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_dev_ctrl(f->qts, f->dev, f->bar, d, len);
}

static void op_config(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_config(f->qts, f->dev, d, len);
}

static void op_msix_self(HsnicTxFuzz *f, const uint8_t *d, size_t len)
{
    hsnic_fuzz_msix_self(f->qts, f->dev, f->bar, HSNIC_VEC_QP(HSNIC_TXF_QP), d,
                         len);
}

static void hsnic_tx_fuzz(QTestState *s, const unsigned char *data,
                          size_t size)
{
    static void (* const ops[OP_NUM])(HsnicTxFuzz *, const uint8_t *,
                                      size_t) = {
        [OP_FRAME] = op_frame,
        [OP_RAW] = op_raw,
        [OP_DESC] = op_desc,
        [OP_DATA] = op_data,
        [OP_DOORBELL] = op_doorbell,
        [OP_REAP] = op_reap,
        [OP_CLOCK] = op_clock,
        [OP_QCTRL] = op_qctrl,
        [OP_REG] = op_reg,
        [OP_PCI_CMD] = op_pci_cmd,
        [OP_DEV_CTRL] = op_dev_ctrl,
        [OP_CONFIG] = op_config,
        [OP_MSIX_SELF] = op_msix_self,
    };
    HsnicTxFuzz f = { .qts = s };
    size_t n = MIN(size, sizeof(f.cfg));
    unsigned nops = 0;

    memcpy(&f.cfg, data, n);
    data += n;
    size -= n;

    txf_setup(&f);
    while (size >= 3 && nops++ < HSNIC_TXF_MAX_OPS) {
        uint8_t op = data[0] % OP_NUM;
        size_t len = MIN(lduw_le_p(data + 1), size - 3);

        ops[op](&f, data + 3, len);
        data += 3 + len;
        size -= 3 + len;
    }
    flush_events(s);

    g_free(f.dev);
    qpci_free_pc(f.bus);
    fuzz_reset(s);
}

static void hsnic_tx_pre_fuzz(QTestState *s)
{
    hsnic_txf_devfn = hsnic_fuzz_find_devfn(s);
}

static GString *hsnic_tx_fuzz_cmdline(FuzzTarget *t)
{
    return hsnic_fuzz_cmdline(HSNIC_TXF_NETDEV, HSNIC_TXF_RAM, HSNIC_TXF_QP,
                              HSNIC_TXF_RING_MAX);
}

static void register_hsnic_tx_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "hsnic-tx",
        .description = "Fuzz hsnic's transmit path: descriptors, the "
                       "buffers they name, offloads (checksum, TSO) and "
                       "the queue and device controls around them",
        .get_init_cmdline = hsnic_tx_fuzz_cmdline,
        .pre_fuzz = hsnic_tx_pre_fuzz,
        .fuzz = hsnic_tx_fuzz,
    });
}

fuzz_target_init(register_hsnic_tx_fuzz_targets);
