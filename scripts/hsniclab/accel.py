"""The accelerator the lab runs its VMs with: KVM where it really works,
else TCG."""

import os


def detect_accel(sysfs="/sys", dev="/dev/kvm"):
    """Return ("kvm"|"tcg", reason). KVM only where it really works.

    /dev/kvm provided by kvm_pvm (PVM) cannot run stock kernels: such hosts
    get TCG. HSNIC_ACCEL=tcg|kvm overrides.
    """
    forced = os.environ.get("HSNIC_ACCEL")
    if forced in ("tcg", "kvm"):
        return forced, "HSNIC_ACCEL=%s" % forced
    if not os.path.exists(dev):
        return "tcg", "no %s" % dev
    if os.path.isdir(os.path.join(sysfs, "module/kvm_pvm")):
        return "tcg", "/dev/kvm is PVM (kvm_pvm), which cannot run stock kernels"
    if not any(os.path.isdir(os.path.join(sysfs, "module", m))
               for m in ("kvm_intel", "kvm_amd")):
        return "tcg", "neither kvm_intel nor kvm_amd is loaded"
    if not os.access(dev, os.R_OK | os.W_OK):
        return "tcg", "%s is not accessible" % dev
    return "kvm", "kvm_intel/kvm_amd present"


def tcg_cpu():
    """The CPU model under TCG. The debug kernel (HSNIC_KERNEL_DEBUG, the
    sanitizer tier) gets one without LA57: Linux 7.3's identify_cpu()
    clears boot_cpu_data's capability words while interrupts are on and
    before alternatives are patched, so an interrupt taken then sees
    pgtable_l5_enabled() false, and KASAN reports the 5-level direct map
    address it touches as a wild-memory-access (docs/reliability.md)."""
    if os.environ.get("HSNIC_KERNEL_DEBUG"):
        return "max,la57=off"
    return "max"


def accel_args(accel):
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", tcg_cpu()]
