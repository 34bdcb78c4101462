"""The web page (``--ui on``): static files from ``podproxy/ui/`` served at
``/ui/``.

Contract: these routes only ever answer files shipped in the package; they
read no image data and run no podman, so they declare
``access=PUBLIC`` (no token needed). Everything the page shows or changes is a
call to the API with the user's token in ``Authorization``. Every answer
carries a Content-Security-Policy that allows scripts, styles and
connections from this origin only (no inline script, no framing).
Links inside the page are relative to ``/ui/``, so it works behind a proxy
that serves podproxy under a prefix.
"""
from __future__ import annotations

import os

from flask import Blueprint, Response, request, send_from_directory

from ..observability import access as observe
from ..security.policy import PUBLIC
from ..web.routing import declare

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ui")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

ui = Blueprint("ui", __name__)


@ui.before_request
def _route_label():
    observe.route_matched(request.environ, request.url_rule.rule if request.url_rule else request.path)


@ui.after_request
def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@ui.route("/ui", methods=["GET"], strict_slashes=True)
@declare(access=PUBLIC)
def bare():
    """``/ui`` -> ``ui/`` (relative, so a path prefix in front survives):
    the page's relative links need the trailing slash."""
    resp = Response(status=308)
    resp.headers["Location"] = "ui/"
    return resp


@ui.route("/ui/", methods=["GET"], strict_slashes=True)
@declare(access=PUBLIC)
def index():
    """The web page."""
    return send_from_directory(ROOT, "index.html", max_age=0)


@ui.route("/ui/<path:filename>", methods=["GET"])
@declare(access=PUBLIC)
def static_file(filename):
    """The page's scripts, styles and images."""
    return send_from_directory(ROOT, filename, max_age=0)
