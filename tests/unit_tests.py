"""Fast host-side tests: the ABI header, the lab runner's pieces."""

import base64
import os
import socket
import subprocess
import sys
import tempfile
import threading

import hsniclab
from lib.harness import group, test

TOP = hsniclab.TOP
unit = group("unit", tier="unit")


@test(unit, "abi-header")
def abi_header():
    exe = os.path.join(TOP, "build", "test-abi")
    assert os.path.exists(exe), "build/test-abi missing (run make test)"
    res = subprocess.run([exe], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@test(unit, "abi-header-kernel-and-userspace-agree")
def abi_header_modes():
    # The same header must compile without <linux/types.h> (non-Linux QEMU
    # hosts) and with it, and give the same sizes.
    src = ('#include "hsnic_abi.h"\n#include <stdio.h>\n'
           'int main(void){printf("%zu %zu %d\\n",'
           'sizeof(struct hsnic_rx_cmpl), sizeof(struct hsnic_tx_desc),'
           'HSNIC_RXQ_REG(3, HSNIC_Q_CTRL));return 0;}\n')
    outs = []
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "t.c")
        with open(c, "w") as f:
            f.write(src)
        for extra in ([], ["-U__linux__"]):
            exe = os.path.join(d, "t%d" % len(outs))
            subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-I",
                            os.path.join(TOP, "include")] + extra +
                           [c, "-o", exe], check=True)
            outs.append(subprocess.run([exe], capture_output=True,
                                       text=True).stdout)
    want = "32 16 %d\n" % (0x2000 + 3 * 0x80 + 0x14)
    assert outs[0] == outs[1] == want, outs


def _fake_sysfs(mods):
    d = tempfile.mkdtemp()
    for m in mods:
        os.makedirs(os.path.join(d, "module", m))
    return d


@test(unit, "accel-pvm-means-tcg")
def accel_pvm():
    os.environ.pop("HSNIC_ACCEL", None)
    dev = tempfile.NamedTemporaryFile()
    detect = hsniclab.detect_accel
    assert detect(_fake_sysfs(["kvm", "kvm_pvm"]), dev.name)[0] == "tcg"
    assert detect(_fake_sysfs(["kvm", "kvm_intel"]), dev.name)[0] == "kvm"
    assert hsniclab.detect_accel(_fake_sysfs(["kvm"]), dev.name)[0] == "tcg"
    assert hsniclab.detect_accel(_fake_sysfs(["kvm_amd"]), "/nonexistent")[0] \
        == "tcg"


@test(unit, "accel-override")
def accel_override():
    os.environ["HSNIC_ACCEL"] = "kvm"
    try:
        assert hsniclab.detect_accel(_fake_sysfs(["kvm_pvm"]), "/x")[0] \
            == "kvm"
    finally:
        del os.environ["HSNIC_ACCEL"]


@test(unit, "agent-protocol")
def agent_protocol():
    # A fake guest on the other end of a socket pair: answers RUN with
    # two lines of output (one of them binary-unsafe) and exit code 3.
    host, guest = socket.socketpair()
    a = hsniclab.Agent("unused", "fake")
    a.attach(host)

    def fake_guest():
        f = guest.makefile("rw")
        f.write("READY fake\n")
        f.flush()
        verb, cid, tmo, b64 = f.readline().split()
        assert verb == "RUN" and tmo == "7"
        script = base64.b64decode(b64).decode()
        for line in ("got: " + script, "\u00e9 %s" % "x" * 3):
            f.write("OUT %s %s\n" % (cid, base64.b64encode(
                line.encode()).decode()))
        f.write("OUT %s\n" % cid)         # an empty line
        f.write("END %s 3\n" % cid)
        f.flush()

    t = threading.Thread(target=fake_guest)
    t.start()
    a.wait_ready(5, lambda: True)
    cid = a.start("echo hi", 7)
    rc, out = a.wait(cid, 5, lambda: True)
    t.join()
    assert rc == 3, rc
    assert out.splitlines()[0] == "got: echo hi", out
    assert out.endswith("\n"), repr(out)


