"""Pull (``POST /images/create?fromImage``), import (``?fromSrc``) and push
through podman's Docker-compatible routes, podproxy against podman's own
service, each on a fresh store of its own, with a local registry that
registries.conf marks insecure (the compat routes have no tlsVerify for
pulls; Docker clients rely on the server's registries.conf)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from helpers import Store, start_podproxy, start_reference, start_registry

from .conftest import Pair, normalize

BASE = "localhost/podproxy/base:1"


class RegistryPair(Pair):
    pass


@pytest.fixture(scope="module")
def reg():
    base = tempfile.mkdtemp(prefix="podproxy-compat-registry-")
    server = start_registry(os.path.join(base, "registry"))
    conf = os.path.join(base, "registries.conf")
    with open(conf, "w") as f:
        f.write('[[registry]]\nlocation = "%s"\ninsecure = true\n' % server.address)
    server.conf = conf
    seed = Store.create()
    seed.make_image(BASE)
    for name in ("compat/base:1", "compat/base:2"):
        seed.podman("push", "--tls-verify=false", BASE, "%s/%s" % (server.address, name))
    yield server
    seed.destroy()
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def reg_pair(reg):
    """Two fresh stores, podman's service on one, podproxy on the other,
    both reading the test's registries.conf."""
    stores = [Store.create(), Store.create()]
    saved = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    os.environ["CONTAINERS_REGISTRIES_CONF"] = reg.conf
    try:
        ref = start_reference(stores[0])
        proxy = start_podproxy(stores[1])
    finally:
        if saved is None:
            os.environ.pop("CONTAINERS_REGISTRIES_CONF")
        else:
            os.environ["CONTAINERS_REGISTRIES_CONF"] = saved
    pair = RegistryPair(ref, proxy, None)
    pair.stores = stores
    yield pair
    proxy.stop()
    ref.stop()
    for s in stores:
        s.destroy()


def messages(reply) -> list:
    return [json.loads(line) for line in reply.body.decode().splitlines() if line.strip()]


def without_byte_counts(msgs) -> list:
    """podman's timed "Downloading"/"Pushing" messages (byte counts) are not
    reproduced by podproxy (see compat_registry's doc)."""
    return [m for m in msgs if m.get("status") not in ("Downloading", "Pushing")]


def test_pull(reg_pair, reg):
    target = "/images/create?fromImage=%s/compat/base&tag=1" % reg.address
    ref, proxy = reg_pair.both("POST", target)
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type")) == (
        200, None)
    want, got = without_byte_counts(messages(ref)), messages(proxy)
    assert got == want
    assert want[-1]["status"] == "Download complete"
    assert [s.image_ids() for s in reg_pair.stores][0] == reg_pair.stores[1].image_ids()
    # pulled again: the layer exists now
    ref, proxy = reg_pair.both("POST", "/v1.41" + target.replace("tag=1", "tag=2"))
    assert without_byte_counts(messages(proxy)) == without_byte_counts(messages(ref))
    assert [s.out("images", "--format", "{{.Repository}}:{{.Tag}}") for s in reg_pair.stores][0] == \
        reg_pair.stores[1].out("images", "--format", "{{.Repository}}:{{.Tag}}")


@pytest.mark.parametrize("query", [
    "fromImage=%(r)s/compat/nope&tag=1", "fromImage=UPPER", "fromImage=", "fromImage=%(r)s/compat/base:1&tag=bad:tag",
    "fromImage=127.0.0.1:1/x", "fromImage=x&tag=1&platform=linux/arm64", "fromImage=a&fromImage=b",
    "fromImage=127.0.0.1:1/x&retryDelay=bad", "fromImage=127.0.0.1:1/x&retry=0&retryDelay=1s",
])
def test_pull_errors(reg_pair, reg, query):
    ref, proxy = reg_pair.both("POST", "/images/create?" + query % {"r": reg.address})
    assert normalize(proxy)[:2] == normalize(ref)[:2]
    if ref.status == 200:
        assert messages(proxy)[-1] == messages(ref)[-1]
        assert "error" in messages(ref)[-1]
    else:
        assert normalize(proxy) == normalize(ref)


