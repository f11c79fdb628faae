"""Deterministic record/replay of a lab run (scripts/lab.py record|replay,
docs/debugging.md).

`hsnic-record-replay` records a loop VM under QEMU's record/replay
(-icount rr=record: one vCPU, the instruction counter as clock, every
input in a log) while the guest runs a scenario on its own: iperf3 from
one hsnic port to the other (in its own network namespace), then 8 MiB of
devmem TCP into a udmabuf through ncdevmem, every byte validated. Then it
replays the log and the guest's console must come out byte for byte the
same: same kernel timestamps, same iperf3 figures, same hsnic counters.
hsnic makes this possible by scheduling its bottom halves as replay events
(replay_bh_schedule_event): with plain qemu_bh_schedule() the replay
stalls at the first packet.

The third test replays once more with gdb attached and goes back in time:
it stops in hsnic_poll, steps forward, reverse-steps to the same
instructions, continues to the next hsnic_poll and reverse-continues back
to the first stop, at the same instruction count.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import hsniclab
from lib.harness import Skip, group, test

GDB = "/usr/bin/gdb"
RR_TIMEOUT = int(os.environ.get("HSNIC_RR_TIMEOUT", "600"))
DEVMEM_MIB = 8

SCENARIO = r"""
set -e
. /lab/selftests/drivers/net/net.config
echo 64 > /proc/sys/vm/nr_hugepages
ip netns exec remote iperf3 -s -1 -D -B 192.0.2.2
for i in $(seq 50); do ping -c1 -W1 192.0.2.2 >/dev/null && break; sleep 0.2
done
iperf3 -c 192.0.2.2 -n 4M -f m
{ /lab/selftests/drivers/net/hw/ncdevmem -l -f $NETIF -s 192.0.2.1 \
    -p 5301 -c 192.0.2.2 -v 7 2>&1 >/dev/null; echo "ncdevmem_exit=$?"; } |
    awk '/Failed validation/ { f++ } /total_received=/ { t = $0 }
         /^ncdevmem_exit=/ { e = $0 }
         END { print "failed_validation=" f + 0; print t; print e }' &
ncdevmem=$!
for i in $(seq 300); do ss -ltn | grep -q ':5301 ' && break; sleep 0.2; done
yes $(echo -e '\x01\x02\x03\x04\x05\x06') | head -c %(mib)dM |
    ip netns exec remote socat -u - TCP4:192.0.2.1:5301,bind=192.0.2.2:5301
