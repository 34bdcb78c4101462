"""`podproxy serve` as users start it: unix sockets, several binds,
PODPROXY_* variables."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
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


NOBODY_CONNECT = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX)\n"
                  "try:\n"
                  "    s.connect(sys.argv[1])\n"
                  "except PermissionError:\n"
                  "    sys.exit(13)\n"
                  "s.sendall(b'GET /_ping HTTP/1.0\\r\\n\\r\\n')\n"
                  "sys.exit(0 if s.recv(100).startswith(b'HTTP/1.') else 1)\n")


def _connect_as_nobody(sock: str) -> int:
    """Exit code of a connect (and /_ping) to ``sock`` as user nobody,
    group nogroup: 13 for permission denied, 0 for served."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "/usr/bin/python3", "-c", NOBODY_CONNECT, sock], timeout=30).returncode


def _serve_unix(store, *extra):
    """podproxy on a unix socket in a directory anyone may enter (so only
    the socket's own mode decides), the modes the socket had while the
    server started (watched in a tight loop), and the socket path."""
    import tempfile
    import threading

    directory = tempfile.mkdtemp(prefix="podproxy-sock-")
    os.chmod(directory, 0o755)
    sock = os.path.join(directory, "podproxy.sock")
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            try:
                seen.add(os.stat(sock).st_mode & 0o7777)
            except FileNotFoundError:
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    argv = [sys.executable, "-m", "podproxy", "serve", "--bind", "unix:" + sock, "--workers", "1",
            *["--podman-option=%s" % o for o in store.options], *extra]
    env = {k: v for k, v in os.environ.items() if k != "PODPROXY_BIND"}
    try:
        server = Server(argv, HTTP(unix=sock), env=env)
    finally:
        done.set()
        watcher.join(10)
    return server, sock, seen, directory


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
@pytest.mark.parametrize("extra, mode, group, nobody_served", [
    ((), 0o600, None, False),                                        # the default: owner only
    (("--socket-group", "nogroup"), 0o660, "nogroup", True),          # the group may connect
    (("--socket-group", "www-data"), 0o660, "www-data", False),       # nobody is not in www-data
    (("--socket-mode", "0640"), 0o640, None, False),
])
def test_unix_socket_mode_and_group(store, extra, mode, group, nobody_served):
    """Issue 11 point 2: the socket is 0600 by default (0660 with
    --socket-group, --socket-mode to choose), never more open than that,
    not even for a moment while the server starts; user nobody cannot
    connect unless the mode lets it."""
    import grp
    import shutil
    import stat

    server, sock, seen, directory = _serve_unix(store, *extra)
    try:
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode) and st.st_mode & 0o7777 == mode
        assert st.st_gid == (grp.getgrnam(group).gr_gid if group else os.getegid())
        assert all(m & ~mode == 0 for m in seen), sorted(oct(m) for m in seen)  # never wider than asked
        assert _connect_as_nobody(sock) == (0 if nobody_served else 13)
        assert server.http.request("GET", "/_ping").status == 200  # its owner (root) is served
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
def test_socket_mode_can_open_it_to_everyone(store):
    """The control of the test above: with --socket-mode 0666 the same
    connect as nobody is served, so 13 above is the mode's doing."""
    import shutil

    server, sock, _, directory = _serve_unix(store, "--socket-mode", "0666")
    try:
        assert os.stat(sock).st_mode & 0o777 == 0o666
        assert _connect_as_nobody(sock) == 0
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("flag, value, message", [
    ("--socket-group", "no-such-group-x", "no such group"),
    ("--socket-mode", "0999", "not a socket mode"),
    ("--socket-mode", "rw-rw----", "not a socket mode"),
])
def test_bad_socket_settings_are_refused(flag, value, message):
    proc = subprocess.run([sys.executable, "-m", "podproxy", "serve", "--bind", "unix:/nonexistent/x.sock",
                           flag, value], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr
