"""The OpenAPI 3 document of everything podproxy serves, generated from the
routes (``web/catalog.py``): paths, methods, the ``Query`` spec of each
route and the success answer it declares (``response=``).

Served at ``GET /openapi.json`` and committed as ``docs/openapi.json``;
``tests/unit/test_openapi.py`` fails when a route declares no response or
the committed file differs from what this module generates.
After adding a route, regenerate with::

    python3 -m podproxy.apidoc > docs/openapi.json

The builder reads an app's router (``operations(app)``); it never creates
an app itself (``podproxy.apidoc`` does, for the committed file).

Paths are podman's: ``{name}`` may hold ``/`` (send it as ``%2F``), and
``/v{version}`` is any ``[0-9][0-9A-Za-z.-]*`` (podman ignores its value).
Errors are podman's ``ErrorModel``; mux's own 404/405 are plain text.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Response

from .. import __version__
from ..security.policy import READ
from .catalog import served
from .routing import VERSION, RouteTable
from .schemas import ANY_OBJECT, JSON, TEXT, Success, ok

routes = RouteTable("openapi")

ERROR_MODEL = {
    "type": "object",
    "description": "podman's error body (utils.Error)",
    "required": ["cause", "message", "response"],
    "properties": {
        "cause": {"type": "string", "description": "the innermost error"},
        "message": {"type": "string", "description": "the whole error message"},
        "response": {"type": "integer", "description": "the HTTP status code"},
    },
}
UNDOCUMENTED = ok(200, "undocumented route: declare response= on its registration", None)


class Operation(NamedTuple):
    method: str
    key: str  # the policy's route name
    path: str  # the OpenAPI path
    view: Callable
    parameters: list
    tag: str
    response: Success | None


_KINDS = {"bool": {"type": "boolean"}, "int": {"type": "integer", "format": "int64"}, "str": {"type": "string"}}


def _parameters(route) -> list:
    params = []
    if "{version" in route.template:
        params.append({"name": "version", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^%s$" % VERSION},
                       "description": "any API version, e.g. 4.3.1 (podman ignores the value)"})
    if "{name" in route.path:
        params.append({"name": "name", "in": "path", "required": True,
                       "schema": {"type": "string", "minLength": 1},
                       "description": "image name, reference or ID (a '/' in it as %2F)"})
    query = route.query
    schema: dict[str, Any]
    for p in (query.params if query is not None else ()):
        if p.kind == "list":
            schema = {"type": "array", "items": {"type": "string"}}
            params.append({"name": p.name, "in": "query", "schema": schema, "style": "form", "explode": True})
            if p.required:
                params[-1].update(required=True)
                schema["minItems"] = 1
            continue
        schema = dict(_KINDS[p.kind])
        if p.enum is not None:
            schema["enum"] = list(p.enum)
        if p.default not in (None, "", 0, False):
            schema["default"] = p.default
        params.append({"name": p.name, "in": "query", "schema": schema})
        if p.required or p.name in route.queries:  # mux .Queries: the route needs it
            params[-1].update(required=True)
            schema["minLength"] = 1
    if query is not None and query.filters is not None:
        params.append({"name": "filters", "in": "query", "schema": {"type": "string"},
                       "description": 'JSON: {"key":["value",...]} or {"key":{"value":true}}'})
    return params


def _responses(success: Success | None) -> dict:
    success = success or UNDOCUMENTED
    answer: dict = {"description": success.description}
    if success.content_type:
        answer["content"] = {success.content_type: {"schema": success.schema or {}}}
    error: dict[str, Any] = {"description": "podman's error body",
                             "content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorModel"}}}}
    return {
        str(success.status): answer,
        "400": dict(error, description="bad parameter"),
        "401": dict(error, description="authentication required or failed (when tokens are configured)"),
        "403": dict(error, description="denied by the access policy"),
        "301": {"description": "the path is not clean (//, /./, /../): Location has the cleaned path"},
        "404": {"description": "no such image; or no such route (plain text from the router, as podman's mux)",
                "content": dict(error["content"], **{TEXT: {"schema": {"type": "string"}}})},
        "405": {"description": "the path matches a route of another method (plain text from the router)",
                "content": {TEXT: {"schema": {"type": "string"}}}},
        "409": dict(error, description="conflict (image in use)"),
        "429": dict(error, description="too many failed authentication attempts"),
        # no schema: where podman's utils.ImageNotFound answers, the body is
        # two ErrorModels (a 500 one, then a 404 one), which is not one JSON value
        "500": {"description": "podman failed: ErrorModel; after a failed image lookup (not 'image not known') "
                               "podman writes two ErrorModels, the 500 one then a 404 one",
                "content": {JSON: {}}},
    }


def _openapi_path(route) -> str:
    return ("/v{version}" if "{version" in route.template else "") + route.key


def flask_routes(app) -> list:
    """The app's own Flask rules outside podman's routing (/healthz,
    /readyz, /metrics, /access), as ``(methods, key, view)``; HEAD is
    Flask's automatic extra and the web page's files are not API: neither
    is documented."""
    found: list = []
    for s in served(app):
        if s.route is None and s.method != "HEAD" and s.table != "ui":
            if found and found[-1][1] == s.key:
                found[-1][0].append(s.method)
            else:
                found.append(([s.method], s.key, s.view))
    return sorted(((tuple(m), key, view) for m, key, view in found), key=lambda r: r[1])


def operations(app) -> list[Operation]:
    """Every operation ``app`` serves: podman's route tables, then the
    app's own rules, each with the success answer its route declares."""
    ops = []
    for s in served(app):
        if s.route is not None:
            ops.append(Operation(s.method, s.key, _openapi_path(s.route), s.view, _parameters(s.route), s.table,
                                 s.facts.response_for(s.method)))
    for methods, key, view in flask_routes(app):
        for method in methods:
            ops.append(Operation(method, key, key, view, [], "podproxy", view.route_facts.response_for(method)))
    return ops


def document(app) -> dict:
    paths: dict = {}
    used_ids: set = set()
    for method, _key, path, view, params, tag, success in operations(app):
        item = paths.setdefault(path, {})
        op_id = method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")  # unique: method + path
        if op_id in used_ids:  # one path, several routes told apart by query keys (compat /images/create)
            known = {p["name"] for p in item[method.lower()]["parameters"]}
            item[method.lower()]["parameters"] += [p for p in params if p["name"] not in known]
            continue
        used_ids.add(op_id)
        item[method.lower()] = {
            "operationId": op_id,
            "tags": [tag],
            "summary": (view.__doc__ or view.__name__).strip().splitlines()[0],
            "parameters": params,
            "responses": _responses(success),
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "podproxy: podman's libpod images API",
            "version": __version__,
            "description": "podman v4.3.1's libpod images REST API served by running the podman CLI. "
                           "With --token-file, send 'Authorization: Bearer TOKEN' (or HTTP basic NAME:TOKEN).",
        },
        "components": {
            "schemas": {"ErrorModel": ERROR_MODEL},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "basic": {"type": "http", "scheme": "basic"}},
        },
        "security": [{}, {"bearer": []}, {"basic": []}],
        "paths": paths,
    }


def text(app) -> str:
    return json.dumps(document(app), indent=2) + "\n"


@routes.route("GET", "/openapi.json", versioned=False, unversioned=True, access=READ,
              response=ok(200, "this document", JSON, ANY_OBJECT))
def openapi():
    """This OpenAPI document, generated from podproxy's routes."""
    from flask import current_app

    return Response(text(current_app), status=200, content_type=JSON)

