"""The benchmark runs end to end in its quick mode (tiny images, 1 s wrk
runs) and prints every figure of issue 14 with a number on both sides and
no failed request. It checks the script, not the speed: no timing is
asserted."""
from __future__ import annotations

import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "bench", "bench.py")
READS = ("exists", "json", "list", "history", "tree")
SIZE = "8M"


def expected_figures() -> list:
    figures = ["idle PSS at start (MiB, whole tree)", "idle PSS at the end (MiB, whole tree)",
               "errors of every other route (failed answers)",
               "fresh server: slowest of 16 concurrent first requests (ms)"]
    for c in (16, 64, 256):
        for read in READS:
            figures += [f"{read} c={c} {key}" for key in ("p50 ms", "p90 ms", "p99 ms", "req/s", "errors")]
    for op in ("tag", "untag", "rm"):
        figures += [f"{op} p50 ms", f"{op} p50 ms over the podman process"]
    figures += [f"{read} uncached p50 ms over the podman process" for read in READS]
    figures += ["commit of a created container p50 ms", "build (FROM, COPY, LABEL, ENV) p50 ms"]
    for fmt in ("docker-archive", "oci-archive", "oci-dir", "docker-dir"):
        figures += [f"export {SIZE} {fmt} first byte (s)", f"export {SIZE} {fmt} total (s)"]
    figures += [f"load {SIZE} docker-archive total (s)", f"import {SIZE} rootfs total (s)",
                f"push {SIZE} to a local registry total (s)", f"pull {SIZE} from a local registry total (s)",
                f"peak PSS during export {SIZE} (MiB, whole tree)", f"peak PSS during load {SIZE} (MiB, whole tree)"]
    return figures


def test_bench_prints_every_figure_and_no_request_fails(tmp_path):
    chart = tmp_path / "chart.png"
    try:
        import matplotlib  # noqa: F401  (optional: the bench extra)
        extra = ["--chart", str(chart)]
    except ImportError:
        extra = []
    # needs wrk and docker-registry (the README's test command installs them): exits 2 naming what is missing
    proc = subprocess.run([sys.executable, BENCH, "--quick", *extra], capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    header = [line for line in lines if line.startswith("figure ")]
    assert len(header) == 1, proc.stdout
    assert header[0].split() == ["figure", "service", "podproxy", "ratio", "target", "holds"]
    figures = expected_figures()
    printed = {}
    for figure in figures:
        found = [line for line in lines if line.startswith(figure + "  ")]
        assert len(found) == 1, (figure, proc.stdout)
        service, podproxy = found[0][len(figure):].split()[:2]
        printed[figure] = (float(service), float(podproxy))
        assert all(math.isfinite(v) and v >= 0 for v in printed[figure]), (figure, found[0])
    rows = [line for line in lines[lines.index(header[0]) + 1:] if line and not line.startswith("chart:")]
    assert len(rows) == len(figures), proc.stdout  # no figure without its test
    for figure, values in printed.items():
        if figure.endswith("errors") or figure.startswith("errors "):
            assert values == (0, 0), (figure, values)  # no request failed, on either server
        elif "PSS" in figure or "req/s" in figure or "first byte" in figure or "total" in figure:
            assert min(values) > 0, (figure, values)  # measured, not a placeholder
    if extra:
        assert chart.stat().st_size > 0
