#!/usr/bin/python3
"""Write seed inputs for the hsnic-rx fuzzer (tests/fuzz/hsnic_rx_fuzz.c).

Usage: rx_seeds.py OUTDIR

The layout mirrors HsnicFuzzConfig and the operation encoding of
hsnic_rx_fuzz.c; the register values come from include/hsnic_abi.h, read
here so that no number is copied by hand.
"""
import os
import re
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def abi_constants():
    """#define NAME <int> and enum members of include/hsnic_abi.h."""
    text = open(os.path.join(TOP, "include", "hsnic_abi.h")).read()
    consts = {}
    for name, val in re.findall(r"#define\s+(HSNIC_\w+)\s+\(?(0x[0-9a-fA-F]+|\d+)u?\)?",
                                text):
        consts[name] = int(val, 0)
    for name, val in re.findall(r"^\s+(HSNIC_\w+)\s*=\s*(\d+),", text, re.M):
        consts[name] = int(val)
    for name, shift in re.findall(r"#define\s+(HSNIC_\w+)\s+\(1u << (\d+)\)", text):
        consts[name] = 1 << int(shift)
    return consts


A = abi_constants()

# Operation codes and flags: as in hsnic_rx_fuzz.c.
OP_FRAME, OP_FRAME_FIX, OP_TCP_TRAIN, OP_POST, OP_RECYCLE, OP_CLOCK, \
    OP_QCTRL, OP_REG, OP_PCI_CMD, OP_DEV_CTRL, OP_CONFIG, OP_MSIX_SELF = \
    range(12)
# Configuration space offsets (hw/net/hsnic/hsnic.c: PM capability at 0x40, PCI
# Express at 0xa0): PMCSR, and DEVCTL with BCR_FLR.
CFG_COMMAND, CFG_PMCSR, CFG_DEVCTL, DEVCTL_FLR = 0x04, 0x44, 0xa8, 0x8000


def cfg_write(off, size_code, val):
    """OP_CONFIG: size_code 0, 1, 2 = 1, 2, 4 bytes."""
    return op(OP_CONFIG, struct.pack("<BBI", off, size_code, val))


def msix_self(vec, where, off, data):
    """OP_MSIX_SELF: where 0 = BAR0, 1 = the MSI-X BAR."""
    return op(OP_MSIX_SELF, struct.pack("<BBHI", vec, where, off, data))
F_LEN, F_CSUM, F_PAD, F_PAD64K, F_PSH_LAST, F_SHORT_MID, F_SEQ_GAP = \
    (1 << i for i in range(7))
M_DB_REC, M_ARM, M_BAD_DESC, M_BAD_HDR, M_MOD, M_NO_MSIX = \
    (1 << i for i in range(6))

# The Toeplitz key of the Microsoft RSS verification suite.
MS_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
    "6a42b73bbeac01fa")

MAC = bytes.fromhex("525400123456")
SRC_MAC = bytes.fromhex("02000000aa01")


def rule(flow, action, queue=0, ctx=0, ports=0, ports_mask=0, proto=0,
         src=0, src_mask=0, dst=0, dst_mask=0):
    ctrl = ((flow << A["HSNIC_RULE_FLOW_SHIFT"]) |
            (action << A["HSNIC_RULE_ACTION_SHIFT"]))
    dest = (queue << A["HSNIC_RULE_QUEUE_SHIFT"]) | (ctx << A["HSNIC_RULE_CTX_SHIFT"])
    return struct.pack("<9I", ctrl, dest, ports, ports_mask, proto, src,
                       src_mask, dst, dst_mask)


