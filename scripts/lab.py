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
from hsniclab.lab import BOOT_TIMEOUT, Lab  # noqa: F401
from hsniclab.topology import (NET4, NET6, NICS, TOPOLOGIES,  # noqa: F401
                               free_tcp_port)

_free_tcp_port = free_tcp_port      # tests/lab_tests.py


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
