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
from dataclasses import dataclass, field
from typing import Any
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


@dataclass(frozen=True)
class Facts:
    """What a route is, declared on its registration, for the modules
    that are not its handler:

    * ``access``: its class for the access policy (``security/policy.py``:
      read, write, export, content, public); a route without one is
      allowed by the ``full`` preset only;
    * ``transfer``: the image transfer it serves ("export", "load",
      "import"), counted by the ``podproxy_transfers_in_flight`` gauge;
    * ``response``: its success answer for the OpenAPI document
      (``web/schemas.Success``, or ``{method: Success}``).
    """

    access: str | None = None
    transfer: str | None = None
    response: Any = None

    def response_for(self, method: str):
        if isinstance(self.response, dict):
            return self.response.get(method)
        return self.response


def declare(**facts) -> Callable:
    """The ``Facts`` of a route Flask serves itself (``/healthz``, the
    web page): ``@declare(access=READ, response=...)`` under the Flask
    decorator, read back with ``facts_of(view)``."""

    def mark(view):
        view.route_facts = Facts(**facts)
        return view

    return mark


def facts_of(view) -> Facts:
    return getattr(view, "route_facts", None) or Facts()


@dataclass
class Route:
    methods: tuple
    template: str
    view: Callable
    query: QuerySpec | None
    regex: re.Pattern
    path: str = ""  # the template without /v{version}, as declared
    queries: tuple = ()  # query keys the route requires (mux's .Queries("key", "{key}"))
    since: str = ""  # the versioned behaviour (engine.versions) that added the route: absent before it
    # the handler decodes ``query`` itself, where podman does (build: after the body)
    decode_in_handler: bool = False
    facts: Facts = field(default_factory=Facts)

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

        @routes.route("GET", "/libpod/images/{name:.*}/tree", query=Query(Bool("whatrequires")),
                      access=READ, response=ok(200, "the image's layer tree"))
        def tree(name, query): ...

    ``versioned`` registers ``/v{version}`` + path (podman's VersionedPath),
    ``unversioned`` the bare path; podman's libpod image routes are only
    versioned, its compat and ping routes are both. The dispatcher decodes
    ``query`` and passes it as ``query=``, unless ``decode_in_handler``:
    then the handler calls ``responses.decode_query(SPEC)`` at the point
    podman decodes (the build routes: after reading the body).
    ``access``, ``transfer`` and ``response`` are the route's ``Facts``.
    """

    def __init__(self, name: str):
        self.name = name
        self.routes: list[Route] = []

    def route(self, methods, path: str, *, query: QuerySpec | None = None, versioned: bool = True,
              unversioned: bool = False, queries: tuple = (), since: str = "", decode_in_handler: bool = False,
              access: str | None = None, transfer: str | None = None, response=None):
        if isinstance(methods, str):
            methods = (methods,)
        facts = Facts(access, transfer, response)

        def register(view):
            templates = []
            if unversioned:
                templates.append(path)
            if versioned:
                templates.append("/v{version:%s}%s" % (VERSION, path))
            for template in templates:
                self.routes.append(Route(tuple(methods), template, view, query, compile_template(template), path,
                                         tuple(queries), since, decode_in_handler, facts))
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

    def match(self, escaped_path: str, method: str, query_keys=frozenset(), has=None):
        """(route, params) for the first route matching path, method and
        required query keys (``query_keys``: the keys sent); params are
        unescaped once, as podman's ``utils.GetName`` does. A route whose
        path matches but not its method or its query keys makes a 405, as
        mux answers both. A route with ``since`` exists only when
        ``has(since)`` (the running podman registers it)."""
        path_matched = False
        for route in self.routes:
            params = route.match(escaped_path)
            if params is None or route.since and (has is None or not has(route.since)):
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