@test(unit, "agent-detects-dead-vm")
def agent_dead():
    host, guest = socket.socketpair()
    a = hsniclab.Agent("unused", "fake")
    a.attach(host)
    guest.close()
    try:
        a.wait_ready(5, lambda: True)
    except hsniclab.LabError as e:
        assert "died" in str(e)
    else:
        raise AssertionError("a closed agent socket was not noticed")


@test(unit, "topology-addresses-are-documentation-ranges")
def topo_addresses():
    for topo in hsniclab.TOPOLOGIES:
        lb = hsniclab.Lab.__new__(hsniclab.Lab)
        lb.workdir = tempfile.mkdtemp()
        lb.topology, lb.conf, lb.vms = topo, [], []
        lb.half = lb.tcp = lb.netns = None
        lb.taps, lb.keep, lb.quiet = [], False, True
        try:
            lb.build_topology()
        finally:
            ns = lb.netns
            lb.stop()       # pair-tap made a network namespace
        if ns:
            res = subprocess.run(["ip", "netns", "list"], text=True,
                                 capture_output=True)
            assert ns not in res.stdout, "netns %s left behind" % ns
        ifaces = [c.split() for c in lb.conf if c.startswith("iface")]
        assert len(ifaces) == 2, ifaces
        for f in ifaces:
            assert f[4].startswith("192.0.2.") and \
                f[5].startswith("2001:db8:"), f
        macs = {f[2] for f in ifaces}
        assert len(macs) == 2, "MACs must differ: %s" % macs
        for vm in lb.vms:
            for nd in vm.netdev_args:
                # sockets on this host, or taps in the lab's own netns
                assert "127.0.0.1" in nd or "unix" in nd or \
                    nd.startswith("tap,") and "script=no" in nd, nd


@test(unit, "pair-tcp-halves")
def pair_tcp_halves():
    nds = []
    for half in ("vm0", "vm1"):
        lb = hsniclab.Lab.__new__(hsniclab.Lab)
        lb.workdir = tempfile.mkdtemp()
        lb.topology, lb.conf, lb.vms = "pair-tcp", [], []
        lb.half, lb.tcp = half, "198.51.100.7:4711"
        lb.build_topology()
        assert [vm.name for vm in lb.vms] == [half], lb.vms
        nds += lb.vms[0].netdev_args
    assert "server=on" in nds[0] and "server=off" in nds[1], nds
    for nd in nds:
        assert "addr.host=198.51.100.7,addr.port=4711" in nd, nd
    try:
        hsniclab.Lab("pair", half="vm0", tcp="127.0.0.1:1", quiet=True)
    except hsniclab.LabError as e:
        assert "pair-tcp" in str(e)
    else:
        raise AssertionError("--half accepted on pair")


@test(unit, "cli-rejects-bad-arguments")
def cli_bad_args():
    res = subprocess.run([os.path.join(TOP, "scripts/lab.py"), "run", "-n",
                          "rtl8139", "--", "true"], capture_output=True,
                         text=True)
    assert res.returncode == 2 and "invalid choice" in res.stderr, res.stderr
    res = subprocess.run([os.path.join(TOP, "scripts/lab.py"), "run"],
                         capture_output=True, text=True,
                         env=dict(os.environ, HSNIC_QEMU="/bin/false",
                                  HSNIC_KDIR="/nonexistent",
                                  HSNIC_ROOTFS="/nonexistent"))
    assert res.returncode == 125 and "nothing to run" in res.stderr, \
        res.stderr


@test(unit, "console-alarms-are-caught")
def console_alarms():
    vm = hsniclab.VM.__new__(hsniclab.VM)
    vm.name = "fake"
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("[ 1.0] hsnic 0000:01:00.0 eth0: Link is Up\n"
                "[ 2.0] ------------[ cut here ]------------\n"
                "[ 2.1] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 x+0x1\n"
                "[ 3.0] Kernel panic - not syncing: Fatal exception\n")
    vm.consoles = [f.name]
    alarms = vm.console_alarms()
    report = vm.alarm_report()
    os.unlink(f.name)
    assert len(alarms) == 2 and "WARNING" in alarms[0] and \
        "panic" in alarms[1], alarms
    assert "Kernel panic" in "\n".join(alarms)
    # the report starts at the first alarm and goes on past it
    assert "from line 3" in report and "Link is Up" not in report and \
        "Kernel panic" in report, report


