"""Build contexts: receiving and unpacking one within limits, and finding
what in its Containerfiles would make the build reach the network.

``unpack`` extracts a context tar (plain or compressed) with Python's
``data`` filter (no absolute paths, no ``..``, no devices, no links out of
the directory) and counts, before each member is written, the members and
the bytes their headers announce; over a limit it raises ``ContextTooLarge``
having written at most the limit (the caller removes the directory). A
sparse member counts its full size, so the count is never below what lands
on disk. Extended headers (pax, GNU long names), which tarfile reads into
memory whole, are refused over ``MAX_HEADER_SIZE``.

``network_uses`` reads Containerfiles the way a careful reader would, not
the way buildah parses them, and errs on the side of finding too much: any
physical line whose instruction (after an optional ``ONBUILD``) is ``ADD``
is read with its continuation lines (``\\`` or `````, whichever escape
character is in force), and a source is remote when it holds ``://``,
``git@`` or a ``$`` (a build ARG could expand to a URL). ``RUN`` lines
asking for a network (``--network``) are reported too, and so is a
``.in`` Containerfile that uses the C preprocessor (``#include``,
``#define``...), since its text after ``cpp`` is not what is read here.
"""
from __future__ import annotations

import json
import os
import re
import tarfile

from . import uploads


class ContextTooLarge(Exception):
    """The context is over ``limit`` (``what``: "bytes" or "members")."""

    def __init__(self, what: str, limit: int):
        super().__init__("build context too large: more than %d %s" % (limit, what))
        self.what = what
        self.limit = limit


class BadContext(Exception):
    """Not a tar, cut short, or a member the data filter refuses."""


# a pax or GNU long-name header is read whole into memory by tarfile: real ones are a few KiB
MAX_HEADER_SIZE = 1 << 20


class _BoundedTarInfo(tarfile.TarInfo):
    """A TarInfo that refuses extended headers over ``MAX_HEADER_SIZE``
    before tarfile reads them into memory (a gzipped 1 GiB pax header is a
    1 MB upload)."""

    def _proc_pax(self, tarfile):
        if self.size > MAX_HEADER_SIZE:
            raise ContextTooLarge("bytes in one extended header", MAX_HEADER_SIZE)
        return super()._proc_pax(tarfile)  # type: ignore[misc]  # tarfile's own hook

    def _proc_gnulong(self, tarfile):
        if self.size > MAX_HEADER_SIZE:
            raise ContextTooLarge("bytes in one extended header", MAX_HEADER_SIZE)
        return super()._proc_gnulong(tarfile)  # type: ignore[misc]


def _counted(tar: tarfile.TarFile, max_bytes: int, max_members: int):
    size = 0
    for members, member in enumerate(tar, 1):
        if max_members and members > max_members:
            raise ContextTooLarge("members", max_members)
        if member.isreg():
            size += member.size
            if max_bytes and size > max_bytes:
                raise ContextTooLarge("bytes", max_bytes)
        yield member


# what the data filter refuses, said without the server paths its own messages carry
_REFUSED = {
    tarfile.OutsideDestinationError: "would be extracted outside the build context",
    tarfile.LinkOutsideDestinationError: "links outside the build context",
    tarfile.AbsoluteLinkError: "is an absolute link",
    tarfile.AbsolutePathError: "is an absolute path",
    tarfile.SpecialFileError: "is a special file (device, fifo)",
}


def unpack(tarball: str, dest: str, max_bytes: int = 0, max_members: int = 0) -> None:
    """Extract ``tarball`` into the existing directory ``dest`` (0 = no limit)."""
    try:
        with tarfile.open(tarball, "r:*", tarinfo=_BoundedTarInfo) as tar:
            tar.extractall(dest, members=_counted(tar, max_bytes, max_members), filter="data")
    except (tarfile.ReadError, EOFError) as e:  # not a tar, or cut short
        raise BadContext("unexpected EOF") from e
    except tarfile.FilterError as e:
        reason = _REFUSED.get(type(e), "is refused (%s)" % type(e).__name__)
        raise BadContext("member %s %s" % (json.dumps(e.tarinfo.name), reason)) from e
    except (tarfile.TarError, OSError) as e:  # e.g. a member the data filter refuses
        raise BadContext(str(e)) from e


_ADD = re.compile(r"^\s*(?:onbuild\s+)?add(?:\s|$)", re.IGNORECASE)
_RUN = re.compile(r"^\s*(?:onbuild\s+)?run(?:\s|$)", re.IGNORECASE)
_CPP = re.compile(r"^\s*#\s*(include|define|undef|if|ifdef|ifndef|elif|else|endif|line|pragma|error)\b")
_REMOTE = ("://", "git@", "$")


def receive(body, workdir: str, max_bytes: int = 0, max_members: int = 0) -> str:
    """A build request's body (``uploads.save`` input) -> ``workdir/tarBall``
    -> unpacked in ``workdir/build`` (``unpack``, same errors), which is
    returned; the tarball is removed once unpacked. The caller removes
    ``workdir`` on every path."""
    tarball = os.path.join(workdir, "tarBall")
    uploads.save(body, tarball)
    context = os.path.join(workdir, "build")
    os.mkdir(context, 0o700)
    try:
        unpack(tarball, context, max_bytes, max_members)
    finally:
        os.unlink(tarball)
    return context


def _continues(line: str) -> bool:
    stripped = line.rstrip()
    return stripped.endswith("\\") or stripped.endswith("`")


def _instruction(lines: list[str], start: int) -> str:
    """The instruction starting at ``lines[start]`` with its continuation lines."""
    parts, n = [], start
    while n < len(lines):
        line = lines[n]
        if n > start and re.match(r"^\s*#", line):  # comments inside a continued instruction
            n += 1
            continue
        parts.append(line.rstrip().rstrip("\\`"))
        if not _continues(line):
            break
        n += 1
    return " ".join(parts)


def _add_sources(instruction: str) -> list[str]:
    """The sources of ``ADD [flags] SRC... DEST`` (shell or JSON form)."""
    rest = _ADD.sub("", instruction, count=1).strip()
    words = rest.split()
    while words and words[0].startswith("--"):
        words.pop(0)
    rest = " ".join(words)
    if rest.startswith("["):
        try:
            words = [str(w) for w in json.loads(rest)]
        except ValueError:
            pass
    return words[:-1] if len(words) > 1 else words


def network_uses(name: str, text: str) -> list[str]:
    """What in Containerfile ``name`` would reach the network, described
    for the client (empty: nothing)."""
    found = []
    lines = text.splitlines()
    if name.endswith(".in"):
        found += ["C preprocessor directive %r" % line.strip() for line in lines if _CPP.match(line)][:1]
    for n, line in enumerate(lines):
        if _ADD.match(line):
            for source in _add_sources(_instruction(lines, n)):
                if any(mark in source for mark in _REMOTE):
                    found.append("ADD source %s" % json.dumps(source))
        elif _RUN.match(line) and "--network" in _instruction(lines, n):
            found.append("RUN with --network")
    return found
