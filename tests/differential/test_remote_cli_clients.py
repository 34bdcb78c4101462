"""The podman remote CLI (``podman --url``) for list, tag, history, diff,
pull, push, search and info: the same output and exit code against
podproxy as against podman's own service on the same store."""
from __future__ import annotations

import pytest

from .conftest import USED
from .test_remote_cli import both, remote

BASE = "localhost/podproxy/base:1"


@pytest.fixture(scope="module")
def reg(pair, registry):
    pair.store.podman("push", "--tls-verify=false", BASE, "%s/cli/base:1" % registry.address)
    return registry.address


@pytest.mark.parametrize("args", [
    ("images", "--format", "json"),
    ("images", "-a", "--format", "json"),
    ("images", "--noheading", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.Containers}}"),
    ("images", "-q"),
    ("images", "--no-trunc", "-q", "--sort", "repository"),
    ("images", "--filter", "reference=localhost/podproxy/base", "--format", "{{.ID}}"),
    ("images", "--filter", "dangling=true", "--format", "{{.ID}}"),
    ("images", "--filter", "label=a=b", "--format", "{{.ID}}"),
    ("images", "--filter", "bogus=1"),
    ("images", "--filter", "until=xx"),
    ("image", "history", "--format", "{{.ID}} {{.CreatedBy}} {{.Size}} {{.Comment}}", BASE),
    ("image", "history", "--format", "json", USED),
    ("image", "history", "--no-trunc", "-q", BASE),
    ("image", "history", "nope"),
    ("image", "history", "UPPER"),
    ("image", "diff", BASE),
    ("image", "diff", "--format", "json", BASE),
    ("image", "diff", "nope"),
    ("image", "tag", "nope", "localhost/x:1"),
    ("image", "tag", BASE, "UPPER"),
    ("image", "tag", "UPPER", "localhost/x:1"),
    ("info", "--format", "{{.Host.Arch}} {{.Host.OS}} {{.Store.GraphRoot}} {{.Store.GraphDriverName}} "
                         "{{.Version.Version}} {{.Version.APIVersion}}"),
])
def test_read_and_errors(pair, args):
    ref, proxy = both(pair, *args, ids=[pair.store.container_id])
    assert proxy == ref


def test_info_plain(pair):
    """``podman --remote info`` prints podman's info (values that move, like
    free memory, aside): same exit code and the same keys."""
    ref, proxy = both(pair, "info")
    assert proxy[0] == ref[0] == 0

    def keys(text):
        return [line.split(":")[0] for line in text.splitlines()]
    assert keys(proxy[1]) == keys(ref[1])


def test_tag(pair):
    results = []
    for n, server in enumerate((pair.ref, pair.proxy)):
        code, out, err = remote(server.url, "image", "tag", BASE, "localhost/cli/tag%d:a" % n, "localhost/cli/tag%d" % n)
        results.append((code, out, err))
        assert pair.store.podman("image", "exists", "localhost/cli/tag%d:latest" % n).returncode == 0
    assert results[0] == results[1] and results[0][0] == 0


@pytest.mark.parametrize("args", [
    ("search", "--tls-verify=false", "{reg}/cli"),
    ("search", "--tls-verify=false", "--list-tags", "{reg}/cli/base"),
    ("search", "--tls-verify=false", "--format", "json", "{reg}/cli"),
    ("search", "--tls-verify=false", "{reg}/nothing"),
    ("search", "{reg}/cli"),
    ("pull", "--tls-verify=false", "{reg}/cli/base:1"),
    ("pull", "-q", "--tls-verify=false", "{reg}/cli/base:1"),
    ("pull", "--tls-verify=false", "{reg}/cli/nope:1"),
    ("pull", "{reg}/cli/base:1"),
    ("pull", "UPPER"),
    ("push", "--tls-verify=false", "nope", "{reg}/cli/x:1"),
    ("push", "--tls-verify=false", BASE, "UPPER"),
])
def test_registry(pair, reg, args):
    args = [a.format(reg=reg) for a in args]
    ref, proxy = both(pair, *args, ids=[pair.store.base_id])
    assert proxy == ref


def test_push_remove_pull_search(pair, reg):
    """Round trip through each server: push, remove locally, pull back, search."""
    store = pair.store
    image_id = store.make_image("localhost/cli/roundtrip:1", marker="roundtrip")
    results = []
    for n, server in enumerate((pair.ref, pair.proxy)):
        target = "%s/roundtrip%d/img:1" % (reg, n)
        steps = [remote(server.url, "push", "--tls-verify=false", "localhost/cli/roundtrip:1", target)]
        store.podman("tag", image_id, target)
        steps.append(remote(server.url, "image", "rm", target))
        steps.append(remote(server.url, "pull", "--tls-verify=false", target))
        steps.append(remote(server.url, "search", "--tls-verify=false", "--format", "{{.Name}}", target))
        steps.append(remote(server.url, "image", "exists", target))
        results.append([(c, o.replace("roundtrip%d" % n, "roundtripN"), e.replace("roundtrip%d" % n, "roundtripN"))
                        for c, o, e in steps])
    assert results[0] == results[1]
    assert [step[0] for step in results[0]] == [0, 0, 0, 0, 0]
    assert results[0][2][1].strip() == image_id
