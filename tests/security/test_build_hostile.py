"""``POST /libpod/build`` against hostile clients, with the real podman and
real Containerfiles: image content through build under ``no-export``,
server-side fetches (SSRF) without ``--allow-build-network``, contexts that
expand without bound, server paths in error texts, members that try to
leave the context.

RUN cannot run on these machines (crun's setrlimit is refused), so the
leaks are shown with ``COPY --from`` and ``ADD URL``, which run nothing."""
from __future__ import annotations

import gzip
import http.server
import io
import json
import os
import subprocess
import tarfile
import tempfile
import threading

import pytest
from helpers import context_tar

from podproxy.app import create_app
from podproxy.engine.build import BuildEngine, BuildOptions
from podproxy.security.policy import PRESETS
from podproxy.settings import Settings

pytestmark = pytest.mark.podman

BUILD = "/v4.3.1/libpod/build"
BASE = "localhost/podproxy/base:1"
SECRET = "localhost/secret:1"
MARKER = "s3cret-content-only-the-image-holds"
ERROR_KEYS = {"cause", "message", "response"}



@pytest.fixture
def scratch_tmp(tmp_path, monkeypatch):
    """podproxy's temp dirs (the app runs in this process) go to a dir of
    the test's own, so that "nothing left behind" can be checked exactly."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def secret_store(fresh_store):
    fresh_store.make_image(BASE)
    fresh_store.make_image(SECRET, marker=MARKER)
    return fresh_store


def make(store, **settings):
    """An app on ``store``, warmed up: its first request asks podman its
    version, so that ``runner.calls`` counts only what a build starts."""
    app = create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options), **settings))
    assert app.test_client().get("/v4.3.1/libpod/version").status_code == 200
    return app


def holds(data: bytes, needle: bytes) -> bool:
    """Whether an image archive (tars of possibly gzipped layer tars) holds ``needle``."""
    if needle in data:
        return True
    if data[:2] == b"\x1f\x8b":
        return holds(gzip.decompress(data), needle)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            return any(holds(tar.extractfile(m).read(), needle) for m in tar if m.isreg())
    except tarfile.TarError:
        return False


def file_in_image(store, ref: str, path: str) -> bytes | None:
    mount = store.out("image", "mount", ref).strip()
    try:
        with open(os.path.join(mount, path.lstrip("/")), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    finally:
        store.podman("image", "unmount", ref)


# -- point 3: no-export forbids every route that reads image content ---------

LEAK = context_tar({"Containerfile": ("FROM %s\nCOPY --from=%s /marker /leaked\n" % (BASE, SECRET)).encode()})


@pytest.mark.parametrize("preset", PRESETS)
def test_build_cannot_read_image_content_unless_full(secret_store, preset):
    """``COPY --from=secret`` copies the secret image's file into an image
    the client names (then reads with any allowed route, or RUN cat
    prints it): only ``full`` may build."""
    app = make(secret_store, policy=preset)
    runner = app.extensions["podproxy"].runner
    calls = runner.calls
    r = app.test_client().post(BUILD + "?t=localhost/leak:1", data=LEAK)
    if preset == "full":
        assert r.status_code == 200 and b'"error"' not in r.data, r.data  # (reading the stream runs the build)
        assert file_in_image(secret_store, "localhost/leak:1", "/leaked") == MARKER.encode()
    else:
        assert r.status_code == 403 and set(r.get_json()) == ERROR_KEYS, r.data
        assert runner.calls == calls, "a denied build ran podman"
        assert secret_store.podman("image", "exists", "localhost/leak:1", check=False).returncode == 1


# every route that can reveal an image's files, and what each preset says
CONTENT_ROUTES = [
    ("GET", "/v4.3.1/libpod/images/%s/get" % SECRET),
    ("GET", "/v4.3.1/libpod/images/export?references=%s" % SECRET),
    ("POST", "/v4.3.1/libpod/images/%s/push?destination=127.0.0.1:1/x" % SECRET),
    ("POST", "/v4.3.1/libpod/images/scp/%s" % SECRET),
    ("POST", BUILD),
]
# metadata routes: what read-only shows too (config, history commands, changed paths), never a file's bytes
METADATA_ROUTES = [
    ("GET", "/v4.3.1/libpod/images/%s/json" % SECRET),
    ("GET", "/v4.3.1/libpod/images/%s/history" % SECRET),
    ("GET", "/v4.3.1/libpod/images/%s/tree" % SECRET),
    ("GET", "/v4.3.1/libpod/images/json"),
]


@pytest.mark.parametrize("preset", ["read-only", "no-export"])
def test_content_routes_denied_metadata_routes_allowed(secret_store, preset):
    client = make(secret_store, policy=preset).test_client()
    for method, target in CONTENT_ROUTES:
        r = client.open(target, method=method, data=LEAK if target == BUILD else None)
        assert r.status_code == 403, (preset, method, target, r.status_code)
        assert not holds(r.data, MARKER.encode())
    for method, target in METADATA_ROUTES:
        r = client.open(target, method=method)
        assert r.status_code == 200, (preset, target, r.data)
        assert MARKER.encode() not in r.data


def test_full_export_route_does_reveal_content(secret_store):
    """The other side of the test above: the routes denied do carry the content."""
    r = make(secret_store, policy="full").test_client().get("/v4.3.1/libpod/images/%s/get" % SECRET)
    assert r.status_code == 200 and holds(r.data, MARKER.encode())


# -- point 4: no server-side fetches from a build unless --allow-build-network ----

class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        body = b"internal only\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_http():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _fetching_containerfiles(port: int) -> dict:
    url = "http://127.0.0.1:%d/internal.txt" % port
    return {
        "plain": "FROM %s\nADD %s /internal.txt\n" % (BASE, url),
        "lower case, flags": "FROM %s\nadd --chmod=644 %s /internal.txt\n" % (BASE, url),
        "json form": 'FROM %s\nADD ["%s", "/internal.txt"]\n' % (BASE, url),
        "continued": "FROM %s\nADD \\\n  %s \\\n  /internal.txt\n" % (BASE, url),
        "arg": "FROM %s\nARG SRC=%s\nADD $SRC /internal.txt\n" % (BASE, url),
        "build arg": "FROM %s\nARG SRC\nADD ${SRC} /internal.txt\n" % (BASE,),
        "git": "FROM %s\nADD git@127.0.0.1:x/y.git /y\n" % BASE,
        "onbuild": "FROM %s\nONBUILD ADD %s /internal.txt\n" % (BASE, url),
        "run network": "FROM %s\nRUN --network=host wget %s\n" % (BASE, url),
        "escape directive": "# escape=`\nFROM %s\nADD `\n  %s /internal.txt\n" % (BASE, url),
    }


@pytest.mark.parametrize("case", list(_fetching_containerfiles(1)))
def test_build_network_is_off_by_default(fresh_store, loopback_http, case):
    fresh_store.make_image(BASE)
    port = loopback_http.server_address[1]
    containerfile = _fetching_containerfiles(port)[case]
    app = make(fresh_store)
    runner = app.extensions["podproxy"].runner
    calls = runner.calls
    r = app.test_client().post(BUILD + "?buildargs=" + json.dumps({"SRC": "http://127.0.0.1:%d/internal.txt" % port}),
                               data=context_tar({"Containerfile": containerfile.encode()}))
    assert r.status_code == 403, r.data
    body = r.get_json()
    assert set(body) == ERROR_KEYS and body["response"] == 403
    assert "--allow-build-network" in body["message"] and "in Containerfile" in body["message"]
    assert runner.calls == calls, "podman ran"
    assert loopback_http.paths == []


def test_oversized_containerfile_is_refused_unread(fresh_store, scratch_tmp):
    """The network check reads Containerfiles into memory: one larger than
    the bound is refused, not read whole (and not built unchecked)."""
    import podproxy.handlers.build

    big = b"FROM %s\n" % BASE.encode() + b"#" * (podproxy.handlers.build.MAX_CONTAINERFILE + 10) + b"\n"
    r = make(fresh_store).test_client().post(BUILD, data=context_tar({"Containerfile": big}))
    assert r.status_code == 413 and set(r.get_json()) == ERROR_KEYS, r.data
    assert os.listdir(scratch_tmp) == []


def test_build_network_flag_lets_add_fetch(fresh_store, loopback_http):
    fresh_store.make_image(BASE)
    port = loopback_http.server_address[1]
    containerfile = _fetching_containerfiles(port)["plain"].encode()
    r = make(fresh_store, allow_build_network=True).test_client().post(
        BUILD + "?t=localhost/fetched:1", data=context_tar({"Containerfile": containerfile}))
    assert r.status_code == 200 and b'"error"' not in r.data, r.data
    assert loopback_http.paths == ["/internal.txt"]
    assert file_in_image(fresh_store, "localhost/fetched:1", "/internal.txt") == b"internal only\n"


def test_local_add_and_copy_still_build_without_network(fresh_store):
    fresh_store.make_image(BASE)
    containerfile = ("FROM %s\nADD hello.txt /hello.txt\nCOPY hello.txt /copy.txt\nADD ./dir/ /dir/\n" % BASE).encode()
    r = make(fresh_store).test_client().post(BUILD + "?t=localhost/local:1", data=context_tar(
        {"Containerfile": containerfile, "hello.txt": b"hi\n", "dir/a": b"a"}))
    assert r.status_code == 200 and b'"error"' not in r.data, r.data
    assert file_in_image(fresh_store, "localhost/local:1", "/hello.txt") == b"hi\n"


def test_run_steps_get_no_network_unless_allowed():
    engine = BuildEngine(runner=None)
    assert "--network=none" in engine.argv("/ctx", [], BuildOptions())
    assert not any(a.startswith("--network") for a in engine.argv("/ctx", [], BuildOptions(network=True)))
    argv = engine.argv("/ctx", [], BuildOptions())
    assert argv.index("--network=none") < argv.index("--")


# -- point 10: the unpacked context is bounded -------------------------------

def test_context_bomb_is_413_and_leaves_nothing(fresh_store, scratch_tmp):
    """64 MiB of zeros gzip to ~64 KB: over --max-context-size 16M it is
    refused while unpacking, and the temp dir is empty afterwards."""
    fresh_store.make_image(BASE)
    bomb = gzip.compress(context_tar({"Containerfile": b"FROM %s\n" % BASE.encode(), "zeros": bytes(64 << 20)}), 9)
    assert len(bomb) < 1 << 20
    app = make(fresh_store, max_context_size=16 << 20, max_body_size=1 << 20)
    runner = app.extensions["podproxy"].runner
    calls = runner.calls
    r = app.test_client().post(BUILD, data=bomb)
    assert r.status_code == 413, r.data
    body = r.get_json()
    assert set(body) == ERROR_KEYS and body["response"] == 413 and "--max-context-size" in body["message"]
    assert runner.calls == calls
    assert os.listdir(scratch_tmp) == []


def test_context_with_too_many_members_is_413(fresh_store, scratch_tmp, monkeypatch):
    import podproxy.handlers.build

    monkeypatch.setattr(podproxy.handlers.build, "MAX_CONTEXT_MEMBERS", 50)
    files = {"Containerfile": b"FROM %s\n" % BASE.encode(), **{"f%03d" % n: b"" for n in range(100)}}
    r = make(fresh_store).test_client().post(BUILD, data=context_tar(files))
    assert r.status_code == 413 and "members" in r.get_json()["message"], r.data
    assert os.listdir(scratch_tmp) == []


def test_huge_extended_header_is_refused_before_it_is_read(fresh_store, scratch_tmp):
    """tarfile reads a pax header whole into memory: 64 MiB of it (64 KB
    gzipped) is refused from its size alone."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("Containerfile")
        info.pax_headers = {"comment": "x" * (64 << 20)}
        data = b"FROM %s\n" % BASE.encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    r = make(fresh_store).test_client().post(BUILD, data=gzip.compress(buf.getvalue()))
    assert r.status_code == 413 and "extended header" in r.get_json()["message"], r.data
    assert os.listdir(scratch_tmp) == []


