#!/usr/bin/env python3
"""Hostile clients against a live podproxy, loopback only, bounded in
connections, requests and time (issue 11's "Done when").

Starts podproxy (``--workers``/``--threads`` as given, default production's
2 x 16) on an isolated store with one image and a temp dir of its own, then
runs each attack for ``--seconds`` while an ordinary client asks ``/_ping``
every 50 ms (5 s timeout; a failure counts as 5 s):

* ``slow-header``: ``--conns`` connections sending one header byte every 3 s
  (reconnecting when cut);
* ``silent``: ``--silent`` connections that send nothing (reconnecting);
* ``slow-body``: ``--conns`` loads announcing 1e9 bytes that send 1 KiB and
  stop (reconnecting);
* ``oversized-arg``: ``--requests`` tags with a ``repo`` over 128 KiB (in a
  form body: a query can't be that long), from 4 threads;
* ``form-body``: ``--forms`` tags whose body is a ``--form-size`` form
  ``repo=aaa...``, one at a time.

For each it prints the ping p99 and max, and the server's open fds, zombie
children and temp files (and worker RSS) before the attack, their peak
during it (sampled every 0.5 s) and once it is over (after ``--settle`` seconds at most, waiting for them to come back),
with a verdict: p99 under 1 s, fds/zombies/temp files flat.

    python3 bench/abuse.py                          # the issue's sizes, ~2 min
    python3 bench/abuse.py --small                  # a quick run (the smoke test)
    python3 bench/abuse.py --only slow-body,silent
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "tests")]  # HERE first: bench.py, not the bench/ folder

from helpers import Store, start_podproxy  # noqa: E402

from bench import tree_pids as tree  # noqa: E402 (one walk of /proc for both benches)
from podproxy.settings import parse_size  # noqa: E402

IMAGE = "localhost/abuse/base:1"
ATTACKS = ("slow-header", "silent", "slow-body", "oversized-arg", "form-body")
PING_EVERY = 0.05
PING_TIMEOUT = 5.0
FD_SLACK = 4  # fds a server may hold more after an attack (a kept-alive pool, a log)


# -- the server's resources ------------------------------------------------------

def state(pid: int) -> str:
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def snapshot(server, tmp: str) -> dict:
    pids = tree(server.proc.pid)
    fds = rss = 0
    for pid in pids:
        try:
            fds += len(os.listdir("/proc/%d/fd" % pid))
            with open("/proc/%d/status" % pid) as f:
                rss += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) // 1024
        except (OSError, StopIteration):
            pass
    files = [f for d, _, names in os.walk(tmp) if "metrics" not in d for f in names]
    return {"fds": fds, "zombies": sum(state(p) == "Z" for p in pids), "files": len(files), "rss_mb": rss}


def flat(before: dict, after: dict) -> bool:
    return (after["fds"] <= before["fds"] + FD_SLACK and after["zombies"] <= before["zombies"]
            and after["files"] <= before["files"])


# -- the ordinary client ---------------------------------------------------------

class Sampler(threading.Thread):
    """The largest fds, zombies and RSS of the server while an attack runs."""

    def __init__(self, server, tmp: str):
        super().__init__(daemon=True)
        self.server, self.tmp, self.peak, self.stop = server, tmp, {}, threading.Event()

    def run(self):
        while not self.stop.is_set():
            now = snapshot(self.server, self.tmp)
            self.peak = {k: max(v, self.peak.get(k, v)) for k, v in now.items()}
            self.stop.wait(0.5)


class Pinger(threading.Thread):
    """``/_ping`` every PING_EVERY on a new connection each time; seconds per answer."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.times, self.stop = port, [], threading.Event()

    def ping(self) -> float:
        start = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=PING_TIMEOUT) as s:
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            if not data.startswith(b"HTTP/1.1 200"):
                return PING_TIMEOUT
        except OSError:
            return PING_TIMEOUT
        return time.monotonic() - start

    def run(self):
        while not self.stop.is_set():
            self.times.append(self.ping())
            self.stop.wait(PING_EVERY)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


