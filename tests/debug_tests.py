"""Debugging the lab with gdb (scripts/lab.py --gdb, docs/debugging.md).

`hsnic-gdb` boots `pair` with a gdbstub per VM and attaches the host's
gdb to vm1 through the gdbinit the lab writes (vmlinux, the kernel's gdb
helpers, `lx-symbols` for hsnic.ko), as a developer would. It checks
`lx-dmesg`, then sets hardware-assisted breakpoints (`hbreak`) on hsnic's
NAPI poll function and on its queue-restart start callback, continues,
and meanwhile pings vm1 from vm0 and restarts an RX queue of vm1 through
debugfs. Both breakpoints must hit with a backtrace that leads there
through the core (NAPI; the queue management API), and once gdb has
detached the guest must finish its work: the restart returns 0, ping and
a sha256-checked transfer succeed.

`hbreak` rather than `break`: under TCG both are kept by QEMU's gdbstub
outside guest memory and work alike; under KVM `hbreak` uses the CPU's
debug registers and leaves kernel text alone.

While gdb holds vm1 at a breakpoint the whole guest is frozen, so the
guest-side commands are started in the background and only waited for
after gdb detached. Nothing can hang for good: gdb gets a deadline, after
which the test stops vm1 over QMP (gdb sees SIGINT, reports and
detaches), then kills gdb, and in every case makes sure vm1 runs again.
"""

import os
import re
import signal
import subprocess
import threading
import time

import hsniclab
from lib.checks import check_ping, check_transfer, ip
from lib.env import setup, teardown
from lib.harness import Skip, group, test

GDB = "/usr/bin/gdb"
# Seconds for gdb to load the symbols and attach, then for both
# breakpoints to hit (the machine may be shared and slow).
GDB_ATTACH_TIMEOUT = int(os.environ.get("HSNIC_GDB_ATTACH_TIMEOUT", "300"))
GDB_HIT_TIMEOUT = int(os.environ.get("HSNIC_GDB_TIMEOUT", "300"))

# (function, where it is, a caller its backtrace must show: any of these)
BREAKPOINTS = (
    ("hsnic_poll", "hsnic_txrx.c", ("__napi_poll", "net_rx_action")),
    ("hsnic_queue_start", "hsnic_queue.c", ("netdev_rx_queue_restart",)),
)

# Runs inside gdb (gdb -batch -nx -x <vm>/gdbinit -x this): after the
# gdbinit attached and loaded hsnic.ko's symbols. Every line meant for the
# test starts with "@@"; gdb's own output goes along and ends up in the
# failure message.
GDB_SCRIPT = r'''
import gdb

FUNCS = %(funcs)r


def say(*words):
    gdb.write("@@" + " ".join(str(w) for w in words) + "\n")
    gdb.flush()


for line in gdb.execute("lx-dmesg", to_string=True).splitlines():
    if "hsnic" in line:
        say("DMESG", line)

stops = []
gdb.events.stop.connect(stops.append)
pending = {}
for fn in FUNCS:
    bp = gdb.Breakpoint(fn, type=gdb.BP_HARDWARE_BREAKPOINT)
    if bp.pending or not bp.location:
        say("ERROR", "no location for", fn)
        FUNCS = ()
        break
    pending[bp.number] = (fn, bp)
if FUNCS:
    say("ARMED", *FUNCS)
while FUNCS and pending:
    del stops[:]
    try:
        gdb.execute("continue")
    except gdb.error as e:
        say("ERROR", "continue:", e)
        break
    ev = stops[-1] if stops else None
    hit = [b.number for b in getattr(ev, "breakpoints", ())
           if b.number in pending]
    if not hit:
        say("STOPPED", "not at a breakpoint:",
            getattr(ev, "stop_signal", type(ev).__name__))
        break
    for n in hit:
        fn, bp = pending.pop(n)
        say("HIT", fn, "thread", gdb.selected_thread().num)
        for line in gdb.execute("bt 30", to_string=True).splitlines():
            say("BT", fn, line)
        bp.delete()
say("DETACH")
gdb.execute("detach")
say("DONE")
'''


