"""podman's success encodings (``utils.WriteResponse``)."""
from __future__ import annotations

from flask import Response

from ..gocompat import gojson

JSON = "application/json"
TEXT = "text/plain; charset=us-ascii"


def json_response(status: int, obj) -> Response:
    """Go's json.Marshal of ``obj`` plus the newline podman's encoder adds."""
    return Response(gojson.dumps(obj) + "\n", status=status, content_type=JSON)


def json_line(obj) -> bytes:
    """One JSON value and a newline, as podman's ``json.Encoder`` writes a streamed line."""
    return (gojson.dumps(obj) + "\n").encode("utf-8")


def text_response(status: int, text: str = "") -> Response:
    """A Go string: text/plain; charset=us-ascii, the text plus a newline."""
    return Response(text + "\n", status=status, content_type=TEXT)


def no_content() -> Response:
    """204: headers only, no Content-Type, no body."""
    resp = Response(status=204)
    resp.headers.remove("Content-Type")
    return resp
