"""A directory as a tar stream of known length (``DirTar``): what podman's
service answers for an export in a directory format (oci-dir, docker-dir).
"""
from __future__ import annotations

import os
import shutil
import stat
import tarfile
from collections.abc import Generator, Iterator

from .podman.streams import CHUNK


def _entries(root: str, rel: str = "") -> Iterator[str]:
    """Paths below ``root`` in Go's ``filepath.Walk`` order (lexical,
    each directory followed by its contents)."""
    for name in sorted(os.listdir(os.path.join(root, rel))):
        path = os.path.join(rel, name)
        yield path
        full = os.path.join(root, path)
        if os.path.isdir(full) and not os.path.islink(full):
            yield from _entries(root, path)


def _padding(size: int) -> int:
    return -size % tarfile.BLOCKSIZE


class DirTar:
    """The contents of ``root`` as an uncompressed tar, produced as it is
    read (one chunk of one file in memory at a time), with the entries
    podman's service writes (``blobs/``, ``blobs/sha256/...``,
    ``index.json``). ``length`` is known before the first byte (the
    answer's Content-Length: no chunk framing, and a client can tell how
    far it is). ``root`` is removed when the stream ends or is closed."""

    def __init__(self, root: str, remove: str | None = None, chunk_size: int = CHUNK):
        self.root, self.remove, self.chunk_size = root, remove, chunk_size
        self.members = [m for m in map(self._member, _entries(root)) if m is not None]
        self.length = sum(len(header) + size + _padding(size) for header, _, size in self.members) + \
            2 * tarfile.BLOCKSIZE
        self._chunks = self._generate()

    def _member(self, rel: str):
        """(header, path of the contents or None, size) of one entry."""
        full = os.path.join(self.root, rel)
        st = os.lstat(full)
        info = tarfile.TarInfo(rel)
        info.mode = stat.S_IMODE(st.st_mode)
        info.mtime = int(st.st_mtime)
        if stat.S_ISDIR(st.st_mode):
            info.type, info.name = tarfile.DIRTYPE, rel + "/"
        elif stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink(full)
        elif stat.S_ISREG(st.st_mode):
            info.size = st.st_size
        else:
            return None
        return info.tobuf(format=tarfile.PAX_FORMAT), full if info.type == tarfile.REGTYPE else None, info.size

    def _generate(self) -> Generator[bytes, None, None]:
        for header, path, size in self.members:
            yield header
            if path is None:
                continue
            sent = 0
            with open(path, "rb") as f:
                while sent < size:
                    data = f.read(min(self.chunk_size, size - sent))
                    if not data:
                        raise OSError("%s shrank while it was being sent" % path)
                    sent += len(data)
                    yield data
            if _padding(size):
                yield tarfile.NUL * _padding(size)
        yield tarfile.NUL * (tarfile.BLOCKSIZE * 2)

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        self._chunks.close()
        if self.remove:
            shutil.rmtree(self.remove, ignore_errors=True)
