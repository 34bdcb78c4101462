"""Transfers through a real ``podproxy serve`` (gunicorn): what only a
real connection shows. A client that hangs up gets its podman child killed
and the temp files removed; a failure after the first byte cuts the
chunked body short; an over-limit chunked upload is refused while it
streams, and nothing reaches storage."""
from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import socket
import stat
import tarfile
import tempfile
import textwrap
import time

import pytest
from helpers import Store, processes, random_rootfs, start_podproxy, tar_members, wait_until

V = "/v4.3.1/libpod"
BIG = "localhost/streams/big:1"
SIZE = 24 << 20  # big enough to outlast socket buffers, small enough for CI


@pytest.fixture(scope="module")
def big_store():
    s = Store.create()
    tar = random_rootfs(os.path.join(s.path, "big.tar"), SIZE)
    s.big_id = s.out("import", "-q", tar, BIG).strip().split(":", 1)[-1]
    os.unlink(tar)
    yield s
    s.destroy()


@pytest.fixture(scope="module")
def server(big_store):
    """podproxy with TMPDIR of its own: podman and podproxy temp files land
    there, so "nothing left behind" can be checked."""
    tmp = tempfile.mkdtemp(prefix="podproxy-tmp-")
    srv = start_podproxy(big_store, "--max-body-size=8M", env={"TMPDIR": tmp})
    srv.tmp = tmp
    yield srv
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def raw_request(port, target, method="GET", headers=()) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: d", *headers, "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


def leftovers(server) -> list:
    """What is in the server's TMPDIR besides its own metrics dir."""
    return [n for n in os.listdir(server.tmp) if not n.startswith("podproxy-metrics")]


def saves(store):
    return [c for c in processes(store.path) if " save " in c]


def loads(store):
    return [c for c in processes(store.path) if " load" in c]


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-dir"])
def test_disconnect_mid_stream_kills_podman_and_cleans_up(big_store, server, fmt):
    sock = raw_request(server.port, "%s/images/%s/get?format=%s" % (V, BIG, fmt))
    got = b""
    while len(got) < 256 * 1024:  # the headers and a good part of the archive
        chunk = sock.recv(65536)
        assert chunk, got[:300]
        got += chunk
    assert got.startswith(b"HTTP/1.1 200")
    sock.close()
    wait_until(lambda: not saves(big_store), timeout=5)
    wait_until(lambda: leftovers(server) == [], timeout=5)


def test_disconnect_before_first_byte_kills_podman(big_store, server):
    """oci-archive: podman stages the whole archive before its first byte;
    the hang-up is seen on the socket meanwhile, not at the first write."""
    sock = raw_request(server.port, "%s/images/%s/get" % (V, BIG))
    wait_until(lambda: saves(big_store), timeout=5, step=0.01)
    sock.close()
    wait_until(lambda: not saves(big_store), timeout=3)
    wait_until(lambda: leftovers(server) == [], timeout=5)


