"""The host side of the in-guest agent's protocol (images/payload/init,
served over a virtio-serial port): RUN a script, its OUT lines, its END
with the exit code."""

import base64
import itertools
import threading
import time

from .common import LabError
from .qmp import connect_unix


class Agent:
    """Host side of the in-guest agent protocol (images/payload/init)."""

    def __init__(self, path, name):
        self.path = path
        self.name = name
        self.sock = None
        self.cv = threading.Condition()
        self.ready = False
        self.closed = False
        self.results = {}           # id -> [lines, rc or None]
        self.watchers = {}          # id -> callable(line)
        self.ids = itertools.count(1)

    def connect(self, timeout):
        self.attach(connect_unix(self.path, timeout))

    def attach(self, sock):
        """Talk to the guest over the connected socket `sock` (the
        agent's, from connect(); a socket pair in the unit tests)."""
        self.sock = sock
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self.cv:
                    self.closed = True
                    self.cv.notify_all()
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._handle(line.decode("utf-8", "replace").strip())

    def _handle(self, line):
        parts = line.split(" ")
        with self.cv:
            if parts[0] == "READY":
                self.ready = True
            elif parts[0] == "OUT" and len(parts) >= 2:
                text = base64.b64decode(parts[2]).decode("utf-8", "replace") \
                    if len(parts) > 2 else ""
                res = self.results.setdefault(parts[1], [[], None])
                res[0].append(text)
                w = self.watchers.get(parts[1])
                if w:
                    w(text)
            elif parts[0] == "END" and len(parts) == 3:
                res = self.results.setdefault(parts[1], [[], None])
                res[1] = int(parts[2])
            self.cv.notify_all()

    def wait_ready(self, timeout, alive):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not self.ready:
                if self.closed or not alive():
                    raise LabError("%s: VM died while booting" % self.name)
                if time.monotonic() > deadline:
                    raise LabError("%s: agent not ready after %d s"
                                   % (self.name, timeout))
                self.cv.wait(0.5)

    def start(self, script, timeout, watcher=None):
        cid = str(next(self.ids))
        payload = base64.b64encode(script.encode()).decode()
        with self.cv:
            self.results[cid] = [[], None]
            if watcher:
                self.watchers[cid] = watcher
        self.sock.sendall(("RUN %s %d %s\n" % (cid, timeout, payload)).encode())
        return cid

    def hello(self, timeout, alive):
        """Wait for the guest's READY on a new connection: the agent
        answers HELLO once the guest sees the host side open again."""
        deadline = time.monotonic() + timeout
        with self.cv:
            self.ready = False
        while True:
            self.sock.sendall(b"HELLO 0\n")
            with self.cv:
                self.cv.wait_for(lambda: self.ready or self.closed, 1.0)
                if self.ready:
                    return
                if self.closed or not alive():
                    raise LabError("%s: agent connection lost" % self.name)
            if time.monotonic() > deadline:
                raise LabError("%s: agent silent after reconnecting"
                               % self.name)

    def wait(self, cid, timeout, alive):
        deadline = time.monotonic() + timeout + 15
        with self.cv:
            while self.results[cid][1] is None:
                if self.closed or not alive():
                    raise LabError("%s: VM died during a command" % self.name)
                if time.monotonic() > deadline:
                    raise LabError("%s: no answer from the agent" % self.name)
                self.cv.wait(0.5)
            lines, rc = self.results.pop(cid)
            self.watchers.pop(cid, None)
        return rc, "\n".join(lines)

