"""QEMU qtests of the hsnic device model (tests/qtest/hsnic-test.c).

The hostile-guest matrix (docs/reliability.md) runs in QEMU's own qtest
framework with hsnic's libqos driver: no guest kernel, one QEMU per case,
about a second each. The case list is read from hsnic-test.c itself.
"""

import os
import re
import subprocess
import tempfile

import hsniclab
from lib.harness import Skip, group, test
from lib.tap import tap_verdict

SRC = os.path.join(hsniclab.TOP, "tests", "qtest", "hsnic-test.c")
CASE_RE = re.compile(r'qos_add_test\("([^"]+)",\s*"hsnic"')
FIRMWARE = ["-L", "/usr/share/seabios", "-L", "/usr/share/qemu"]


class QTest:
    def __init__(self):
        qemu = hsniclab.Artifacts().qemu
        self.qos = os.path.join(os.path.dirname(qemu), "qos-test")
        assert os.access(self.qos, os.X_OK), "%s missing" % self.qos
        # libqtest takes the target from the binary's name, so the
        # firmware paths come through a wrapper of the same name.
        self.tmp = tempfile.TemporaryDirectory(prefix="hsnic-qtest-")
        wrapper = os.path.join(self.tmp.name, "qemu-system-x86_64")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s %s "$@"\n' % (qemu, " ".join(FIRMWARE)))
        os.chmod(wrapper, 0o755)
        self.env = dict(os.environ, QTEST_QEMU_BINARY=wrapper)
        res = subprocess.run([self.qos, "-l"], env=self.env,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr[-2000:]
        self.paths = {}
        for line in res.stdout.split():
            if "/hsnic/" in line and "/hsnic-tests/" in line:
                self.paths.setdefault(line.rsplit("/", 1)[1], line)

    def run(self, case):
        path = self.paths.get(case)
        assert path, "qos-test does not list hsnic case %s" % case
        res = subprocess.run([self.qos, "--tap", "-p", path], env=self.env,
                             capture_output=True, text=True, timeout=120)
        out = res.stdout + res.stderr
        verdict = tap_verdict(res.stdout)
        assert res.returncode == 0 and verdict != "fail", \
            "qos-test %s: exit %d\n%s" % (path, res.returncode, out[-3000:])
        if verdict == "skip":
            why = ALLOWED_SKIPS.get(case)
            assert why, "qos-test %s skipped, and no skip is allowed:\n%s" \
                % (path, out[-3000:])
            raise Skip(why)


# hsnic qtest cases that may skip (GLib's g_test_skip), with the reason:
# none. A case that skips without being listed here fails.
ALLOWED_SKIPS = {}


def cases():
    with open(SRC) as f:
        return CASE_RE.findall(f.read())


qtest = group("qtest-hsnic", QTest, tier="lab")
for _case in cases():
    test(qtest, _case)(lambda env, c=_case: env.run(c))