class GdbSession:
    """gdb in batch mode on a script, its output collected by a thread."""

    def __init__(self, vm, script):
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(
            [GDB, "-batch", "-nx", "-x", vm.gdbinit, "-x", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace",
            cwd=vm.dir, start_new_session=True)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.proc.wait()
            self.cv.notify_all()

    def wait_for(self, marker, timeout):
        """True once a line starts with marker; False on timeout or when
        gdb exited without printing it."""
        with self.cv:
            return self.cv.wait_for(
                lambda: self.has(marker) or self.proc.poll() is not None,
                timeout) and self.has(marker)

    def has(self, marker):
        return any(ln.startswith(marker) for ln in self.lines)

    def marked(self, tag):
        """The "@@TAG ..." lines, without the tag."""
        pfx = "@@%s " % tag
        return [ln[len(pfx):] for ln in self.lines if ln.startswith(pfx)]

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log(self, n=60):
        return "--- gdb output (last %d lines) ---\n%s" % (
            n, "\n".join(self.lines[-n:]))


def _frame_function(bt_line):
    """The function of a `bt` line ("#1  0xffff... in f (args) at ...")."""
    m = re.match(r"#\d+\s+(?:0x[0-9a-f]+ in )?([\w.]+) \(", bt_line)
    return m.group(1) if m else None


def _ensure_running(vm):
    """A guest gdb left stopped (killed while attached) runs again.
    Returns the status it found, for the failure messages."""
    try:
        status = vm.qmp.cmd("query-status")["status"]
        if status != "running":
            vm.qmp.cmd("cont")
        return status
    except (OSError, hsniclab.LabError) as e:
        return "unknown (QMP: %s)" % e


def gdb_breakpoints(env):
    if not os.access(GDB, os.X_OK):
        raise Skip("no %s (apt-get install gdb)" % GDB)
    (svm, _, _), (rvm, _, rn) = env.ends
    dev = env.dev(1)
    _, out = rvm.run("d=$(readlink -f /sys/class/net/%s/device); "
                     "echo ${d##*/}" % dev, check=True)
    restart = "/sys/kernel/debug/hsnic/%s/restart_rx_queue" % out.strip()
    script = os.path.join(rvm.dir, "breakpoints.py")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT % {"funcs": [b[0] for b in BREAKPOINTS]})

    gdb = GdbSession(rvm, script)
    ping = rcid = None
    try:
        if not gdb.wait_for("@@ARMED", GDB_ATTACH_TIMEOUT):
            raise AssertionError(
                "gdb did not arm its breakpoints: %s\n%s" % (
                    "; ".join(gdb.marked("ERROR")) or
                    ("it exited (code %d)" % gdb.proc.returncode
                     if gdb.proc.poll() is not None else
                     "not attached after %d s" % GDB_ATTACH_TIMEOUT),
                    gdb.log()))
        t0 = time.monotonic()
        # vm1 runs again once gdb continues; these commands wait in the
        # agent's channel while it is held at a breakpoint.
        ping = svm.start_bg("ping -c 25 -i 0.2 -W 1 %s" % ip(rn),
                            timeout=600)
        rcid = rvm.start_bg("echo 0 > %s" % restart, timeout=600)
        if not gdb.wait_for("@@DONE", GDB_HIT_TIMEOUT):
            # Watchdog: stopping the VM ends gdb's `continue` (SIGINT);
            # the script reports what is missing and detaches.
            rvm.qmp.cmd("stop")
            gdb.wait_for("@@DONE", 60)
        secs = time.monotonic() - t0
    finally:
        gdb.kill()
        was = _ensure_running(rvm)
    hits = [ln.split()[0] for ln in gdb.marked("HIT")]
    for fn, src, callers in BREAKPOINTS:
        assert fn in hits, "breakpoint on %s never hit within %d s (gdb: " \
            "%s; vm1 was %s)\n%s" % (
                fn, GDB_HIT_TIMEOUT, "; ".join(
                    gdb.marked("STOPPED") + gdb.marked("ERROR")) or
                "no report", was, gdb.log())
        bt = [ln.split(" ", 1)[1] for ln in gdb.marked("BT")
              if ln.split(" ", 1)[0] == fn]
        frames = [_frame_function(ln) for ln in bt]
        assert frames and frames[0] == fn and src in bt[0], \
            "%s: frame #0 is not %s in %s:\n%s" % (fn, fn, src, "\n".join(bt))
        assert set(callers) & set(frames), \
            "%s: no %s in the backtrace:\n%s" % (
                fn, " or ".join(callers), "\n".join(bt))
        print("    %s hit: %s <- ..." % (fn, " <- ".join(frames[:6])))
    assert gdb.has("@@DONE"), "gdb did not detach\n" + gdb.log()
    dmesg = gdb.marked("DMESG")
    assert any("hsnic ABI" in ln for ln in dmesg), \
        "lx-dmesg shows no hsnic probe line:\n" + "\n".join(dmesg)
    print("    both breakpoints hit and gdb detached in %.1f s; lx-dmesg: %s"
          % (secs, dmesg[-1].strip()[:90]))

    # The guest finishes what it was doing while held.
    rc, out = rvm.wait_bg(rcid, timeout=600)
    assert rc == 0, "restart_rx_queue failed (exit %d): %s" % (rc, out)
    rc, out = svm.wait_bg(ping, timeout=600)
    print("    ping during the session: %s" % (
        [ln for ln in out.splitlines() if "transmitted" in ln] or [out])[0])
    check_ping(env)
    check_transfer(env, 16)


_gdb = group("hsnic-gdb", setup("pair", "hsnic", gdb=True), teardown)
test(_gdb, "breakpoints-poll-and-queue-restart")(gdb_breakpoints)
