"""podman's query decoder: gorilla/schema as podman configures it, and the
two ``filters`` parsers.

Each endpoint declares its parameters once, with podman's defaults::

    TREE = Query(Bool("whatrequires"))
    values = TREE.decode(pairs, url)      # -> {"whatrequires": False}

A ``Filters`` entry adds the ``filters`` parameter with one of podman's two
JSON parsers (``prepare_filters`` or ``common_filters``).

The rules (``handlers.NewAPIDecoder``, gorilla/schema v1.2.0):

* keys match the parameter name case-insensitively; unknown keys are ignored;
* a scalar takes the *last* value; an empty value keeps the default;
* a bool is ``on`` or one of strconv.ParseBool's spellings;
* an int is strconv.ParseInt(v, 10, 0);
* a list gets one element per repeated key, empty values dropped, commas kept;
* on podman's compat routes (4.7+, ``NewCompatAPIDecoder``) a bool is
  Docker's ``BoolValue``: anything but "", 0, no, false, none is true, so a
  bool never fails there (``Query(..., docker_bools=True)``);
* a failure is ``schema: error converting value for "<key as sent>"`` wrapped
  as ``failed to parse parameters for <path?query>: ...``; several failures
  add `` (and N other error(s))``. The status is 400, or what the spec says
  (prune answers 500).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ..gocompat.strconv import parse_bool
from .errors import APIError

# --------------------------------------------------------------------------
# Go's url.ParseQuery

_HEX = "0123456789abcdefABCDEF"


def _unescape(s: str) -> str | None:
    """Go's url.QueryUnescape; None where Go returns an error."""
    if "%" not in s and "+" not in s:
        return s
    out = bytearray()
    i = 0
    raw = s.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i]
        if c == 0x25:  # %
            h = raw[i + 1 : i + 3].decode("latin-1")
            if len(h) != 2 or h[0] not in _HEX or h[1] not in _HEX:
                return None
            out.append(int(h, 16))
            i += 3
        elif c == 0x2B:  # +
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", "surrogateescape")


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    """``url.ParseQuery``: pairs in order; pieces with ``;`` or a bad escape
    are dropped, as Go drops them (``r.URL.Query()`` ignores the error)."""
    pairs = []
    for piece in raw_query.split("&"):
        if not piece or ";" in piece:
            continue
        key, _, value = piece.partition("=")
        key_text, value_text = _unescape(key), _unescape(value)
        if key_text is None or value_text is None:
            continue
        pairs.append((key_text, value_text))
    return pairs


# --------------------------------------------------------------------------
# converters

_INT = re.compile(r"[+-]?[0-9]+\Z")


class _Invalid(Exception):
    pass


def _to_bool(v: str) -> bool:
    """gorilla/schema's bool: ``on`` or ``strconv.ParseBool``."""
    if v == "on":
        return True
    try:
        return parse_bool(v)
    except ValueError:
        raise _Invalid from None


def _to_docker_bool(v: str) -> bool:
    """docker's ``httputils.BoolValue`` as podman's compat decoder has it."""
    return v.strip().lower() not in ("", "0", "no", "false", "none")


def _to_int(v: str) -> int:
    if not _INT.match(v):
        raise _Invalid
    n = int(v)
    if not -(2**63) <= n < 2**63:
        raise _Invalid
    return n


def _to_str(v: str) -> str:
    return v


_CONVERTERS: dict[str, Callable[[str], Any]] = {"bool": _to_bool, "int": _to_int, "str": _to_str}
_DOCKER_CONVERTERS = dict(_CONVERTERS, bool=_to_docker_bool)


@dataclass(frozen=True)
class Param:
    """One query parameter: its name (podman's schema tag), type and
    default. ``enum`` (the values podman's handler accepts, checked by the
    handler) and ``required`` (podman's handler answers 400 without it) are
    what the OpenAPI document states; the decoder does not check them."""

    name: str
    kind: str  # bool | int | str | list
    default: Any = None
    enum: tuple | None = None
    required: bool = False


def Bool(name: str, default: bool = False) -> Param:
    return Param(name, "bool", default)


def Int(name: str, default: int = 0) -> Param:
    return Param(name, "int", default)


def Str(name: str, default: str = "", *, enum: tuple | None = None, required: bool = False) -> Param:
    return Param(name, "str", default, enum, required)


def List(name: str, *, required: bool = False) -> Param:
    return Param(name, "list", None, None, required)