def config(nq=3, ring_order=2, buf_len=0, hdr_buf_len=2, hds_thresh=8,
           qflags=0x33, rx_mode=7, unposted=0, misc=M_ARM, nrules=3,
           bad_slot=0, irq_mod=0, rules=None):
    rss_on = A["HSNIC_RSS_CTRL_ENABLE"]
    rules = rules or [
        rule(A["HSNIC_FLOW_TCP4"], A["HSNIC_ACTION_QUEUE"], queue=2,
             ports=80 << 16, ports_mask=0xffff << 16),
        rule(A["HSNIC_FLOW_UDP6"], A["HSNIC_ACTION_RSS"], queue=1, ctx=1),
        rule(A["HSNIC_FLOW_IP4"], A["HSNIC_ACTION_DROP"], proto=1 | 0xff00),
        rule(A["HSNIC_FLOW_TCP6"], A["HSNIC_ACTION_QUEUE"], queue=3),
    ]
    out = struct.pack("<12B", nq, ring_order, buf_len, hdr_buf_len,
                      hds_thresh, qflags, rx_mode, unposted, misc, nrules,
                      bad_slot, irq_mod)
    out += struct.pack("<2I", rss_on, rss_on | A["HSNIC_RSS_CTRL_SYM_XOR"])
    out += struct.pack("<2I", A["HSNIC_RSS_FIELDS_ALL"], A["HSNIC_RSS_FIELDS_ALL"])
    out += MS_KEY
    out += bytes(i % 4 for i in range(16))
    for r in rules[:4]:
        out += r
    return out


def op(code, data=b""):
    return struct.pack("<BH", code, len(data)) + data


def eth(ethertype, dst=MAC, vlan=None):
    hdr = dst + SRC_MAC
    if vlan is not None:
        hdr += struct.pack(">HH", 0x8100, vlan)
    return hdr + struct.pack(">H", ethertype)


def ip4(proto, payload, frag=0, src="10.0.0.1", dst="10.0.0.2"):
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag,
                       64, proto, 0, s, d) + payload


def ip6(proto, payload):
    s = bytes.fromhex("fd000000000000000000000000000001")
    d = bytes.fromhex("fd000000000000000000000000000002")
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), proto, 64,
                       s, d) + payload


def tcp(sport, dport, payload, flags=0x10, seq=1000):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags,
                       65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def fix(frame, flags=F_LEN | F_CSUM, pad_to=0):
    return op(OP_FRAME_FIX, struct.pack("<BH", flags, pad_to) + frame)


def train(frame, count, flags=0):
    return op(OP_TCP_TRAIN, struct.pack("<BB", count, flags) + frame)


def mixed_frames():
    pay = bytes(range(256)) * 4
    return [
        fix(eth(0x0800) + ip4(6, tcp(1234, 80, pay))),
        fix(eth(0x0800) + ip4(6, tcp(1234, 22, pay[:100]))),
        fix(eth(0x0800) + ip4(17, udp(53, 5353, pay[:200]))),
        fix(eth(0x86dd) + ip6(6, tcp(4000, 443, pay))),
        fix(eth(0x86dd) + ip6(17, udp(4000, 4789, pay[:64]))),
        fix(eth(0x0800) + ip4(1, bytes(64))),
        fix(eth(0x0800, vlan=100) + ip4(6, tcp(1, 2, pay[:300]))),
        fix(eth(0x0800) + ip4(17, udp(9, 9, pay), frag=0x2000)),
        op(OP_FRAME, eth(0x0806, dst=b"\xff" * 6) + bytes(28)),
        op(OP_FRAME, bytes(10)),
        fix(eth(0x0800) + ip4(6, tcp(5, 6, pay)), F_LEN),    # bad csum
    ]


