"""The OpenAPI document is generated from the routes: it cannot miss a
route, and the committed copy must be what the code generates."""
import json
import os

from podproxy import openapi
from podproxy.app import route_tables
from podproxy.routing import Router

COMMITTED = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json")
REGENERATE = "regenerate it: python3 -m podproxy.openapi > docs/openapi.json"


def test_every_route_has_its_responses_documented():
    missing = sorted({(m, r.key) for r in Router(route_tables()).routes for m in r.methods} - set(openapi.RESPONSES))
    assert not missing, "add these routes to podproxy/openapi.py RESPONSES: %s" % missing


def test_every_route_and_parameter_is_in_the_document():
    doc = openapi.document()
    for route in Router(route_tables()).routes:
        path = ("/v{version}" if "{version" in route.template else "") + route.key
        for method in route.methods:
            op = doc["paths"][path][method.lower()]
            names = {p["name"] for p in op["parameters"]}
            for param in route.query.params if route.query else ():
                assert param.name in names, (method, path, param.name)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_committed_document_is_current():
    with open(COMMITTED) as f:
        committed = f.read()
    assert committed == openapi.text(), "docs/openapi.json is stale: " + REGENERATE


def test_served_document(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200 and r.content_type == "application/json"
    assert r.get_json() == json.loads(openapi.text())
    assert r.get_json()["openapi"].startswith("3.")
