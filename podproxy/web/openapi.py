"""The OpenAPI 3 document of everything podproxy serves, generated from the
route tables (paths, methods, the ``Query`` spec of each route) plus the
small ``RESPONSES`` table below (what a route answers on success).

Served at ``GET /openapi.json`` and committed as ``docs/openapi.json``;
``tests/unit/test_openapi.py`` fails when a route has no ``RESPONSES``
entry or the committed file differs from what this module generates.
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
from typing import Any

from flask import Response

from .. import __version__
from ..gocompat.pullpolicy import PULL_POLICIES
from .routing import VERSION, RouteTable, rule_key

routes = RouteTable("openapi")

JSON = "application/json"
TAR = "application/x-tar"
TEXT = "text/plain"

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
ANY_OBJECT = {"type": "object"}
ANY_ARRAY = {"type": "array", "items": {}}
REMOVE_REPORT = {
    "type": "object",
    "properties": {
        "Deleted": {"type": "array", "items": {"type": "string"}},
        "Untagged": {"type": "array", "items": {"type": "string"}},
        "ExitCode": {"type": "integer"},
        "Errors": {"type": "array", "items": {"type": "string"}, "nullable": True},
    },
}


def ok(status: int, description: str, content_type: str | None = JSON, schema: dict | None = None) -> dict:
    return {"status": status, "description": description, "content_type": content_type, "schema": schema}


# (method, route key) -> the success answer. Keys are the policy's route
# names (routing.Route.key); both the versioned and unversioned path use it.
RESPONSES = {
    ("GET", "/_ping"): ok(200, "the service is up: OK", TEXT, {"type": "string"}),
    ("HEAD", "/_ping"): ok(200, "the service is up", None),
    ("GET", "/libpod/_ping"): ok(200, "the service is up: OK", TEXT, {"type": "string"}),
    ("HEAD", "/libpod/_ping"): ok(200, "the service is up", None),
    ("GET", "/version"): ok(200, "podman's version", JSON, ANY_OBJECT),
    ("GET", "/libpod/version"): ok(200, "podman's version", JSON, ANY_OBJECT),
    ("GET", "/libpod/info"): ok(200, "podman info", JSON, ANY_OBJECT),
    ("GET", "/openapi.json"): ok(200, "this document", JSON, ANY_OBJECT),
    ("GET", "/healthz"): ok(200, "the process is up", None),
    ("GET", "/readyz"): ok(200, "podman answers", None),
    ("GET", "/metrics"): ok(200, "Prometheus metrics", TEXT, {"type": "string"}),
    ("GET", "/access"): ok(200, "the caller's token, its policy and the routes it may call", JSON, {
        "type": "object", "properties": {"authentication": {"type": "boolean"},
                                         "token": {"type": "string", "nullable": True},
                                         "policy": {"type": "string"},
                                         "allowed": {"type": "array", "items": {"type": "string"}}}}),
    ("GET", "/libpod/images/{name}/exists"): ok(204, "the image exists", None),
    ("GET", "/libpod/images/{name}/tree"): ok(200, "the image's layer tree", JSON, {
        "type": "object", "properties": {"Tree": {"type": "string"}}, "required": ["Tree"]}),
    ("GET", "/libpod/images/{name}/json"): ok(200, "ImageData, as podman image inspect", JSON, ANY_OBJECT),
    ("GET", "/libpod/images/{name}/history"): ok(200, "the image's history", JSON, ANY_ARRAY),
    ("GET", "/libpod/images/{name}/changes"): ok(200, "file changes against the parent", JSON, {
        "type": "array", "items": {}, "nullable": True}),
    ("GET", "/libpod/containers/{name}/changes"): ok(200, "file changes of the container", JSON, {
        "type": "array", "items": {}, "nullable": True}),
    ("GET", "/libpod/images/json"): ok(200, "image summaries", JSON, ANY_ARRAY),
    ("DELETE", "/libpod/images/remove"): ok(200, "what was removed, with the errors", JSON, REMOVE_REPORT),
    ("DELETE", "/libpod/images/{name}"): ok(200, "what was removed", JSON, REMOVE_REPORT),
    ("POST", "/libpod/images/prune"): ok(200, "the removed images", JSON, {
        "type": "array", "nullable": True, "items": {"type": "object"}}),
    ("POST", "/libpod/images/{name}/untag"): ok(201, "untagged", TEXT, {"type": "string"}),
    ("POST", "/libpod/images/{name}/tag"): ok(201, "tagged", TEXT, {"type": "string"}),
    ("GET", "/libpod/images/{name}/get"): ok(200, "the image as an archive", TAR,
                                             {"type": "string", "format": "binary"}),
    ("GET", "/libpod/images/export"): ok(200, "the images as an archive", TAR, {"type": "string", "format": "binary"}),
    ("POST", "/libpod/images/load"): ok(200, "the loaded names", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/import"): ok(200, "the imported image", JSON, ANY_OBJECT),
    ("POST", "/libpod/commit"): ok(200, "the new image's ID", JSON, ANY_OBJECT),
    # podman writes these streams' status before any Content-Type: none is sent
    ("POST", "/libpod/images/pull"): ok(200, "progress lines, then the pulled IDs (JSON lines, no Content-Type)", None),
    ("POST", "/libpod/images/{name}/push"): ok(200, "push progress (JSON lines, no Content-Type)", None),
    ("GET", "/libpod/images/search"): ok(200, "search results", JSON, ANY_ARRAY),
    ("POST", "/libpod/build"): ok(200, "build progress (a JSON stream)", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/scp/{name}"): ok(200, "the scp report", JSON, ANY_OBJECT),
    # podman's Docker-compatible routes (served with and without /v{version})
    ("GET", "/info"): ok(200, "Docker's Info, from podman info", JSON, ANY_OBJECT),
    ("GET", "/images/json"): ok(200, "Docker image summaries (Id with sha256:)", JSON, ANY_ARRAY),
    ("GET", "/images/{name}/json"): ok(200, "Docker's ImageInspect", JSON, ANY_OBJECT),
    ("GET", "/images/{name}/history"): ok(200, "the image's history", JSON, ANY_ARRAY),
    ("POST", "/images/{name}/tag"): ok(201, "tagged", TEXT, {"type": "string"}),
    ("DELETE", "/images/{name}"): ok(200, "[{Deleted: id}..., {Untagged: name}...]", JSON, ANY_ARRAY),
    ("GET", "/images/{name}/get"): ok(200, "the image as a docker-archive", TAR,
                                      {"type": "string", "format": "binary"}),
    ("GET", "/images/get"): ok(200, "the images as a docker-archive", TAR, {"type": "string", "format": "binary"}),
    ("POST", "/images/load"): ok(200, "a Docker JSON message: {stream: Loaded image: ...}", JSON, ANY_OBJECT),
    ("POST", "/images/prune"): ok(200, "Docker's ImagesPruneReport", JSON, ANY_OBJECT),
    ("GET", "/images/search"): ok(200, "Docker search results", JSON, ANY_ARRAY),
    # a pull's status is written before any Content-Type, as podman does: none is sent
    ("POST", "/images/create"): ok(200, "Docker's JSON progress stream (pull, no Content-Type; or import with "
                                   "fromSrc)", None),
    ("POST", "/images/{name}/push"): ok(200, "Docker's JSON progress stream", JSON, ANY_OBJECT),
    ("POST", "/commit"): ok(201, "the new image's Id", JSON, ANY_OBJECT),
    ("POST", "/build"): ok(200, "Docker's JSON build stream", JSON, ANY_OBJECT),
}

# parameters whose values podman checks against a list (a Query spec only
# knows the type): (route key, name) -> schema
PARAMS = {
    ("/libpod/images/{name}/changes", "diffType"): {"type": "string", "enum": ["", "all", "container", "image"]},
    ("/libpod/containers/{name}/changes", "diffType"): {"type": "string", "enum": ["", "all", "container", "image"]},
    ("/libpod/images/{name}/get", "format"): {"type": "string", "enum": ["oci-archive", "docker-archive", "oci-dir",
                                                                          "docker-dir"]},
    ("/libpod/images/export", "format"): {"type": "string", "enum": ["oci-archive", "docker-archive", "oci-dir",
                                                                      "docker-dir"]},
    ("/libpod/commit", "format"): {"type": "string", "enum": ["oci", "docker"]},
    ("/libpod/images/pull", "policy"): {"type": "string", "enum": sorted(set(PULL_POLICIES.values()))},
}

# parameters podman's handler requires (400 without them)
REQUIRED = {("/libpod/images/export", "references"), ("/libpod/images/pull", "reference")}

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
            if (route.key, p.name) in REQUIRED:
                params[-1].update(required=True)
                schema["minItems"] = 1
            continue
        schema = dict(PARAMS.get((route.key, p.name)) or _KINDS[p.kind])
        if p.default not in (None, "", 0, False):
            schema["default"] = p.default
        params.append({"name": p.name, "in": "query", "schema": schema})
        if (route.key, p.name) in REQUIRED or p.name in route.queries:  # mux .Queries: the route needs it
            params[-1].update(required=True)
            schema["minLength"] = 1
    if query is not None and query.filters is not None:
        params.append({"name": "filters", "in": "query", "schema": {"type": "string"},
                       "description": 'JSON: {"key":["value",...]} or {"key":{"value":true}}'})
    return params


def _responses(method: str, key: str) -> dict:
    success = RESPONSES.get((method, key))
    if success is None:
        success = ok(200, "undocumented route: add it to podproxy/web/openapi.py RESPONSES", None)
    answer = {"description": success["description"]}
    if success["content_type"]:
        answer["content"] = {success["content_type"]: {"schema": success["schema"] or {}}}
    error: dict[str, Any] = {"description": "podman's error body",
                             "content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorModel"}}}}
    return {
        str(success["status"]): answer,
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
    /readyz, /metrics), as ``(methods, key, view)``; HEAD and OPTIONS are
    Flask's automatic extras, not documented."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("dispatch", "static") or rule.endpoint.startswith("ui."):
            continue  # the web page's files are not API
        methods = tuple(sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS")))
        key = rule_key(rule.rule)
        found.append((methods, key, app.view_functions[rule.endpoint]))
    return sorted(found, key=lambda r: r[1])


def operations(app) -> list:
    """Every (method, route key, OpenAPI path, view, parameters, tag) that
    ``app`` serves: podman's route tables, then the app's own rules."""
    ops = []
    for table in app.extensions["podproxy"].router.tables:
        for route in table.routes:
            for method in route.methods:
                ops.append((method, route.key, _openapi_path(route), route.view, _parameters(route), table.name))
    for methods, key, view in flask_routes(app):
        for method in methods:
            ops.append((method, key, key, view, [], "podproxy"))
    return ops


def document(app) -> dict:
    paths: dict = {}
    used_ids: set = set()
    for method, key, path, view, params, tag in operations(app):
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
            "responses": _responses(method, key),
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


@routes.route("GET", "/openapi.json", versioned=False, unversioned=True)
def openapi():
    """This OpenAPI document, generated from podproxy's routes."""
    from flask import current_app

    return Response(text(current_app), status=200, content_type=JSON)

