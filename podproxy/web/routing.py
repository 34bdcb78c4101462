"""Routing as podman's gorilla/mux router does it.

podman registers its routes on ``mux.NewRouter().UseEncodedPath()``:

* routes are tried in registration order and the first full match wins;
* matching is done on the *escaped* path, so ``%2F`` inside ``{name:.*}``
  stays part of the name (the handler then unescapes it once);
* a path that matches some route but not its method is 405, no match is 404,
  both as plain text and without the API headers;
* an unclean path (``//``, ``/./``, ``/../``) is answered 301 with the
  cleaned path in ``Location``.

Werkzeug's router orders rules by weight, redirects trailing slashes and
decodes ``%2F`` before matching, so podproxy keeps Flask for everything but
the match and uses this table for the match itself. API modules declare
their routes on a ``RouteTable`` (a blueprint of podman routes) with the
query spec that the handler decodes.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from .query import QuerySpec

VERSION = r"[0-9][0-9A-Za-z.-]*"
_VAR = re.compile(r"\{(\w+)(?::([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")


def compile_template(template: str) -> re.Pattern:
    """``/libpod/images/{name:.*}/json`` -> an anchored regex with named groups."""
    out, pos = [], 0
    for m in _VAR.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append("(?P<%s>%s)" % (m.group(1), m.group(2) or "[^/]+"))
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + r"\Z")


@dataclass
class Route:
    methods: tuple
    template: str
    view: Callable
    query: QuerySpec | None
    regex: re.Pattern
    path: str = ""  # the template without /v{version}, as declared
    queries: tuple = ()  # query keys the route requires (mux's .Queries("key", "{key}"))

    @property
    def key(self) -> str:
        """The route's name for policies and OpenAPI: ``path`` with each
        ``{name:regex}`` reduced to ``{name}``."""
        return route_key(self.path or self.template)

    def match(self, path: str) -> dict | None:
        m = self.regex.match(path)
        return None if m is None else m.groupdict()


class RouteTable:
    """An ordered group of podman routes, declared next to their handlers::

        routes = RouteTable()

        @routes.route("GET", "/libpod/images/{name:.*}/tree", query=Query(Bool("whatrequires")))
        def tree(name, query): ...

    ``versioned`` registers ``/v{version}`` + path (podman's VersionedPath),
    ``unversioned`` the bare path; podman's libpod image routes are only
    versioned, its compat and ping routes are both.
    """

    def __init__(self, name: str):
        self.name = name
        self.routes: list[Route] = []

    def route(self, methods, path: str, *, query: QuerySpec | None = None, versioned: bool = True,
              unversioned: bool = False, queries: tuple = ()):
        if isinstance(methods, str):
            methods = (methods,)

        def register(view):
            templates = []
            if unversioned:
                templates.append(path)
            if versioned:
                templates.append("/v{version:%s}%s" % (VERSION, path))
            for template in templates:
                self.routes.append(Route(tuple(methods), template, view, query, compile_template(template), path,
                                         tuple(queries)))
            return view

        return register


def route_key(template: str) -> str:
    """A podman template without its patterns: ``/v{version:[0-9]...}/libpod/images/{name:.*}/json`` ->
    ``/v{version}/libpod/images/{name}/json`` (policies, metrics and the OpenAPI document name routes so)."""
    return _VAR.sub(lambda m: "{%s}" % m.group(1), template)


_FLASK_VAR = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def rule_key(rule: str) -> str:
    """The same key for a Flask rule outside podman's routing (``/healthz``, ``/ui/<path:p>``)."""
    return _FLASK_VAR.sub(r"{\1}", rule)


class NotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    pass


class Router:
    def __init__(self, tables=()):
        self.routes: list[Route] = []
        self.tables: list[RouteTable] = []  # in registration order (the OpenAPI document's tags)
        for table in tables:
            self.add(table)

    def add(self, table: RouteTable) -> None:
        self.tables.append(table)
        self.routes.extend(table.routes)

    def match(self, escaped_path: str, method: str, query_keys=frozenset()):
        """(route, params) for the first route matching path, method and
        required query keys (``query_keys``: the keys sent); params are
        unescaped once, as podman's ``utils.GetName`` does. A route whose
        path matches but not its method or its query keys makes a 405, as
        mux answers both."""
        path_matched = False
        for route in self.routes:
            params = route.match(escaped_path)
            if params is None:
                continue
            if method not in route.methods or not all(k in query_keys for k in route.queries):
                path_matched = True
                continue
            return route, {k: unquote(v, errors="surrogateescape") for k, v in params.items() if k != "version"}
        if path_matched:
            raise MethodNotAllowed()
        raise NotFound()


def clean_path(p: str) -> str:
    """gorilla/mux's cleanPath: Go's path.Clean, keeping a trailing slash."""
    if p == "":
        return "/"
    if p[0] != "/":
        p = "/" + p
    parts: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    cleaned = "/" + "/".join(parts)
    if p.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned
