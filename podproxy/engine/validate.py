"""Checks on the user values that reach podman's command line.

Two kinds, both answered as podman itself answers:

* ``reference``: an image name or reference. podman's reference grammar
  (docker/distribution's ``ReferenceRegexp``, plus IDs and ``sha256:``
  forms) is made of ``[A-Za-z0-9._:/@_-]`` only; every podman image command
  answers any other character with ``invalid reference format`` (exit 125,
  verified for exists, inspect, tree, rm, untag). So such a name is
  refused here with that same error, without running podman: the answer is
  podman's, and NUL bytes, newlines or undecodable bytes never reach argv.
  A name that starts with ``-`` is within the grammar's characters and is
  refused by podman itself, because the engine puts it after ``--``.
  (``reference.py`` parses the whole grammar, for names podman will *tag*;
  this check is for *lookups*, which also take IDs, ID prefixes and short
  names, so only the character set is certain.)
* ``argument``: any other value (a filter, a ``changes`` line, a format)
  goes into argv joined to its option (``--filter=VALUE``), so it cannot
  be an option; it must still be representable in argv (no NUL, valid
  UTF-8), else 400 (the runner applies this to every argument).
"""
from __future__ import annotations

import re

from ..errors import APIError
from .runner import Failure

_REFERENCE_CHARS = re.compile(r"[A-Za-z0-9._:/@_-]*\Z")
INVALID_REFERENCE = "invalid reference format"


def is_reference(name: str) -> bool:
    return _REFERENCE_CHARS.match(name) is not None


def reference(name: str) -> str:
    """``name`` if it can be an image reference; else podman's error."""
    if not is_reference(name):
        raise Failure(INVALID_REFERENCE, 125)
    return name


def representable(value: str) -> bool:
    """Whether ``value`` can be an argv element unchanged."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8
        return False
    return True


def argument(value: str) -> str:
    if not representable(value):
        raise APIError(400, "invalid argument: %s contains a NUL byte or bytes that are not UTF-8" % go_quote(value),
                       "invalid argument")
    return value


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote`` (``%q``), for podman's messages that quote a value."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
            out.append("\\x%02x" % (code - 0xDC00))
        elif code < 0x20 or code == 0x7F:
            out.append("\\x%02x" % code)
        elif not ch.isprintable() and code > 0x7F:
            out.append("\\u%04x" % code if code <= 0xFFFF else "\\U%08x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
