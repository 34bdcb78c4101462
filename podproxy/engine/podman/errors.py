"""podman's failures as typed errors: its exit code and its ``Error: ...``
text (``error_for``), a podman that could not run or ran out of time
(``Unavailable``), a client that hung up while podman worked (``ClientGone``),
a value that cannot be an argument (``BadInput``).

An ``EngineError`` carries what went wrong, never an HTTP status: a
``kind`` (``NOT_FOUND``, ``CONFLICT``, ``BAD_INPUT``, ...), the message,
the cause (the innermost error, as Go's ``errors.Unwrap`` chain ends) and
podman's exit code. The handlers choose the answer (``handlers/errors.py``,
as podman's ``pkg/api/handlers/utils/errors.go``).
"""
from __future__ import annotations

import signal

from ...gocompat.causes import cause_of

NOT_FOUND = "not found"  # no such image or container
CONFLICT = "conflict"  # the image is in use
BAD_INPUT = "bad input"  # the request's values cannot be used
UNSUPPORTED = "unsupported"  # what podman's service refuses to do (local scp)
FAILED = "failed"  # podman failed otherwise
UNAVAILABLE = "unavailable"  # podman could not be run, or ran out of time
CLIENT_GONE = "client gone"  # the client hung up


class EngineError(Exception):
    """A failed engine operation: ``kind``, ``message``, ``cause``, ``exit_code``."""

    kind = FAILED

    def __init__(self, message: str, exit_code: int | None = None, cause: str | None = None,
                 kind: str | None = None):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.cause = cause_of(message) if cause is None else cause
        if kind is not None:
            self.kind = kind

    def wrap(self, prefix: str):
        """``fmt.Errorf(prefix + ": %w", err)``: the same error, the message
        prefixed, the cause kept."""
        message = "%s: %s" % (prefix, self.message)
        wrapped = type(self).__new__(type(self))
        Exception.__init__(wrapped, message)
        wrapped.__dict__.update(self.__dict__, message=message)
        return wrapped

    def __repr__(self):
        return "%s(%r, kind=%r, cause=%r, exit_code=%r)" % (type(self).__name__, self.message, self.kind,
                                                            self.cause, self.exit_code)


class PodmanError(EngineError):
    """podman exited with a failure. ``exit_code`` is podman's."""

    def __init__(self, message: str, exit_code: int | None, cause: str | None = None):
        super().__init__(message, exit_code, cause)


class NotFound(PodmanError):
    """No such image (exit 1, or ``image not known``)."""

    kind = NOT_FOUND


class InUse(PodmanError):
    """The image is used by a container (exit 2)."""

    kind = CONFLICT


class Failure(PodmanError):
    """Anything else (exit 125 and friends)."""


class Unavailable(EngineError):
    """podman could not be run at all, or ran out of time: not a
    ``PodmanError``, so no handler mistakes it for podman's answer."""

    kind = UNAVAILABLE

    def __init__(self, message: str, exit_code: int):
        super().__init__(message, exit_code, message)


class BadInput(EngineError):
    """A value that cannot be given to podman (``argv.argument``)."""

    kind = BAD_INPUT


_NOT_FOUND_CAUSES = ("image not known", "no such container", "no such image", "layer not known")


def error_message(stderr: str) -> str:
    """The text of podman's ``Error: ...``, without the prefix. Warnings and
    log lines before it are dropped; a multi-line error is kept whole."""
    text = stderr.replace("\r\n", "\n")
    at = text.rfind("\nError: ")
    if at >= 0:
        text = text[at + 1 :]
    elif not text.startswith("Error: "):
        lines = [ln for ln in text.splitlines() if ln.strip() and "level=" not in ln]
        return lines[-1].strip() if lines else text.strip()
    return text[len("Error: ") :].rstrip("\n")


def killed_message(exit_code: int) -> str:
    """What a negative exit code means (sh's -N: podman was killed by
    signal N): ``podman was killed by SIGKILL (signal 9)``."""
    try:
        name = signal.Signals(-exit_code).name
    except ValueError:
        name = "an unknown signal"
    return "podman was killed by %s (signal %d)" % (name, -exit_code)


def error_for(exit_code: int, stderr: str) -> PodmanError:
    """The typed error for a failed podman command. Killed by a signal, its
    last output line is only progress (``Copying blob ...``): the message
    says it was killed, and by which signal."""
    if exit_code < 0:
        return Failure(killed_message(exit_code), exit_code)
    message = error_message(stderr) or "podman exited with status %d" % exit_code
    if exit_code == 1:
        return NotFound(message, exit_code)
    if exit_code == 2:
        return InUse(message, exit_code)
    if cause_of(message) in _NOT_FOUND_CAUSES:
        return NotFound(message, exit_code)
    return Failure(message, exit_code)


class ClientGone(EngineError):
    """The client closed its connection while podman was still working."""

    kind = CLIENT_GONE

    def __init__(self):
        super().__init__("client disconnected", None, "client disconnected")
