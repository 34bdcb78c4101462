"""A route's facts are declared on its registration: the query its
handler decodes, its access class, its transfer kind and its documented
answer; the policy, the OpenAPI document and the metrics read them there."""
import ast
import os

from podproxy import apidoc
from podproxy.app import route_tables
from podproxy.web.routing import Router

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
    for name in sorted(os.listdir(HANDLERS)):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(HANDLERS, name)).read())
        for node in ast.walk(tree):
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
