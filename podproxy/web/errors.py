"""The one error type of podproxy and podman's error body.

podman answers every failure with ``utils.Error(w, code, err)``::

    {"cause": <innermost wrapped error>, "message": <err.Error()>, "response": <code>}\\n

``APIError`` carries exactly those three things. Go code wraps errors with
``fmt.Errorf("context: %w", err)``; ``APIError.wrap`` does the same: the
message gets the prefix, the cause stays the innermost error.
"""
from __future__ import annotations

import re

from ..gocompat import gojson

JSON_CONTENT_TYPE = "application/json"

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
        return inner.rsplit(": ", 1)[-1] if inner.startswith("dial ") else inner
    return message


class APIError(Exception):
    """An error answered with podman's body. ``status`` is the HTTP code."""

    def __init__(self, status: int, message: str, cause: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.cause = message if cause is None else cause
        self.headers: dict[str, str] = {}  # sent with the answer (WWW-Authenticate, Retry-After)

    def wrap(self, prefix: str, status: int | None = None) -> APIError:
        """``fmt.Errorf(prefix + ": %w", err)`` with an optional new status."""
        return APIError(
            self.status if status is None else status,
            "%s: %s" % (prefix, self.message),
            self.cause,
        )

    def with_status(self, status: int) -> APIError:
        return APIError(status, self.message, self.cause)

    def body(self) -> str:
        return error_body(self.status, self.message, self.cause)

    def __repr__(self):
        return "APIError(%d, %r, cause=%r)" % (self.status, self.message, self.cause)


class ImageNotFoundOnOtherError(APIError):
    """podman's ``utils.ImageNotFound`` for an error that is not "image not
    known": it writes a 500 body and then a 404 body into the same answer
    (the status stays 500). Clients see two JSON objects; we send the same."""

    def __init__(self, err: APIError):
        super().__init__(500, err.message, err.cause)

    def body(self) -> str:
        return error_body(500, self.message, self.cause) + error_body(404, self.message, self.cause)


def error_body(status: int, message: str, cause: str | None = None) -> str:
    """podman's ``ErrorModel`` as Go encodes it, with the trailing newline."""
    return (
        gojson.dumps(
            {
                "cause": message if cause is None else cause,
                "message": message,
                "response": status,
            }
        )
        + "\n"
    )
