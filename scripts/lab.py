#!/usr/bin/python3
"""hsnic lab runner: boot VM topologies under QEMU and run commands in them.

Usage (see docs/lab.md for the whole interface):

  scripts/lab.py run [-t loop|pair|pair-tcp] [-n hsnic|virtio-net-pci|igb|e1000e]
                     [--vm NAME|all] [--timeout S] [--script FILE] [-- CMD...]
  scripts/lab.py demo [-n NIC] [--seconds S]
  scripts/lab.py accel

`run` boots the topology, waits for every VM's agent, runs CMD (a bash
command line) or the host-side script FILE inside the chosen VM(s), prints
the output prefixed with the VM name, shuts everything down and exits with
the command's exit code (the first non-zero one when it ran in several VMs).

The module is also the Python API the tests use:

    with Lab(topology="pair", nic="hsnic") as lab:
        rc, out = lab.vms[0].run("ping -c1 192.0.2.2")
"""

import argparse
import glob
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import json
import re

from hsniclab.accel import accel_args, detect_accel  # noqa: F401
from hsniclab.artifacts import Artifacts, script_output  # noqa: F401
from hsniclab.common import (CACHE, TOP, LabError, du_bytes, host,  # noqa: F401
                             log, read_all, sanitize_mode)
from hsniclab.agent import Agent
from hsniclab.qmp import QMP
from hsniclab.rr import RR_MANIFEST, RR_SHIFT
from hsniclab.vm import PCAP_SNAPLEN, VM  # noqa: F401

_script_output = script_output      # scripts/bench-tokens.py

NICS = ("hsnic", "virtio-net-pci", "igb", "e1000e")
TOPOLOGIES = ("loop", "pair", "pair-tcp", "pair-tap")

# Documentation ranges only (RFC 5737, RFC 3849).
NET4 = "192.0.2.%d/24"
NET6 = "2001:db8:1::%d/64"

BOOT_TIMEOUT = 240


# -------------------------------------------------------------------- Lab

