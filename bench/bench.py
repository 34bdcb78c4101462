#!/usr/bin/env python3
"""podproxy against podman's own ``podman system service``, in one run.

Creates an isolated store (never the host's), imports a small busybox image
and a big image of incompressible random data (a rootfs tar, ``--size``),
starts on that store podman's service, podproxy (default settings: answer
cache on) and podproxy with ``--cache off``, all on unix sockets, and
measures them alternating (round by round, in rotating order, so the noise
of a shared machine hits them alike):

* export of the big image in each format (``GET .../get?format=``) and its
  load (``POST .../load``): time to first byte, total time, MB/s;
* ``exists``, ``json``, images list, ``tree``, ``history`` at concurrency 1
  and 16 (keep-alive connections): p50, p99, requests/s, errors; and, as
  the floor podproxy cannot go below without its cache, the podman process
  it runs for each (``podman image exists ...`` timed directly);
* peak memory (PSS, summed over each server's whole process tree, sampled
  from /proc every 20 ms) during the transfers and during the small requests.

It prints one table: each figure for podman and podproxy, the ratio
podproxy/podman, and the target. ``--chart out.png`` draws the ratios
(matplotlib: ``pip install '.[bench]'``).

    python3 bench/bench.py                       # 512M, everything (~5 min)
    python3 bench/bench.py --only small          # reads only
    python3 bench/bench.py --size 64M --requests 100 --rounds 2   # quick
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from helpers import HTTP, Server, Store, _UnixConnection  # noqa: E402

from podproxy.settings import parse_size  # noqa: E402

V = "/v4.3.1/libpod"
SMALL = "localhost/bench/small:1"
BIG = "localhost/bench/big:1"
FORMATS = ("docker-archive", "oci-archive", "oci-dir", "docker-dir")
READS = {  # name: (path, status, the podman command podproxy runs for it)
    "exists": ("/images/%s/exists" % SMALL, 204, ["image", "exists", "--", SMALL]),
    "json": ("/images/%s/json" % SMALL, 200, ["image", "inspect", "--", SMALL]),
    "list": ("/images/json", 200, ["images", "--format", "json"]),
    "tree": ("/images/%s/tree" % SMALL, 200, ["image", "tree", "--", SMALL]),
    "history": ("/images/%s/history" % SMALL, 200,
                ["history", "--no-trunc", "--format", "{{json .ImageHistoryLayer}}", "--", SMALL]),
}
MB = 1 << 20


# -- servers and memory -----------------------------------------------------------

def start_podman(store: Store) -> Server:
    sock = os.path.join(store.path, "podman.sock")
    return Server(store.argv("system", "service", "--time=0", "unix://" + sock), HTTP(unix=sock))


def start_podproxy(store: Store, name: str, *flags: str) -> Server:
    sock = os.path.join(store.path, name + ".sock")
    argv = [sys.executable, "-m", "podproxy", "serve", "--bind", "unix:" + sock, "--log-level", "warning",
            *["--podman-option=" + o for o in store.options], *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPROXY_")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return Server(argv, HTTP(unix=sock), env=env)


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
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


def tree_pss(root: int) -> int:
    """Proportional set size of a process and all its descendants, bytes
    (PSS: pages shared by forked workers are counted once overall)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


class MemorySampler:
    """Peak PSS of each server's process tree while ``phase`` is set."""

    def __init__(self, servers: dict):
        self.servers = servers
        self.peaks: dict[tuple, int] = {}
        self.phase: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.02):
            phase = self.phase
            if phase is None:
                continue
            for name, server in self.servers.items():
                key = (phase, name)
                self.peaks[key] = max(self.peaks.get(key, 0), tree_pss(server.proc.pid))

    def stop(self):
        self._stop.set()
        self._thread.join()


# -- clients --------------------------------------------------------------------------

