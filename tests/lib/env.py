"""The test environment of the lab tests: Env (a booted lab and the two
traffic endpoints of its topology), the groups' setup and teardown (with
the console and sanitizer checks), and the handover of one healthy lab
between the groups of one share key (shared_group)."""

import hsniclab

from . import harness
from .harness import group


class Env:
    """A booted lab plus the two traffic endpoints of its topology."""

    # A guest kernel that hangs early in boot under TCG (seen once in ~40
    # boots: stuck after "ACPI: PCI: Interrupt link LNKA configured", before
    # any hsnic code runs) is booted once more; the hang is printed with
    # its console, so it stays visible in the log. A second hang fails.
    BOOT_ATTEMPTS = 2

    def __init__(self, topology, nic, halves=False, mem=1024, **kw):
        for attempt in range(1, self.BOOT_ATTEMPTS + 1):
            try:
                self._boot(topology, nic, halves, mem, kw)
                break
            except hsniclab.LabError as e:
                if "agent not ready" not in str(e) or \
                        attempt == self.BOOT_ATTEMPTS:
                    raise
                print("    boot %d of %s/%s hung, booting again:\n      %s"
                      % (attempt, topology, nic,
                         "\n      ".join(str(e).splitlines()[-8:])))
        self.vms = vms = [vm for lb in self.labs for vm in lb.vms]
        if topology == "loop":
            self.ends = [(vms[0], "", 1), (vms[0], "ip netns exec remote ", 2)]
        else:
            self.ends = [(vms[0], "", 1), (vms[1], "", 2)]
        self.nic = nic
        self.topology = topology

    def _boot(self, topology, nic, halves, mem, kw):
        if halves:
            # Two independent labs, as on two hosts, linked over TCP.
            tcp = "127.0.0.1:%d" % hsniclab.free_tcp_port()
            self.labs = [hsniclab.Lab(topology, nic, quiet=True, half=h,
                                      tcp=tcp, mem=mem)
                         for h in ("vm0", "vm1")]
        else:
            self.labs = [hsniclab.Lab(topology, nic, quiet=True, mem=mem,
                                      **kw)]
        for i, lb in enumerate(self.labs):
            try:
                lb.start()
            except BaseException:
                for started in self.labs[:i + 1]:
                    started.stop()
                raise

    def dev(self, end):
        vm, pfx, _ = self.ends[end]
        rc, out = vm.run("%sip -o link show | awk -F': ' '/link\\/ether %s/ "
                         "{print $2}'" % (pfx, vm.mac(end if len(
                             self.vms) == 1 else 0)), check=True)
        return out.strip().split("@")[0]


# A booted lab that a group left healthy, kept for the next group with the
# same share key (harness.Group.share): (key, Env) or None.
_parked = None


def share_key(topology, nic, halves=False, **kw):
    return "%s-%s%s%s" % (topology, nic, "-halves" if halves else "",
                          "".join("-%s=%s" % kv for kv in sorted(kw.items())))


def _stop_parked(g=None):
    """Stop the parked lab unless group `g` is going to take it over."""
    global _parked
    if _parked and (g is None or g.share != _parked[0]):
        for lb in _parked[1].labs:
            lb.stop()
        _parked = None


harness.BEFORE_SETUP.append(_stop_parked)
harness.CLEANUPS.append(_stop_parked)


def setup(topology, nic, halves=False, share=False, **kw):
    """A group's setup: boots the topology, or (share) takes over the lab
    the previous group of the same share key left (see shared_group)."""
    key = share_key(topology, nic, halves, **kw) if share else None

    def _setup():
        global _parked
        if key and _parked and _parked[0] == key:
            env = _parked[1]
            _parked = None
            # Start from the topology's network configuration, whatever
            # the last group left behind.
            for vm in env.vms:
                vm.run("lab-netsetup --wait 20", timeout=60, check=True)
            return env
        env = Env(topology, nic, halves, **kw)
        env.share = key
        return env
    return _setup


def shared_group(name, topology, nic, tier="lab", **kw):
    """A group whose lab is handed over to (and possibly taken over from)
    the other groups of its tier with the same topology and options:
    they run one after the other (harness.by_priority) on one boot."""
    return group(name, setup(topology, nic, share=True, **kw), teardown,
                 tier=tier, share=share_key(topology, nic, **kw))


def teardown(env):
    global _parked
    if env is None:
        return None
    problems = _check_vms(env)
    if getattr(env, "share", None) and not problems and not any(
            vm.qemu_alarms() for vm in env.vms):
        # Healthy: keep it for the next group of the same key. Its
        # console has no alarm, so any the next group finds are new.
        _parked = (env.share, env)
        return ""
    return _stop_env(env, problems)


def _check_vms(env):
    problems = []
    for vm in env.vms:
        if not vm.alive():
            problems.append("%s: QEMU exited (code %s)\n%s" % (
                vm.name, vm.proc.returncode, vm.console_tail()))
        elif vm.console_alarms():
            problems.append("%s: console reported:\n  %s\n%s" % (
                vm.name, "\n  ".join(vm.console_alarms()),
                vm.alarm_report()))
        elif hsniclab.sanitize_mode():
            leaks = vm.kmemleak()
            if leaks:
                problems.append("%s: kmemleak:\n%s" % (vm.name, leaks[-3000:]))
    return problems


def _stop_env(env, problems):
    for lb in env.labs:
        lb.stop()
    for vm in env.vms:
        if vm.qemu_alarms():
            problems.append("%s: QEMU sanitizer report:\n  %s" % (
                vm.name, "\n  ".join(vm.qemu_alarms()[:20])))
    return "\n".join(problems)