def test_export_streams_to_the_end(big_store, server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("GET", "%s/images/%s/get?format=docker-archive" % (V, BIG))
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    assert len(resp.read()) > SIZE
    conn.close()
    assert not saves(big_store) and leftovers(server) == []



@pytest.mark.parametrize("fmt", ["oci-dir", "docker-dir"])
def test_directory_formats_announce_their_length(big_store, server, fmt):
    """A directory export is a tar made on the fly whose length is known
    once podman is done: the Content-Length must be exactly the bytes sent
    (gunicorn would silently cut a longer body short), and the tar whole."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("GET", V + "/images/%s/get?format=%s" % (BIG, fmt))
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") is None
    assert int(resp.getheader("Content-Length")) == len(data)
    assert data.endswith(b"\0" * 1024)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        sizes = {m.name: m.size for m in tar.getmembers()}
    assert sum(sizes.values()) > SIZE, sizes  # the layer is in it
    wait_until(lambda: leftovers(server) == [], timeout=5)

def chunked_upload(port, target, chunks, close_early=False):
    sock = raw_request(port, target, "POST", ["Transfer-Encoding: chunked"])
    try:
        for chunk in chunks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if close_early:
            return None
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered 413 and closed while we were still sending
    finally:
        if close_early:
            sock.close()
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def test_chunked_upload_over_the_limit(big_store, server):
    before = big_store.image_ids()
    block = os.urandom(1 << 20)
    reply = chunked_upload(server.port, V + "/images/load", [block] * 12)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    assert b'"response":413' in reply
    wait_until(lambda: not loads(big_store), timeout=5)
    wait_until(lambda: leftovers(server) == [], timeout=5)
    assert big_store.image_ids() == before


def test_client_gone_during_upload(big_store, server):
    big_store.make_image("localhost/streams/up:1", marker="upload")
    data = big_store.podman("image", "save", "--format", "docker-archive", "localhost/streams/up:1").stdout
    big_store.podman("rmi", "localhost/streams/up:1")
    before = big_store.image_ids()
    chunked_upload(server.port, V + "/images/load", [data[: len(data) // 2]], close_early=True)
    wait_until(lambda: not loads(big_store), timeout=5)
    wait_until(lambda: leftovers(server) == [], timeout=5)
    assert big_store.image_ids() == before


def test_content_length_upload_cut_short_imports_nothing(big_store, server):
    """A rootfs cut at a tar block boundary would still import: podman
    must never see a body shorter than its Content-Length."""
    with open(big_store.rootfs_tar({"cut": b"short"}), "rb") as f:
        rootfs = f.read()
    before = big_store.image_ids()
    sock = raw_request(server.port, V + "/images/import?reference=localhost/streams/cut:1", "POST",
                       ["Content-Length: %d" % (len(rootfs) + 10240)])
    sock.sendall(rootfs)
    sock.shutdown(socket.SHUT_WR)
    sock.recv(65536)
    sock.close()
    wait_until(lambda: not [c for c in processes(big_store.path) if " import" in c], timeout=5)
    assert big_store.image_ids() == before



def read_reply(sock, buf=b""):
    """One HTTP/1.1 answer with a Content-Length: (status, body, what follows)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        assert data, "connection closed before an answer: %r" % buf[:200]
        buf += data
    head, _, buf = buf.partition(b"\r\n\r\n")
    length = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0])
    while len(buf) < length:
        buf += sock.recv(65536)
    return int(head.split()[1]), buf[:length], buf[length:]


