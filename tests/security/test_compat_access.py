"""The access policy on podman's Docker-compatible routes: a ``read-only``
token is refused every compat route that changes the store or copies an
image out (pull, push, tag, remove, load, import, commit, build, prune,
get), with and without ``/v{version}``, before podman runs, and the store
is unchanged; the same token reads (list, inspect, history, info)."""
from __future__ import annotations

import pytest

from .conftest import ADMIN, READER

pytestmark = pytest.mark.podman

BASE = "localhost/podproxy/compat-base:1"

# every compat route that is not a read, as a client sends it
DENIED = [
    ("POST", "/images/create?fromImage=localhost:1/x&tag=1"),
    ("POST", "/images/create?fromSrc=-&repo=localhost/imported"),
    ("POST", "/images/load"),
    ("POST", "/images/prune"),
    ("GET", "/images/search?term=x"),
    ("DELETE", "/images/%s" % BASE),
    ("DELETE", "/images/%s?force=1" % BASE),
    ("POST", "/images/%s/push" % BASE),
    ("GET", "/images/%s/get" % BASE),
    ("GET", "/images/get?names=%s" % BASE),
    ("POST", "/images/%s/tag?repo=localhost/denied&tag=1" % BASE),
    ("POST", "/commit?container=nope&repo=localhost/committed"),
    ("POST", "/build?t=localhost/built"),
]
ALLOWED = [
    ("GET", "/images/json"), ("GET", "/images/%s/json" % BASE), ("GET", "/images/%s/history" % BASE),
    ("GET", "/info"), ("GET", "/version"),
]


def test_every_compat_write_route_is_listed():
    """DENIED names every compat route that read-only must refuse."""
    from podproxy.handlers import compat
    from podproxy.security import policy

    served = {(m, r.key) for r in compat.routes.routes for m in r.methods}
    READ = {(m, r.key) for r in compat.routes.routes for m in r.methods if r.facts.access == policy.READ}
    listed = {(m, t.split("?")[0].replace(BASE, "{name}")) for m, t in DENIED}
    assert served - READ == listed


@pytest.fixture
def secured(make_secured_app, token_file, fresh_store):
    fresh_store.make_image(BASE)
    app = make_secured_app(token_file=token_file)
    return app, fresh_store


@pytest.mark.parametrize("prefix", ["", "/v1.41"])
@pytest.mark.parametrize("method,target", DENIED)
def test_read_only_token_is_refused(secured, prefix, method, target):
    app, store = secured
    before = store.out("images", "-a", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    runner = app.extensions["podproxy"].runner
    calls = runner.calls
    r = app.test_client().open(prefix + target, method=method, headers={"Authorization": "Bearer " + READER})
    assert r.status_code == 403
    assert r.get_json()["response"] == 403 and "access denied" in r.get_json()["message"]
    assert runner.calls == calls, "a denied request ran podman"
    assert store.out("images", "-a", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}") == before


@pytest.mark.parametrize("prefix", ["", "/v1.41"])
@pytest.mark.parametrize("method,target", ALLOWED)
def test_read_only_token_reads(secured, prefix, method, target):
    app, _ = secured
    r = app.test_client().open(prefix + target, method=method, headers={"Authorization": "Bearer " + READER})
    assert r.status_code == 200


def test_full_token_changes(secured):
    """The same routes pass for a ``full`` token (the refusal is the policy's)."""
    app, store = secured
    client, admin = app.test_client(), {"Authorization": "Bearer " + ADMIN}
    assert client.post("/images/%s/tag?repo=localhost/allowed&tag=1" % BASE, headers=admin).status_code == 201
    assert store.podman("image", "exists", "localhost/allowed:1").returncode == 0
    assert client.delete("/v1.41/images/localhost/allowed:1", headers=admin).status_code == 200
    assert store.podman("image", "exists", "localhost/allowed:1", check=False).returncode == 1
