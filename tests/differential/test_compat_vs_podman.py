"""podproxy against podman's own service for the Docker-compatible image
routes (``/images/...``, with and without ``/v{version}``): same status,
content type, body (IDs aside) and the headers Docker clients read."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from helpers import context_tar as tar_of
from helpers import podman_features

from .conftest import USED, new_diff_store, serve_pair

BASE = "localhost/podproxy/base:1"
PREFIXES = ["", "/v1.41", "/v1.24"]
NAMES = [BASE, "podproxy/base:1", "base:1", USED, "nope", "UPPER", "Abc/def", "-a", "a:b:c", "sha256:nope",
         "localhost%2Fpodproxy%2Fbase:1"]


@pytest.fixture(scope="module")
def diff_store():
    """This module's own store: whole-store answers (list, prune, load) must
    not see what the libpod differential tests leave on the shared one."""
    s = new_diff_store()
    yield s
    s.destroy()


@pytest.fixture(scope="module")
def pair(diff_store):
    yield from serve_pair(diff_store)


def filters(obj) -> str:
    return "filters=" + quote(json.dumps(obj, separators=(",", ":")))


def names(store) -> list:
    """Every image name in the store, sorted (the storage effect of a tag or remove)."""
    return sorted(store.out("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines())


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("query", [
    "", "?all=1", "?digests=1", "?filter=localhost/podproxy/base", "?filter=nope",
    "?" + filters({"reference": {"localhost/podproxy/*:1": True}}),
    "?" + filters({"dangling": {"true": True}}),
    "?" + filters({"label": ["a"]}),
    "?filters=notjson", "?all=maybe",
])
def test_list(pair, prefix, query):
    ref, proxy = pair.same("GET", prefix + "/images/json" + query)
    assert proxy.headers.get("api-version") == ref.headers.get("api-version") == "1.41"


def test_list_bytes(pair):
    ref, proxy = pair.both("GET", "/images/json")
    assert proxy.body == ref.body
    assert all(i["Id"].startswith("sha256:") for i in ref.json())


@pytest.mark.parametrize("prefix", PREFIXES[:2])
@pytest.mark.parametrize("name", NAMES)
def test_inspect(pair, prefix, name):
    pair.same("GET", "%s/images/%s/json" % (prefix, name))


def test_inspect_bytes_by_id(pair):
    """Docker's ImageInspect byte for byte, by full and short ID."""
    for name in (pair.store.base_id, pair.store.base_id[:12], "sha256:" + pair.store.base_id):
        ref, proxy = pair.both("GET", "/images/%s/json" % name)
        assert ref.status == 200
        assert proxy.body == ref.body, name


def test_inspect_config_fields(fresh_pair):
    """Ports, env, labels, volumes, workdir, entrypoint, stop signal, user."""
    stores, pair = fresh_pair
    changes = ["ENV A=b", "EXPOSE 80", "EXPOSE 53/udp", "LABEL x=y", "VOLUME /data", "WORKDIR /w", "USER 1:2",
               'ENTRYPOINT ["/bin/busybox"]', 'CMD ["true"]', "STOPSIGNAL SIGINT"]
    for s in stores:
        s.make_image("localhost/cfg:1", marker="m", changes=changes)
    ref, proxy = pair.both("GET", "/images/localhost/cfg:1/json")
    assert ref.status == 200
    body = json.loads(ref.body)
    assert body["Config"]["ExposedPorts"] == {"53/udp": {}, "80/tcp": {}}
    got, want = json.loads(proxy.body), json.loads(ref.body)
    assert list(got) == list(want)  # Go's field order, omitempty alike
    for key in ("Id", "RepoDigests", "Created", "GraphDriver", "RootFS", "Size", "VirtualSize"):
        got.pop(key), want.pop(key)
    got["ContainerConfig"]["Hostname"] = want["ContainerConfig"]["Hostname"] = "<ID>"
    assert got == want
    assert list(got["Config"]) == list(want["Config"])


@pytest.mark.parametrize("prefix", PREFIXES[:2])
@pytest.mark.parametrize("name", NAMES)
def test_history(pair, prefix, name):
    pair.same("GET", "%s/images/%s/history" % (prefix, name))


