"""podman's failures as typed errors: its exit code and its ``Error: ...``
text (``error_for``), a podman that could not run or ran out of time
(``Unavailable``), a client that hung up while podman worked (``ClientGone``).

The classes are ``APIError``s with podman's default mapping (1 -> 404,
2 -> 409, otherwise 500); handlers add the HTTP context podman's handlers add.
"""
from __future__ import annotations

import signal

from ...web.errors import APIError, cause_of


class PodmanError(APIError):
    """podman exited with a failure. ``exit_code`` is podman's."""

    default_status = 500

    def __init__(self, message: str, exit_code: int, cause: str | None = None):
        super().__init__(self.default_status, message, cause_of(message) if cause is None else cause)
        self.exit_code = exit_code


class NotFound(PodmanError):
    """No such image (exit 1, or ``image not known``)."""

    default_status = 404


class InUse(PodmanError):
    """The image is used by a container (exit 2)."""

    default_status = 409


class Failure(PodmanError):
    """Anything else (exit 125 and friends)."""


class Unavailable(APIError):
    """podman could not be run at all, or ran out of time: always 500, and
    not a ``PodmanError``, so no handler mistakes it for podman's answer."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(500, message)
        self.exit_code = exit_code


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


class ClientGone(APIError):
    """The client closed its connection while podman was still working."""

    def __init__(self):
        super().__init__(500, "client disconnected")
