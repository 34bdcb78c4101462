"""Transfers through the Flask app on a real podman store: round trips
(export -> load -> same image ID), import and commit results seen with
inspect, and bad input that must leave storage unchanged."""
from __future__ import annotations

import glob
import http.server
import io
import json
import os
import tarfile
import tempfile
import threading

import pytest
import responses
from conftest import make_app
from helpers import Store, tar_json, tar_members

V = "/v4.3.1/libpod"


@pytest.fixture(scope="module")
def tstore():
    """A store of this module's own: these tests add and remove images."""
    s = Store.create()
    s.a_id = s.make_image("localhost/transfer/a:1", marker="a")
    s.b_id = s.make_image("localhost/transfer/b:1", marker="b")
    s.create_container("localhost/transfer/a:1", "transfer-ctr")
    yield s
    s.destroy()


@pytest.fixture(scope="module")
def tclient(tstore):
    return make_app(tstore).test_client()


def inspect(store, name):
    return json.loads(store.out("image", "inspect", name))[0]


def test_settings_default_off(tstore):
    settings = make_app(tstore).extensions["podproxy"].settings
    assert (settings.max_body_size, settings.allow_url_import, settings.allow_scp) == (0, False, False)


@pytest.mark.parametrize("fmt, members", [
    ("oci-archive", {"index.json", "oci-layout"}),
    ("docker-archive", {"manifest.json", "repositories"}),
])
def test_archive_round_trip(tstore, tclient, fmt, members):
    name = "localhost/transfer/rt-%s:1" % fmt
    image_id = tstore.make_image(name, marker=fmt)
    resp = tclient.get("%s/images/%s/get?format=%s" % (V, name, fmt))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/octet; charset=us-ascii"
    archive = resp.get_data()
    assert members <= set(tar_members(archive))
    tstore.podman("rmi", name)
    loaded = tclient.post(V + "/images/load", data=archive, content_type="application/x-tar")
    assert loaded.status_code == 200, loaded.get_data()
    assert inspect(tstore, image_id)["Id"] == image_id
    assert image_id in tstore.image_ids()


def test_default_format_is_oci_archive(tstore, tclient):
    resp = tclient.get(V + "/images/localhost/transfer/a:1/get")
    assert resp.status_code == 200 and "index.json" in tar_members(resp.get_data())


@pytest.mark.parametrize("fmt", ["oci-dir", "docker-dir"])
def test_dir_formats_as_tar_round_trip(tstore, tclient, tmp_path, fmt):
    name = "localhost/transfer/rt-%s:1" % fmt
    image_id = tstore.make_image(name, marker=fmt)
    resp = tclient.get("%s/images/%s/get?format=%s&compress=true" % (V, name, fmt))
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/x-tar"
    data = resp.get_data()
    names = tar_members(data)
    assert ("index.json" in names) if fmt == "oci-dir" else ("manifest.json" in names)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tmp_path / "d")
    tstore.podman("rmi", name)
    transport = "oci:" if fmt == "oci-dir" else "dir:"
    tstore.podman("pull", transport + str(tmp_path / "d"))
    assert image_id in tstore.image_ids()


def test_dir_format_leaves_no_temp_dir(tstore, tmp_path):
    app = make_app(tstore)
    app.extensions["podproxy"].transfers.tmpdir = str(tmp_path)
    resp = app.test_client().get(V + "/images/localhost/transfer/a:1/get?format=oci-dir")
    assert resp.status_code == 200 and resp.get_data()
    resp.close()
    assert os.listdir(tmp_path) == []
    assert app.test_client().get(V + "/images/nope/get?format=oci-dir").status_code == 404
    assert os.listdir(tmp_path) == []


