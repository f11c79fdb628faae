"""The built artifacts a lab VM needs (QEMU, guest kernel, root image,
selftests, hsnic.ko): taken from the environment, or built (or found in
the cache, $HSNIC_CACHE) by the build scripts on first use."""

import os
import subprocess

from .common import CACHE, TOP, LabError


def script_output(cmd, what):
    """Run a build script that prints its artifact's path last on stdout."""
    env = dict(os.environ, HSNIC_CACHE=CACHE)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, env=env, text=True)
    if res.returncode != 0:
        raise LabError("building %s failed (%s)" % (what, " ".join(cmd)))
    lines = res.stdout.strip().splitlines()
    if not lines:
        raise LabError("%s: build script printed no path" % what)
    return lines[-1]


class Artifacts:
    """Paths of everything a VM needs; built (or found in cache) on demand.

    Environment overrides: HSNIC_QEMU, HSNIC_KDIR, HSNIC_ROOTFS,
    HSNIC_SELFTESTS, HSNIC_MODULE.
    """

    def __init__(self):
        self._memo = {}

    def _get(self, key, env, cmd):
        if key not in self._memo:
            self._memo[key] = os.environ.get(env) or script_output(cmd, key)
        return self._memo[key]

    @property
    def qemu(self):
        return self._get("qemu", "HSNIC_QEMU",
                         [os.path.join(TOP, "scripts/build-qemu.sh")])

    @property
    def kdir(self):
        return self._get("kernel", "HSNIC_KDIR",
                         [os.path.join(TOP, "scripts/build-kernel.sh")])

    @property
    def bzimage(self):
        return os.path.join(self.kdir, "arch/x86/boot/bzImage")

    @property
    def rootfs(self):
        return self._get("rootfs", "HSNIC_ROOTFS",
                         [os.path.join(TOP, "images/build-rootfs.sh")])

    @property
    def selftests(self):
        return self._get("selftests", "HSNIC_SELFTESTS",
                         [os.path.join(TOP, "scripts/build-selftests.sh"),
                          self.kdir])

    @property
    def module(self):
        return self._get("module", "HSNIC_MODULE",
                         [os.path.join(TOP, "scripts/build-driver.sh"),
                          self.kdir])
