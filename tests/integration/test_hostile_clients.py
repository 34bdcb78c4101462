"""Slow, silent and early-refused clients against a live podproxy (issue 11,
points 5-7 and gunicorn's early errors): a few such clients must not stop
the service, and every answer reaches the client whole."""
from __future__ import annotations

import json
import os
import socket
import tempfile
import time

import pytest
from helpers import processes, start_podproxy, wait_until

HEADER_TIMEOUT = 2
BODY_TIMEOUT = 3


@pytest.fixture(scope="module")
def tmpdir_env():
    path = tempfile.mkdtemp(prefix="podproxy-hostile-tmp-")
    yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(store, tmpdir_env):
    """One worker with two threads: two stuck clients would be enough to
    stop it, if they held threads."""
    srv = start_podproxy(store, "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT),
                         "--max-body-size", "1M", workers=1, threads=2, env={"TMPDIR": tmpdir_env})
    yield srv
    srv.stop()


def upload_files(tmp: str) -> list:
    """Files the server left in its temp dir, but for its metrics."""
    return [os.path.join(d, f) for d, _, files in os.walk(tmp) if "metrics" not in d for f in files]


def ping_seconds(srv) -> float:
    start = time.monotonic()
    reply = srv.http.request("GET", "/_ping", timeout=5)
    assert reply.status == 200
    return time.monotonic() - start


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False


def connect(srv) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=10)


def read_answer(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_slow_headers_hold_no_thread_and_are_cut_at_the_deadline(server):
    slow = [connect(server) for _ in range(8)]
    try:
        for i, sock in enumerate(slow):
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow-%d: " % i)
        time.sleep(0.3)
        assert max(ping_seconds(server) for _ in range(4)) < 1.0
        started = time.monotonic()
        assert all(closed_by_server(sock, HEADER_TIMEOUT + 3) for sock in slow)
        assert time.monotonic() - started < HEADER_TIMEOUT + 3
    finally:
        for sock in slow:
            sock.close()


def test_silent_connections_hold_no_thread(server):
    silent = [connect(server) for _ in range(300)]  # more than a worker keeps waiting for a head
    try:
        time.sleep(0.3)
        assert max(ping_seconds(server) for _ in range(4)) < 1.0
    finally:
        for sock in silent:
            sock.close()


def test_a_kept_alive_client_that_stalls_mid_head_holds_no_thread(server):
    stalled = []
    try:
        for _ in range(4):
            sock = connect(server)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHo")  # the next request never ends its head
            stalled.append(sock)
        time.sleep(0.3)
        assert max(ping_seconds(server) for _ in range(4)) < 1.0
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_stalled_body_is_dropped_with_its_upload(server, store, tmpdir_env, chunked):
    sock = connect(server)
    try:
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: 900000"
        body = b"400\r\n" + b"x" * 1024 + b"\r\n" if chunked else b"x" * 1024
        sock.sendall(b"POST /v4.0.0/libpod/images/load HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n%s" % (framing, body))
        started = time.monotonic()
        wait_until(lambda: upload_files(tmpdir_env), 5)  # the upload is being written
        assert max(ping_seconds(server) for _ in range(3)) < 1.0
        assert closed_by_server(sock, BODY_TIMEOUT + 8)
        assert time.monotonic() - started < BODY_TIMEOUT + 8
    finally:
        sock.close()
    wait_until(lambda: not upload_files(tmpdir_env), 5)
    assert processes(store.path) == []  # podman was never started
    assert "podman_exit=-" in server.output().rsplit('"POST /v4.0.0/libpod/images/load"', 1)[1].split("\n", 1)[0]


def test_an_early_refusal_reaches_a_client_still_sending(server):
    """413 at once for a 4 MiB body (over --max-body-size): the client
    sends the rest of its body without a reset, then reads the whole
    answer (Go's client otherwise fails with "file already closed")."""
    sock = connect(server)
    try:
        sock.sendall(b"POST /v4.0.0/libpod/images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n")
        for _ in range(64):
            sock.sendall(b"\0" * 65536)  # raises ConnectionResetError/BrokenPipeError on a reset
            time.sleep(0.003)
        answer = read_answer(sock)
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["response"] == 413


@pytest.mark.parametrize("request_head, status", [
    (b"GET /_ping?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /_ping?x=" + b"a" * 70000, 414),  # never ends: cut at the head limit
    (b"GET /_ping HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"GET /_ping HTTP/1.1\r\n" + b"X-Big: " + b"v" * 70000, 431),
    (b"GET /_ping HTTP/1.1\r\nBad Header\r\n\r\n", 400),
], ids=["long-line", "endless-line", "many-headers", "endless-headers", "bad-header"])
def test_gunicorn_early_errors_come_in_podman_shape(server, request_head, status):
    sock = connect(server)
    try:
        sock.sendall(request_head)
        answer = read_answer(sock)
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)
    assert error["response"] == status and error["message"] and error["cause"]


def test_stalled_uploads_leave_threads_to_requests_without_a_body(server):
    """With two threads, one stalled upload is all the uploads may hold:
    another body is refused with 503 at once, and /_ping is still served."""
    stalled = connect(server)
    try:
        stalled.sendall(b"POST /v4.0.0/libpod/images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\nxx")
        time.sleep(0.3)
        start = time.monotonic()
        reply = server.http.request("POST", "/v4.0.0/libpod/images/load", body=b"not a tar", timeout=10)
        assert time.monotonic() - start < 1.0
        assert reply.status == 503 and reply.json()["response"] == 503
        assert max(ping_seconds(server) for _ in range(4)) < 1.0
    finally:
        stalled.close()


def test_the_shipped_nginx_bounds_slow_heads_and_bodies():
    import re

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "nginx.conf")) as f:
        conf = f.read()
    conf = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    for directive in ("client_header_timeout", "client_body_timeout"):
        values = re.findall(r"\b%s\s+(\d+)s;" % directive, conf)
        assert values and all(int(v) <= 60 for v in values), directive


def test_a_burst_of_silent_connections_does_not_starve_the_accept(store):
    """Two workers (the fair-share accept): 600 connections opened at once
    used to be accepted at ~20/s, and a client behind them waited that long."""
    srv = start_podproxy(store, "--header-timeout", "30", workers=2, threads=4)
    silent = []
    try:
        for _ in range(8):
            ping_seconds(srv)  # every worker has answered once (its first /_ping runs podman)
        silent = [connect(srv) for _ in range(600)]
        start = time.monotonic()
        reply = srv.http.request("GET", "/_ping", timeout=30)
        assert reply.status == 200 and time.monotonic() - start < 3.0
    finally:
        for sock in silent:
            sock.close()
        srv.stop()
