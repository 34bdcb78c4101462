"""Graceful closes in a worker's event loop: the write side is shut (the
client reads the answer and an end), then what the client still sends is read
and discarded until it closes, ``LINGER_BYTES`` or ``LINGER_SECONDS``, so the
client reads an early answer (413, 401, 400 while it still sends its body)
instead of a reset.
"""
from __future__ import annotations

import collections
import selectors
import socket
import time
from functools import partial

LINGER_BYTES = 8 << 20  # bytes read and discarded from a client after its connection's last answer
LINGER_SECONDS = 2.0  # ... for at most this long
LINGERING_MAX = 256  # connections per worker in that graceful close


class GracefulCloses:
    """The connections of one worker being closed gracefully; ``worker.poller`` (gunicorn's
    selector, made once the worker runs) watches them. Oldest first: one more than
    ``LINGERING_MAX`` ends the oldest at once."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self._lingering: collections.OrderedDict = collections.OrderedDict()  # conn -> [deadline, discarded]

    def start(self, conn) -> None:
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            conn.sock.close()
            return
        if len(self._lingering) >= LINGERING_MAX:
            self._end(next(iter(self._lingering)))
        self._lingering[conn] = [time.monotonic() + LINGER_SECONDS, 0]
        self.worker.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_data, conn))
        self._on_data(conn)

    def _on_data(self, conn, _fileobj=None):
        state = self._lingering.get(conn)
        if state is None:
            return
        while True:
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            state[1] += len(data)
            if not data or state[1] > LINGER_BYTES:
                self._end(conn)
                return

    def _end(self, conn):
        self._lingering.pop(conn, None)
        try:
            self.worker.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        conn.sock.close()

    def expire(self, now: float) -> None:
        """End the graceful closes past their ``LINGER_SECONDS``."""
        while self._lingering:
            conn, (deadline, _) = next(iter(self._lingering.items()))
            if deadline > now:
                break
            self._end(conn)