def test_context_under_the_limit_builds(fresh_store, scratch_tmp):
    fresh_store.make_image(BASE)
    context = context_tar({"Containerfile": ("FROM %s\nCOPY data /data\n" % BASE).encode(), "data": bytes(1 << 20)})
    r = make(fresh_store, max_context_size=2 << 20).test_client().post(BUILD, data=context)
    assert r.status_code == 200 and b'"error"' not in r.data, r.data
    assert os.listdir(scratch_tmp) == []


# -- smaller: no server path in what the client reads; nothing written outside the context --

def _no_server_paths(data: bytes, scratch_tmp) -> None:
    text = data.decode("utf-8", "replace")
    assert str(scratch_tmp) not in text and "podproxy-%d-build" % os.getpid() not in text, text


def test_errors_name_files_as_the_client_knows_them(fresh_store, scratch_tmp):
    fresh_store.make_image(BASE)
    client = make(fresh_store).test_client()
    r = client.post(BUILD, data=context_tar({"hello.txt": b"x"}))  # no Containerfile
    assert r.status_code == 400
    assert "stat Containerfile: no such file or directory" in r.data.decode(), r.data
    _no_server_paths(r.data, scratch_tmp)
    r = client.post(BUILD + "?dockerfile=Other.cf", data=context_tar(
        {"Other.cf": ("FROM %s\nCOPY nope /nope\n" % BASE).encode()}))
    assert b'"error"' in r.data, r.data  # the build failed; its text names no server path
    _no_server_paths(r.data, scratch_tmp)


