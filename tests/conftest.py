"""Shared fixtures, in the style of Flask's tutorial: ``app`` and ``client``,
plus real podman stores and servers.

Every store is a temp dir of its own (``--root/--runroot/--tmpdir``), so
the host's images are never touched; destructive tests (remove all, prune)
take ``fresh_store``.
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from helpers import PODMAN, Store, random_rootfs, start_podproxy, start_reference, start_registry  # noqa: E402

from podproxy.app import create_app  # noqa: E402
from podproxy.settings import Settings  # noqa: E402

BASE = "localhost/podproxy/base:1"


UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit") + os.sep


def pytest_collection_modifyitems(config, items):
    """Every test outside tests/unit runs against the real podman: refuse the run up front
    when it is missing. The unit tests need no podman (``pytest tests/unit`` runs without it)."""
    if shutil.which(PODMAN) is None and any(not str(item.path).startswith(UNIT) for item in items):
        raise pytest.UsageError("these tests run against the real podman: apt-get install -y podman busybox-static"
                                " (or PODPROXY_TEST_PODMAN=/path/to/podman)")


@pytest.fixture(scope="session")
def store():
    """A session-wide isolated store with one base image."""
    s = Store.create()
    s.base_id = s.make_image(BASE)
    yield s
    s.destroy()


@pytest.fixture
def fresh_store():
    """An empty isolated store for one test (remove-all, prune...)."""
    s = Store.create()
    yield s
    s.destroy()


def make_app(store: Store, **settings):
    settings.setdefault("podman", PODMAN)
    return create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options), **settings))


@pytest.fixture(scope="session")
def app(store):
    return make_app(store)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fresh_client(fresh_store):
    return make_app(fresh_store).test_client()


@pytest.fixture(scope="session")
def podproxy_server(store):
    server = start_podproxy(store)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def reference(store):
    """podman's own ``podman system service`` on the same store."""
    server = start_reference(store)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real registry (Debian's docker-registry) on a loopback port."""
    server = start_registry(str(tmp_path_factory.mktemp("registry")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory):
    """The same, requiring helpers.REGISTRY_USER/REGISTRY_PASSWORD."""
    server = start_registry(str(tmp_path_factory.mktemp("auth-registry")), auth=True)
    yield server
    server.stop()


BIG = "localhost/podproxy/big200:1"


@pytest.fixture(scope="session")
def big_store():
    """A store holding one 200 MB image of random data (``BIG``), for the
    production tests (nginx round trip, shutdown during an export)."""
    s = Store.create()
    tar = random_rootfs(os.path.join(s.path, "big.tar"), 200 << 20)
    s.big_id = s.out("import", "-q", tar, BIG).strip().split(":", 1)[-1]
    os.unlink(tar)
    yield s
    s.destroy()
