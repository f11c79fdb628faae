"""What every part of the lab shares: where the tree and the cache are,
the lab's exception, its log and a few small helpers."""

import os
import subprocess
import sys

# scripts/hsniclab/common.py: the tree is three levels up
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CACHE = os.environ.get("HSNIC_CACHE", os.path.expanduser("~/.cache/hsnic"))


def sanitize_mode():
    """`make test-sanitize`: ASan/UBSan QEMU and the debug guest kernel."""
    return bool(os.environ.get("HSNIC_SANITIZE"))


class LabError(Exception):
    pass


def log(msg):
    print("[lab] " + msg, file=sys.stderr, flush=True)


def read_all(paths):
    """The files' text, one after the other; missing ones read as empty."""
    text = ""
    for path in paths:
        try:
            with open(path, errors="replace") as f:
                text += f.read()
        except OSError:
            pass
    return text


def host(cmd):
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if res.returncode:
        raise LabError("%s: %s" % (cmd, res.stderr.strip()))


def du_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
