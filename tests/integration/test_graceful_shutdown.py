"""Stopping ``podproxy serve`` during a 200 MB export: SIGTERM lets the
export finish within --graceful-timeout; the timeout, or a second SIGTERM,
ends it; no podman child outlives the server. And /metrics counts the
transfer while it runs."""
import http.client
import io
import os
import signal
import tarfile
import time

import pytest
from conftest import BIG
from helpers import metric, processes, start_podproxy, wait_until

EXPORT = "/v4.3.1/libpod/images/%s/get?format=docker-archive" % BIG.replace("/", "%2F")


def open_export(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("GET", EXPORT)
    resp = conn.getresponse()
    assert resp.status == 200
    return conn, resp


def podman_gone(store, timeout=10.0):
    try:
        wait_until(lambda: not processes(store.path), timeout)
    except AssertionError:
        return False
    return True


def exited_within(server, seconds) -> float:
    start = time.monotonic()
    server.proc.wait(timeout=seconds)
    return time.monotonic() - start


def test_sigterm_lets_a_running_export_finish(big_store):
    server = start_podproxy(big_store, "--graceful-timeout", "60", workers=1)
    try:
        conn, resp = open_export(server)
        body = io.BytesIO()
        body.write(resp.read(1 << 20))
        # the transfer is visible while it runs
        assert metric(server.http.request("GET", "/metrics").text, "podproxy_transfers_in_flight") == 1
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        while True:  # a slow reader: the rest takes a while
            chunk = resp.read(8 << 20)
            if not chunk:
                break
            body.write(chunk)
            time.sleep(0.05)
        conn.close()
        body.seek(0)
        with tarfile.open(fileobj=body) as tar:  # whole: a truncated archive raises
            names = tar.getnames()
        assert "manifest.json" in names
        assert body.getbuffer().nbytes > 200 << 20
        assert exited_within(server, 15) < 15  # once the export is done, not after 60 s
        assert server.proc.returncode == 0
        assert podman_gone(big_store)
        log = server.output()
        assert "/images/%s/get" % BIG.replace("/", "%2F") in log and "complete=True" in log
    finally:
        server.stop()


def _stall_then_stop(big_store, graceful, second_term, tmp_path):
    """The worker is killed in the middle of the export: its scratch dir
    (podman's staging, ~200 MB here) is removed by the master all the same."""
    server = start_podproxy(big_store, "--graceful-timeout", str(graceful), workers=1,
                            env={"TMPDIR": str(tmp_path)})
    try:
        conn, resp = open_export(server)
        resp.read(1 << 20)  # then stop reading: the export cannot finish
        server.proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        if second_term:
            time.sleep(1)
            server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=graceful + 20)
        took = time.monotonic() - start
        with pytest.raises((http.client.IncompleteRead, OSError)):
            while resp.read(8 << 20):
                pass
            raise http.client.IncompleteRead(b"")  # the body ended cleanly: it must not
        conn.close()
        assert podman_gone(big_store), processes(big_store.path)
        assert [n for n in os.listdir(tmp_path) if not n.startswith("podproxy-metrics")] == []
        return took
    finally:
        server.stop()


def test_graceful_timeout_ends_a_stalled_export(big_store, tmp_path):
    took = _stall_then_stop(big_store, graceful=3, second_term=False, tmp_path=tmp_path)
    assert 2.5 < took < 12, took


def test_second_sigterm_ends_it_at_once(big_store, tmp_path):
    took = _stall_then_stop(big_store, graceful=120, second_term=True, tmp_path=tmp_path)
    assert took < 12, took  # far from the 120 s graceful timeout
