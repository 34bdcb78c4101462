"""The two servers the bench compares, on loopback TCP, and its one-shot
HTTP client.

* podman's own ``podman system service --time=0 tcp://127.0.0.1:PORT``;
* ``podproxy serve`` with its defaults (2 workers, 16 threads, answer cache
  on): only the bind address, the podman binary and the store's options are
  given; ``*flags`` adds options (``--cache off`` for the uncached figures).

Both run on the same isolated store (tests/helpers.py ``Store``), in their
own process group, stopped by ``Server.stop``. The client sends one request
on a new connection (a file body with ``sendfile``: the client must not be
the bottleneck of a 512 MB load) and reads the whole answer into a reused
buffer, timing the first body byte and the end.
"""
from __future__ import annotations

import http.client
import os
import socket
import sys
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from helpers import HTTP, PODMAN, Server, Store, free_port

V = "/v4.3.1/libpod"


def start_service(store: Store) -> Server:
    port = free_port()
    server = Server(store.argv("system", "service", "--time=0", f"tcp://127.0.0.1:{port}"), HTTP(port=port))
    server.port = port
    return server


def start_podproxy(store: Store, *flags: str) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "podproxy", "serve", "--bind", f"127.0.0.1:{port}", "--podman=" + PODMAN,
            "--log-level", "warning", *["--podman-option=" + o for o in store.options], *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPROXY_")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    server = Server(argv, HTTP(port=port), env=env)
    server.port = port
    return server


@dataclass
class Answer:
    status: int
    size: int  # body bytes
    first_byte: float  # seconds from the request's start to the first body byte (or the end if none)
    total: float  # seconds from the request's start to the last body byte
    tail: bytes  # the body's last 4 KiB (to find a streamed error)

    def failed(self, *ok: int) -> bool:
        """Not one of the ``ok`` statuses, or a streamed ``"error"`` in the
        tail (pull, push and build answer 200 and then report failures in
        the stream)."""
        return self.status not in ok or b'"error"' in self.tail


_BUFFER = bytearray(1 << 20)


def request(server: Server, method: str, target: str, body: bytes | None = None, body_path: str | None = None,
            headers: dict | None = None, timeout: float = 900) -> Answer:
    """One request on a new TCP connection, answer read to the end."""
    start = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        hdrs = {"Host": "127.0.0.1", **(headers or {})}
        size = len(body) if body is not None else os.path.getsize(body_path) if body_path else None
        if size is not None:
            hdrs["Content-Length"] = str(size)
        fields = "".join("{}: {}\r\n".format(*kv) for kv in hdrs.items())
        head = f"{method} {target} HTTP/1.1\r\n{fields}\r\n"
        sock.sendall(head.encode("latin-1") + (body or b""))
        if body_path:
            with open(body_path, "rb") as f:
                sock.sendfile(f)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        view, got, first, tail = memoryview(_BUFFER), 0, None, b""
        while True:
            n = resp.readinto(view)
            if not n:
                break
            if first is None:
                first = time.perf_counter() - start
            got += n
            tail = (tail + bytes(view[:n]))[-4096:] if n < 4096 else bytes(view[n - 4096:n])
        end = time.perf_counter() - start
        resp.close()
        return Answer(resp.status, got, end if first is None else first, end, tail)
    finally:
        sock.close()