def test_members_leaving_the_context_write_nothing_outside(fresh_store, scratch_tmp):
    outside = scratch_tmp.parent
    before = sorted(p for p in outside.rglob("*"))
    client = make(fresh_store).test_client()
    for evil in ({"../../escaped": b"x"}, {"../../../escaped-up": b"x"}, {"a/../../../escaped-a": b"x"}):
        r = client.post(BUILD, data=context_tar({"Containerfile": b"FROM %s\n" % BASE.encode(), **evil}))
        assert r.status_code == 500 and "outside the build context" in r.get_json()["message"], r.data
        _no_server_paths(r.data, scratch_tmp)
    buf = io.BytesIO()  # a symlink out of the context, then a file through it
    with tarfile.open(fileobj=buf, mode="w") as tar:
        link = tarfile.TarInfo("up")
        link.type, link.linkname = tarfile.SYMTYPE, "../../.."
        tar.addfile(link)
        info = tarfile.TarInfo("up/escaped-link")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    r = client.post(BUILD, data=buf.getvalue())
    assert r.status_code == 500, r.data
    _no_server_paths(r.data, scratch_tmp)
    assert sorted(p for p in outside.rglob("*")) == before
    assert not os.path.exists(os.path.join(os.path.dirname(str(outside)), "escaped-up"))
    assert os.listdir(scratch_tmp) == []
    assert subprocess.run(["find", str(outside.parent), "-name", "escaped*"], capture_output=True,
                          text=True).stdout == ""


def test_compat_build_network_is_off_by_default(fresh_store, loopback_http):
    """Docker's ``POST /build`` starts podman build through the same gate:
    a remote ``ADD`` is refused before podman runs, and nothing is fetched."""
    fresh_store.make_image(BASE)
    port = loopback_http.server_address[1]
    app = make(fresh_store)
    runner = app.extensions["podproxy"].runner
    calls = runner.calls
    containerfile = "FROM %s\nADD http://127.0.0.1:%d/internal.txt /internal.txt\n" % (BASE, port)
    r = app.test_client().post("/v1.41/build", data=context_tar({"Dockerfile": containerfile.encode()}),
                               headers={"Content-Type": "application/x-tar"})
    assert r.status_code == 403, r.data
    assert "--allow-build-network" in r.get_json()["message"]
    assert runner.calls == calls, "podman ran"
    assert loopback_http.paths == []
