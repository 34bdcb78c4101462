"""bench/writes.py runs end to end and prints every figure (a smoke run:
it checks the script and that no request failed, not the speed)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench",
                     "writes.py")


def test_writes_bench_prints_every_figure():
    proc = subprocess.run([sys.executable, BENCH, "--rounds", "2", "--burst", "2", "--breakdown", "3"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for line in ("posix_spawn (subprocess)", "sh, as the runner starts it, in this process"):
        assert out.count(line) == 2, out  # small and worker-sized process
    lines = out.splitlines()
    memory = [ln for ln in lines if re.fullmatch(r"  (podman service|podproxy) +\d+\.\d", ln)]
    assert len(memory) == 4 and out.count("worker (pid ") >= 2, out  # both trees, twice
    for kind, timed in (("tag+untag", 4), ("rm", 4), ("uncached json", 3)):  # the cached podproxy runs no podman
        rows = [ln for ln in lines if ln.startswith(kind + " ")]
        assert len(rows) == 1 and rows[0].count(" / ") == timed, out  # p50 / p90 of each target
    overheads = [ln for ln in lines if ln.startswith("  podproxy ") and " ms" in ln]
    assert len(overheads) == 2 and all("tag+untag +" in ln or "tag+untag -" in ln for ln in overheads), out
