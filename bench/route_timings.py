"""The small routes, one request at a time: writes (tag, untag, rm), commit
of a created container, a small build, and the uncached reads.

Each figure alternates, repetition by repetition in rotating order,
podman's service, podproxy and (for writes and uncached reads) the same
podman command run directly: the floor podproxy cannot go below, since it
runs one podman process per write. Medians; every answer's status is
checked and failures counted (``errors``), never raised.
"""
from __future__ import annotations

import io
import os
import statistics
import subprocess
import tarfile
import time

from servers import V, request
from table import Row

SMALL = "localhost/bench/small:1"
# cached by podproxy's answer cache when it is on: measured with --cache off
UNCACHED = {  # name: (path, ok status, the podman command podproxy runs for it)
    "exists": (f"/images/{SMALL}/exists", 204, ["image", "exists", "--", SMALL]),
    "json": (f"/images/{SMALL}/json", 200, ["image", "inspect", "--", SMALL]),
    "list": ("/images/json", 200, ["images", "--format", "json"]),
    "tree": (f"/images/{SMALL}/tree", 200, ["image", "tree", "--", SMALL]),
    "history": (f"/images/{SMALL}/history", 200,
                ["history", "--no-trunc", "--format", "{{json .ImageHistoryLayer}}", "--", SMALL]),
}
CONTAINERFILE = b"FROM %s\nCOPY hello.txt /hello.txt\nLABEL built.by=podproxy-bench\nENV GREETING=hello\n" % (
    SMALL.encode())


def rotate(items: list, n: int) -> list:
    return items[n % len(items):] + items[: n % len(items)]


def ms(seconds: list) -> float:
    return statistics.median(seconds) * 1000 if seconds else float("nan")


class Errors:
    """Failed answers per server name."""

    def __init__(self):
        self.count: dict = {}

    def check(self, name: str, answer, *ok: int) -> float:
        if answer.failed(*ok):
            self.count[name] = self.count.get(name, 0) + 1
        return answer.total


def process(store, *command) -> float:
    """Seconds one podman process takes for ``command``, run directly."""
    start = time.perf_counter()
    subprocess.run(store.argv(*command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300, check=False)
    return time.perf_counter() - start


def write_rows(store, servers: dict, reps: int, errors: Errors) -> list:
    """tag, untag and rm: p50 ms against the service, and over the podman
    process (target of issue 14 point 2: <= +5 ms)."""
    took: dict = {op: {"service": [], "podproxy": [], "process": []} for op in ("tag", "untag", "rm")}
    rootfs = store.rootfs_tar({"marker": b"rm"})
    try:
        for r in range(reps):
            for name in rotate(["service", "podproxy", "process"], r):
                repo, tag = "localhost/bench/tagged", f"{name}{r}"
                if name == "process":
                    took["tag"][name].append(process(store, "tag", SMALL, f"{repo}:{tag}"))
                    took["untag"][name].append(process(store, "untag", SMALL, f"{repo}:{tag}"))
                else:
                    server = servers[name]
                    query = f"?repo={repo}&tag={tag}"
                    took["tag"][name].append(errors.check(
                        name, request(server, "POST", V + f"/images/{SMALL}/tag{query}"), 201))
                    took["untag"][name].append(errors.check(
                        name, request(server, "POST", V + f"/images/{SMALL}/untag{query}"), 201))
            for name in rotate(["service", "podproxy", "process"], r):
                # a real removal: an image of its own (a tiny import, not timed)
                ref = f"localhost/bench/removed:{name}{r}"
                store.out("import", "-q", rootfs, ref)
                if name == "process":
                    took["rm"][name].append(process(store, "rmi", "--", ref))
                else:
                    took["rm"][name].append(errors.check(
                        name, request(servers[name], "DELETE", V + "/images/" + ref), 200))
    finally:
        os.unlink(rootfs)
    rows = []
    for op, t in took.items():
        rows.append(Row(f"{op} p50 ms", ms(t["service"]), ms(t["podproxy"])))
        rows.append(Row(f"{op} p50 ms over the podman process", ms(t["process"]), ms(t["podproxy"]), "<= +5 ms"))
    return rows


def uncached_rows(store, nocache, reps: int, errors: Errors) -> list:
    """Each read through podproxy --cache off against its podman command
    run directly, one at a time, alternating."""
    rows = []
    for read, (path, status, command) in UNCACHED.items():
        proxy, direct = [], []
        request(nocache, "GET", V + path)  # the worker's first request of the route is not the figure
        for r in range(reps):
            for name in rotate(["process", "nocache"], r):
                if name == "process":
                    direct.append(process(store, *command))
                else:
                    proxy.append(errors.check("podproxy", request(nocache, "GET", V + path), status))
        rows.append(Row(f"{read} uncached p50 ms over the podman process", ms(direct), ms(proxy), "<= +5 ms"))
    return rows


def context_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Containerfile", CONTAINERFILE), ("hello.txt", b"hello\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def commit_build_rows(store, servers: dict, reps: int, errors: Errors) -> list:
    """commit of a created container (created before, not timed) and a
    small build (FROM, COPY, LABEL, ENV; RUN cannot run on these machines),
    p50 ms of each server."""
    took: dict = {op: {"service": [], "podproxy": []} for op in ("commit", "build")}
    context = context_tar()
    for r in range(reps):
        for name in rotate(["service", "podproxy"], r):
            ctr = f"bench-commit-{name}{r}"
            store.create_container(SMALL, ctr)
            took["commit"][name].append(errors.check(name, request(
                servers[name], "POST", V + f"/commit?container={ctr}&repo=localhost/bench/committed&tag={name}{r}"),
                200, 201))
            store.podman("rm", "--force", ctr, check=False)
        for name in rotate(["service", "podproxy"], r):
            took["build"][name].append(errors.check(name, request(
                servers[name], "POST", V + f"/build?t=localhost/bench/built:{name}{r}&nocache=1",
                body=context, headers={"Content-Type": "application/x-tar"}), 200))
    return [Row("commit of a created container p50 ms", ms(took["commit"]["service"]),
                ms(took["commit"]["podproxy"])),
            Row("build (FROM, COPY, LABEL, ENV) p50 ms", ms(took["build"]["service"]),
                ms(took["build"]["podproxy"]))]
