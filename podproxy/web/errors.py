"""The one error type of podproxy and podman's error body.

podman answers every failure with ``utils.Error(w, code, err)``::

    {"cause": <innermost wrapped error>, "message": <err.Error()>, "response": <code>}\\n

``APIError`` carries exactly those three things. Go code wraps errors with
``fmt.Errorf("context: %w", err)``; ``APIError.wrap`` does the same: the
message gets the prefix, the cause stays the innermost error.
"""
from __future__ import annotations

from ..gocompat import gojson
from ..gocompat.causes import cause_of  # noqa: F401  (handlers read it from here too)

JSON_CONTENT_TYPE = "application/json"


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
