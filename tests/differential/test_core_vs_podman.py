"""podproxy against podman's own service, case by case: same status, same
content type and an equal body (IDs aside) for the read and remove
endpoints, ping and version, and podman's routing quirks."""
from __future__ import annotations

import json

import pytest

from .conftest import USED, normalize

V = "/v4.3.1/libpod"
ODD_NAMES = ["-a", "--help", "UPPER", "a:b:c", "x%2Fy", "nope", "sha256:nope", "localhost%2Fpodproxy%2Fbase:1"]


@pytest.mark.parametrize("name", ["localhost/podproxy/base:1", "podproxy/base:1", *ODD_NAMES])
def test_exists(pair, name):
    pair.same("GET", "%s/images/%s/exists" % (V, name))


def test_exists_by_id(pair):
    pair.same("GET", "%s/images/%s/exists" % (V, pair.store.base_id[:12]))
    pair.same("GET", "%s/images/sha256:%s/exists" % (V, pair.store.base_id))


@pytest.mark.parametrize("query", ["", "?whatrequires=true", "?WhatRequires=on", "?whatrequires=maybe",
                                   "?whatrequires=bad&whatrequires=1", "?whatrequires="])
@pytest.mark.parametrize("name", ["localhost/podproxy/base:1", USED, *ODD_NAMES])
def test_tree(pair, name, query):
    pair.same("GET", "%s/images/%s/tree%s" % (V, name, query))


@pytest.mark.parametrize("name", ["localhost/podproxy/base:1", "localhost%2Fpodproxy%2Fused:1", *ODD_NAMES])
def test_inspect(pair, name):
    pair.same("GET", "%s/images/%s/json?size=false" % (V, name))


def test_inspect_key_order_and_escaping(pair):
    ref, proxy = pair.both("GET", "%s/images/localhost/podproxy/base:1/json" % V)
    assert proxy.body == ref.body  # byte for byte: key order, Go escaping, newline


@pytest.mark.parametrize("target", [
    "/images/remove?images=nope&images=nope2",
    "/images/remove?images=nope&ignore=1",
    "/images/remove?IMAGES=nope&force=true",
    "/images/remove?images=" + USED,
    "/images/remove?images=nope&images=" + USED,
    "/images/remove?images=x&force=maybe",
    "/images/remove?all=yes&force=maybe",
    "/images/nope",
    "/images/nope?force=true",
    "/images/UPPER",
    "/images/-a",
    "/images/a:b:c",
    "/images/" + USED,
    "/images/nope?force=maybe",
    "/images/nope?ignore=true",  # podman 5.4+ (#24678): 200, no errors; before: 404
    "/images/nope?ignore=maybe",  # 5.4+: 400; before: ignored
])
def test_remove_errors(pair, target):
    pair.same("DELETE", V + target, ids=[pair.store.container_id])


@pytest.mark.parametrize("target", [
    "/images/localhost/podproxy/base:1?lookupManifest=true",
    "/images/remove?images=localhost/podproxy/base:1&lookupManifest=true",
])
def test_remove_lookup_manifest_of_an_image(pair, target):
    """Issue 13 point 5: lookupManifest on an image that is not a manifest
    list is refused (500 / ExitCode 125) and removes nothing."""
    pair.same("DELETE", V + target)
    assert pair.store.podman("image", "exists", "localhost/podproxy/base:1", check=False).returncode == 0


@pytest.mark.parametrize("target", [
    "/images/nope/untag",
    "/images/nope/untag?repo=x",
    "/images/localhost/podproxy/base:1/untag?tag=x",
    "/images/localhost/podproxy/base:1/untag?repo=UPPER",
    "/images/localhost/podproxy/base:1/untag?repo=localhost/podproxy/base&tag=notthere",
    "/images/UPPER/untag?repo=x",
])
def test_untag_errors(pair, target):
    pair.same("POST", V + target)


