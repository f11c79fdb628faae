"""One lab VM: its QEMU command line and process, its QMP monitor and
agent, its console, and what happens to it at run time (migration,
snapshots, shutdown)."""

import os
import re
import shlex
import subprocess
import time

from .accel import accel_args, tcg_cpu
from .agent import Agent
from .common import LabError, read_all
from .qmp import QMP
from .rr import RR_SHIFT

CONSOLE_ALARMS = ("Kernel panic", "BUG:", "Oops:", "WARNING:",
                  "INFO: task", "soft lockup", "hard LOCKUP",
                  "general protection fault", "suspected memory leak",
                  "ref_tracker:")
# Sanitizer reports in QEMU's stderr (the ASan/UBSan build of
# `make test-sanitize`; harmless to look for in any build).
QEMU_ALARMS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
               "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")
KMEMLEAK = "/sys/kernel/debug/kmemleak"
# filter-dump's capture length (its default, 65536, would cut the
# 64 KiB TSO frames a vnet_hdr backend such as pair-tap gets whole)
PCAP_SNAPLEN = 262144


class VM:
    def __init__(self, lab, index, name):
        self.lab = lab
        self.index = index
        self.name = name
        self.dir = os.path.join(lab.workdir, name)
        os.makedirs(self.dir)
        # A migrated VM lives on in a new QEMU process: generation N > 0
        # has its own sockets and logs (name-gN.ext); all logs are read.
        self.gen = 0
        self.consoles = []
        self.qemu_logs = []
        self._new_generation()
        self.agent = Agent(self.agent_path, name)
        self.nics = []          # (netdev id, mac)
        self.netdev_args = []
        self.proc = None
        self.qmp = None
        self.qemu_report = None     # sanitizer lines, kept at shutdown

    def _path(self, base, ext=""):
        suffix = "-g%d" % self.gen if self.gen else ""
        return os.path.join(self.dir, base + suffix + (ext and "." + ext))

    def _new_generation(self):
        self.console = self._path("console", "log")
        self.qmp_path = self._path("qmp", "sock")
        self.agent_path = self._path("agent", "sock")
        self.consoles.append(self.console)
        self.qemu_logs.append(self._path("qemu", "log"))

    def mac(self, n):
        return "52:54:00:48:%02x:%02x" % (self.index, n)

    def add_nic(self, netdev_arg):
        n = len(self.nics)
        nid = "n%d" % n
        self.nics.append((nid, self.mac(n)))
        self.netdev_args.append(netdev_arg % {"id": nid})
        return self.mac(n)

    def command(self):
        lab = self.lab
        art = lab.art
        args = [art.qemu, "-M", "q35", "-m", str(lab.mem), "-smp",
                str(lab.smp), "-nodefaults", "-no-user-config", "-display",
                "none", "-no-reboot", "-L", "/usr/share/seabios",
                "-L", "/usr/share/qemu"]
        if lab.rr:
            # One vCPU thread, the instruction counter as the clock, and
            # every input QEMU takes in (serial, packets, disk completions,
            # clock reads, random numbers, BH events) in rr_file.
            # The snapshot "init" (taken when recording starts, loaded
            # when a replay starts) is where reverse execution goes back to.
            args += ["-accel", "tcg", "-cpu", tcg_cpu(), "-icount",
                     "shift=%d,rr=%s,rrfile=%s,rrsnapshot=init"
                     % (RR_SHIFT, lab.rr, self.rr_file)]
        else:
            args += accel_args(lab.accel)
        args += ["-chardev", "file,id=con,path=%s" % self.console,
                 "-serial", "chardev:con",
                 "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                 "-kernel", art.bzimage,
                 "-append", " ".join(["console=ttyS0", "root=/dev/vda",
                                      "ro" if lab.migratable else "rw",
                                      "init=/sbin/hsnic-init", "panic=-1", "hsnic.name=" + self.name]
                                     + lab.cmdline),
                 ] + self._disk_args()
        if not lab.rr:
            # The agent's channel. Not under record/replay, where nothing
            # talks to the agent: QEMU 10.2 cannot replay from a snapshot
            # with a virtio-serial device (the replay stalls at icount 0).
            args += ["-device", "virtio-serial-pci,id=vser",
                     "-chardev", "socket,id=agent,path=%s,server=on,"
                     "wait=off" % self.agent_path,
                     "-device", "virtserialport,bus=vser.0,chardev=agent,"
                     "name=lab.agent"]
        for i, ((nid, mac), nd) in enumerate(zip(self.nics,
                                                 self.netdev_args)):
            port = "rp%d" % i
            args += ["-device", "pcie-root-port,id=%s,chassis=%d,slot=%d"
                     % (port, i + 1, i + 1)]
            args += ["-netdev", nd]
            dev = "%s,netdev=%s,mac=%s,bus=%s,id=nic%d" % (
                lab.nic, nid, mac, port, i)
            if lab.nic != "hsnic":
                dev += ",romfile="
            args += ["-device", dev]
            if lab.rr:
                # Frames from the backend go into (come from) the log.
                args += ["-object", "filter-replay,id=rr%d,netdev=%s"
                         % (i, nid)]
        args += lab.extra_qemu_args
        if lab.pcap:
            # Every frame crossing each NIC's netdev, both directions, as
            # the wire carries it; one file per NIC and QEMU generation.
            for i, (nid, _) in enumerate(self.nics):
                args += ["-object", "filter-dump,id=dump%d,netdev=%s,"
                         "file=%s,maxlen=%d" % (i, nid, self._path(
                             "nic%d" % i, "pcap"), PCAP_SNAPLEN)]
        if lab.trace:
            # QEMU's trace events (log backend) into trace.log, not stderr
            for pattern in lab.trace:
                args += ["-trace", pattern]
            args += ["-D", self._path("trace", "log")]
        if lab.gdb:
            # QEMU's gdbstub on a socket of this VM's own; the guest keeps
            # running until a debugger attaches (wait=off).
            args += ["-gdb", "unix:%s,server=on,wait=off" % self.gdb_socket]
            if lab.rr == "replay":
                # A replay starts when the debugger says so: attaching
                # takes the snapshot reverse execution goes back to.
                args += ["-S"]
        return args

    def _disk_args(self):
        """vda: the root image, vdb: the lab's payload disk."""
        lab = self.lab
        disks = (("root", lab.art.rootfs, "readonly=on" if lab.migratable
                  else "snapshot=on"),
                 ("payload", lab.payload, "" if lab.migratable
                  else "snapshot=on"))
        args = []
        for name, path, opts in disks:
            opts = ",".join(o for o in ("format=raw", opts) if o)
            if not lab.rr:
                args += ["-drive", "file=%s,if=virtio,%s" % (path, opts)]
                continue
            # A qcow2 overlay of the recording's own (it holds the
            # snapshots) and blkreplay between it and the device: request
            # completions become recorded events.
            args += ["-drive", "file=%s,if=none,id=%s-img,format=qcow2"
                     % (self.rr_disk(name), name),
                     "-drive", "driver=blkreplay,if=none,image=%s-img,id=%s"
                     % (name, name),
                     "-device", "virtio-blk-pci,drive=%s" % name]
        return args

    def rr_disk(self, name):
        return os.path.join(self.lab.rr_dir, "%s-%s.qcow2" % (self.name,
                                                              name))

    @property
    def rr_file(self):
        """This VM's record/replay log (Lab(rr=...))."""
        return os.path.join(self.lab.rr_dir, "%s.bin" % self.name)

    @property
    def gdb_socket(self):
        """Path of this VM's gdbstub socket (Lab(gdb=True))."""
        return self._path("gdb", "sock")

    @property
    def gdbinit(self):
        """The gdb script write_gdbinit() writes: `gdb -q -x` it."""
        return os.path.join(self.dir, "gdbinit")

    def write_gdbinit(self):
        """Write the commands that attach gdb to this VM's gdbstub with
        the guest kernel's symbols and helpers (lx-*) and hsnic.ko's
        symbols; return the file's path."""
        kdir = self.lab.art.kdir
        # hsnic.ko as built, the file the payload's /lab/modules holds
        moddir = os.path.dirname(os.path.abspath(self.lab.art.module)) \
            if self.lab.nic == "hsnic" else self.dir
        lines = [
            "# gdb for lab VM %s (scripts/lab.py --gdb): gdb -q -x %s"
            % (self.name, self.gdbinit),
            "set auto-load safe-path /",
            "file %s" % os.path.join(kdir, "vmlinux"),
            "source %s" % os.path.join(kdir, "vmlinux-gdb.py"),
            # Attaching stops the guest until `continue` or `detach`.
            "target remote %s" % self.gdb_socket,
            # lx-symbols also scans gdb's working directory for *.ko,
            # recursively: work from the module's directory, not $HOME.
            "cd %s" % moddir,
            "lx-symbols %s" % moddir,
        ]
        if self.lab.rr == "replay":
            # A replay stops before the firmware's first instruction,
            # where the kernel's data cannot be read yet: run to
            # start_kernel first. lx-symbols then also loads hsnic.ko's
            # symbols when the module loads, and pending breakpoints in it
            # resolve.
            lines[-1:-1] = ["tbreak start_kernel", "continue",
                            "set breakpoint pending on"]
        with open(self.gdbinit, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.gdbinit

    def start(self, extra=()):
        cmd = self.command() + list(extra)
        if self.lab.netns:
            cmd = ["ip", "netns", "exec", self.lab.netns] + cmd
        with open(self._path("cmdline"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in cmd) + "\n")
        self.stderr = open(self.qemu_logs[-1], "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr,
                                     start_new_session=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def connect(self, timeout):
        self.qmp = QMP(self.qmp_path, timeout=30)
        self.agent.connect(timeout=30)
        self.agent.wait_ready(timeout, self.alive)

    def run(self, script, timeout=300, check=False, echo=None):
        """Run a bash script in the guest; return (exit code, output)."""
        watcher = None
        if echo:
            def watcher(line):
                echo("%s| %s" % (self.name, line))
        cid = self.agent.start(script, timeout, watcher)
        try:
            rc, out = self.agent.wait(cid, timeout, self.alive)
        except LabError as e:
            raise LabError("%s\n%s" % (e, self.console_tail()))
        if check and rc != 0:
            raise LabError("%s: command failed (exit %d): %s\n%s"
                           % (self.name, rc, script.strip()[:200], out))
        return rc, out

    def start_bg(self, script, timeout=300):
        return self.agent.start(script, timeout)

    def wait_bg(self, cid, timeout=300):
        return self.agent.wait(cid, timeout, self.alive)

    def poll_bg(self, cid):
        """Exit code of a background command, or None while it runs."""
        with self.agent.cv:
            return self.agent.results[cid][1]

    def console_text(self):
        """The guest's console, all QEMU generations (see migrate())."""
        return read_all(self.consoles)

    def console_tail(self, n=40):
        lines = self.console_text().splitlines()[-n:]
        return "--- %s console (last %d lines) ---\n%s" % (
            self.name, len(lines), "\n".join(lines))

    def console_alarms(self):
        return [ln for ln in self.console_text().splitlines()
                if any(a in ln for a in CONSOLE_ALARMS)]

    def alarm_report(self, after=60):
        """The console from the first alarm on: a splat's whole report
        (KASAN, lockdep, WARN with their stack traces), not just the
        console's last lines."""
        lines = self.console_text().splitlines()
        for i, ln in enumerate(lines):
            if any(a in ln for a in CONSOLE_ALARMS):
                return "--- %s console from line %d ---\n%s" % (
                    self.name, i + 1, "\n".join(lines[i:i + after]))
        return ""

    def qemu_alarms(self):
        """Sanitizer reports QEMU wrote so far (after shutdown: all)."""
        if self.qemu_report is not None:
            return self.qemu_report
        text = read_all(self.qemu_logs)
        # the report lines and the stack frames (#N ...) that follow them
        out, in_report = [], False
        for ln in text.splitlines():
            if any(a in ln for a in QEMU_ALARMS):
                in_report = True
                out.append(ln)
            elif in_report and ln.lstrip().startswith("#"):
                out.append(ln)
            elif not ln.strip():
                in_report = False
        return out

    def kmemleak(self, clear=False):
        """Scan for kernel leaks (debug kernel only). With clear, forget
        what is there now (boot-time objects); else return new reports."""
        rc, out = self.run("[ -e %(k)s ] || exit 0; echo scan > %(k)s; "
                           "sleep 1; echo scan > %(k)s; %(act)s"
                           % {"k": KMEMLEAK,
                              "act": "echo clear > %s" % KMEMLEAK if clear
                              else "cat %s" % KMEMLEAK}, timeout=300)
        return "" if clear or "unreferenced object" not in out else out

    def migrate(self, timeout=300):
        """Live-migrate the guest into a new QEMU process on this host, as
        between two hosts with shared storage, and switch this object
        (QMP, agent, console) over to it; the old process then quits.

        Needs a loop-topology lab (its NICs' sockets belong to this VM
        alone, so the new process simply binds fresh ones) started with
        migratable=True. Guest commands running across the switch go
        on, but their output reaches the host only if they write it after
        the new connection is up: have them leave results in files.
        Returns QEMU's query-migrate figures.
        """
        lab = self.lab
        if lab.topology != "loop" or not lab.migratable:
            raise LabError("migrate() needs the loop topology and "
                           "migratable=True")
        old = (self.proc, self.qmp, self.agent, self.stderr)
        self.gen += 1
        self._new_generation()
        self.netdev_args = [re.sub(r"/l([01])(-g\d+)?\.sock",
                                   r"/l\1-g%d.sock" % self.gen, a)
                            for a in self.netdev_args]
        uri = "unix:" + self._path("migrate", "sock")
        self.start(extra=["-incoming", uri])
        try:
            self.qmp = QMP(self.qmp_path, timeout=30)
            old[1].cmd("migrate", uri=uri)
            deadline = time.monotonic() + timeout
            while True:
                info = old[1].cmd("query-migrate")
                if info.get("status") == "completed":
                    break
                if info.get("status") in ("failed", "cancelled"):
                    raise LabError("%s: migration %s: %s" % (
                        self.name, info["status"],
                        info.get("error-desc", "")))
                if time.monotonic() > deadline:
                    raise LabError("%s: migration still %s after %d s"
                                   % (self.name, info.get("status"),
                                      timeout))
                time.sleep(0.2)
        except BaseException:
            # Keep running where we were; drop the half-made destination.
            if self.alive():
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
            self.stderr.close()
            self.proc, self.qmp, self.agent, self.stderr = old
            raise
        try:
            old[1].cmd("quit")
            old[0].wait(30)
        except (OSError, LabError, subprocess.TimeoutExpired):
            os.killpg(old[0].pid, 9)
            old[0].wait()
        old[1].close()
        old[3].close()
        self.agent = Agent(self.agent_path, self.name)
        self.agent.ids = old[2].ids     # guest command ids stay unique
        self.agent.connect(timeout=30)
        self.agent.hello(60, self.alive)
        return info

    def savevm(self, tag):
        """Internal snapshot (HMP savevm) of a running lab VM: its RAM and
        device state go into the snapshot=on disk overlays."""
        out = self.qmp.hmp("savevm %s" % tag)
        if out.strip():
            raise LabError("%s: savevm: %s" % (self.name, out.strip()))

    def loadvm(self, tag):
        """Go back to a savevm snapshot; the guest resumes from there."""
        out = self.qmp.hmp("loadvm %s" % tag)
        if out.strip():
            raise LabError("%s: loadvm: %s" % (self.name, out.strip()))
        if self.qmp.cmd("query-status")["status"] != "running":
            self.qmp.cmd("cont")

    def shutdown(self, timeout=30):
        if not self.alive():
            return
        try:
            self.agent.start("sync; echo o > /proc/sysrq-trigger", 10)
            self.proc.wait(timeout)
        except (OSError, LabError, subprocess.TimeoutExpired):
            pass
        if self.alive():
            try:
                self.qmp.cmd("quit")
                self.proc.wait(10)
            except (OSError, LabError, AttributeError,
                    subprocess.TimeoutExpired):
                pass
        if self.alive():
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        if self.qmp:
            self.qmp.close()
        self.stderr.close()
        self.qemu_report = self.qemu_alarms()

