"""The fair share of keep-alive connections between gunicorn's workers.

Each worker publishes how many connections it holds (and a heartbeat) in a
table that the master creates before forking the workers (an anonymous
shared mapping), and stops accepting while it holds more than ``MARGIN``
connections above the least loaded of the other live workers. The least
loaded worker never stops (except at gunicorn's ``worker_connections``), so
there is always a worker that accepts. A worker whose heartbeat is older
than ``STALE`` seconds (stuck, or killed before the master cleared its
slot) does not count. Why: docs/production.md (gunicorn).
"""
from __future__ import annotations

import mmap

SLOTS = 64  # a worker's slot is its gunicorn age modulo this
MARGIN = 1
RECHECK = 0.02  # seconds: how often a worker held back by the fair share looks again
STALE = 3.0  # seconds: an idle worker's loop still turns once a second


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


def may_accept(mine: int, fewest_elsewhere: int | None, margin: int = MARGIN) -> bool:
    """A worker holding ``mine`` connections keeps accepting: it is alone or within ``margin`` of the
    least loaded other worker."""
    return fewest_elsewhere is None or mine <= fewest_elsewhere + margin


TABLE = ConnectionTable()  # created in the master, which imports it (gunicorn_conf) before forking