def _free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Lab:
    """A running topology. Use as a context manager."""

    def __init__(self, topology="pair", nic="hsnic", mem=1024, smp=2,
                 art=None, accel=None, cmdline=(), extra_qemu_args=(),
                 keep=False, quiet=False, half=None, tcp=None,
                 migratable=False, gdb=False, pcap=False, trace=None,
                 rr=None, rr_dir=None, scenario=None):
        if topology not in TOPOLOGIES:
            raise LabError("unknown topology %r (one of %s)"
                           % (topology, ", ".join(TOPOLOGIES)))
        if nic not in NICS:
            raise LabError("unknown NIC model %r (one of %s)"
                           % (nic, ", ".join(NICS)))
        if half not in (None, "vm0", "vm1"):
            raise LabError("--half takes vm0 or vm1")
        if (half or tcp) and topology != "pair-tcp":
            raise LabError("--half and --tcp go with the pair-tcp topology")
        if rr not in (None, "record", "replay"):
            raise LabError("rr is record or replay, not %r" % rr)
        if rr and not rr_dir:
            raise LabError("record/replay needs a directory for its logs")
        if rr == "record" and not scenario:
            raise LabError("a recording runs a scenario: give its script")
        if rr and (migratable or topology == "pair-tap"):
            raise LabError("record/replay goes with loop, pair or pair-tcp "
                           "and without migration")
        if half and not tcp:
            raise LabError("--half needs --tcp HOST:PORT (vm0 listens on "
                           "it, vm1 connects to it)")
        self.topology = topology
        self.nic = nic
        self.half = half
        self.tcp = tcp
        self.mem = mem
        self.smp = smp
        self.art = art or Artifacts()
        self.cmdline = list(cmdline)
        # gdb=True: a gdbstub per VM (VM.gdb_socket, VM.write_gdbinit());
        # the guest kernel is built without KASLR, nokaslr makes sure.
        # A recording is always made so: a replay may attach gdb.
        self.gdb = gdb
        if gdb or rr:
            self.cmdline.append("nokaslr")
        self.extra_qemu_args = list(extra_qemu_args)
        # pcap=True: a filter-dump per NIC into <vm dir>/nicN[-gN].pcap;
        # pcap=DIR: also copied to DIR by stop() (pcap_files lists them).
        # trace=PATTERN or [PATTERN, ...]: QEMU trace events into
        # <vm dir>/trace[-gN].log.
        self.pcap = pcap
        self.pcap_files = []
        self.trace = [trace] if isinstance(trace, str) else list(trace or ())
        # Disks are throw-away overlays (snapshot=on) unless the lab is to
        # migrate (VM.migrate()): then both QEMU processes share them as
        # two hosts share storage, the root image read-only (the guest
        # mounts it so and writes only to tmpfs) and the lab's own payload
        # disk, private to this run, writable.
        self.migratable = migratable
        # rr="record": the guest runs `scenario` (a bash script) at boot
        # instead of serving the agent, then powers off; every VM's
        # inputs go to rr_dir/<vm>.bin, with the payload disk and a
        # manifest next to them. rr="replay" runs that again from the
        # logs (rr_dir/<vm>.bin): same instructions, same console.
        # Wait for the end with wait_scenario(). See docs/debugging.md.
        self.rr = rr
        self.rr_dir = os.path.abspath(rr_dir) if rr_dir else None
        self.scenario = scenario
        if rr:
            # QEMU records one vCPU only (and icount needs TCG)
            self.cmdline.append("hsnic.scenario=1")
            accel, self.smp = "tcg", 1
        self.keep = keep
        self.quiet = quiet
        if accel:
            self.accel, why = accel, "requested"
        else:
            self.accel, why = detect_accel()
        if self.accel == "tcg" and not quiet and not rr:
            log("using TCG (multi-threaded): %s" % why)
        os.makedirs(os.path.join(CACHE, "runs"), exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="lab-",
                                        dir=os.path.join(CACHE, "runs"))
        self.vms = []
        self.conf = []
        self.netns = None           # pair-tap: host netns of the taps
        self.taps = []

    # -- topology
    def _build_topology(self):
        w = self.workdir
        if self.topology == "loop":
            vm = VM(self, 0, "vm0")
            a, b = os.path.join(w, "l0.sock"), os.path.join(w, "l1.sock")
            dgram = ("dgram,id=%%(id)s,local.type=unix,local.path=%s,"
                     "remote.type=unix,remote.path=%s")
            m0 = vm.add_nic(dgram % (a, b))
            m1 = vm.add_nic(dgram % (b, a))
            self.vms = [vm]
            self.conf += ["iface vm0 %s - %s %s" % (m0, NET4 % 1, NET6 % 1),
                          "iface vm0 %s remote %s %s"
                          % (m1, NET4 % 2, NET6 % 2),
                          "netconfig vm0 %s %s remote" % (m0, m1)]
            return
        if self.topology == "pair-tap":
            self._build_tap_pair()
            return
        if self.topology == "pair":
            addr = "addr.type=unix,addr.path=%s" % os.path.join(w, "pair.sock")
        else:
            host, _, port = (self.tcp or "127.0.0.1:%d"
                             % _free_tcp_port()).rpartition(":")
            if not host or not port.isdigit():
                raise LabError("--tcp wants HOST:PORT, not %r" % self.tcp)
            addr = "addr.type=inet,addr.host=%s,addr.port=%s" % (
                host.strip("[]"), port)
        # vm0 listens, vm1 connects (and reconnects): either may start first.
        ends = [("vm0", "server=on"), ("vm1", "server=off,reconnect-ms=100")]
        for i, (name, role) in enumerate(ends):
            if self.half and self.half != name:
                continue
            vm = VM(self, i, name)
            mac = vm.add_nic("stream,id=%%(id)s,%s,%s" % (role, addr))
            self.vms.append(vm)
            self.conf.append("iface %s %s - %s %s"
                             % (name, mac, NET4 % (i + 1), NET6 % (i + 1)))

    def _build_tap_pair(self):
        """Two VMs on taps bridged in a network namespace of their own.

        The QEMU processes run inside the namespace, so the taps and the
        bridge never meet the host's network. vnet_hdr is on: NIC models
        that can hand offloads to the backend (virtio-net) do.
        """
        self.netns = "hsnic-%s" % os.path.basename(self.workdir)[4:]
        host("ip netns add %s" % self.netns)
        host("ip -n %s link set lo up && ip -n %s link add br0 type bridge "
              "&& ip -n %s link set br0 up" % ((self.netns,) * 3))
        for i, name in enumerate(("vm0", "vm1")):
            vm = VM(self, i, name)
            tap = "hstap%d" % i
            mac = vm.add_nic("tap,id=%%(id)s,ifname=%s,script=no,"
                             "downscript=no,vnet_hdr=on" % tap)
            self.taps.append(tap)
            self.vms.append(vm)
            self.conf.append("iface %s %s - %s %s"
                             % (name, mac, NET4 % (i + 1), NET6 % (i + 1)))

    def _attach_taps(self, timeout=30):
        deadline = time.monotonic() + timeout
        for tap in self.taps:
            while subprocess.run(["ip", "-n", self.netns, "link", "show",
                                  tap], capture_output=True).returncode:
                if time.monotonic() > deadline:
                    raise LabError("QEMU did not create %s" % tap)
                time.sleep(0.1)
            host("ip -n %s link set %s master br0 up" % (self.netns, tap))

    # -- payload disk: agent, tools, module, selftests, lab.conf
    def _build_payload(self):
        stage = os.path.join(self.workdir, "payload")
        shutil.copytree(os.path.join(TOP, "images/payload"), stage,
                        symlinks=True)
        os.makedirs(os.path.join(stage, "modules"))
        if self.nic == "hsnic":
            # hsnic.ko, which the guest's init loads, and in modules/test/
            # the test modules built beside it, which tests load
            shutil.copy(self.art.module, os.path.join(stage, "modules"))
            mdir = os.path.dirname(self.art.module)
            os.makedirs(os.path.join(stage, "modules", "test"))
            for ko in sorted(os.listdir(mdir)):
                if ko.endswith(".ko") and ko != os.path.basename(
                        self.art.module):
                    shutil.copy(os.path.join(mdir, ko),
                                os.path.join(stage, "modules", "test"))
        st = self.art.selftests
        if st and os.path.isdir(st):
            subprocess.run(["cp", "-al", st, os.path.join(stage, "selftests")],
                           check=False)
            if not os.path.isdir(os.path.join(stage, "selftests")):
                shutil.copytree(st, os.path.join(stage, "selftests"),
                                symlinks=True)
        if self.scenario:
            with open(os.path.join(stage, "scenario"), "w") as f:
                f.write(self.scenario)
        with open(os.path.join(stage, "lab.conf"), "w") as f:
            f.write("# topology %s, nic %s\n" % (self.topology, self.nic))
            f.write("\n".join(self.conf) + "\n")
        size = du_bytes(stage)
        size_mb = max(64, int(size * 1.3 / 2**20) + 64)
        self.payload = os.path.join(self.workdir, "payload.ext4")
        res = subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L",
                              "hsnic-lab", "-d", stage, self.payload,
                              "%dM" % size_mb],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if res.returncode:
            raise LabError("mke2fs failed: " + res.stdout)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self, boot_timeout=BOOT_TIMEOUT):
        t0 = time.monotonic()
        # Resolve (and if needed build) everything before the clock starts.
        for attr in ("qemu", "bzimage", "rootfs"):
            getattr(self.art, attr)
        self._build_topology()
        if self.rr == "replay":
            self._rr_check()
            self.payload = os.path.join(self.rr_dir, "payload.ext4")
        else:
            self._build_payload()
        if self.rr == "record":
            self._rr_save()
        for vm in self.vms:
            if self.gdb:
                vm.write_gdbinit()
            vm.start()
        if self.taps:
            self._attach_taps()
        if self.rr:
            if not self.quiet:
                log("%s/%s: %s %s (work dir %s)" % (
                    self.topology, self.nic, "recording into" if
                    self.rr == "record" else "replaying from", self.rr_dir,
                    self.workdir))
            return
        for vm in self.vms:
            try:
                vm.connect(boot_timeout)
            except LabError as e:
                raise LabError("%s\n%s" % (e, vm.console_tail()))
        if sanitize_mode():
            for vm in self.vms:
                vm.kmemleak(clear=True)
        if not self.quiet:
            log("%s/%s up in %.0f s (%s, work dir %s)"
                % (self.topology, self.nic, time.monotonic() - t0,
                   self.accel, self.workdir))

    # -- record/replay
    def _rr_inputs(self):
        """What a replay must run on exactly as the recording did."""
        return {"topology": self.topology, "nic": self.nic,
                "mem": self.mem, "smp": self.smp, "shift": RR_SHIFT,
                "cmdline": self.cmdline, "qemu": self.art.qemu,
                "bzimage": self.art.bzimage, "rootfs": self.art.rootfs,
                "module": self.art.module if self.nic == "hsnic" else None,
                "vms": [vm.name for vm in self.vms]}

    def _rr_save(self):
        os.makedirs(self.rr_dir, exist_ok=True)
        for vm in self.vms:
            if os.path.exists(vm.rr_file):
                os.unlink(vm.rr_file)
        payload = os.path.join(self.rr_dir, "payload.ext4")
        shutil.copyfile(self.payload, payload)
        for vm in self.vms:
            for name, base in (("root", self.art.rootfs),
                               ("payload", payload)):
                res = subprocess.run(
                    ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                     "-b", os.path.abspath(base), vm.rr_disk(name)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    text=True)
                if res.returncode:
                    raise LabError("qemu-img: %s (scripts/deps.sh installs "
                                   "it)" % res.stdout.strip())
        with open(os.path.join(self.rr_dir, RR_MANIFEST), "w") as f:
            json.dump(self._rr_inputs(), f, indent=1)
            f.write("\n")

    def _rr_check(self):
        path = os.path.join(self.rr_dir, RR_MANIFEST)
        try:
            with open(path) as f:
                rec = json.load(f)
        except (OSError, ValueError) as e:
            raise LabError("%s is not a recording: %s" % (self.rr_dir, e))
        now = self._rr_inputs()
        diff = ["%s: recorded %s, now %s" % (k, rec.get(k), v)
                for k, v in now.items() if rec.get(k) != v]
        for vm in self.vms:
            if not os.path.exists(vm.rr_file):
                diff.append("no log %s" % vm.rr_file)
        if diff:
            raise LabError("cannot replay %s:\n  %s" % (
                self.rr_dir, "\n  ".join(diff)))

    def wait_scenario(self, timeout, echo=None):
        """Wait until every VM ran its scenario and powered off; return
        {name: console text}. echo(name, line) gets each console line as
        it comes (progress)."""
        deadline = time.monotonic() + timeout
        seen = {vm.name: 0 for vm in self.vms}
        while True:
            for vm in self.vms:
                lines = vm.console_text().splitlines()
                if echo:
                    for ln in lines[seen[vm.name]:]:
                        echo(vm.name, ln)
                seen[vm.name] = len(lines)
            if not any(vm.alive() for vm in self.vms):
                break
            if time.monotonic() > deadline:
                raise LabError("the scenario did not end within %d s\n%s"
                               % (timeout, "\n".join(
                                   vm.console_tail() for vm in self.vms)))
            time.sleep(0.5)
        out = {}
        for vm in self.vms:
            vm.stderr.close()
            vm.qemu_report = vm.qemu_alarms()
            if vm.proc.returncode:
                raise LabError("%s: QEMU exited with %d:\n%s" % (
                    vm.name, vm.proc.returncode, read_all(vm.qemu_logs)))
            out[vm.name] = vm.console_text()
        return out

    def stop(self):
        for vm in self.vms:
            try:
                vm.shutdown()
            except Exception as e:       # keep shutting the others down
                log("%s: shutdown: %s" % (vm.name, e))
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns],
                           capture_output=True)
            self.netns = None
        # getattr: unit tests make bare Labs (Lab.__new__) and stop them
        pcap, trace = getattr(self, "pcap", None), getattr(self, "trace", ())
        if isinstance(pcap, str) and os.path.isdir(self.workdir):
            self._save_pcaps(pcap)
        if trace and self.keep and not self.quiet:
            for path in sorted(glob.glob(os.path.join(
                    self.workdir, "vm*", "trace*.log"))):
                log("trace: %s" % path)
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif not self.quiet:
            log("kept %s" % self.workdir)

    def _save_pcaps(self, dest):
        """Copy every VM's captures, all generations, to dest as
        vmN-nicN[-gN].pcap."""
        os.makedirs(dest, exist_ok=True)
        for vm in self.vms:
            for src in sorted(glob.glob(os.path.join(vm.dir, "nic*.pcap"))):
                dst = os.path.join(os.path.abspath(dest), "%s-%s" % (
                    vm.name, os.path.basename(src)))
                shutil.copyfile(src, dst)
                self.pcap_files.append(dst)
                if not self.quiet:
                    log("pcap: %s (%d bytes)" % (dst, os.path.getsize(dst)))

    def alarms(self):
        return {vm.name: vm.console_alarms() for vm in self.vms
                if vm.console_alarms()}


