"""podman's image reference grammar (docker/distribution ``reference.Parse``,
``ParseNormalizedNamed`` and its domain rule), to check a name *before*
podman acts.

``podman image import - UPPER`` imports the layer first and only then
fails to tag it, leaving an untagged image behind; checking the name
first keeps storage unchanged, with podman's own error text.
"""
from __future__ import annotations

import re

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]*)"
_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = _DOMAIN_PART + r"(?:\." + _DOMAIN_PART + r")*" + r"(?::[0-9]+)?"
_NAME = r"(?:" + _DOMAIN + r"/)?" + _COMPONENT + r"(?:/" + _COMPONENT + r")*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(r"(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?\Z", re.ASCII)

NAME_MAX = 255
DOMAIN = _DOMAIN  # a registry host[:port], as the grammar matches it
IMAGE_ID = re.compile(r"[a-f0-9]{64}\Z")  # docker/distribution's anchoredIdentifierRegexp


def parse_error(name: str) -> str | None:
    """``reference.Parse``'s error text for ``name``, or None if it parses."""
    m = _REFERENCE.match(name)
    if m is None:
        if name == "":
            return "repository name must have at least one component"
        if _REFERENCE.match(name.lower()):
            return "repository name must be lowercase"
        return "invalid reference format"
    if len(m.group(1)) > NAME_MAX:
        return "repository name must not be more than %d characters" % NAME_MAX
    return None


def tag_error(name: str) -> str | None:
    """The error of libimage's ``Image.Tag(name)`` for a bad name (the
    name is wrapped twice, as podman prints it), or None."""
    if name.startswith("sha256:"):
        return None  # podman's own check, left to podman
    err = parse_error(name)
    if err is None:
        return None
    return 'normalizing name "%s": normalizing name "%s": %s' % (name, name, err)


def split_domain(name: str) -> tuple[str | None, str]:
    """docker/distribution's domain rule: the first component is a registry
    when it holds a ``.`` or a ``:`` or is ``localhost``; (None, name) when
    the name names no registry."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def registry_of(reference: str) -> str:
    """The registry a reference names (docker.io when it names none)."""
    if reference.startswith("docker://"):
        reference = reference[len("docker://") :]
    return split_domain(reference)[0] or "docker.io"


def parse_normalized_named(name: str) -> str:
    """docker/distribution's ``ParseNormalizedNamed(name).String()`` (v2.8:
    ``docker.io`` and ``library/`` added, the tag kept, none added);
    ValueError with its error text."""
    if IMAGE_ID.match(name):
        raise ValueError("invalid repository name (%s), cannot specify 64-byte hexadecimal strings" % name)
    domain, remainder = split_domain(name)
    if domain is None or domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ValueError("invalid reference format: repository name must be lowercase")
    full = domain + "/" + remainder
    err = parse_error(full)
    if err is not None:
        raise ValueError(err)
    return full


def normalized_name_error(name: str) -> str | None:
    """``ParseNormalizedNamed``'s error text for ``name`` (podman's
    ``ValidateImageName``), or None."""
    try:
        parse_normalized_named(name)
    except ValueError as e:
        return str(e)
    return None
