"""The big transfers: export in the four formats, load, import, and push
and pull through a local registry, each against podman's service,
alternating round by round (rotating order), medians; and the peak PSS
of both process trees during exports and loads (``pss.PeakSampler``
phases named ``export SIZE`` / ``load SIZE``).

The image is a rootfs of random (incompressible) data. Before each load
and pull the image is removed (a real load or pull every time); before
each push the registry's storage is emptied (a real upload every time).
Failed answers are counted in ``errors`` (route_timings.Errors).
"""
from __future__ import annotations

import os
import shutil
import statistics
import tarfile

from route_timings import rotate
from servers import V, request
from table import Row

FORMATS = ("docker-archive", "oci-archive", "oci-dir", "docker-dir")
MiB = 1 << 20


def size_label(size: int) -> str:
    return f"{size >> 30}G" if size >= 1 << 30 and size % (1 << 30) == 0 else f"{size >> 20}M"


class _RandomFile:
    def __init__(self, size: int):
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


def write_rootfs(path: str, size: int) -> str:
    """A rootfs tar at ``path`` holding ``size`` bytes of random data (in
    files of at most 256 MiB)."""
    with tarfile.open(path, "w") as tar:
        parts = max(1, size // (256 * MiB))
        for n in range(parts):
            part = size // parts + (size % parts if n == parts - 1 else 0)
            info = tarfile.TarInfo(f"data/random-{n}")
            info.size, info.mode = part, 0o644
            tar.addfile(info, _RandomFile(part))
    return path


def _median(values: list) -> float:
    return statistics.median(values) if values else float("nan")


def _alternate(rounds: int, run) -> dict:
    """``run(name)`` -> seconds or a dict of figures, for both servers,
    ``rounds`` times in rotating order."""
    got: dict = {"service": [], "podproxy": []}
    for r in range(rounds):
        for name in rotate(["service", "podproxy"], r):
            got[name].append(run(name))
    return got


def export_rows(store, servers, sampler, ref: str, size: int, rounds: int, errors, formats=FORMATS) -> list:
    label, rows = size_label(size), []
    for fmt in formats:
        def run(name, fmt=fmt):
            os.sync()  # the previous transfer's dirty pages are not this one's disk writes
            sampler.phase = "export " + label
            try:
                answer = request(servers[name], "GET", V + f"/images/{ref}/get?format={fmt}")
            finally:
                sampler.phase = None
            errors.check(name, answer, 200)
            return answer

        got = _alternate(rounds, run)
        first = {n: _median([a.first_byte for a in v]) for n, v in got.items()}
        total = {n: _median([a.total for a in v]) for n, v in got.items()}
        rows.append(Row(f"export {label} {fmt} first byte (s)", first["service"], first["podproxy"],
                        "<= 0.5x" if fmt == "docker-archive" else ""))
        rows.append(Row(f"export {label} {fmt} total (s)", total["service"], total["podproxy"], "<= 1.0x"))
    return rows


def load_rows(store, servers, sampler, ref: str, size: int, rounds: int, errors) -> list:
    label = size_label(size)
    archive = os.path.join(store.path, f"load-{label}.tar")
    store.podman("save", "--format", "docker-archive", "-o", archive, ref)
    try:
        def run(name):
            store.podman("rmi", "--force", ref, check=False)  # a real load every time
            os.sync()
            sampler.phase = "load " + label
            try:
                answer = request(servers[name], "POST", V + "/images/load", body_path=archive,
                                 headers={"Content-Type": "application/x-tar"})
            finally:
                sampler.phase = None
            return errors.check(name, answer, 200)

        got = _alternate(rounds, run)
    finally:
        os.unlink(archive)
    return [Row(f"load {label} docker-archive total (s)", _median(got["service"]), _median(got["podproxy"]),
                "<= 1.0x")]


def import_rows(store, servers, rootfs: str, size: int, rounds: int, errors) -> list:
    label = size_label(size)

    def run(name):
        ref = f"localhost/bench/imported:{name}"
        os.sync()
        answer = request(servers[name], "POST", V + "/images/import?reference=" + ref, body_path=rootfs,
                         headers={"Content-Type": "application/x-tar"})
        store.podman("rmi", "--force", ref, check=False)
        return errors.check(name, answer, 200)

    got = _alternate(rounds, run)
    return [Row(f"import {label} rootfs total (s)", _median(got["service"]), _median(got["podproxy"]))]


def registry_rows(store, servers, registry, registry_dir: str, ref: str, size: int, rounds: int, errors) -> list:
    """Push ``ref`` to the registry (emptied before each push), then pull it
    back (``ref`` and the pulled image removed before each pull). Leaves
    ``ref`` removed from the store."""
    label = size_label(size)
    remote = f"{registry.address}/bench/pushed:1"

    def push(name):
        shutil.rmtree(os.path.join(registry_dir, "data"), ignore_errors=True)  # a real upload every time
        os.sync()
        answer = request(servers[name], "POST", V + f"/images/{ref}/push?destination={remote}&tlsVerify=false")
        return errors.check(name, answer, 200)

    def pull(name):
        store.podman("rmi", "--force", remote, check=False)  # a real pull every time
        os.sync()
        answer = request(servers[name], "POST", V + f"/images/pull?reference={remote}&tlsVerify=false")
        return errors.check(name, answer, 200)

    pushed = _alternate(rounds, push)
    store.podman("rmi", "--force", ref, check=False)  # no local layer to reuse
    pulled = _alternate(rounds, pull)
    store.podman("rmi", "--force", remote, check=False)
    return [Row(f"push {label} to a local registry total (s)", _median(pushed["service"]),
                _median(pushed["podproxy"])),
            Row(f"pull {label} from a local registry total (s)", _median(pulled["service"]),
                _median(pulled["podproxy"]))]


def peak_rows(sampler, size: int) -> list:
    label = size_label(size)
    return [Row(f"peak PSS during export {label} (MiB, whole tree)", sampler.peak("export " + label, "service")
                / MiB, sampler.peak("export " + label, "podproxy") / MiB, "<= 100 MiB"),
            Row(f"peak PSS during load {label} (MiB, whole tree)", sampler.peak("load " + label, "service") / MiB,
                sampler.peak("load " + label, "podproxy") / MiB, "<= 100 MiB")]
