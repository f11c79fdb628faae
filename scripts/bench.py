#!/usr/bin/python3
"""hsnic benchmark: hsnic against virtio-net-pci, igb and e1000e.

usage: scripts/bench.py [--rounds N] [--seconds S] [--lanes L,..]
                        [--backends stream,tap] [--out DIR] [--quick]
                        [--only MEASURE,..]

One QEMU binary, one guest kernel, the `pair` topology (two VMs). Per
backend, every lane (NIC model) gets its pair of VMs booted once; the
rounds then visit the lanes interleaved (A B C D A B C D ...), and only
the lane being measured runs: the others are paused (QMP stop), so they
neither take CPU from it nor see time pass. Measures:

  tcp-1-up/down     iperf3 bulk TCP, 1 stream, vm1->vm0 / vm0->vm1
  tcp-4-up/down     the same with 4 streams
  tcp-rr            netperf TCP_RR (1 byte each way), transactions/s
  udp-16            iperf3 UDP, 16-byte datagrams, received datagrams/s
  msg-64k-up/down   iperf3 TCP, 64 KiB writes (the vsock table's shape)
  msg-16-up/down    iperf3 TCP, 16-byte writes with TCP_NODELAY
  devmem-rx, copy-rx  hsnic only: a 256 MiB TCP transfer received by
                    ncdevmem -Q (payload into a udmabuf, tokens returned
                    per recvmsg) and by socat (copied to user space),
                    timed at the sender, with the receiving guest's CPU
                    time per GiB (over the receiver's whole run)

Backends: `stream` (QEMU stream socket, no host networking: every measure)
and `tap` (two taps on a bridge in a network namespace the run creates:
tcp-1-up/down and tcp-rr). Results go to build/bench/<date>/: results.json
(every sample), results.md (medians, min-max, hsnic / best peer) and
results.png; the last lines are a verdict for each acceptance rule of
docs/performance.md, and the exit code is 1 if one fails.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsniclab  # noqa: E402

LANES = ("hsnic", "virtio-net-pci", "igb", "e1000e")
PEERS = ("virtio-net-pci", "igb", "e1000e")
SERVER, CLIENT = "192.0.2.1", "192.0.2.2"
DEVMEM_MIB = 256


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def iperf3_json(out):
    """The JSON document iperf3 -J printed."""
    start = out.find("{")
    if start < 0:
        raise ValueError("no iperf3 JSON in:\n" + out[-500:])
    return json.loads(out[start:out.rfind("}") + 1])


class Measure:
    """One measurement: how to run it and what number comes out."""

    def __init__(self, name, unit, higher=True, lanes=LANES):
        self.name = name
        self.unit = unit
        self.higher = higher
        self.lanes = lanes

    def run(self, env, secs):
        raise NotImplementedError


class Iperf(Measure):
    def __init__(self, name, args, reverse=False, udp=False):
        super().__init__(name, "pkt/s" if udp else "Mbit/s")
        self.args = args
        self.reverse = reverse
        self.udp = udp

    def run(self, env, secs):
        cli = env.vms[1]
        # One line back: the lab agent forwards output line by line.
        rc, out = cli.run("iperf3 -c %s -p 5201 -J -t %d %s %s | "
                          "tr -d '\\n\\t'; exit ${PIPESTATUS[0]}"
                          % (SERVER, secs, self.args,
                             "-R" if self.reverse else ""),
                          timeout=secs + 60)
        doc = iperf3_json(out)
        if rc or doc.get("error"):
            raise RuntimeError("iperf3: %s" % doc.get("error", out[-300:]))
        end = doc["end"]
        if self.udp:
            s = end["sum"]
            return (s["packets"] - s.get("lost_packets", 0)) / s["seconds"]
        return end["sum_received"]["bits_per_second"] / 1e6


class NetperfRR(Measure):
    def __init__(self):
        super().__init__("tcp-rr", "trans/s")

    def run(self, env, secs):
        rc, out = env.vms[1].run("netperf -H %s -t TCP_RR -l %d -P 0 -- "
                                 "-o THROUGHPUT" % (SERVER, secs),
                                 timeout=secs + 60)
        if rc:
            raise RuntimeError("netperf: " + out[-300:])
        return float(out.strip().splitlines()[-1])


# Guest CPU time (all CPUs, every state but idle and iowait) while a
# receiver ran, from /proc/stat.
CPU_WRAP = r"""
cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
c0=$(cpu); t0=$EPOCHREALTIME
%(cmd)s
rc=$?
c1=$(cpu); t1=$EPOCHREALTIME
echo "cpu_jiffies=$((c1 - c0)) hz=$(getconf CLK_TCK) rc=$rc" \
     "secs=$(awk -v a=$t0 -v b=$t1 'BEGIN { print b - a }')"