def seeds():
    pay = bytes(range(256)) * 6
    tcp4 = eth(0x0800) + ip4(6, tcp(40000, 5001, pay[:1448]))
    tcp6 = eth(0x86dd) + ip6(6, tcp(40000, 5001, pay[:1428]))
    yield "basic", config() + b"".join(mixed_frames()) + op(OP_RECYCLE) + \
        op(OP_CLOCK, struct.pack("<H", 100))
    yield "rsc4", config(qflags=0xf0, nrules=0) + train(tcp4, 20) + \
        op(OP_RECYCLE) + train(tcp4, 70, F_PSH_LAST) + op(OP_CLOCK)
    yield "rsc6_hds", config(qflags=0xff, nrules=0, buf_len=20) + \
        train(tcp6, 12, F_SHORT_MID) + train(tcp6, 8, F_SEQ_GAP) + op(OP_RECYCLE)
    yield "hds_small", config(qflags=0x0f, hdr_buf_len=0, hds_thresh=200,
                              buf_len=0, ring_order=0) + \
        b"".join(mixed_frames()) + op(OP_RECYCLE) + b"".join(mixed_frames())
    yield "wait_post", config(unposted=250, misc=M_ARM | M_MOD, irq_mod=0x35) + \
        b"".join(mixed_frames()[:4]) + op(OP_POST, bytes([0, 8, 8])) + \
        op(OP_POST, bytes([1, 30, 30])) + op(OP_CLOCK) + op(OP_RECYCLE)
    yield "db_rec", config(misc=M_DB_REC | M_ARM, unposted=5) + \
        b"".join(mixed_frames()) + op(OP_RECYCLE) + b"".join(mixed_frames())
    yield "big", config(qflags=0x11, buf_len=0xf8, ring_order=5) + \
        fix(eth(0x0800) + ip4(6, tcp(1, 80, pay[:100])), F_LEN | F_CSUM | F_PAD,
            9000) + \
        fix(eth(0x86dd) + ip6(17, udp(1, 2, b"x")), F_LEN | F_CSUM | F_PAD | F_PAD64K,
            0) + \
        fix(eth(0x0800) + ip4(17, udp(1, 2, b"x")), F_LEN | F_CSUM | F_PAD,
            65000)
    yield "toggles", config(qflags=0x31) + train(tcp4, 5) + \
        op(OP_QCTRL, bytes([0, A["HSNIC_Q_CTRL_ENABLE"]])) + \
        op(OP_PCI_CMD, b"\0") + b"".join(mixed_frames()[:3]) + \
        op(OP_PCI_CMD, b"\1") + train(tcp4, 3) + \
        op(OP_DEV_CTRL, bytes([A["HSNIC_DEV_CTRL_RESET"]])) + \
        b"".join(mixed_frames()[:2])
    yield "bad_desc", config(misc=M_BAD_DESC | M_BAD_HDR | M_ARM, bad_slot=2) + \
        b"".join(mixed_frames())
    # RSC open while the command register is written, with vector 1's
    # message aimed at DEV_CTRL (RESET); then D3hot and back, and FLR
    yield "self_msix_config", config(qflags=0xf0, nrules=0,
                                     misc=M_ARM | M_MOD, irq_mod=0x35) + \
        msix_self(1, 0, A["HSNIC_REG_DEV_CTRL"], A["HSNIC_DEV_CTRL_RESET"]) + \
        msix_self(0, 1, 0, 0) + train(tcp4, 4) + \
        cfg_write(CFG_COMMAND, 1, 0x0006) + op(OP_CLOCK) + \
        train(tcp4, 3) + cfg_write(CFG_PMCSR, 1, 3) + \
        cfg_write(CFG_PMCSR, 1, 0) + b"".join(mixed_frames()[:2]) + \
        cfg_write(CFG_DEVCTL, 1, DEVCTL_FLR) + b"".join(mixed_frames()[:2])
    yield "regs", config(nrules=4) + \
        op(OP_REG, struct.pack("<HI", (A["HSNIC_RSS_CTRL"] + A["HSNIC_RSS_BASE"]
                                       - A["HSNIC_RULE_BASE"]) // 4, 0)) + \
        b"".join(mixed_frames())


def write_seeds(gen):
    """Write each (name, bytes) of @gen as OUTDIR/seed-<name>."""
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, data in gen:
        with open(os.path.join(outdir, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write_seeds(seeds())
