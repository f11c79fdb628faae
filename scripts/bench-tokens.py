#!/usr/bin/python3
"""Devmem RX token management: what the niov-array tokens save.

usage: scripts/bench-tokens.py [--rounds N] [--mib M] [--out DIR]

The lab's kernel carries kernel-patches/0001-0003: with autorelease off a
devmem token is the index of its page in the binding's net_iov array and
user references are counted per net_iov, instead of one xarray entry per
fragment in the socket. The upstream series reported ~13 % less CPU in
the devmem RX thread. This measures it on hsnic, three ways, with the
same flow and size:

  stock  the kernel without the series (scripts/build-kernel.sh with
         HSNIC_KERNEL_STOCK=1), ncdevmem binding as it always did
  on     the patched kernel, ncdevmem -a 1 (autorelease, xarray tokens)
  off    the patched kernel, ncdevmem -a 0 (page-index tokens)

Two `pair` labs (hsnic, QEMU stream link), one per kernel, booted once;
the rounds visit stock, on, off in turn and the lab not being measured is
paused (QMP stop). Each run: vm1 sends M MiB (default 256) with socat,
vm0 receives it with ncdevmem -Q (payload into a udmabuf, the tokens of
each recvmsg() returned with one SO_DEVMEM_DONTNEED). The figure is the
CPU time of the receiving thread, ncdevmem's own user + system time from
/proc/<pid>/stat (that is where recvmsg() hands out tokens and
SO_DEVMEM_DONTNEED takes them back), per GiB received; throughput is kept
too. ncdevmem's setup (binding, queue restarts) is in its time, the same
in every mode.

Results in build/bench-tokens/<date>/: results.json (every sample),
results.md (median, min-max and spread per mode, ratios) and results.png.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsniclab  # noqa: E402
from bench import SERVER, CLIENT, Lane, timed_send, \
    wait_listening  # noqa: E402

MODES = ("stock", "on", "off")
NCDEVMEM = "/lab/selftests/drivers/net/hw/ncdevmem"
# ncdevmem in the background, its pid's CPU read just before it exits:
# utime + stime of the process (one thread), in clock ticks.
RECV = r"""
%(nc)s -Q -l -f %(dev)s -s %(srv)s -p %(port)d -c %(cli)s %(opt)s \
    2>/tmp/ncdevmem.log >/dev/null &
pid=$!
stat=""
while kill -0 $pid 2>/dev/null; do
    s=$(cat /proc/$pid/stat 2>/dev/null) && stat=$s
    sleep 0.05
