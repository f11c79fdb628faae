"""Verdicts of the kernel's selftests: their KTAP output (KtapResult) and
what a run did wrong (judge)."""

import re


class KtapResult:
    """The verdicts of one kselftest run (KTAP output)."""

    def __init__(self, out):
        self.cases = {}         # name -> "pass" | "fail" | "skip"
        self.reasons = {}
        self.totals = None
        for line in out.splitlines():
            line = line.strip()
            m = re.match(r"(not ok|ok) \d+ (\S+)(?:\s+#\s*(\w+)\s*(.*))?$",
                         line)
            if m:
                verdict = "pass" if m.group(1) == "ok" else "fail"
                if m.group(3) and m.group(3).upper() == "SKIP":
                    verdict = "skip"
                elif m.group(3) and m.group(3).upper() == "XFAIL":
                    verdict = "xfail"
                self.cases[m.group(2)] = verdict
                self.reasons[m.group(2)] = m.group(4) or ""
            elif line.startswith("# Totals:"):
                self.totals = line[2:]

    def named(self, verdict):
        return sorted(n for n, v in self.cases.items() if v == verdict)


def judge(res, allowed, rc):
    """What is wrong with a selftest run (a KtapResult and its exit code):
    a failure, or a case skipped or expected to fail (XFAIL: the test
    itself decided the feature may be missing) that `allowed` does not
    name with its reason."""
    problems = []
    if not res.cases:
        problems.append("no test case results")
    if res.named("fail"):
        problems.append("failed: %s" % ", ".join(res.named("fail")))
    for verdict, what in (("skip", "skipped"), ("xfail", "xfailed")):
        bad = [n for n in res.named(verdict) if n not in allowed]
        if bad:
            problems.append("%s: %s" % (what, ", ".join(
                "%s (%s)" % (n, res.reasons[n]) for n in bad)))
    if rc and not res.named("fail"):
        problems.append("exit code %d" % rc)
    return problems
