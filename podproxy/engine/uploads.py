"""Uploads (load, import): the request body written to a file in the
command's scratch dir, which podman then reads (``--input``, or the path
for ``import``).

podman stages its stdin in a temp file before it reads an archive anyway
(``image load`` and ``image import`` need a file they can seek in), so
feeding its stdin only put a pipe and podman's 32 KiB copy loop between the
client and that file. podproxy writes the file itself:

* a body of known length still in the client's socket (``SocketBody``) is
  moved by the kernel, socket to pipe to file with ``os.splice``: the bytes
  never pass through Python;
* any other body (chunked, Flask's test client, a URL download) is written
  chunk by chunk.

(What this saved: docs/performance.md.)

Nothing of the body is held in memory, and podman does not start before
the whole body is there: a client that goes away half way (``ClientGone``)
or a body over the size limit leaves podman unstarted and the scratch dir
removed with the partial file.
"""
from __future__ import annotations

import os
import select
import socket
from collections.abc import Callable, Iterable

from .podman.errors import ClientGone
from .podman.process import PIPE_SIZE, grow_pipe


class SocketBody:
    """A request body of ``length`` bytes still in the client's socket;
    ``head`` is what the server had already read of it past the headers,
    and ``taken(n)`` is told of every byte moved (the server's own body
    accounting)."""

    def __init__(self, sock: socket.socket, head: bytes, length: int, taken: Callable[[int], None]):
        self.sock, self.head, self.length, self.taken = sock, head, length, taken

    def save(self, fd: int) -> None:
        """Everything into ``fd`` (a file); ``ClientGone`` if it ends early."""
        _write_all(fd, self.head)
        self.taken(len(self.head))
        left = self.length - len(self.head)
        if not left:
            return
        read_end, write_end = os.pipe()
        try:
            grow_pipe(write_end)
            sock_fd = self.sock.fileno()
            while left:
                try:
                    n = os.splice(sock_fd, write_end, min(left, PIPE_SIZE))
                except BlockingIOError:  # a socket with a timeout is non-blocking underneath
                    if not select.select([sock_fd], [], [], self.sock.gettimeout())[0]:
                        raise ClientGone() from None
                    continue
                if n == 0:
                    raise ClientGone()
                moved = 0
                while moved < n:
                    moved += os.splice(read_end, fd, n - moved)
                left -= n
                self.taken(n)
        finally:
            os.close(read_end)
            os.close(write_end)


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def save(body: SocketBody | Iterable[bytes], path: str) -> None:
    """Write ``body`` to a new file at ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        if isinstance(body, SocketBody):
            body.save(fd)
        else:
            for chunk in body:
                _write_all(fd, chunk)
    finally:
        os.close(fd)
