"""podman's filter parameters (``filters`` / ``Filters``): the JSON forms
its handlers accept and the two ways they flatten them (``util.PrepareFilters``
and containers/common's ``filters.FiltersFromRequest``)."""
from __future__ import annotations

from collections.abc import Callable

from ..gocompat import gojson

_COMPAT = gojson.MAP(gojson.MAP(gojson.BOOL))
_LIBPOD = gojson.MAP(gojson.SLICE(gojson.STRING))


def _raw_filters(query_keys: set, form_get: Callable[[str], str]) -> str | None:
    if "filters" in query_keys:
        return form_get("filters")
    if "Filters" in query_keys:
        return form_get("Filters")
    return None


def _parse_filters(raw: str, join_slice: bool) -> list[tuple[str, str]]:
    compat, err = gojson.unmarshal(raw, _COMPAT)
    if err is None:
        return [(k, v) for k, m in (compat or {}).items() for v, on in (m or {}).items() if on]
    libpod, err = gojson.unmarshal(raw, _LIBPOD)
    if err is not None:
        raise ValueError(err)
    pairs = []
    for k, vals in (libpod or {}).items():
        vals = vals or []
        if join_slice:
            pairs.append((k, "=".join(v or "" for v in vals)))
        else:
            pairs.extend((k, v or "") for v in vals)
    return pairs


def prepare_filters(query_keys: set, form_get: Callable[[str], str]) -> dict[str, list[str]]:
    """podman's ``util.PrepareFilters`` (prune, and other libpod handlers):
    ``{"k":{"v":true}}`` or ``{"k":["v1","v2"]}`` -> ``{"k": ["v1", "v2"]}``.
    Raises ValueError with Go's JSON error text."""
    raw = _raw_filters(query_keys, form_get)
    if raw is None:
        return {}
    result: dict[str, list[str]] = {}
    for k, v in _parse_filters(raw, join_slice=False):
        result.setdefault(k, []).append(v)
    return result


def common_filters(query_keys: set, form_get: Callable[[str], str]) -> list[str]:
    """containers/common's ``filters.FiltersFromRequest`` (image list): the
    slice form joins all values of a key with ``=`` (``{"label":["a","b"]}``
    is the one filter ``label=a=b``, as the remote client encodes it)."""
    raw = _raw_filters(query_keys, form_get)
    if raw is None:
        return []
    return ["%s=%s" % (k, v) for k, v in _parse_filters(raw, join_slice=True)]