# The time budget of tests/run.py (harness.Budget, harness.Times): a run
# of fake groups whose expected durations are known.
def _fake_groups(log):
    from lib import harness

    def mk(name, tier, secs, rank=100):
        g = harness.Group(name, setup=lambda: log.append("setup " + name),
                          teardown=lambda fx: None, tier=tier, rank=rank)
        for i, s in enumerate(secs):
            g.tests.append(("t%d" % i, lambda fx, n="%s/t%d" % (name, i):
                            log.append(n)))
        return g
    return mk


@test(unit, "budget-leaves-out-what-does-not-fit")
def budget_left_out():
    import time
    from lib import harness
    log = []
    mk = _fake_groups(log)
    groups = [mk("a", "lab", [1, 1]), mk("b", "slow", [500, 1]),
              mk("c", "slow", [1])]
    times = harness.Times(None, reference=None, factor=1.0)
    for g, secs in zip(groups, ([1, 1], [500, 1], [1])):
        times.history["%s/@setup" % g.name] = [2]
        for i, s in enumerate(secs):
            times.history["%s/t%d" % (g.name, i)] = [s]
    budget = harness.Budget(time.time() + 60, times=times)
    res = harness.run(groups, lambda s: None, budget=budget)
    status = {"%s/%s" % (r.group, r.name): r.status for r in res}
    # b/t0 (500 s) does not fit and is left out; b/t1 and c still run
    assert status == {"a/t0": "passed", "a/t1": "passed",
                      "b/t0": "skipped", "b/t1": "passed",
                      "c/t0": "passed"}, status
    assert harness.left_out(res) == ["b/t0"], harness.left_out(res)
    assert "b/t0" not in log and "c/t0" in log, log
    line, _ = harness.summary(res)
    assert line == "4 passed, 0 failed, 1 skipped", line
    # a group whose setup alone does not fit is not set up at all
    log.clear()
    times.history["c/@setup"] = [120]
    res = harness.run([groups[2]], lambda s: None, budget=budget)
    assert [r.status for r in res] == ["skipped"] and not log, (res, log)


@test(unit, "budget-interrupts-at-the-hard-deadline")
def budget_hard():
    import time
    from lib import harness
    g = harness.Group("h", tier="lab")
    g.tests.append(("sleeper", lambda: time.sleep(30)))
    g.tests.append(("after", lambda: None))
    times = harness.Times(None, reference=None, factor=1.0)
    times.history["h/sleeper"] = [0.1]
    times.history["h/after"] = [0.1]
    t0 = time.monotonic()
    budget = harness.Budget(time.time() + 1.5, time.time() + 1.5,
                            times=times)
    res = harness.run([g], lambda s: None, budget=budget)
    took = time.monotonic() - t0
    assert took < 10, "the sleeper was not interrupted (%.1f s)" % took
    assert [(r.name, r.status) for r in res] == [
        ("sleeper", "failed"), ("after", "skipped")], \
        [(r.name, r.status, r.detail) for r in res]
    assert "hard deadline" in res[0].detail and res[1].left_out


