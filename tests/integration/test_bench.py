"""The benchmark script runs end to end and prints every figure (a smoke
run on a tiny image: it checks the script and that no request failed, not
the speed)."""
from __future__ import annotations

import os
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench", "bench.py")


def test_bench_prints_every_figure(tmp_path):
    chart = tmp_path / "chart.png"
    try:
        import matplotlib  # noqa: F401  (optional: the bench extra)
        extra = ["--chart", str(chart)]
    except ImportError:
        extra = []
    proc = subprocess.run([sys.executable, BENCH, "--size", "4M", "--requests", "6", "--rounds", "1", *extra],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()

    def row(figure):
        found = [line for line in lines if line.startswith(figure + "  ")]
        assert len(found) == 1, (figure, proc.stdout)
        return found[0].split()

    for fmt in ("docker-archive", "oci-archive", "oci-dir", "docker-dir"):
        for figure in ("first byte (s)", "total (s)", "MB/s"):
            row("export %s %s" % (fmt, figure))
    row("load docker-archive total (s)")
    row("load docker-archive MB/s")
    for read in ("exists", "json", "list", "tree", "history"):
        for figure in ("c=1 p50 ms", "c=1 p99 ms", "c=16 req/s", "c=16 p50 ms", "c=16 p99 ms",
                       "no cache c=1 p50 ms vs the podman process", "no cache c=16 req/s vs podman service"):
            row("%s %s" % (read, figure))
        errors = row("%s errors (c=1 and c=16, cache on and off)" % read)
        assert errors[-6:-4] == ["0.00", "0.00"] and errors[-1] == "yes", errors  # no failed request
    row("peak memory during transfers (MB, PSS of the tree)")
    row("peak memory during small requests (MB, PSS of the tree)")
    if extra:
        assert chart.stat().st_size > 0
