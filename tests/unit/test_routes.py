"""A route's facts are declared on its registration: the query its
handler decodes, its access class, its transfer kind and its documented
answer; the policy, the OpenAPI document and the metrics read them there."""
import ast
import os

from podproxy import apidoc
from podproxy.app import route_tables
from podproxy.web.routing import Router

from .sources import module_nodes

HANDLERS = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy", "handlers")
ROUTES = Router(route_tables()).routes


def _documented(method: str, route) -> set:
    doc = apidoc.document()
    path = ("/v{version}" if "{version" in route.template else "") + route.key
    return {p["name"] for p in doc["paths"][path][method.lower()]["parameters"] if p["in"] == "query"}


def test_no_handler_reads_the_query_by_hand():
    """Query keys are read through the route's ``Query`` spec only (so the
    OpenAPI document lists them): no ``form_get``, ``g.query_pairs`` or
    ``request.args`` in a handler module."""
    found = []
    for name, node in module_nodes("handlers"):
        if isinstance(node, ast.ImportFrom) and any(a.name == "form_get" for a in node.names):
            found.append((name, node.lineno, "form_get"))
        if isinstance(node, ast.Attribute) and node.attr in ("query_pairs", "args") and \
                isinstance(node.value, ast.Name) and node.value.id in ("g", "request"):
            found.append((name, node.lineno, node.attr))
    assert not found, found


def test_the_query_of_build_tag_and_untag_is_documented():
    wanted = {"/libpod/build": {"dockerfile", "t", "buildargs", "remote"}, "/build": {"dockerfile", "t", "pull"},
              "/libpod/images/{name}/tag": {"repo", "tag"}, "/libpod/images/{name}/untag": {"repo", "tag"},
              "/images/{name}/tag": {"repo", "tag"}}
    seen = set()
    for route in ROUTES:
        if route.key in wanted:
            seen.add(route.key)
            assert wanted[route.key] <= _documented("POST", route), route.template
    assert seen == set(wanted)


def test_every_route_declares_its_access_class():
    """Every route podproxy serves (podman's and Flask's own) says what the
    policy should make of it; registrations of one route name agree."""
    from podproxy.security.policy import CLASSES
    from podproxy.web.catalog import served

    declared: dict = {}
    for s in served(apidoc.default_app()):
        assert s.facts.access in CLASSES, (s.method, s.key, s.facts.access)
        assert declared.setdefault((s.method, s.key), s.facts.access) == s.facts.access, (s.method, s.key)


def test_the_policy_classifies_only_served_routes():
    """The policy's classes are the app's routes, not a list of its own:
    a route podproxy does not serve is unclassified (``full`` only)."""
    from podproxy.security import guard
    from podproxy.security.policy import READ, preset_allows
    from podproxy.web.catalog import served

    app = apidoc.default_app()
    classes = app.extensions[guard.EXTENSION].access.classes
    assert set(classes) == {(s.method, s.key) for s in served(app)}
    assert classes[("GET", "/libpod/images/{name}/json")] == READ
    for unserved in [("GET", "/containers/json"), ("POST", "/containers/create"), ("GET", "/images/{name}/tree")]:
        assert unserved not in classes
        assert not preset_allows("read-only", classes.get(unserved))


def test_transfers_are_declared_on_their_routes():
    """The transfers gauge counts the routes that declare a transfer kind:
    the libpod export, export-many, load and import."""
    kinds = {(m, r.key): r.facts.transfer for r in ROUTES for m in r.methods if r.facts.transfer}
    assert kinds == {("GET", "/libpod/images/{name}/get"): "export", ("GET", "/libpod/images/export"): "export",
                     ("POST", "/libpod/images/load"): "load", ("POST", "/libpod/images/import"): "import"}


def test_every_routes_parameters_are_in_the_openapi_document():
    """Path and query parameters, for every route and method."""
    for route in ROUTES:
        for method in route.methods:
            names = _documented(method, route)
            for param in route.query.params if route.query else ():
                assert param.name in names, (method, route.template, param.name)
            if route.query is not None and route.query.filters is not None:
                assert "filters" in names, (method, route.template)