"""


def wait_listening(srv, port):
    """Until a TCP socket listens on @port in @srv."""
    srv.run("for i in $(seq 300); do ss -ltn | grep -q ':%d ' && exit 0;"
            " sleep 0.1; done; exit 1" % port, timeout=60, check=True)


def timed_send(cli, nbytes, port):
    """Send @nbytes of zeros from @cli (CLIENT:@port, ncdevmem's flow rule
    wants sport == dport) to SERVER:@port; seconds from connect to the
    last write."""
    _, sent = cli.run("t0=$EPOCHREALTIME; socat -u -b 65536 "
                      "OPEN:/dev/zero,readbytes=%d TCP4:%s:%d,bind=%s:%d"
                      " || exit 1; t1=$EPOCHREALTIME; awk -v a=$t0 "
                      "-v b=$t1 'BEGIN { print b - a }'"
                      % (nbytes, SERVER, port, CLIENT, port),
                      timeout=600, check=True)
    return float(sent.split()[-1])


class RxMode(Measure):
    """A DEVMEM_MIB transfer vm1 -> vm0, received by ncdevmem (devmem)
    or socat (copy); the value is throughput, cpu_per_gib is kept too."""

    runs = 0

    def __init__(self, mode):
        super().__init__("%s-rx" % mode, "Mbit/s", lanes=("hsnic",))
        self.mode = mode
        self.cpu_per_gib = None

    def run(self, env, secs):
        srv, cli = env.vms
        # ncdevmem's flow rule wants source port == destination port; a
        # new pair each run, the last one's may still be in TIME_WAIT.
        RxMode.runs += 1
        port = 5301 + RxMode.runs % 500
        if self.mode == "devmem":
            cmd = ("/lab/selftests/drivers/net/hw/ncdevmem -Q -l -f %s "
                   "-s %s -p %d -c %s 2>/tmp/ncdevmem.log >/dev/null"
                   % (env.dev0, SERVER, port, CLIENT))
        else:
            cmd = ("socat -u TCP4-LISTEN:%d,bind=%s,reuseaddr OPEN:/dev/null"
                   % (port, SERVER))
        rcid = srv.start_bg(CPU_WRAP % {"cmd": cmd}, timeout=600)
        wait_listening(srv, port)
        # The transfer is timed at the sender, from connect to the last
        # write: the receiver's run also holds ncdevmem's setup and
        # teardown (ethtool, binding, two queue restarts), which are not
        # throughput. The sender finishes ahead of the receiver by at most
        # its socket buffers (~4 MiB of the 256), the same in both modes.
        secs = timed_send(cli, DEVMEM_MIB << 20, port)
        rc, out = srv.wait_bg(rcid, timeout=600)
        vals = dict(kv.split("=", 1) for kv in out.split()
                    if kv.split("=")[0] in ("cpu_jiffies", "hz", "rc",
                                            "secs"))
        if rc or vals.get("rc") != "0":
            log_tail = srv.run("tail -5 /tmp/ncdevmem.log")[1] \
                if self.mode == "devmem" else ""
            raise RuntimeError("%s receiver failed: %s %s"
                               % (self.mode, out, log_tail))
        if self.mode == "devmem":
            got = srv.run("sed -n 's/^total_received=//p' /tmp/ncdevmem.log"
                          " | tail -1")[1].strip()
            if got != str(DEVMEM_MIB << 20):
                raise RuntimeError("ncdevmem received %r bytes, %d sent"
                                   % (got, DEVMEM_MIB << 20))
        cpu = int(vals["cpu_jiffies"]) / int(vals["hz"])
        # CPU over the receiver's whole run, setup included: conservative
        # for devmem
        self.cpu_per_gib = cpu / (DEVMEM_MIB / 1024)
        self.receiver_secs = float(vals["secs"])
        return DEVMEM_MIB * 8 * 1.048576 / secs


def measures(backend, quick, only=None):
    if backend == "tap":
        m = [Iperf("tcp-1-up", "-P 1"), Iperf("tcp-1-down", "-P 1", True),
             NetperfRR()]
    else:
        m = [Iperf("tcp-1-up", "-P 1"), Iperf("tcp-1-down", "-P 1", True),
             Iperf("tcp-4-up", "-P 4"), Iperf("tcp-4-down", "-P 4", True),
             NetperfRR(), Iperf("udp-16", "-u -l 16 -b 0", udp=True),
             Iperf("msg-64k-up", "-l 65536"),
             Iperf("msg-64k-down", "-l 65536", True),
             Iperf("msg-16-up", "-l 16 -N"),
             Iperf("msg-16-down", "-l 16 -N", True),
             RxMode("devmem"), RxMode("copy")]
    if quick:
        m = [x for x in m if x.name in ("tcp-1-up", "tcp-rr", "devmem-rx",
                                        "copy-rx")]
    if only:
        m = [x for x in m if x.name in only]
    return m


class Lane:
    """The two VMs of one NIC model on one backend, booted once."""

    def __init__(self, nic, backend, mem, art=None):
        self.nic = nic
        topo = {"stream": "pair", "tap": "pair-tap"}[backend]
        self.lab = hsniclab.Lab(topo, nic, quiet=True, mem=mem, art=art)
        self.vms = []
        self.dev0 = None
        self.running = False

    def start(self):
        self.lab.start()
        self.running = True
        self.vms = self.lab.vms
        srv, cli = self.vms
        self.kernel = srv.run("uname -r", check=True)[1].strip()
        cli.run("for i in $(seq 100); do ping -c1 -W1 %s >/dev/null && "
                "exit 0; sleep 0.2; done; exit 1" % SERVER, timeout=120,
                check=True)
        self.dev0 = srv.run("ip -o route get %s | awk '{ print $3 }'"
                            % CLIENT, check=True)[1].strip()
        srv.run("iperf3 -s -D -p 5201 && netserver >/dev/null 2>&1 && "
                "echo 64 > /proc/sys/vm/nr_hugepages", check=True)
        # Each driver with its defaults, plus what a user of the lab would
        # turn on: hardware GRO where the NIC has it.
        for i, vm in enumerate(self.vms):
            vm.run("d=$(ip -o route get 192.0.2.%d | awk '{ print $3 }'); "
                   "ethtool -K $d rx-gro-hw on 2>/dev/null; true" % (2 - i))
        self.info = {vm.name: vm.run(
            "d=$(ip -o route get 192.0.2.%d | awk '{ print $3 }'); "
            "ethtool -i $d | sed -n 's/^driver: //p'; "
            "ethtool -k $d | grep -E '^(tcp-segmentation-offload|"
            "rx-gro-hw|generic-receive-offload):' | tr -s '\\n' ' '"
            % (2 - i))[1].strip() for i, vm in enumerate(self.vms)}

    def pause(self):
        if self.running:
            for vm in self.vms:
                vm.qmp.cmd("stop")
            self.running = False

    def resume(self):
        if not self.running:
            for vm in self.vms:
                vm.qmp.cmd("cont")
            self.running = True

    def close(self):
        self.resume()
        self.lab.stop()


def summarize(samples, higher):
    if not samples:
        return None
    return {"median": statistics.median(samples), "min": min(samples),
            "max": max(samples), "n": len(samples), "higher": higher}


def ratio(by_lane, peers=PEERS):
    """hsnic / best peer (for lower-is-better figures: best / hsnic)."""
    h = by_lane.get("hsnic")
    vals = [by_lane[p]["median"] for p in peers
            if by_lane.get(p) and by_lane[p]["median"]]
    if not h or not vals or not h["median"]:
        return None
    if h["higher"]:
        return h["median"] / max(vals)
    return min(vals) / h["median"]


def fmt(v):
    return "%.4g" % v if v < 1e4 else "%.0f" % v


def build_table(results):
    table = {}
    for backend, by_measure in results.items():
        table[backend] = {}
        for name, by_lane in by_measure.items():
            table[backend][name] = {
                lane: summarize(v["samples"], v["higher"])
                for lane, v in by_lane.items()}
    return table


def markdown(meta, results, table, rx_cpu):
    lines = ["# hsnic bench, %s" % meta["date"], "",
             "%s on %s; QEMU %s, guest kernel %s; %d rounds of %d s per "
             "measure, lanes interleaved; median (min-max); last column: "
             "hsnic / best of %s." % (
                 meta["accel"].upper(), meta["host"], meta["qemu"],
                 meta["kernel"], meta["rounds"], meta["seconds"],
                 ", ".join(PEERS)), ""]
    for backend, by_measure in table.items():
        lanes = [x for x in LANES if x in meta["lanes"]]
        lines += ["## backend: %s" % backend, "",
                  "| measure | unit | " + " | ".join(lanes) +
                  " | hsnic / best peer |",
                  "|---|---|" + "---|" * (len(lanes) + 1)]
        for name, by_lane in by_measure.items():
            unit = next(iter(results[backend][name].values()))["unit"]
            cells = []
            for lane in lanes:
                s = by_lane.get(lane)
                cells.append("%s (%s-%s)" % (fmt(s["median"]), fmt(s["min"]),
                                            fmt(s["max"])) if s else "-")
            r = ratio(by_lane)
            lines.append("| %s | %s | %s | %s |" % (
                name, unit, " | ".join(cells), "%.2f" % r if r else "-"))
        lines.append("")
    if rx_cpu:
        lines += ["## hsnic receive: devmem against copy", "",
                  "| receiver | Mbit/s (median) | guest CPU s per GiB "
                  "(median, min-max) |", "|---|---|---|"]
        for mode in ("devmem", "copy"):
            if rx_cpu.get(mode):
                c = rx_cpu[mode]
                lines.append("| %s | %s | %.2f (%.2f-%.2f) |" % (
                    mode, fmt(c["thr"]), c["cpu"], c["cpu_min"],
                    c["cpu_max"]))
        lines.append("")
    return "\n".join(lines) + "\n"


def chart(path, meta, table, rx_cpu):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib missing: no chart (make deps installs it)")
        return False
    backends = list(table)
    lanes = [x for x in LANES if x in meta["lanes"]]
    rows = len(backends) + (1 if rx_cpu else 0)
    fig, axes = plt.subplots(rows, 1, squeeze=False,
                             figsize=(13, 4.2 * rows))
    for ax, backend in zip(axes[:, 0], backends):
        # devmem-rx / copy-rx have no peers: the last panel shows them
        names = [n for n in table[backend] if not n.endswith("-rx")]
        width = 0.8 / len(lanes)
        for i, lane in enumerate(lanes):
            xs, ys, lo_err, hi_err = [], [], [], []
            for j, n in enumerate(names):
                row = table[backend][n]
                s = row.get(lane)
                peers = [row[p]["median"] for p in PEERS if row.get(p)]
                base = max(peers) if peers else None
                if row.get("hsnic") and not peers:
                    base = row["hsnic"]["median"]
                if not s or not base:
                    continue
                xs.append(j + i * width)
                ys.append(s["median"] / base)
                lo_err.append(max(0, (s["median"] - s["min"]) / base))
                hi_err.append(max(0, (s["max"] - s["median"]) / base))
            ax.bar(xs, ys, width, yerr=[lo_err, hi_err], label=lane,
                   capsize=2)
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))])
        ax.set_xticklabels(names, rotation=25, ha="right")
        ax.set_ylabel("relative to the best peer")
        ax.set_title("%s backend, %s: median, bars min-max"
                     % (backend, meta["accel"].upper()))
        ax.legend(fontsize="small", ncol=4)
    if rx_cpu:
        ax = axes[-1, 0]
        modes = [m for m in ("devmem", "copy") if rx_cpu.get(m)]
        xs = list(range(len(modes)))
        ax.bar([x - 0.2 for x in xs], [rx_cpu[m]["thr"] for m in modes],
               0.4, color="tab:blue", label="Mbit/s (left)")
        ax2 = ax.twinx()
        ax2.bar([x + 0.2 for x in xs], [rx_cpu[m]["cpu"] for m in modes],
                0.4, color="tab:orange", label="guest CPU s per GiB (right)",
                yerr=[[rx_cpu[m]["cpu"] - rx_cpu[m]["cpu_min"]
                       for m in modes],
                      [rx_cpu[m]["cpu_max"] - rx_cpu[m]["cpu"]
                       for m in modes]], capsize=3)
        ax.set_xticks(xs)
        ax.set_xticklabels(["%s receiver" % m for m in modes])
        ax.set_ylabel("Mbit/s")
        ax2.set_ylabel("guest CPU s per GiB")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax2.legend(h1 + h2, l1 + l2, fontsize="small", loc="upper left")
        ax.set_title("hsnic receive, devmem (ncdevmem -Q) against copy "
                     "(socat)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def missing_lanes(by_lane, lanes):
    """The lanes of this run that have no sample of a measure (every
    round of theirs failed)."""
    return [x for x in lanes if not (by_lane.get(x) or {}).get("n")]


def verdicts(table, rx_cpu, ran, lanes=LANES):
    """(rule, True/False, ratio) per acceptance rule; None (NOT MEASURED)
    instead of True/False for a rule whose measures this run did not
    include (--only, --lanes, --backends), or for which hsnic or one of
    the run's peers has no sample: "the best peer" of an incomplete set
    proves nothing."""
    out = []
    s = table.get("stream", {})
    for n in ("tcp-1-up", "tcp-1-down", "tcp-4-up", "tcp-4-down", "tcp-rr"):
        r = ratio(s.get(n, {}), [x for x in lanes if x != "hsnic"])
        want = 1.1 if n == "tcp-rr" else 1.25
        what = "%s%s >= %gx the best peer" % (
            "" if n == "tcp-rr" else "bulk ", n, want)
        missing = missing_lanes(s.get(n, {}), lanes)
        if n not in ran:
            out.append((what, None, None))
        elif missing:
            out.append(("%s (no samples from %s)" % (what,
                                                     ", ".join(missing)),
                        None, None))
        else:
            out.append((what, r is not None and r >= want, r))
    d, c = rx_cpu.get("devmem"), rx_cpu.get("copy")
    if "devmem-rx" not in ran or "copy-rx" not in ran:
        out.append(("devmem-rx against copy-rx", None, None))
    elif d and c:
        out.append(("devmem-rx >= 0.9x copy-rx throughput with less guest "
                    "CPU per byte (%s vs %s Mbit/s, %.2f vs %.2f CPU s/GiB)"
                    % (fmt(d["thr"]), fmt(c["thr"]), d["cpu"], c["cpu"]),
                    d["thr"] >= 0.9 * c["thr"] and d["cpu"] < c["cpu"],
                    d["thr"] / c["thr"]))
    else:
        out.append(("devmem-rx against copy-rx", False, None))
    return out


def versions():
    art = hsniclab.Artifacts()
    try:
        with open(os.path.join(os.path.dirname(art.qemu), "VERSION")) as f:
            qv = f.read().strip()
    except OSError:
        qv = "?"
    kv = os.path.basename(art.kdir.rstrip("/"))
    return art.qemu, qv, kv


def parse_args(argv=None):
    """The command line: (parser, args, lanes, backends); the parser's
    error (exit code 2) for an unknown lane or backend or a round count
    or length below 1. With --replot, lanes and backends are None."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=3,
                   help="length of each iperf3/netperf run")
    p.add_argument("--lanes", default=",".join(LANES))
    p.add_argument("--backends", default="stream,tap")
    p.add_argument("--mem", type=int, default=1024, help="MiB per VM")
    p.add_argument("--out")
    p.add_argument("--quick", action="store_true",
                   help="a few measures only, to try the script out")
    p.add_argument("--only", metavar="M,..",
                   help="only these measures (names as above)")
    p.add_argument("--replot", metavar="DIR",
                   help="only redraw DIR/results.png from DIR/results.json")
    args = p.parse_args(argv)
    if args.replot:
        return p, args, None, None
    lanes = [x for x in args.lanes.split(",") if x]
    backends = [x for x in args.backends.split(",") if x]
    for x in lanes:
        if x not in LANES:
            p.error("unknown lane %s (one of %s)" % (x, ", ".join(LANES)))
    for x in backends:
        if x not in ("stream", "tap"):
            p.error("unknown backend %s (stream or tap)" % x)
    if args.rounds < 1 or args.seconds < 1:
        p.error("--rounds and --seconds must be at least 1")
    return p, args, lanes, backends


