"""gunicorn's gthread worker, with keep-alive connections shared fairly
among the workers, a thread only for a whole request head, and graceful
closes in the event loop.

* Fair share: a worker accepts only while it holds at most ``MARGIN``
  connections above the least loaded other live worker (``fairshare``).
* A thread that has answered a keep-alive request waits up to ``LINGER``
  for that client's next one and serves it at once, while other threads are
  free, instead of handing the connection back to the poller in between.
* A connection goes to a thread only once its whole request head is there:
  the event loop reads what a new or kept-alive connection sends into its
  own buffer until the blank line that ends the head (at most ``HEAD_MAX``
  bytes, else 431/414 from the loop), and closes it if the head is not
  complete ``--header-timeout`` seconds after it started. At most
  ``WAITING_MAX`` connections wait for their head per worker; one more
  closes the one that has waited longest. Slow or silent clients so never
  hold the threads that serve requests.
* Every read and write of a request in a thread has ``--body-timeout``: a
  body that makes no progress that long fails (the upload is dropped). And
  requests with a body hold at most all threads but ``FREE_OF_BODIES``;
  one more is answered 503 (``bodyslots``).
* A connection that ends after an answer (an early 413/401/400 while the
  client still sends its body, a parse error) is closed gracefully in the
  event loop: write side shut, then what the client sends is read and
  discarded (bounded in bytes and time: ``closing``) until it closes, so the
  client reads the answer instead of a reset.
* gunicorn's own early errors (414, 431, 400...) come in podman's JSON
  error shape instead of HTML.

Why and what it measured: docs/production.md (gunicorn); hostile clients: docs/abuse.md.
"""
from __future__ import annotations

import collections
import errno
import selectors
import threading
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from . import server as _server
from .bodyslots import BodySlots
from .closing import GracefulCloses
from .fairshare import RECHECK, TABLE, may_accept
from .heads import (
    HEAD_MAX,
    CapturedWrites,
    has_body,
    head_end,
    head_too_large,
    html_error_as_json,
    json_error,
    peek_head,
    readable,
)

ACCEPT_BATCH = 64  # connections accepted per wake-up at most
LINGER = 0.002  # seconds a thread waits for a keep-alive client's next request
WAITING_MAX = 256  # connections per worker waiting for their request head
FREE_OF_BODIES = 2  # threads per worker that requests with a body never take


class _Conn(TConn):
    """gunicorn's connection, closed gracefully by its worker's event loop."""

    worker: Any = None  # the BalancedThreadWorker that accepted it

    def close(self, graceful=False):
        if graceful and self.worker is not None and not self.cfg.is_ssl:
            self.worker.linger(self)
        else:
            super().close(graceful)