def test_multi_image_export_holds_both(tstore, tclient):
    resp = tclient.get(V + "/images/export?format=docker-archive&references=localhost/transfer/a:1"
                       "&references=localhost/transfer/b:1")
    assert resp.status_code == 200
    manifest = tar_json(resp.get_data(), "manifest.json")
    assert sorted(t for entry in manifest for t in entry["RepoTags"]) == [
        "localhost/transfer/a:1", "localhost/transfer/b:1"]
    loaded = tclient.post(V + "/images/load", data=resp.get_data())
    assert sorted(loaded.get_json()["Names"]) == ["localhost/transfer/a:1", "localhost/transfer/b:1"]


@pytest.mark.parametrize("target, status, message", [
    ("/images/nope/get", 404, "nope: image not known"),
    ("/images/nope/get?format=bogus", 404, "nope: image not known"),
    ("/images/localhost/transfer/a:1/get?format=bogus", 500, 'unknown format "bogus"'),
    ("/images/localhost/transfer/a:1/get?compress=maybe", 400, None),
    ("/images/export", 400, "no references"),
    ("/images/export?references=localhost/transfer/a:1&references=localhost/transfer/b:1", 500,
     "multi-image archives must use format of docker-archive"),
    ("/images/export?references=localhost/transfer/a:1&format=bogus", 500, 'unsupported format "bogus"'),
    ("/images/export?references=nope", 400, "nope: image not known"),
])
def test_export_errors(tclient, target, status, message):
    resp = tclient.get(V + target)
    assert resp.status_code == status
    if message:
        assert resp.get_json()["message"] == message


def test_export_lookup_error_writes_two_bodies(tclient):
    resp = tclient.get(V + "/images/UPPER/get")
    assert resp.status_code == 500
    first, second = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    assert (first["response"], second["response"]) == (500, 404)
    assert first["message"] == "repository name must be lowercase"


@pytest.mark.parametrize("body, ctype", [(b"garbage", None), (b"", None),
                                         (b"x" * 5000, "application/x-www-form-urlencoded")])
def test_load_bad_input_creates_nothing(tstore, tclient, body, ctype):
    before = tstore.image_ids()
    resp = tclient.post(V + "/images/load", data=body, content_type=ctype)
    assert resp.status_code == 500
    err = resp.get_json()
    assert err["message"].startswith("unable to load image: payload does not match any of the supported image formats")
    assert tstore.image_ids() == before


def test_import_with_changes_and_message(tstore, tclient):
    with open(tstore.rootfs_tar({"imported": b"1"}), "rb") as f:
        rootfs = f.read()
    resp = tclient.post(V + "/images/import?reference=localhost/transfer/imported:1&message=hello"
                        "&changes=CMD%3D/bin/sh&changes=ENV%20FOO%3Dbar&OS=linux&Architecture=arm64", data=rootfs)
    assert resp.status_code == 200, resp.get_data()
    image_id = resp.get_json()["Id"]
    assert image_id.startswith("sha256:")
    data = inspect(tstore, "localhost/transfer/imported:1")
    assert data["Id"] == image_id[len("sha256:"):]
    assert data["Config"]["Cmd"] == ["/bin/sh", "-c", "/bin/sh"]
    assert "FOO=bar" in data["Config"]["Env"]
    assert data["Comment"] == "hello"
    assert data["Architecture"] == "arm64"


@pytest.mark.parametrize("query, body, message", [
    ("reference=UPPER", None, 'unable to import tarball: normalizing name "UPPER": normalizing name "UPPER": '
                              'repository name must be lowercase'),
    ("reference=localhost/transfer/garbage:1", b"garbage", None),
    ("changes=BOGUS%20x", None, 'unable to import tarball: invalid change "BOGUS x" - invalid instruction BOGUS'),
])
def test_import_errors_leave_storage_unchanged(tstore, tclient, query, body, message):
    if body is None:
        with open(tstore.rootfs_tar({"bad": query.encode()}), "rb") as f:
            body = f.read()
    before = tstore.image_ids()
    resp = tclient.post(V + "/images/import?" + query, data=body)
    assert resp.status_code == 500
    if message:
        assert resp.get_json()["message"] == message
    assert tstore.image_ids() == before


