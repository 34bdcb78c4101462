"""podman's image reference grammar (docker/distribution ``reference.Parse``
and libimage's ``NormalizeName``), to check a name *before* podman acts.

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
