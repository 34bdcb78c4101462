"""One thread per runner that kills the process group of a command that
outlives its timeout."""
from __future__ import annotations

import heapq
import threading
import time

from .process import kill_group


class Deadline:
    """One watched command: its process group and when it must be over."""

    __slots__ = ("at", "pid", "done", "fired")

    def __init__(self, at: float, pid: int):
        self.at, self.pid, self.done, self.fired = at, pid, False, False

    def __lt__(self, other: Deadline) -> bool:
        return self.at < other.at


class Watchdog:
    """Kills the process group of a command that outlives its timeout.

    One thread for all of a runner's commands (started on first use),
    instead of sh's timer plus polling thread per command."""

    def __init__(self):
        self._cond = threading.Condition()
        self._heap: list[Deadline] = []
        self._thread: threading.Thread | None = None

    def watch(self, pid: int, timeout: float) -> Deadline:
        deadline = Deadline(time.monotonic() + timeout, pid)
        with self._cond:
            heapq.heappush(self._heap, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="podman watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0] is deadline:
                self._cond.notify()
        return deadline

    def cancel(self, deadline: Deadline) -> None:
        """The command is over: never kill it. (The heap holds the commands
        running now, one per busy thread, so removing is cheap.)"""
        with self._cond:
            deadline.done = True
            try:
                self._heap.remove(deadline)
            except ValueError:  # already popped by the loop
                return
            heapq.heapify(self._heap)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0].at > time.monotonic():
                    self._cond.wait(None if not self._heap else self._heap[0].at - time.monotonic())
                deadline = heapq.heappop(self._heap)
                if deadline.done:
                    continue
                deadline.fired = True
            kill_group(deadline.pid)