@pytest.mark.parametrize("target", [
    "/images/nope/tag?repo=x", "/images/nope/tag", "/images/UPPER/tag?repo=x", "/images/%s/tag" % BASE,
    "/images/%s/tag?tag=only" % BASE, "/images/%s/tag?repo=UPPER" % BASE, "/images/%s/tag?repo=a:b&tag=c" % BASE,
    "/images/%s/tag?repo=x&tag=-v" % BASE, "/images/-a/tag?repo=x",
])
def test_tag_errors(pair, target):
    before = names(pair.store)
    pair.same("POST", target)
    pair.same("POST", "/v1.41" + target)
    assert names(pair.store) == before


def _each(pair, setup, method, target, cleanup=None):
    """``setup``, the request, the store's names, ``cleanup``: once per
    server on the shared store; the replies and the effects."""
    replies, effects = [], []
    for server in (pair.ref, pair.proxy):
        setup()
        replies.append(server.http.request(method, target))
        effects.append(names(pair.store))
        if cleanup:
            cleanup()
    return replies, effects


@pytest.mark.parametrize("target,made", [
    ("/images/%s/tag?repo=tagged" % BASE, "docker.io/library/tagged:latest"),
    ("/v1.41/images/base:1/tag?repo=localhost/tagged&tag=2", "localhost/tagged:2"),
    ("/images/podproxy/base:1/tag?repo=quay.io/x/y&tag=z", "quay.io/x/y:z"),
])
def test_tag(pair, target, made):
    """Same answer (201 "\\n"), same new name (short names go to Docker Hub)."""
    (ref, proxy), (ref_names, proxy_names) = _each(
        pair, lambda: None, "POST", target, lambda: pair.store.podman("untag", BASE, made))
    assert (proxy.status, proxy.body, proxy.headers["content-type"]) == (ref.status, ref.body,
                                                                       ref.headers["content-type"])
    assert ref.status == 201
    assert proxy_names == ref_names
    assert any(n.startswith(made + " ") for n in ref_names)


@pytest.mark.parametrize("target", [
    "/images/extra", "/images/extra?noprune=1", "/images/extra:latest?force=true", "/v1.41/images/extra",
    "/images/docker.io/library/extra", "/images/nope", "/images/UPPER", "/images/" + USED,
    "/images/%s?force=1" % "localhost/podproxy/other:1", "/images/localhost/podproxy/other:1",
    "/images/nope?noprune=bad", "/images/nope?ignore=1", "/images/extra?ignore=true",
])
def test_remove(pair, target):
    """rmi by short and full name, untag vs delete, in use (409), bad names."""
    store = pair.store

    def setup():
        store.podman("tag", BASE, "docker.io/library/extra:latest")
        store.podman("tag", BASE, "localhost/podproxy/other:1")
        store.make_image("localhost/podproxy/other:1", marker="other")

    def cleanup():
        store.podman("rmi", "-f", "docker.io/library/extra:latest", check=False)
        store.podman("rmi", "-f", "localhost/podproxy/other:1", check=False)

    (ref, proxy), (ref_names, proxy_names) = _each(pair, setup, "DELETE", target, cleanup)
    other = store.image_ids()
    from .conftest import normalize

    ids = sorted(other) + [store.container_id]
    assert normalize(proxy, ids)[:2] == normalize(ref, ids)[:2]
    if ref.status == 200:  # a new "other" image per round: its ID differs
        strip = lambda r: [{k: ("<ID>" if k == "Deleted" else v) for k, v in d.items()} for d in r.json()]  # noqa
        assert strip(proxy) == strip(ref)
    else:
        assert proxy.body == ref.body
    assert [n.split()[0] for n in proxy_names] == [n.split()[0] for n in ref_names]


# What only podman's own process knows (its fd and goroutine counts, a
# random ID, the time) is not compared; DriverStatus is a Go map walk
# (random order in podman itself).
_INFO_OWN = ("ID", "NFd", "NGoroutines", "SystemTime", "Uptime", "DriverStatus")


@pytest.mark.parametrize("target", ["/info", "/v1.41/info", "/v1.24/info"])
def test_info(pair, target):
    ref, proxy = pair.both("GET", target)
    assert (proxy.status, proxy.headers["content-type"]) == (ref.status, ref.headers["content-type"]) == (
        200, "application/json")
    got, want = proxy.json(), ref.json()
    assert list(got) == list(want)
    assert sorted(map(tuple, got["DriverStatus"])) == sorted(map(tuple, want["DriverStatus"]))
    for key in _INFO_OWN:
        got.pop(key), want.pop(key)
    assert got == want
    assert proxy.headers["api-version"] == "1.41"


