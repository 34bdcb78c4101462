"""docker/distribution's reference rules, in one place (gocompat/reference.py): the domain rule,
ParseNormalizedNamed and the registry a name names; used by compat names, scp and credentials."""
import pytest

from podproxy.engine.transfers import scp_refusal
from podproxy.gocompat.reference import normalized_name_error, parse_normalized_named, registry_of, split_domain

ID = "0123456789abcdef" * 4


@pytest.mark.parametrize("name, split", [
    ("busybox", (None, "busybox")),
    ("library/busybox", (None, "library/busybox")),
    ("quay.io/x/y:1", ("quay.io", "x/y:1")),
    ("localhost/x", ("localhost", "x")),
    ("host:5000/x", ("host:5000", "x")),
    ("localhost", (None, "localhost")),         # no slash: never a domain
])
def test_split_domain(name, split):
    assert split_domain(name) == split


@pytest.mark.parametrize("reference, registry", [
    ("busybox", "docker.io"), ("docker://quay.io/x", "quay.io"), ("localhost:5000/x", "localhost:5000"),
    ("docker://busybox", "docker.io"), ("a/b", "docker.io"),
])
def test_registry_of(reference, registry):
    assert registry_of(reference) == registry


@pytest.mark.parametrize("name, full", [
    ("busybox", "docker.io/library/busybox"),
    ("busybox:1", "docker.io/library/busybox:1"),
    ("index.docker.io/x", "docker.io/library/x"),
    ("quay.io/x/y", "quay.io/x/y"),
    ("localhost/x:2", "localhost/x:2"),
])
def test_parse_normalized_named(name, full):
    assert parse_normalized_named(name) == full
    assert normalized_name_error(name) is None


@pytest.mark.parametrize("name, error", [
    (ID, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings" % ID),
    ("Busybox", "invalid reference format: repository name must be lowercase"),
    ("a" * 250, "repository name must not be more than 255 characters"),  # 268 once normalized
    ("x@@y", "invalid reference format"),
])
def test_normalized_name_errors(name, error):
    assert normalized_name_error(name) == error
    with pytest.raises(ValueError, match=r"\A" + error.replace("(", r"\(").replace(")", r"\)") + r"\Z"):
        parse_normalized_named(name)


def test_scp_checks_names_as_podman_normalizes_them():
    """podman's ValidateImageName parses the normalized name: 250 characters are 268 with
    docker.io/library/ (scp checked the bare name and let it through)."""
    refusal = scp_refusal("conn::" + "a" * 250, "")
    assert refusal is not None and refusal.message == "repository name must not be more than 255 characters"