def replot(d):
    """--replot DIR: redraw DIR/results.png from DIR/results.json."""
    with open(os.path.join(d, "results.json")) as f:
        doc = json.load(f)
    chart(os.path.join(d, "results.png"), doc["meta"],
          doc["summary"], doc["rx_cpu"])
    return 0


def run_meta(args, lanes, backends):
    """The run's output directory (made) and its description (meta),
    logged."""
    date = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = args.out or os.path.join(hsniclab.TOP, "build", "bench", date)
    os.makedirs(outdir, exist_ok=True)
    accel, why = hsniclab.detect_accel()
    qemu, qver, kver = versions()
    meta = {"date": date, "accel": accel, "accel_why": why,
            "host": "%d CPUs" % os.cpu_count(), "qemu": qver,
            "qemu_binary": qemu, "kernel": kver, "rounds": args.rounds,
            "seconds": args.seconds, "lanes": lanes, "backends": backends,
            "devmem_mib": DEVMEM_MIB}
    log("%s (%s); QEMU %s, kernel %s; results in %s"
        % (accel.upper(), why, qver, kver, outdir))
    return outdir, meta


def parse_only(p, only_arg):
    """--only's measures; the parser's error for an unknown one."""
    only = [x for x in (only_arg or "").split(",") if x]
    known = {m.name for b in ("stream", "tap") for m in measures(b, False)}
    for x in only:
        if x not in known:
            p.error("unknown measure %s (one of %s)"
                    % (x, ", ".join(sorted(known))))
    return only


