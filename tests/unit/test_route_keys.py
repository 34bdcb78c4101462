"""One way from a route to its key (web/routing.py): podman templates lose their patterns,
Flask rules their converters; the access record, the gate and the docs all use these two."""
from podproxy.observability import access
from podproxy.security import guard
from podproxy.web.routing import route_key, rule_key


def test_route_key():
    assert route_key("/v{version:[0-9][0-9A-Za-z.-]*}/libpod/images/{name:.*}/json") == \
        "/v{version}/libpod/images/{name}/json"
    assert route_key("/libpod/images/json") == "/libpod/images/json"


def test_rule_key():
    assert rule_key("/ui/<path:filename>") == "/ui/{filename}"
    assert rule_key("/x/<name>/y") == "/x/{name}/y"
    assert rule_key("/healthz") == "/healthz"


def test_one_function_each():
    assert access.route_key is route_key
    assert guard.rule_key is rule_key
