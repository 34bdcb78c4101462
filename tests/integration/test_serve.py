"""`podproxy serve` as users start it: unix sockets, several binds,
PODPROXY_* variables."""
from __future__ import annotations

import os
import subprocess
import sys

from helpers import HTTP, Server, free_port


def test_serve_on_unix_socket_and_tcp_from_env(store, tmp_path):
    sock = str(tmp_path / "podproxy.sock")
    port = free_port()
    env = dict(os.environ, PODPROXY_BIND="unix:%s,127.0.0.1:%d" % (sock, port),
               PODPROXY_PODMAN_OPTION=" ".join(store.options), PODPROXY_WORKERS="1")
    server = Server([sys.executable, "-m", "podproxy", "serve"], HTTP(unix=sock), env=env)
    try:
        for http in (HTTP(unix=sock), HTTP(port=port)):
            reply = http.request("GET", "/v4.3.1/libpod/images/localhost%2Fpodproxy%2Fbase:1/exists")
            assert reply.status == 204
            assert reply.headers["libpod-api-version"] == "4.3.1"
    finally:
        server.stop()


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, "-m", "podproxy", "serve", "--help"], capture_output=True, text=True).stdout
    for flag in ("--bind", "--podman", "--podman-option", "--workers", "--threads", "--podman-timeout"):
        assert flag in out
    assert "PODPROXY_BIND" in out


def test_bad_setting_is_a_clear_error():
    proc = subprocess.run([sys.executable, "-m", "podproxy", "serve"], capture_output=True, text=True,
                          env=dict(os.environ, PODPROXY_WORKERS="many"))
    assert proc.returncode == 2 and "PODPROXY_WORKERS" in proc.stderr
