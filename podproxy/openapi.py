"""The OpenAPI 3 document of everything podproxy serves, generated from the
route tables (paths, methods, the ``Query`` spec of each route) plus the
small ``RESPONSES`` table below (what a route answers on success).

Served at ``GET /openapi.json`` and committed as ``docs/openapi.json``;
``tests/unit/test_openapi.py`` fails when a route has no ``RESPONSES``
entry or the committed file differs from what this module generates.
After adding a route, regenerate with::

    python3 -m podproxy.openapi > docs/openapi.json

Paths are podman's: ``{name}`` may hold ``/`` (send it as ``%2F``), and
``/v{version}`` is any ``[0-9][0-9A-Za-z.-]*`` (podman ignores its value).
Errors are podman's ``ErrorModel``; mux's own 404/405 are plain text.
"""
from __future__ import annotations

import json
import sys

from flask import Response

from . import __version__
from .routing import VERSION, RouteTable

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
    ("GET", "/libpod/images/{name}/exists"): ok(204, "the image exists", None),
    ("GET", "/libpod/images/{name}/tree"): ok(200, "the image's layer tree", JSON, {
        "type": "object", "properties": {"Tree": {"type": "string"}}, "required": ["Tree"]}),
    ("GET", "/libpod/images/{name}/json"): ok(200, "ImageData, as podman image inspect", JSON, ANY_OBJECT),
    ("GET", "/libpod/images/{name}/history"): ok(200, "the image's history", JSON, ANY_ARRAY),
    ("GET", "/libpod/images/{name}/changes"): ok(200, "file changes against the parent", JSON, {
        "type": "array", "items": {}, "nullable": True}),
    ("GET", "/libpod/images/json"): ok(200, "image summaries", JSON, ANY_ARRAY),
    ("DELETE", "/libpod/images/remove"): ok(200, "what was removed, with the errors", JSON, REMOVE_REPORT),
    ("DELETE", "/libpod/images/{name}"): ok(200, "what was removed", JSON, REMOVE_REPORT),
    ("POST", "/libpod/images/prune"): ok(200, "the removed images", JSON, {
        "type": "array", "nullable": True, "items": {"type": "object"}}),
    ("POST", "/libpod/images/{name}/untag"): ok(201, "untagged", TEXT, {"type": "string"}),
    ("POST", "/libpod/images/{name}/tag"): ok(201, "tagged", TEXT, {"type": "string"}),
    ("GET", "/libpod/images/{name}/get"): ok(200, "the image as an archive", TAR, {"type": "string", "format": "binary"}),
    ("GET", "/libpod/images/export"): ok(200, "the images as an archive", TAR, {"type": "string", "format": "binary"}),
    ("POST", "/libpod/images/load"): ok(200, "the loaded names", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/import"): ok(200, "the imported image", JSON, ANY_OBJECT),
    ("POST", "/libpod/commit"): ok(200, "the new image's ID", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/pull"): ok(200, "progress and the pulled IDs (a JSON stream)", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/{name}/push"): ok(200, "push progress (a JSON stream)", JSON, ANY_OBJECT),
    ("GET", "/libpod/images/search"): ok(200, "search results", JSON, ANY_ARRAY),
    ("POST", "/libpod/build"): ok(200, "build progress (a JSON stream)", JSON, ANY_OBJECT),
    ("POST", "/libpod/images/scp/{name}"): ok(200, "the scp report", JSON, ANY_OBJECT),
}

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
    for p in (query.params if query is not None else ()):
        if p.kind == "list":
            schema = {"type": "array", "items": {"type": "string"}}
            params.append({"name": p.name, "in": "query", "schema": schema, "style": "form", "explode": True})
            continue
        schema = dict(_KINDS[p.kind])
        if p.default not in (None, "", 0, False):
            schema["default"] = p.default
        params.append({"name": p.name, "in": "query", "schema": schema})
    if query is not None and query.filters is not None:
        params.append({"name": "filters", "in": "query", "schema": {"type": "string"},
                       "description": 'JSON: {"key":["value",...]} or {"key":{"value":true}}'})
    return params


def _responses(method: str, route) -> dict:
    success = RESPONSES.get((method, route.key))
    if success is None:
        success = ok(200, "undocumented route: add it to podproxy/openapi.py RESPONSES", None)
    answer = {"description": success["description"]}
    if success["content_type"]:
        answer["content"] = {success["content_type"]: {"schema": success["schema"] or {}}}
    error = {"description": "podman's error body", "content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorModel"}}}}
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
        "500": dict(error, description="podman failed"),
    }


def _openapi_path(route) -> str:
    return ("/v{version}" if "{version" in route.template else "") + route.key


def document(tables=None) -> dict:
    if tables is None:
        from .app import route_tables

        tables = route_tables()
    paths: dict = {}
    used_ids: set = set()
    for table in tables:
        for route in table.routes:
            item = paths.setdefault(_openapi_path(route), {})
            for method in route.methods:
                op_id = route.view.__name__ + ("" if method == "GET" or len(route.methods) == 1 else "_" + method.lower())
                if "{version" not in route.template:
                    op_id += "_unversioned"
                while op_id in used_ids:
                    op_id += "_"
                used_ids.add(op_id)
                item[method.lower()] = {
                    "operationId": op_id,
                    "tags": [table.name],
                    "summary": (route.view.__doc__ or route.view.__name__).strip().splitlines()[0],
                    "parameters": _parameters(route),
                    "responses": _responses(method, route),
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "basic": {"type": "http", "scheme": "basic"}},
        },
        "security": [{}, {"bearer": []}, {"basic": []}],
        "paths": paths,
    }


def text(tables=None) -> str:
    return json.dumps(document(tables), indent=2) + "\n"


@routes.route("GET", "/openapi.json", versioned=False, unversioned=True)
def openapi():
    """This OpenAPI document, generated from podproxy's routes."""
    return Response(text(), status=200, content_type=JSON)


def main() -> int:
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