def run_rounds(args, lanes, backends, only, meta, t0):
    """Boot every lane of each backend, then run the rounds; return
    (samples by backend/measure/lane, devmem/copy RX samples, failed
    measures). Adds the drivers and the kernel to meta."""
    results = {b: {} for b in backends}
    rx = {"devmem": [], "copy": []}
    total = sum(len([m for m in measures(b, args.quick, only) for ln in lanes
                     if ln in m.lanes]) for b in backends) * args.rounds
    done = 0
    failures = []
    for backend in backends:
        ms = measures(backend, args.quick, only)
        envs = {}
        try:
            for lane in lanes:
                log("%s: booting the %s pair" % (backend, lane))
                env = Lane(lane, backend, args.mem)
                envs[lane] = env
                env.start()
                meta.setdefault("drivers", {}).setdefault(
                    backend, {})[lane] = env.info
                meta["kernel"] = env.kernel
                env.pause()
            for rnd in range(1, args.rounds + 1):
                for lane in lanes:
                    env = envs[lane]
                    env.resume()
                    try:
                        for m in ms:
                            if lane not in m.lanes:
                                continue
                            done += 1
                            try:
                                v = m.run(env, args.seconds)
                            except Exception as e:   # keep the rest going
                                failures.append("%s/%s/%s round %d: %s" % (
                                    backend, lane, m.name, rnd, e))
                                log("  %s %s: FAILED: %s" % (lane, m.name,
                                                             e))
                                continue
                            slot = results[backend].setdefault(
                                m.name, {}).setdefault(
                                lane, {"samples": [], "higher": m.higher,
                                       "unit": m.unit})
                            slot["samples"].append(v)
                            if isinstance(m, RxMode):
                                rx[m.mode].append((v, m.cpu_per_gib))
                            el = time.monotonic() - t0
                            log("%s r%d/%d %-14s %-14s %10s %-7s [%d/%d, "
                                "~%.0f min left]" % (
                                    backend, rnd, args.rounds, lane, m.name,
                                    fmt(v), m.unit, done, total,
                                    el / done * (total - done) / 60))
                    finally:
                        env.pause()
        finally:
            for env in envs.values():
                env.close()
    return results, rx, failures


