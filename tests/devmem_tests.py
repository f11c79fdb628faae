"""Devmem TCP end to end on hsnic: the kernel's own selftests, ncdevmem
between two VMs, and RX queue restarts under traffic.

Groups:
  hsnic-selftests   loop topology (REMOTE_TYPE=netns): the drv-net
                    selftests built from the guest kernel's tree, each
                    must pass with no skip beyond the documented ones
  hsnic-selftests-smp4  the same on 4 vCPUs: toeplitz.py and irq.py
  hsnic-devmem-pair pair topology: 256 MiB through ncdevmem into a
                    udmabuf with data validation; 200 restarts of one RX
                    queue while iperf3 runs on another and a verified
                    transfer goes through the restarted one
  hsnic-devmem-soak the same two at soak length (tier soak, `make
                    test-soak`): 1 GiB, 1000 restarts
"""

import fnmatch
import json
import os
import re
import time

import hsniclab
from lib.checks import ethtool_stats
from lib.env import Env, shared_group, teardown
from lib.harness import Skip, group, test
from lib.ktap import KtapResult, judge

# (directory under /lab/selftests, test) and the cases allowed to skip,
# with the reason: nothing a virtual NIC could provide.
SELFTESTS = [
    ("drivers/net", "ping.py",
     {"ping.test_xdp_offload": "needs a BPF offload device (nfp)"}),
    ("drivers/net", "hds.py", {}),
    ("drivers/net", "queues.py", {}),
    ("drivers/net", "stats.py",
     {"stats.check_pause": "hsnic has no flow control: no pause support "
      "to report (EOPNOTSUPP), as a driver without it must",
      "stats.check_fec": "hsnic's link is a virtual wire without FEC",
      "stats.check_fec_hist": "hsnic's link is a virtual wire without FEC"}),
    ("drivers/net/hw", "devmem.py", {}),
    ("drivers/net/hw", "iou-zcrx.py", {}),
    ("drivers/net/hw", "ntuple.py", {}),
    ("drivers/net/hw", "rss_api.py", {}),
    ("drivers/net", "xdp.py", {}),
    # Hardware GRO (issue 18 item 1). gro.py's "lro" mode is for netdevsim
    # (the test says so); hsnic coalesces as GRO-HW, never LRO.
    ("drivers/net", "gro.py",
     {"gro.test.lro_*": "hsnic does GRO-HW, not LRO (the lro mode is for "
      "netdevsim's feature inheritance tests)",
      "gro.test_gro_capacity.lro_*": "hsnic does GRO-HW, not LRO"},
     # Left out: software GRO of PPPoE, which fails the same way on
     # virtio-net-pci (the guest kernel's GRO, not the NIC's).
     "-T 'test.sw_pppoe*'"),
    ("drivers/net/hw", "gro_hw.py", {}),
]

SELFTEST_TIMEOUT = int(os.environ.get("HSNIC_SELFTEST_TIMEOUT", "1200"))
# CI lengths (tier slow) and soak lengths (tier soak): the same paths,
# the soak runs them long enough to catch slow leaks and rare races.
DEVMEM_MIB = int(os.environ.get("HSNIC_DEVMEM_MIB", "256"))
RESTARTS = int(os.environ.get("HSNIC_RESTARTS", "200"))
SOAK_DEVMEM_MIB = int(os.environ.get("HSNIC_SOAK_DEVMEM_MIB", "1024"))
SOAK_RESTARTS = int(os.environ.get("HSNIC_SOAK_RESTARTS", "1000"))
RESTART_GAP = os.environ.get("HSNIC_RESTART_GAP", "0.02")
MEM = 2048


def _vm_with_selftests(env):
    vm = env.vms[0]
    rc, out = vm.run("test -f /lab/selftests/drivers/net/net.config && "
                     "cat /lab/selftests/drivers/net/net.config")
    if rc:
        raise AssertionError("no net.config in the guest: %s" % out)
    return vm