def _schema_message(bad_keys: list[str]) -> str:
    first = 'schema: error converting value for "%s"' % bad_keys[0]
    others = len(bad_keys) - 1
    if others == 0:
        return first
    if others == 1:
        return first + " (and 1 other error)"
    return first + " (and %d other errors)" % others


class Values(dict):
    """Decoded parameters by name; ``present`` is the set of query keys as
    sent (exact case), for the handlers that check presence like podman."""

    present: frozenset = frozenset()


@dataclass(frozen=True)
class Filters:
    """The ``filters`` parameter of an endpoint: which of podman's two
    parsers reads it, the error's prefix and status, and whether podman
    parses it before (prune) or after (list) the other parameters."""

    parser: Callable
    status: int = 500
    prefix: str | None = None  # e.g. "failed to decode filter parameters for %s"
    first: bool = False


def _first_value(pairs: list) -> Callable[[str], str]:
    """``r.Form.Get`` over the URL query alone (no form body)."""
    first: dict[str, str] = {}
    for k, v in pairs:
        first.setdefault(k, v)
    return lambda key: first.get(key, "")


class QuerySpec(Protocol):
    """What a route's ``query`` offers: a ``Query``, or one chosen by the running
    podman release (``versioned.ByVersion``)."""

    @property
    def params(self) -> tuple: ...

    @property
    def filters(self) -> Filters | None: ...

    def decode(self, pairs: list, url: str, form_get: Callable[[str], str] | None = None) -> Values: ...



class Query:
    """The query struct of one podman handler: parameters with defaults.

    ``form=True``: the handler reads its keys with ``r.Form.Get`` and no
    decoder (tag, untag): each value is the first one of its exact key, a
    form body's before the URL query's, and decoding never fails."""

    def __init__(self, *params: Param, error_status: int = 400, filters: Filters | None = None, form: bool = False,
                 docker_bools: bool = False):
        self.params = params
        self.error_status = error_status
        self.filters = filters
        self.form = form
        self.docker_bools = docker_bools
        self._by_name = {p.name.lower(): p for p in params}

    def with_docker_bools(self) -> Query:
        """The same struct decoded by podman's compat decoder (see the module doc)."""
        return Query(*self.params, error_status=self.error_status, filters=self.filters, form=self.form,
                     docker_bools=True)

    def decode(self, pairs: list, url: str, form_get: Callable[[str], str] | None = None) -> Values:
        """Decode ``pairs`` (from ``parse_query``). ``url`` is podman's
        ``r.URL.String()`` for error messages; ``form_get`` is ``r.Form.Get``
        (filters are read through it)."""
        values = Values()
        values.present = frozenset(k for k, _ in pairs)
        if self.form:
            values.update(self._form(pairs, form_get))
            return values
        if self.filters is not None and self.filters.first:
            values["filters"] = self._filters(values.present, pairs, url, form_get)
        values.update(self._params(pairs, url))
        if self.filters is not None and not self.filters.first:
            values["filters"] = self._filters(values.present, pairs, url, form_get)
        return values

    def _form(self, pairs, form_get) -> dict:
        form_get = form_get or _first_value(pairs)
        return {p.name: form_get(p.name) or p.default for p in self.params}

    def _filters(self, present, pairs, url, form_get):
        form_get = form_get or _first_value(pairs)
        spec = cast(Filters, self.filters)  # called only for a struct with filters
        try:
            return spec.parser(present, form_get)
        except ValueError as e:
            cause = str(e)
            message = cause if spec.prefix is None else "%s: %s" % (spec.prefix % url, cause)
            raise APIError(spec.status, message, cause) from None

    def _params(self, pairs, url) -> dict:
        values = {p.name: (list(p.default) if p.kind == "list" and p.default else p.default) for p in self.params}
        grouped: dict[str, list[str]] = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        bad: list[str] = []
        converters = _DOCKER_CONVERTERS if self.docker_bools else _CONVERTERS
        for key, vals in grouped.items():
            param = self._by_name.get(key.lower())
            if param is None:
                continue  # IgnoreUnknownKeys(true)
            if param.kind == "list":
                values[param.name] = [v for v in vals if v != ""]
                continue
            last = vals[-1]
            if last == "":
                continue  # ZeroEmpty(false): the default stays
            try:
                values[param.name] = converters[param.kind](last)
            except _Invalid:
                bad.append(key)
        if bad:
            schema = _schema_message(bad)
            raise APIError(
                self.error_status,
                "failed to parse parameters for %s: %s" % (url, schema),
                schema,
            )
        return values
