"""Packet capture from the lab (Lab(pcap=DIR), `scripts/lab.py run --pcap`).

Boots `pair` with hsnic and a QEMU filter-dump on each NIC's netdev,
pings, sends a sha256-checked TCP stream to vm1 with header split on,
stops the lab (which copies the captures out of the run directory) and
reads the pcap files with struct: global header, the ICMP echo exchange
with the right MACs, and the TCP stream to port 5001 reassembled from the
capture, which must hash to what was sent. Header split happens inside
the device, after the netdev: the capture holds whole frames while the
device counts split ones.
"""

import hashlib
import os
import shutil
import tempfile

import hsniclab
from lib.checks import check_ping, ethtool_stats, ip, start_receiver
from lib.env import Env, teardown
from lib.harness import group, test
from lib.pcap import ipv4, read_pcap, tcp_stream

MIB = int(os.environ.get("HSNIC_CAPTURE_MIB", "2"))
PORT = 5001


class CaptureEnv(Env):
    """A pair lab capturing into a directory of its own."""

    def __init__(self):
        self.outdir = tempfile.mkdtemp(prefix="hsnic-pcap-")
        try:
            super().__init__("pair", "hsnic", pcap=self.outdir)
        except BaseException:
            shutil.rmtree(self.outdir, ignore_errors=True)
            raise
        self.stopped = None         # teardown()'s report, once stopped
        self.sent = None            # sha256 of the stream to vm1

    def stop(self):
        """Stop the lab once (with teardown()'s checks) and return the
        report; stop() copies the captures to outdir."""
        if self.stopped is None:
            self.stopped = teardown(self)
        return self.stopped


def _setup():
    return CaptureEnv()


def _teardown(env):
    if env is None:
        return None
    try:
        return env.stop()
    finally:
        shutil.rmtree(env.outdir, ignore_errors=True)


_cap = group("hsnic-capture", _setup, _teardown)


@test(_cap, "ping-and-tcp-with-header-split")
def traffic(env):
    check_ping(env)
    vm0, vm1 = env.vms
    dev = env.dev(1)
    vm1.run("ethtool -G %s tcp-data-split on" % dev, timeout=60, check=True)
    before = ethtool_stats(vm1, "", dev)
    _, out = vm0.run("head -c %dM /dev/urandom > /tmp/blob && "
                     "sha256sum /tmp/blob" % MIB, timeout=300, check=True)
    env.sent = out.split()[0]
    rcid = start_receiver(vm1, "", 2)
    vm0.run("socat -u FILE:/tmp/blob TCP:%s:%d && rm -f /tmp/blob"
            % (ip(2), PORT), timeout=600, check=True)
    rc, got = vm1.wait_bg(rcid, timeout=600)
    assert rc == 0 and got.split()[0] == env.sent, \
        "receiver: exit %d, sha256 %s, sent %s" % (rc, got, env.sent)
    after = ethtool_stats(vm1, "", dev)
    split = sum(v - before.get(k, 0) for k, v in after.items()
                if k.endswith("_hw_hds_split"))
    print("    %d MiB to vm1, sha256 %s..., %d frames split by the device"
          % (MIB, env.sent[:16], split))
    assert split > 0, "tcp-data-split on, but no frame was split"


@test(_cap, "pcap-after-stop")
def pcap(env):
    assert env.sent, "no transfer to look for (the traffic test failed)"
    env.stop()              # a dead VM or console alarm: teardown says
    lb = env.labs[0]
    names = sorted(os.path.basename(p) for p in lb.pcap_files)
    assert names == ["vm0-nic0.pcap", "vm1-nic0.pcap"], \
        "captures copied to %s: %s" % (env.outdir, names)
    assert not os.path.exists(lb.workdir), "run dir still there"
    mac0, mac1 = (vm.mac(0) for vm in env.vms)
    for path in lb.pcap_files:
        hdr, frames = read_pcap(path)
        name = os.path.basename(path)
        assert hdr["version"] == (2, 4) and hdr["linktype"] == 1, hdr
        assert hdr["snaplen"] == hsniclab.PCAP_SNAPLEN, hdr
        # whole frames, as the wire carries them: none cut, none bigger
        # than the 1500-byte MTU allows
        cut = [n for _, n, fr in frames if len(fr) != n]
        assert not cut, "%s: %d frames cut short" % (name, len(cut))
        biggest = max(n for _, n, _ in frames)
        assert biggest <= 1514, "%s: a %d-byte frame" % (name, biggest)
        echo = {}
        for _, _, fr in frames:
            p = ipv4(fr)
            if p and p[4] == 1 and p[5][:1] in (b"\x08", b"\x00"):
                ident_seq = p[5][4:8]
                echo.setdefault(ident_seq, []).append(
                    (p[5][0], p[0], p[1], p[2], p[3]))
        want = [(8, mac1, mac0, ip(1), ip(2)), (0, mac0, mac1, ip(2), ip(1))]
        pairs = [k for k, v in echo.items() if all(w in v for w in want)]
        assert pairs, "%s: no ICMP echo request 192.0.2.1 -> 192.0.2.2 " \
            "with its reply (MACs %s / %s): %s" % (name, mac0, mac1, echo)
        stream, segs = tcp_stream(frames, ip(1), ip(2), PORT)
        digest = hashlib.sha256(stream).hexdigest()
        tcp_macs = {(ipv4(fr)[1], ipv4(fr)[0]) for _, _, fr in frames
                    if ipv4(fr) and ipv4(fr)[2:5] == (ip(1), ip(2), 6)}
        print("    %s: %d frames, %d echo exchanges, %d TCP segments to "
              ":%d, %d bytes, sha256 %s..." % (
                  name, len(frames), len(pairs), segs, PORT, len(stream),
                  digest[:16]))
        assert tcp_macs == {(mac0, mac1)}, tcp_macs
        assert len(stream) == MIB << 20, "%s: stream of %d bytes" % (
            name, len(stream))
        assert digest == env.sent, "%s: captured stream hashes to %s, " \
            "sent %s" % (name, digest, env.sent)
