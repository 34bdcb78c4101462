#!/usr/bin/env python3
"""podproxy's own part of a write and of an uncached read, and its idle
memory, against podman's service and the bare podman process (issue 14,
points 2 and 3).

On an isolated store (created and deleted here; the host's images are never
touched) with one small busybox image, it starts podman's service
(``podman system service``), podproxy with default settings and podproxy
``--cache off``, all on unix sockets, and then:

* **time**, one request at a time, alternating round by round between the
  three (and the same podman command(s) run directly, the floor podproxy
  cannot go below: one podman process per write): ``tag`` + ``untag`` (two
  requests; two podman processes), ``rm`` of an image that has a second name
  (one ``podman image rm``) and an uncached read (``json``: ``podman image
  inspect``, through ``--cache off``). p50 and p90 of each, and podproxy's
  p50 over the podman process(es) ("overhead", target <= +5 ms);
* **where a start's time goes** (``--breakdown``): /bin/true started and
  reaped by a plain spawn, by fork + exec, by sh as the runner starts it,
  from a small process and from one of a worker's size;
* **memory** at rest: PSS (``/proc/PID/smaps_rollup``) summed over each
  server's whole process tree after a warm-up, and podproxy's per process
  (master, workers).

The client runs in this process, on one core shared with both servers:
compare within one run, not across runs.

    python3 bench/writes.py                 # 40 rounds (~1 min)
    python3 bench/writes.py --rounds 5      # quick
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from helpers import HTTP, Server, Store, _UnixConnection  # noqa: E402
from pss import pss, tree_pids  # noqa: E402

V = "/v4.3.1/libpod"
SMALL = "localhost/bench/small:1"
MB = 1 << 20


def start_podman(store: Store) -> Server:
    sock = os.path.join(store.path, "podman.sock")
    return Server(store.argv("system", "service", "--time=0", "unix://" + sock), HTTP(unix=sock))


def start_podproxy(store: Store, name: str, *flags: str, root: str = ROOT) -> Server:
    """podproxy serve (defaults and ``flags``) from the checkout at ``root``."""
    sock = os.path.join(store.path, name + ".sock")
    argv = [sys.executable, "-P", "-m", "podproxy", "serve", "--bind", "unix:" + sock, "--log-level", "warning",
            *["--podman-option=" + o for o in store.options], *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPROXY_")}
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return Server(argv, HTTP(unix=sock), env=env)


# -- memory ----------------------------------------------------------------------

def describe(pid: int, root: int) -> str:
    """What a process of podproxy's tree is: master, worker, podman."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
    except OSError:
        return "?"
    if comm == "podman":
        return "podman (pid %d)" % pid
    return "%s (pid %d)" % ("master" if pid == root else "worker", pid)


# -- where one start's time goes -------------------------------------------------

BREAKDOWN = r"""
import os, statistics, subprocess, sys, tempfile, threading, time
worker = sys.argv[1] == "worker"
if worker:  # a gunicorn worker's size: the app loaded, 16 idle threads
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
    from podproxy.app import create_app
    app = create_app()
    for _ in range(16):
        threading.Thread(target=threading.Event().wait, daemon=True).start()
import sh
from podproxy.engine.podman.process import DEVNULL
from podproxy.engine.podman.runner import Runner
TRUE = "/bin/true"
def fork_exec():
    child = os.fork()
    if child == 0:
        try:
            os.execv(TRUE, [TRUE])
        finally:
            os._exit(127)
    os.waitpid(child, 0)
local = Runner(TRUE)
variants = {
    "posix_spawn (subprocess)": lambda: subprocess.run([TRUE]),
    "os.fork + exec": fork_exec,
    "sh, as the runner starts it, in this process": lambda: local.run([]),
}
samples = {name: [] for name in variants}
for _ in range(int(sys.argv[2])):
    for name, fn in variants.items():
        start = time.perf_counter()
        fn()
        samples[name].append((time.perf_counter() - start) * 1000)
with open("/proc/self/smaps_rollup") as f:
    rss = [int(line.split()[1]) // 1024 for line in f if line.startswith("Rss:")][0]
for name, data in samples.items():
    print("  %-46s %5.2f ms" % (name, statistics.median(data)))
print("  (this process: %d MB resident, %d threads)" % (rss, threading.active_count()))
"""


def breakdown(rounds: int) -> None:
    """Median time to start and reap /bin/true, in a small Python process
    and in one of a worker's size: the fork of a big threaded process and
    sh's own work against a plain spawn."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for kind, title in (("small", "a small process (sh imported)"), ("worker", "a process of a worker's size")):
        print("start and reap /bin/true from %s, p50 of %d:" % (title, rounds))
        sys.stdout.flush()
        subprocess.run([sys.executable, "-c", BREAKDOWN, kind, str(rounds)], env=env, check=True)
    print()


# -- time ------------------------------------------------------------------------

class Client:
    """One keep-alive connection to a server's unix socket."""

    def __init__(self, server: Server):
        self.path, self.conn = server.http.unix, None

    def request(self, method: str, target: str, expect: int) -> None:
        reused = self.conn is not None
        if self.conn is None:
            self.conn = _UnixConnection(self.path, 60)
        try:
            self.conn.request(method, target, headers={"Content-Length": "0"} if method == "POST" else {})
        except OSError:  # the server closed an idle keep-alive connection: the request was not sent
            self.conn.close()
            self.conn = None
            if not reused:
                raise
            return self.request(method, target, expect)
        try:
            resp = self.conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        if resp.status != expect:
            raise RuntimeError("%s %s: %d %s" % (method, target, resp.status, body[:300]))


