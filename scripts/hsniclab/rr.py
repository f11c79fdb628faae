"""Deterministic record/replay of a lab run (Lab(rr=...), `lab.py
record|replay`, docs/debugging.md)."""

import json
import os
import re
import shutil
import subprocess
import time

from .common import LabError, log, read_all
from .interactive import print_gdb_attach

# Record/replay (Lab(rr=...), `lab.py record|replay`): the instruction
# counter's fixed shift, 2^5 ns of virtual time per guest instruction.
# Fixed rather than "auto": the adaptive shift follows the host's clock.
RR_SHIFT = 5
RR_MANIFEST = "manifest.json"


class RecordReplay:
    """Lab's record/replay part (a mixin of hsniclab.lab.Lab): the
    recording's manifest, disks and logs, and the wait for a scenario's
    end."""

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


def recorded_lab(rr_dir):
    """(topology, nic, mem) of the recording in rr_dir."""
    try:
        with open(os.path.join(rr_dir, RR_MANIFEST)) as f:
            rec = json.load(f)
        return rec["topology"], rec["nic"], rec["mem"]
    except (OSError, ValueError, KeyError) as e:
        raise LabError("%s is not a recording: %s" % (rr_dir, e))


def run_scenario(lab, mode, timeout, t0):
    """`lab.py record|replay` in a started Lab(rr=mode): echo the
    consoles until the scenario ends, keep them in the recording's
    directory, compare a replay's with the recording's; return the
    scenario's exit code (t0: time.monotonic() at the start)."""
    rr_dir = lab.rr_dir
    if lab.gdb:
        print_gdb_attach(lab)
        log("the replay starts when gdb says `continue`; reverse-stepi "
            "and reverse-continue go back in it")
    consoles = lab.wait_scenario(timeout, echo=lambda n, ln: print(
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