# -- the attacks -----------------------------------------------------------------

def _open(port: int, first: bytes) -> socket.socket | None:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        if first:
            s.sendall(first)
        s.setblocking(False)
        return s
    except OSError:
        return None


def _alive(s: socket.socket) -> bool:
    """Still held: the server has neither answered (a 503, a 408...) nor closed."""
    try:
        s.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        pass
    return False


def hold(port: int, count: int, seconds: float, first: bytes, trickle: bytes | None, every: float) -> dict:
    """``count`` connections that send ``first``, then ``trickle`` every
    ``every`` s (or nothing), reopened when the server cuts them."""
    conns = [_open(port, first) for _ in range(count)]
    reopened = 0
    deadline = time.monotonic() + seconds
    next_trickle = time.monotonic() + every
    while time.monotonic() < deadline:
        time.sleep(0.2)
        trickle_now = trickle is not None and time.monotonic() >= next_trickle
        if trickle_now:
            next_trickle += every
        for i, s in enumerate(conns):
            if s is not None and trickle_now:
                try:
                    s.send(trickle)
                except OSError:
                    pass
            if s is None or not _alive(s):
                if s is not None:
                    s.close()
                conns[i] = _open(port, first)
                reopened += 1
    for s in conns:
        if s is not None:
            s.close()
    return {"reopened": reopened}


def request(port: int, head: bytes, body_chunks=(), timeout: float = 60) -> int:
    """Status of one request (0: no answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(head)
            try:
                for chunk in body_chunks:
                    s.sendall(chunk)
            except OSError:
                pass  # answered early: read the answer
            data = s.recv(4096)
            return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    except (OSError, ValueError, IndexError):
        return 0


def oversized_args(port: int, count: int, seconds: float) -> dict:
    """A query is at most gunicorn's 8190-byte request line: the value
    over 128 KiB comes in a form body, which podman reads like the query."""
    form = b"repo=" + b"a" * (129 * 1024) + b"&tag=x"
    head = (b"POST /v4.0.0/libpod/images/%s/tag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s") % (
        IMAGE.encode(), len(form), form)
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    left = [count]
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            status = request(port, head)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"statuses": statuses}


def form_bodies(port: int, count: int, size: int, seconds: float) -> dict:
    head = (b"POST /v4.0.0/libpod/images/%s/tag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nrepo=") % (
        IMAGE.encode(), size + 5)
    block = b"a" * (1 << 20)
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        chunks = [block] * (size >> 20) + [b"a" * (size & ((1 << 20) - 1))]
        status = request(port, head, chunks, timeout=max(1.0, deadline - time.monotonic() + 30))
        statuses[status] = statuses.get(status, 0) + 1
    return {"statuses": statuses}


def attack(name: str, port: int, args) -> dict:
    load = b"POST /v4.0.0/libpod/images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
    if name == "slow-header":
        return hold(port, args.conns, args.seconds, b"G", b"E", 3.0)
    if name == "silent":
        return hold(port, args.silent, args.seconds, b"", None, 3.0)
    if name == "slow-body":
        return hold(port, args.conns, args.seconds, load + b"x" * 1024, None, 3.0)
    if name == "oversized-arg":
        return oversized_args(port, args.requests, args.seconds)
    if name == "form-body":
        return form_bodies(port, args.forms, args.form_size, args.seconds)
    raise ValueError(name)


# -- the run ---------------------------------------------------------------------

def settle(server, tmp: str, before: dict, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        after = snapshot(server, tmp)
        if flat(before, after) or time.monotonic() >= deadline:
            return after
        time.sleep(0.25)


def warm_up(port: int, workers: int) -> None:
    """Every worker answers /_ping once before the clock runs (its first
    runs podman for its version): ``4 * workers`` connections held at once
    land on every worker (the fair-share accept)."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(4 * workers)]
    try:
        for s in conns:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        for s in conns:
            if not s.recv(4096).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("warm-up /_ping failed")
    finally:
        for s in conns:
            s.close()


