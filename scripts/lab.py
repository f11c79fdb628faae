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

This is the command line only; the Python API the tests use is the
hsniclab package beside it (scripts/hsniclab/README.md):

    from hsniclab import Lab
    with Lab(topology="pair", nic="hsnic") as lab:
        rc, out = lab.vms[0].run("ping -c1 192.0.2.2")
"""

import argparse
import os
import re
import signal
import sys
import time

from hsniclab import rr
from hsniclab.accel import detect_accel
from hsniclab.common import LabError, log
from hsniclab.interactive import print_gdb_attach, wait_for_ctrl_c
from hsniclab.lab import Lab
from hsniclab.topology import NICS, TOPOLOGIES


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
        topology, nic, mem = rr.recorded_lab(rr_dir)
    with Lab(topology, nic, mem=mem, keep=args.keep,
             gdb=getattr(args, "gdb", False), rr=mode, rr_dir=rr_dir,
             scenario=script) as lab:
        return rr.run_scenario(lab, mode, args.timeout, t0)


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
