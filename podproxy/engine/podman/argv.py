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
  UTF-8) and within the kernel's size bounds below, else ``BadInput``
  (``arguments``: the runner applies this to every command, before podman
  starts).
"""
from __future__ import annotations

import re

from ...gocompat.gojson import go_quote
from .errors import BadInput, Failure

# The sizes exec accepts: Linux refuses (E2BIG) one argument longer than
# MAX_ARG_STRLEN (32 pages, 131072 bytes with its NUL), and argv plus the
# environment over ARG_MAX (a quarter of the stack limit, usually 2 MiB).
# These are the bounds, in UTF-8 bytes, that a command's arguments are held to:
MAX_ARGUMENT = 128 * 1024 - 1  # one argument
MAX_ARGUMENTS = 1024 * 1024  # all the arguments of one command (half of ARG_MAX: room for the environment)

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
    """``value`` if it can be an argv element: else ``BadInput`` "invalid argument"."""
    if not representable(value):
        raise BadInput("invalid argument: %s contains a NUL byte or bytes that are not UTF-8" % go_quote(value),
                       cause="invalid argument")
    size = len(value.encode("utf-8"))
    if size > MAX_ARGUMENT:
        raise BadInput("invalid argument: a value of %d bytes is longer than the limit of %d bytes"
                       % (size, MAX_ARGUMENT), cause="invalid argument")
    return value


def arguments(values) -> None:
    """Every value an ``argument``, and all of them together within
    ``MAX_ARGUMENTS`` (else ``BadInput``): what podman is started with can always be
    exec'd."""
    total = 0
    for value in values:
        total += len(argument(value).encode("utf-8")) + 1
    if total > MAX_ARGUMENTS:
        raise BadInput("invalid argument: %d bytes of arguments are more than the limit of %d bytes"
                       % (total, MAX_ARGUMENTS), cause="invalid argument")