def run_selftest(env, subdir, name, allowed_skips, pre="", envs="",
                 args=""):
    vm = _vm_with_selftests(env)
    # Every selftest starts from the topology's configuration, whatever
    # the previous one left behind.
    vm.run("lab-netsetup --wait 20", timeout=60, check=True)
    if pre:
        vm.run(pre, timeout=60, check=True)
    rc, out = vm.run("cd /lab/selftests/%s && %s./%s %s"
                     % (subdir, envs, name, args), timeout=SELFTEST_TIMEOUT)
    res = KtapResult(out)
    # a key with wildcards allows every case it matches
    allowed_skips = dict(allowed_skips)
    for pat, why in list(allowed_skips.items()):
        for n in res.cases:
            if fnmatch.fnmatchcase(n, pat):
                allowed_skips.setdefault(n, why)
    print("    %s: %s" % (name, res.totals or "no totals line"))
    for verdict in ("skip", "xfail"):
        for n in res.named(verdict):
            print("    %s %s: %s (allowed: %s)" % (
                verdict, n, res.reasons[n] or "no reason given",
                allowed_skips.get(n, "no")))
    problems = judge(res, allowed_skips, rc)
    if problems:
        tail = "\n".join(out.splitlines()[-60:])
        raise AssertionError("%s: %s\n--- output (last 60 lines) ---\n%s"
                             % (name, "; ".join(problems), tail))


def _selftests_setup():
    return Env("loop", "hsnic", mem=MEM)


# The kernel's own tests first: the slow tier's reason to exist.
st = group("hsnic-selftests", _selftests_setup, teardown, tier="slow",
           rank=10)
for _dir, _name, _skips, *_args in SELFTESTS:
    test(st, _name)(lambda env, d=_dir, n=_name, s=_skips, a=_args:
                    run_selftest(env, d, n, s, args=" ".join(a)))


# The kernel's tests that need more CPUs than queues, or CPU numbers a
# 2-vCPU guest does not have, on 4 vCPUs (as the netdev CI boots): each
# RX queue's interrupt on one CPU (toeplitz.py's rss_* cases), RPS on the
# CPUs no queue uses (its rps_* cases), and an affinity the user set
# (mask 0x3 or 0x5) kept across channel, XDP and down/up changes (irq.py).
SELFTESTS_SMP4 = [
    ("drivers/net/hw", "toeplitz.py", {}),
    ("drivers/net/hw", "irq.py", {}),
]
SMP4 = 4


def _selftests_smp4_setup():
    return Env("loop", "hsnic", mem=MEM, smp=SMP4)


st4 = group("hsnic-selftests-smp4", _selftests_smp4_setup, teardown,
            tier="slow", rank=10)
for _dir, _name, _skips in SELFTESTS_SMP4:
    test(st4, _name)(lambda env, d=_dir, n=_name, s=_skips:
                     run_selftest(env, d, n, s))


# devmem.py again with receive segment coalescing on both NICs. loop's
# dgram links hand the device one frame per main loop iteration; an
# aggregate stays open while its queue gets a frame at least every
# rsc-usecs (20 ms) of virtual time, so segments that arrive one by one
# coalesce too: the test asserts that the
# device coalesced frames into a dma-buf (each of 2 or more segments).
RSC_ON = (". /lab/selftests/drivers/net/net.config; "
          "ethtool -K $NETIF rx-gro-hw on && "
          "ip netns exec remote ethtool -K "
          "$(ip netns exec remote ip -o link | "
          "awk -F': ' '/52:54:00:48/ {print $2}' | cut -d@ -f1) "
          "rx-gro-hw on")


SETTLE = ("for i in $(seq 100); do ping -c1 -W1 192.0.2.2 >/dev/null && "
          "ping -6 -c1 -W1 2001:db8:1::2 >/dev/null && exit 0; sleep 0.2; "
          "done; exit 1")


def rsc_counters(vm):
    """(coalesced frames, segments in them) of $NETIF, all RX queues."""
    out = vm.run(". /lab/selftests/drivers/net/net.config; "
                 "ethtool -S $NETIF", check=True)[1]
    frames = sum(int(n) for n in
                 re.findall(r"rx\d+_hw_rsc_frames: (\d+)", out))
    segs = sum(int(n) for n in re.findall(r"rx\d+_hw_rsc_segs: (\d+)", out))
    return frames, segs