@pytest.mark.parametrize("target", ["/version", "/v1.41/version", "/v1.24/version"])
def test_version(pair, target):
    ref, proxy = pair.same("GET", target)
    assert (ref.json()["ApiVersion"], ref.json()["MinAPIVersion"]) == ("1.41", "1.24")
    assert proxy.headers["api-version"] == ref.headers["api-version"] == "1.41"


# -- export, load, prune, search -----------------------------------------------

def archive_view(reply):
    from helpers import tar_json, tar_members

    from .conftest import normalize

    ctype = reply.headers.get("content-type")
    if reply.status != 200 or ctype == "application/json":
        return normalize(reply)
    members = tar_members(reply.body)
    return reply.status, ctype, {"members": members, "manifest": tar_json(reply.body, "manifest.json")}


@pytest.mark.parametrize("prefix", PREFIXES[:2])
@pytest.mark.parametrize("target", [
    "/images/%s/get" % BASE, "/images/base:1/get", "/images/localhost%2Fpodproxy%2Fbase:1/get", "/images/nope/get",
    "/images/UPPER/get", "/images/Abc/def/get",
    "/images/get", "/images/get?names=", "/images/get?names=%s" % BASE, "/images/get?names=base:1&names=" + USED,
    "/images/get?names=nope", "/images/get?names=%s&names=nope" % BASE, "/images/get?names=UPPER",
])
def test_export(pair, prefix, target):
    ref, proxy = pair.both("GET", prefix + target)
    assert archive_view(proxy) == archive_view(ref), target


def test_export_by_id(pair):
    ref, proxy = pair.both("GET", "/images/%s/get" % pair.store.base_id[:12])
    assert ref.status == 200
    assert archive_view(proxy) == archive_view(ref)


def _load_error(reply):
    body = reply.json()
    return reply.status, reply.headers.get("content-type"), body["message"].split(":\n")[0]


@pytest.mark.parametrize("body,query", [(b"garbage", ""), (b"", ""), (b"", "?quiet=bad"), (b"x", "?quiet=1")])
def test_load_errors(pair, body, query):
    ref, proxy = pair.both("POST", "/images/load" + query, body=body)
    assert _load_error(proxy) == _load_error(ref)
    assert ref.status in (400, 500)


def test_load(pair, tmp_path):
    """One and two images: podman's one line ``Loaded image: a,b``; podproxy
    leaves no temp file behind (podman's service leaves api_load.tar*)."""
    for target in ("/images/get?names=%s&names=%s" % (BASE, USED), "/images/%s/get" % BASE):
        archive = pair.ref.http.request("GET", target).body
        for prefix in PREFIXES[:2]:
            pair.same("POST", prefix + "/images/load", body=archive, headers={"Content-Type": "application/x-tar"})
            ref, proxy = pair.both("POST", "/images/load", body=[archive[:70000], archive[70000:]])  # chunked
            assert (proxy.status, proxy.json()) == (ref.status, ref.json())
    assert ref.json() == {"stream": "Loaded image: " + BASE}


@pytest.mark.parametrize("query", [
    "", "?" + filters({"dangling": {"true": True}}), "?" + filters({"dangling": {"false": True}}),
    "?" + filters({"until": {"1h": True}}), "?" + filters({"label": ["a=b"]}), "?filters=bad",
    "?" + filters({"bogus": ["x"]}),
])
def test_prune_errors_and_nothing_to_prune(fresh_pair, query):
    """On stores with nothing to prune (the shared pair's stores collect
    dangling images from earlier tests, e.g. rebuilt tags)."""
    _stores, pair = fresh_pair
    pair.same("POST", "/images/prune" + query)
    pair.same("POST", "/v1.41/images/prune" + query)


