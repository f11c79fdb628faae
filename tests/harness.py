"""A small test harness: registration, running, summary line, JUnit XML.

Tests are plain functions registered with @test("group", "name"). A test
passes by returning, fails by raising (AssertionError or anything else),
and skips by raising Skip. Fixtures shared by a group (a booted lab) are
set up by the group's setup function and handed to each test.
"""

import time
import traceback
import xml.etree.ElementTree as ET


class Skip(Exception):
    pass


class Group:
    def __init__(self, name, setup=None, teardown=None, tier="lab"):
        self.name = name
        self.setup = setup
        self.teardown = teardown
        self.tier = tier
        self.tests = []


GROUPS = []


def group(name, setup=None, teardown=None, tier="lab"):
    g = Group(name, setup, teardown, tier)
    GROUPS.append(g)
    return g


def test(grp, name=None):
    def deco(fn):
        grp.tests.append((name or fn.__name__, fn))
        return fn
    return deco


class Result:
    def __init__(self, group, name, status, secs, detail=""):
        self.group = group
        self.name = name
        self.status = status        # "passed" | "failed" | "skipped"
        self.secs = secs
        self.detail = detail


def run(groups, out, select=None):
    results = []

    def emit(r):
        results.append(r)
        tag = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[r.status]
        out("%s %s/%s (%.1f s)" % (tag, r.group, r.name, r.secs))
        if r.detail and r.status != "passed":
            for line in r.detail.rstrip().splitlines():
                out("    " + line)

    for g in groups:
        tests = [(n, f) for n, f in g.tests
                 if not select or any(s in "%s/%s" % (g.name, n)
                                      for s in select)]
        if not tests:
            continue
        out("== %s (%d tests)" % (g.name, len(tests)))
        fixture = None
        t0 = time.monotonic()
        if g.setup:
            try:
                fixture = g.setup()
            except Skip as e:
                for n, _ in tests:
                    emit(Result(g.name, n, "skipped", 0, str(e)))
                continue
            except Exception:
                detail = traceback.format_exc(limit=3)
                for n, _ in tests:
                    emit(Result(g.name, n, "failed",
                                time.monotonic() - t0, "setup: " + detail))
                continue
        try:
            for n, fn in tests:
                t1 = time.monotonic()
                try:
                    fn(fixture) if g.setup else fn()
                    emit(Result(g.name, n, "passed", time.monotonic() - t1))
                except Skip as e:
                    emit(Result(g.name, n, "skipped",
                                time.monotonic() - t1, str(e)))
                except Exception as e:
                    detail = str(e) if isinstance(e, AssertionError) and \
                        str(e) else traceback.format_exc(limit=4)
                    emit(Result(g.name, n, "failed",
                                time.monotonic() - t1, detail))
        finally:
            if g.teardown:
                try:
                    extra = g.teardown(fixture)
                except Exception:
                    extra = traceback.format_exc(limit=3)
                if extra:
                    emit(Result(g.name, "teardown", "failed", 0, extra))
    return results


def summary(results):
    n = {s: sum(1 for r in results if r.status == s)
         for s in ("passed", "failed", "skipped")}
    line = "%d passed, %d failed" % (n["passed"], n["failed"])
    if n["skipped"]:
        line += ", %d skipped" % n["skipped"]
    return line, n


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