@test(st, "devmem.py-rx-gro-hw")
def devmem_rsc(env):
    vm = _vm_with_selftests(env)
    f0, s0 = rsc_counters(vm)
    try:
        run_selftest(env, "drivers/net/hw", "devmem.py", {}, pre=RSC_ON)
    finally:
        # the tests after this one start with the default features, once
        # the feature change (a queue reconfiguration) has settled and the
        # remote answers on both families again
        vm.run(RSC_ON.replace("rx-gro-hw on", "rx-gro-hw off"), timeout=60)
        vm.run(SETTLE, timeout=60)
    f1, s1 = rsc_counters(vm)
    frames, segs = f1 - f0, s1 - s0
    print("    devmem.py with rx-gro-hw on: %d coalesced frames of %d "
          "segments (%.1f per frame)" % (frames, segs,
                                         segs / frames if frames else 0))
    assert frames > 0, "rx-gro-hw on, and nothing was coalesced"
    assert segs >= 2 * frames, \
        "coalesced frames of fewer than 2 segments: %d in %d" % (segs, frames)


# devmem.py with every binding made with autorelease off
# (kernel-patches/0001-0003): tokens are page indexes, references counted
# per net_iov. NCDEVMEM_AUTORELEASE (tests/devmem/
# ncdevmem-autorelease-env.patch) passes -a 0 to each ncdevmem devmem.py
# starts, and ncdevmem then checks every token against its frag's offset.
# The default mode is the plain devmem.py above.
# One ncdevmem run (server on $NETIF, 1 MiB from the remote namespace),
# with the binding's autorelease set to @a: the (page index, token) of
# every fragment it received, from its verbose output.
TOKENS_SCRIPT = r"""
. /lab/selftests/drivers/net/net.config
/lab/selftests/drivers/net/hw/ncdevmem -l -f $NETIF -s 192.0.2.1 \
    -p %(port)d -c 192.0.2.2 -v 7 -a %(a)d > /tmp/tokens-%(a)d.txt 2>&1 &
nc=$!
for i in $(seq 300); do ss -ltn | grep -q ':%(port)d ' && break; sleep 0.2
done
yes $(echo -e '\x01\x02\x03\x04\x05\x06') | head -c 1M |
    ip netns exec remote socat -u - \
    TCP4:192.0.2.1:%(port)d,bind=192.0.2.2:%(port)d
wait $nc; rc=$?
sed -n 's/.*frag_page=\([0-9]*\),.* token=\([0-9]*\),.*/\1 \2/p' \
    /tmp/tokens-%(a)d.txt
exit $rc
"""


def ncdevmem_tokens(vm, a, port):
    rc, out = vm.run(TOKENS_SCRIPT % {"a": a, "port": port}, timeout=300)
    assert rc == 0, "ncdevmem -a %d failed (%d):\n%s" % (a, rc, out[-2000:])
    return [tuple(int(x) for x in ln.split()) for ln in out.splitlines()
            if re.match(r"^\d+ \d+$", ln)]


# devmem.py with every binding made with autorelease off
# (kernel-patches/0001-0003): tokens are page indexes, references counted
# per net_iov. NCDEVMEM_AUTORELEASE (tests/devmem/
# ncdevmem-autorelease-env.patch) passes -a 0 to each ncdevmem devmem.py
# starts, and ncdevmem then checks every token against its frag's offset.
# The default mode is the plain devmem.py above. Then the proof that the
# kernel took the attribute: in a run of our own with -a 0 every token is
# its fragment's page index; with -a 1 (the kernel's default) they are
# not, so the check tells the two modes apart.
@test(st, "devmem.py-autorelease-off")
def devmem_autorelease_off(env):
    run_selftest(env, "drivers/net/hw", "devmem.py", {},
                 envs="NCDEVMEM_AUTORELEASE=0 ")
    vm = _vm_with_selftests(env)
    off = ncdevmem_tokens(vm, 0, 5311)
    on = ncdevmem_tokens(vm, 1, 5312)
    same = sum(page == token for page, token in off)
    print("    autorelease off: %d of %d tokens are their page index; "
          "autorelease on: %d of %d" % (
              same, len(off), sum(p == t for p, t in on), len(on)))
    assert off and same == len(off), \
        "autorelease off, and tokens are not page indexes: %s" % off[:10]
    assert on and any(page != token for page, token in on), \
        "autorelease on gives page indexes too: the check proves nothing"


