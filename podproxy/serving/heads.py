"""Request heads and raw answers, as the worker's event loop sees them before
(or instead of) gunicorn's parser: whether a head is whole, the answer to one
too large, whether a request has a body, podman's error body for gunicorn's
own early errors, and whether a kept-alive client's next request is there.
"""
from __future__ import annotations

import html
import re
import select
import socket

from ..web.errors import error_body

HEAD_MAX = 64 * 1024  # bytes of request head the event loop buffers (podman's clients send < 2 KiB)


def readable(conn, timeout: float) -> bool:
    """The client's next request is (or comes within ``timeout``) there."""
    if conn.parser.unreader.buf.getvalue():  # pipelined: already read
        return True
    try:
        poller = select.poll()  # not select(): descriptors above 1023 are fine
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    except (OSError, ValueError):
        return False


def peek_head(conn) -> bytes:
    """What the parser holds plus what waits in the socket, without waiting."""
    buffered = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
    try:
        if select.select([conn.sock], [], [], 0)[0]:
            return buffered + conn.sock.recv(HEAD_MAX, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (OSError, ValueError):
        pass
    return buffered


def head_end(data: bytes) -> bool:
    """``data`` holds a whole request head: its empty line, CRLF only (the
    parser looks for no other end, so a bare ``\\n\\n`` must not let a
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


class CapturedWrites:
    """Stands in for the client socket while gunicorn writes an error: ``data`` is what it wrote."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.data += bytes(data)

    def send(self, data):
        self.sendall(data)
        return len(data)
