"""podman's handler error helpers (``pkg/api/handlers/utils/errors.go``):
the one place where an engine error (``engine/podman/errors.py``: a kind,
a message, a cause, an exit code) becomes an answer (``APIError``: a status
and podman's error body).

A handler calls the helper podman's handler calls at that point
(``image_not_found``, ``internal_server_error``, ``bad_request``,
``error``); an engine error no handler translated is answered by its kind
(``answer``: not found 404, conflict 409, bad input 400, anything else 500),
as podman's default mapping for a failed command.
"""
from __future__ import annotations

from ..engine.podman.errors import BAD_INPUT, CONFLICT, NOT_FOUND, EngineError
from ..gocompat import gojson
from ..services import features
from ..web.errors import APIError, ImageNotFoundOnOtherError

_BY_KIND = {NOT_FOUND: 404, CONFLICT: 409, BAD_INPUT: 400}


def error(status: int, err: EngineError) -> APIError:
    """``utils.Error(w, status, err)``."""
    return APIError(status, err.message, err.cause)


def internal_server_error(err: EngineError) -> APIError:
    """``utils.InternalServerError(w, err)``: 500."""
    return error(500, err)


def answer(err: EngineError) -> APIError:
    """An engine error no handler translated, by its kind."""
    return error(_BY_KIND.get(err.kind, 500), err)


def bad_request(key: str, value: str, err: str) -> APIError:
    """``utils.BadRequest(w, key, value, err)``."""
    return APIError(400, "failed to parse query parameter '%s': %s: %s" % (key, gojson.go_quote(value), err), err)


def lookup_failed(err: EngineError) -> APIError:
    """``utils.ImageNotFound`` for an error that is not "image not known":
    500 (before podman 5.2 followed by a second, 404 body:
    ``versions.single_not_found_body``)."""
    if features().single_not_found_body:
        return internal_server_error(err)
    return ImageNotFoundOnOtherError(APIError(500, err.message, err.cause))


def image_not_found(name: str, err: EngineError) -> APIError:
    """``utils.ImageNotFound(w, name, fmt.Errorf("failed to find image %s: %w", name, err))``:
    404 for "image not known", otherwise ``lookup_failed``."""
    wrapped = err.wrap("failed to find image %s" % name)
    if wrapped.cause == "image not known":
        return error(404, wrapped)
    return lookup_failed(wrapped)
