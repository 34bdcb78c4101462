"""Hostile inputs answered as podman's own service answers them."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import normalize

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _deep(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [500, 10000, 10001])
def test_deeply_nested_filters_in_a_form(pair, kind, depth):
    """Filters nested 500 (or Go's limit of 10000) deep are podman's type
    error; 10001 deep is Go's "exceeded max depth": never a RecursionError."""
    body = ("filters=" + quote(_deep(kind, depth), safe='[]{}:"')).encode()  # raw: within podproxy's 64 KiB form bound
    assert len(body) <= 64 * 1024
    target = "/v4.0.0/libpod/images/prune?filters="  # podman reads the form's filters only when the query names them
    ref, proxy = pair.both("POST", target, body=body, headers=FORM)
    assert ref.status == 500 and b"RecursionError" not in proxy.body
    assert normalize(proxy) == normalize(ref)


def test_deeply_nested_filters_in_the_query(pair):
    target = "/v4.0.0/libpod/images/json?filters=" + quote(_deep("array", 500), safe="")
    ref, _ = pair.same("GET", target)
    assert ref.status == 500
