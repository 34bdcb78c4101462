"""Operations endpoints, outside podman's API: ``/healthz`` (the process
answers), ``/readyz`` (podman answers ``podman version`` in time) and
``/metrics`` (Prometheus). They are plain Flask routes, so they carry none
of podman's API headers and a health probe never runs podman."""
from __future__ import annotations

import json

from flask import Blueprint, Response, request

from .. import metrics, observe
from ..errors import APIError
from .responses import services

ops = Blueprint("ops", __name__)


@ops.before_request
def _route_label():
    observe.route_matched(request.environ, request.url_rule.rule)


def _json(status: int, body: dict) -> Response:
    resp = Response(json.dumps(body) + "\n", status=status, content_type="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@ops.route("/healthz", methods=["GET"])
def healthz():
    return _json(200, {"status": "ok"})


@ops.route("/readyz", methods=["GET"])
def readyz():
    """Ready when ``podman version`` answers within ``--ready-timeout``."""
    settings = services().settings
    try:
        result = services().runner.run(["version", "--format", "json"], timeout=settings.ready_timeout)
        data = json.loads(result.stdout)
        version = (data.get("Server") or data.get("Client") or {}).get("Version", "")
    except APIError as e:
        return _json(503, {"status": "unavailable", "reason": e.message})
    except ValueError as e:
        return _json(503, {"status": "unavailable", "reason": "podman version printed no JSON: %s" % e})
    return _json(200, {"status": "ready", "podman": version})


@ops.route("/metrics", methods=["GET"])
def prometheus():
    body, content_type = metrics.exposition()
    return Response(body, status=200, content_type=content_type)
