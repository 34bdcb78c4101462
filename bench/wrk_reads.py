#!/usr/bin/env python3
"""Cached reads under ``wrk``: podproxy against podman's own service.

Creates an isolated store with one small busybox image, starts on it
podman's service (``podman system service``) and podproxy (``podproxy
serve`` with its defaults: 2 workers, 16 threads, answer cache on), both on
loopback TCP (wrk has no unix sockets), and drives each read route with
``wrk`` (Debian package ``wrk``; one client thread pinned with ``taskset``
to one core, so neither server waits for the client; a Lua ``done`` hook
prints the latency percentiles), keep-alive connections, at each
concurrency. The servers alternate round by round; each figure is the
median over the rounds. Before the rounds of a route and concurrency, one
warm-up run per server (new connections, as in the rounds).

Prints, per route and concurrency, p50, p90, p99 and requests/s of both,
the ratio podproxy/service and the target of issue 14 point 1, and the
errors (connect/read/write/timeout, answers other than 2xx/3xx). bench.py
runs the same as part of every route's bench.

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

from helpers import Store
from servers import V, start_podproxy, start_service
from table import Row, print_table

IMAGE = "localhost/bench/small:1"
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
  io.write(string.format("FIGURES %d %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""
# issue 14 point 1: at 16 and 64 connections, podproxy/service
TARGETS = {"p50 ms": "<= 0.7x", "p90 ms": "", "p99 ms": "<= 1.0x", "req/s": ">= 1.5x", "errors": "0 errors"}
TARGETS_256 = {"p50 ms": "", "p90 ms": "", "p99 ms": "<= 2.0x", "req/s": "", "errors": "0 errors"}


def client_cpu() -> int:
    """The core wrk is pinned to (the last one this process may use)."""
    return max(os.sched_getaffinity(0))


def wrk(url: str, connections: int, seconds: int, script: str, cpu: int | None = None) -> dict:
    """One wrk run (one thread, pinned to ``cpu`` with taskset): figures in
    ms and requests/s; ``errors`` counts every kind (connect, read, write,
    timeout over 10 s, answers other than 2xx/3xx)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--timeout", "10s", "-s", script, url]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("FIGURES ")), None)
    if line is None:
        raise RuntimeError("wrk printed no figures:\n" + out)
    n, duration_us, p50, p90, p99, top, *errors = (int(x) for x in line.split()[1:])
    return {"p50 ms": p50 / 1000, "p90 ms": p90 / 1000, "p99 ms": p99 / 1000, "max ms": top / 1000,
            "req/s": n / (duration_us / 1e6), "errors": sum(errors)}


class Script:
    """The Lua script in a temp file, deleted on exit."""

    def __enter__(self) -> str:
        fd, self.path = tempfile.mkstemp(prefix="bench-wrk-", suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(LUA)
        return self.path

    def __exit__(self, *exc) -> None:
        os.unlink(self.path)


def read_rows(servers: dict, routes: list, connections: list, rounds: int, duration: int, warmup: int,
              progress=None) -> list:
    """Rows for each concurrency and route: p50, p90, p99, req/s (medians
    over ``rounds``, the two servers alternating) and errors (summed).
    ``servers`` maps "service" and "podproxy" to servers on TCP; a warm-up
    run of ``warmup`` s per server before each route and concurrency
    (skipped if 0)."""
    cpu, rows = client_cpu(), []
    names = ["service", "podproxy"]
    with Script() as script:
        for c in connections:
            for route in routes:
                urls = {n: f"http://127.0.0.1:{servers[n].port}{ROUTES[route]}" for n in names}
                if warmup:
                    for name in names:
                        wrk(urls[name], c, warmup, script, cpu)
                runs: dict = {n: [] for n in names}
                for i in range(rounds):
                    for name in (names if i % 2 == 0 else names[::-1]):
                        runs[name].append(wrk(urls[name], c, duration, script, cpu))
                targets = TARGETS_256 if c > 64 else TARGETS
                for key in ("p50 ms", "p90 ms", "p99 ms", "req/s"):
                    rows.append(Row(f"{route} c={c} {key}", median(runs["service"], key),
                                    median(runs["podproxy"], key), targets[key],
                                    "higher" if key == "req/s" else "lower"))
                rows.append(Row(f"{route} c={c} errors", sum(r["errors"] for r in runs["service"]),
                                sum(r["errors"] for r in runs["podproxy"]), targets["errors"]))
                if progress:
                    progress(rows[-5:])
    return rows


def median(runs: list, key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--connections", default="16,64,256", help="comma-separated (default 16,64,256)")
    ap.add_argument("--routes", default=",".join(ROUTES), help="comma-separated, of " + ",".join(ROUTES))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=int, default=6, help="seconds per measured run")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of the warm-up run (0: none)")
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
    try:
        store.make_image(IMAGE)
        servers["service"] = start_service(store)
        servers["podproxy"] = start_podproxy(store)
        print(f"wrk -t1 pinned to cpu {client_cpu()}, keep-alive, {args.rounds} round(s) of {args.duration}s, "
              "medians; ratio = podproxy/service")
        print_table(read_rows(servers, routes, connections, args.rounds, args.duration, args.warmup))
    finally:
        for server in servers.values():
            server.stop()
        store.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