@test(unit, "budget-times-history-and-priority")
def budget_times():
    import json
    from lib import harness
    with tempfile.TemporaryDirectory() as d:
        ref = os.path.join(d, "ref.json")
        with open(ref, "w") as f:
            json.dump({"g/x": 100}, f)
        path = os.path.join(d, "hist.json")
        t = harness.Times(path, reference=ref, factor=1.5)
        assert t.expect("g/x", 5) == 150        # reference x factor
        assert t.expect("g/y", 5) == 7.5        # tier default x factor
        for s in (10, 30, 20, 12):
            t.record("g/x", s)
        t.save()
        t2 = harness.Times(path, reference=ref)
        # the last three runs, the slowest of them, with 10 % margin
        assert t2.history["g/x"] == [30, 20, 12], t2.history
        assert abs(t2.expect("g/x", 5) - 33) < 1e-6
    mk = _fake_groups([])
    gs = [mk("l1", "lab", []), mk("s1", "slow", []),
          mk("s2", "slow", [], rank=10), mk("u", "unit", []),
          mk("l2", "lab", [])]
    gs[0].share = gs[4].share = "k"
    gs.insert(1, mk("l3", "lab", []))
    order = [g.name for g in harness.by_priority(gs)]
    assert order == ["u", "l1", "l2", "l3", "s2", "s1"], order


@test(unit, "selftest-judge-xfail-is-not-a-pass")
def selftest_judge():
    from lib.ktap import KtapResult, judge
    out = ("TAP version 13\n1..3\nok 1 t.test_a\n"
           "ok 2 t.test_b # XFAIL feature missing\n"
           "ok 3 t.test_c # SKIP no offload\n"
           "# Totals: pass:1 fail:0 xfail:1 xpass:0 skip:1 error:0\n")
    res = KtapResult(out)
    assert res.named("xfail") == ["t.test_b"], res.cases
    problems = judge(res, {"t.test_c": "needs an offload device"}, 0)
    assert problems == ["xfailed: t.test_b (feature missing)"], problems
    assert judge(res, {"t.test_b": "x", "t.test_c": "y"}, 0) == []
    assert judge(res, {"t.test_b": "x"}, 0) == \
        ["skipped: t.test_c (no offload)"]
    bad = KtapResult("not ok 1 t.test_a\n")
    assert judge(bad, {}, 1) == ["failed: t.test_a"]
    assert judge(KtapResult(""), {}, 0) == ["no test case results"]


@test(unit, "bench-incomplete-peer-set-is-not-measured")
def bench_incomplete():
    import bench
    ran = {"tcp-1-up", "tcp-1-down", "tcp-4-up", "tcp-4-down", "tcp-rr"}

    def lane(v):
        return {"median": v, "min": v, "max": v, "n": 5, "higher": True}
    full = {"hsnic": lane(300), "virtio-net-pci": lane(200),
            "igb": lane(100), "e1000e": lane(50)}
    table = {"stream": {n: dict(full) for n in ran}}
    verd = bench.verdicts(table, {}, ran - {"tcp-rr"} | {"x"})
    assert [ok for _, ok, _ in verd[:4]] == [True] * 4, verd
    # igb failed every round of tcp-1-up: no "best peer" from the rest
    del table["stream"]["tcp-1-up"]["igb"]
    verd = bench.verdicts(table, {}, ran)
    what, ok, r = verd[0]
    assert ok is None and "no samples from igb" in what, verd[0]
    assert verd[1][1] is True, verd[1]
    # a run with fewer lanes (--lanes) judges only the lanes it ran
    verd = bench.verdicts(table, {}, ran, ("hsnic", "virtio-net-pci"))
    assert verd[0][1] is True and abs(verd[0][2] - 1.5) < 1e-9, verd[0]


@test(unit, "qtest-glib-skip-is-not-a-pass")
def qtest_tap():
    from lib.tap import tap_verdict
    assert tap_verdict("TAP version 14\nok 1 /x86_64/a/hsnic/b\n1..1\n") \
        == "pass"
    assert tap_verdict("ok 1 /x86_64/a/hsnic/b # SKIP no MSI-X\n1..1\n") \
        == "skip"
    assert tap_verdict("not ok 1 /x86_64/a/hsnic/b\n") == "fail"
    assert tap_verdict("# random\n") == "fail"


