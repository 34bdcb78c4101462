"""Pull, push and search against a real registry (Debian's docker-registry
on loopback, plain http), through podproxy and through podman's own
service on the same store: same status, content type and body."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from helpers import REGISTRY_PASSWORD, REGISTRY_USER, Store, podman_features

V = "/v4.3.1/libpod"
BASE = "localhost/podproxy/base:1"


@pytest.fixture(scope="module")
def seeded(pair, registry):
    """The registry holds podproxy/base:1 and :2 (pushed with the CLI)."""
    for tag in ("1", "2"):
        pair.store.podman("push", "--tls-verify=false", BASE, "%s/podproxy/base:%s" % (registry.address, tag))
    return registry.address


def _cases(reg):
    return [
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false" % reg,
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&quiet=true" % reg,
        "/images/pull?reference=docker://%s/podproxy/base:2&tlsVerify=false&quiet=1" % reg,
        "/images/pull?reference=%s/podproxy/nope:1&tlsVerify=false" % reg,
        "/images/pull?reference=%s/podproxy/nope:1&tlsVerify=false&quiet=1" % reg,
        "/images/pull?reference=%s/podproxy/base:1" % reg,  # https to a plain http registry
        "/images/pull?reference=%s/podproxy/base:1&tlsverify=false" % reg,  # presence check is case-sensitive
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&policy=missing" % reg,
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&policy=IfNotPresent&quiet=1" % reg,
        "/images/pull?reference=%s/podproxy/base:9&tlsVerify=false&policy=never" % reg,
        "/images/pull?reference=%s&tlsVerify=false&policy=never&quiet=1" % BASE,
        "/images/pull?reference=UPPER&quiet=1",
        "/images/pull?reference=UPPER",
        "/images/pull",
        "/images/pull?reference=",
        "/images/pull?reference=dir:/tmp",
        "/images/pull?reference=docker-archive:/etc/passwd",
        "/images/pull?reference=x&policy=bogus",
        "/images/pull?reference=x&quiet=maybe",
        "/images/UPPER/push?destination=%s/x:1&tlsVerify=false" % reg,
        "/images/nope/push?destination=%s/x:1&tlsVerify=false" % reg,
        "/images/nope/push?destination=%s/x:1&tlsVerify=false&quiet=false" % reg,
        "/images/%s/push?destination=UPPER&tlsVerify=false" % BASE,
        "/images/%s/push?destination=dir:/tmp/x" % BASE,
        "/images/%s/push?destination=%s/x:1" % (BASE, reg),  # https to a plain http registry
        "/images/dir:/tmp/x/push",
        "/images/a:b:c/push",
        "/images/x/push?quiet=maybe",
        "/images/search?term=%s/podproxy&tlsVerify=false" % reg,
        "/images/search?term=%s/podproxy/base&tlsVerify=false&listTags=true" % reg,
        "/images/search?term=%s/podproxy&tlsVerify=false&limit=1" % reg,
        "/images/search?term=%s/podproxy&tlsVerify=false&limit=x" % reg,
        "/images/search?term=%s/nothing-here&tlsVerify=false" % reg,
        "/images/search?term=%s/podproxy" % reg,
        "/images/search?term=%s/podproxy&tlsVerify=false&filters=notjson" % reg,
        "/images/search?term=%s/podproxy&tlsVerify=false&filters=%s" % (reg, quote('{"is-official":["true"]}')),
        "/images/search",
        # podman 4.8+ compatMode, 5.0+ retry/retrydelay/retryDelay, 4.6+ compressionLevel
        # (podman 4.3.1 ignores them all)
        "/images/pull?reference=%s/podproxy/nope:1&tlsVerify=false&compatMode=true" % reg,
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&compatMode=true&quiet=true" % reg,
        "/images/pull?reference=%s&policy=never&compatMode=true" % BASE,
        "/images/pull?reference=localhost/nope:1&policy=never&compatMode=1",
        "/images/pull?reference=127.0.0.1:1/x:1&compatMode=true",
        "/images/pull?reference=x&compatMode=maybe",
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&retry=x" % reg,
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&retrydelay=soon" % reg,
        "/images/pull?reference=%s/podproxy/base:1&tlsVerify=false&quiet=1&retry=1&retrydelay=1s" % reg,
        "/images/%s/push?destination=%s/x:1&tlsVerify=false&compressionLevel=x" % (BASE, reg),
        "/images/%s/push?destination=%s/x:1&tlsVerify=false&retry=x" % (BASE, reg),
        "/images/%s/push?destination=%s/x:2&tlsVerify=false&retry=1&retryDelay=1s" % (BASE, reg),
    ]


def test_short_streamed_answers_are_chunked(pair, seeded):
    """Issue 13 point 5: a pull answered at once (policy=never, local image
    or not) is still chunked, as podman streams it (podman-py's stream=True
    fails on a Content-Length answer)."""
    for target in ("/images/pull?reference=%s&policy=never" % BASE,
                   "/images/pull?reference=localhost/nope:1&policy=never"):
        ref, proxy = pair.same("POST", V + target, ids=[pair.store.base_id])
        assert (proxy.headers.get("transfer-encoding"), proxy.headers.get("content-length")) == \
            (ref.headers.get("transfer-encoding"), ref.headers.get("content-length")) == ("chunked", None)


def test_registry_endpoints(pair, seeded):
    for target in _cases(seeded):
        method = "GET" if "/search" in target else "POST"
        pair.same(method, V + target, ids=[pair.store.base_id])


def test_push_success(pair, seeded):
    """quiet (default): 200 "\\n"; quiet=false: the progress lines. Each
    server pushes to its own tag; the registry then has both."""
    for quiet in ("", "&quiet=false"):
        replies = []
        for n, server in enumerate((pair.ref, pair.proxy)):
            target = "%s/images/%s/push?destination=%s/pushed/%d:q%d&tlsVerify=false%s" % (
                V, BASE, seeded, n, len(quiet), quiet)
            replies.append(server.http.request("POST", target))
        ref, proxy = replies
        assert (proxy.status, proxy.headers.get("content-type"), proxy.body) == \
            (ref.status, ref.headers.get("content-type"), ref.body)
        assert ref.status == 200
    for n in (0, 1):
        assert pair.store.podman("search", "--list-tags", "--tls-verify=false",
                                 "%s/pushed/%d" % (seeded, n)).stdout.count(b"q") == 2


def _single(user, password):
    return base64.urlsafe_b64encode(json.dumps({"username": user, "password": password}).encode()).decode()


def _multi(registry, user, password):
    body = {registry: {"username": user, "password": password}}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def test_auth(pair, auth_registry):
    """X-Registry-Auth, single and per-registry forms, right and wrong."""
    reg = auth_registry.address
    good = {"X-Registry-Auth": _single(REGISTRY_USER, REGISTRY_PASSWORD)}
    cases = [
        ("POST", "/images/%s/push?destination=%s/auth/base:1&tlsVerify=false" % (BASE, reg), {}),
        ("POST", "/images/%s/push?destination=%s/auth/base:1&tlsVerify=false" % (BASE, reg), good),
        ("POST", "/images/%s/push?destination=%s/auth/base:2&tlsVerify=false" % (BASE, reg),
         {"X-Registry-Auth": _multi(reg, REGISTRY_USER, REGISTRY_PASSWORD)}),
        ("POST", "/images/%s/push?destination=%s/auth/base:1&tlsVerify=false" % (BASE, reg),
         {"X-Registry-Auth": _single(REGISTRY_USER, "wrong")}),
        ("POST", "/images/pull?reference=%s/auth/base:1&tlsVerify=false&quiet=1" % reg, {}),
        ("POST", "/images/pull?reference=%s/auth/base:1&tlsVerify=false&quiet=1" % reg, good),
        ("POST", "/images/pull?reference=%s/auth/base:2&tlsVerify=false" % reg,
         {"X-Registry-Auth": _multi("http://%s/v2/" % reg, REGISTRY_USER, REGISTRY_PASSWORD)}),
        ("POST", "/images/pull?reference=%s/auth/base:1&tlsVerify=false&quiet=1" % reg,
         {"X-Registry-Auth": "null"}),
        ("GET", "/images/search?term=%s/auth&tlsVerify=false" % reg, good),  # single form: ignored before 4.5
        ("GET", "/images/search?term=%s/auth&tlsVerify=false" % reg,
         {"X-Registry-Auth": _multi(reg, REGISTRY_USER, REGISTRY_PASSWORD)}),
    ]
    for method, target, headers in cases:
        ref, proxy = pair.same(method, V + target, ids=[pair.store.base_id], headers=headers)
        if headers is good and "/search" not in target:
            assert ref.status == 200 and b"error" not in ref.body, target


@pytest.mark.parametrize("header", ["!!!", "e30", base64.urlsafe_b64encode(b"[1]").decode(),
                                    base64.urlsafe_b64encode(b"not json").decode()])
def test_bad_auth_header(pair, header):
    """A header podman cannot decode: 400 before anything is pulled."""
    target = V + "/images/pull?reference=localhost:1/x:1&quiet=1"
    ref, proxy = pair.both("POST", target, headers={"X-Registry-Auth": header})
    assert proxy.status == ref.status
    if ref.status == 400:
        assert proxy.json()["message"].startswith('failed to parse "X-Registry-Auth" header for ')


def _progress(reply):
    """A compat pull's lines: status, the progress lines as a sorted list
    (podman copies layers in parallel) and the last line."""
    lines = [json.loads(line) for line in reply.body.splitlines()]
    return reply.status, reply.headers.get("content-type"), sorted(map(json.dumps, lines[:-1])), lines[-1:]


def test_compat_pull_progress(fresh_pair, registry):
    """compatMode=true (podman 4.8+): the same Docker progress lines as
    podman's, "Already exists" for a layer the store has (podman finds it
    through its blob-info cache: the base layer was pushed from an
    identical store), "Pulling fs layer" / "Download complete" for one it
    downloads; then a second pull with everything there. On podman 4.3.1
    compatMode is ignored and both answer the libpod stream."""
    stores, pair = fresh_pair
    maker = Store.create()
    try:
        maker.make_image(BASE)
        maker.create_container(BASE, "progress")
        maker.podman("commit", "-q", "progress", "localhost/podproxy/progress:1")
        maker.podman("push", "--tls-verify=false", "localhost/podproxy/progress:1",
                     "%s/podproxy/progress:1" % registry.address)
    finally:
        maker.destroy()
    for store in stores:
        store.make_image(BASE)
    target = V + "/images/pull?reference=%s/podproxy/progress:1&tlsVerify=false&compatMode=true" % registry.address
    rounds = []
    for _ in range(2):
        ref, proxy = pair.both("POST", target)
        assert _progress(proxy) == _progress(ref)
        rounds.append([line.get("status") for line in map(json.loads, ref.body.splitlines())])
    compat = podman_features().pull_compat_mode
    expected = {True: [["Already exists", "Download complete", "Download complete", "Download complete",
                        "Pulling fs layer", "Pulling fs layer"],
                       ["Already exists", "Already exists", "Download complete", "Download complete",
                        "Pulling fs layer"]],
                False: [[None]] * 2}[compat]  # 4.3.1: {"stream": ...} lines, then {"images": ...}
    assert [sorted(r if compat else set(r), key=str) for r in rounds] == expected