@pytest.mark.parametrize("query", [
    "filters=%7Bbad", "filters=notjson", "filters=", "all=maybe", "all=maybe&filters=%7Bbad",
    "filters=%7B%22all%22%3A%5B%22x%22%5D%7D", "filters=%7B%22all%22%3A%5B%22true%22%5D%7D",
    "filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", "filters=%5B1%5D", "filters=%7B%22label%22%3A%22x%22%7D",
    "all=maybe&buildcache=maybe",  # podman 5.3+ (#23846): both keys are bad; before: only all
])
def test_prune_errors(pair, query):
    pair.same("POST", "%s/images/prune?%s" % (V, query))


@pytest.mark.parametrize("method,target", [
    ("GET", "/libpod/images/json"),
    ("GET", "/libpod/images/x/exists"),
    ("GET", "/vfoo/libpod/images/x/exists"),
    ("GET", "/V4/libpod/images/x/exists"),
    ("GET", V + "/images/foo"),
    ("GET", V + "/images/foo/bar"),
    ("GET", V + "/images/remove"),
    ("POST", V + "/images/foo/exists"),
    ("HEAD", V + "/images/foo/exists"),
    ("GET", V + "//images/foo/exists?x=1"),
    ("GET", V + "/images/a/../b/exists"),
    ("GET", "/nothing/here"),
    ("PUT", "/_ping"),
    ("GET", "/v0/libpod/images/nope/exists"),
    ("GET", "/v1.41/libpod/images/nope/exists"),
    ("GET", "/v4.3.1-rc1/libpod/images/nope/exists"),
])
def test_routing(pair, method, target):
    ref, proxy = pair.same(method, target)
    for header in ("location", "api-version", "libpod-api-version"):
        assert proxy.headers.get(header) == ref.headers.get(header), header


