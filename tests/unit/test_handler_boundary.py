"""Handlers know HTTP, the engine knows podman: no handler unpacks a tar,
fetches a URL or builds a podman argv; the engine does (``engine.context``,
``engine.fetch``)."""
import ast
import http.server
import os
import threading

import pytest

from podproxy.engine import context, fetch

from .sources import module_nodes

HANDLERS = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy", "handlers")


def test_no_handler_unpacks_fetches_or_saves():
    found = []
    for name, node in module_nodes("handlers"):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            found += [(name, m) for m in modules if m.split(".")[0] in ("requests", "tarfile", "urllib3")]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                (node.value.id, node.attr) in {("contexts", "unpack"), ("uploads", "save"), ("requests", "get")}:
            found.append((name, "%s.%s" % (node.value.id, node.attr)))
    assert not found, found


@pytest.fixture
def http_body():
    """A loopback HTTP server answering GET with ``size`` bytes."""
    class Handler(http.server.BaseHTTPRequestHandler):
        size = 0

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(self.size))
            self.end_headers()
            self.wfile.write(b"x" * self.size)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def url(size):
        Handler.size = size
        return "http://127.0.0.1:%d/x.tar" % server.server_address[1]

    yield url
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_fetch_bounds_the_body(http_body):
    assert b"".join(fetch.fetch(http_body(1000), limit=1000)) == b"x" * 1000
    with pytest.raises(fetch.TooLarge) as err:
        b"".join(fetch.fetch(http_body(200_000), limit=100_000))
    assert err.value.limit == 100_000 and err.value.kind == "bad input"


def test_fetch_failure_is_an_engine_error():
    with socket_closed_port() as port, pytest.raises(fetch.FetchFailed) as err:
        fetch.fetch("http://127.0.0.1:%d/x" % port)
    assert err.value.message.startswith("fetching http://127.0.0.1:%d/x: " % port)
    assert not hasattr(err.value, "status")


class socket_closed_port:
    """A loopback port nothing listens on (bound, never listening)."""

    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def test_receive_unpacks_and_removes_the_tarball(tmp_path):
    import io
    import tarfile

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("Containerfile")
        info.size = 12
        tar.addfile(info, io.BytesIO(b"FROM scratch"))
    built = context.receive(iter([data.getvalue()]), str(tmp_path))
    assert built == str(tmp_path / "build") and sorted(os.listdir(tmp_path)) == ["build"]
    assert (tmp_path / "build" / "Containerfile").read_bytes() == b"FROM scratch"


def test_no_handler_builds_a_podman_command_line():
    """podman's argv is the engine's: no handler calls the runner."""
    found = [(name, n.lineno) for name, n in module_nodes("handlers") if isinstance(n, ast.Attribute)
             and n.attr == "runner"]
    assert not found, found


def test_the_engine_imports_no_http_layer():
    """engine/ depends on gocompat/ and itself only: not on web/, handlers/,
    security/ or Flask (it chooses no status and reads no request)."""
    engine = os.path.join(HANDLERS, "..", "engine")
    found = []
    for root, _, files in os.walk(engine):
        for name in files:
            if not name.endswith(".py"):
                continue
            tree = ast.parse(open(os.path.join(root, name)).read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if module.split(".")[0] in ("web", "handlers", "security", "flask", "werkzeug") or \
                            module.startswith("podproxy.") and module.split(".")[1] in ("web", "handlers", "security"):
                        found.append((name, module))
                elif isinstance(node, ast.Import):
                    found += [(name, a.name) for a in node.names if a.name.split(".")[0] in ("flask", "werkzeug")]
    assert not found, found


def test_client_gone_never_waits_on_a_socket_with_a_timeout():
    """The engine asks the handler's cancel callable every 0.2 s: the peek
    must not wait (gunicorn's worker gives the socket a timeout)."""
    import socket
    import time

    from podproxy.handlers.transfers import client_gone

    ours, client = socket.socketpair()
    ours.settimeout(5)
    try:
        started = time.monotonic()
        assert not client_gone(ours)
        client.sendall(b"GET / HTTP/1.1\r\n")  # a pipelined request is not a hang-up
        assert not client_gone(ours)
        assert time.monotonic() - started < 1
        ours.recv(100)
        client.close()
        assert client_gone(ours)
    finally:
        ours.close()
        client.close()
