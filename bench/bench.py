#!/usr/bin/env python3
"""podproxy against podman's own ``podman system service``, every route, in one run.

Creates an isolated store (never the host's) with a small busybox image
and a big image of random (incompressible) data (``--size``), starts on it
podman's service and podproxy (``podproxy serve``, its defaults: 2
workers, 16 threads, answer cache on), both on loopback TCP, plus a
podproxy ``--cache off`` (uncached reads) and Debian's ``docker-registry``
(push, pull), and measures, the servers alternating round by round:

* cached reads (``exists``, image ``json``, images list, ``history``,
  ``tree``) under ``wrk`` (one thread pinned to one core, keep-alive) at
  16, 64 and 256 connections: p50, p90, p99, req/s, errors (wrk_reads.py);
* tag, untag, rm, commit of a created container, a small build, and the
  uncached reads, one at a time, against the service and against the same
  podman command run directly (route_timings.py);
* export in the four formats (first byte, total), load, import, push and
  pull of the big image (transfer_timings.py), and with ``--big 2G`` an
  export and a load of a 2 GiB image;
* PSS of both whole process trees (pss.py): idle, and the peak during the
  exports and loads;
* a fresh server's first 16 concurrent requests (the slowest of them),
  before anything warms either server up.

It prints one table: each figure for the service and podproxy, the ratio
podproxy/service and the target of issue 14 (``holds``: yes/NO).

    apt-get install wrk docker-registry
    python3 bench/bench.py                 # 512M image, 2G memory phase (~15-20 min on 2 cores)
    python3 bench/bench.py --quick         # small sizes, short runs (~1 min; the smoke test)
    python3 bench/bench.py --only reads    # wrk only (also bench/wrk_reads.py)
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "tests")]

from helpers import Store, start_registry
from pss import PeakSampler, tree_pids, tree_pss  # noqa: F401 (tree_pids: abuse.py's)
from route_timings import SMALL, Errors, commit_build_rows, uncached_rows, write_rows
from servers import request, start_podproxy, start_service
from table import Row, chart, print_table
from transfer_timings import (
    export_rows,
    import_rows,
    load_rows,
    peak_rows,
    registry_rows,
    size_label,
    write_rootfs,
)
from wrk_reads import ROUTES, client_cpu, read_rows

from podproxy.settings import parse_size

BIG = "localhost/bench/big:1"
HUGE = "localhost/bench/huge:1"
MiB = 1 << 20
FULL = {"size": "512M", "big": "2G", "rounds": 2, "reps": 10, "wrk_duration": 5, "wrk_warmup": 1, "wrk_rounds": 2,
        "settle": 2.0}
QUICK = {"size": "8M", "big": "0", "rounds": 1, "reps": 2, "wrk_duration": 1, "wrk_warmup": 0, "wrk_rounds": 1,
         "settle": 0.2}


def say(text: str) -> None:
    print("[{}] {}".format(time.strftime("%H:%M:%S"), text), file=sys.stderr, flush=True)


def idle_pss(servers: dict, settle: float, samples: int = 5) -> dict:
    """Median of a few samples 0.1 s apart, MiB, after ``settle`` s of quiet."""
    time.sleep(settle)
    got: dict = {n: [] for n in servers}
    for _ in range(samples):
        for name, server in servers.items():
            got[name].append(tree_pss(server.proc.pid))
        time.sleep(0.1)
    return {n: statistics.median(v) / MiB for n, v in got.items()}


def first_burst(server, path: str, errors, name: str, n: int = 16) -> float:
    """A fresh server's first ``n`` requests, sent at once on ``n`` new
    connections: the slowest one's seconds (each worker's first requests
    find nothing cached yet)."""
    start, times = threading.Barrier(n), []

    def one():
        start.wait(timeout=30)
        times.append(errors.check(name, request(server, "GET", path, timeout=120), 200, 204))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=150)
    return max(times, default=float("nan"))


def huge_rows(store, pair, sampler, size: int, errors) -> list:
    """One export (docker-archive) and one load of a ``size`` image per
    server: the memory peaks at that size (and the times)."""
    rootfs = write_rootfs(os.path.join(store.path, "huge-rootfs.tar"), size)
    try:
        store.out("import", "-q", rootfs, HUGE)
    finally:
        os.unlink(rootfs)
    rows = export_rows(store, pair, sampler, HUGE, size, 1, errors, formats=("docker-archive",))
    rows += load_rows(store, pair, sampler, HUGE, size, 1, errors)
    store.podman("rmi", "--force", HUGE, check=False)
    return rows + peak_rows(sampler, size)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and short runs: " + repr(QUICK))
    p.add_argument("--only", choices=("all", "reads", "routes", "transfers"), default="all")
    p.add_argument("--size", help="the big image (random data), default {size}".format(**FULL))
    p.add_argument("--big", help="a second image for the memory peaks, 0 for none, default {big}".format(**FULL))
    p.add_argument("--rounds", type=int, help="alternation rounds of the transfers")
    p.add_argument("--reps", type=int, help="repetitions of each small route")
    p.add_argument("--wrk-duration", type=int, help="seconds of each wrk run")
    p.add_argument("--wrk-warmup", type=int, help="seconds of the warm-up run (0: none)")
    p.add_argument("--wrk-rounds", type=int, help="wrk runs per server, route and concurrency")
    p.add_argument("--connections", default="16,64,256")
    p.add_argument("--settle", type=float, help="seconds of quiet before the idle PSS")
    p.add_argument("--chart", metavar="OUT.png", help="draw the ratios (needs matplotlib: pip install '.[bench]')")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    size, big = parse_size(args.size), parse_size(args.big) if args.big != "0" else 0
    connections = [int(c) for c in args.connections.split(",")]
    missing = [t for t in ("wrk", "taskset", "docker-registry") if not shutil.which(t)]
    if missing:
        print("missing: {} (Debian: apt-get install wrk util-linux docker-registry)".format(" ".join(missing)),
              file=sys.stderr)
        return 2
    part = {k: args.only in ("all", k) for k in ("reads", "routes", "transfers")}

    started = time.time()
    load_at_start = os.getloadavg()
    store = Store.create()
    servers: dict = {}
    registry = sampler = None
    errors = Errors()
    rows: list = []
    try:
        say(f"store {store.path}: images ({args.size} of random data)")
        store.make_image(SMALL, marker="bench")
        rootfs = None
        if part["transfers"]:
            rootfs = write_rootfs(os.path.join(store.path, "rootfs.tar"), size)
            store.out("import", "-q", rootfs, BIG)
        servers["service"] = start_service(store)
        servers["podproxy"] = start_podproxy(store)
        pair = {n: servers[n] for n in ("service", "podproxy")}
        first = {n: first_burst(s, ROUTES["exists"], errors, n) * 1000 for n, s in pair.items()}
        rows.append(Row("fresh server: slowest of 16 concurrent first requests (ms)", first["service"],
                        first["podproxy"]))
        for path in ROUTES.values():  # both servers have answered every read once
            for server in pair.values():
                request(server, "GET", path)
        sampler = PeakSampler({n: s.proc.pid for n, s in pair.items()})
        idle = idle_pss(pair, args.settle)
        rows.append(Row("idle PSS at start (MiB, whole tree)", idle["service"], idle["podproxy"], "<= 1.0x"))
        if part["reads"]:
            say(f"cached reads under wrk (pinned to cpu {client_cpu()})")
            rows += read_rows(pair, list(ROUTES), connections, args.wrk_rounds, args.wrk_duration, args.wrk_warmup,
                              progress=lambda done: say("  " + done[0].figure.rsplit(" ", 2)[0]))
        if part["routes"]:
            say("writes, uncached reads, commit, build")
            rows += write_rows(store, pair, args.reps, errors)
            servers["nocache"] = start_podproxy(store, "--cache", "off")
            rows += uncached_rows(store, servers["nocache"], args.reps, errors)
            servers.pop("nocache").stop()
            rows += commit_build_rows(store, pair, args.reps, errors)
        if part["transfers"]:
            say(f"exports, load, import of {args.size}")
            rows += export_rows(store, pair, sampler, BIG, size, args.rounds, errors)
            rows += load_rows(store, pair, sampler, BIG, size, args.rounds, errors)
            rows += import_rows(store, pair, rootfs, size, args.rounds, errors)
            os.unlink(rootfs)
            say(f"push and pull of {args.size} through docker-registry")
            registry_dir = os.path.join(store.path, "registry")
            registry = start_registry(registry_dir)
            rows += registry_rows(store, pair, registry, registry_dir, BIG, size, args.rounds, errors)
            rows += peak_rows(sampler, size)
            if big:
                say(f"export and load of {size_label(big)} (memory)")
                rows += huge_rows(store, pair, sampler, big, errors)
        idle = idle_pss(pair, args.settle)
        rows.append(Row("idle PSS at the end (MiB, whole tree)", idle["service"], idle["podproxy"], "<= 1.0x"))
        rows.append(Row("errors of every other route (failed answers)", errors.count.get("service", 0),
                        errors.count.get("podproxy", 0), "0 errors"))
        version = store.out("version", "--format", "{{.Client.Version}}").strip()
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
        print(f"podproxy (podproxy serve, defaults) vs podman system service {version}, both on loopback TCP, one "
              f"store; {os.cpu_count()} cores shared by both servers, the client (wrk -t1 pinned to cpu "
              f"{client_cpu()}) and other work (load average {load_at_start[0]:.1f} at the start); {when}; "
              f"image {args.size}, memory {size_label(big) if big else '-'}; {args.rounds} transfer round(s), "
              f"{args.reps} reps, wrk {args.wrk_rounds} x {args.wrk_duration} s; medians; "
              f"{time.time() - started:.0f} s")
        print_table(rows)
        if args.chart:
            chart(rows, args.chart)
            print(f"chart: {args.chart}")
        return 0
    finally:
        if sampler is not None:
            sampler.stop()
        for server in [*servers.values(), *([registry] if registry else [])]:
            server.stop()
        store.destroy()


if __name__ == "__main__":
    sys.exit(main())
