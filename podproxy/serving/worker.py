"""gunicorn's gthread worker, with keep-alive connections shared fairly
among the workers.

Every worker accepts from the same listening socket and whichever wakes
first takes the connection; a keep-alive client then stays with that worker
for good. Sixteen clients connecting one after the other often land 13:3 or
15:1, and then one worker's interpreter lock serves nearly all of them while
the other worker idles: measured on cached reads, 900-1,100 requests/s for
15:1 against 2,200-2,400 for 8:8.

So each worker publishes how many connections it holds (and a heartbeat) in
a table that the master creates before forking the workers (an anonymous
shared mapping), and stops accepting while it holds more than ``MARGIN``
connections above the least loaded of the other live workers. The least
loaded worker never stops (except at gunicorn's ``worker_connections``), so
there is always a worker that accepts. A worker whose heartbeat is older
than ``STALE`` seconds (stuck, or killed before the master cleared its
slot) does not count.

A thread that has answered a keep-alive request also waits up to ``LINGER``
for that client's next one and serves it at once, while other threads are
free, instead of handing the connection back to the poller in between (a
round trip through the poller, a pipe and the thread pool). Cached
``exists`` at c=16: ~520-570 us of server CPU per request instead of
680-760, 2,900-3,250 requests/s instead of 2,280-2,350.

Hostile clients (README "Security"; docs/abuse.md):

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
  one more is answered 503 at once (a few stalled uploads cannot take every
  thread from the requests without a body).
* A connection that ends after an answer (an early 413/401/400 while the
  client still sends its body, a parse error) is closed gracefully in the
  event loop: write side shut, then what the client sends is read and
  discarded (``LINGER_BYTES``, ``LINGER_SECONDS``) until it closes, so the
  client reads the answer instead of a reset.
* gunicorn's own early errors (414, 431, 400...) come in podman's JSON
  error shape instead of HTML.
"""
from __future__ import annotations

import collections
import errno
import html
import mmap
import re
import select
import selectors
import socket
import threading
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

from ..web.errors import error_body
from . import server as _server

SLOTS = 64  # a worker's slot is its gunicorn age modulo this
MARGIN = 1
ACCEPT_BATCH = 64  # connections accepted per wake-up at most
RECHECK = 0.02  # seconds: how often a worker held back by the fair share looks again
STALE = 3.0  # seconds: an idle worker's loop still turns once a second
LINGER = 0.002  # seconds a thread waits for a keep-alive client's next request
HEAD_MAX = 64 * 1024  # bytes of request head the event loop buffers (podman's clients send < 2 KiB)
WAITING_MAX = 256  # connections per worker waiting for their request head
LINGER_BYTES = 8 << 20  # bytes read and discarded from a client after its connection's last answer
LINGER_SECONDS = 2.0  # ... for at most this long
LINGERING_MAX = 256  # connections per worker in that graceful close
FREE_OF_BODIES = 2  # threads per worker that requests with a body never take
BODY_SLOT_GRACE = 0.2  # seconds one request may wait for a body slot that is being released


class ConnectionTable:
    """Per-worker (connections, heartbeat in ms) pairs in shared memory."""

    def __init__(self, slots: int = SLOTS):
        self.slots = slots
        self._map = mmap.mmap(-1, slots * 16)
        self._cells = memoryview(self._map).cast("q")

    def slot(self, age: int) -> int:
        return age % self.slots

    def publish(self, slot: int, connections: int, now: float) -> None:
        self._cells[2 * slot] = connections
        self._cells[2 * slot + 1] = int(now * 1000)

    def clear(self, slot: int) -> None:
        self._cells[2 * slot] = self._cells[2 * slot + 1] = 0

    def fewest_elsewhere(self, slot: int, now: float) -> int | None:
        """The fewest connections a live worker other than ``slot``
        holds; None if there is no other live worker."""
        cells = self._cells.tolist()
        oldest = int((now - STALE) * 1000)
        counts = [cells[i] for i in range(0, len(cells), 2) if i != 2 * slot and cells[i + 1] > oldest]
        return min(counts) if counts else None


def _readable(conn, timeout: float) -> bool:
    """The client's next request is (or comes within ``timeout``) there."""
    if conn.parser.unreader.buf.getvalue():  # pipelined: already read
        return True
    try:
        poller = select.poll()  # not select(): descriptors above 1023 are fine
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    except (OSError, ValueError):
        return False


def head_end(data: bytes) -> bool:
    """``data`` holds a whole request head: its empty line, CRLF only (the
    parser looks for no other end, so a bare ``\n\n`` must not let a
    client into a thread whose parser then waits for more)."""
    return b"\r\n\r\n" in data.lstrip(b"\r\n")  # empty lines before a request line end nothing


def head_too_large(data: bytes, limit_request_line: int) -> tuple[int, str, str]:
    """The answer to a head of ``HEAD_MAX`` bytes without its end: 414 if
    the request line alone is over gunicorn's limit, else 431."""
    line_end = data.find(b"\n")
    if line_end < 0 or line_end > limit_request_line + 1:
        return 414, "URI Too Long", "request line too long: over %d bytes" % limit_request_line
    return 431, "Request Header Fields Too Large", "request head too large: over %d bytes" % HEAD_MAX


