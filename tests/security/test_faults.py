"""Faults: podman missing and a full disk give a clear 5xx in podman's
error shape (never a traceback), ``/readyz`` says why when podman cannot
run, and a failed load leaves nothing half-written in the store or in the
temp dirs."""
from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from helpers import Store

from podproxy.app import create_app
from podproxy.settings import Settings

pytestmark = pytest.mark.podman

ERROR_KEYS = {"cause", "message", "response"}


def test_podman_missing_is_a_clear_500_and_not_ready(tmp_path):
    client = create_app({"TESTING": True}, settings=Settings(podman=str(tmp_path / "no-podman"))).test_client()
    for method, target in [("GET", "/v4.3.1/libpod/images/x/json"), ("GET", "/v4.3.1/libpod/images/x/exists"),
                           ("DELETE", "/v4.3.1/libpod/images/x"), ("POST", "/v4.3.1/libpod/images/prune"),
                           ("GET", "/v4.3.1/libpod/images/json"), ("GET", "/v4.3.1/libpod/info")]:
        r = client.open(target, method=method)
        assert r.status_code == 500, target
        body = r.get_json()
        assert set(body) == ERROR_KEYS and "podman not found" in body["message"], (target, body)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "podman not found" in ready.get_json()["reason"]


@pytest.fixture
def tiny_store():
    """A store on a 40 MB tmpfs of its own (unmounted afterwards)."""
    mount = tempfile.mkdtemp(prefix="pt-", dir="/tmp")  # podman wants a runroot under 50 chars
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", mount]).returncode != 0:
        os.rmdir(mount)
        pytest.skip("cannot mount a tmpfs here")
    store = Store.create(base=mount)
    yield store
    store.destroy()
    subprocess.run(["umount", "-l", mount])
    os.rmdir(mount)


def archive_of_big_image(tmp_path) -> bytes:
    """A docker-archive of a busybox image with 24 MB of random data."""
    roomy = Store.create()
    try:
        tar = roomy.rootfs_tar({"big": os.urandom(24 << 20)})
        roomy.out("import", "-q", tar, "localhost/podproxy/big:1")
        out = tmp_path / "big.tar"
        roomy.out("save", "--format", "docker-archive", "-o", str(out), "localhost/podproxy/big:1")
        return out.read_bytes()
    finally:
        roomy.destroy()


def test_disk_full_load_is_a_clear_500_and_leaves_nothing(tiny_store, tmp_path, monkeypatch):
    data = archive_of_big_image(tmp_path)
    base = tiny_store.make_image("localhost/podproxy/small:1")
    before = tiny_store.image_ids()
    st = os.statvfs(tiny_store.path)
    with open(os.path.join(os.path.dirname(tiny_store.path), "filler"), "wb") as f:  # leave 6 MB free
        f.write(b"\0" * (st.f_bavail * st.f_frsize - (6 << 20)))
    def leftovers():
        """podman's run dir and the layer dirs of the store."""
        found = set()
        for sub in ("tmp", "root/overlay", "root/overlay-layers", "root/overlay-images"):
            top = os.path.join(tiny_store.path, sub)
            found |= {sub + "/" + n for n in os.listdir(top)} if os.path.isdir(top) else set()
        return found

    files_before = leftovers()
    temp = tmp_path / "podman-tmp"  # podman's own temp files (TMPDIR) go here, to be watched
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # podproxy's own temp dirs for podman too
    client = create_app({"TESTING": True}, settings=Settings(podman_option=list(tiny_store.options))).test_client()

    with client.post("/v4.3.1/libpod/images/load", data=data, content_type="application/x-tar") as r:
        r.get_data()  # closed: the transfer is over (metrics count it as ended)

    assert r.status_code == 500, r.data
    body = r.get_json()
    assert set(body) == ERROR_KEYS and not body["message"].startswith("internal error"), body
    assert "no space left on device" in body["message"], body
    assert tiny_store.image_ids() == before == {base}  # no half-loaded image
    assert list(temp.iterdir()) == []  # podman's staging removed
    assert leftovers() == files_before, leftovers() ^ files_before  # no partial layer left behind
    ready = client.get("/readyz")  # 6 MB free in the store: not ready, and it says why
    assert ready.status_code == 503 and "no space left on device" in ready.get_json()["reason"], ready.get_json()
    assert tiny_store.path in ready.get_json()["reason"]
    # the store still works once there is room
    assert client.get("/v4.3.1/libpod/images/localhost/podproxy/small:1/exists").status_code == 204
