"""A small test harness: registration, running, summary line, JUnit XML.

Tests are plain functions registered with @test("group", "name"). A test
passes by returning, fails by raising (AssertionError or anything else),
and skips by raising Skip. Fixtures shared by a group (a booted lab) are
set up by the group's setup function and handed to each test.

A run may have a time budget (Budget): before a group boots and before
each test, the runner compares what the step is expected to take (Times:
this machine's own history, else the reference figures in
tests/test-times.json) with the time left, and leaves out, as skipped and
by name, what would not finish in time. A test still running at the hard
deadline is interrupted and fails.
"""

import json
import os
import signal
import time
import traceback
import xml.etree.ElementTree as ET


class Skip(Exception):
    pass


class OverBudget(BaseException):
    """Raised in the running test at the budget's hard deadline. A
    BaseException, so that a test's `except Exception` cannot swallow it."""


TIERS = ("unit", "lab", "slow", "soak")


class Group:
    def __init__(self, name, setup=None, teardown=None, tier="lab",
                 share=None, rank=100):
        assert tier in TIERS, tier
        self.name = name
        self.setup = setup
        self.teardown = teardown
        self.tier = tier
        # Groups of one tier with the same `share` key run one after the
        # other, so that their setup can hand over one fixture (a booted
        # lab) instead of making a new one (tests/lib/env.py).
        self.share = share
        # Within a tier, lower ranks run first (by_priority).
        self.rank = rank
        self.tests = []


GROUPS = []
# Called with no argument once a run ends: releases fixtures that setups
# kept for later groups.
CLEANUPS = []
# Called with the group before it starts (before its setup, if any).
BEFORE_SETUP = []


def group(name, setup=None, teardown=None, tier="lab", share=None,
          rank=100):
    g = Group(name, setup, teardown, tier, share, rank)
    GROUPS.append(g)
    return g


def test(grp, name=None):
    def deco(fn):
        grp.tests.append((name or fn.__name__, fn))
        return fn
    return deco


def by_priority(groups):
    """Groups in the order a budget should spend time on them: tier by
    tier (unit, lab, slow, soak), each tier by rank, then in registration
    order, except that groups sharing a fixture follow the first of
    them."""
    first = {}
    for i, g in enumerate(groups):
        k = (g.tier, g.share or id(g))
        first.setdefault(k, (g.rank, i))
    return sorted(groups, key=lambda g: (TIERS.index(g.tier),
                                         first[(g.tier, g.share or id(g))]))


class Result:
    def __init__(self, group, name, status, secs, detail="", left_out=False):
        self.group = group
        self.name = name
        self.status = status        # "passed" | "failed" | "skipped"
        self.secs = secs
        self.detail = detail
        self.left_out = left_out    # skipped by the time budget


# Expected durations when neither this machine nor the reference knows a
# step: by tier for a test, and for a group's setup (a lab boot).
DEFAULT_TEST_SECS = {"unit": 5, "lab": 60, "slow": 300, "soak": 900}
DEFAULT_SETUP_SECS = 90
# tests/test-times.json (this file is tests/lib/harness.py)
REFERENCE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "test-times.json")


class Times:
    """Expected seconds per step ("group/test", "group/@setup",
    "group/@teardown"). This machine's history (the last runs, kept in
    `path`) wins; otherwise the reference figures, measured on the
    development machine, times `factor` (machines of one kind differ ~2x
    in speed)."""

    KEEP = 3

    def __init__(self, path=None, reference=REFERENCE, factor=1.5):
        self.path = path
        self.factor = factor
        self.history = self._load(path) if path else {}
        self.reference = self._load(reference) if reference else {}

    @staticmethod
    def _load(path):
        try:
            with open(path) as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def expect(self, key, default):
        seen = self.history.get(key)
        if isinstance(seen, list) and seen:
            return max(seen) * 1.1
        ref = self.reference.get(key)
        if isinstance(ref, (int, float)):
            return ref * self.factor
        return default * self.factor

    def record(self, key, secs):
        seen = self.history.get(key)
        if not isinstance(seen, list):
            seen = []
        self.history[key] = (seen + [round(secs, 1)])[-self.KEEP:]

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "w") as f:
                json.dump(self.history, f, indent=0, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:
            pass


class Budget:
    """A deadline (time.time() seconds) for starting work, and a hard one
    at which the running test is interrupted."""

    def __init__(self, deadline, hard=None, times=None):
        self.deadline = deadline
        self.hard = hard if hard is not None else deadline
        self.times = times or Times()
        self.exhausted = False

    def left(self):
        return self.deadline - time.time()

    def fits(self, secs):
        return not self.exhausted and secs <= self.left()

    def arm(self):
        def _alarm(signum, frame):
            self.exhausted = True
            raise OverBudget()
        self._prev = signal.signal(signal.SIGALRM, _alarm)
        self._armed = time.monotonic()
        self._prev_left = signal.alarm(max(1, int(self.hard - time.time())))

    def disarm(self):
        """Cancel the alarm and give back an enclosing run's (a budget
        inside a budget: the harness's own unit tests)."""
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self._prev)
        if self._prev_left:
            spent = time.monotonic() - self._armed
            signal.alarm(max(1, int(self._prev_left - spent)))


def _left_out(grp, name, need, budget):
    return Result(grp.name, name, "skipped", 0,
                  "left out: the time budget has %.0f s left, this needs "
                  "~%.0f s" % (max(budget.left(), 0), need), left_out=True)


_depth = 0     # runs in progress: a unit test may run the harness itself


