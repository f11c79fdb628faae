#!/usr/bin/env python3
"""Devmem misuse on hsnic, run inside a lab guest as root.

usage: misuse.py IFNAME
       misuse.py --hold IFNAME   (bind queue 1, print "bound", sleep)

Each case does one thing a user should not do with devmem and checks
that it gets a clear error (errno and extack message) or the documented
result, and that the device works afterwards. Prints "PASS: case" or
"FAIL: case: why" per case and exits 1 if any failed. Uses the netlink
library of the kernel selftests installed in /lab/selftests.
"""

import ctypes
import errno
import fcntl
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, "/lab/selftests")
from net.lib.py import NetdevFamily, NlError  # noqa: E402

HOLD = sys.argv[1] == "--hold"
IF = sys.argv[-1]
IFINDEX = socket.if_nametoindex(IF)
XDP_OBJ = "/lab/selftests/hsnic/hsx.bpf.o"
DMABUF_SIZE = 16 << 20
SO_DEVMEM_DONTNEED = 80
UDMABUF_CREATE = (1 << 30) | (24 << 16) | (ord("u") << 8) | 0x42
F_ADD_SEALS, F_SEAL_SHRINK = 1033, 2

libc = ctypes.CDLL(None, use_errno=True)
failed = []


def sh(cmd, check=True):
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and res.returncode:
        raise RuntimeError("%s: %s" % (cmd, res.stderr.strip()))
    return res


def udmabuf():
    mfd = os.memfd_create("hsnic-misuse", os.MFD_ALLOW_SEALING)
    os.ftruncate(mfd, DMABUF_SIZE)
    fcntl.fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)
    dev = os.open("/dev/udmabuf", os.O_RDWR)
    arg = ctypes.create_string_buffer(struct.pack("IIQQ", mfd, 1, 0,
                                                  DMABUF_SIZE))
    fd = libc.ioctl(dev, UDMABUF_CREATE, arg)
    err = ctypes.get_errno()
    os.close(dev)
    os.close(mfd)
    if fd < 0:
        raise OSError(err, "UDMABUF_CREATE")
    return fd


def bind(nf, queues, fd=None):
    own = fd is None
    fd = udmabuf() if own else fd
    try:
        return nf.bind_rx({"ifindex": IFINDEX, "fd": fd,
                           "queues": [{"id": q, "type": "rx"}
                                      for q in queues]})
    finally:
        if own:
            os.close(fd)


def expect_nlerr(fn, code, text):
    """The call fails with @code and an extack whose message (or, for
    policy errors, whose other fields) mention @text."""
    try:
        fn()
    except NlError as e:
        extack = dict(e.nl_msg.extack or {})
        said = " ".join("%s=%s" % kv for kv in sorted(extack.items()))
        if e.error != code or text not in said:
            raise AssertionError("got %s (%s), want %s (%r)" % (
                errno.errorcode.get(e.error), said, errno.errorcode[code],
                text))
        return "%s: %s" % (errno.errorcode[code], said)
    raise AssertionError("succeeded, want %s" % errno.errorcode[code])


def expect_cmd_fails(cmd, text):
    res = sh(cmd, check=False)
    out = res.stdout + res.stderr
    if res.returncode == 0 or text not in out:
        raise AssertionError("%s: exit %d, %r (want an error with %r)" % (
            cmd, res.returncode, out.strip(), text))
    return out.strip().splitlines()[-1]


def release(*families):
    """Close the netlink sockets: their bindings go with them."""
    for nf in families:
        nf.sock.close()


def queue_bound(q):
    nf = NetdevFamily()
    info = nf.queue_get({"ifindex": IFINDEX, "id": q, "type": "rx"})
    return "dmabuf" in info


def traffic_ok():
    # the remote end of the loop topology answers on queue 0's flow
    return sh("ping -c 2 -W 2 192.0.2.2", check=False).returncode == 0


def case(name):
    def deco(fn):
        try:
            sh("ethtool -G %s tcp-data-split on" % IF)
            detail = fn()
            if not traffic_ok():
                raise AssertionError("no traffic afterwards")
            print("PASS: %s%s" % (name, ": %s" % detail if detail else ""),
                  flush=True)
        except Exception as e:      # noqa: BLE001 - report every case
            failed.append(name)
            print("FAIL: %s: %s" % (name, e), flush=True)
        return fn
    return deco


if HOLD:
    sh("ethtool -G %s tcp-data-split on" % IF)
    _nf = NetdevFamily()
    bind(_nf, [1])
    print("bound", flush=True)
    time.sleep(3600)
    sys.exit(0)