def memory(when: str, servers: dict) -> None:
    """Print the PSS of podman's service's and podproxy's process trees
    once they have been idle for a second (and podproxy's per process)."""
    time.sleep(1.0)
    print("idle memory %s, PSS of each whole process tree (MiB):" % when)
    for name in ("podman service", "podproxy"):
        pids = tree_pids(servers[name].proc.pid)
        print("  %-16s %6.1f" % (name, sum(pss(p) for p in pids) / MB))
        if name == "podproxy":
            for pid in pids:
                print("    %-24s %6.1f" % (describe(pid, pids[0]), pss(pid) / MB))
    print()


def burst(server: Server, per_client: int, connections: int = 16) -> None:
    """``per_client`` cached reads on each of ``connections`` keep-alive
    connections at once (so that every worker thread has run)."""
    failed = []

    def work():
        client = Client(server)
        try:
            for _ in range(per_client):
                client.request("GET", V + "/images/%s/json" % SMALL, 200)
        except Exception as e:  # reported below
            failed.append(e)

    threads = [threading.Thread(target=work) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise RuntimeError("burst failed: %r" % failed[0])


def podman(store: Store, *args: str) -> None:
    """One podman process, run directly (stdin /dev/null, output discarded)."""
    proc = subprocess.run(store.argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError("podman %s: %s" % (" ".join(args), proc.stderr.decode()[-300:]))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def figures(samples: list) -> tuple:
    """(p50, p90)."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


DIRECT = "podman process"
KINDS = ("tag+untag", "rm", "uncached json")


def one_round(store: Store, name: str, client: Client | None, tag: str, uncached: bool) -> dict:
    """The three timings (ms) of one round against one target: podman run
    directly when ``client`` is None, else a server. ``uncached``: the
    server runs podman for a read (no answer cache)."""
    times = {}
    if client is None:
        times["tag+untag"] = timed(lambda: (podman(store, "tag", "--", SMALL, tag),
                                            podman(store, "image", "untag", "--", SMALL, tag)))
        podman(store, "tag", "--", SMALL, tag)
        times["rm"] = timed(lambda: podman(store, "image", "rm", "--", tag))
        times["uncached json"] = timed(lambda: podman(store, "image", "inspect", "--", SMALL))
        return times
    repo, _, version = tag.rpartition(":")
    tag_path = V + "/images/%s/tag?repo=%s&tag=%s" % (SMALL, repo, version)
    untag_path = V + "/images/%s/untag?repo=%s&tag=%s" % (SMALL, repo, version)
    client.request("GET", "/_ping", 200)  # untimed: (re)opens the keep-alive connection if it was closed
    times["tag+untag"] = timed(lambda: (client.request("POST", tag_path, 201),
                                        client.request("POST", untag_path, 201)))
    client.request("POST", tag_path, 201)
    times["rm"] = timed(lambda: client.request("DELETE", V + "/images/" + tag, 200))
    if uncached:
        client.request("GET", "/_ping", 200)
        times["uncached json"] = timed(lambda: client.request("GET", V + "/images/%s/json" % SMALL, 200))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="requests of each kind per target (default 40)")
    parser.add_argument("--burst", type=int, default=50, help="reads per connection of the concurrent burst")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also measure the podproxy of another checkout (its --cache off), e.g. a "
                             "'git worktree' of an older commit")
    parser.add_argument("--breakdown", type=int, default=100, metavar="N",
                        help="starts of /bin/true per variant in the breakdown (0: none; default 100)")
    args = parser.parse_args(argv)
    if args.breakdown:
        breakdown(args.breakdown)
    store = Store.create()
    servers = {}
    try:
        store.make_image(SMALL)
        servers["podman service"] = start_podman(store)
        servers["podproxy"] = start_podproxy(store, "podproxy")
        servers["podproxy --cache off"] = start_podproxy(store, "nocache", "--cache", "off")
        if args.baseline:
            servers["baseline --cache off"] = start_podproxy(store, "baseline", "--cache", "off",
                                                             root=os.path.abspath(args.baseline))
        clients = {name: Client(server) for name, server in servers.items()}
        for client in clients.values():  # warm-up: connections, imports, the cache
            for _ in range(3):
                client.request("GET", V + "/images/%s/json" % SMALL, 200)
        memory("after a warm-up", servers)

        names = [DIRECT, *servers]
        samples = {(k, n): [] for k in KINDS for n in names}
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                tag = "localhost/bench/t%d:%d" % (r, names.index(name))
                times = one_round(store, name, clients.get(name), tag, uncached=name != "podproxy")
                for kind, ms in times.items():
                    samples[kind, name].append(ms)

        for name in ("podman service", "podproxy"):
            burst(servers[name], args.burst)
        memory("after the requests above and %d reads from 16 connections at once" % (16 * args.burst), servers)

        print("sequential requests, %d rounds, ms: p50 / p90 (one client, alternating)" % args.rounds)
        print("%-14s" % "" + "".join("%22s" % n for n in names))
        for kind in KINDS:
            print("%-14s" % kind + "".join("%22s" % ("%.1f / %.1f" % figures(samples[kind, n]) if samples[kind, n]
                                                     else "-") for n in names))
        print()
        print("podproxy's own part: p50 of (request - the same podman command(s) run directly), paired by round "
              "(target <= +5 ms)")
        for name in names[2:]:
            cells = []
            for kind in KINDS:
                pairs = [a - b for a, b in zip(samples[kind, name], samples[kind, DIRECT], strict=False)]
                cells.append("%s %+.1f ms" % (kind, statistics.median(pairs)) if pairs else "%s -" % kind)
            print("  %-22s %s" % (name, ", ".join(cells)))
        return 0
    finally:
        for server in servers.values():
            server.stop()
        store.destroy()


if __name__ == "__main__":
    sys.exit(main())