done
wait $pid
rc=$?
# the last sample is at most 50 ms old: ncdevmem's last recvmsg() and exit
set -- ${stat#*) }
echo "rc=$rc ticks=$(( ${12} + ${13} )) hz=$(getconf CLK_TCK)" \
     "got=$(sed -n 's/^total_received=//p' /tmp/ncdevmem.log | tail -1)"
"""


def log(msg):
    print("[bench-tokens] %s" % msg, flush=True)


class Kernel(Lane):
    """A `pair` lab on one kernel, with ncdevmem from the patched tree;
    pause(), resume() and close() as bench.py's lanes."""

    def __init__(self, name, art, mem):
        super().__init__("hsnic", "stream", mem, art=art)
        self.name = name
        self.runs = 0

    def start(self):
        self.lab.start()
        self.running = True
        self.vms = self.lab.vms
        srv, cli = self.vms
        self.release = srv.run("uname -v", check=True)[1].strip()
        cli.run("for i in $(seq 100); do ping -c1 -W1 %s >/dev/null && "
                "exit 0; sleep 0.2; done; exit 1" % SERVER, timeout=120,
                check=True)
        self.dev = srv.run("ip -o route get %s | awk '{ print $3 }'"
                           % CLIENT, check=True)[1].strip()
        srv.run("echo 64 > /proc/sys/vm/nr_hugepages", check=True)
        self.has_attr = srv.run("grep -q 'name: autorelease' "
                                "/lab/selftests/net/lib/specs/netdev.yaml"
                                )[0] == 0

    def measure(self, opt, mib):
        srv, cli = self.lab.vms
        self.runs += 1
        port = 5301 + self.runs % 500      # ncdevmem: sport == dport
        rcid = srv.start_bg(RECV % {"nc": NCDEVMEM, "dev": self.dev,
                                    "srv": SERVER, "port": port,
                                    "cli": CLIENT, "opt": opt}, timeout=600)
        wait_listening(srv, port)
        secs = timed_send(cli, mib << 20, port)
        rc, out = srv.wait_bg(rcid, timeout=600)
        vals = dict(kv.split("=", 1) for kv in out.split() if "=" in kv)
        if rc or vals.get("rc") != "0" or vals.get("got") != str(mib << 20):
            tail = srv.run("tail -5 /tmp/ncdevmem.log")[1]
            raise RuntimeError("ncdevmem %s: %s\n%s" % (opt, out, tail))
        cpu = int(vals["ticks"]) / int(vals["hz"])
        return cpu / (mib / 1024), mib * 8 * 1.048576 / secs


def artifacts(stock):
    art = hsniclab.Artifacts()
    if stock:
        # the stock kernel and a module built for it; the selftests
        # (ncdevmem) stay the patched tree's: without -a they bind as
        # ncdevmem always did
        patched = hsniclab.Artifacts()
        os.environ["HSNIC_KERNEL_STOCK"] = "1"
        try:
            art._memo["kernel"] = hsniclab.script_output(
                [os.path.join(hsniclab.TOP, "scripts/build-kernel.sh")],
                "kernel")
        finally:
            del os.environ["HSNIC_KERNEL_STOCK"]
        art._memo["selftests"] = patched.selftests
    return art


def spread(xs):
    """(max - min) / median, in percent: one slow round (the host is
    shared) shows here; the quartiles say how the rest lie."""
    med = statistics.median(xs)
    return 100 * (max(xs) - min(xs)) / med if med else 0


def summarize(samples):
    out = {}
    for mode, runs in samples.items():
        if not runs:
            continue
        cpu = [c for c, _ in runs]
        thr = [t for _, t in runs]
        out[mode] = {"n": len(runs), "cpu": statistics.median(cpu),
                     "cpu_min": min(cpu), "cpu_max": max(cpu),
                     "cpu_spread": spread(cpu),
                     "cpu_q1": statistics.quantiles(cpu, n=4)[0],
                     "cpu_q3": statistics.quantiles(cpu, n=4)[2],
                     "cpu_stdev": statistics.stdev(cpu) if len(cpu) > 1
                     else 0.0,
                     "thr": statistics.median(thr), "thr_min": min(thr),
                     "thr_max": max(thr)}
    return out


def markdown(meta, summ):
    lines = ["# devmem RX tokens: stock vs autorelease on vs off", "",
             "%s, %d runs per mode of %d MiB, %s; QEMU %s" % (
                 meta["accel"].upper(), meta["rounds"], meta["mib"],
                 meta["date"], meta["qemu"]), "",
             "| mode | kernel | ncdevmem | RX thread CPU s/GiB, median "
             "(min-max) | quartiles | spread | Mbit/s, median (min-max) |",
             "|---|---|---|---|---|---|---|"]
    what = {"stock": ("without the series", "(no -a)"),
            "on": ("patched", "-a 1"), "off": ("patched", "-a 0")}
    for mode in MODES:
        s = summ.get(mode)
        if not s:
            continue
        lines.append("| %s | %s | %s | %.3f (%.3f-%.3f) | %.3f-%.3f | "
                     "%.0f %% | %.0f (%.0f-%.0f) |" % (
                         mode, what[mode][0], what[mode][1], s["cpu"],
                         s["cpu_min"], s["cpu_max"], s["cpu_q1"],
                         s["cpu_q3"], s["cpu_spread"],
                         s["thr"], s["thr_min"], s["thr_max"]))
    lines.append("")
    for a, b in (("off", "on"), ("off", "stock"), ("on", "stock")):
        if a in summ and b in summ:
            lines.append("- %s / %s RX thread CPU per GiB: %.3f (%+.1f %%)"
                         % (a, b, summ[a]["cpu"] / summ[b]["cpu"],
                            100 * (summ[a]["cpu"] / summ[b]["cpu"] - 1)))
    return "\n".join(lines) + "\n"


def chart(path, meta, samples):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    modes = [m for m in MODES if samples.get(m)]
    for ax, idx, label in ((axes[0], 0, "RX thread CPU s per GiB"),
                           (axes[1], 1, "throughput, Mbit/s")):
        data = [[s[idx] for s in samples[m]] for m in modes]
        ax.boxplot(data, labels=modes, showmeans=False)
        for i, d in enumerate(data, 1):
            ax.plot([i] * len(d), d, "o", alpha=0.4, markersize=4)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("ncdevmem's own CPU (lower is better)")
    axes[1].set_title("sender-timed throughput")
    fig.suptitle("devmem RX tokens on hsnic: stock kernel vs autorelease "
                 "on/off (%d x %d MiB, %s)"
                 % (meta["rounds"], meta["mib"], meta["accel"].upper()))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--rounds", type=int, default=10,
                   help="runs per mode (default 10)")
    p.add_argument("--mib", type=int, default=256,
                   help="MiB per run (default 256)")
    p.add_argument("--mem", type=int, default=1024, help="MiB per VM")
    p.add_argument("--out")
    args = p.parse_args()
    if args.rounds < 2 or args.mib < 1:
        p.error("--rounds must be at least 2 and --mib at least 1")
    date = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = args.out or os.path.join(hsniclab.TOP, "build", "bench-tokens",
                                      date)
    os.makedirs(outdir, exist_ok=True)
    accel, why = hsniclab.detect_accel()
    log("building or finding the stock and the patched kernel")
    arts = {"stock": artifacts(True), "patched": artifacts(False)}
    qemu = arts["patched"].qemu
    meta = {"date": date, "accel": accel, "accel_why": why,
            "rounds": args.rounds, "mib": args.mib,
            "qemu": os.path.basename(os.path.dirname(qemu)),
            "kernels": {k: a.kdir for k, a in arts.items()}}
    samples = {m: [] for m in MODES}
    failures = []
    t0 = time.monotonic()
    kernels = {}
    try:
        for name in ("stock", "patched"):
            log("booting the %s kernel's pair" % name)
            k = Kernel(name, arts[name], args.mem)
            kernels[name] = k
            k.start()
            k.pause()
        if not kernels["patched"].has_attr:
            raise hsniclab.LabError("the patched kernel's netlink spec has no "
                               "autorelease attribute: is kernel-patches/"
                               "series applied?")
        plan = [("stock", "stock", ""), ("on", "patched", "-a 1"),
                ("off", "patched", "-a 0")]
        total, done = args.rounds * len(plan), 0
        for rnd in range(1, args.rounds + 1):
            for mode, kname, opt in plan:
                k = kernels[kname]
                for other in kernels.values():
                    if other is not k:
                        other.pause()
                k.resume()
                done += 1
                try:
                    cpu, thr = k.measure(opt, args.mib)
                except Exception as e:      # keep the rest going
                    failures.append("%s round %d: %s" % (mode, rnd, e))
                    log("  %s: FAILED: %s" % (mode, e))
                    continue
                samples[mode].append((cpu, thr))
                el = time.monotonic() - t0
                log("r%d/%d %-5s %.3f CPU s/GiB %6.0f Mbit/s [%d/%d, ~%.0f "
                    "min left]" % (rnd, args.rounds, mode, cpu, thr, done,
                                   total, el / done * (total - done) / 60))
        meta["kernel_versions"] = {k: v.release for k, v in kernels.items()}
    finally:
        for k in kernels.values():
            k.close()
    meta["minutes"] = round((time.monotonic() - t0) / 60, 1)
    summ = summarize(samples)
    text = markdown(meta, summ)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"meta": meta, "samples": samples, "summary": summ,
                   "failures": failures}, f, indent=1)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text)
    png = chart(os.path.join(outdir, "results.png"), meta, samples)
    print(text)
    for f in failures:
        print("run failed: %s" % f)
    print("%.1f min; results in %s%s" % (
        meta["minutes"], outdir, " (results.json, results.md, results.png)"
        if png else ""))
    short = [m for m in MODES if len(samples[m]) < args.rounds]
    return 1 if failures or short else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except hsniclab.LabError as e:
        print("bench-tokens: %s" % e, file=sys.stderr)
        sys.exit(2)