class Client:
    """One keep-alive connection to a server's unix socket."""

    def __init__(self, server: Server, timeout: float = 600):
        self.path, self.timeout, self.conn = server.http.unix, timeout, None

    def request(self, method: str, target: str, body=None, headers=None, first_byte=None):
        """(status, bytes read, seconds to the first body byte, seconds)."""
        start = time.perf_counter()
        if self.conn is None:
            self.conn = _UnixConnection(self.path, self.timeout)
        try:
            self.conn.request(method, target, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            ttfb, size = None, 0
            while True:
                chunk = resp.read1(1 << 20)
                if not chunk:
                    break
                if ttfb is None:
                    ttfb = time.perf_counter() - start
                size += len(chunk)
            resp.read()  # b"": marks the answer done so the connection can be reused
            if resp.will_close:
                self.close()
            return resp.status, size, ttfb, time.perf_counter() - start
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class ReadClient:
    """One keep-alive connection for small GETs, with a minimal HTTP/1.1
    reader instead of http.client (whose header parsing costs the client
    process more CPU than a cached answer costs either server; on 2 shared
    cores that capped both at the client's pace). ``request`` keeps
    ``Client.request``'s answer shape: (status, bytes, None, seconds)."""

    def __init__(self, server: Server, timeout: float = 60):
        self.path, self.timeout = server.http.unix, timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def request(self, method: str, target: str, body=None, headers=None, first_byte=None):
        start = time.perf_counter()
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(self.timeout)
            self.sock.connect(self.path)
            self.buf = b""
        try:
            self.sock.sendall(b"%s %s HTTP/1.1\r\nHost: d\r\n\r\n" % (method.encode(), target.encode()))
            while b"\r\n\r\n" not in self.buf:
                self._recv()
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip()
            size = self._chunked() if fields.get(b"transfer-encoding") == b"chunked" else \
                self._exactly(int(fields.get(b"content-length", b"0")))
            if fields.get(b"connection") == b"close":
                self.close()
            return status, size, None, time.perf_counter() - start
        except (OSError, ValueError, IndexError):
            self.close()
            raise

    def _exactly(self, n: int) -> int:
        while len(self.buf) < n:
            self._recv()
        self.buf = self.buf[n:]
        return n

    def _chunked(self) -> int:
        size = 0
        while True:
            while b"\r\n" not in self.buf:
                self._recv()
            line, _, self.buf = self.buf.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            self._exactly(n + 2)
            size += n
            if n == 0:
                return size

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@dataclass
class Samples:
    latencies: list = field(default_factory=list)
    errors: int = 0
    requests: int = 0
    seconds: float = 0.0  # wall time of the batches

    def figures(self) -> dict:
        lat = sorted(self.latencies) or [float("nan")]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return {"p50 ms": statistics.median(lat) * 1000, "p99 ms": p99 * 1000,
                "req/s": self.requests / self.seconds if self.seconds else float("nan"), "errors": self.errors}


def batch(server: Server, path: str, status: int, concurrency: int, per_client: int, into: Samples):
    clients = [ReadClient(server) for _ in range(concurrency)]
    for c in clients:  # connect and warm up outside the clock
        try:
            c.request("GET", V + path)
        except Exception:
            pass

    def work(client):
        for _ in range(per_client):
            try:
                got = client.request("GET", V + path)
                ok = got[0] == status
                into.latencies.append(got[3])
            except Exception:
                ok = False
            if not ok:
                into.errors += 1
            into.requests += 1

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    into.seconds += time.perf_counter() - start
    for c in clients:
        c.close()


# -- the big image ----------------------------------------------------------------------

def make_big_image(store: Store, size: int) -> str:
    """Import a rootfs of ``size`` bytes of random data (incompressible)."""
    fd, path = tempfile.mkstemp(suffix=".tar", dir=store.path)
    os.close(fd)
    with tarfile.open(path, "w") as tar:
        parts = max(1, size // (256 * MB))
        for n in range(parts):
            part = size // parts + (size % parts if n == parts - 1 else 0)
            info = tarfile.TarInfo("data/random-%d" % n)
            info.size, info.mode = part, 0o644
            tar.addfile(info, _RandomFile(part))
    try:
        return store.out("import", "-q", path, BIG).strip().split(":", 1)[-1]
    finally:
        os.unlink(path)


class _RandomFile:
    def __init__(self, size: int):
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


def export_once(server: Server, fmt: str) -> dict:
    os.sync()  # the previous transfer's dirty pages are not this one's disk writes
    status, size, ttfb, total = Client(server).request("GET", V + "/images/%s/get?format=%s" % (BIG, fmt))
    if status != 200:
        raise RuntimeError("export %s: HTTP %d" % (fmt, status))
    return {"ttfb": ttfb, "total": total, "bytes": size}


def load_once(server: Server, store: Store, archive: str) -> dict:
    store.podman("rmi", "--force", BIG, check=False)  # a real load every time
    os.sync()
    size = os.path.getsize(archive)
    with open(archive, "rb") as f:
        status, _, ttfb, total = Client(server).request(
            "POST", V + "/images/load", body=f,
            headers={"Content-Length": str(size), "Content-Type": "application/x-tar"})
    if status != 200:
        raise RuntimeError("load: HTTP %d" % status)
    return {"total": total, "bytes": size}


# -- the run ----------------------------------------------------------------------------

@dataclass
class Row:
    figure: str
    podman: float
    podproxy: float
    target: str = ""  # "<= 0.5x", "<= +3 ms", "== 0", "< 100 MB"...
    better: str = "lower"  # for the ratio's reading

    @property
    def ratio(self) -> float:
        return self.podproxy / self.podman if self.podman else float("nan")

    @property
    def holds(self) -> str:
        t = self.target
        if not t:
            return ""
        if t.startswith("<= +"):
            return "yes" if self.podproxy - self.podman <= float(t[4:].split()[0]) else "NO"
        if t.startswith("<=") and t.endswith("x"):
            return "yes" if self.ratio <= float(t[2:-1]) else "NO"
        if t.startswith(">=") and t.endswith("x"):
            return "yes" if self.ratio >= float(t[2:-1]) else "NO"
        if t == "0 errors":
            return "yes" if self.podproxy == 0 else "NO"
        if t.startswith("< ") and t.endswith("MB"):
            return "yes" if self.podproxy < float(t[2:-2]) else "NO"
        return ""


def rotate(items: list, n: int) -> list:
    return items[n % len(items):] + items[: n % len(items)]


def run_transfers(args, store, servers, sampler, rows):
    podman, proxy = servers["podman"], servers["podproxy"]
    pair = {"podman": podman, "podproxy": proxy}
    for fmt in FORMATS:
        got = {name: [] for name in pair}
        for r in range(args.rounds):
            for name in rotate(list(pair), r):
                sampler.phase = "transfer"
                got[name].append(export_once(pair[name], fmt))
                sampler.phase = None
        med = {n: {k: statistics.median(x[k] for x in v) for k in ("ttfb", "total", "bytes")} for n, v in got.items()}
        first_target = "<= 0.5x" if fmt == "docker-archive" else ""
        rows.append(Row("export %s first byte (s)" % fmt, med["podman"]["ttfb"], med["podproxy"]["ttfb"],
                        first_target))
        rows.append(Row("export %s total (s)" % fmt, med["podman"]["total"], med["podproxy"]["total"], "<= 1.0x"))
        rows.append(Row("export %s MB/s" % fmt, med["podman"]["bytes"] / MB / med["podman"]["total"],
                        med["podproxy"]["bytes"] / MB / med["podproxy"]["total"], better="higher"))
    archive = os.path.join(store.path, "big-docker-archive.tar")
    store.podman("save", "--format", "docker-archive", "-o", archive, BIG)
    got = {name: [] for name in pair}
    for r in range(args.rounds):
        for name in rotate(list(pair), r):
            sampler.phase = "transfer"
            got[name].append(load_once(pair[name], store, archive))
            sampler.phase = None
    med = {n: statistics.median(x["total"] for x in v) for n, v in got.items()}
    size = os.path.getsize(archive) / MB
    os.unlink(archive)
    rows.append(Row("load docker-archive total (s)", med["podman"], med["podproxy"], "<= 1.0x"))
    rows.append(Row("load docker-archive MB/s", size / med["podman"], size / med["podproxy"], better="higher"))
    peak = {n: sampler.peaks.get(("transfer", n), 0) / MB for n in pair}
    rows.append(Row("peak memory during transfers (MB, PSS of the tree)", peak["podman"], peak["podproxy"],
                    "< 100 MB"))


def podman_process(store: Store, command: list) -> float:
    """Seconds one podman process takes for ``command``, run directly."""
    start = time.perf_counter()
    subprocess.run(store.argv(*command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_small(args, store, servers, sampler, rows):
    """Cached reads: many requests per round. Uncached: each request runs
    podman, so they are fewer, and at c=1 they alternate one by one with
    the same podman command run directly (the floor), so that load on the
    machine hits both alike."""
    pod, px, nc = "podman", "podproxy", "podproxy --cache off"
    names = [pod, px, nc]
    for read, (path, status, command) in READS.items():
        c1 = {n: Samples() for n in names}
        c16 = {n: Samples() for n in names}
        process: list = []
        per_round = max(1, args.requests // args.rounds)
        slow = max(2, per_round // 15)
        for r in range(args.rounds):
            sampler.phase = "small"
            for name in rotate([pod, px], r):
                batch(servers[name], path, status, 1, per_round, c1[name])
                batch(servers[name], path, status, 16, max(1, per_round // 2), c16[name])
            batch(servers[nc], path, status, 16, max(1, slow // 4), c16[nc])
            client = ReadClient(servers[nc])
            client.request("GET", V + path)
            for _ in range(slow):
                process.append(podman_process(store, command))
                batch_one(client, path, status, c1[nc])
            client.close()
            sampler.phase = None
        f1 = {n: s.figures() for n, s in c1.items()}
        f16 = {n: s.figures() for n, s in c16.items()}
        proc_p50 = statistics.median(process) * 1000
        rows.append(Row("%s c=1 p50 ms" % read, f1[pod]["p50 ms"], f1[px]["p50 ms"], "<= 1.0x"))
        rows.append(Row("%s c=1 p99 ms" % read, f1[pod]["p99 ms"], f1[px]["p99 ms"]))
        rows.append(Row("%s c=16 req/s" % read, f16[pod]["req/s"], f16[px]["req/s"], ">= 1.0x", better="higher"))
        rows.append(Row("%s c=16 p50 ms" % read, f16[pod]["p50 ms"], f16[px]["p50 ms"]))
        rows.append(Row("%s c=16 p99 ms" % read, f16[pod]["p99 ms"], f16[px]["p99 ms"]))
        rows.append(Row("%s errors (c=1 and c=16, cache on and off)" % read,
                        f16[pod]["errors"] + f1[pod]["errors"],
                        f16[px]["errors"] + f1[px]["errors"] + f16[nc]["errors"] + f1[nc]["errors"], "0 errors"))
        rows.append(Row("%s no cache c=1 p50 ms vs the podman process" % read, proc_p50, f1[nc]["p50 ms"],
                        "<= +3 ms"))
        rows.append(Row("%s no cache c=16 req/s vs podman service" % read, f16[pod]["req/s"], f16[nc]["req/s"],
                        better="higher"))
    peak = {n: sampler.peaks.get(("small", n), 0) / MB for n in names}
    rows.append(Row("peak memory during small requests (MB, PSS of the tree)", peak[pod], peak[px]))


def batch_one(client: Client, path: str, status: int, into: Samples) -> None:
    start = time.perf_counter()
    try:
        ok = client.request("GET", V + path)[0] == status
    except Exception:
        ok = False
    seconds = time.perf_counter() - start
    into.latencies.append(seconds)
    into.seconds += seconds
    into.requests += 1
    into.errors += not ok


def print_table(rows, out=sys.stdout):
    width = max(len(r.figure) for r in rows)
    print("%-*s %12s %12s %8s  %-10s %s" % (width, "figure", "podman", "podproxy", "ratio", "target", "holds"),
          file=out)
    for r in rows:
        ratio = "%7.2fx" % r.ratio if r.podman else "%8s" % "-"
        print("%-*s %12.2f %12.2f %s  %-10s %s" % (width, r.figure, r.podman, r.podproxy, ratio, r.target, r.holds),
              file=out)


def chart(rows, path):
    import matplotlib  # optional: pip install '.[bench]'

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.podman and r.ratio == r.ratio]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(shown) + 1.5))
    colors = ["tab:green" if (r.ratio <= 1) == (r.better == "lower") else "tab:red" for r in shown]
    ax.barh([r.figure for r in shown], [r.ratio for r in shown], color=colors)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("podproxy / podman system service (log scale; green = podproxy better)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="512M", help="size of the big image (random data): 512M, 2G, 64M...")
    p.add_argument("--only", choices=("all", "small", "transfers"), default="all")
    p.add_argument("--requests", type=int, default=600, help="c=1 requests per read and server (podman, cached)")
    p.add_argument("--rounds", type=int, default=3, help="alternation rounds")
    p.add_argument("--chart", metavar="OUT.png", help="draw the ratios (needs matplotlib)")
    args = p.parse_args(argv)
    size = parse_size(args.size)

    store = Store.create()
    servers: dict = {}
    sampler = None
    try:
        print("store %s: importing images (%s random data)..." % (store.path, args.size), file=sys.stderr)
        store.make_image(SMALL, marker="bench")
        if args.only in ("all", "transfers"):
            make_big_image(store, size)
        servers["podman"] = start_podman(store)
        servers["podproxy"] = start_podproxy(store, "podproxy")
        if args.only in ("all", "small"):
            servers["podproxy --cache off"] = start_podproxy(store, "podproxy-nocache", "--cache", "off")
        sampler = MemorySampler(servers)
        rows: list[Row] = []
        if args.only in ("all", "transfers"):
            print("transfers...", file=sys.stderr)
            run_transfers(args, store, servers, sampler, rows)
        if args.only in ("all", "small"):
            print("small requests...", file=sys.stderr)
            run_small(args, store, servers, sampler, rows)
        print("podproxy vs podman system service, podman %s, %d cores, image %s, %d rounds" % (
            store.out("version", "--format", "{{.Client.Version}}").strip(), os.cpu_count() or 0, args.size,
            args.rounds))
        print_table(rows)
        if args.chart:
            chart(rows, args.chart)
            print("chart: %s" % args.chart)
        return 0
    finally:
        if sampler is not None:
            sampler.stop()
        for server in servers.values():
            server.stop()
        store.destroy()


if __name__ == "__main__":
    sys.exit(main())
