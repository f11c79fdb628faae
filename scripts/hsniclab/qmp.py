"""A small client for QEMU's QMP monitor: one command at a time, each
waiting for its answer (events are skipped).

QEMU's own Python package (qemu.qmp, asyncio) is not in Debian bookworm
(only trixie-backports and sid ship python3-qemu.qmp), so the lab keeps
this one.
"""

import json
import socket
import time

from .common import LabError


class QMP:
    def __init__(self, path, timeout=30):
        self.sock = connect_unix(path, timeout)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())            # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, /, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise LabError("QMP connection closed")
            resp = json.loads(line)
            if "return" in resp:
                return resp["return"]
            if "error" in resp:
                raise LabError("QMP %s: %s" % (name, resp["error"]["desc"]))

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_unix(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise LabError("cannot connect to %s" % path)
            time.sleep(0.1)