def test_prune(fresh_pair):
    """Dangling images removed, Docker's report (IDs and sizes), the same effect."""
    stores, pair = fresh_pair
    ids = []
    for s in stores:
        s.make_image("localhost/keep:1", marker="keep")
        s.make_image("localhost/gone:1", marker="gone1")
        ids.append(s.make_image("localhost/gone:1", marker="gone2"))  # the first becomes dangling
    dangling = [sorted(s.image_ids())for s in stores]
    # sizes differ by a byte or two between the stores (timestamps in the config): each side's own
    sizes = [{i["Id"]: i["Size"] for i in json.loads(s.out("images", "-a", "--format", "json"))} for s in stores]
    ref, proxy = pair.both("POST", "/images/prune")
    assert ref.status == proxy.status == 200
    got, want = proxy.json(), ref.json()
    assert want["SpaceReclaimed"] > 0 and len(want["ImagesDeleted"]) == 1
    assert len(got["ImagesDeleted"]) == len(want["ImagesDeleted"])
    assert want["SpaceReclaimed"] == sizes[0][want["ImagesDeleted"][0]["Deleted"]]
    assert got["SpaceReclaimed"] == sizes[1][got["ImagesDeleted"][0]["Deleted"]]
    assert len(stores[0].image_ids()) == len(stores[1].image_ids()) == len(dangling[0]) - 1
    assert got["ImagesDeleted"][0]["Deleted"] in dangling[1] and got["ImagesDeleted"][0]["Deleted"] != ids[1]


@pytest.mark.parametrize("query", [
    "?term=127.0.0.1:1/x", "", "?term=x&limit=bad", "?term=127.0.0.1:1/x&tlsVerify=false",
])
def test_search_errors(pair, query):
    for prefix in PREFIXES[:2]:
        pair.same("GET", prefix + "/images/search" + query)


def test_search(pair, registry):
    """Results, "no result" (404 in the compat API), list and Docker filter forms."""
    pair.store.podman("push", "--tls-verify=false", BASE, "%s/compat/searchme:1" % registry.address)
    found, _ = pair.same("GET", "/images/search?term=%s/compat/searchme&tlsVerify=false" % registry.address)
    assert found.status == 200 and found.json()[0]["Name"].endswith("compat/searchme")
    none, _ = pair.same("GET", "/images/search?term=%s/nothing-here&tlsVerify=false" % registry.address)
    assert none.status == 404
    pair.same("GET", "/v1.41/images/search?term=%s/compat/searchme&tlsVerify=false&" % registry.address
              + filters({"stars": ["0"]}))


def test_search_docker_filter_form(pair, registry):
    """podman 4.3.1 panics on Docker's filter form (500 "index out of range",
    the Docker CLI's ``search --filter``); podproxy applies the filter."""
    pair.store.podman("push", "--tls-verify=false", BASE, "%s/compat/filtered:1" % registry.address)
    target = "/images/search?term=%s/compat/filtered&tlsVerify=false&" % registry.address
    ref, proxy = pair.both("GET", target + filters({"stars": {"0": True}}))
    assert ref.status == 500 and "index out of range" in ref.json()["message"]
    assert proxy.status == 200 and proxy.json()[0]["Name"].endswith("compat/filtered")
    same_as_list_form = pair.proxy.http.request("GET", target + filters({"stars": ["0"]}))
    assert proxy.json() == same_as_list_form.json()


# -- build ----------------------------------------------------------------------

def context_tar(dockerfile: str, name="Dockerfile") -> bytes:
    return tar_of({name: dockerfile.encode()})


