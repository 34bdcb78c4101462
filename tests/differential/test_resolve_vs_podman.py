"""``GET /libpod/images/{name}/resolve`` (podman 5.0,
``versions.image_resolve``): podproxy and podman's own service give the
same names and errors; on podman 4.3.1, which has no such route, the same
405 as mux answers."""
from __future__ import annotations

import os

import pytest
from helpers import Store, podman_features, start_podproxy, start_reference

from .conftest import Pair, normalize

V = "/v5.0.0/libpod/images/"
DIGEST = "sha256:" + "a" * 64

# names whose answer is the same under the host's and a chroot's stock
# configuration (no search registries; "alpine" and "fedora" are aliases in both)
STOCK = ["alpine", "alpine:3.19", "fedora@" + DIGEST, "nonalias", "a/b", "quay.io/x/y", "quay.io%2Fx%2Fy",
         "docker.io/alpine", "localhost/foo", "localhost:5000/a:1", "noCAPITAL", "x:", "UPPER/lower"]


@pytest.mark.parametrize("name", STOCK)
def test_resolve_stock_config(pair, name):
    pair.same("GET", V + name + "/resolve")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_resolve_other_methods(pair, method):
    pair.same(method, V + "alpine/resolve")


REGISTRIES_CONF = """
unqualified-search-registries = ["quay.io", "docker.io", "localhost:5000"]

[aliases]
"myalias" = "example.com/team/image"
"reset" = "example.com/reset/me"
"""
DROP_IN = """
[aliases]
"reset" = ""
"dropped" = "docker.io/dropped"
"""
OWN = ["myalias", "myalias:2", "myalias@" + DIGEST, "reset", "dropped", "plain", "team/plain:3", "plain@" + DIGEST,
       "alpine", "myalias:", "quay.io/myalias"]


@pytest.fixture(scope="module")
def own_config_pair():
    """Both servers with HOME pointing at a registries.conf of this test's
    own (podman reads $HOME/.config/containers/registries.conf instead of
    /etc's when it exists), in the store, which is the same path for a
    chrooted podman."""
    store = Store.create()
    home = os.path.join(store.path, "home")
    conf_dir = os.path.join(home, ".config/containers")
    os.makedirs(conf_dir + "/registries.conf.d")
    with open(conf_dir + "/registries.conf", "w") as f:
        f.write(REGISTRIES_CONF)
    with open(conf_dir + "/registries.conf.d/50-test.conf", "w") as f:
        f.write(DROP_IN)
    env = {"HOME": home}
    ref = start_reference(store, env=env)
    proxy = start_podproxy(store, env=env)
    yield Pair(ref, proxy, store)
    proxy.stop()
    ref.stop()
    store.destroy()


@pytest.mark.parametrize("name", OWN)
def test_resolve_own_config(own_config_pair, name):
    own_config_pair.same("GET", V + name + "/resolve")


def test_resolve_search_registries(own_config_pair):
    """Not vacuous: on podman 5 a short name gives one candidate per search
    registry, in order, and an alias reset by a drop-in is no alias; on
    4.3.1 the route does not exist."""
    expected = {
        True: [(200, "application/json", {"Names": ["quay.io/team/plain:3", "docker.io/team/plain:3",
                                                    "localhost:5000/team/plain:3"]}),
               (200, "application/json", {"Names": ["quay.io/reset:latest", "docker.io/library/reset:latest",
                                                    "localhost:5000/reset:latest"]})],
        False: [(405, "text/plain; charset=utf-8", "Method Not Allowed\n")] * 2,
    }[podman_features().image_resolve]
    got = [normalize(own_config_pair.proxy.http.request("GET", V + name + "/resolve"))
           for name in ("team/plain:3", "reset")]
    assert got == expected


V1_CONF = """
[registries.search]
registries = ['quay.io', 'registry.example.com:5000']
"""


@pytest.fixture(scope="module")
def v1_config_pair():
    """CONTAINERS_REGISTRIES_CONF naming a registries.conf in the old (v1)
    format, whose search list podman converts."""
    store = Store.create()
    path = os.path.join(store.path, "registries-v1.conf")
    with open(path, "w") as f:
        f.write(V1_CONF)
    env = {"CONTAINERS_REGISTRIES_CONF": path}
    ref = start_reference(store, env=env)
    proxy = start_podproxy(store, env=env)
    yield Pair(ref, proxy, store)
    proxy.stop()
    ref.stop()
    store.destroy()


@pytest.mark.parametrize("name", ["plain", "team/plain:3", "plain@" + DIGEST, "quay.io/x", "UPPER"])
def test_resolve_v1_config(v1_config_pair, name):
    v1_config_pair.same("GET", V + name + "/resolve")
