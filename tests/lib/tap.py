"""Verdicts of QEMU's qos-test in TAP mode (GLib's test framework)."""

import re


def tap_verdict(out):
    """pass, skip or fail from a qos-test --tap run of one case: GLib
    reports g_test_skip() as `ok N /path # SKIP reason`, which is not a
    pass."""
    oks = re.findall(r"^(not ok|ok) \d+[^#\n]*(#\s*SKIP)?", out, re.M)
    if not oks or any(v == "not ok" for v, _ in oks):
        return "fail"
    return "skip" if any(skip for _, skip in oks) else "pass"
