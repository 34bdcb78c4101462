"""The first requests to a fresh server: podman's version is asked once,
however many requests need it at the same time (issue 14: 16 simultaneous
first requests each ran ``podman version`` and waited ~1 s)."""
from __future__ import annotations

import sys
import threading

from helpers import HTTP, PODMAN, Server, free_port, metric


def test_simultaneous_first_requests_ask_podman_version_once(store):
    port = free_port()
    argv = [sys.executable, "-m", "podproxy", "serve", "--bind", "127.0.0.1:%d" % port, "--workers", "1",
            "--threads", "20", "--podman=" + PODMAN, *("--podman-option=%s" % o for o in store.options)]
    server = Server(argv, HTTP(port=port), ready=("/healthz", (200,)))  # /healthz never asks podman
    try:
        start = threading.Barrier(16)
        statuses = []

        def first_request():
            start.wait(10)
            statuses.append(server.http.request("GET", "/v4.0.0/libpod/_ping", timeout=60).status)

        threads = [threading.Thread(target=first_request) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert statuses == [200] * 16
        text = server.http.request("GET", "/metrics").body.decode()
        assert metric(text, "podproxy_podman_invocations_total", subcommand="version", exit_code="0") == 1
    finally:
        server.stop()
