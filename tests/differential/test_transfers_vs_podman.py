"""Transfers asked of podproxy and of ``podman system service`` on the same
store: same status, same Content-Type, equivalent bodies. Archives are
compared by their member lists and manifests (bytes differ: timestamps,
compression), error bodies as JSON (messages with temp paths by prefix)."""
from __future__ import annotations

import json

import pytest
from helpers import tar_json, tar_members

from .conftest import USED, normalize

V = "/v4.3.1/libpod"
BASE = "localhost/podproxy/base:1"
BASE_Q = "localhost%2Fpodproxy%2Fbase:1"


def archive_view(reply):
    """Status, content type and what an archive holds."""
    ctype = reply.headers.get("content-type")
    if reply.status != 200 or ctype == "application/json":
        return normalize(reply)
    names = tar_members(reply.body)
    view = {"members": names}
    for meta in ("manifest.json", "index.json"):
        if meta in names:
            view[meta] = tar_json(reply.body, meta)
    return reply.status, ctype, view


@pytest.mark.parametrize("target", [
    "/images/%s/get" % BASE_Q,
    "/images/%s/get?format=oci-archive" % BASE,
    "/images/%s/get?format=docker-archive" % BASE_Q,
    "/images/%s/get?format=oci-dir" % BASE_Q,
    "/images/%s/get?format=docker-dir" % BASE_Q,
    "/images/%s/get?format=docker-dir&compress=true" % BASE_Q,
    "/images/%s/get?format=oci-dir&compress=true" % BASE_Q,
    "/images/%s/get?format=bogus" % BASE_Q,
    "/images/%s/get?compress=maybe" % BASE_Q,
    "/images/nope/get",
    "/images/nope/get?format=bogus",
    "/images/UPPER/get",
    "/images/export?references=%s" % BASE_Q,
    "/images/export?references=%s&format=docker-archive&compress=true" % BASE_Q,
    "/images/export?references=%s&format=oci-dir" % BASE_Q,
    "/images/export?references=%s&format=docker-dir" % BASE_Q,
    "/images/export?references=%s&ociAcceptUncompressedLayers=true" % BASE_Q,
    "/images/export?references=%s&references=%s&format=docker-archive" % (BASE_Q, USED),
    "/images/export?references=%s&references=%s" % (BASE_Q, USED),
    "/images/export?references=%s&format=bogus" % BASE_Q,
    "/images/export?references=nope&format=docker-archive",
    "/images/export?references=%s&references=nope&format=docker-archive" % BASE_Q,
    "/images/export?references=a,b",
    "/images/export?references=",
    "/images/export",
])
def test_export(pair, target):
    ref, proxy = pair.both("GET", V + target)
    assert archive_view(proxy) == archive_view(ref), target


def payload_error(reply):
    """A load error's status and stable part (podman names temp files)."""
    body = reply.json()
    return reply.status, reply.headers.get("content-type"), body["response"], body["message"].split(":\n")[0]


@pytest.mark.parametrize("body, headers", [
    (b"garbage", {}),
    (b"", {}),
    (b"garbage", {"Content-Type": "application/x-www-form-urlencoded"}),
])
def test_load_errors(pair, body, headers):
    ref, proxy = pair.both("POST", V + "/images/load", body=body, headers=headers)
    assert payload_error(proxy) == payload_error(ref)
    assert ref.status == 500


def test_load_archives(pair):
    for target in ("/images/export?references=%s&references=%s&format=docker-archive" % (BASE_Q, USED),
                   "/images/%s/get" % BASE_Q):
        archive = pair.ref.http.request("GET", V + target).body
        for headers in ({}, {"Content-Type": "application/x-tar"}):
            pair.same("POST", V + "/images/load", body=archive, headers=headers)
            ref, proxy = pair.both("POST", V + "/images/load", body=[archive[:70000], archive[70000:]])  # chunked
            assert (proxy.status, proxy.json()) == (ref.status, ref.json())