@pytest.mark.parametrize("target", ["/_ping", "/libpod/_ping", "/v4.3.1/_ping", V + "/_ping"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ping(pair, method, target):
    ref, proxy = pair.same(method, target)
    for header in ("api-version", "libpod-api-version", "server", "libpod-buildah-version", "cache-control",
                   "docker-experimental", "pragma", "builder-version", "buildkit-version", "content-type"):
        assert proxy.headers.get(header) == ref.headers.get(header), header


def test_reference_id_echoed(pair):
    ref, proxy = pair.both("GET", "/_ping", headers={"X-Reference-Id": "abc-123"})
    assert proxy.headers["x-reference-id"] == ref.headers["x-reference-id"] == "abc-123"


@pytest.mark.parametrize("target", ["/version", "/v4.3.1/version", V + "/version"])
def test_version(pair, target):
    pair.same("GET", target)


def test_info_keys(pair):
    ref, proxy = pair.both("GET", V + "/info")
    assert proxy.status == ref.status == 200
    assert list(proxy.json()) == list(ref.json())
    assert proxy.json()["version"] == ref.json()["version"]


# -- changes: each side gets the same state, then the same request ------------

def _tagged(store, ref, extra_tag):
    image_id = store.make_image(ref, marker="same-content")
    store.podman("tag", ref, extra_tag)
    return image_id


def test_untag_success(pair):
    store = pair.store
    results = []
    for server in (pair.ref, pair.proxy):
        _tagged(store, "localhost/podproxy/untag:1", "localhost/podproxy/untag:2")
        reply = server.http.request("POST", V + "/images/localhost/podproxy/untag:1/untag?repo=localhost/podproxy/untag&tag=2")
        names = json.loads(store.out("image", "inspect", "--format", "{{json .RepoTags}}", "localhost/podproxy/untag:1"))
        results.append((reply.status, reply.headers.get("content-type"), reply.body, names))
        store.podman("rmi", "-f", "localhost/podproxy/untag:1")
    assert results[0] == results[1]
    assert results[0][0] == 201


def test_untag_all_names(pair):
    store = pair.store
    results = []
    for server in (pair.ref, pair.proxy):
        image_id = _tagged(store, "localhost/podproxy/untag-all:1", "localhost/podproxy/untag-all:2")
        reply = server.http.request("POST", V + "/images/localhost/podproxy/untag-all:1/untag")
        names = store.out("image", "inspect", "--format", "{{json .RepoTags}}", image_id).strip()
        results.append((reply.status, reply.body, names))
        store.podman("rmi", "-f", image_id)
    assert results[0] == results[1] == (201, b"\n", "[]")


@pytest.mark.parametrize("how", ["name", "second-tag", "id", "id-with-two-tags", "force-in-use"])
def test_remove_success(pair, how):
    store = pair.store
    results = []
    for server in (pair.ref, pair.proxy):
        image_id = store.make_image("localhost/podproxy/rm:1", marker="rm-" + how)
        target = "localhost/podproxy/rm:1"
        if how == "second-tag":
            store.podman("tag", target, "localhost/podproxy/rm:2")
            target = "localhost/podproxy/rm:2"
        elif how == "id":
            target = image_id
        elif how == "id-with-two-tags":
            store.podman("tag", "localhost/podproxy/rm:1", "localhost/podproxy/rm:2")
            target = image_id
        elif how == "force-in-use":
            store.create_container(image_id, "podproxy-rm-user")
            target += "?force=true"
        reply = server.http.request("DELETE", V + "/images/" + target)
        left = store.podman("image", "exists", image_id, check=False).returncode
        results.append(normalize(reply, [image_id]) + (left,))
        store.podman("rm", "-f", "podproxy-rm-user", check=False)
        store.podman("rmi", "-f", image_id, check=False)
    assert results[0] == results[1]


def test_batch_remove_by_names(pair):
    store = pair.store
    results = []
    for server in (pair.ref, pair.proxy):
        a = store.make_image("localhost/podproxy/batch-a:1", marker="a")
        b = store.make_image("localhost/podproxy/batch-b:1", marker="b")
        reply = server.http.request(
            "DELETE", V + "/images/remove?images=localhost/podproxy/batch-a:1&images=nope&images=" + b[:12])
        results.append(normalize(reply, [a, b]))
        store.podman("rmi", "-f", a, b, check=False)
    assert results[0] == results[1]
    assert results[0][2]["ExitCode"] == 1


def _prune_state(store):
    ids = [store.make_image("localhost/podproxy/keep:1", marker="keep")]
    dangling = store.make_image("localhost/podproxy/dangling:1", marker="dangling")
    store.podman("untag", dangling)
    ids.append(dangling)
    ids.append(store.make_image("localhost/podproxy/unused:1", marker="unused"))
    return ids


def _sizes(store, ids):
    return {i: int(store.out("image", "inspect", "--format", "{{.Size}}", i)) for i in ids}


@pytest.mark.parametrize("query", ["", "?all=true", "?all=1&filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D",
                                   "?filters=%7B%22label%22%3A%7B%22none%3Dx%22%3Atrue%7D%7D"])
def test_prune(fresh_pair, query):
    """Same images pruned, and each report's Size is the image's size (the
    size itself varies from store to store: it counts the config blob, whose
    creation time has a varying number of digits)."""
    stores, pair = fresh_pair
    results = []
    for store, server in zip(stores, (pair.ref, pair.proxy), strict=True):
        ids = _prune_state(store)
        sizes = _sizes(store, ids)
        reply = server.http.request("POST", V + "/images/prune" + query)
        assert reply.status == 200, reply.text
        report = [{"Id": ids.index(r["Id"]), "SizeRight": r["Size"] == sizes[r["Id"]]} for r in reply.json()]
        results.append((report, reply.headers.get("content-type"),
                        sorted(store.out("images", "--format", "{{.Repository}}").split())))
    assert results[0] == results[1]


def test_batch_remove_without_images_removes_all_unused(fresh_pair):
    """podman's dangerous edge, reproduced: no ``images`` removes every
    image that no container uses."""
    stores, pair = fresh_pair
    results = []
    for store, server in zip(stores, (pair.ref, pair.proxy), strict=True):
        keep = store.make_image("localhost/podproxy/in-use:1", marker="in-use")
        container = store.create_container(keep, "podproxy-keeper")
        gone = store.make_image("localhost/podproxy/gone:1", marker="gone")
        reply = server.http.request("DELETE", V + "/images/remove")
        results.append((normalize(reply, [keep, gone, container]), sorted(store.image_ids()) == [keep]))
    assert results[0] == results[1]
    assert results[0][1], "only the image in use is left"
