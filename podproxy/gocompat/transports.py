"""Image names with a transport, as containers/image parses them, for the
checks podman's handlers make before they call libimage (which the CLI makes
differently).

* ``transport_error`` is ``utils.IsRegistryReference``: a reference with a
  known transport other than ``docker:`` is refused (pull, push destination);
* ``storage_reference_error`` is ``utils.ParseStorageReference`` (push source).
"""
from __future__ import annotations

import re

from .reference import IMAGE_ID, parse_error

# containers/image's alltransports (as built into podman 4.3.1)
TRANSPORTS = ("containers-storage", "dir", "docker", "docker-archive", "docker-daemon", "oci", "oci-archive",
              "sif", "tarball")

_STORAGE_ID_SUFFIX = re.compile(r"(.*)@([a-f0-9]{64})\Z")


def _transports_error(name: str) -> str | None:
    """alltransports.ParseImageName's error for ``name``, or None."""
    transport, sep, rest = name.partition(":")
    if not sep:
        return 'Invalid image name "%s", expected colon-separated transport:reference' % name
    if transport not in TRANSPORTS:
        return 'Invalid image name "%s", unknown transport "%s"' % (name, transport)
    if transport == "docker" and not rest.startswith("//"):
        return 'Invalid image name "%s", docker: image reference %s does not start with //' % (name, rest)
    return None


def transport_of(name: str) -> str | None:
    """The transport ``name`` parses with, None for a plain reference."""
    if _transports_error(name) is None:
        return name.partition(":")[0]
    return None


def transport_error(name: str) -> str | None:
    """``IsRegistryReference``: only docker (or no) transport."""
    transport = transport_of(name)
    if transport is None or transport == "docker":
        return None
    return 'unsupported transport %s in "%s": only docker transport is supported' % (transport, name)


def is_storage_name(name: str) -> bool:
    """Whether ``containers-storage:NAME`` parses: an ID, or a reference
    (lower-case, podman's grammar), optionally ``@ID``."""
    if name.startswith("["):  # [driver@root+run]name: a store spec
        end = name.find("]")
        if end < 0:
            return False
        name = name[end + 1 :]
    if IMAGE_ID.match(name):
        return True
    m = _STORAGE_ID_SUFFIX.match(name)
    if m:
        name = m.group(1)
        if not name:
            return True
    return parse_error(name) is None and not IMAGE_ID.match(name.rpartition("/")[2].partition(":")[0])


def storage_reference_error(name: str) -> tuple[str, str] | None:
    """``ParseStorageReference``: (message, cause) when ``name`` is refused."""
    transport = transport_of(name)
    if transport is not None:
        if transport == "docker":
            return None
        message = 'reference "%s" must be a storage reference' % name
        return message, message
    if is_storage_name(name):
        return None
    cause = _transports_error(name) or ""  # never empty: transport_of found no transport
    return 'reference "%s" must be a storage reference: %s' % (name, cause), cause
