"""The lab's topologies: which VMs, which NICs, how they are wired and
addressed (the lines of lab.conf the guests configure themselves from).

  loop      one VM, two NICs cabled to each other (the second one in the
            guest's "remote" network namespace)
  pair      two VMs, one NIC each, over a unix stream socket
  pair-tcp  the same over TCP (--tcp HOST:PORT; --half: one VM per host)
  pair-tap  two VMs on taps bridged in a network namespace of their own
"""

import os
import socket
import subprocess
import time

from .common import LabError, host
from .vm import VM

NICS = ("hsnic", "virtio-net-pci", "igb", "e1000e")
TOPOLOGIES = ("loop", "pair", "pair-tcp", "pair-tap")

# Documentation ranges only (RFC 5737, RFC 3849).
NET4 = "192.0.2.%d/24"
NET6 = "2001:db8:1::%d/64"


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Topology:
    """Lab's topology part (a mixin of hsniclab.lab.Lab): makes the VMs,
    their netdevs and lab.conf's lines (self.vms, self.conf)."""

    def build_topology(self):
        """Make self.vms and self.conf (Lab.start() calls this)."""
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
                             % free_tcp_port()).rpartition(":")
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
