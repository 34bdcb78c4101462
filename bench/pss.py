"""Memory of a whole process tree, as PSS (proportional set size).

PSS counts a page shared by N processes as 1/N in each, so the sum over a
tree (podproxy's master, its forked workers and their podman children;
podman's service and its children) counts every page once: the tree's
real share of the machine's memory. Read from ``/proc/PID/smaps_rollup``.
"""
from __future__ import annotations

import os
import threading

MiB = 1 << 20


def tree_pids(root: int) -> list[int]:
    """``root`` and all its live descendants (one walk of /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def pss(pid: int) -> int:
    """A process's PSS in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_pss(root: int) -> int:
    """PSS of ``root`` and all its descendants, bytes (a process that
    exits while it is read counts 0)."""
    return sum(pss(pid) for pid in tree_pids(root))


class PeakSampler:
    """Samples the PSS of each tree (``{name: root pid}``) every
    ``interval`` seconds in a thread, while a phase is set; ``peak(phase,
    name)`` is the highest sum seen in that phase, bytes. ``stop`` joins
    the thread (bounded by one sample)."""

    def __init__(self, roots: dict, interval: float = 0.02):
        self.roots, self.interval = dict(roots), interval
        self.peaks: dict[tuple, int] = {}
        self.phase: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            phase = self.phase
            if phase is None:
                continue
            for name, pid in self.roots.items():
                key = (phase, name)
                self.peaks[key] = max(self.peaks.get(key, 0), tree_pss(pid))

    def peak(self, phase: str, name: str) -> int:
        return self.peaks.get((phase, name), 0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
