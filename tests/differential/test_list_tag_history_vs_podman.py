"""podproxy against podman's own service for the image list, tag, history
and changes: same status, content type and body (IDs aside)."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from .conftest import USED

V = "/v4.3.1/libpod"
BASE = "localhost/podproxy/base:1"


def filters(obj) -> str:
    return "filters=" + quote(json.dumps(obj, separators=(",", ":")))


@pytest.mark.parametrize("query", [
    "", "?all=true", "?ALL=1", "?all=maybe", "?digests=1", "?digests=false", "?Digests=true",
    "?" + filters({"reference": ["localhost/podproxy/base"]}),
    "?" + filters({"reference": {"localhost/podproxy/*:1": True}}),
    "?" + filters({"dangling": ["true"]}),
    "?" + filters({"dangling": ["maybe"]}),
    "?" + filters({"containers": ["true"]}),
    "?" + filters({"containers": ["false"]}),
    "?" + filters({"readonly": ["false"]}),
    "?" + filters({"label": ["a", "b"]}),  # podman 5.0+: each value a filter (labels AND); 4.x: "a=b"
    "?" + filters({"label": ["a=1", "b=2"]}),
    "?" + filters({"label": ["a", "c"]}),
    "?" + filters({"reference": ["localhost/podproxy/base", "localhost/podproxy/used"]}),  # 5.0+: OR
    "?" + filters({"id": ["nope"]}),
    "?" + filters({"since": [BASE]}),
    "?" + filters({"before": [USED]}),
    "?" + filters({"since": ["nope"]}),
    "?" + filters({"until": ["xx"]}),
    "?" + filters({"until": ["1h"]}),
    "?" + filters({"bogus": ["x"]}),
    "?filters=notjson", "?filters=", "?Filters=%7B%7D",
])
def test_list(pair, query):
    pair.same("GET", V + "/images/json" + query)


def test_list_by_id_filter(pair):
    pair.same("GET", V + "/images/json?" + filters({"id": [pair.store.base_id[:12]]}))


def test_list_order_and_bytes(pair):
    """Storage order, RepoTags = all names, key order and escaping: byte for byte."""
    ref, proxy = pair.both("GET", V + "/images/json?all=true")
    assert proxy.body == ref.body
    assert len({i["Id"] for i in ref.json()}) == len(ref.json()) >= 2


@pytest.mark.parametrize("name", [BASE, USED, "nope", "UPPER", "-a", "a:b:c", "sha256:nope"])
def test_history(pair, name):
    pair.same("GET", "%s/images/%s/history" % (V, name))


def test_history_by_id(pair):
    ref, proxy = pair.same("GET", "%s/images/%s/history" % (V, pair.store.base_id))
    assert isinstance(ref.json()[0]["Created"], int)


# Not "?difftype=image&diffType=bogus": two spellings of one key make
# podman's own answer random (400 or 200 from one run to the next: which
# one gorilla/schema decodes depends on Go's map order), so no fixed answer
# can be compared.
@pytest.mark.parametrize("query", ["", "?diffType=all", "?diffType=image", "?diffType=container",
                                   "?diffType=bad", "?diffType=", "?DIFFTYPE=image"])
@pytest.mark.parametrize("name", ["localhost%2Fpodproxy%2Fbase:1", "podproxy-used", "nope", "UPPER"])
def test_changes(pair, name, query):
    pair.same("GET", "%s/images/%s/changes%s" % (V, name, query), ids=[pair.store.container_id])


@pytest.mark.parametrize("parent", ["labelled", "base", "nope", "container", "UPPER"])
@pytest.mark.parametrize("query", ["", "&diffType=image", "&diffType=container"])
def test_changes_against_a_parent(pair, parent, query):
    """Issue 13 point 5: ``parent`` is ``podman diff NAME PARENT``."""
    store = pair.store
    parents = {"labelled": store.labelled_id, "base": store.base_id, "container": "podproxy-used",
               "nope": "nope", "UPPER": "UPPER"}
    pair.same("GET", "%s/images/%s/changes?parent=%s%s" % (V, store.used_id, parents[parent], query),
              ids=[store.container_id, store.base_id, store.labelled_id])


def test_changes_raw_slash_is_405(pair):
    pair.same("GET", V + "/images/localhost/podproxy/base:1/changes")


@pytest.mark.parametrize("target", [
    "/images/nope/tag?repo=x", "/images/nope/tag", "/images/UPPER/tag?repo=x", "/images/UPPER/tag",
    "/images/-a/tag?repo=x", "/images/%s/tag" % BASE, "/images/%s/tag?tag=only" % BASE,
    "/images/%s/tag?repo=UPPER" % BASE, "/images/%s/tag?repo=a:b&tag=c" % BASE,
    "/images/%s/tag?repo=x&tag=-v" % BASE, "/images/%s/tag?repo=x&tag=a@b" % BASE,
])
def test_tag_errors(pair, target):
    pair.same("POST", V + target)


def test_tag(pair):
    """Each server tags under its own name; both answer 201 "\\n" and the tag exists."""
    for n, server in enumerate((pair.ref, pair.proxy)):
        reply = server.http.request("POST", V + "/images/%s/tag?repo=localhost/tagged/%d&tag=t" % (BASE, n))
        assert (reply.status, reply.body, reply.headers["content-type"]) == (201, b"\n", "text/plain; charset=us-ascii")
        assert pair.store.podman("image", "exists", "localhost/tagged/%d:t" % n).returncode == 0


def test_tag_form_body_wins(pair):
    body = b"repo=localhost/tagged/form"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = pair.proxy.http.request("POST", V + "/images/%s/tag?repo=localhost/tagged/url" % BASE, body=body,
                                    headers=headers)
    assert reply.status == 201
    assert pair.store.podman("image", "exists", "localhost/tagged/form:latest").returncode == 0
    assert pair.store.podman("image", "exists", "localhost/tagged/url:latest", check=False).returncode == 1


@pytest.mark.parametrize("query", ["", "?difftype=image", "?diffType=container", "?diffType=bad"])
@pytest.mark.parametrize("name", ["localhost%2Fpodproxy%2Fbase:1", "podproxy-used", "nope"])
def test_container_changes_route(pair, name, query):
    """The same handler on the containers path (the remote ``image diff`` uses it)."""
    pair.same("GET", "%s/containers/%s/changes%s" % (V, name, query), ids=[pair.store.container_id])