def test_content_length_uploads_keep_the_connection_in_step(big_store, server):
    """A load with a Content-Length is moved from the socket by the kernel,
    past gunicorn's reader: gunicorn must still know where the body ends.
    Two loads and a ping pipelined in one write on one connection get three
    right answers, and the byte count of the access metrics is the bodies'."""
    big_store.make_image("localhost/streams/ka:1", marker="keepalive")
    data = big_store.podman("image", "save", "--format", "docker-archive", "localhost/streams/ka:1").stdout
    big_store.podman("rmi", "localhost/streams/ka:1")
    request = ("POST %s/images/load HTTP/1.1\r\nHost: d\r\nContent-Length: %d\r\n\r\n"
               % (V, len(data))).encode() + data
    sock = socket.create_connection(("127.0.0.1", server.port))
    try:
        sock.sendall(request + request + b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        rest = b""
        for _ in range(2):
            status, body, rest = read_reply(sock, rest)
            assert status == 200, body
            assert json.loads(body) == {"Names": ["localhost/streams/ka:1"]}
        status, body, rest = read_reply(sock, rest)
        assert (status, body, rest) == (200, b"OK", b"")
    finally:
        sock.close()
    assert leftovers(server) == []


def test_content_length_upload_abandoned_starts_no_podman(big_store, server):
    """The client hangs up half way through a load with a Content-Length:
    podman never starts, the partial file is removed, nothing is loaded."""
    big_store.make_image("localhost/streams/gone:1", marker="gone")
    data = big_store.podman("image", "save", "--format", "docker-archive", "localhost/streams/gone:1").stdout
    big_store.podman("rmi", "localhost/streams/gone:1")
    before = big_store.image_ids()
    sock = raw_request(server.port, V + "/images/load", "POST", ["Content-Length: %d" % len(data)])
    sock.sendall(data[: len(data) // 2])
    wait_until(lambda: leftovers(server) != [], timeout=5)  # the upload is being written
    sock.close()
    wait_until(lambda: leftovers(server) == [], timeout=5)
    assert not loads(big_store)
    assert big_store.image_ids() == before


# -- what the real podman cannot be made to do on demand: a fake one ----------

@pytest.fixture
def fake_server(big_store, tmp_path):
    """podproxy whose podman fails after 200 KB of a save, or stays
    silent for a minute; everything else goes to the real podman."""
    fake = tmp_path / "podman"
    fake.write_text(textwrap.dedent("""\
        #!/bin/sh
        case "$*" in
          *" save "*nope-late*) head -c 204800 /dev/zero; echo "Error: boom" >&2; exit 125;;
          *" save "*nope-silent*) exec sleep 59.5;;
        esac
        exec podman "$@"
        """))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    srv = start_podproxy(big_store, "--podman", str(fake))
    yield srv
    srv.stop()


def test_failure_after_first_byte_truncates_the_body(fake_server):
    conn = http.client.HTTPConnection("127.0.0.1", fake_server.port, timeout=30)
    conn.request("GET", V + "/images/nope-late/get?format=docker-archive")
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()


def test_silent_podman_is_killed_when_the_client_hangs_up(fake_server):
    sock = raw_request(fake_server.port, V + "/images/nope-silent/get?format=docker-archive")
    wait_until(lambda: processes("59.5", argv0="sleep"), timeout=5, step=0.01)
    time.sleep(0.2)
    sock.close()
    start = time.monotonic()
    wait_until(lambda: not processes("59.5", argv0="sleep"), timeout=3)
    assert time.monotonic() - start < 2.5


# -- streaming, not buffering: the first byte while podman still writes ------

THROTTLE = 3.0


@pytest.fixture
def throttled_server(big_store, tmp_path):
    """podproxy whose ``podman save`` is the real one, piped through a
    throttle: its first 64 KiB go out at once, the rest after THROTTLE s.
    The archive is whole; only the timing is changed. ``done`` appears when
    the save pipeline is over."""
    fake, done = tmp_path / "podman", tmp_path / "done"
    fake.write_text(textwrap.dedent("""\
        #!/bin/sh
        case "$*" in
          *" save "*) podman "$@" | {{ dd bs=65536 count=1 iflag=fullblock 2>/dev/null; sleep {t}; cat; }}
                      touch {done}; exit 0;;
        esac
        exec podman "$@"
        """).format(t=THROTTLE, done=done))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    srv = start_podproxy(big_store, "--podman", str(fake))
    srv.done = done
    yield srv
    srv.stop()


@pytest.mark.parametrize("target", ["/images/%s/get?format=docker-archive" % BIG,
                                    "/images/export?format=docker-archive&references=%s" % BIG])
def test_first_byte_arrives_while_save_still_runs(big_store, throttled_server, target):
    conn = http.client.HTTPConnection("127.0.0.1", throttled_server.port, timeout=60)
    start = time.monotonic()
    conn.request("GET", V + target)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    first = resp.read1(65536)
    first_at = time.monotonic() - start
    assert first, "no first byte"
    still_running = saves(big_store) and not throttled_server.done.exists()
    rest = resp.read()
    end_at = time.monotonic() - start
    conn.close()
    assert still_running, "the first byte came only after podman save was over"
    assert end_at - first_at >= THROTTLE - 0.5, (first_at, end_at)  # the throttle's wait came after it
    archive = first + rest
    assert len(archive) > SIZE and "manifest.json" in tar_members(archive)  # the throttle changed only timing