def report(args, lanes, backends, only, meta, results, rx, failures,
           outdir, t0):
    """Summaries, verdicts, results.json/.md/.png and the printed report;
    return the exit code: 1 if a measure or a rule failed."""
    table = build_table(results)
    rx_cpu = {}
    for mode, samples in rx.items():
        if samples:
            cpus = [c for _, c in samples]
            rx_cpu[mode] = {"thr": statistics.median(v for v, _ in samples),
                            "cpu": statistics.median(cpus),
                            "cpu_min": min(cpus), "cpu_max": max(cpus)}
    meta["minutes"] = round((time.monotonic() - t0) / 60, 1)
    ran = {m.name for m in measures("stream", args.quick, only)} \
        if "stream" in backends else set()
    if len(lanes) < 2 or "hsnic" not in lanes:
        # the peer ratios need hsnic and at least one peer
        ran -= {"tcp-1-up", "tcp-1-down", "tcp-4-up", "tcp-4-down",
                "tcp-rr"}
    verd = verdicts(table, rx_cpu, ran, lanes)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"meta": meta, "samples": results, "summary": table,
                   "rx_cpu": rx_cpu, "failures": failures,
                   "verdicts": [{"rule": w, "pass": ok, "ratio": r}
                                for w, ok, r in verd]}, f, indent=1)
    text = markdown(meta, results, table, rx_cpu)
    vlines = ["VERDICT %s: %s%s" % (
        {True: "PASS", False: "FAIL", None: "NOT MEASURED"}[ok], what,
        " (ratio %.2f)" % r if r else "")
              for what, ok, r in verd]
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text + "\n" + "\n".join("    " + v for v in vlines) + "\n")
    png = chart(os.path.join(outdir, "results.png"), meta, table, rx_cpu)
    print(text)
    for f in failures:
        print("measure failed: %s" % f)
    for v in vlines:
        print(v)
    print("%s, %.1f min; results in %s%s" % (
        meta["accel"].upper(), meta["minutes"], outdir,
        " (results.json, results.md, results.png)" if png else ""))
    # a failed measure fails the run, even where a rule still had samples
    return 1 if failures or any(not ok for _, ok, _ in verd) else 0


def main(argv=None):
    p, args, lanes, backends = parse_args(argv)
    if args.replot:
        return replot(args.replot)
    outdir, meta = run_meta(args, lanes, backends)
    t0 = time.monotonic()
    only = parse_only(p, args.only)
    results, rx, failures = run_rounds(args, lanes, backends, only, meta,
                                       t0)
    return report(args, lanes, backends, only, meta, results, rx, failures,
                  outdir, t0)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (hsniclab.LabError, subprocess.CalledProcessError) as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)
