"""docker-py (PyPI ``docker``), as Docker clients and Testcontainers call
it, with API version negotiation on (``version="auto"``), against
podproxy and against podman's own service on the same store: every call
gives the same result (or the same exception) on both.
"""
from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

docker = pytest.importorskip("docker")  # noqa: E402  (a test extra: pip install -e '.[test]')
from docker.errors import APIError, BuildError, ImageNotFound, NotFound  # noqa: E402
from helpers import podman_features, start_podproxy, start_reference, start_registry  # noqa: E402

pytestmark = pytest.mark.podman

BASE = "localhost/dockerpy/base:1"
USED = "localhost/dockerpy/used:1"


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    """(podman's service, podproxy) clients on one store, reading a
    registries.conf that marks the test registry insecure."""
    from helpers import Store

    base = tmp_path_factory.mktemp("dockerpy")
    registry = start_registry(str(base / "registry"))
    conf = base / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.address)
    store = Store.create()
    store.base_id = store.make_image(BASE, marker="base")
    store.make_image(USED, marker="used")
    store.create_container(USED, "dockerpy-used")
    saved = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    os.environ["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    try:
        ref = start_reference(store, tcp=True)
        proxy = start_podproxy(store)
    finally:
        if saved is None:
            os.environ.pop("CONTAINERS_REGISTRIES_CONF")
        else:
            os.environ["CONTAINERS_REGISTRIES_CONF"] = saved
    made = [docker.DockerClient(base_url="tcp://127.0.0.1:%d" % s.port, version="auto", timeout=300)
            for s in (ref, proxy)]
    made_store = store
    made_store.registry = registry
    yield made, made_store
    for c in made:
        c.close()
    proxy.stop()
    ref.stop()
    registry.stop()
    store.destroy()


def both(clients, call):
    """``call(client)`` on each: (result or exception type and text) pairs."""
    out = []
    for client in clients[0]:
        try:
            out.append(("ok", call(client)))
        except (APIError, ImageNotFound, NotFound, BuildError) as e:
            out.append((type(e).__name__, getattr(e, "explanation", str(e))))
    return out


def names(store) -> list:
    return sorted(store.out("images", "--format", "{{.Repository}}:{{.Tag}}").split())


def test_version_negotiation(clients):
    ref, proxy = both(clients, lambda c: c.version())
    assert proxy == ref
    assert ref[1]["ApiVersion"] == "1.41"
    assert [c.api._version for c in clients[0]] == ["1.41", "1.41"]


def test_images_list_and_get(clients):
    tags = lambda c: sorted(t for i in c.images.list() for t in i.tags)  # noqa: E731
    ref, proxy = both(clients, tags)
    assert proxy == ref and BASE in ref[1]
    ref, proxy = both(clients, lambda c: c.images.list(filters={"reference": "localhost/dockerpy/*"}))
    assert [i.id for i in proxy[1]] == [i.id for i in ref[1]]
    ref, proxy = both(clients, lambda c: c.images.get(BASE).attrs)
    assert proxy == ref
    ref, proxy = both(clients, lambda c: c.images.get("nope"))
    assert proxy == ref and ref[0] == "ImageNotFound"


def test_history_tag_remove(clients):
    store = clients[1]
    ref, proxy = both(clients, lambda c: c.images.get(BASE).history())
    assert proxy == ref and ref[0] == "ok"
    results, effects = [], []
    for client in clients[0]:
        results.append(client.images.get(BASE).tag("dockerpy-tag", "t"))
        effects.append(names(store))
        results.append(client.images.remove("dockerpy-tag:t"))
        effects.append(names(store))
    assert results[2:] == results[:2] and results[0] is True
    assert effects[2:] == effects[:2] and "docker.io/library/dockerpy-tag:t" in effects[0]
    ref, proxy = both(clients, lambda c: c.images.remove(USED))
    assert proxy == ref and ref[0] == "APIError"
    ref, proxy = both(clients, lambda c: c.images.remove("nope"))
    assert proxy == ref and ref[0] == "NotFound"


def test_save_and_load(clients):
    archives = []
    for client in clients[0]:
        data = b"".join(client.images.get(BASE).save(named=True))
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            archives.append(sorted(tar.getnames()))
    assert archives[1] == archives[0]
    ref, proxy = both(clients, lambda c: [i.tags for i in c.images.load(data)])
    assert proxy == ref and ref[1] == [[BASE]]
    ref, proxy = both(clients, lambda c: c.images.load(b"garbage"))
    assert ref[0] == proxy[0] == "APIError"


def test_import_image(clients):
    store = clients[1]
    tar = store.rootfs_tar({"marker": b"dockerpy-import"})
    try:
        effects = []
        # podman 4.3.1 ignores tag, 4.6+ names the image with it
        made = "localhost/dockerpy/imported:" + ("1" if podman_features().compat_import_tag else "latest")
        for client in clients[0]:
            result = client.api.import_image(src=tar, repository="localhost/dockerpy/imported", tag="1")
            effects.append((sorted(json.loads(result)), names(store)))
            store.podman("rmi", made)
        assert effects[1] == effects[0]
        assert made in effects[0][1]
    finally:
        os.unlink(tar)


def test_pull_push_search(clients):
    store = clients[1]
    address = store.registry.address
    store.podman("push", "--tls-verify=false", BASE, "%s/dockerpy/base:1" % address)
    results = []
    for client in clients[0]:
        results.append(client.images.pull("%s/dockerpy/base" % address, tag="1").tags)
        store.podman("untag", BASE, "%s/dockerpy/base:1" % address)
    assert results[1] == results[0] and "%s/dockerpy/base:1" % address in results[0]
    ref, proxy = both(clients, lambda c: c.images.pull("%s/dockerpy/nope" % address, tag="1"))
    assert proxy == ref and ref[0] != "ok"
    pushed = []
    for client in clients[0]:
        store.podman("tag", BASE, "%s/dockerpy/pushed:1" % address)
        pushed.append([m for m in client.images.push("%s/dockerpy/pushed" % address, tag="1", stream=True,
                                                     decode=True)])
        store.podman("untag", BASE, "%s/dockerpy/pushed:1" % address)
    assert pushed[1] == pushed[0] and "digest: sha256:" in pushed[0][-1]["status"]
    ref, proxy = both(clients, lambda c: c.images.search("%s/dockerpy/base" % address))
    assert proxy == ref and ref[0] == "ok"


def test_build_and_prune(clients):
    store = clients[1]
    dockerfile = io.BytesIO(("FROM %s\nLABEL dockerpy=build\n" % BASE).encode())
    results = []
    for client in clients[0]:
        lines = list(client.api.build(fileobj=dockerfile, tag="localhost/dockerpy/built:1", decode=True, rm=True))
        dockerfile.seek(0)
        results.append([ln for ln in lines if "aux" in ln or "Successfully" in ln.get("stream", "")])
        store.podman("untag", "localhost/dockerpy/built:1", "localhost/dockerpy/built:1")
    assert results[1] == results[0] and results[0][-1] == {"stream": "Successfully tagged localhost/dockerpy/built:1\n"}
    reports = []
    for client in clients[0]:
        store.podman("image", "prune", "--force")  # the built image, untagged above
        store.make_image("localhost/dockerpy/dangling:1", marker="first")
        store.make_image("localhost/dockerpy/dangling:1", marker="second")  # the first one is dangling now
        reports.append(client.images.prune())
        store.podman("rmi", "localhost/dockerpy/dangling:1")
    assert [len(r["ImagesDeleted"]) for r in reports] == [1, 1]
    assert reports[1]["SpaceReclaimed"] == reports[0]["SpaceReclaimed"] > 0
    # every unused image (podman 4.8+) or podman 4.3.1's 500 "dangling" filter more than once;
    # the store is made alike again before each client's prune
    before = names(store)
    results = []
    for client in clients[0]:
        for name in sorted(set(before) - set(names(store)) - {"<none>:<none>"}):
            store.make_image(name, marker=name)
        results.append(both(([client], store), lambda c: c.images.prune(filters={"dangling": False}))[0])
    summary = [(kind, len(r["ImagesDeleted"]) if kind == "ok" else r) for kind, r in results]
    assert summary[1] == summary[0]
    assert summary[0][0] == ("ok" if podman_features().compat_prune_dangling_filter else "APIError")
