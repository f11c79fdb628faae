"""`lab.py run --gdb`: the gdb commands that attach to the lab's VMs, and
the session that keeps a lab up until Ctrl-C, running the lines typed on
stdin in the guests or in their QEMU monitors."""

import os
import select
import signal
import sys
import time

from .common import LabError, log


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


