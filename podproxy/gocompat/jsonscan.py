"""Go's encoding/json scanner, for its syntax error texts: podman puts them,
unchanged, in its error bodies ("invalid character 'o' in literal null
(expecting 'u')", "unexpected end of JSON input"). ``syntax_error`` is the
one entry; ``Scanner`` also records the containers nested deeper than a Go
type reads (``gojson.unmarshal``)."""
from __future__ import annotations


class JSONSyntaxError(Exception):
    """Go's syntax error text, as ``str(error)``."""


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
    raise JSONSyntaxError("invalid character %s %s" % (_quote_char(c), context))


MAX_DEPTH = 10000  # Go's encoding/json scanner: maxNestingDepth


class Scanner:
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
            raise JSONSyntaxError("unexpected end of JSON input")
        return self.s[self.i]

    def skip_ws(self):
        while self.i < len(self.s) and self.s[self.i] in self.WS:
            self.i += 1

    def run(self):
        stack: list[str] = []  # "{" or "[" per open container
        starts: list[int] = []
        context: str | None
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


def syntax_error(text: str) -> str | None:
    """Go's decoder error for ``text`` as one JSON value, or None when it is valid JSON."""
    try:
        Scanner(text).run()
    except JSONSyntaxError as e:
        return str(e)
    return None
