"""podman's mux routing rules."""
import pytest

from podproxy.web.routing import (
    MethodNotAllowed,
    NotFound,
    Router,
    RouteTable,
    clean_path,
)


def _router():
    t = RouteTable("t")
    for method, path in [("DELETE", "/libpod/images/remove"), ("DELETE", "/libpod/images/{name:.*}"),
                         ("GET", "/libpod/images/{name:.*}/json"), ("GET", "/libpod/images/{name}/changes")]:
        t.route(method, path)(lambda **kw: None)
    t.route(("GET", "HEAD"), "/_ping", unversioned=True)(lambda: None)
    return Router([t])


def test_first_registered_match_wins():
    route, params = _router().match("/v4/libpod/images/remove", "DELETE")
    assert route.template.endswith("/images/remove") and params == {}


def test_encoded_slash_stays_in_name_and_is_unescaped_once():
    assert _router().match("/v4/libpod/images/a%2Fb/changes", "GET")[1] == {"name": "a/b"}
    assert _router().match("/v4/libpod/images/a%252Fb/json", "GET")[1] == {"name": "a%2Fb"}
    with pytest.raises(MethodNotAllowed):  # raw slash: only the DELETE route's path matches
        _router().match("/v4/libpod/images/a/b/changes", "GET")


@pytest.mark.parametrize("path", ["/libpod/images/x/json", "/vfoo/libpod/images/x/json", "/V4/libpod/images/x/json"])
def test_versions(path):
    with pytest.raises(NotFound):
        _router().match(path, "GET")


def test_version_pattern():
    for v in ("v0", "v1.41", "v4.3.1-rc1"):
        assert _router().match("/%s/libpod/images/x/json" % v, "GET")


def test_clean_path():
    assert clean_path("/v4//libpod/./x/../y/") == "/v4/libpod/y/"
    assert clean_path("/a/b") == "/a/b"
    assert clean_path("") == "/"