def test_url_import_is_off_by_default(tstore, tclient):
    before = tstore.image_ids()
    resp = tclient.post(V + "/images/import?url=http://example.invalid/rootfs.tar")
    assert resp.status_code == 403
    assert set(resp.get_json()) == {"cause", "message", "response"}
    assert tstore.image_ids() == before


@responses.activate
def test_url_import_when_allowed(tstore):
    with open(tstore.rootfs_tar({"from-url": b"1"}), "rb") as f:
        responses.add(responses.GET, "http://images.example/rootfs.tar", body=f.read())
    client = make_app(tstore, allow_url_import=True).test_client()
    resp = client.post(V + "/images/import?url=http://images.example/rootfs.tar&reference=localhost/transfer/url:1")
    assert resp.status_code == 200, resp.get_data()
    assert inspect(tstore, "localhost/transfer/url:1")["Id"] == resp.get_json()["Id"][len("sha256:"):]
    # never a local path, whatever the scheme spelling
    for url in ("/etc/passwd", "file:///etc/passwd", "FILE:///etc/passwd"):
        assert client.post(V + "/images/import?url=" + url).status_code == 400


def test_upload_over_the_limit_is_413_and_stores_nothing(tstore):
    tstore.make_image("localhost/transfer/limit:1", marker="limit")
    archive = tstore.podman("image", "save", "--format", "docker-archive", "localhost/transfer/limit:1").stdout
    tstore.podman("rmi", "localhost/transfer/limit:1")
    client = make_app(tstore, max_body_size=len(archive) - 1).test_client()
    before = tstore.image_ids()
    for path in ("/images/load", "/images/import?reference=localhost/transfer/big:1"):
        resp = client.post(V + path, data=archive)
        assert resp.status_code == 413
        assert resp.get_json()["response"] == 413
    assert tstore.image_ids() == before
    resp = make_app(tstore, max_body_size=len(archive)).test_client().post(V + "/images/load", data=archive)
    assert resp.get_json() == {"Names": ["localhost/transfer/limit:1"]}