# -------------------------------------------------------------------- CLI

DEMO = r"""
set -e
peer=192.0.2.1
for i in $(seq 50); do ping -c1 -W1 $peer >/dev/null && break; sleep 0.2; done
iperf3 -c $peer -t %(secs)d -f m %(extra)s
"""


def _script_arg(args):
    """The bash script of --script FILE or -- CMD, or None."""
    if args.script:
        with open(args.script) as f:
            return f.read()
    if args.command:
        return " ".join(args.command) if len(args.command) > 1 \
            else args.command[0]
    return None


def cmd_run(args):
    script = _script_arg(args)
    if script is None and not args.gdb:      # --gdb alone: wait_for_ctrl_c()
        raise LabError("nothing to run: give -- CMD or --script FILE")
    with Lab(args.topology, args.nic, mem=args.mem, smp=args.smp,
             keep=args.keep or bool(args.trace), half=args.half, tcp=args.tcp,
             gdb=args.gdb, pcap=args.pcap, trace=args.trace) as lab:
        if args.gdb:
            print_gdb_attach(lab)
            if script is None:
                return wait_for_ctrl_c(lab, args.half or args.vm,
                                       args.timeout)
        want = args.half or args.vm
        targets = lab.vms if want == "all" else \
            [v for v in lab.vms if v.name == want]
        if not targets:
            raise LabError("no VM named %s in %s" % (args.vm, args.topology))
        ids = [(vm, vm.agent.start(script, args.timeout,
                                   lambda ln, n=vm.name: print(
                                       "%s| %s" % (n, ln), flush=True)))
               for vm in targets]
        rc = 0
        for vm, cid in ids:
            r, _ = vm.wait_bg(cid, args.timeout)
            if r and not rc:
                rc = r
            if len(targets) > 1 or r:
                log("%s: exit code %d" % (vm.name, r))
        for name, lines in lab.alarms().items():
            log("%s console reported:\n  %s" % (name, "\n  ".join(lines)))
        return rc


