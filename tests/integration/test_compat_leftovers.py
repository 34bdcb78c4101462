"""podman 4.3.1's compat service leaves ``$TMPDIR/api_load.tar*`` behind
after every load (and ``digest.txt*`` after every push); podproxy's compat
routes leave nothing in its TMPDIR, on success and on failure."""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from helpers import start_podproxy, start_registry

pytestmark = pytest.mark.podman

BASE = "localhost/podproxy/base:1"


@pytest.fixture(scope="module")
def server(store):
    tmp = tempfile.mkdtemp(prefix="podproxy-tmp-")
    srv = start_podproxy(store, env={"TMPDIR": tmp})
    srv.tmp = tmp
    yield srv
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def leftovers(server) -> list:
    return [n for n in os.listdir(server.tmp) if not n.startswith("podproxy-metrics")]


def test_load_and_export_leave_nothing(server):
    archive = server.http.request("GET", "/images/get?names=" + BASE)
    assert archive.status == 200
    assert server.http.request("POST", "/images/load", body=archive.body).status == 200
    assert server.http.request("POST", "/v1.41/images/load", body=b"garbage").status == 500
    assert server.http.request("GET", "/images/nope/get").status == 404
    assert leftovers(server) == []


def test_push_leaves_nothing(server, store, tmp_path):
    registry = start_registry(str(tmp_path / "registry"))
    try:
        target = "%s/compat/leftover" % registry.address
        store.podman("tag", BASE, target + ":1")
        reply = server.http.request("POST", "/images/%s/push?tag=1&tlsVerify=false" % target)
        assert reply.status == 200 and b'"error"' not in reply.body
        assert leftovers(server) == []
    finally:
        registry.stop()
        store.podman("untag", BASE, target + ":1", check=False)


def test_metrics_and_logs_name_compat_routes(server):
    """Each compat route is its own metrics label and log route, versioned
    or not (the template, never the image name)."""
    from helpers import metric

    assert server.http.request("GET", "/images/json").status == 200
    assert server.http.request("GET", "/v1.41/images/%s/json" % BASE.replace("/", "%2F")).status == 200
    text = server.http.request("GET", "/metrics").text
    assert metric(text, "podproxy_http_requests_total", method="GET", route="/images/json", status="200") >= 1
    assert metric(text, "podproxy_http_requests_total", method="GET", route="/v{version}/images/{name}/json",
                  status="200") >= 1
    assert "base:1" not in text
