#!/usr/bin/env python3
"""Cached reads under ``wrk``: podproxy against podman's own service.

Creates an isolated store with one small busybox image, starts on it
podman's service (``podman system service``) and podproxy (``podproxy
serve`` with its defaults: 2 workers, 16 threads, answer cache on), both on
loopback TCP, and drives each read route with ``wrk`` (Debian package
``wrk``; one client thread, so the client stays on one core), keep-alive
connections, at each concurrency. The servers alternate round by round;
each figure is the median over the rounds. Before the rounds of a route and
concurrency, one warm-up run per server (new connections, as in the rounds).

Prints one row per route and concurrency: p50, p90, p99, max and requests/s
of both, the ratio podproxy/service of p50, p99 and requests/s, and the
errors (connect/read/write/timeout, answers of another status).

    .venv/bin/python bench/wrk_reads.py                       # c=16,64,256, 2 rounds of 6 s
    .venv/bin/python bench/wrk_reads.py -c 16 --rounds 3 --duration 6 --routes exists,json
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from helpers import Store, start_podproxy, start_reference  # noqa: E402 (after the path)

IMAGE = "localhost/bench/small:1"
V = "/v4.3.1/libpod"
ROUTES = {
    "exists": f"{V}/images/{IMAGE}/exists",
    "json": f"{V}/images/{IMAGE}/json",
    "list": f"{V}/images/json",
    "history": f"{V}/images/{IMAGE}/history",
    "tree": f"{V}/images/{IMAGE}/tree",
}
# wrk calls done() once at the end: one parseable line (latencies in us).
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES %d %d %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status, 0))
end
"""


def wrk(url: str, connections: int, seconds: float, script: str) -> dict:
    """One wrk run: figures in ms and requests/s; ``errors`` counts every kind."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", script, url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("FIGURES ")), None)
    if line is None:
        raise RuntimeError("wrk printed no figures:\n" + out)
    n, duration_us, p50, p90, p99, top, *errors = (int(x) for x in line.split()[1:])
    return {"p50": p50 / 1000, "p90": p90 / 1000, "p99": p99 / 1000, "max": top / 1000,
            "rps": n / (duration_us / 1e6), "errors": sum(errors)}


def median(runs: list, key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--connections", default="16,64,256", help="comma-separated (default 16,64,256)")
    ap.add_argument("--routes", default=",".join(ROUTES), help="comma-separated, of " + ",".join(ROUTES))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per measured run")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of the warm-up run")
    args = ap.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    connections = [int(c) for c in args.connections.split(",")]
    routes = [r for r in args.routes.split(",") if r]
    unknown = set(routes) - set(ROUTES)
    if unknown:
        ap.error("unknown routes: " + ", ".join(sorted(unknown)))

    store = Store.create()
    servers = {}
    fd, script = tempfile.mkstemp(suffix=".lua")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(LUA)
        store.make_image(IMAGE)
        servers["service"] = start_reference(store, tcp=True)
        servers["podproxy"] = start_podproxy(store, "--log-level", "warning", workers=2, threads=16)
        names = list(servers)
        print(f"wrk -t1 (one client thread), keep-alive, {args.rounds} round(s) of {args.duration:g}s, medians; "
              "ratio = podproxy/service")
        head = (f"{'route':<8} {'c':>4} | {'service p50/p90/p99/max ms, req/s':<40} | "
                f"{'podproxy p50/p90/p99/max ms, req/s':<40} | {'p50x':>5} {'p99x':>5} {'rpsx':>5} | errors s/p")
        print(head)
        print("-" * len(head))
        for c in connections:
            for route in routes:
                runs = {name: [] for name in names}
                for name in names:
                    wrk(f"http://127.0.0.1:{servers[name].port}{ROUTES[route]}", c, args.warmup, script)
                for i in range(args.rounds):
                    for name in (names if i % 2 == 0 else names[::-1]):
                        url = f"http://127.0.0.1:{servers[name].port}{ROUTES[route]}"
                        runs[name].append(wrk(url, c, args.duration, script))
                cells = []
                for name in names:
                    p50, p90, p99, top, rps = (median(runs[name], k) for k in ("p50", "p90", "p99", "max", "rps"))
                    cells.append(f"{p50:6.1f} {p90:6.1f} {p99:7.1f} {top:7.1f} {rps:7.0f}")
                s, p = runs["service"], runs["podproxy"]
                ratios = [median(p, k) / median(s, k) for k in ("p50", "p99", "rps")]
                errors = "%d/%d" % (sum(r["errors"] for r in s), sum(r["errors"] for r in p))  # noqa: UP031
                print(f"{route:<8} {c:>4} | {cells[0]:<40} | {cells[1]:<40} | "
                      f"{ratios[0]:5.2f} {ratios[1]:5.2f} {ratios[2]:5.2f} | {errors}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
        store.destroy()
        os.unlink(script)
    return 0


if __name__ == "__main__":
    sys.exit(main())
