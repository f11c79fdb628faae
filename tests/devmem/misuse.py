#!/usr/bin/env python3
"""Devmem misuse on hsnic, run inside a lab guest as root.

usage: misuse.py IFNAME
       misuse.py --hold IFNAME          (bind queue 1, print "bound", sleep)
       misuse.py --hold-tokens IFNAME   (also receive 4 MiB into it and
                                         keep the tokens, print "holding N")

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

HOLD = sys.argv[1] in ("--hold", "--hold-tokens")
HOLD_TOKENS = sys.argv[1] == "--hold-tokens"
IF = sys.argv[-1]
IFINDEX = socket.if_nametoindex(IF)
XDP_OBJ = "/lab/selftests/hsnic/hsx.bpf.o"
DMABUF_SIZE = 16 << 20
SO_DEVMEM_DONTNEED = 80
SCM_DEVMEM_LINEAR, SCM_DEVMEM_DMABUF = 78, 79
MSG_SOCK_DEVMEM = 0x2000000
DONTNEED_MAX = 128          # tokens per SO_DEVMEM_DONTNEED call
# The loop topology: IF has 192.0.2.1, its peer 192.0.2.2 in netns remote.
ME, PEER, PORT = "192.0.2.1", "192.0.2.2", 5201
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


def bind(nf, queues, fd=None, autorelease=None):
    own = fd is None
    fd = udmabuf() if own else fd
    req = {"ifindex": IFINDEX, "fd": fd,
           "queues": [{"id": q, "type": "rx"} for q in queues]}
    if autorelease is not None:
        # kernel-patches/0002: bind-rx's autorelease attribute
        req["autorelease"] = autorelease
    try:
        return nf.bind_rx(req)
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


def reload_driver():
    """insmod hsnic again after an rmmod: the netdev is new (by MAC the
    same name, a new ifindex)."""
    global IFINDEX
    sh("insmod /lab/modules/hsnic.ko && lab-netsetup --wait 20")
    IFINDEX = socket.if_nametoindex(IF)


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


def dontneed(sock, blob):
    buf = ctypes.create_string_buffer(blob, len(blob))
    ret = libc.setsockopt(sock.fileno(), socket.SOL_SOCKET,
                          SO_DEVMEM_DONTNEED, buf, len(blob))
    return ret if ret >= 0 else -ctypes.get_errno()


class Steer:
    """RSS onto queue 0 only, and the test flow (PEER -> ME:PORT) to
    queue 1 by an ntuple rule: what ncdevmem sets up for a bound queue."""

    def __enter__(self):
        sh("ethtool -X %s equal 1" % IF)
        out = sh("ethtool -N %s flow-type tcp4 src-ip %s dst-ip %s dst-port "
                 "%d action 1" % (IF, PEER, ME, PORT)).stdout
        self.rule = out.split()[-1] if "rule" in out.lower() else None
        return self

    def __exit__(self, *exc):
        if self.rule:
            sh("ethtool -N %s delete %s" % (IF, self.rule), check=False)
        sh("ethtool -X %s default" % IF, check=False)
        return False


class Flow:
    """A TCP flow from the peer namespace into a devmem-receiving socket:
    @nbytes of zeros, sent by socat in netns remote."""

    def __init__(self, nbytes):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((ME, PORT))
        self.srv.listen(1)
        self.sender = subprocess.Popen(
            ["ip", "netns", "exec", "remote", "sh", "-c",
             "head -c %d /dev/zero | socat -u - TCP:%s:%d"
             % (nbytes, ME, PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.srv.settimeout(30)
        self.conn, _ = self.srv.accept()
        self.srv.close()
        self.conn.settimeout(1.0)
        self.nbytes = nbytes
        self.got = 0            # bytes received, both kinds
        self.dmabuf = 0         # of which in the dma-buf
        self.linear = 0         # in the bound queue's header buffers
        self.tokens = []        # tokens received and not returned
        self.frags = []         # (offset, size, token) of dma-buf frags

    def recv(self, until, hold, stall=60):
        """Receive until @until bytes in all: True; False after @stall
        seconds without progress. With @hold, keep every token, else
        return each batch at once."""
        last = time.monotonic()
        while self.got < until:
            try:
                data, anc, _, _ = self.conn.recvmsg(65536, 16384,
                                                    MSG_SOCK_DEVMEM)
            except socket.timeout:
                if time.monotonic() - last > stall:
                    return False
                continue
            if not data and not anc:
                raise AssertionError("peer closed after %d of %d bytes"
                                     % (self.got, self.nbytes))
            last = time.monotonic()
            # recvmsg's count includes the bytes the cmsgs point at
            self.got += len(data)
            batch = []
            for level, kind, blob in anc:
                if level != socket.SOL_SOCKET:
                    continue
                off, size, token, _, _ = struct.unpack("QIIII", blob[:24])
                if kind == SCM_DEVMEM_LINEAR:
                    self.linear += size
                elif kind == SCM_DEVMEM_DMABUF:
                    self.dmabuf += size
                    batch.append(token)
                    self.frags.append((off, size, token))
            if hold:
                self.tokens += batch
            else:
                self.give_back(batch)
        return True

    def give_back(self, tokens=None):
        """SO_DEVMEM_DONTNEED on @tokens (default: all held), 128 at a
        time; returns how many the kernel freed."""
        tokens = self.tokens if tokens is None else tokens
        freed = 0
        for i in range(0, len(tokens), DONTNEED_MAX):
            blob = b"".join(struct.pack("II", t, 1)
                            for t in tokens[i:i + DONTNEED_MAX])
            ret = dontneed(self.conn, blob)
            if ret < 0:
                raise AssertionError("SO_DEVMEM_DONTNEED: %s" % os.strerror(
                    -ret))
            freed += ret
        if tokens is self.tokens:
            self.tokens = []
        return freed

    def close(self):
        self.conn.close()
        try:
            self.sender.wait(30)
        except subprocess.TimeoutExpired:
            self.sender.kill()
            self.sender.wait()


if HOLD:
    sh("ethtool -G %s tcp-data-split on" % IF)
    _nf = NetdevFamily()
    bind(_nf, [1])
    if HOLD_TOKENS:
        Steer().__enter__()
        _fl = Flow(64 << 20)
        assert _fl.recv(2 << 20, hold=True), "stalled"
        assert _fl.dmabuf, "no data went to the dma-buf"
        print("holding %d" % len(_fl.tokens), flush=True)
    else:
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


BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo"


def udmabuf_attachments():
    """The attached devices of each udmabuf, from debugfs."""
    objs, cur = [], None
    with open(BUFINFO) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            # size, flags, mode, count, exp_name, ino, name
            if len(fields) == 7 and fields[4] == "udmabuf":
                objs.append([])
                cur = None
            elif line.strip() == "Attached Devices:" and objs:
                cur = objs[-1]
            elif line.startswith("Total "):
                cur = None
            elif cur is not None and line.strip():
                cur.append(line.strip())
    return objs


def unload_holding(mode):
    """rmmod hsnic while a child process holds a binding (mode --hold)
    or a binding and its tokens (--hold-tokens). The dma-buf must be
    attached to the device while bound and no longer once the driver
    is gone (kernel-patches/0004), though the child still holds it."""
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              mode, IF], stdout=subprocess.PIPE,
                             text=True)
    try:
        line = child.stdout.readline().strip()
        assert line.startswith("bound" if mode == "--hold" else
                               "holding "), "child: %r" % line
        before = udmabuf_attachments()
        assert len(before) == 1 and len(before[0]) == 1, \
            "udmabufs and their attached devices while bound: %r" % before
        res = sh("rmmod hsnic", check=False)
        after = udmabuf_attachments() if res.returncode == 0 else None
    finally:
        child.kill()
        child.wait()
    assert res.returncode == 0, "rmmod: %s" % res.stderr
    reload_driver()
    assert after == [[]], "still attached after rmmod, binding held: " \
        "%r" % after
    return line, before[0][0]


@case("unload-driver-while-bound")
def _():
    _, dev = unload_holding("--hold")
    return ("hsnic unloaded with a binding held: the dma-buf was detached "
            "from %s at once; reloaded" % dev)


DMABUF_MIB = DMABUF_SIZE >> 20
# Each received segment takes a whole 4 KiB net_iov (hsnic's RX buffers
# are pages): a 16 MiB dma-buf holds 4096 segments, ~5.9 MB of MSS-sized
# payload, while user space keeps their tokens.


@case("close-socket-holding-tokens")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    with Steer():
        fl = Flow(3 << 20)
        assert fl.recv(3 << 20, hold=True), "stalled holding 3 MiB"
        held, dmabuf, lin = len(fl.tokens), fl.dmabuf, fl.linear
        assert dmabuf > 0, "no data went to the dma-buf"
        fl.close()
        # 40 MiB through the 16 MiB dma-buf: only if the closed socket's
        # tokens came back
        fl = Flow(40 << 20)
        assert fl.recv(40 << 20, hold=False), "stalled: tokens not back"
        fl.close()
    release(nf)
    return ("closed holding %d tokens (of 3 MiB, %d KiB in the dma-buf, "
            "%d KiB linear); then 40 MiB through the %d MiB dma-buf"
            % (held, dmabuf >> 10, lin >> 10, DMABUF_MIB))


@case("exhaust-dmabuf-holding-tokens")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    with Steer():
        fl = Flow(48 << 20)
        done = fl.recv(48 << 20, hold=True, stall=5)
        assert not done, "48 MiB arrived with every token held in a " \
            "%d MiB dma-buf" % DMABUF_MIB
        held, at = len(fl.tokens), fl.got
        freed = fl.give_back()
        assert freed == held, "freed %d of %d tokens" % (freed, held)
        assert fl.recv(48 << 20, hold=False, stall=60), \
            "the flow did not resume after the tokens came back"
        fl.close()
    release(nf)
    return ("stalled at %.1f MiB with %d tokens held; all returned, the "
            "flow resumed, 48 MiB arrived" % (at / 2**20, held))


@case("unbind-while-tokens-held")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    with Steer():
        fl = Flow(16 << 20)
        assert fl.recv(2 << 20, hold=True), "stalled holding 2 MiB"
        assert fl.dmabuf > 0, "no data went to the dma-buf"
        release(nf)         # unbind: queue 1 restarts on host pages
        for _ in range(50):
            if not queue_bound(1):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("queue 1 still bound")
        assert fl.recv(16 << 20, hold=True), "stalled after unbind"
        # (segments already in flight may still have landed in the dma-buf)
        held = len(fl.tokens)
        freed = fl.give_back()
        fl.close()
    assert freed == held, "freed %d of %d tokens after unbind" % (
        freed, held)
    return ("unbound holding tokens; the flow went on in host memory, "
            "then all %d tokens were returned" % freed)


@case("unload-driver-holding-tokens")
def _():
    line, dev = unload_holding("--hold-tokens")
    return ("hsnic unloaded while a process held %s tokens: the dma-buf "
            "was detached from %s at once; reloaded"
            % (line.split()[1], dev))


# Token release modes (kernel-patches/0001-0003): bind-rx with
# autorelease 0 hands out tokens that are page indexes into the dma-buf,
# counts user references per page, and does not release them when the
# socket closes; unbinding does. A socket stays with the first binding it
# received from.
PAGE = 4096


@case("autorelease-off-tokens-are-page-indexes")
def _():
    nf = NetdevFamily()
    bind(nf, [1], autorelease=0)
    with Steer():
        fl = Flow(4 << 20)
        assert fl.recv(4 << 20, hold=True), "stalled holding 4 MiB"
        frags = list(fl.frags)
        bad = [f for f in frags if f[2] != f[0] // PAGE]
        assert frags and not bad, "%d of %d frags: token is not offset / " \
            "4096, e.g. %s" % (len(bad), len(frags), bad[:3])
        held = len(fl.tokens)
        freed = fl.give_back()
        # returning the same tokens again frees nothing
        again = fl.give_back([t for _, _, t in frags[:DONTNEED_MAX]])
        fl.close()
    release(nf)
    assert freed == held, "freed %d of %d tokens" % (freed, held)
    assert again == 0, "tokens returned twice freed %d" % again
    return ("%d frags, each token its page's index (offset / 4096); all "
            "%d returned, a second return frees 0" % (len(frags), freed))


@case("autorelease-off-close-holding-tokens")
def _():
    nf = NetdevFamily()
    bind(nf, [1], autorelease=0)
    with Steer():
        fl = Flow(3 << 20)
        assert fl.recv(3 << 20, hold=True), "stalled holding 3 MiB"
        held = len(fl.tokens)
        fl.close()
        # close() released nothing: the next flow, holding its tokens
        # too, finds only the rest of the dma-buf's pages
        fl = Flow(48 << 20)
        assert not fl.recv(48 << 20, hold=True, stall=5), \
            "48 MiB arrived with every token held"
        held2, at = len(fl.tokens), fl.got
        # unbinding drops the references nobody returned; the queue goes
        # on in host memory
        release(nf)
        assert fl.recv(48 << 20, hold=False, stall=60), \
            "the flow did not resume after unbind"
        fl.close()
    pages = DMABUF_SIZE // PAGE
    assert held2 < pages - held // 2, \
        "the second flow held %d tokens of %d pages although the first " \
        "closed holding %d: close() released them" % (held2, pages, held)
    # a new binding works as before
    nf = NetdevFamily()
    bind(nf, [1], autorelease=0)
    with Steer():
        fl = Flow(40 << 20)
        assert fl.recv(40 << 20, hold=False), "stalled on the new binding"
        fl.close()
    release(nf)
    return ("closed holding %d tokens; the next flow stalled at %.1f MiB "
            "with %d (of %d pages); unbind released them all, the flow "
            "finished, a new binding took 40 MiB"
            % (held, at / 2**20, held2, pages))


@case("socket-cannot-switch-binding")
def _():
    nf = NetdevFamily()
    bind(nf, [1])
    with Steer():
        fl = Flow(32 << 20)
        assert fl.recv(1 << 20, hold=False), "stalled before the switch"
        assert fl.dmabuf, "no data went to the first dma-buf"
        release(nf)                 # queue 1 back on host pages ...
        nf = NetdevFamily()
        bind(nf, [1])               # ... then on another dma-buf
        try:
            fl.recv(32 << 20, hold=False, stall=30)
            err = None
        except OSError as e:
            err = e.errno
        at = fl.got
        fl.close()
    release(nf)
    assert err == errno.EFAULT, "receiving from a second binding: %s, " \
        "want EFAULT (got %d bytes)" % (
            errno.errorcode.get(err, "no error"), at)
    return ("recvmsg() failed with EFAULT once the socket's data came from "
            "a second binding (after %.1f MiB)" % (at / 2**20))


sys.exit(1 if failed else 0)