def run(groups, out, select=None, budget=None, times=None):
    """Run `groups`; `budget` (a Budget) limits the time, `times` (a
    Times) records what each step took for the next run's estimates."""
    results = []
    times = times or (budget.times if budget else None)

    def emit(r):
        results.append(r)
        tag = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[r.status]
        out("%s %s/%s (%.1f s)" % (tag, r.group, r.name, r.secs))
        if r.detail and r.status != "passed":
            for line in r.detail.rstrip().splitlines():
                out("    " + line)

    def expect(g, step, default):
        return times.expect("%s/%s" % (g.name, step), default) if times \
            else default

    global _depth
    _depth += 1
    if budget:
        budget.arm()
    try:
        for g in groups:
            tests = selected(g, select)
            if not tests:
                continue
            try:
                _run_group(g, tests, emit, out, budget, times, expect)
            except OverBudget:
                # the alarm struck between tests (a handover, a hook):
                # what this group did not run is left out
                done = {r.name for r in results if r.group == g.name}
                for n, _ in tests:
                    if n not in done:
                        emit(Result(g.name, n, "skipped", 0, "left out: "
                                    "the time budget ran out", left_out=True))
    finally:
        if budget:
            budget.disarm()
        _depth -= 1
        for fn in CLEANUPS if not _depth else ():
            try:
                fn()
            except Exception:
                out("cleanup: " + traceback.format_exc(limit=3))
        if times:
            times.save()
    return results


def _run_group(g, tests, emit, out, budget, times, expect):
    default = DEFAULT_TEST_SECS[g.tier]
    setup_s = expect(g, "@setup", DEFAULT_SETUP_SECS if g.setup else 0)
    down_s = expect(g, "@teardown", 5 if g.teardown else 0)
    if budget:
        # set up only if at least one of its tests fits after the setup
        least = min(expect(g, n, default) for n, _ in tests)
        if not budget.fits(setup_s + least + down_s):
            for n, _ in tests:
                emit(_left_out(g, n, setup_s + expect(g, n, default) +
                               down_s, budget))
            return
        out("== %s (%d tests; %.0f s of the budget left)" % (
            g.name, len(tests), budget.left()))
    else:
        out("== %s (%d tests)" % (g.name, len(tests)))
    fixture = None
    t0 = time.monotonic()
    for fn in BEFORE_SETUP:
        fn(g)
    if g.setup:
        try:
            fixture = g.setup()
            if times:
                times.record("%s/@setup" % g.name, time.monotonic() - t0)
        except Skip as e:
            for n, _ in tests:
                emit(Result(g.name, n, "skipped", 0, str(e)))
            return
        except (Exception, OverBudget) as e:
            why = ("the time budget ran out during setup"
                   if isinstance(e, OverBudget) else traceback.format_exc(
                       limit=3))
            for n, _ in tests:
                emit(Result(g.name, n, "failed",
                            time.monotonic() - t0, "setup: " + why))
            return
    try:
        for n, fn in tests:
            if budget and not budget.fits(expect(g, n, default) + down_s):
                emit(_left_out(g, n, expect(g, n, default) + down_s, budget))
                continue
            t1 = time.monotonic()
            try:
                fn(fixture) if g.setup else fn()
                secs = time.monotonic() - t1
                emit(Result(g.name, n, "passed", secs))
                if times:
                    times.record("%s/%s" % (g.name, n), secs)
            except Skip as e:
                emit(Result(g.name, n, "skipped",
                            time.monotonic() - t1, str(e)))
            except OverBudget:
                emit(Result(g.name, n, "failed", time.monotonic() - t1,
                            "interrupted: still running at the time "
                            "budget's hard deadline"))
            except Exception as e:
                detail = str(e) if isinstance(e, AssertionError) and \
                    str(e) else traceback.format_exc(limit=4)
                emit(Result(g.name, n, "failed",
                            time.monotonic() - t1, detail))
    finally:
        if g.teardown:
            t2 = time.monotonic()
            try:
                extra = g.teardown(fixture)
            except (Exception, OverBudget):
                extra = traceback.format_exc(limit=3)
            if times:
                times.record("%s/@teardown" % g.name, time.monotonic() - t2)
            if extra:
                emit(Result(g.name, "teardown", "failed", 0, extra))


def summary(results):
    n = {s: sum(1 for r in results if r.status == s)
         for s in ("passed", "failed", "skipped")}
    line = "%d passed, %d failed" % (n["passed"], n["failed"])
    if n["skipped"]:
        line += ", %d skipped" % n["skipped"]
    return line, n


def left_out(results):
    """Names of the tests the time budget left out."""
    return ["%s/%s" % (r.group, r.name) for r in results if r.left_out]


def selected(g, select):
    """The (name, function) tests of group `g` that -k patterns select."""
    return [(n, f) for n, f in g.tests
            if not select or any(s in "%s/%s" % (g.name, n) for s in select)]


def write_junit(results, path):
    suites = ET.Element("testsuites")
    by_group = {}
    for r in results:
        by_group.setdefault(r.group, []).append(r)
    for gname, rs in by_group.items():
        s = ET.SubElement(suites, "testsuite", name=gname,
                          tests=str(len(rs)),
                          failures=str(sum(r.status == "failed" for r in rs)),
                          skipped=str(sum(r.status == "skipped" for r in rs)),
                          time="%.3f" % sum(r.secs for r in rs))
        for r in rs:
            c = ET.SubElement(s, "testcase", classname=gname, name=r.name,
                              time="%.3f" % r.secs)
            if r.status == "failed":
                ET.SubElement(c, "failure",
                              message=r.detail.splitlines()[0][:200]
                              if r.detail else "failed").text = r.detail
            elif r.status == "skipped":
                ET.SubElement(c, "skipped", message=r.detail[:200])
    ET.ElementTree(suites).write(path, encoding="utf-8",
                                 xml_declaration=True)