class BalancedThreadWorker(ThreadWorker):
    """``ThreadWorker`` that accepts only its fair share, hands a connection
    to a thread only with its whole request head, and closes connections
    gracefully from its event loop (see the module).

    gunicorn's loop asks ``set_accept_enabled`` whenever its own answer
    (below ``worker_connections``) changes; ``wait_for_and_dispatch_events``
    runs once per turn of that loop, so that is where the worker publishes
    its count and asks again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = TABLE.slot(self.age)
        self._busy = 0
        self._held_back = False  # not accepting only for the fair share
        self._busy_lock = threading.Lock()
        self.body_slots = BodySlots(max(1, self.cfg.threads - FREE_OF_BODIES))
        settings = _server.active_settings()
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout or None
        self._waiting = collections.OrderedDict()  # conn -> deadline of its head (oldest first)
        self.closes = GracefulCloses(self)

    # -- a thread only for a whole request head --------------------------------

    def accept(self, listener):
        """Up to ``ACCEPT_BATCH`` connections while this worker keeps its
        fair share (gunicorn takes one per turn of the loop: a burst of
        silent connections then kept others waiting in the backlog)."""
        for _ in range(ACCEPT_BATCH):
            try:
                client_sock, client_addr = listener.accept()
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname())
            conn.worker = self
            self.enqueue_req(conn)
            if (self.nr_conns >= self.worker_connections
                    or not may_accept(self.nr_conns, TABLE.fewest_elsewhere(self.slot, time.monotonic()))):
                return

    def _gated(self, conn) -> bool:
        """Whether ``conn`` must show its whole head before a thread takes it
        (not TLS or HTTP/2, whose first bytes the thread must handle)."""
        if self.cfg.is_ssl or conn.is_http2:
            return False
        if conn.parser is None:
            from gunicorn.http2 import negotiation

            return not negotiation.prior_knowledge_allowed(self.cfg, conn.client)
        return True

    def enqueue_req(self, conn):
        """Every way to a thread (new, kept-alive, pipelined) comes here."""
        if not self._gated(conn) or (conn.parser is not None and head_end(conn.parser.unreader.buf.getvalue())):
            super().enqueue_req(conn)
            return
        if len(self._waiting) >= WAITING_MAX:
            self._drop_waiting(next(iter(self._waiting)))
        conn.sock.setblocking(False)
        conn.head_buf = bytearray()
        self._waiting[conn] = time.monotonic() + self.header_timeout
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_data, conn))
        self._on_head_data(conn)  # a kept-alive client's bytes are there already

    def _on_head_data(self, conn, _fileobj=None):
        buffered = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
        try:
            data = conn.sock.recv(max(1, HEAD_MAX - len(buffered) - len(conn.head_buf)))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # gone before its request: nothing to answer
            self._drop_waiting(conn)
            return
        conn.head_buf += data
        whole = buffered + conn.head_buf
        if head_end(whole):
            self._unwait(conn)
            if conn.parser is None:
                conn.init()
            unreader = conn.parser.unreader
            unreader.unread(unreader.take_buffered() + bytes(conn.head_buf))
            conn.head_buf = None
            super().enqueue_req(conn)
        elif len(whole) >= HEAD_MAX:
            self._unwait(conn)
            self.nr_conns -= 1
            try:
                conn.sock.send(json_error(*head_too_large(whole, self.cfg.limit_request_line)))
            except OSError:
                pass
            self.linger(conn)

    def _unwait(self, conn):
        self._waiting.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop_waiting(self, conn):
        self._unwait(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """gunicorn's expiry of deferred connections, and of ours: heads
        past ``--header-timeout`` (all of them once the worker stops) and
        graceful closes past ``LINGER_SECONDS``."""
        super().murder_pending()
        now = time.monotonic()
        while self._waiting:
            conn, deadline = next(iter(self._waiting.items()))
            if deadline > now and self.alive:
                break
            self._drop_waiting(conn)
        self.closes.expire(now)

    def linger(self, conn):
        """Close ``conn`` gracefully from the event loop (``closing``)."""
        self.closes.start(conn)

    # -- requests in threads -------------------------------------------------------

    def handle(self, conn):
        """Serve a keep-alive client's next request in the same thread when
        its whole head comes at once (``LINGER``) and other threads are
        free, instead of handing the connection back to the poller between
        requests (a round trip through the poller, a pipe and the thread
        pool)."""
        with self._busy_lock:
            self._busy += 1
        try:
            result = super().handle(conn)
            while (result is True and self.alive and not conn.is_http2 and self._busy < self.cfg.threads - 1
                   and readable(conn, LINGER) and head_end(peek_head(conn))):
                result = super().handle(conn)
            return result
        finally:
            with self._busy_lock:
                self._busy -= 1

    def handle_request(self, req, conn):
        """The request's body reads and answer writes each wait at most
        ``--body-timeout`` (then the socket raises ``TimeoutError``); a
        request with a body over the threads it may take gets 503."""
        conn.sock.settimeout(self.body_timeout)
        if not has_body(req.headers):
            return super().handle_request(req, conn)
        if not self.body_slots.take():
            self.log.warning("503 for %s %s: every thread for uploads is busy", req.method, req.path)
            conn.sock.sendall(json_error(503, "Service Unavailable", "too many requests with a body in progress "
                                         "on this worker: try again later"))
            return False
        try:
            return super().handle_request(req, conn)
        finally:
            self.body_slots.release()

    def handle_error(self, req, client, addr, exc):
        """gunicorn's answer (status, logging) with podman's error body."""
        captured = CapturedWrites()
        super().handle_error(req, captured, addr, exc)
        if captured.data:
            from gunicorn import util

            try:
                util.write_nonblock(client, html_error_as_json(captured.data))
            except OSError:
                self.log.debug("Failed to send error message.")

    # -- fair share ------------------------------------------------------------------

    def set_accept_enabled(self, enabled):
        self._held_back = False
        if enabled and self.alive:
            enabled = may_accept(self.nr_conns, TABLE.fewest_elsewhere(self.slot, time.monotonic()))
            self._held_back = not enabled
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        """A worker held back by the fair share looks again every
        ``RECHECK`` s, not once a second: the others may stop accepting
        too, on counts it has not published yet."""
        if self.alive:
            TABLE.publish(self.slot, self.nr_conns, time.monotonic())
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
        super().wait_for_and_dispatch_events(min(timeout, RECHECK) if self._held_back else timeout)

    def run(self):
        try:
            super().run()
        finally:
            TABLE.clear(self.slot)