@test(st, "xdp-actions")
def xdp_actions(env):
    """tests/xdp/xdp-actions.sh: every XDP action, sb and mb, with and
    without header split, ndo_xdp_xmit, program swaps under traffic."""
    vm = env.vms[0]
    rc, out = vm.run("/lab/selftests/hsnic/xdp-actions.sh",
                     timeout=SELFTEST_TIMEOUT)
    totals = re.findall(r"TOTAL pass (\d+) fail (\d+)", out)
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL:")]
    print("    xdp-actions: %s" % ("pass %s fail %s" % totals[-1]
                                    if totals else "no TOTAL line"))
    for ln in out.splitlines():
        if "under swaps" in ln:
            print("    " + ln)
    assert totals and int(totals[-1][0]) > 0 and not fails, \
        "\n".join(fails) or out[-3000:]
    assert rc == 0, "xdp-actions.sh exited %d:\n%s" % (rc, out[-3000:])


MISUSE_CASES = 17


@test(st, "devmem-misuse")
def devmem_misuse(env):
    """tests/devmem/misuse.py in the guest: binding with header split off,
    to no queue, to a queue out of range or already bound, with XDP on;
    shrinking channels or turning header split off while bound; bad
    SO_DEVMEM_DONTNEED token lists; the netlink socket closed and the
    driver unloaded while bound. Each gets its error or documented
    result; the console must stay free of WARNs (teardown)."""
    vm = _vm_with_selftests(env)
    vm.run("lab-netsetup --wait 20", timeout=60, check=True)
    with open(os.path.join(hsniclab.TOP, "tests", "devmem", "misuse.py")) as f:
        src = f.read()
    vm.run("cat > /tmp/misuse.py <<'HSNIC_EOF'\n%sHSNIC_EOF" % src,
           check=True)
    rc, out = vm.run(". /lab/selftests/drivers/net/net.config; "
                     "python3 /tmp/misuse.py $NETIF", timeout=600)
    verdicts = [ln for ln in out.splitlines()
                if ln.startswith(("PASS:", "FAIL:"))]
    for ln in verdicts:
        print("    " + ln)
    vm.run("lab-netsetup --wait 20", timeout=60)
    passed = [ln for ln in verdicts if ln.startswith("PASS:")]
    assert rc == 0 and len(passed) == MISUSE_CASES, \
        "%d of %d cases passed (exit %d):\n%s" % (
            len(passed), MISUSE_CASES, rc, out[-3000:])


# ---------------------------------------------------------------- pair


NCDEVMEM = "/lab/selftests/drivers/net/hw/ncdevmem"
# ncdevmem logs every fragment: keep only what the test reads.
NC_SUMMARY = ("awk '/Failed validation/ { f++ } /total_received=/ { t = $0 }"
              ' /: ok$/ { ok = 1 } /page_aligned_frags=/ { p = $0 }'
              ' END { print "failed_validation=" f + 0; print t; print p;'
              ' print "ok=" ok + 0 }\'')


def ncdevmem_pair(env, mib):
    srv, cli = env.vms
    port = 5301
    dev = env.dev(0)
    srv.run("echo 64 > /proc/sys/vm/nr_hugepages", check=True)
    # devmem with receive segment coalescing: payload placement is the
    # same, only the headers (in header buffers) are rewritten.
    srv.run("ethtool -K %s rx-gro-hw on" % dev, check=True)
    rsc0 = _rsc_frames(srv, dev)
    rcid = srv.start_bg(
        "%s -l -f %s -s 192.0.2.1 -p %d -c 192.0.2.2 -v 7 2>&1 >/dev/null "
        "| %s; exit ${PIPESTATUS[0]}" % (NCDEVMEM, dev, port, NC_SUMMARY),
        timeout=1800)
    srv.run("for i in $(seq 300); do ss -ltn | grep -q ':%d ' && exit 0; "
            "sleep 0.2; done; exit 1" % port, timeout=90, check=True)
    t0 = time.monotonic()
    cli.run("yes $(echo -e '\\x01\\x02\\x03\\x04\\x05\\x06') | "
            "head -c %dM | socat -u - TCP4:192.0.2.1:%d,bind=192.0.2.2:%d"
            % (mib, port, port), timeout=1800, check=True)
    rc, out = srv.wait_bg(rcid, timeout=1800)
    secs = time.monotonic() - t0
    vals = dict(ln.split("=", 1) for ln in out.split() if "=" in ln)
    got = int(vals.get("total_received", "0"))
    print("    ncdevmem: %d MiB in %.0f s (%.0f Mbit/s), %s failed "
          "validations, %s" % (got >> 20, secs, got * 8 / secs / 1e6,
                               vals.get("failed_validation"),
                               out.splitlines()[-2] if out else ""))
    # ncdevmem exits 0 once the client closes (its ": ok" line is only
    # printed on paths the RX server never takes).
    assert rc == 0, "ncdevmem failed:\n" + out
    assert vals.get("failed_validation") == "0", out
    assert got == mib << 20, "received %d bytes, sent %d" % (
        got, mib << 20)
    rsc = _rsc_frames(srv, dev) - rsc0
    print("    rx-gro-hw on: %d coalesced frames" % rsc)
    assert rsc > 0, "no coalesced frames with rx-gro-hw on"