@test(unit, "budget-alarm-between-tests-still-ends-the-run")
def budget_between():
    # The hard deadline strikes outside any test (here in a hook before a
    # group's setup, as when a parked lab is being stopped): the run
    # still returns, with what it did not run left out.
    import time
    from lib import harness

    def slow_hook(g):
        if g.name == "a":
            time.sleep(5)
    ga = harness.Group("a", tier="lab")
    ga.tests.append(("t", lambda: None))
    gb = harness.Group("b", tier="lab")
    gb.tests.append(("t", lambda: None))
    times = harness.Times(None, reference=None, factor=1.0)
    times.history = {"a/t": [0.1], "b/t": [0.1]}
    harness.BEFORE_SETUP.append(slow_hook)
    try:
        budget = harness.Budget(time.time() + 1.5, time.time() + 1.5,
                                times=times)
        res = harness.run([ga, gb], lambda s: None, budget=budget)
    finally:
        harness.BEFORE_SETUP.remove(slow_hook)
    assert [(r.group, r.status, r.left_out) for r in res] == [
        ("a", "skipped", True), ("b", "skipped", True)], \
        [(r.group, r.status, r.detail) for r in res]


@test(unit, "lab-env-boots-again-after-one-hang")
def env_boot_retry():
    from lib import env as lab_env
    starts, stops = [], []

    class FakeLab:
        def __init__(self, *a, **kw):
            self.vms = ["vm0", "vm1"]

        def start(self):
            starts.append(self)
            if len(starts) in (1, 3, 4):
                raise hsniclab.LabError("vm1: agent not ready after 240 s\n"
                                   "--- vm1 console ---")

        def stop(self):
            stops.append(self)
    real = hsniclab.Lab
    hsniclab.Lab = FakeLab
    try:
        env = lab_env.Env("pair", "hsnic")
        assert len(starts) == 2 and stops == [starts[0]], (starts, stops)
        assert env.labs == [starts[1]] and env.vms == ["vm0", "vm1"]
        # a second hang in a row fails the setup
        try:
            lab_env.Env("pair", "hsnic")
            raise AssertionError("two hangs in a row did not fail")
        except hsniclab.LabError:
            pass
        assert len(starts) == 4
    finally:
        hsniclab.Lab = real


def _callgraph(*args):
    return subprocess.run([sys.executable,
                           os.path.join(TOP, "scripts", "callgraph.py")] +
                          list(args), capture_output=True, text=True)