def test_load_form_content_type_with_an_archive(pair):
    """podman's ParseForm swallows the body: both fail the same way."""
    archive = pair.ref.http.request("GET", V + "/images/%s/get" % BASE_Q).body
    ref, proxy = pair.both("POST", V + "/images/load", body=archive,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert payload_error(proxy) == payload_error(ref)


def rootfs(store, marker):
    with open(store.rootfs_tar({"marker": marker.encode()}), "rb") as f:
        return f.read()


@pytest.mark.parametrize("query", [
    "reference=localhost/podproxy/imported:1&message=hello&changes=CMD%3D/bin/sh&changes=ENV%20A%3Db",
    "OS=linux&Architecture=arm64&Variant=v8",
    "changes=BOGUS%20x",
    "reference=UPPER",
    "reference=a@b",
    "changes=ENV",
])
def test_import(pair, query):
    body = rootfs(pair.store, query)
    ref, proxy = pair.both("POST", V + "/images/import?" + query, body=body)
    assert proxy.status == ref.status and proxy.headers["content-type"] == ref.headers["content-type"]
    if ref.status == 200:
        assert set(proxy.json()) == {"Id"} and proxy.json()["Id"].startswith("sha256:")
        ref_img, proxy_img = (json.loads(pair.store.out("image", "inspect", r.json()["Id"]))[0] for r in (ref, proxy))
        for key in ("Comment", "Architecture", "Os", "Variant"):
            assert proxy_img.get(key) == ref_img.get(key)
        assert proxy_img["Config"] == ref_img["Config"]
    else:
        assert proxy.json() == ref.json()


def test_import_garbage(pair):
    ref, proxy = pair.both("POST", V + "/images/import", body=b"garbage")
    assert normalize(proxy) == normalize(ref)


@pytest.mark.parametrize("query", [
    "container=nope",
    "",
    "container=nope&comment=x",
    "container=nope&format=bogus",
    "container=podproxy-used&repo=UPPER",
    "container=podproxy-used&pause=maybe",
    "container=podproxy-used&comment=c&format=oci",
])
def test_commit_errors(pair, query):
    pair.same("POST", V + "/commit?" + query)


def test_commit(pair):
    query = ("container=podproxy-used&repo=localhost/podproxy/committed&tag=t&format=docker&comment=snap"
             "&author=me&changes=ENV%20FOO%3Dbar")
    ref, proxy = pair.both("POST", V + "/commit?" + query)
    assert (proxy.status, set(proxy.json())) == (ref.status, set(ref.json())) == (200, {"Id"})
    ref_img, proxy_img = (json.loads(pair.store.out("image", "inspect", r.json()["Id"]))[0] for r in (ref, proxy))
    for key in ("Author", "Comment", "ManifestType"):
        assert proxy_img[key] == ref_img[key]
    assert proxy_img["Config"]["Env"] == ref_img["Config"]["Env"]


@pytest.mark.parametrize("target", [
    "/images/scp/%s" % BASE,
    "/images/scp/%s?destination=root@localhost::" % BASE,
    "/images/scp/%s?destination=other" % BASE,
    "/images/scp/%s?destination=root@localhost::UPPER" % BASE,
    "/images/scp/?destination=other",
    "/images/scp/",
    "/images/scp/%s?quiet=maybe" % BASE,
    "/images/scp/%s/untag?destination=x" % BASE,
])
def test_scp_local(pair, target):
    pair.same("POST", V + target)


def test_scp_remote_bad_destination(pair):
    """Issue 13 point 5, podman's own test/apiv2/12-imagesMore.at: with
    scp allowed, a transfer to a connection that does not exist fails
    with cause "exit status 125"."""
    from helpers import start_podproxy

    server = start_podproxy(pair.store, "--allow-scp")
    try:
        target = V + "/images/scp/%s?destination=QA::" % BASE
        ref, proxy = pair.ref.http.request("POST", target), server.http.request("POST", target)
        assert (proxy.status, proxy.json()) == (ref.status, ref.json())
        assert (ref.status, ref.json()["cause"]) == (500, "exit status 125")
    finally:
        server.stop()


@pytest.mark.parametrize("body", [b'{"Env":["A=1"],"Labels":{"k":"v"},"Cmd":["/bin/busybox","true"]}',
                                  b"", b"null", b"{nope}", b'{"Env":', b"[1]", b"{} trailing"])
def test_commit_config_body(pair, body):
    """podman 5.0 (#20657) merges a JSON config sent as the body (bad JSON:
    400, before the container lookup); 4.3.1 ignores the body."""
    query = "container=podproxy-used&repo=localhost/podproxy/config-body&tag=t"
    ref, proxy = pair.both("POST", V + "/commit?" + query, body=body)
    ids = [[r.json().get("Id", "-")] for r in (ref, proxy)]
    assert normalize(proxy, ids[1]) == normalize(ref, ids[0])
    configs = [json.loads(pair.store.out("image", "inspect", "--format", "{{json .Config}}", r.json()["Id"]))
               for r in (ref, proxy) if r.status == 200]
    assert all(c == configs[0] for c in configs)
    errs = [pair.ref.http.request("POST", V + "/commit?container=nope", body=body).json().get("cause")]
    errs.append(pair.proxy.http.request("POST", V + "/commit?container=nope", body=body).json().get("cause"))
    assert errs[0] == errs[1]