def build_lines(reply, store) -> list:
    """The stream with temp paths and image IDs masked (podman's context
    dir differs; each side builds on a store of its own)."""
    import re

    text = reply.body.decode().replace(store.path, "<STORE>")
    text = re.sub(r"/[\w./-]*?(libpod_builder\d+|podproxy-\d+-build-\w+)/build", "<CTX>", text)
    text = re.sub(r"\b[0-9a-f]{11,64}\b", "<ID>", text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("query,dockerfile,name", [
    ("?t=localhost/built:1&t=built2", "FROM %s\nLABEL a=b\nENV X=1\n" % BASE, "Dockerfile"),
    ("?t=built3&q=1", "FROM %s\nLABEL c=d\n" % BASE, "Dockerfile"),
    ("?t=built4&layers=false&nocache=1", "FROM %s\nLABEL e=f\n" % BASE, "Dockerfile"),
    ("?t=built5", "FROM %s\nLABEL g=h\n" % BASE, "Containerfile"),
    ("?dockerfile=Other&t=built6", "FROM %s\nLABEL i=j\n" % BASE, "Other"),
    ("?dockerfile=nope", "FROM %s\n" % BASE, "Dockerfile"),
    ("?t=built7", "FROM localhost/nope:1\n", "Dockerfile"),
])
def test_build(fresh_pair, query, dockerfile, name):
    """Same stream (IDs aside), status and content type; the same names built."""
    stores, pair = fresh_pair
    for s in stores:
        s.make_image(BASE)
    body = context_tar(dockerfile, name)
    ref, proxy = pair.both("POST", "/build" + query, body=body, headers={"Content-Type": "application/x-tar"})
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type"))
    assert build_lines(proxy, stores[1]) == build_lines(ref, stores[0])
    built = [sorted(n.split()[0] for n in names(s)) for s in stores]
    assert built[1] == built[0]


def test_build_any_content_type(fresh_pair):
    stores, pair = fresh_pair
    for s in stores:
        s.make_image(BASE)
    body = context_tar("FROM %s\nLABEL k=l\n" % BASE)
    ref, proxy = pair.both("POST", "/v1.41/build?q=1", body=body, headers={"Content-Type": "text/plain"})
    assert (proxy.status, build_lines(proxy, stores[1])) == (ref.status, build_lines(ref, stores[0]))
    assert ref.status == 200


@pytest.mark.parametrize("query,body", [("?t=UPPER", None), ("?jobs=bad", None), ("", b"garbage")])
def test_build_early_errors_have_a_body(pair, query, body):
    """podman 4.3.1's compat /build loses the body of an error it answers
    before the build starts (status and Content-Type, no bytes); podproxy
    sends the same status with podman's error body, as podman 4.6+ does
    (``compat_error_body_flushed``)."""
    body = body if body is not None else context_tar("FROM %s\n" % BASE)
    before = names(pair.store)
    ref, proxy = pair.both("POST", "/build" + query, body=body, headers={"Content-Type": "application/x-tar"})
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type"))
    assert ref.status in (400, 500)
    assert proxy.json()["response"] == ref.status and proxy.json()["message"]
    assert ref.body == (proxy.body if podman_features().compat_error_body_flushed else b"")
    assert names(pair.store) == before


@pytest.mark.parametrize("query", ["?q=maybe", "?q=1&layers=none", "?q=yes&nocache=0"])
def test_build_docker_bools(fresh_pair, query):
    """podman 4.7+ decodes the compat routes' booleans as Docker does (any
    word is true, never a 400); 4.3.1 answers 400 for a word it does not know."""
    stores, pair = fresh_pair
    for s in stores:
        s.make_image(BASE)
    body = context_tar("FROM %s\nLABEL bools=1\n" % BASE)
    ref, proxy = pair.both("POST", "/build" + query, body=body, headers={"Content-Type": "application/x-tar"})
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type"))
    assert ref.status == (200 if podman_features().compat_docker_bools else 400)
    assert len(stores[1].image_ids()) == len(stores[0].image_ids())


# -- commit ---------------------------------------------------------------------

@pytest.mark.parametrize("query,body,headers", [
    ("container=podproxy-used", b"{}", {}),
    ("container=podproxy-used&repo=localhost/committed&tag=2&comment=hi&author=me"
     "&changes=ENV%20A%3Db%0ALABEL%20x%3Dy&changes=CMD%20%5B%22/bin/sh%22%5D", b'{"Env":["A=b"]}', {}),
    ("container=podproxy-used&repo=committed", b"null", {}),
    ("container=podproxy-used&repo=x", b"{}", {}),
    ("container=podproxy-used&repo=UPPER", b"{}", {}),
    ("container=nope", b"{}", {}),
    ("", b"{}", {}),
    ("container=podproxy-used", b"", {}),
    ("container=podproxy-used", b"[]", {}),
    ("container=podproxy-used", b"{", {}),
    ("container=podproxy-used", b"garbage", {}),
    ("container=podproxy-used", b"{}", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("container=podproxy-used&pause=bad", b"{}", {}),
    ("container=podproxy-used&changes=BOGUS%20x", b"{}", {}),
])
def test_commit(pair, query, body, headers):
    """Status and body (the new ID masked) and the same names made."""
    import re

    replies, effects = [], []
    for server in (pair.ref, pair.proxy):
        before_ids = pair.store.image_ids()
        reply = server.http.request("POST", "/commit?" + query, body=body,
                                    headers=dict({"Content-Type": "application/json"}, **headers))
        replies.append((reply.status, reply.headers.get("content-type"),
                        re.sub(r"[0-9a-f]{64}", "<ID>", reply.body.decode())))
        new = pair.store.image_ids() - before_ids
        effects.append(sorted(n.split()[0] for n in names(pair.store) if n.split()[1] in {i[:12] for i in new}))
        pair.store.podman("rmi", "-f", *new, check=False) if new else None
    assert replies[1] == replies[0]
    assert effects[1] == effects[0]