@test(unit, "callgraph-sees-cycles-and-long-functions")
def callgraph_selftest():
    # The checker itself: a cycle through a header inline and through an
    # ops table, a long function, and a static name that is no edge.
    with tempfile.TemporaryDirectory() as d:
        files = {
            "x.h": "static inline int x_get(void)\n{\n\treturn b_val();\n}\n"
                   "int a_fn(int v);\n",
            "a.c": '#include "x.h"\n/* b_val() in a comment */\n'
                   "static int helper(void)\n{\n\treturn 1;\n}\n"
                   "int a_fn(int v)\n{\n\tconst char *s = \"c_fn()\";\n"
                   "\treturn x_get() + v + helper() + !s;\n}\n",
            "b.c": "int b_val(void)\n{\n\treturn 2;\n}\n"
                   "static int helper(void)\n{\n" + "\tb_val();\n" * 12 +
                   "\treturn 0;\n}\n",
            "c.c": "int c_fn(void)\n{\n\treturn 3;\n}\n"
                   "static const struct ops { int (*f)(int); } o = {\n"
                   "\t.f = a_fn,\n};\n",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        # acyclic so far: c.c -> a.c -> x.h -> b.c
        res = _callgraph(d, "-v")
        assert res.returncode == 0, res.stdout + res.stderr
        for edge in ("a.c -> x.h: a_fn -> x_get",
                     "x.h -> b.c: x_get -> b_val",
                     "c.c -> a.c: (file scope) -> a_fn"):
            assert edge in res.stdout, (edge, res.stdout)
        assert "a.c -> b.c" not in res.stdout, res.stdout  # comment
        assert "a.c -> c.c" not in res.stdout, res.stdout  # string
        assert "-> helper" not in res.stdout, res.stdout   # static
        res = _callgraph(d, "--max-func-lines", "10")
        assert res.returncode == 1, res.stdout
        assert "FAIL: helper (b.c:5): 16 lines (limit 10)" in res.stdout, \
            res.stdout
        # b.c calling into c.c closes the circle c -> a -> x.h -> b -> c
        with open(os.path.join(d, "b.c"), "a") as f:
            f.write("int b_more(void)\n{\n\treturn c_fn();\n}\n")
        res = _callgraph(d)
        assert res.returncode == 1, res.stdout
        assert "FAIL: call cycle between a.c, b.c, c.c, x.h" in res.stdout, \
            res.stdout


@test(unit, "device-and-driver-files-are-layered")
def callgraph_layers():
    # Issue 17's rule: calls run one way between the files of the device
    # model and of the driver; no file over 1,400 lines, no function over
    # 100. The PNGs are the drawings docs point at.
    os.makedirs(os.path.join(TOP, "build"), exist_ok=True)
    for name, path in (("device", "hw/net/hsnic"),
                       ("driver", "guest-driver")):
        res = _callgraph(os.path.join(TOP, path), "--max-file-lines", "1400",
                         "--max-func-lines", "100", "--png",
                         os.path.join(TOP, "build", "callgraph-%s.png" % name))
        assert res.returncode == 0, "%s:\n%s%s" % (path, res.stdout,
                                                  res.stderr)


@test(unit, "abi-header-is-a-uapi-header")
def abi_header_uapi():
    # In a kernel tree the ABI header is include/uapi/misc/hsnic_abi.h
    # (scripts/driver-into-tree.py): headers_install wants the syscall
    # note, and the uapi header test compiles it as C90 and C++98.
    hdr = os.path.join(TOP, "include", "hsnic_abi.h")
    with open(hdr) as f:
        first = f.readline()
    assert "WITH Linux-syscall-note" in first, first
    for lang, std in (("c", "-std=c90"), ("c++", "-std=c++98")):
        res = subprocess.run(["gcc", "-x", lang, std, "-Wall", "-Werror",
                              "-fsyntax-only", "-include", hdr, "-include",
                              hdr, "/dev/null"],
                             capture_output=True, text=True)
        assert res.returncode == 0, (std, res.stderr)


def _fake_kernel_tree(d, feature=True):
    """The files scripts/driver-into-tree.py reads and wires in a kernel
    tree, shaped like Linux 7.3's."""
    files = {
        "Makefile": "VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n",
        "include/net/netdev_queues.h":
            "enum {\n\tQCFG_RX_PAGE_SIZE\t= 0x1,\n};\n" if feature else
            "struct netdev_queue_config {\n};\n",
        "drivers/net/ethernet/Kconfig":
            'if ETHERNET\n\nsource "drivers/net/ethernet/google/Kconfig"\n'
            'source "drivers/net/ethernet/hisilicon/Kconfig"\n'
            'source "drivers/net/ethernet/huawei/Kconfig"\n\nendif\n',
        "drivers/net/ethernet/Makefile":
            "obj-$(CONFIG_NET_VENDOR_GOOGLE) += google/\n"
            "obj-$(CONFIG_NET_VENDOR_HUAWEI) += huawei/\n"
            "obj-$(CONFIG_ETHOC) += ethoc.o\n",
        "Documentation/networking/device_drivers/ethernet/index.rst":
            ".. toctree::\n   :maxdepth: 2\n\n   google/gve\n"
            "   huawei/hinic\n\n.. only::  subproject and html\n",
        "MAINTAINERS":
            "List of maintainers\n===================\n\n"
            "3C59X NETWORK DRIVER\nM:\tA <a@example.org>\nS:\tOdd Fixes\n\n"
            "LPC32XX DMAMUX SUPPORT\nM:\tB <b@example.org>\n\n"
            "HSI SUBSYSTEM\nM:\tC <c@example.org>\nF:\tdrivers/hsi/\n\n"
            "HSO 3G MODEM DRIVER\nL:\tlinux-usb@vger.kernel.org\n",
    }
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)


