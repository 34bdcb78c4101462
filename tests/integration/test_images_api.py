"""The core endpoints through the Flask app with the real podman on an
isolated store."""
from __future__ import annotations

import json

import pytest

V = "/v4.3.1/libpod"


def test_exists_found_and_missing(client, store):
    assert client.get(V + "/images/localhost/podproxy/base:1/exists").status_code == 204
    r = client.get(V + "/images/nope/exists")
    assert r.status_code == 404
    assert r.get_data(as_text=True) == '{"cause":"failed to find image nope","message":"failed to find image nope","response":404}\n'


def test_inspect_is_podmans_imagedata(client, store):
    r = client.get(V + "/images/localhost%2Fpodproxy%2Fbase:1/json")
    assert r.status_code == 200 and r.content_type == "application/json"
    data = r.get_json()
    assert data["Id"] == store.base_id
    assert list(data)[:4] == ["Id", "Digest", "RepoTags", "RepoDigests"]


def test_tree(client, store):
    r = client.get(V + "/images/localhost/podproxy/base:1/tree")
    assert r.status_code == 200
    assert r.get_json()["Tree"].startswith("Image ID: " + store.base_id[:12])


@pytest.mark.parametrize("name", ["-a", "--all", "--help", "-f", "--force=true"])
def test_option_like_names_are_names(fresh_store, fresh_client, name):
    """Nothing a client sends becomes a podman option: a name that looks
    like ``-a`` must not remove every image."""
    keep = fresh_store.make_image("localhost/podproxy/keep:1")
    for method, path in [("DELETE", "/images/%s" % name), ("DELETE", "/images/remove?images=%s" % name),
                         ("GET", "/images/%s/tree" % name), ("GET", "/images/%s/json" % name),
                         ("GET", "/images/%s/exists" % name), ("POST", "/images/%s/untag" % name)]:
        r = fresh_client.open(V + path, method=method)
        assert r.status_code in (200, 404, 500), (path, r.status_code)
        assert "Usage:" not in r.get_data(as_text=True)
    assert fresh_store.image_ids() == {keep}


def test_untag_form_body_wins_over_query(fresh_store, fresh_client):
    image = fresh_store.make_image("localhost/podproxy/u:1")
    fresh_store.podman("tag", image, "localhost/podproxy/u:form", "localhost/podproxy/u:query")
    r = fresh_client.post(V + "/images/localhost/podproxy/u:1/untag?repo=localhost/podproxy/u&tag=query",
                          data={"repo": "localhost/podproxy/u", "tag": "form"})
    assert r.status_code == 201 and r.get_data() == b"\n"
    tags = json.loads(fresh_store.out("image", "inspect", "--format", "{{json .RepoTags}}", image))
    assert sorted(tags) == ["localhost/podproxy/u:1", "localhost/podproxy/u:query"]


def test_prune_reports_sizes(fresh_store, fresh_client):
    dangling = fresh_store.make_image("localhost/podproxy/d:1")
    size = int(fresh_store.out("image", "inspect", "--format", "{{.Size}}", dangling))
    fresh_store.podman("untag", dangling)
    r = fresh_client.post(V + "/images/prune")
    assert r.status_code == 200
    assert r.get_json() == [{"Id": dangling, "Size": size}]
    assert fresh_client.post(V + "/images/prune").get_json() == []


def test_remove_in_use_is_409_and_force_removes_container(fresh_store, fresh_client):
    image = fresh_store.make_image("localhost/podproxy/used:1")
    fresh_store.create_container(image, "user")
    r = fresh_client.delete(V + "/images/localhost/podproxy/used:1")
    assert r.status_code == 409 and r.get_json()["cause"] == "image is in use by a container"
    r = fresh_client.delete(V + "/images/localhost/podproxy/used:1?force=true")
    assert r.status_code == 200
    body = r.get_json()
    assert body["Deleted"] == [image] and body["Errors"] == [] and body["ExitCode"] == 0
    assert fresh_store.out("ps", "-aq").strip() == ""


def test_batch_remove_force_still_reports_missing(fresh_store, fresh_client):
    """``podman image rm -f`` hides "image not known"; the API reports it."""
    image = fresh_store.make_image("localhost/podproxy/b:1")
    r = fresh_client.delete(V + "/images/remove?force=true&images=nope&images=localhost/podproxy/b:1")
    assert r.get_json() == {"Deleted": [image], "Untagged": ["localhost/podproxy/b:1"], "ExitCode": 1,
                            "Errors": ["nope: image not known"]}


def test_api_headers(client):
    r = client.get(V + "/images/nope/exists", headers={"X-Reference-Id": "r-1"})
    assert r.headers["X-Reference-Id"] == "r-1"
    assert r.headers["Libpod-Api-Version"] == "4.3.1" and r.headers["Api-Version"] == "1.41"
    assert r.headers["Server"] == "Libpod/4.3.1 (linux)"


def test_router_miss_has_no_api_headers(client):
    r = client.get("/libpod/images/json")
    assert r.status_code == 404 and r.get_data() == b"Not Found\n"
    assert "Libpod-Api-Version" not in r.headers


def test_podman_missing_is_a_500_in_podmans_shape(store):
    from podproxy.app import create_app
    from podproxy.settings import Settings

    client = create_app({"TESTING": True}, settings=Settings(podman="/nonexistent/podman")).test_client()
    r = client.get(V + "/images/x/json")
    assert r.status_code == 500
    body = r.get_json()
    assert set(body) == {"cause", "message", "response"} and "podman not found" in body["message"]