def _rsc_frames(vm, dev):
    _, out = vm.run("ethtool -S %s | awk '/rx[0-9]+_hw_rsc_frames/ "
                    "{ n += $2 } END { print n + 0 }'" % dev, check=True)
    return int(out.strip() or 0)


def _debugfs_dir(vm, dev):
    rc, out = vm.run("d=$(readlink -f /sys/class/net/%s/device); "
                     "ls -d /sys/kernel/debug/hsnic/${d##*/}" % dev)
    if rc:
        raise AssertionError("no hsnic debugfs directory: %s" % out)
    return out.strip()


def restart_under_traffic(env, restarts):
    srv, cli = env.vms
    dev = env.dev(0)
    dbg = _debugfs_dir(srv, dev)
    rq, iq = 1, 2               # restarted queue, iperf3 queue
    srv.run("set -e; ethtool -L %(d)s combined 4; lab-netsetup --wait 20; "
            "ethtool -K %(d)s ntuple on; "
            "ethtool -N %(d)s flow-type tcp4 dst-port 5001 action %(rq)d; "
            "ethtool -N %(d)s flow-type tcp4 dst-port 5201 action %(iq)d; "
            "iperf3 -s -p 5201 -1 -D" % {"d": dev, "rq": rq, "iq": iq},
            check=True)
    cli.run("head -c 64M /dev/urandom > /tmp/blob", check=True)
    want = cli.run("sha256sum /tmp/blob", check=True)[1].split()[0]
    before = ethtool_stats(srv, "", dev)
    t_iperf = time.monotonic()
    icid = cli.start_bg("iperf3 -c 192.0.2.1 -p 5201 -t 3600 -i 1 -f m",
                        timeout=3700)
    # The restarts run in the guest, one every RESTART_GAP seconds, so
    # that they spread over several verified rounds: back to back, 1000 of
    # them take ~8 s under TCG.
    rcid = srv.start_bg(
        "n=0; start=$EPOCHREALTIME; "
        "while [ $n -lt %(n)d ]; do echo %(q)d > %(dbg)s/restart_rx_queue "
        "|| exit 1; n=$((n + 1)); sleep %(gap)s; done; "
        "awk -v n=$n -v s=$start -v e=$EPOCHREALTIME "
        "'BEGIN { printf \"%%d restarts of queue %(q)d in %%.1f s\\n\", "
        "n, e - s }'"
        % {"n": restarts, "q": rq, "dbg": dbg, "gap": RESTART_GAP},
        timeout=3600)
    rounds = []
    while True:
        srv.run("rm -f /tmp/ready", check=True)
        rcv = srv.start_bg("lab-recv --bind 192.0.2.1 --port 5001 "
                           "--ready /tmp/ready", timeout=900)
        srv.run("for i in $(seq 300); do [ -e /tmp/ready ] && exit 0; "
                "sleep 0.1; done; exit 1", timeout=60, check=True)
        cli.run("socat -u FILE:/tmp/blob TCP4:192.0.2.1:5001", timeout=900,
                check=True)
        rc, out = srv.wait_bg(rcv, timeout=900)
        assert rc == 0, "receiver failed: " + out
        res = json.loads(out.strip().splitlines()[-1])
        rounds.append(res)
        assert res["sha256"] == want, "round %d: corrupted stream: %s" % (
            len(rounds), res)
        assert res["max_gap_s"] <= 1.0, "round %d: %.2f s stall" % (
            len(rounds), res["max_gap_s"])
        if srv.poll_bg(rcid) is not None:
            break
    rc, rout = srv.wait_bg(rcid, timeout=60)
    assert rc == 0, "restart loop failed: " + rout
    cli.run("pkill -INT iperf3", timeout=30)
    ran_s = time.monotonic() - t_iperf
    rc, iout = cli.wait_bg(icid, timeout=120)
    after = ethtool_stats(srv, "", dev)
    # The iperf3 stream on the other queue kept running throughout: no
    # one-second interval without data.
    rates = [float(x) for x in re.findall(
        r"^\[ *\d+\] +[\d.]+-[\d.]+ +sec +\S+ \S?Bytes +([\d.]+) Mbits/sec"
        r"(?!.*(?:sender|receiver))", iout, re.M)]
    print("    %s; %d verified 64 MiB rounds, longest stall %.2f s; "
          "iperf3 on queue %d: %d intervals, slowest %.1f Mbit/s" % (
              rout.strip().splitlines()[-1], len(rounds),
              max(r["max_gap_s"] for r in rounds), iq, len(rates),
              min(rates) if rates else 0))
    assert rates and min(rates) > 0, \
        "iperf3 on queue %d stalled:\n%s" % (iq, iout[-2000:])
    # It ended on our SIGINT (iperf3 then exits 1 with this line), not on
    # an error of its own, and it ran the whole time: one interval a second
    # (its first second and last partial one aside).
    assert "interrupt - the client has terminated" in iout and \
        "iperf3: error" not in iout, \
        "iperf3 did not run until stopped (exit %d):\n%s" % (rc,
                                                             iout[-2000:])
    assert len(rates) >= ran_s - 3, \
        "iperf3 reported %d intervals in %.0f s:\n%s" % (
            len(rates), ran_s, iout[-2000:])

    def moved(q, what="hw_packets"):
        key = "rx%d_%s" % (q, what)
        assert key in after, "no %s in ethtool -S" % key
        return after[key] - before.get(key, 0)
    # The rules steered each flow to its queue: those two moved, the
    # others next to nothing (ARP, ICMP); frames did arrive for the
    # restarted queue while it was down, and were dropped and counted.
    moves = {q: moved(q) for q in range(4)}
    drops = moved(rq, "hw_drop_down")
    print("    RX frames per queue %s; dropped while queue %d was down: %d"
          % (moves, rq, drops))
    # (frames as the device delivered them: with rx-gro-hw on, which the
    # ncdevmem test before leaves on, coalesced ones count once)
    assert moves[iq] > 1000 and moves[rq] > 1000, moves
    assert all(moves[q] < 100 for q in moves if q not in (rq, iq)), moves
    assert drops > 0, "no frame arrived while queue %d was down" % rq
    # No page leaked: once the interface is down no page pool is left.
    srv.run("ethtool -N %(d)s delete 0 2>/dev/null; ip link set %(d)s down"
            % {"d": dev}, timeout=60)
    rc, pools = srv.run("for i in $(seq 50); do p=$(lab-pp %s 2>&1); "
                        "[ -z \"$p\" ] && exit 0; sleep 0.1; done; "
                        "echo \"$p\"; exit 1" % dev, timeout=60)
    srv.run("ip link set %s up; lab-netsetup --wait 20" % dev, timeout=60)
    assert rc == 0, "page pools still hold pages after ifdown:\n" + pools


def _devmem_pair_group(name, tier, mib, restarts):
    # on one boot with hsnic-stress (the soak: hsnic-stress-soak)
    g = shared_group(name, "pair", "hsnic", tier=tier, mem=MEM)
    test(g, "ncdevmem-%dmib-validated" % mib)(
        lambda env: ncdevmem_pair(env, mib))
    test(g, "rx-queue-restart-x%d-under-traffic" % restarts)(
        lambda env: restart_under_traffic(env, restarts))
    return g


dp = _devmem_pair_group("hsnic-devmem-pair", "slow", DEVMEM_MIB, RESTARTS)
soak = _devmem_pair_group("hsnic-devmem-soak", "soak", SOAK_DEVMEM_MIB,
                          SOAK_RESTARTS)