wait $ncdevmem
ethtool -S $NETIF | grep -E '^ +rx[0-9]+_(packets|bytes):'
""" % {"mib": DEVMEM_MIB}

# Runs inside gdb (gdb -batch -nx -x <vm>/gdbinit -x this) against a
# replay. The gdbinit ran to start_kernel and armed lx-symbols, so the
# breakpoint in hsnic.ko resolves when the module loads. The replay's
# instruction count comes from QMP (query-replay). "@@" lines are for the
# test.
GDB_SCRIPT = r'''
import gdb
import json
import socket

QMP = %(qmp)r


def say(*words):
    gdb.write("@@" + " ".join(str(w) for w in words) + "\n")
    gdb.flush()


def icount():
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(QMP)
        f = s.makefile("rw")
        f.readline()
        for cmd in ("qmp_capabilities", "query-replay"):
            f.write(json.dumps({"execute": cmd}) + "\n")
            f.flush()
            while True:
                r = json.loads(f.readline())
                if "return" in r or "error" in r:
                    break
    return r["return"]["icount"]


def where():
    return icount(), int(gdb.parse_and_eval("$pc")) & (2 ** 64 - 1)


def run(cmd):
    gdb.execute(cmd)
    return where()


bp = gdb.Breakpoint("hsnic_poll", type=gdb.BP_HARDWARE_BREAKPOINT)
say("ARMED")
first = run("continue")
say("HIT", *first, gdb.selected_frame().name())
fwd = [first] + [run("stepi") for _ in range(%(steps)d)]
say("FWD", *["%%d:%%x" %% w for w in fwd])
back = [run("reverse-stepi") for _ in range(%(steps)d)]
say("BACK", *["%%d:%%x" %% w for w in back])
second = run("continue")
say("HIT2", *second, gdb.selected_frame().name())
again = run("reverse-continue")
say("RC", *again, gdb.selected_frame().name())
bp.delete()
gdb.execute("detach")
say("DONE")
'''
STEPS = 3


def _setup():
    return {"dir": tempfile.mkdtemp(prefix="rr-", dir=os.path.join(
        hsniclab.CACHE, "runs"))}


def _teardown(env):
    shutil.rmtree(env["dir"], ignore_errors=True)


g = group("hsnic-record-replay", _setup, _teardown)


def _run(env, mode, gdb=False):
    t0 = time.monotonic()
    with hsniclab.Lab("loop", "hsnic", quiet=True, rr=mode, rr_dir=env["dir"],
                 scenario=SCENARIO if mode == "record" else None,
                 gdb=gdb) as lb:
        out = None
        if gdb:
            out = _reverse_debug(lb.vms[0])
        consoles = lb.wait_scenario(RR_TIMEOUT)
        # as every other group's teardown: a kernel warning fails the run
        vm = lb.vms[0]
        alarms = vm.console_alarms()
        assert not alarms, "%s (%s) console reported:\n  %s\n%s" % (
            vm.name, mode, "\n  ".join(alarms), vm.alarm_report())
    qemu = vm.qemu_alarms()
    assert not qemu, "%s (%s): QEMU reported:\n%s" % (vm.name, mode,
                                                     "\n".join(qemu))
    return consoles["vm0"], time.monotonic() - t0, out


def _scenario_exit(console):
    m = re.search(r"^hsnic-scenario: exit (\d+)", console, re.M)
    return int(m.group(1)) if m else None


@test(g, "record-iperf-and-devmem")
def record(env):
    console, secs, _ = _run(env, "record")
    env["record"] = console
    size = os.path.getsize(os.path.join(env["dir"], "vm0.bin"))
    rc = _scenario_exit(console)
    tail = "\n".join(console.splitlines()[-40:])
    assert rc == 0, "the scenario exited %s:\n%s" % (rc, tail)
    iperf = re.findall(r"([\d.]+ Mbits/sec).*receiver", console)
    assert iperf, "no iperf3 summary:\n" + tail
    assert "failed_validation=0" in console, tail
    assert "total_received=%d" % (DEVMEM_MIB << 20) in console, tail
    assert "ncdevmem_exit=0" in console, tail
    print("    recorded in %.0f s, log %.1f MiB: iperf3 %s, ncdevmem %d MiB "
          "validated" % (secs, size / 2**20, iperf[0], DEVMEM_MIB))


@test(g, "replay-same-console")
def replay(env):
    if "record" not in env:
        raise AssertionError("nothing recorded (the record test failed)")
    console, secs, _ = _run(env, "replay")
    rec = env["record"].splitlines()
    rep = console.splitlines()
    diff = next((i for i, (a, b) in enumerate(zip(rec, rep)) if a != b),
                None if len(rec) == len(rep) else min(len(rec), len(rep)))
    assert diff is None, \
        "the replay's console differs from line %d on:\n  recorded: %s\n" \
        "  replayed: %s\n--- replay console tail ---\n%s" % (
            diff + 1, rec[diff] if diff < len(rec) else "(end)",
            rep[diff] if diff < len(rep) else "(end)", "\n".join(rep[-30:]))
    stamps = re.findall(r"^\[ *([\d.]+)\]", console, re.M)
    print("    replayed in %.0f s: %d console lines identical, guest "
          "clock %s s at the end" % (secs, len(rep),
                                     stamps[-1] if stamps else "?"))


def _reverse_debug(vm):
    """gdb on the replay (stopped before its first instruction, -S): run
    GDB_SCRIPT, return gdb's output. Never hangs: gdb gets a deadline,
    then it is killed and the replay runs on to its end."""
    script = os.path.join(vm.dir, "reverse.py")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT % {"qmp": vm.qmp_path, "steps": STEPS})
    # gdb reads its commands from the scripts; stdin is a pipe of its own
    proc = subprocess.Popen(
        [GDB, "-batch", "-nx", "-x", vm.gdbinit, "-x", script],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace",
        cwd=vm.dir, start_new_session=True)
    timer = threading.Timer(RR_TIMEOUT, os.killpg,
                            (proc.pid, signal.SIGKILL))
    timer.start()
    try:
        out = proc.stdout.read()        # stdin stays open until gdb ends
        proc.wait()
    finally:
        timer.cancel()
        proc.stdin.close()
    return out


def _marked(out, tag):
    pfx = "@@%s " % tag
    return [ln[len(pfx):].split() for ln in out.splitlines()
            if ln.startswith(pfx)]


@test(g, "replay-reverse-debugging")
def reverse_debugging(env):
    if not os.access(GDB, os.X_OK):
        raise Skip("no %s (apt-get install gdb)" % GDB)
    if "record" not in env:
        raise AssertionError("nothing recorded (the record test failed)")
    console, secs, out = _run(env, "replay", gdb=True)
    log = "--- gdb ---\n" + "\n".join(out.splitlines()[-40:])
    assert "@@DONE" in out, "gdb did not finish\n" + log
    hit, = _marked(out, "HIT")
    assert hit[2] == "hsnic_poll", log
    fwd = [tuple(int(x, 16) if i else int(x) for i, x in enumerate(
        w.split(":"))) for w in _marked(out, "FWD")[0]]
    back = [tuple(int(x, 16) if i else int(x) for i, x in enumerate(
        w.split(":"))) for w in _marked(out, "BACK")[0]]
    # forward: one instruction per stepi; backward: the same ones in
    # reverse order, back to the breakpoint
    assert [c for c, _ in fwd] == list(range(fwd[0][0], fwd[0][0] +
                                             STEPS + 1)), log
    assert back == fwd[-2::-1], "reverse-stepi went elsewhere:\n  " \
        "forward %s\n  back %s\n%s" % (fwd, back, log)
    hit2, = _marked(out, "HIT2")
    rc, = _marked(out, "RC")
    assert int(hit2[0]) > int(hit[0]), log
    assert rc[0] == hit[0] and rc[1] == hit[1] and rc[2] == "hsnic_poll", \
        "reverse-continue from icount %s stopped at %s, not at the " \
        "first hit %s\n%s" % (hit2[0], rc, hit, log)
    assert _scenario_exit(console) == 0, \
        "the replay did not run to its end after gdb detached"
    print("    hsnic_poll at icount %s; %d stepi and %d reverse-stepi "
          "retrace it; reverse-continue from icount %s returns to icount "
          "%s (%.0f s)" % (hit[0], STEPS, STEPS, hit2[0], rc[0], secs))
