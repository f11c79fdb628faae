#!/usr/bin/python3
"""Write seed inputs for the hsnic-tx fuzzer (tests/fuzz/hsnic_tx_fuzz.c).

Usage: tx_seeds.py OUTDIR

The layout mirrors HsnicTxFuzzConfig and the operation encoding of
hsnic_tx_fuzz.c; flag values come from include/hsnic_abi.h through
rx_seeds.abi_constants(); written by rx_seeds.write_seeds().
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rx_seeds import abi_constants, write_seeds  # noqa: E402

A = abi_constants()

# Operation codes and flags: as in hsnic_tx_fuzz.c.
OP_FRAME, OP_RAW, OP_DESC, OP_DATA, OP_DOORBELL, OP_REAP, OP_CLOCK, \
    OP_QCTRL, OP_REG, OP_PCI_CMD, OP_DEV_CTRL, OP_CONFIG, OP_MSIX_SELF = \
    range(13)
M_DB_REC, M_ARM, M_TXMOD, M_NO_MSIX = (1 << i for i in range(4))
S_IPV6, S_UDP, S_OTHER = 1, 2, 4
S_VLAN1, S_VLAN2, S_BAD_LEN = 1 << 3, 2 << 3, 1 << 5
S_OPT1, S_OPT3 = 1 << 6, 3 << 6
A_BUF, A_UNBACKED, A_BAR, A_MSIX = range(4)

EOP, CSUM, TSO = A["HSNIC_TXD_EOP"], A["HSNIC_TXD_CSUM"], A["HSNIC_TXD_TSO"]


def config(nq=3, ring_order=3, misc=M_ARM, txmod=0x21):
    return bytes([nq, ring_order, misc, txmod])


def op(code, operand):
    return struct.pack("<BH", code, len(operand)) + operand


def frame(q, segs, cmd, mss, shape, paylen, data=b"hsnic"):
    return op(OP_FRAME, struct.pack("<BBBHBH", q, segs, cmd, mss, shape,
                                    paylen) + data)


def desc(q, slot, sel, off, length, cmd):
    return op(OP_DESC, struct.pack("<BBBIII", q, slot, sel, off, length, cmd))


def seeds():
    yield "tso4", config() + frame(0, 3, TSO | CSUM, 1448, 0, 30000) + \
        op(OP_REAP, b"") + op(OP_CLOCK, b"")
    yield "tso6_vlan", config(misc=M_ARM | M_DB_REC) + \
        frame(1, 5, TSO | CSUM, 1000, S_IPV6 | S_VLAN2 | S_OPT1, 20000) + \
        frame(1, 1, CSUM, 0, S_IPV6 | S_UDP, 900)
    yield "csum_mixed", config(nq=0) + b"".join(
        frame(0, i % 3 + 1, CSUM, 0, shape, 100 + 300 * i)
        for i, shape in enumerate([0, S_UDP, S_OTHER, S_IPV6 | S_UDP,
                                   S_VLAN1 | S_OPT3, S_BAD_LEN])) + \
        op(OP_REAP, b"")
    yield "bad_offload", config() + \
        frame(0, 1, TSO, 8, 0, 5000) + frame(0, 1, TSO, 1448, S_UDP, 5000) + \
        frame(0, 2, TSO | CSUM, 1448, S_BAD_LEN, 60000)
    yield "raw", config(misc=M_TXMOD | M_ARM) + \
        op(OP_RAW, struct.pack("<BBBH", 2, 1, 0, 0) + b"\x02" * 14) + \
        op(OP_RAW, struct.pack("<BBBH", 2, 1, 0, 0) + b"\x02" * 10) + \
        op(OP_CLOCK, struct.pack("<H", 50))
    yield "desc_targets", config(nq=0) + \
        desc(0, 0, A_BUF, 0, 60, 0) + desc(0, 1, A_UNBACKED, 0, 60, EOP) + \
        desc(0, 2, A_BAR, A["HSNIC_DB_BASE"], 64, EOP) + \
        desc(0, 3, A_MSIX, 0, 64, EOP) + desc(0, 4, A_BUF, 64, 0, EOP) + \
        desc(0, 5, A_BUF, 128, 70000, EOP) + \
        op(OP_DOORBELL, struct.pack("<BH", 0, 6)) + \
        op(OP_DOORBELL, struct.pack("<BH", 0, 1000)) + op(OP_REAP, b"")
    # a chain without EOP all around the ring
    yield "no_eop", config(nq=0, ring_order=0) + b"".join(
        desc(0, i, A_BUF, 64 * i, 64, 0) for i in range(8)) + \
        op(OP_DOORBELL, struct.pack("<BH", 0, 7))
    yield "toggles", config(misc=M_ARM | M_DB_REC) + \
        frame(0, 2, CSUM, 0, 0, 3000) + \
        op(OP_QCTRL, bytes([0, 0])) + frame(0, 1, 0, 0, 0, 100) + \
        op(OP_QCTRL, bytes([0, A["HSNIC_Q_CTRL_ENABLE"]])) + \
        op(OP_PCI_CMD, b"\0") + frame(1, 1, 0, 0, S_UDP, 200) + \
        op(OP_PCI_CMD, b"\1") + \
        op(OP_DEV_CTRL, bytes([A["HSNIC_DEV_CTRL_RESET"]])) + \
        frame(1, 1, 0, 0, 0, 100) + \
        op(OP_REG, struct.pack("<HI", A["HSNIC_REG_DEV_CTRL"] // 4,
                               A["HSNIC_DEV_CTRL_ENABLE"])) + \
        frame(2, 1, CSUM, 0, S_UDP, 100)

    # vector 1's message at DEV_CTRL (RESET), vector 0's at the MSI-X
    # table; a queue error and moderated completions send them; FLR
    yield "self_msix_config", config(misc=M_ARM | M_TXMOD) + \
        op(OP_MSIX_SELF, struct.pack("<BBHI", 1, 0, A["HSNIC_REG_DEV_CTRL"],
                                     A["HSNIC_DEV_CTRL_RESET"])) + \
        op(OP_MSIX_SELF, struct.pack("<BBHI", 0, 1, 0, 0)) + \
        frame(0, 1, CSUM, 0, 0, 300) + op(OP_CLOCK, struct.pack("<H", 50)) + \
        op(OP_DOORBELL, struct.pack("<BH", 0, 1000)) + \
        op(OP_CONFIG, struct.pack("<BBI", 0xa8, 1, 0x8000)) + \
        frame(1, 1, 0, 0, 0, 100)


if __name__ == "__main__":
    write_seeds(seeds())
