#!/usr/bin/python3
"""Run hsnic's tests: fast host-side unit tests first, then the lab.

usage: tests/run.py [--tier TIER] [--junit FILE] [-k PATTERN]...

Tiers: unit (host-side, seconds), lab (boots VMs, minutes), slow (the
kernel's selftests, devmem between VMs, queue restart stress), fast
(unit + lab) and all (unit + lab + slow). The default is $HSNIC_TEST_TIER,
else "all" under CI (CI=true), else "fast".

Prints one line per test and ends with `N passed, N failed[, N skipped]`;
exits non-zero when anything failed.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "scripts")]

import harness  # noqa: E402
import unit_tests  # noqa: E402,F401
import qtest_tests  # noqa: E402,F401
import lab_tests  # noqa: E402,F401
import devmem_tests  # noqa: E402,F401
import debug_tests  # noqa: E402,F401
import capture_tests  # noqa: E402,F401
import rr_tests  # noqa: E402,F401


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("HSNIC_TEST_TIER") or (
        "all" if os.environ.get("CI") == "true" else "fast")
    p.add_argument("--tier", default=default,
                   choices=("unit", "lab", "slow", "fast", "all"))
    p.add_argument("--junit", help="also write JUnit XML here")
    p.add_argument("-k", action="append", dest="select",
                   help="run only tests whose group/name contains this")
    args = p.parse_args()
    groups = [g for g in harness.GROUPS
              if args.tier == "all" or g.tier == args.tier or
              (args.tier == "fast" and g.tier in ("unit", "lab"))]
    t0 = time.monotonic()
    results = harness.run(groups, lambda s: print(s, flush=True),
                          args.select)
    if args.junit:
        harness.write_junit(results, args.junit)
    line, n = harness.summary(results)
    print("tests took %.0f s" % (time.monotonic() - t0))
    print(line)
    return 1 if n["failed"] or not results else 0


if __name__ == "__main__":
    sys.exit(main())
