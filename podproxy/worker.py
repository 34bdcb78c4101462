"""gunicorn's gthread worker, with keep-alive connections shared fairly
among the workers.

Every worker accepts from the same listening socket and whichever wakes
first takes the connection; a keep-alive client then stays with that worker
for good. Sixteen clients connecting one after the other often land 13:3 or
15:1, and then one worker's interpreter lock serves nearly all of them while
the other worker idles: measured on cached reads, 900-1,100 requests/s for
15:1 against 2,200-2,400 for 8:8.

So each worker publishes how many connections it holds (and a heartbeat) in
a table that the master creates before forking the workers (an anonymous
shared mapping), and stops accepting while it holds more than ``MARGIN``
connections above the least loaded of the other live workers. The least
loaded worker never stops (except at gunicorn's ``worker_connections``), so
there is always a worker that accepts. A worker whose heartbeat is older
than ``STALE`` seconds (stuck, or killed before the master cleared its
slot) does not count.

A thread that has answered a keep-alive request also waits up to ``LINGER``
for that client's next one and serves it at once, while other threads are
free, instead of handing the connection back to the poller in between (a
round trip through the poller, a pipe and the thread pool). Cached
``exists`` at c=16: ~520-570 us of server CPU per request instead of
680-760, 2,900-3,250 requests/s instead of 2,280-2,350.
"""
from __future__ import annotations

import mmap
import select
import threading
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64  # a worker's slot is its gunicorn age modulo this
MARGIN = 1
STALE = 3.0  # seconds: an idle worker's loop still turns once a second
LINGER = 0.002  # seconds a thread waits for a keep-alive client's next request


class ConnectionTable:
    """Per-worker (connections, heartbeat in ms) pairs in shared memory."""

    def __init__(self, slots: int = SLOTS):
        self.slots = slots
        self._map = mmap.mmap(-1, slots * 16)
        self._cells = memoryview(self._map).cast("q")

    def slot(self, age: int) -> int:
        return age % self.slots

    def publish(self, slot: int, connections: int, now: float) -> None:
        self._cells[2 * slot] = connections
        self._cells[2 * slot + 1] = int(now * 1000)

    def clear(self, slot: int) -> None:
        self._cells[2 * slot] = self._cells[2 * slot + 1] = 0

    def fewest_elsewhere(self, slot: int, now: float) -> int | None:
        """The fewest connections a live worker other than ``slot``
        holds; None if there is no other live worker."""
        cells = self._cells.tolist()
        oldest = int((now - STALE) * 1000)
        counts = [cells[i] for i in range(0, len(cells), 2) if i != 2 * slot and cells[i + 1] > oldest]
        return min(counts) if counts else None


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
            enabled = may_accept(self.nr_conns, TABLE.fewest_elsewhere(self.slot, time.monotonic()))
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        if self.alive:
            TABLE.publish(self.slot, self.nr_conns, time.monotonic())
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
        super().wait_for_and_dispatch_events(timeout)

    def run(self):
        try:
            super().run()
        finally:
            TABLE.clear(self.slot)
