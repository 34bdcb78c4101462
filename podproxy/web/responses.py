"""podman's success encodings (``utils.WriteResponse``) and the request
helpers handlers share."""
from __future__ import annotations

from flask import Response, current_app, g

from ..gocompat import gojson
from .bodies import form_pairs

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


def services():
    """The app's ``Services`` (settings, runner, image engine)."""
    return current_app.extensions["podproxy"]


def features():
    """The running podman's versioned behaviours (``engine.versions``)."""
    return services().system.features()


def engine():
    return services().images


def form_get(key: str) -> str:
    """Go's ``r.Form.Get(key)``: the first value of ``key`` (exact case),
    from a form body first (``bodies.form_pairs``: bounded, 413 when too
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