@pytest.mark.parametrize("target", ["/images/create", "/images/create?tag=1", "/v1.41/images/create?repo=x"])
def test_create_without_source_is_405(reg_pair, target):
    reg_pair.same("POST", target)


def rootfs(store):
    with open(store.rootfs_tar({"marker": b"imported"}), "rb") as f:
        return f.read()


@pytest.mark.parametrize("query", [
    "fromSrc=-", "fromSrc=-&repo=localhost/imported", "fromSrc=-&repo=imported&tag=ignored",
    "fromSrc=-&repo=localhost/imported:2&message=hi&changes=CMD%20%5B%22/bin/sh%22%5D&platform=linux/arm64",
    "fromSrc=-&repo=UPPER", "fromSrc=-&changes=BOGUS%20x",
])
def test_import(reg_pair, query):
    """The new image (IDs differ: timestamps) and its names, or the error."""
    body = rootfs(reg_pair.stores[0])
    ref, proxy = reg_pair.both("POST", "/images/create?" + query, body=body)
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type"))
    if ref.status == 200:
        mask = lambda r: {k: ("<ID>" if v and k in ("status", "id") else v) for k, v in r.json().items()}  # noqa: E731
        assert mask(proxy) == mask(ref)
        assert list(proxy.json()) == list(ref.json())
        assert ref.json()["status"] == ref.json()["id"]
    else:
        assert proxy.json()["message"].split(":")[0] == ref.json()["message"].split(":")[0]
    names = [sorted(s.out("images", "--format", "{{.Repository}}:{{.Tag}}").split()) for s in reg_pair.stores]
    assert names[1] == names[0]


def test_import_garbage(reg_pair):
    ref, proxy = reg_pair.both("POST", "/images/create?fromSrc=-", body=b"garbage")
    assert (proxy.status, proxy.json()["message"].split(":")[0]) == (ref.status, ref.json()["message"].split(":")[0])


def test_push(reg_pair, reg):
    for n, s in enumerate(reg_pair.stores):
        s.make_image(BASE)
        s.podman("tag", BASE, "%s/pushed/%d:1" % (reg.address, n))
    replies = [server.http.request("POST", "/images/%s/pushed/%d/push?tag=1" % (reg.address, n))
               for n, server in enumerate((reg_pair.ref, reg_pair.proxy))]
    ref, proxy = replies
    assert (proxy.status, proxy.headers.get("content-type")) == (ref.status, ref.headers.get("content-type")) == (
        200, None)
    want, got = without_byte_counts(messages(ref)), messages(proxy)
    assert [m.get("status", "").replace("pushed/0", "pushed/N") for m in want[:1]] == \
        [m.get("status", "").replace("pushed/1", "pushed/N") for m in got[:1]]
    assert [m.get("status") for m in got[1:-1]] == [m.get("status") for m in want[1:-1]]
    assert want[-1]["status"].startswith("1: digest: sha256:") and got[-1]["status"].startswith("1: digest: sha256:")
    assert got[-1]["status"].rsplit(" ", 1)[1] == want[-1]["status"].rsplit(" ", 1)[1]  # size


@pytest.mark.parametrize("target", [
    "/images/nope/push", "/images/UPPER/push", "/images/%(r)s/pushed/x/push?tag=nope", "/images/a@b/push",
    "/images/%(b)s/push?tlsVerify=bad", "/images/%(b)s/push?destination=127.0.0.1:1/x/y",
])
def test_push_errors(reg_pair, reg, target):
    for s in reg_pair.stores:
        s.make_image(BASE)
    ref, proxy = reg_pair.both("POST", target % {"r": reg.address, "b": BASE})
    assert normalize(proxy)[:2] == normalize(ref)[:2]
    if ref.status == 200:
        assert messages(proxy)[0] == messages(ref)[0]
        assert messages(proxy)[-1] == messages(ref)[-1]
    else:
        assert normalize(proxy) == normalize(ref)
