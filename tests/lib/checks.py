"""Checks and helpers the lab tests run in the guests: addresses, ping
both ways, a sha256-verified TCP transfer between an Env's two ends,
carrier, ethtool counters."""

import os
import re
import time

BLOB_MIB = int(os.environ.get("HSNIC_TEST_MIB", "256"))


def ip(n):
    return "192.0.2.%d" % n


def ip6(n):
    return "2001:db8:1::%d" % n


def check_ping(env):
    for a, b in ((0, 1), (1, 0)):
        vm, pfx, _ = env.ends[a]
        peer = env.ends[b][2]
        vm.run("%sping -c 3 -i 0.2 -W 2 %s" % (pfx, ip(peer)), timeout=60,
               check=True)
        vm.run("%sping -6 -c 3 -i 0.2 -W 2 %s" % (pfx, ip6(peer)),
               timeout=60, check=True)


def start_receiver(vm, pfx, n, timeout=600):
    """A background `socat | sha256sum` on 192.0.2.n:5001, listening when
    this returns; wait_bg() on the id gives the checksum."""
    cid = vm.start_bg("%ssocat -u TCP-LISTEN:5001,bind=%s,reuseaddr - "
                      "| sha256sum" % (pfx, ip(n)), timeout=timeout)
    wait_listening(vm, pfx)
    return cid


def wait_listening(vm, pfx, port=5001):
    """Return once something listens on TCP `port` in the guest."""
    vm.run("for i in $(seq 100); do %sss -ltn | grep -q ':%d ' && exit 0;"
           " sleep 0.2; done; exit 1" % (pfx, port), timeout=60, check=True)


def check_transfer(env, mib=BLOB_MIB):
    """Send MiB of random data end 0 -> end 1; sha256 must match."""
    (svm, spfx, _), (rvm, rpfx, rn) = env.ends
    _, out = svm.run("head -c %dM /dev/urandom > /tmp/blob && "
                     "sha256sum /tmp/blob" % mib, timeout=300, check=True)
    want = out.split()[0]
    rcid = start_receiver(rvm, rpfx, rn)
    t0 = time.monotonic()
    try:
        svm.run("%ssocat -u FILE:/tmp/blob TCP:%s:5001" % (spfx, ip(rn)),
                timeout=600, check=True)
    finally:
        svm.run("rm -f /tmp/blob")
    secs = time.monotonic() - t0
    rc, got = rvm.wait_bg(rcid, timeout=600)
    assert rc == 0, "receiver failed: %s" % got
    assert got.split()[0] == want, "checksum mismatch: sent %s got %s" % (
        want, got)
    print("    %d MiB in %.1f s (%.0f Mbit/s), sha256 %s..." % (
        mib, secs, mib * 8.39 / secs, want[:16]))


def carrier(vm, pfx, dev):
    return vm.run("%scat /sys/class/net/%s/carrier" % (pfx, dev))[1].strip()


def wait_carrier(vm, pfx, dev, want, secs=20):
    rc, out = vm.run("for i in $(seq %d); do [ \"$(%scat "
                     "/sys/class/net/%s/carrier)\" = %s ] && exit 0; "
                     "sleep 0.1; done; exit 1" % (secs * 10, pfx, dev, want),
                     timeout=secs + 10)
    return rc == 0


def queue_sum(stats, kind, name):
    """The sum of a per-queue ethtool counter over every queue: kind "rx"
    or "tx", name e.g. "hw_packets" (rx0_hw_packets + rx1_hw_packets ...)."""
    return sum(v for k, v in stats.items()
               if re.match(r"%s\d+_%s$" % (kind, name), k))


def ethtool_stats(vm, pfx, dev):
    _, out = vm.run("%sethtool -S %s" % (pfx, dev), check=True)
    stats = {}
    for line in out.splitlines():
        k, _, v = line.strip().partition(": ")
        if v.strip().isdigit():
            stats[k] = int(v)
    return stats
