"""gunicorn's gthread worker, with keep-alive connections shared fairly
among the workers.

Every worker accepts from the same listening socket and whichever wakes
first takes the connection; a keep-alive client then stays with that worker
for good. Sixteen clients connecting one after the other often land 13:3 or
15:1, and then one worker's interpreter lock serves nearly all of them while
the other worker idles: measured on cached reads, 900-1,100 requests/s for
15:1 against 2,200-2,400 for 8:8.

So each worker publishes how many connections it holds, whether it
accepts, and a heartbeat in a table that the master creates before forking
the workers (shared memory), and stops accepting while it holds more than
``MARGIN`` connections above the least loaded of the other live workers,
but only while another live worker accepts: that check and the stop are
made under the table's lock (across processes), so some worker always
accepts (except at gunicorn's ``worker_connections``). Without that, two
workers judging on each other's older counts both stopped, and a new
connection waited in the backlog for gunicorn's 1 s poll timeout (see
docs/performance-stall.md). A stopped worker looks again every ``RECHECK``
seconds, so that it takes its share again soon after the others took
theirs. A worker whose heartbeat is older than ``STALE`` seconds (stuck,
or killed before the master cleared its slot) does not count.

A thread that has answered a keep-alive request also waits up to ``LINGER``
for that client's next one and serves it at once, while other threads are
free, instead of handing the connection back to the poller in between (a
round trip through the poller, a pipe and the thread pool). Cached
``exists`` at c=16: ~520-570 us of server CPU per request instead of
680-760, 2,900-3,250 requests/s instead of 2,280-2,350.
"""
from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import select
import tempfile
import threading
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64  # a worker's slot is its gunicorn age modulo this
MARGIN = 1
STALE = 3.0  # seconds: an idle worker's loop still turns once a second
RECHECK = 0.05  # seconds: how often a worker that stopped accepting looks again
LINGER = 0.002  # seconds a thread waits for a keep-alive client's next request


class ConnectionTable:
    """Per-worker (connections, heartbeat in ms, accepting) in shared
    memory, and a lock across processes (``decision``)."""

    CELLS = 3

    def __init__(self, slots: int = SLOTS):
        self.slots = slots
        self._file = _shared_file(slots * self.CELLS * 8)
        self._map = mmap.mmap(self._file.fileno(), slots * self.CELLS * 8)
        self._cells = memoryview(self._map).cast("q")

    def slot(self, age: int) -> int:
        return age % self.slots

    def publish(self, slot: int, connections: int, now: float, accepting: bool = True) -> None:
        base = self.CELLS * slot
        self._cells[base] = connections
        self._cells[base + 2] = int(accepting)
        self._cells[base + 1] = int(now * 1000)

    def clear(self, slot: int) -> None:
        base = self.CELLS * slot
        self._cells[base] = self._cells[base + 1] = self._cells[base + 2] = 0

    def _live_others(self, slot: int, now: float) -> list:
        """(connections, accepting) of each live worker other than ``slot``."""
        cells = self._cells.tolist()
        oldest = int((now - STALE) * 1000)
        n = self.CELLS
        return [(cells[i], cells[i + 2]) for i in range(0, len(cells), n) if i != n * slot and cells[i + 1] > oldest]

    def fewest_elsewhere(self, slot: int, now: float) -> int | None:
        """The fewest connections a live worker other than ``slot``
        holds; None if there is no other live worker."""
        counts = [count for count, _ in self._live_others(slot, now)]
        return min(counts) if counts else None

    def another_accepts(self, slot: int, now: float) -> bool:
        return any(accepting for _, accepting in self._live_others(slot, now))

    @contextlib.contextmanager
    def decision(self):
        """The lock a worker holds while it checks that another worker
        accepts, stops accepting and publishes that; yields False (lock
        not taken, so: do not stop) when another process holds it. A POSIX
        record lock: per process, released by the kernel if the holder
        dies; only a worker's main thread takes it."""
        try:
            fcntl.lockf(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(self._file.fileno(), fcntl.LOCK_UN)


def _shared_file(size: int):
    """An unnamed file of ``size`` zero bytes, not inherited by exec'd children."""
    if hasattr(os, "memfd_create"):
        f = open(os.memfd_create("podproxy-connections", os.MFD_CLOEXEC), "r+b")  # noqa: SIM115 (kept open)
    else:
        f = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the process's life)
    os.ftruncate(f.fileno(), size)
    return f


def _readable(conn, timeout: float) -> bool:
    """The client's next request is (or comes within ``timeout``) there."""
    if conn.parser.unreader.buf.getvalue():  # pipelined: already read
        return True
    try:
        poller = select.poll()  # not select(): descriptors above 1023 are fine
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    except (OSError, ValueError):
        return False


def may_accept(mine: int, fewest_elsewhere: int | None, margin: int = MARGIN) -> bool:
    return fewest_elsewhere is None or mine <= fewest_elsewhere + margin


TABLE = ConnectionTable()  # created in the master, which imports the worker class before forking


class BalancedThreadWorker(ThreadWorker):
    """``ThreadWorker`` that accepts only its fair share (see the module).

    gunicorn's loop asks ``set_accept_enabled`` whenever its own answer
    (below ``worker_connections``) changes; ``wait_for_and_dispatch_events``
    runs once per turn of that loop, so that is where the worker publishes
    its count and asks again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = TABLE.slot(self.age)
        self._busy = 0
        self._busy_lock = threading.Lock()

    def handle(self, conn):
        """Serve a keep-alive client's next request in the same thread when
        it comes at once (``LINGER``) and other threads are free, instead of
        handing the connection back to the poller between requests (a
        round trip through the poller, a pipe and the thread pool)."""
        with self._busy_lock:
            self._busy += 1
        try:
            result = super().handle(conn)
            while (result is True and self.alive and not conn.is_http2 and self._busy < self.cfg.threads - 1
                   and _readable(conn, LINGER)):
                result = super().handle(conn)
            return result
        finally:
            with self._busy_lock:
                self._busy -= 1

    def set_accept_enabled(self, enabled):
        if enabled and self.alive:
            now = time.monotonic()
            if not may_accept(self.nr_conns, TABLE.fewest_elsewhere(self.slot, now)):
                with TABLE.decision() as held:
                    if held and TABLE.another_accepts(self.slot, now):
                        super().set_accept_enabled(False)
                        TABLE.publish(self.slot, self.nr_conns, now, accepting=False)
                        return
        super().set_accept_enabled(enabled)
        TABLE.publish(self.slot, self.nr_conns, time.monotonic(), accepting=self._accepting)

    def wait_for_and_dispatch_events(self, timeout):
        if self.alive:
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
            if not self._accepting:
                timeout = min(timeout, RECHECK)
        super().wait_for_and_dispatch_events(timeout)

    def run(self):
        try:
            super().run()
        finally:
            TABLE.clear(self.slot)