def run(args) -> list[dict]:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the server and the store are removed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this script's connections (the server inherits it)
    store = Store.create()
    tmp = tempfile.mkdtemp(prefix="podproxy-abuse-tmp-")
    server = None
    results = []
    try:
        store.make_image(IMAGE)
        server = start_podproxy(store, *args.server_option, workers=args.workers, threads=args.threads,
                                env={"TMPDIR": tmp})
        warm_up(server.port, args.workers)
        for name in args.only:
            before = snapshot(server, tmp)
            pinger, sampler = Pinger(server.port), Sampler(server, tmp)
            pinger.start()
            sampler.start()
            started = time.monotonic()
            detail = attack(name, server.port, args)
            took = time.monotonic() - started
            for thread in (pinger, sampler):
                thread.stop.set()
                thread.join()
            peak = sampler.peak or snapshot(server, tmp)
            after = settle(server, tmp, before, args.settle)
            results.append({"attack": name, "seconds": took, "pings": len(pinger.times),
                            "p99": p99(pinger.times), "max": max(pinger.times, default=float("nan")),
                            "failed": sum(t >= PING_TIMEOUT for t in pinger.times), "before": before,
                            "during": peak, "after": after, "detail": detail,
                            "ping_ok": p99(pinger.times) < 1.0, "flat": flat(before, after)})
            print_row(results[-1])
    finally:
        if server is not None:
            server.stop()
        store.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return results


def print_row(r: dict) -> None:
    b, d, a = r["before"], r["during"], r["after"]
    print("%-13s %5.1fs pings=%-4d p99=%6.3fs max=%6.3fs failed=%-3d fds %d->%d->%d zombies %d->%d "
          "tmpfiles %d->%d->%d rss %d->%dMB  ping<1s:%s flat:%s  %s" % (
              r["attack"], r["seconds"], r["pings"], r["p99"], r["max"], r["failed"], b["fds"], d["fds"], a["fds"],
              b["zombies"], a["zombies"], b["files"], d["files"], a["files"], b["rss_mb"], d["rss_mb"],
              "yes" if r["ping_ok"] else "NO", "yes" if r["flat"] else "NO", r["detail"]), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a quick configuration (smoke test)")
    parser.add_argument("--only", default=",".join(ATTACKS), help="attacks, comma-separated: " + ", ".join(ATTACKS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each attack")
    parser.add_argument("--settle", type=float, default=40.0, help="seconds to wait for resources to come back")
    parser.add_argument("--conns", type=int, default=34, help="slow-header and slow-body connections")
    parser.add_argument("--silent", type=int, default=1000, help="silent connections")
    parser.add_argument("--requests", type=int, default=200, help="oversized-argument requests")
    parser.add_argument("--forms", type=int, default=1, help="form bodies")
    parser.add_argument("--form-size", type=parse_size, default=parse_size("200M"))
    parser.add_argument("--server-option", action="append", default=[],
                        help="a flag for podproxy serve, e.g. --server-option=--body-timeout=5")
    args = parser.parse_args(argv)
    if args.small:
        args.workers, args.threads, args.seconds, args.settle = 1, 8, 4.0, 15.0
        args.conns, args.silent, args.requests, args.forms = 8, 100, 20, 1
        args.form_size = parse_size("8M")
        args.server_option = args.server_option or ["--header-timeout=2", "--body-timeout=3"]
    args.only = [a for a in args.only.split(",") if a]
    unknown = set(args.only) - set(ATTACKS)
    if unknown:
        parser.error("unknown attacks: %s" % ", ".join(sorted(unknown)))
    results = run(args)
    return 0 if all(r["ping_ok"] and r["flat"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
