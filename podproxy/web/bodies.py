"""Request bodies outside the uploads: the size every body is held to, and
the form body podman's handlers read through ``r.Form``.

podman's ``apiWrapper`` calls ``r.ParseForm()`` on every request: for POST,
PUT and PATCH with ``Content-Type: application/x-www-form-urlencoded`` the
body's pairs come first in ``r.Form``, then the query's (Go reads up to
10 MB of it). podman's values are short (a repository, a tag, filters), so
podproxy reads at most ``MAX_FORM_SIZE`` bytes of a form and answers a
larger one with 413 before parsing anything; a declared Content-Length over
the bound (or over ``--max-body-size``) is refused before reading at all.
"""
from __future__ import annotations

from flask import g, request

from ..engine.podman.errors import ClientGone
from .errors import APIError
from .query import parse_query

FORM_TYPE = "application/x-www-form-urlencoded"
FORM_METHODS = ("POST", "PUT", "PATCH")  # Go's ParseForm reads a body only for these
MAX_FORM_SIZE = 64 * 1024  # bytes of a form body that are ever read


class BodyTooLarge(APIError):
    def __init__(self, limit: int, what: str = "the limit is"):
        super().__init__(413, "request body too large: %s %d bytes" % (what, limit), "request body too large")


def check_declared_size(limit: int) -> None:
    """Every request: a body whose Content-Length is over ``limit``
    (``--max-body-size``; 0 = none) is refused before any of it is read."""
    length = request.content_length
    if limit and length is not None and length > limit:
        raise BodyTooLarge(limit)


def form_pairs() -> list[tuple[str, str]]:
    """The pairs of the request's form body, in order (Go's
    ``url.ParseQuery``), read once per request; [] when the request has no
    form body. 413 when the body is over ``MAX_FORM_SIZE``."""
    pairs = g.get("form_pairs")
    if pairs is None:
        pairs = g.form_pairs = _read_form()
    return pairs


def _read_form() -> list[tuple[str, str]]:
    if request.method not in FORM_METHODS or request.mimetype != FORM_TYPE:
        return []
    limit = MAX_FORM_SIZE
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit, "a form is limited to")
    stream = request.stream  # bounded by Content-Length, or by the end of a chunked body
    data = bytearray()
    while len(data) <= limit:
        try:
            chunk = stream.read(limit + 1 - len(data))
        except OSError:  # the client went away half way
            raise ClientGone() from None
        except Exception as e:  # a malformed chunked encoding (gunicorn.http.errors)
            raise APIError(400, "reading the request body: %s" % e) from None
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        raise BodyTooLarge(limit, "a form is limited to")
    return parse_query(bytes(data).decode("utf-8", "surrogateescape"))


def form_get(key: str) -> str:
    """Go's ``r.Form.Get(key)``: the first value of ``key`` (exact case),
    from a form body first (``form_pairs``: bounded, 413 when too
    large), then from the URL query; "" if absent."""
    for k, v in form_pairs():
        if k == key:
            return v
    for k, v in g.query_pairs:  # parsed once by the dispatcher, as podman does
        if k == key:
            return v
    return ""


def decode_query(spec):
    """``spec`` (a route's ``Query``) decoded from this request, for a
    route declared with ``decode_in_handler``."""
    return spec.decode(g.query_pairs, g.request_uri, form_get)
