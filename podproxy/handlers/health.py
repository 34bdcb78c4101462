"""Operations endpoints, outside podman's API: ``/healthz`` (the process
answers), ``/readyz`` (podman answers ``podman version`` in time, and the
store and the temp dir have room to write),
``/metrics`` (Prometheus) and ``/access`` (what the caller's token may do,
so the web page shows only the actions it may take). They are plain Flask routes, so they carry none
of podman's API headers and a health probe never runs podman."""
from __future__ import annotations

import json
import os
import tempfile

from flask import Blueprint, Response, current_app, g, request

from ..engine.podman.errors import EngineError
from ..observability import access as observe
from ..observability import metrics
from ..security import guard
from ..security.policy import READ
from ..services import services
from ..web.catalog import served
from ..web.errors import APIError
from ..web.routing import declare
from ..web.schemas import JSON, STRING, TEXT, ok

ops = Blueprint("ops", __name__)


@ops.before_request
def _route_label():
    observe.route_matched(request.environ, request.url_rule.rule if request.url_rule else request.path)


def _json(status: int, body: dict) -> Response:
    resp = Response(json.dumps(body) + "\n", status=status, content_type="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@ops.route("/healthz", methods=["GET"])
@declare(access=READ, response=ok(200, "the process is up", None))
def healthz():
    return _json(200, {"status": "ok"})


# Below this many free bytes where podman writes (the store, its run root,
# the temp dir uploads and exports are staged in), writes fail half way:
# podman answers "no space left on device" after it has started.
MIN_FREE = 64 << 20


def _full_places() -> list[str]:
    """The places podman writes to that have less than MIN_FREE bytes."""
    store: dict = {}
    try:
        store = services().system.info(cached=True).get("store") or {}
    except (APIError, EngineError):
        pass
    full = []
    for path in (store.get("graphRoot"), store.get("runRoot"), tempfile.gettempdir()):
        if not path:
            continue
        try:
            st = os.statvfs(path)
        except OSError:
            continue
        free = st.f_bavail * st.f_frsize
        if free < MIN_FREE:
            full.append("%s has %d bytes free" % (path, free))
    return full


@ops.route("/readyz", methods=["GET"])
@declare(access=READ, response=ok(200, "podman answers", None))
def readyz():
    """Ready when ``podman version`` answers within ``--ready-timeout`` and
    the store and temp dir are not (nearly) full."""
    settings = services().settings
    try:
        version = services().system.probe(settings.ready_timeout)
    except EngineError as e:
        return _json(503, {"status": "unavailable", "reason": e.message})
    except ValueError as e:
        return _json(503, {"status": "unavailable", "reason": "podman version printed no JSON: %s" % e})
    full = _full_places()
    if full:
        return _json(503, {"status": "unavailable", "reason": "no space left on device: " + "; ".join(full)})
    return _json(200, {"status": "ready", "podman": version})


@ops.route("/metrics", methods=["GET"])
@declare(access=READ, response=ok(200, "Prometheus metrics", TEXT, STRING))
def prometheus():
    body, content_type = metrics.exposition()
    return Response(body, status=200, content_type=content_type)


@ops.route("/access", methods=["GET"])
@declare(access=READ, response=ok(200, "the caller's token, its policy and the routes it may call", JSON, {
    "type": "object", "properties": {"authentication": {"type": "boolean"},
                                     "token": {"type": "string", "nullable": True},
                                     "policy": {"type": "string"},
                                     "allowed": {"type": "array", "items": {"type": "string"}}}}))
def access():
    """What the caller's token may do: its name, the policy that applies
    and every route it may call (``"METHOD /route/name"``, as policies name
    them), decided exactly as a request to that route would be."""
    rules = guard.access()
    token = g.get("token")
    keys = {(s.method, s.key) for s in served(current_app)}
    allowed = sorted("%s %s" % k for k in keys if rules.allows(k[0], k[1], token))
    return _json(200, {"authentication": token is not None, "token": token.name if token is not None else None,
                       "policy": rules.policy_name(token), "allowed": allowed})