@case("bind-with-header-split-off")
def _():
    sh("ethtool -G %s tcp-data-split off" % IF)
    nf = NetdevFamily()
    return expect_nlerr(lambda: bind(nf, [1]), errno.EINVAL,
                        "tcp-data-split is disabled")


@case("bind-empty-queue-list")
def _():
    nf = NetdevFamily()
    return expect_nlerr(lambda: bind(nf, []), errno.EINVAL, "miss")


@case("bind-queue-out-of-range")
def _():
    nf = NetdevFamily()
    nch = int(sh("ethtool -l %s | awk '/Combined/ { v = $2 } END "
                 "{ print v }'" % IF).stdout)
    # the first id past the queues that exist, and a huge one: the core
    # points at the attribute
    msg = expect_nlerr(lambda: bind(nf, [nch]), errno.EINVAL,
                       "bad-attr=.queues.id")
    expect_nlerr(lambda: bind(nf, [1 << 31]), errno.EINVAL,
                 "bad-attr=.queues.id")
    return msg


@case("bind-already-bound-queue")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    other = NetdevFamily()
    msg = expect_nlerr(lambda: bind(other, [1]), errno.EEXIST,
                       "already memory provider bound")
    release(nf, other)
    return msg


@case("bind-with-xdp-attached")
def _():
    # (a single-buffer program is refused with header split on)
    sh("ip link set dev %s xdpdrv obj %s sec xdp.frags" % (IF, XDP_OBJ))
    try:
        nf = NetdevFamily()
        return expect_nlerr(lambda: bind(nf, [1]), errno.EEXIST,
                            "XDP program attached")
    finally:
        sh("ip link set dev %s xdpdrv off" % IF)


@case("shrink-channels-while-bound")
def _():
    nch = int(sh("ethtool -l %s | awk '/Combined/ { v = $2 } END "
                 "{ print v }'" % IF).stdout)
    nf = NetdevFamily()
    bind(nf, [nch - 1])
    msg = expect_cmd_fails("ethtool -L %s combined %d" % (IF, nch - 1),
                           "too low for existing memory provider")
    assert queue_bound(nch - 1), "queue lost its binding"
    release(nf)
    return msg


@case("header-split-off-while-bound")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    msg = expect_cmd_fails("ethtool -G %s tcp-data-split off" % IF,
                           "can't disable tcp-data-split")
    release(nf)
    return msg


@case("close-netlink-socket-while-bound")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    assert queue_bound(1), "not bound"
    release(nf)
    for _ in range(50):
        if not queue_bound(1):
            return "binding released with its socket"
        time.sleep(0.1)
    raise AssertionError("queue 1 still bound after the socket closed")


def dontneed(sock, blob):
    buf = ctypes.create_string_buffer(blob, len(blob))
    ret = libc.setsockopt(sock.fileno(), socket.SOL_SOCKET,
                          SO_DEVMEM_DONTNEED, buf, len(blob))
    return ret if ret >= 0 else -ctypes.get_errno()


@case("dontneed-bad-token-lists")
def _():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname())
    tok = lambda start, n: struct.pack("II", start, n)  # noqa: E731
    got = {
        "unknown": dontneed(cli, tok(12345, 3)),
        "repeated": dontneed(cli, tok(7, 1) * 4),
        "odd-length": dontneed(cli, tok(1, 1) + b"\0\0\0"),
        "oversized": dontneed(cli, tok(1, 1) * 129),
        "huge-count": dontneed(cli, tok(0, 0xffffffff)),
    }
    want = {"unknown": 0, "repeated": 0, "odd-length": -errno.EINVAL,
            "oversized": -errno.EINVAL, "huge-count": 0}
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got["not-tcp"] = dontneed(udp, tok(1, 1))
    want["not-tcp"] = -errno.EBADF
    assert got == want, "got %s, want %s" % (got, want)
    return ", ".join("%s %d" % kv for kv in got.items())


@case("unload-driver-while-bound")
def _():
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              "--hold", IF], stdout=subprocess.PIPE,
                             text=True)
    line = child.stdout.readline().strip()
    assert line == "bound", "child: %r" % line
    res = sh("rmmod hsnic", check=False)
    child.kill()
    child.wait()
    assert res.returncode == 0, "rmmod: %s" % res.stderr
    sh("insmod /lab/modules/hsnic.ko && lab-netsetup --wait 20")
    return "hsnic unloaded with a binding held, reloaded"


sys.exit(1 if failed else 0)