def print_gdb_attach(lab):
    """--gdb: the one command per VM that attaches gdb to it."""
    log("gdbstubs up; attaching stops that guest until `continue`, "
        "`detach` or `quit` (docs/debugging.md):")
    for vm in lab.vms:
        log("  %s: gdb -q -x %s" % (vm.name, vm.gdbinit))


def wait_for_ctrl_c(lab, want, timeout):
    """`run --gdb` without a command: keep the lab up until Ctrl-C (or
    SIGTERM or SIGHUP, or Ctrl-D on a terminal), then shut it down. Each
    line typed on stdin runs as a bash command in the --vm VM, or in vmN
    for "vmN: CMD"; a command that starts with "!" goes to that VM's QEMU
    monitor (HMP) instead, e.g. "vm1: !info hsnic"."""
    def interrupt(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    vms = {vm.name: vm for vm in lab.vms}
    if want != "all" and want not in vms:
        raise LabError("no VM named %s in %s" % (want, lab.topology))
    tty = sys.stdin.isatty()
    log("the lab stays up until Ctrl-C%s" % (
        "; a line typed here runs in %s ('vmN: CMD' in vmN, "
        "'!CMD' in the QEMU monitor)" % want
        if tty else ""))

    def run_line(line):
        name, sep, rest = line.partition(":")
        if sep and name.strip() in vms:
            targets, cmd = [vms[name.strip()]], rest
        else:
            targets, cmd = lab.vms if want == "all" else [vms[want]], line
        for vm in targets:
            if cmd.strip().startswith("!"):
                # "!info hsnic": the QEMU monitor, not the guest
                out = vm.qmp.hmp(cmd.strip()[1:])
                for ln in out.rstrip("\n").splitlines():
                    print("%s(qemu)| %s" % (vm.name, ln), flush=True)
            elif cmd.strip():
                rc, _ = vm.run(cmd, timeout, echo=lambda ln: print(
                    ln, flush=True))
                if rc:
                    log("%s: exit code %d" % (vm.name, rc))

    fd, buf, reading = sys.stdin.fileno(), b"", True
    try:
        while True:
            for vm in lab.vms:
                if not vm.alive():
                    raise LabError("%s: QEMU exited\n%s"
                                   % (vm.name, vm.console_tail()))
            if not reading:
                time.sleep(1)
                continue
            if not select.select([fd], [], [], 1)[0]:
                continue
            data = os.read(fd, 4096)
            if not data:
                if tty:
                    break           # Ctrl-D
                reading = False     # /dev/null or a finished pipe
            *lines, buf = (buf + data).split(b"\n")
            for line in lines:
                run_line(line.decode("utf-8", "replace"))
    except KeyboardInterrupt:
        log("interrupted: shutting the lab down")
        return 130
    log("shutting the lab down")
    return 0


def cmd_demo(args):
    with Lab("pair", args.nic) as lab:
        srv, cli = lab.vms
        srv.run("iperf3 -s -D -1", check=True)
        log("iperf3 over %s, %d s, vm1 -> vm0" % (args.nic, args.seconds))
        rc, out = cli.run(DEMO % {"secs": args.seconds, "extra": ""},
                          timeout=args.seconds + 60, echo=print)
        if rc:
            raise LabError("demo failed:\n" + out)
        for line in out.splitlines():
            m = re.search(r"(\S+ \S?Bytes)\s+(\S+ \S?bits/sec).*receiver",
                          line)
            if m:
                print("demo: %s, vm1 -> vm0, %d s: %s received, %s (%s)"
                      % (args.nic, args.seconds, m.group(1), m.group(2),
                         lab.accel))
                return 0
        raise LabError("no iperf3 summary in the output")


def cmd_record(args):
    script = _script_arg(args)
    if script is None:
        raise LabError("nothing to record: give -- CMD or --script FILE")
    return _rr_run(args, "record", script)


def cmd_replay(args):
    return _rr_run(args, "replay", None)


def _rr_run(args, mode, script):
    def interrupt(*_):
        raise KeyboardInterrupt         # shuts the lab down on the way out
    signal.signal(signal.SIGTERM, interrupt)
    t0 = time.monotonic()
    rr_dir = os.path.abspath(args.dir)
    if mode == "record":
        topology, nic, mem = args.topology, args.nic, args.mem
    if mode == "replay":
        try:
            with open(os.path.join(rr_dir, RR_MANIFEST)) as f:
                rec = json.load(f)
            topology, nic, mem = rec["topology"], rec["nic"], rec["mem"]
        except (OSError, ValueError, KeyError) as e:
            raise LabError("%s is not a recording: %s" % (rr_dir, e))
    with Lab(topology, nic, mem=mem, keep=args.keep,
             gdb=getattr(args, "gdb", False), rr=mode, rr_dir=rr_dir,
             scenario=script) as lab:
        if lab.gdb:
            print_gdb_attach(lab)
            log("the replay starts when gdb says `continue`; reverse-stepi "
                "and reverse-continue go back in it")
        consoles = lab.wait_scenario(args.timeout, echo=lambda n, ln: print(
            "%s| %s" % (n, ln), flush=True))
        rc = 0
        for name, text in consoles.items():
            with open(os.path.join(rr_dir, "%s.%s.console" % (name, mode)),
                      "w") as f:
                f.write(text)
            m = re.search(r"^hsnic-scenario: exit (\d+)", text, re.M)
            rc = rc or (int(m.group(1)) if m else 125)
        log("%s: %s in %.0f s, exit code %d" % (
            mode, ", ".join("%s %d bytes" % (vm.name, os.path.getsize(
                vm.rr_file)) for vm in lab.vms), time.monotonic() - t0, rc))
        if mode == "replay" and lab.gdb:
            log("not compared with the recording's console: going back in "
                "time writes the console output again")
        elif mode == "replay":
            for name, text in consoles.items():
                rec = os.path.join(rr_dir, "%s.record.console" % name)
                if os.path.exists(rec) and read_all([rec]) != text:
                    log("%s: the replay's console differs from the "
                        "recording's (%s)" % (name, rec))
                    rc = rc or 1
                elif os.path.exists(rec):
                    log("%s: console identical to the recording's" % name)
        return rc


def cmd_accel(_args):
    accel, why = detect_accel()
    print("%s (%s)" % (accel, why))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="lab.py", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("run", help="boot a topology and run a command")
    r.add_argument("-t", "--topology", default="pair", choices=TOPOLOGIES)
    r.add_argument("-n", "--nic", default="hsnic", choices=NICS)
    r.add_argument("--vm", default="vm0",
                   help="VM to run in: vm0, vm1 or all (default vm0)")
    r.add_argument("--timeout", type=int, default=600,
                   help="command timeout in seconds (default 600)")
    r.add_argument("--script", help="host-side bash script to run instead")
    r.add_argument("--mem", type=int, default=1024, help="MiB per VM")
    r.add_argument("--smp", type=int, default=2, help="vCPUs per VM")
    r.add_argument("--keep", action="store_true",
                   help="keep the work dir (console logs, QEMU logs)")
    r.add_argument("--tcp", metavar="HOST:PORT",
                   help="pair-tcp: vm0 listens on / vm1 connects to this")
    r.add_argument("--gdb", action="store_true",
                   help="a gdbstub per VM (kernel booted with nokaslr); "
                   "prints the gdb command that attaches to each")
    r.add_argument("--pcap", metavar="DIR",
                   help="capture every NIC's frames (QEMU filter-dump) and "
                   "copy the pcap files to DIR at the end")
    r.add_argument("--trace", metavar="PATTERN", action="append",
                   help="enable QEMU trace events matching PATTERN (e.g. "
                   "'hsnic_err_*'; repeatable) into vmN/trace.log in the "
                   "work dir; implies --keep")
    r.add_argument("--half", choices=("vm0", "vm1"),
                   help="pair-tcp: boot only this VM (the other one runs on "
                   "another host with the same --tcp)")
    r.add_argument("command", nargs="*", help="bash command line")
    for verb, text in (("record", "boot a topology under QEMU's "
                        "record/replay, run a scenario in it, record it"),
                       ("replay", "replay a recording: same instructions, "
                        "same console; --gdb for reverse debugging")):
        x = sub.add_parser(verb, help=text)
        x.add_argument("--dir", required=True,
                       help="the recording's directory (logs, payload disk, "
                       "manifest, consoles)")
        x.add_argument("--timeout", type=int, default=900,
                       help="seconds until the scenario must have ended")
        x.add_argument("--keep", action="store_true",
                       help="keep the work dir (QEMU logs)")
        if verb == "record":
            x.add_argument("-t", "--topology", default="loop",
                           choices=("loop", "pair", "pair-tcp"))
            x.add_argument("-n", "--nic", default="hsnic", choices=NICS)
            x.add_argument("--mem", type=int, default=1024,
                           help="MiB per VM")
            x.add_argument("--script", help="bash script the guest runs")
            x.add_argument("command", nargs="*", help="bash command line")
        else:
            x.add_argument("--gdb", action="store_true",
                           help="a gdbstub per VM; the replay waits for gdb")
    d = sub.add_parser("demo", help="two VMs, iperf3 throughput")
    d.add_argument("-n", "--nic", default="hsnic", choices=NICS)
    d.add_argument("--seconds", type=int, default=10)
    sub.add_parser("accel", help="print the accelerator the lab would use")
    args = p.parse_args(argv)
    try:
        return {"run": cmd_run, "demo": cmd_demo, "record": cmd_record,
                "replay": cmd_replay, "accel": cmd_accel}[args.verb](args)
    except LabError as e:
        log("error: %s" % e)
        return 125
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
