"""An image import's source URL, fetched for podman (podman's service
would open the URL itself, and any path on the server too): the body as
chunks, bounded in size and time. Whether a URL may be fetched at all
(``--allow-url-import``, http(s) only) is the handler's decision."""
from __future__ import annotations

from collections.abc import Iterator

from .podman.errors import BAD_INPUT, EngineError

CHUNK = 64 * 1024
TIMEOUT = (10, 300)  # seconds: to connect, and between two reads


class FetchFailed(EngineError):
    """The URL could not be fetched: ``fetching URL: error``, the cause
    the error's text."""


class TooLarge(EngineError):
    """The body is over ``limit`` bytes."""

    kind = BAD_INPUT

    def __init__(self, limit: int):
        super().__init__("the fetched body is over %d bytes" % limit, cause="too large")
        self.limit = limit


def fetch(url: str, limit: int = 0) -> Iterator[bytes]:
    """GET ``url`` now (``FetchFailed`` on any error or a 4xx/5xx), then its
    body as chunks; ``TooLarge`` once more than ``limit`` bytes (0: no limit)
    came. Closing the iterator closes the connection."""
    import requests

    try:
        resp = requests.get(url, stream=True, timeout=TIMEOUT)
        resp.raise_for_status()
    except requests.RequestException as e:
        raise FetchFailed("fetching %s: %s" % (url, e), cause=str(e)) from None

    def chunks():
        total = 0
        try:
            for chunk in resp.iter_content(CHUNK):
                total += len(chunk)
                if limit and total > limit:
                    raise TooLarge(limit)
                yield chunk
        finally:
            resp.close()

    return chunks()
