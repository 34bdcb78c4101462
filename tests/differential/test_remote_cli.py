"""The real podman remote CLI against podproxy and against podman's own
service: same exit code, same output (IDs aside)."""
from __future__ import annotations

import subprocess

import pytest
from helpers import PODMAN

from .conftest import USED


def remote(url, *args):
    proc = subprocess.run([PODMAN, "--url", url, *args], capture_output=True, timeout=120)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def both(pair, *args, ids=()):
    results = []
    for server in (pair.ref, pair.proxy):
        code, out, err = remote(server.url, *args)
        for n, i in enumerate(ids):
            out, err = out.replace(i, "<ID%d>" % n), err.replace(i, "<ID%d>" % n)
        results.append((code, out, err))
    return results


@pytest.mark.parametrize("args", [
    ("image", "exists", "localhost/podproxy/base:1"),
    ("image", "exists", "nope"),
    ("image", "exists", "UPPER"),
    ("image", "inspect", "localhost/podproxy/base:1"),
    ("image", "inspect", "--format", "{{.Id}} {{.RepoTags}}", "localhost/podproxy/base:1", USED),
    ("image", "inspect", "nope"),
    ("image", "tree", "localhost/podproxy/base:1"),
    ("image", "tree", "--whatrequires", "localhost/podproxy/base:1"),
    ("image", "tree", "nope"),
    ("image", "rm", "nope"),
    ("image", "rm", USED),
    ("image", "rm", "-i", "nope"),
    ("image", "untag", "nope"),
    ("image", "untag", "localhost/podproxy/base:1", "localhost/podproxy/base:notthere"),
])
def test_read_and_errors(pair, args):
    ref, proxy = both(pair, *args, ids=[pair.store.container_id])
    assert proxy == ref


def test_untag_and_rm(pair):
    store = pair.store
    results = []
    for server in (pair.ref, pair.proxy):
        image_id = store.make_image("localhost/podproxy/cli:1", marker="cli")
        store.podman("tag", image_id, "localhost/podproxy/cli:2", "localhost/podproxy/cli:3")
        steps = [remote(server.url, "image", "untag", "localhost/podproxy/cli:1", "localhost/podproxy/cli:2"),
                 remote(server.url, "image", "rm", "localhost/podproxy/cli:3"),
                 remote(server.url, "image", "exists", image_id)]
        results.append([(c, o.replace(image_id, "<ID>"), e) for c, o, e in steps])
    assert results[0] == results[1]
    # untag removed :2 only, rm of :3 untagged it: :1 keeps the image alive
    assert [step[0] for step in results[0]] == [0, 0, 0]


def test_prune(fresh_pair):
    stores, pair = fresh_pair
    results = []
    for store, server in zip(stores, (pair.ref, pair.proxy), strict=True):
        dangling = store.make_image("localhost/podproxy/dangling:1", marker="d")
        store.podman("untag", dangling)
        keep = store.make_image("localhost/podproxy/keep:1", marker="k")
        code, out, err = remote(server.url, "image", "prune", "-f")
        results.append((code, out.replace(dangling, "<D>"), err, store.image_ids() == {keep}))
    assert results[0] == results[1]
    assert results[0][1] == "<D>\n" and results[0][3]


def test_version(pair):
    ref, proxy = both(pair, "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.GoVersion}}")
    assert proxy == ref and ref[0] == 0
