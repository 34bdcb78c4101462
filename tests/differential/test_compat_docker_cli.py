"""The Docker CLI (Debian's docker.io 20.10, client only, ``DOCKER_HOST``)
against podman's own service and against podproxy on the same store:
same exit code, same output, same effect on the store.

``/usr/bin/docker`` explicitly: another docker client may be first on PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from helpers import podman_features, start_podproxy, start_reference

from .conftest import USED, new_diff_store

DOCKER = "/usr/bin/docker"
BASE = "localhost/podproxy/base:1"

pytestmark = pytest.mark.skipif(not os.path.exists(DOCKER),
                                reason="apt-get install -y --no-install-recommends docker.io")


class DockerPair:
    """The same ``docker`` command against both servers."""

    def __init__(self, ref, proxy, store):
        self.ref, self.proxy, self.store = ref, proxy, store
        self.config = tempfile.mkdtemp(prefix="podproxy-docker-config-")

    def run(self, server, *args, input=None, env=None, cwd=None):
        environ = {"PATH": os.environ.get("PATH", ""), "HOME": self.config, "DOCKER_CONFIG": self.config,
                   "DOCKER_HOST": server.url, **(env or {})}
        proc = subprocess.run([DOCKER, *args], input=input, capture_output=True, env=environ, timeout=300, cwd=cwd)
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")

    def same(self, *args, mask=(), **kw):
        """Both runs; asserts exit code, stdout and stderr equal (with
        ``mask`` regexes replaced). Returns the reference's result."""
        ref = self.run(self.ref, *args, **kw)
        proxy = self.run(self.proxy, *args, **kw)
        assert _masked(proxy, mask) == _masked(ref, mask), args
        return ref

    def close(self):
        shutil.rmtree(self.config, ignore_errors=True)


def _masked(result, mask):
    code, out, err = result
    for pattern in mask:
        out, err = re.sub(pattern, "<M>", out), re.sub(pattern, "<M>", err)
    return code, out, err


@pytest.fixture(scope="module")
def diff_store():
    """This module's own store: the Docker CLI's listings and prunes see the
    whole store, so what earlier tests left on the shared one must not count."""
    s = new_diff_store()
    yield s
    s.destroy()


@pytest.fixture(scope="module")
def docker(diff_store):
    ref = start_reference(diff_store, tcp=True)
    proxy = start_podproxy(diff_store)
    pair = DockerPair(ref, proxy, diff_store)
    yield pair
    pair.close()
    proxy.stop()
    ref.stop()