def _tree_snapshot(d):
    snap = {}
    for root, dirs, names in os.walk(d):
        dirs[:] = [x for x in dirs if x != ".git"]
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                snap[os.path.relpath(p, d)] = (f.read(), os.stat(p).st_mtime_ns)
    return snap


@test(unit, "driver-into-tree-patch-and-tree")
def driver_into_tree():
    # Issue 19: the in-tree driver, as a git-am-able patch and copied into
    # a tree, the two giving the same files; a second --tree run changes
    # nothing; a tree without the queue configuration API is refused.
    script = os.path.join(TOP, "scripts", "driver-into-tree.py")
    author = "Hsnic Test <test@example.org>"

    def run(*args):
        return subprocess.run([sys.executable, script, "--author", author]
                              + list(args), capture_output=True, text=True)

    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e.org")
    with tempfile.TemporaryDirectory() as d:
        base, am, tree = (os.path.join(d, x) for x in ("base", "am", "tree"))
        for t in (base, am, tree):
            _fake_kernel_tree(t)
        patch = os.path.join(d, "hsnic.patch")
        res = run("--patch", patch, "--base", base)
        assert res.returncode == 0, res.stderr
        with open(patch) as f:
            text = f.read()
        assert text.startswith("From "), text[:200]
        assert "Subject: [PATCH] net: ethernet: add hsnic" in text
        assert "Signed-off-by: " + author in text
        for path in ("MAINTAINERS", "drivers/net/ethernet/Kconfig",
                     "drivers/net/ethernet/Makefile",
                     "drivers/net/ethernet/hsnic/Kconfig",
                     "drivers/net/ethernet/hsnic/Makefile",
                     "drivers/net/ethernet/hsnic/hsnic_queue.c",
                     "include/uapi/misc/hsnic_abi.h",
                     "Documentation/networking/device_drivers/ethernet/"
                     "hsnic.rst",
                     "Documentation/networking/device_drivers/ethernet/"
                     "index.rst"):
            assert "+++ b/%s\n" % path in text, path
        # MAINTAINERS first, for checkpatch
        assert text.index("+++ b/MAINTAINERS") < text.index("+++ b/Doc")
        assert "+obj-$(CONFIG_HSNIC) += hsnic.o\n" in text
        assert "KBUILD_EXTMOD" not in text and "out of tree only" not in text
        assert "+#include <uapi/misc/hsnic_abi.h>\n" in text
        assert '#include "hsnic_abi.h"' not in text
        # git am onto the base, committed
        for args in (["init", "-q"], ["add", "-A"],
                     ["commit", "-q", "-m", "base"], ["am", "-q", patch]):
            subprocess.run(["git", "-C", am] + args, check=True, env=env,
                           capture_output=True)
        # --tree gives the same files; twice changes nothing
        res = run("--tree", tree)
        assert res.returncode == 0, res.stderr
        want = {k: v[0] for k, v in _tree_snapshot(am).items()}
        got = _tree_snapshot(tree)
        assert want == {k: v[0] for k, v in got.items()}, \
            sorted(set(want) ^ set(got))
        res = run("--tree", tree)
        assert res.returncode == 0, res.stderr
        assert "nothing changed" in res.stderr, res.stderr
        assert _tree_snapshot(tree) == got
        ethk = os.path.join(tree, "drivers/net/ethernet/Kconfig")
        with open(ethk) as f:
            lines = f.read().split("\n")
        assert lines.index('source "drivers/net/ethernet/hsnic/Kconfig"') \
            == lines.index('source "drivers/net/ethernet/hisilicon/Kconfig"') + 1
        # a base with hsnic in it already, and a tree older than 7.0
        res = run("--patch", patch, "--base", tree)
        assert res.returncode == 1 and "already" in res.stderr, res.stderr
        old = os.path.join(d, "old")
        _fake_kernel_tree(old, feature=False)
        res = run("--tree", old)
        assert res.returncode == 1, res.stderr
        assert "hsnic needs Linux 7.0 or later" in res.stderr, res.stderr
        assert not os.path.exists(os.path.join(old, "drivers/net/ethernet/"
                                               "hsnic"))
