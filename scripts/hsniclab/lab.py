"""Lab: a running topology of VMs (hsniclab.topology), their payload disk
and their life from boot to shutdown. Use as a context manager:

    with Lab(topology="pair", nic="hsnic") as lab:
        rc, out = lab.vms[0].run("ping -c1 192.0.2.2")
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

from .accel import detect_accel
from .artifacts import Artifacts
from .common import CACHE, TOP, LabError, du_bytes, log, sanitize_mode
from .rr import RecordReplay
from .topology import NICS, TOPOLOGIES, Topology

BOOT_TIMEOUT = 240


class Lab(Topology, RecordReplay):
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
        self.build_topology()
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
