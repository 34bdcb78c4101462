"""The podman remote CLI's save, load, import and commit against podproxy
and against podman's own service on the same store: same exit code, same
output (IDs aside), equivalent files."""
from __future__ import annotations

import json
import os
import re

import pytest
from helpers import tar_json, tar_members

from .conftest import USED
from .test_remote_cli import remote

BASE = "localhost/podproxy/base:1"
_ID = re.compile(r"(sha256:)?[0-9a-f]{64}")


def both(pair, make_args):
    """Run the CLI against each server; ``make_args(side)`` gives its args
    (a side name lets each write its own output file)."""
    results = []
    for side, server in (("ref", pair.ref), ("proxy", pair.proxy)):
        code, out, err = remote(server.url, *make_args(side))
        results.append((code, _ID.sub("<ID>", out), _ID.sub("<ID>", err)))
    return results


def file_view(path):
    if os.path.isdir(path):
        return sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs)
    with open(path, "rb") as f:
        data = f.read()
    names = tar_members(data)
    return names, [tar_json(data, m) for m in ("manifest.json", "index.json") if m in names]


@pytest.mark.parametrize("args", [
    (BASE,),
    ("--format", "oci-archive", BASE),
    ("--format", "docker-archive", BASE),
    ("-m", BASE, USED),
    ("--format", "oci-dir", BASE),
    ("--format", "docker-dir", BASE),
    ("nope",),
    ("--format", "oci-archive", BASE, USED),
])
def test_save(pair, tmp_path, args):
    out = {side: str(tmp_path / side) for side in ("ref", "proxy")}
    ref, proxy = both(pair, lambda side: ("image", "save", "-o", out[side], *args))
    assert proxy == ref
    if ref[0] == 0:
        assert file_view(out["proxy"]) == file_view(out["ref"])


def test_load(pair, tmp_path):
    archive = str(tmp_path / "two.tar")
    pair.store.podman("image", "save", "-m", "-o", archive, BASE, USED)
    ref, proxy = both(pair, lambda side: ("image", "load", "-i", archive))
    assert proxy == ref and ref[0] == 0
    assert sorted(ref[1].splitlines()) == ["Loaded image: %s" % BASE, "Loaded image: %s" % USED]
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"garbage")
    ref, proxy = both(pair, lambda side: ("image", "load", "-i", str(garbage)))
    assert (proxy[0], proxy[2].split(":\n")[0]) == (ref[0], ref[2].split(":\n")[0]) and ref[0] != 0


def test_import(pair, tmp_path):
    rootfs = pair.store.rootfs_tar({"cli": b"import"})
    ids = {}

    def args(side):
        return ("image", "import", "--change", "CMD=/bin/sh", "--change", "ENV X=y", "-m", "from the cli",
                rootfs, "localhost/podproxy/cli-import-%s:1" % side)

    ref, proxy = both(pair, args)
    assert proxy == ref and ref[0] == 0 and ref[1].strip() == "<ID>"
    for side in ("ref", "proxy"):
        ids[side] = json.loads(pair.store.out("image", "inspect", "localhost/podproxy/cli-import-%s:1" % side))[0]
    assert ids["proxy"]["Config"] == ids["ref"]["Config"] and ids["proxy"]["Comment"] == ids["ref"]["Comment"]
    ref, proxy = both(pair, lambda side: ("image", "import", rootfs, "UPPER"))
    assert proxy == ref and ref[0] != 0


def test_commit(pair):
    ref, proxy = both(pair, lambda side: ("commit", "podproxy-used", "localhost/podproxy/cli-commit-%s:1" % side))
    assert proxy == ref and ref[0] == 0
    ref, proxy = both(pair, lambda side: ("commit", "-f", "docker", "-m", "msg", "--change", "ENV A=b", "nope", "x"))
    assert proxy == ref and ref[0] != 0