def names(store) -> list:
    return sorted(store.out("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines())


# temp files in podman's messages: podman's service stages uploads as
# /var/tmp/api_load.tarNNN, podproxy as <scratch dir>/upload
TEMP_PATHS = [r"/[\w./-]*?(api_load\.tar\d+|podproxy-\d+-\w+/upload)", r"/var/tmp/oci\d+",
              r"/[\w./-]*?container_images_oci\d+"]

# "docker images" prints relative times ("2 minutes ago"): the same on both
# sides unless a minute turns between the two runs
_AGO = r"(About )?(an?|\d+) (second|minute|hour)s? ago|Less than a second ago"


def test_version(docker):
    code, out, _ = docker.same("version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} "
                               "{{.Server.Version}} {{.Client.APIVersion}}")
    assert code == 0 and out.startswith("1.41 1.24 ")


def test_version_full(docker):
    docker.same("version")


def test_info(docker):
    code, _, _ = docker.same("info", "--format", "{{.Images}} {{.Driver}} {{.ServerVersion}} {{.OSType}} "
                               "{{.CgroupDriver}} {{.DockerRootDir}} {{.SecurityOptions}} {{.Runtimes}}")
    assert code == 0


@pytest.mark.parametrize("args", [
    ["images"], ["images", "-a"], ["images", "--no-trunc"], ["images", "-q"], ["images", "--digests"],
    ["image", "ls", "--filter", "reference=localhost/podproxy/*"], ["image", "ls", "--filter", "dangling=true"],
    ["image", "ls", "--filter", "before=" + USED], ["image", "ls", "--filter", "label=x"],
    ["image", "ls", "--filter", "bogus=1"], ["images", "localhost/podproxy/base"],
    ["images", "--format", "{{.ID}} {{.Repository}} {{.Tag}} {{.Size}}"],
])
def test_images(docker, args):
    # the CREATED column is as wide as its widest time: masked with its padding
    docker.same(*args, mask=[_AGO + " +", "CREATED +"])


@pytest.mark.parametrize("name", [BASE, "podproxy/base:1", "nope", "UPPER"])
def test_image_inspect(docker, name):
    docker.same("image", "inspect", name, mask=[re.escape(docker.store.path)])


@pytest.mark.parametrize("name", [BASE, "nope"])
def test_history(docker, name):
    docker.same("history", name, mask=[_AGO])
    docker.same("history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}} {{.Size}}", name)


@pytest.mark.parametrize("args,made", [
    (["tag", BASE, "cli-tag"], "docker.io/library/cli-tag:latest"),
    (["tag", BASE, "localhost/cli/tag:2"], "localhost/cli/tag:2"),
    (["tag", "nope", "x"], None),
    (["tag", BASE, "UPPER"], None),
])
def test_tag(docker, args, made):
    results, effects = [], []
    for server in (docker.ref, docker.proxy):
        results.append(docker.run(server, *args))
        effects.append(names(docker.store))
        if made:
            docker.store.podman("untag", BASE, made)
    assert results[1] == results[0]
    assert effects[1] == effects[0]
    if made:
        assert any(n.startswith(made + " ") for n in effects[0])


@pytest.mark.parametrize("args", [
    ["rmi", "rmi-me"], ["rmi", "rmi-me", "rmi-too"], ["rmi", "-f", "rmi-me"], ["rmi", "--no-prune", "rmi-me"],
    ["rmi", USED], ["rmi", "nope"], ["rmi", "-f", "nope"], ["image", "rm", "rmi-me", "nope"],
])
def test_rmi(docker, args):
    """Untag, remove, in use (an error), unknown names: same output and effect."""
    store = docker.store
    results, effects = [], []
    for server in (docker.ref, docker.proxy):
        store.podman("tag", BASE, "docker.io/library/rmi-me:latest", "docker.io/library/rmi-too:latest")
        results.append(docker.run(server, *args))
        effects.append(names(store))
        store.podman("rmi", "docker.io/library/rmi-me:latest", "docker.io/library/rmi-too:latest", check=False)
    assert results[1] == results[0]
    assert effects[1] == effects[0]


def test_info_full(docker):
    """The whole ``docker info`` text (warnings included), its random ID
    aside. podman walks Go maps for the storage driver's status and the
    runtimes (random order in podman itself): lines and words are sorted."""
    def canonical(result):
        code, out, err = _masked(result, [r"ID: [0-9a-f-]{36}"])
        lines = [" ".join(sorted(ln.split(" "))) if ln.startswith(" Runtimes:") else ln for ln in out.splitlines()]
        return code, sorted(lines), err

    ref, proxy = docker.run(docker.ref, "info"), docker.run(docker.proxy, "info")
    assert ref[0] == 0
    assert canonical(proxy) == canonical(ref)


def test_save_load_round_trip(docker, tmp_path):
    """``docker save`` (one and two images, ``-o`` and stdout) and ``docker
    load`` of what was saved: the same archives, the same output."""
    for names in ([BASE], [BASE, USED]):
        archives = []
        for n, server in enumerate((docker.ref, docker.proxy)):
            path = str(tmp_path / ("%d-%d.tar" % (len(names), n)))
            assert docker.run(server, "save", "-o", path, *names)[0] == 0
            from helpers import tar_json, tar_members

            data = open(path, "rb").read()
            archives.append((tar_members(data), tar_json(data, "manifest.json")))
        assert archives[1] == archives[0]
        code, out, _ = docker.same("load", "-i", path)
        assert code == 0 and "Loaded image: " in out
        docker.same("load", input=open(path, "rb").read())
    code, _, _ = docker.same("save", "nope")
    assert code != 0
    docker.same("load", input=b"garbage", mask=TEMP_PATHS)


@pytest.fixture
def docker_fresh():
    """podman's service and podproxy on two stores of their own with the
    same images, for commands that change the whole store."""
    stores = [new_diff_store(), new_diff_store()]
    ref = start_reference(stores[0], tcp=True)
    proxy = start_podproxy(stores[1])
    pair = DockerPair(ref, proxy, None)
    pair.stores = stores
    yield pair
    pair.close()
    proxy.stop()
    ref.stop()
    for s in stores:
        s.destroy()


def test_image_prune(docker_fresh):
    """``image prune`` (nothing dangling here) and ``image prune -a``
    (podman 4.3.1: 500 "dangling" filter more than once, kept as is; from
    4.8 the unused images are removed)."""
    docker = docker_fresh
    code, _, _ = docker.same("image", "prune", "-f")
    assert code == 0
    docker.same("image", "prune", "-f", "--filter", "until=1h")
    code, out, err = docker.same("image", "prune", "-a", "-f", mask=[r"[0-9a-f]{64}"])
    prunes_all = podman_features().compat_prune_dangling_filter
    assert (code == 0, "more than once" in err) == (prunes_all, not prunes_all)
    left = [sorted(n.split()[0] for n in names(s)) for s in docker.stores]
    assert left[1] == left[0] == ([USED] if prunes_all else sorted([BASE, USED, "localhost/podproxy/labelled:1"]))


def test_search(docker, registry):
    docker.store.podman("push", "--tls-verify=false", BASE, "%s/cli/found:1" % registry.address)
    docker.same("search", "%s/cli/found" % registry.address)
    docker.same("search", "%s/cli/nothing" % registry.address)
    docker.same("search", "127.0.0.1:1/x")


@pytest.fixture(scope="module")
def docker_reg(diff_store, tmp_path_factory):
    """A registry that registries.conf marks insecure, and both servers on
    the shared store reading that registries.conf."""
    from helpers import start_registry

    base = tmp_path_factory.mktemp("compat-cli-registry")
    registry = start_registry(str(base / "registry"))
    conf = base / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.address)
    saved = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    os.environ["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    try:
        ref = start_reference(diff_store, tcp=True)
        proxy = start_podproxy(diff_store)
    finally:
        if saved is None:
            os.environ.pop("CONTAINERS_REGISTRIES_CONF")
        else:
            os.environ["CONTAINERS_REGISTRIES_CONF"] = saved
    pair = DockerPair(ref, proxy, diff_store)
    pair.registry = registry
    diff_store.podman("push", "--tls-verify=false", BASE, "%s/cli/base:1" % registry.address)
    yield pair
    pair.close()
    proxy.stop()
    ref.stop()
    registry.stop()


def _each(pair, args, before=None, after=None, **kw):
    results, effects = [], []
    for server in (pair.ref, pair.proxy):
        if before:
            before()
        results.append(pair.run(server, *args, **kw))
        effects.append(names(pair.store))
        if after:
            after()
    return results, effects


def test_pull(docker_reg):
    image = "%s/cli/base:1" % docker_reg.registry.address
    untag = lambda: docker_reg.store.podman("untag", BASE, image, check=False)  # noqa: E731
    results, effects = _each(docker_reg, ["pull", image], before=untag)
    assert results[1] == results[0]
    assert results[0][0] == 0 and results[0][1].rstrip().endswith(image)
    assert effects[1] == effects[0] and any(n.startswith(image + " ") for n in effects[0])
    results, _ = _each(docker_reg, ["pull", "%s/cli/nope:1" % docker_reg.registry.address])
    assert results[1] == results[0] and results[0][0] != 0


def test_push(docker_reg):
    image = "%s/cli/pushed:1" % docker_reg.registry.address
    results, _ = _each(docker_reg, ["push", image], before=lambda: docker_reg.store.podman("tag", BASE, image),
                       after=lambda: docker_reg.store.podman("untag", BASE, image))
    assert results[1] == results[0]
    assert results[0][0] == 0 and "digest: sha256:" in results[0][1]
    results, _ = _each(docker_reg, ["push", "%s/cli/absent:1" % docker_reg.registry.address])
    assert results[1] == results[0] and results[0][0] != 0


def test_import(docker, tmp_path):
    """``docker import`` from a file and from stdin; podman 4.3.1 names the
    image REPO:latest whatever the tag (the CLI sends it inside ``repo``)."""
    tar = docker.store.rootfs_tar({"marker": b"cli-import"})
    try:
        for args in (["import", tar, "localhost/cli/imported:3"], ["import", "-", "cli-imported"],
                     ["import", "-m", "hello", "-c", "CMD [\"/bin/sh\"]", tar]):
            stdin = open(tar, "rb").read() if "-" in args else None
            results, effects = [], []
            for server in (docker.ref, docker.proxy):
                before = docker.store.image_ids()
                results.append(_masked(docker.run(server, *args, input=stdin), [r"sha256:[0-9a-f]{64}"]))
                new = docker.store.image_ids() - before
                effects.append(sorted(n.split()[0] for n in names(docker.store) if n.split()[1] in
                                      {i[:12] for i in new}))
                docker.store.podman("rmi", "-f", *new, check=False)
            assert results[1] == results[0]
            assert results[0][0] == 0
            assert effects[1] == effects[0]
    finally:
        os.unlink(tar)


def test_commit(docker):
    """``docker commit`` of a created container: same output (the new ID
    masked), same names; an unknown container fails alike."""
    for args in (["commit", "podproxy-used"], ["commit", "nope", "x"],
                 ["commit", "-m", "hi", "-c", "ENV A=b", "podproxy-used", "cli/committed:1"]):
        results, effects = [], []
        for server in (docker.ref, docker.proxy):
            before = docker.store.image_ids()
            results.append(_masked(docker.run(server, *args), [r"[0-9a-f]{64}"]))
            new = docker.store.image_ids() - before
            effects.append(sorted(n.split()[0] for n in names(docker.store) if n.split()[1] in {i[:12] for i in new}))
            if new:
                docker.store.podman("rmi", "-f", *new)
        assert results[1] == results[0], args
        assert effects[1] == effects[0], args


def test_build_classic(docker, tmp_path):
    """``DOCKER_BUILDKIT=0 docker build``: same output (IDs masked: the second
    build of the same steps uses the first one's cache), same names."""
    (tmp_path / "Dockerfile").write_text("FROM %s\nLABEL cli=build\nENV B=1\n" % BASE)
    env = {"DOCKER_BUILDKIT": "0"}
    for args, code_want, names_want in (
            (["build", "-t", "cli/built:1", "-t", "localhost/cli/built:2", str(tmp_path)], 0,
             ["docker.io/cli/built:1", "localhost/cli/built:2"]),
            (["build", "-q", str(tmp_path)], 0, []), (["build", "-f", "nope", str(tmp_path)], 1, [])):
        results, effects = [], []
        for server in (docker.ref, docker.proxy):
            code, out, err = docker.run(server, *args, env=env)
            out = "\n".join(ln for ln in out.splitlines() if "Using cache" not in ln)
            results.append(_masked((code, out, err), [r"\b[0-9a-f]{12,64}\b", r"/\S*build\S*"]))
            built = sorted(n.split()[0] for n in names(docker.store) if "cli/built" in n)
            effects.append(built)
            for name in built:
                docker.store.podman("untag", name, name)
        assert results[1] == results[0], args
        assert effects[1] == effects[0], args
        assert (results[0][0], effects[0]) == (code_want, names_want)
