"""The hsnic lab: boot VM topologies with the hsnic NIC under QEMU and run
commands in them (scripts/lab.py is its command line, the tests and the
benchmarks use it from Python; scripts/hsniclab/README.md).

    import hsniclab
    with hsniclab.Lab(topology="pair", nic="hsnic") as lab:
        rc, out = lab.vms[0].run("ping -c1 192.0.2.2")

The names below are the public API; the modules hold the rest.
"""

from .accel import accel_args, detect_accel
from .agent import Agent
from .artifacts import Artifacts, script_output
from .common import CACHE, TOP, LabError, log, read_all, sanitize_mode
from .lab import BOOT_TIMEOUT, Lab
from .qmp import QMP
from .rr import RR_MANIFEST, RR_SHIFT
from .topology import NET4, NET6, NICS, TOPOLOGIES, free_tcp_port
from .vm import CONSOLE_ALARMS, KMEMLEAK, PCAP_SNAPLEN, QEMU_ALARMS, VM

__all__ = [
    "accel_args", "detect_accel", "Agent", "Artifacts", "script_output",
    "CACHE", "TOP", "LabError", "log", "read_all", "sanitize_mode",
    "BOOT_TIMEOUT", "Lab", "QMP", "RR_MANIFEST", "RR_SHIFT", "NET4", "NET6",
    "NICS", "TOPOLOGIES", "free_tcp_port", "CONSOLE_ALARMS", "KMEMLEAK",
    "PCAP_SNAPLEN", "QEMU_ALARMS", "VM",
]
