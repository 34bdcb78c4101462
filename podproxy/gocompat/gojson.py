"""Go's encoding/json, as far as podman's answers depend on it (its scanner's
syntax errors: ``jsonscan``).

Two jobs:

* ``dumps`` writes JSON the way Go's ``json.Marshal`` does for podman's
  responses: compact, HTML-escaped (``<``, ``>``, ``&``, U+2028, U+2029),
  control characters as ``\\u00XX`` except ``\\n``, ``\\r`` and ``\\t``.
* ``unmarshal`` parses a request value (``filters=...``) into a Go type and
  returns Go's error text when that fails, because podman puts that text,
  unchanged, in its error bodies ("invalid character 'o' in literal null
  (expecting 'u')", "unexpected end of JSON input", "json: cannot unmarshal
  string into Go value of type []string").
"""
from __future__ import annotations

import json
import math

from .jsonscan import JSONSyntaxError, Scanner
from .strconv import go_quote

__all__ = ["dumps", "unmarshal", "MAP", "SLICE", "STRING", "BOOL", "GoType", "go_quote"]


# --------------------------------------------------------------------------
# encoding

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " ":
            out.append("\\u%04x" % ord(ch))
        elif "\ud800" <= ch <= "\udfff":  # lone surrogate: Go writes U+FFFD
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _encode(obj, out: list) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_quote(obj))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            raise ValueError("json: unsupported value: %r" % obj)
        if obj == int(obj) and abs(obj) < 1e21:
            out.append(str(int(obj)))
        else:
            out.append(repr(obj))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(_quote(str(key)))
            out.append(":")
            _encode(value, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _encode(value, out)
        out.append("]")
    else:
        raise TypeError("cannot encode %r" % type(obj))


def dumps(obj) -> str:
    """Compact, HTML-escaped JSON as Go's json.Marshal writes it (keys keep
    the order of the dict, which callers build in podman's struct order)."""
    out: list = []
    _encode(obj, out)
    return "".join(out)


# --------------------------------------------------------------------------
# decoding: Go's scanner (jsonscan, for syntax errors) and a type check (for type errors)

class GoType:
    """A Go type for ``unmarshal``: ``kind`` is map, slice, string or bool."""

    def __init__(self, kind: str, elem: GoType | None = None):
        self.kind = kind
        self.elem = elem

    def element(self) -> GoType:
        """The element type of a map or slice."""
        if self.elem is None:
            raise TypeError("%s has no element type" % self.kind)
        return self.elem

    def __str__(self):
        if self.kind == "map":
            return "map[string]%s" % self.elem
        if self.kind == "slice":
            return "[]%s" % self.elem
        return self.kind


STRING = GoType("string")
BOOL = GoType("bool")


def MAP(elem: GoType) -> GoType:
    return GoType("map", elem)


def SLICE(elem: GoType) -> GoType:
    return GoType("slice", elem)


def _json_kind(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    return "object"


def _convert(v, t: GoType, errors: list):
    """Go's decoder keeps going after a type error and reports the first."""
    if v is None:
        return None  # null leaves the Go value alone (nil/zero)
    kind = _json_kind(v)
    want = {"map": "object", "slice": "array", "string": "string", "bool": "bool"}[t.kind]
    if kind != want:
        errors.append("json: cannot unmarshal %s into Go value of type %s" % (kind, t))
        return None
    if t.kind == "map":
        return {k: _convert(x, t.element(), errors) for k, x in v.items()}
    if t.kind == "slice":
        return [_convert(x, t.element(), errors) for x in v]
    return v


def _levels(t: GoType) -> int:
    """How many arrays/objects deep ``t`` reads: a container nested deeper
    can only be a type error, which names its kind and not its content."""
    n = 0
    while t.kind in ("map", "slice"):
        n, t = n + 1, t.element()
    return n


def _pruned(raw: str, spans: list) -> str:
    """``raw`` with each (start, end) container span emptied (``[]``/``{}``),
    so that the standard parser never recurses deeper than the Go type."""
    if not spans:
        return raw
    out, at = [], 0
    for start, end in spans:
        out += [raw[at:start], "{}" if raw[start] == "{" else "[]"]
        at = end
    out.append(raw[at:])
    return "".join(out)


def unmarshal(raw: str, t: GoType):
    """Parse ``raw`` into Go type ``t``. Returns (value, error_text|None)."""
    scanner = Scanner(raw, keep=_levels(t))
    try:
        scanner.run()
    except JSONSyntaxError as e:
        return None, str(e)
    value = json.loads(_pruned(raw, scanner.pruned))
    errors: list = []
    result = _convert(value, t, errors)
    if errors:
        return None, errors[0]
    return result, None
