"""Go's encoding/json, as far as podman's answers depend on it.

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

__all__ = ["dumps", "unmarshal", "MAP", "SLICE", "STRING", "BOOL", "GoType"]


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
# decoding: Go's scanner (for syntax errors) and type check (for type errors)

class _Syntax(Exception):
    pass


_NAMED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x5C: "\\\\"}


def _quote_char(c: str) -> str:
    """Go's quoteChar: the scanner works on bytes, so a non-ASCII character
    is named by its first UTF-8 byte read as a Latin-1 rune."""
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    b = c.encode("utf-8", "surrogatepass")[0]
    if b in _NAMED:
        q = _NAMED[b]
    elif b < 0x20 or b == 0x7F:
        q = "\\x%02x" % b
    elif 0x80 <= b <= 0xA0 or b == 0xAD:
        q = "\\u%04x" % b
    else:
        q = chr(b)
    return "'" + q + "'"


def _bad(c: str, context: str):
    raise _Syntax("invalid character %s %s" % (_quote_char(c), context))


MAX_DEPTH = 10000  # Go's encoding/json scanner: maxNestingDepth


class _Scanner:
    """A direct transcription of the decisions of Go's encoding/json scanner,
    only to produce its error messages; the value itself is parsed by the
    standard library once the text is known to be valid.

    Iterative (an explicit stack, not recursion), so any nesting costs no
    Python stack: like Go, more than ``MAX_DEPTH`` open arrays/objects is
    the error ``invalid character '[' exceeded max depth``. ``keep``: the
    containers nested deeper than that are recorded in ``pruned`` as
    (start, end) spans, for ``unmarshal`` to parse only what its type reads."""

    WS = " \t\r\n"

    def __init__(self, text: str, keep: int = MAX_DEPTH):
        self.s = text
        self.i = 0
        self.keep = keep
        self.pruned: list[tuple[int, int]] = []

    def peek(self):
        if self.i >= len(self.s):
            raise _Syntax("unexpected end of JSON input")
        return self.s[self.i]

    def skip_ws(self):
        while self.i < len(self.s) and self.s[self.i] in self.WS:
            self.i += 1

    def run(self):
        stack: list[str] = []  # "{" or "[" per open container
        starts: list[int] = []
        state, context = "value", "looking for beginning of value"
        while True:
            if state == "value":
                self.skip_ws()
                c = self.peek()
                if c in "{[":
                    if len(stack) >= MAX_DEPTH:
                        _bad(c, "exceeded max depth")
                    stack.append(c)
                    starts.append(self.i)
                    self.i += 1
                    self.skip_ws()
                    if self.peek() == ("}" if c == "{" else "]"):
                        self.i += 1
                        self._close(stack, starts)
                        state = "after"
                    else:
                        state, context = ("key", None) if c == "{" else ("value", "looking for beginning of value")
                    continue
                self.scalar(c, context)
                state = "after"
            elif state == "key":
                self.skip_ws()
                c = self.peek()
                if c != '"':
                    _bad(c, "looking for beginning of object key string")
                self.i += 1
                self.string()
                self.skip_ws()
                c = self.peek()
                if c != ":":
                    _bad(c, "after object key")
                self.i += 1
                state, context = "value", "looking for beginning of value"
            else:  # after a value
                if not stack:
                    self.skip_ws()
                    if self.i < len(self.s):
                        _bad(self.s[self.i], "after top-level value")
                    return
                self.skip_ws()
                c = self.peek()
                self.i += 1
                if stack[-1] == "{":
                    if c == "}":
                        self._close(stack, starts)
                    elif c == ",":
                        state = "key"
                    else:
                        _bad(c, "after object key:value pair")
                else:
                    if c == "]":
                        self._close(stack, starts)
                    elif c == ",":
                        state, context = "value", "looking for beginning of value"
                    else:
                        _bad(c, "after array element")

    def _close(self, stack: list, starts: list) -> None:
        """The container on top of ``stack`` ended just before ``self.i``."""
        start = starts.pop()
        if len(stack) == self.keep + 1:
            self.pruned.append((start, self.i))
        stack.pop()

    def scalar(self, c, context):
        if c == '"':
            self.i += 1
            self.string()
        elif c == "-" or "0" <= c <= "9":
            self.number()
        elif c == "t":
            self.literal("true")
        elif c == "f":
            self.literal("false")
        elif c == "n":
            self.literal("null")
        else:
            _bad(c, context)

    def string(self):
        while True:
            c = self.peek()
            self.i += 1
            if c == '"':
                return
            if c == "\\":
                e = self.peek()
                self.i += 1
                if e == "u":
                    for _ in range(4):
                        h = self.peek()
                        if h not in "0123456789abcdefABCDEF":
                            _bad(h, "in \\u hexadecimal character escape")
                        self.i += 1
                elif e not in 'bfnrt\\/"':
                    _bad(e, "in string escape code")
            elif c < " ":
                _bad(c, "in string literal")

    def digits(self):
        n = 0
        while self.i < len(self.s) and "0" <= self.s[self.i] <= "9":
            self.i += 1
            n += 1
        return n

    def number(self):
        if self.s[self.i] == "-":
            self.i += 1
            c = self.peek()
            if not ("0" <= c <= "9"):
                _bad(c, "in numeric literal")
        if self.s[self.i] == "0":
            self.i += 1
        else:
            self.digits()
        if self.i < len(self.s) and self.s[self.i] == ".":
            self.i += 1
            c = self.peek()
            if not ("0" <= c <= "9"):
                _bad(c, "after decimal point in numeric literal")
            self.digits()
        if self.i < len(self.s) and self.s[self.i] in "eE":
            self.i += 1
            c = self.peek()
            if c in "+-":
                self.i += 1
                c = self.peek()
            if not ("0" <= c <= "9"):
                _bad(c, "in exponent of numeric literal")
            self.digits()

    def literal(self, word):
        self.i += 1
        for expected in word[1:]:
            c = self.peek()
            if c != expected:
                _bad(c, "in literal %s (expecting %s)" % (word, _quote_char(expected)))
            self.i += 1


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
    scanner = _Scanner(raw, keep=_levels(t))
    try:
        scanner.run()
    except _Syntax as e:
        return None, str(e)
    value = json.loads(_pruned(raw, scanner.pruned))
    errors: list = []
    result = _convert(value, t, errors)
    if errors:
        return None, errors[0]
    return result, None


_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
                  "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable characters as they are,
    the usual escapes, an undecodable byte (kept by surrogateescape) and
    other control characters as ``\\xHH``, other unprintable characters as
    ``\\uHHHH``/``\\UHHHHHHHH``."""
    out = ['"']
    for c in text:
        code = ord(c)
        if c in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[c])
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as Go prints an invalid UTF-8 byte
            out.append("\\x%02x" % (code - 0xDC00))
        elif c.isprintable():
            out.append(c)
        elif code < 0x80:
            out.append("\\x%02x" % code)
        elif code <= 0xFFFF:
            out.append("\\u%04x" % code)
        else:
            out.append("\\U%08x" % code)
    out.append('"')
    return "".join(out)
