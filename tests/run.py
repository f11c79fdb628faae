#!/usr/bin/python3
"""Run hsnic's tests: fast host-side unit tests first, then the lab.

usage: tests/run.py [--tier TIER] [--junit FILE] [-k PATTERN]...
                    [--budget S | --deadline T [--hard-deadline T]]
                    [--list | --write-reference]

Tiers: unit (host-side, seconds), lab (boots VMs, minutes), slow (the
kernel's selftests, devmem between VMs, shorter soaks), soak (the full
soaks: 1000 queue restarts, 1 GiB through ncdevmem, 100 resets), fast
(unit + lab) and all (unit + lab + slow). The default is
$HSNIC_TEST_TIER, else "all" under CI (CI=true), else "fast".

Groups run in priority order: unit, lab, slow, soak. With a time budget
(--budget seconds from now, or --deadline, a time.time() value;
$HSNIC_TEST_DEADLINE and $HSNIC_TEST_HARD_DEADLINE are the defaults),
a test or group that is not expected to finish before the deadline is
left out and reported as skipped, by name; a test still running at the
hard deadline (default: the deadline) is interrupted and fails. Expected
durations come from this machine's last runs ($HSNIC_CACHE/test-times.json)
or, before there are any, from tests/test-times.json times
$HSNIC_TIME_FACTOR (1.5).

Prints one line per test and ends with `N passed, N failed[, N skipped]`;
exits non-zero when anything failed.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "scripts")]

from lib import harness  # noqa: E402
import unit_tests  # noqa: E402,F401
import qtest_tests  # noqa: E402,F401
import lab_tests  # noqa: E402,F401
import devmem_tests  # noqa: E402,F401
import debug_tests  # noqa: E402,F401
import capture_tests  # noqa: E402,F401
import rr_tests  # noqa: E402,F401

TIER_GROUPS = {
    "unit": ("unit",),
    "lab": ("lab",),
    "slow": ("slow",),
    "soak": ("soak",),
    "fast": ("unit", "lab"),
    "all": ("unit", "lab", "slow"),
}


def _env_float(name):
    v = os.environ.get(name)
    return float(v) if v else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("HSNIC_TEST_TIER") or (
        "all" if os.environ.get("CI") == "true" else "fast")
    p.add_argument("--tier", default=default, choices=tuple(TIER_GROUPS))
    p.add_argument("--junit", help="also write JUnit XML here")
    p.add_argument("-k", action="append", dest="select",
                   help="run only tests whose group/name contains this")
    p.add_argument("--budget", type=float,
                   help="seconds from now in which the run must end")
    p.add_argument("--deadline", type=float,
                   default=_env_float("HSNIC_TEST_DEADLINE"),
                   help="time.time() by which the run must end")
    p.add_argument("--hard-deadline", type=float,
                   default=_env_float("HSNIC_TEST_HARD_DEADLINE"),
                   help="time.time() at which a running test is stopped")
    p.add_argument("--list", action="store_true",
                   help="print the selected tests with their expected "
                   "seconds and exit")
    p.add_argument("--write-reference", action="store_true",
                   help="write this machine's recorded durations to "
                   "tests/test-times.json (the estimates of machines "
                   "without a history) and exit")
    args = p.parse_args()
    if args.budget is not None:
        args.deadline = time.time() + args.budget
        args.hard_deadline = None
    groups = harness.by_priority(
        [g for g in harness.GROUPS if g.tier in TIER_GROUPS[args.tier]])
    cache = os.environ.get("HSNIC_CACHE") or os.path.expanduser(
        "~/.cache/hsnic")
    times = harness.Times(os.path.join(cache, "test-times.json"),
                          factor=float(os.environ.get("HSNIC_TIME_FACTOR",
                                                      "1.5")))
    if args.list:
        return list_tests(groups, args.select, times)
    if args.write_reference:
        return write_reference(times)
    budget = None
    if args.deadline is not None:
        budget = harness.Budget(args.deadline, args.hard_deadline, times)
        print("time budget: %.0f s from now (hard deadline %+.0f s)" % (
            budget.left(), budget.hard - budget.deadline), flush=True)
    t0 = time.monotonic()
    results = harness.run(groups, lambda s: print(s, flush=True),
                          args.select, budget=budget, times=times)
    if args.junit:
        harness.write_junit(results, args.junit)
    line, n = harness.summary(results)
    print("tests took %.0f s" % (time.monotonic() - t0))
    left = harness.left_out(results)
    if left:
        print("left out by the time budget (%d): %s" % (len(left),
                                                         ", ".join(left)))
    print(line)
    return 1 if n["failed"] or not results else 0


def write_reference(times):
    ref = {k: max(v) for k, v in sorted(times.history.items())
           if isinstance(v, list) and v}
    with open(harness.REFERENCE, "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d durations to %s" % (len(ref), harness.REFERENCE))
    return 0


def list_tests(groups, select, times):
    total = 0
    for g in groups:
        default = harness.DEFAULT_TEST_SECS[g.tier]
        names = [n for n, _ in harness.selected(g, select)]
        if not names:
            continue
        setup = times.expect("%s/@setup" % g.name,
                             harness.DEFAULT_SETUP_SECS if g.setup else 0)
        print("%-32s %-5s setup %4.0f s" % (g.name, g.tier, setup))
        total += setup
        for n in names:
            secs = times.expect("%s/%s" % (g.name, n), default)
            total += secs
            print("    %-52s %5.0f s" % (n, secs))
    print("expected total: %.0f s" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
