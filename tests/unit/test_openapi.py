"""The OpenAPI document is generated from the routes: it cannot miss a
route, and the committed copy must be what the code generates."""
import json
import os

from podproxy import apidoc
from podproxy.app import route_tables
from podproxy.web import openapi
from podproxy.web.routing import Router

COMMITTED = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json")
REGENERATE = "regenerate it: python3 -m podproxy.apidoc > docs/openapi.json"


def test_every_route_has_its_responses_documented():
    missing = sorted({(op.method, op.key) for op in apidoc.operations() if op.response is None})
    assert not missing, "declare response= on these routes' registration: %s" % missing


def test_every_route_and_parameter_is_in_the_document(app):
    doc = apidoc.document()
    for route in Router(route_tables()).routes:
        path = ("/v{version}" if "{version" in route.template else "") + route.key
        for method in route.methods:
            op = doc["paths"][path][method.lower()]
            names = {p["name"] for p in op["parameters"]}
            for param in route.query.params if route.query else ():
                assert param.name in names, (method, path, param.name)
    for methods, key, _ in openapi.flask_routes(app):  # /healthz, /readyz, /metrics
        assert set(m.lower() for m in methods) <= set(doc["paths"][key]), key


def test_committed_document_is_current():
    with open(COMMITTED) as f:
        committed = f.read()
    assert committed == apidoc.text(), "docs/openapi.json is stale: " + REGENERATE


def test_served_document(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200 and r.content_type == "application/json"
    assert r.get_json() == json.loads(apidoc.text())
    assert r.get_json()["openapi"].startswith("3.")
