"""The request body of an upload (load, import, build contexts), as the
engine reads it: spliced from the socket by the kernel when gunicorn serves a
Content-Length over a plain socket, else read in chunks counted against
``--max-body-size``; or, for import's ``URL``, fetched over http(s) with
--allow-url-import. Over the limit is a 413 that closes the connection.
"""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

from flask import Response, request

from ..engine.fetch import FetchFailed, TooLarge, fetch
from ..engine.podman.errors import ClientGone
from ..engine.uploads import SocketBody
from ..observability import access as observe
from ..services import services
from ..web.errors import APIError
from .errors import internal_server_error

FORM_TYPE = "application/x-www-form-urlencoded"
UPLOAD_CHUNK = 1 << 20  # reads of a chunked body (2x faster than 64 KiB: docs/performance.md)


class BodyTooLarge(APIError):
    def __init__(self, limit: int):
        super().__init__(413, "request body too large: the limit is %d bytes" % limit, "request body too large")


def request_body(limit: int):
    """The request body for ``engine.uploads.save``: a ``SocketBody`` when
    the kernel can move it (see ``socket_body``), else chunks counted
    against ``limit`` (0 = none) as they stream (gunicorn has already undone
    a chunked transfer encoding).

    podman's ``apiWrapper`` calls ``r.ParseForm()`` first, so a form
    Content-Type makes podman read an *empty* body; podproxy gives podman
    the same empty input (same status and error) without reading the form
    into memory."""
    if request.mimetype == FORM_TYPE:
        return iter(())
    if limit and request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    direct = socket_body(request.environ, request.content_length)
    if direct is not None:
        return direct
    # gunicorn's own body reader is bounded (Content-Length or chunked end)
    # and says so; werkzeug's LimitedStream on top of it halves throughput
    env = request.environ
    stream = env["wsgi.input"] if env.get("wsgi.input_terminated") else request.stream

    def chunks():
        total = 0
        while True:
            try:
                chunk = stream.read(UPLOAD_CHUNK)
            except OSError:  # the client went away half way (gunicorn's NoMoreData is one)
                raise ClientGone() from None
            except Exception as e:  # a malformed chunked encoding (gunicorn.http.errors)
                raise APIError(400, "reading the request body: %s" % e) from None
            if not chunk:
                if expected is not None and total < expected:  # cut short: never let podman use a partial body
                    raise ClientGone()
                return
            total += len(chunk)
            if limit and total > limit:
                raise BodyTooLarge(limit)
            yield chunk

    expected = request.content_length
    return chunks()


def socket_body(env, length: int | None) -> SocketBody | None:
    """The body as a ``SocketBody`` (spliced from the socket into the file
    podman reads) when gunicorn serves it over a plain socket (TLS bytes would be
    ciphertext) with a Content-Length and nothing of it read yet; None
    otherwise (chunked bodies, Flask's test client...), and the body is then
    read the usual way. gunicorn's reader is told of every byte taken, so
    that it knows where the next request on the connection starts."""
    sock = env.get("gunicorn.socket")
    if length is None or type(sock) is not socket.socket or env.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = env.get("wsgi.input")
    body = getattr(body, "raw", body)  # observe's counting wrapper
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    untouched = getattr(getattr(body, "buf", None), "tell", lambda: -1)() == 0
    if (not untouched or reader is None or unreader is None or getattr(reader, "length", None) != length
            or not hasattr(unreader, "take_buffered") or not hasattr(unreader, "unread")):
        return None
    head = unreader.take_buffered()
    if len(head) > length:  # a pipelined next request
        unreader.unread(head[length:])
        head = head[:length]
    record = env.get(observe.ENVIRON_KEY)

    def taken(n: int) -> None:
        reader.length -= n
        if record is not None:
            record.read(n)

    return SocketBody(sock, head, length, taken)


def too_large(err: BodyTooLarge) -> Response:
    """413 at once, closing the connection rather than letting gunicorn
    read the rest of an over-limit body first."""
    resp = Response(err.body(), status=413, content_type="application/json")
    resp.headers["Connection"] = "close"
    return resp


def url_body(url: str):
    """The ``url`` source: off unless --allow-url-import; then only http(s),
    fetched by ``engine.fetch`` and streamed into podman (podman's own
    service would also open any path on the server)."""
    if not services().settings.allow_url_import:
        raise APIError(403, "importing from a URL is disabled on this server (start podproxy with "
                            "--allow-url-import)", "URL import disabled")
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).netloc:
        raise APIError(400, "only http and https URLs can be imported: %s" % url, "unsupported URL")
    limit = services().settings.max_body_size
    try:
        chunks = fetch(url, limit)
    except FetchFailed as e:
        raise internal_server_error(e.wrap("unable to import tarball")) from None

    def bounded():
        try:
            yield from chunks
        except TooLarge:
            raise BodyTooLarge(limit) from None

    return bounded()