def test_commit_with_change_and_docker_format(tstore, tclient):
    resp = tclient.post(V + "/commit?container=transfer-ctr&repo=localhost/transfer/committed&tag=2"
                        "&format=docker&comment=snap&author=me&changes=ENV%20FOO%3Dbar&changes=LABEL%20k%3Dv")
    assert resp.status_code == 200, resp.get_data()
    image_id = resp.get_json()["Id"]
    assert not image_id.startswith("sha256:")
    data = inspect(tstore, "localhost/transfer/committed:2")
    assert data["Id"] == image_id
    assert "FOO=bar" in data["Config"]["Env"] and data["Config"]["Labels"]["k"] == "v"
    assert data["Author"] == "me" and data["Comment"] == "snap"
    assert data["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"


def test_commit_without_repo_is_untagged(tstore, tclient):
    resp = tclient.post(V + "/commit?container=transfer-ctr&tag=ignored")
    assert resp.status_code == 200
    assert inspect(tstore, resp.get_json()["Id"])["RepoTags"] == []


@pytest.mark.parametrize("query, status, message", [
    ("container=nope", 404, 'no container with name or ID "nope" found: no such container'),
    ("", 404, "name or ID cannot be empty"),
    ("container=nope&comment=x", 500, "messages are only compatible with the docker image format (-f docker)"),
    ("container=nope&format=bogus", 500, 'unrecognized image format "bogus"'),
    ("container=transfer-ctr&repo=UPPER", 500, "CommitFailure: repository name must be lowercase"),
    ("container=nope&squash=maybe", 400, None),
])
def test_commit_errors(tclient, query, status, message):
    resp = tclient.post(V + "/commit?" + query)
    assert resp.status_code == status
    if message:
        assert resp.get_json()["message"] == message


@pytest.mark.parametrize("target, status, message", [
    ("/images/scp/localhost/transfer/a:1", 500, "must specify a destination: invalid argument"),
    ("/images/scp/localhost/transfer/a:1?destination=root@localhost::", 400,
     "cannot use the user transfer function on the remote client: invalid argument"),
    ("/images/scp/localhost/transfer/a:1?destination=other", 400,
     "cannot use the user transfer function on the remote client: invalid argument"),
    ("/images/scp/", 500, "no source image specified: invalid argument"),
    ("/images/scp/localhost/transfer/a:1?destination=myserver::", 403, None),
])
def test_scp(tclient, target, status, message):
    resp = tclient.post(V + target)
    assert resp.status_code == status
    if message:
        assert resp.get_json() == {"cause": "invalid argument", "message": message, "response": status}


def test_scp_over_ssh_when_allowed(tstore, tmp_path):
    """The real ssh transfer needs a remote host: a fake podman stands in
    for ``podman image scp`` and records its argv."""
    fake = tmp_path / "podman"
    fake.write_text('#!/bin/sh\n[ "$1 $2" = "image scp" ] || exit 0\n'
                    'for a in "$@"; do echo "$a"; done > %s/argv\n'
                    'echo "Loaded image(s): localhost/transfer/a:1"\n' % tmp_path)
    fake.chmod(0o755)
    from podproxy.app import create_app
    from podproxy.settings import Settings

    app = create_app({"TESTING": True}, settings=Settings(podman=str(fake), allow_scp=True))
    resp = app.test_client().post(V + "/images/scp/localhost/transfer/a:1?destination=myserver::&quiet=true")
    assert resp.status_code == 200 and resp.get_json() == {"Id": "localhost/transfer/a:1"}
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == ["image", "scp", "--quiet", "--", "localhost/transfer/a:1", "myserver::"]


class _Served(http.server.BaseHTTPRequestHandler):
    """Serves ``self.server.payload``; with ``self.server.length`` false,
    without a Content-Length (the end is the connection's close)."""

    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        if self.server.length:
            self.send_header("Content-Length", str(len(self.server.payload)))
        self.end_headers()
        self.wfile.write(self.server.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def served_rootfs(tstore):
    """A loopback HTTP server serving one rootfs tar at ``.url``."""
    with open(tstore.rootfs_tar({"from-url": b"limit"}), "rb") as f:
        payload = f.read()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Served)
    httpd.payload, httpd.length = payload, True
    httpd.url = "http://127.0.0.1:%d/rootfs.tar" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def _scratch_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "podproxy-%d-*" % os.getpid())))


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "until-close"])
def test_url_import_over_the_limit_is_413_and_stores_nothing(tstore, served_rootfs, with_length):
    served_rootfs.length = with_length
    size = len(served_rootfs.payload)
    ref = "localhost/transfer/url-limit:1"
    app = make_app(tstore, allow_url_import=True, max_body_size=size - 1)
    runner, client = app.extensions["podproxy"].runner, app.test_client()
    client.get(V + "/images/json")  # the app's first podman calls are done
    before, dirs, calls = tstore.image_ids(), _scratch_dirs(), runner.calls
    resp = client.post(V + "/images/import?url=%s&reference=%s" % (served_rootfs.url, ref))
    assert resp.status_code == 413, resp.get_data()
    body = resp.get_json()
    assert set(body) == {"cause", "message", "response"} and body["response"] == 413
    assert runner.calls == calls  # podman import never started
    assert tstore.image_ids() == before
    assert _scratch_dirs() == dirs  # the partial download is gone
    # the control: at the limit exactly, the same URL imports
    app = make_app(tstore, allow_url_import=True, max_body_size=size)
    resp = app.test_client().post(V + "/images/import?url=%s&reference=%s" % (served_rootfs.url, ref))
    assert resp.status_code == 200, resp.get_data()
    assert inspect(tstore, ref)["Id"] == resp.get_json()["Id"][len("sha256:"):]
    tstore.podman("rmi", ref)
