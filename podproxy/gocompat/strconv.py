"""Go's strconv, as far as podman's messages depend on it: ``go_quote`` is
``strconv.Quote`` (``%q``), ``parse_bool`` is ``strconv.ParseBool``."""
from __future__ import annotations

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


_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool``; ValueError with Go's error text for anything else."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError('strconv.ParseBool: parsing %s: invalid syntax' % go_quote(text))