def has_body(headers) -> bool:
    """A parsed request's (NAME, value) headers announce a body."""
    for name, value in headers:
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() not in ("", "0")):
            return True
    return False


def json_error(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP answer that ends the connection, with podman's error body."""
    body = error_body(status, message).encode("utf-8")
    return (b"HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (status, reason.encode("latin-1", "replace"), len(body))) + body


_HTML_ERROR = re.compile(rb"\AHTTP/1\.1 (\d{3}) ([^\r\n]*)\r\n.*?</h1>\s*(.*?)\s*</body>", re.DOTALL)


def html_error_as_json(data: bytes) -> bytes:
    """gunicorn's HTML error answer (``util.write_error``) rewritten with
    podman's error body; anything else unchanged."""
    m = _HTML_ERROR.match(data)
    if not m:
        return data
    reason = m.group(2).decode("latin-1")
    message = html.unescape(m.group(3).decode("latin-1")) or reason
    return json_error(int(m.group(1)), reason, message)


class _Captured:
    """Stands in for the client socket while gunicorn writes an error."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.data += bytes(data)

    def send(self, data):
        self.sendall(data)
        return len(data)


def may_accept(mine: int, fewest_elsewhere: int | None, margin: int = MARGIN) -> bool:
    return fewest_elsewhere is None or mine <= fewest_elsewhere + margin


TABLE = ConnectionTable()  # created in the master, which imports the worker class before forking


class _Conn(TConn):
    """gunicorn's connection, closed gracefully by its worker's event loop."""

    worker = None

    def close(self, graceful=False):
        if graceful and self.worker is not None and not self.cfg.is_ssl:
            self.worker.linger(self)
        else:
            super().close(graceful)


def _peek_head(conn) -> bytes:
    """What the parser holds plus what waits in the socket, without waiting."""
    buffered = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
    try:
        if select.select([conn.sock], [], [], 0)[0]:
            return buffered + conn.sock.recv(HEAD_MAX, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (OSError, ValueError):
        pass
    return buffered


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
        self._bodies = 0  # requests with a body in threads
        self._held_back = False  # not accepting only for the fair share
        self._busy_lock = threading.Lock()
        self._body_released = threading.Condition(self._busy_lock)
        self._body_waiter = False  # one request at a time waits for a slot
        settings = _server.active_settings()
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout or None
        self._waiting = collections.OrderedDict()  # conn -> deadline of its head (oldest first)
        self._lingering = collections.OrderedDict()  # conn -> [deadline, bytes discarded]

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

    # -- graceful close in the event loop ----------------------------------------

    def linger(self, conn):
        """Shut the write side (the client reads the answer and an end),
        then read and discard what the client still sends, until it closes,
        ``LINGER_BYTES`` or ``LINGER_SECONDS``."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            conn.sock.close()
            return
        if len(self._lingering) >= LINGERING_MAX:
            self._end_linger(next(iter(self._lingering)))
        self._lingering[conn] = [time.monotonic() + LINGER_SECONDS, 0]
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger_data, conn))
        self._on_linger_data(conn)

    def _on_linger_data(self, conn, _fileobj=None):
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
                self._end_linger(conn)
                return

    def _end_linger(self, conn):
        self._lingering.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        conn.sock.close()

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
        while self._lingering:
            conn, (deadline, _) = next(iter(self._lingering.items()))
            if deadline > now:
                break
            self._end_linger(conn)

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
                   and _readable(conn, LINGER) and head_end(_peek_head(conn))):
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
        if not self._take_body_slot():
            self.log.warning("503 for %s %s: every thread for uploads is busy", req.method, req.path)
            conn.sock.sendall(json_error(503, "Service Unavailable", "too many requests with a body in progress "
                                         "on this worker: try again later"))
            return False
        try:
            return super().handle_request(req, conn)
        finally:
            with self._busy_lock:
                self._bodies -= 1
                self._body_released.notify()

    def _take_body_slot(self) -> bool:
        """A slot for a request with a body. When all are taken, one request
        at a time waits up to ``BODY_SLOT_GRACE`` s: a client's previous
        request may have been answered while its thread has not yet let go
        of the slot (a sequential client then got a spurious 503)."""
        limit = max(1, self.cfg.threads - FREE_OF_BODIES)
        with self._busy_lock:
            if self._bodies >= limit and not self._body_waiter:
                self._body_waiter = True
                try:
                    self._body_released.wait_for(lambda: self._bodies < limit, BODY_SLOT_GRACE)
                finally:
                    self._body_waiter = False
            if self._bodies >= limit:
                return False
            self._bodies += 1
            return True

    def handle_error(self, req, client, addr, exc):
        """gunicorn's answer (status, logging) with podman's error body."""
        captured = _Captured()
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
        too, on counts it has not published yet (1,000 connections opened at
        once were accepted at ~20/s, and no other client got in)."""
        if self.alive:
            TABLE.publish(self.slot, self.nr_conns, time.monotonic())
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
        super().wait_for_and_dispatch_events(min(timeout, RECHECK) if self._held_back else timeout)

    def run(self):
        try:
            super().run()
        finally:
            TABLE.clear(self.slot)
