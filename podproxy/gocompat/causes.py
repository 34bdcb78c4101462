"""podman's ``cause`` (the innermost error of Go's ``errors.Unwrap``
chain) reconstructed from the text of a CLI error message: the sentinel
errors of podman, containers/storage, containers/common and
containers/image whose text survives in the CLI's "Error: ..." line, and
the wrappers (exec, url, registry errcode) whose chain ends at a known
point. Pure: no I/O."""
from __future__ import annotations

import re

# Sentinel errors of podman, containers/storage and containers/common whose
# text survives in the CLI's "Error: ..." line. When a message contains one,
# podman's ``errors.Unwrap`` chain would have ended there.
_SENTINELS = (
    "image not known",
    "layer not known",
    "image is in use by a container",
    "no such container",
    "container not known",
    "no such image",
    "invalid argument",
    "tag not known",
    "image is not a manifest list",
    # containers/image's reference grammar errors (docker/distribution)
    "repository name must be lowercase",
    "invalid reference format",
    "repository name must have at least one component",
    "repository name must not be more than 255 characters",
    # strconv's NumError unwraps to ErrSyntax / ErrRange
    "invalid syntax",
    "value out of range",
)


# a failed helper process (e.g. storage's tar applier): Go's *exec.ExitError
_EXIT_STATUS = re.compile(r": (exit status \d+)\Z")


# containers/storage's layer error (``adding layer with blob "D"/"ID"/"D": err``)
# of a failed unpack that no longer ends in the applier's exit status
# (storage 1.5x: ``unpacking failed (error: exit status 1; output: ...)``):
# the chain ends at err
_LAYER_ERROR = re.compile(r'adding layer with blob "[^"]*"/"[^"]*"/"[^"]*": (.*)\Z', re.S)


# a registry's "authentication required" whose errcode text the CLI's
# message lost (podman 5's blob-reuse wording): the errcode's own text
_AUTH_REQUIRED = re.compile(r": authentication required\Z")


# Go's url.Error (``Get "URL": err``) unwraps to err; a net.OpError from
# dialing (``dial tcp ADDR: connect: connection refused``) to the errno text
_URL_ERROR = re.compile(r'(?:Get|Head|Post|Put|Patch|Delete) "[^"]*": (.*)\Z', re.S)


# a registry's error (docker/distribution errcode: "<code>: <message>")
# ends the chain when the registry refused
_REGISTRY_ERROR = re.compile(r"(?:\A|: )((?:unauthorized|denied|manifest unknown|name unknown|blob unknown|"
                             r"name invalid|tag invalid|manifest invalid|unsupported|toomanyrequests): [^\n]*)\Z")


# buildah's commit changes (``processing change "C": err``): err is a new error
_CHANGE_ERROR = re.compile(r'processing change "[^"\n]*": ([^\n]*)\Z')


def cause_of(message: str) -> str:
    """Best reconstruction of podman's ``cause`` from a CLI error message."""
    for sentinel in _SENTINELS:
        if sentinel in message:
            return sentinel
    m = _EXIT_STATUS.search(message)
    if m:
        return m.group(1)
    at = message.find("unable to retrieve auth token: ")  # ErrUnauthorizedForCredentials: no Unwrap
    if at >= 0:
        return message[at:].split("\n", 1)[0]
    m = _REGISTRY_ERROR.search(message)
    if m:
        return m.group(1)
    m = _LAYER_ERROR.search(message)
    if m:
        return m.group(1)
    if _AUTH_REQUIRED.search(message):
        return "unauthorized: authentication required"
    m = _URL_ERROR.search(message)
    if m:
        inner = m.group(1)
        if not inner.startswith("dial "):
            return inner
        # a *net.DNSError ends the chain ("lookup HOST on DNS: no such host"), an errno ends it
        lookup = inner.find(": lookup ")
        return inner[lookup + 2 :] if lookup >= 0 else inner.rsplit(": ", 1)[-1]
    m = _CHANGE_ERROR.search(message)
    if m:
        return m.group(1)
    return message
