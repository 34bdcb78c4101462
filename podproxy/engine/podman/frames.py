"""The frames on the socket pair of one podman command between a worker
(``launched``) and the launcher (``launcher``): a kind byte, a 4-byte
length, the payload.

``R`` request (JSON argv and env), ``P`` pid, ``E`` start error (the text of
``Unavailable``), ``K`` kill (grace in seconds, a double), ``X`` exit (exit
code, then the lengths and bytes of stdout and stderr)."""
from __future__ import annotations

import socket
import struct

_HEAD = struct.Struct("!cI")
_EXIT = struct.Struct("!iQQ")
_GRACE = struct.Struct("!d")
IO_NAMES = ("_in", "_out", "_err")
MAX_REQUEST = 8 << 20  # bytes of a request: argv (<= 1 MiB, ``argv.MAX_ARGUMENTS``) and the environment
MAX_REPLY = 1 << 30  # bytes of collected output sent back


def send_frame(sock: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    sock.sendall(_HEAD.pack(kind, len(payload)) + payload)


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def recv_frame(sock: socket.socket, limit: int) -> tuple[bytes, bytes] | None:
    """The next frame as (kind, payload); None at EOF or for a frame over
    ``limit`` bytes (the peer is then not trusted further)."""
    head = _exactly(sock, _HEAD.size)
    if head is None:
        return None
    kind, size = _HEAD.unpack(head)
    if size > limit:
        return None
    body = _exactly(sock, size) if size else b""
    return None if body is None else (kind, body)


def exit_frame(code: int, out: bytes, err: bytes) -> bytes:
    return _EXIT.pack(code, len(out), len(err)) + out + err


def read_exit(payload: bytes) -> tuple | None:
    """(exit code, stdout, stderr) of an ``X`` payload; None if malformed."""
    if len(payload) < _EXIT.size:
        return None
    code, n_out, n_err = _EXIT.unpack_from(payload)
    body = payload[_EXIT.size:]
    if len(body) != n_out + n_err:
        return None
    return code, body[:n_out], body[n_out:]


def grace_frame(grace: float) -> bytes:
    return _GRACE.pack(grace)


def read_grace(payload: bytes) -> float:
    return _GRACE.unpack(payload)[0] if len(payload) == _GRACE.size else 1.0
