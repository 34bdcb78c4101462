"""What a route answers on success, as its registration declares it
(``route(..., response=ok(200, "...", JSON, ANY_OBJECT))``), and the JSON
schemas those declarations share. ``web/openapi.py`` turns them into the
OpenAPI document; nothing else reads them."""
from __future__ import annotations

from dataclasses import dataclass

JSON = "application/json"
TAR = "application/x-tar"
TEXT = "text/plain"

ANY_OBJECT: dict = {"type": "object"}
ANY_ARRAY: dict = {"type": "array", "items": {}}
STRING: dict = {"type": "string"}
BINARY: dict = {"type": "string", "format": "binary"}
REMOVE_REPORT: dict = {
    "type": "object",
    "properties": {
        "Deleted": {"type": "array", "items": {"type": "string"}},
        "Untagged": {"type": "array", "items": {"type": "string"}},
        "ExitCode": {"type": "integer"},
        "Errors": {"type": "array", "items": {"type": "string"}, "nullable": True},
    },
}


@dataclass(frozen=True)
class Success:
    """A route's success answer: status, what it is, its Content-Type
    (None: podman sends none) and the body's schema."""

    status: int
    description: str
    content_type: str | None = JSON
    schema: dict | None = None


def ok(status: int, description: str, content_type: str | None = JSON, schema: dict | None = None) -> Success:
    return Success(status, description, content_type, schema)
