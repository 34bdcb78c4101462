"""podman's processes as the kernel sees them: the parent-death signal set
before exec, a process group killed (TERM, then KILL after a grace), a
failed start's fds and child released, pipe capacity, /proc/<pid>/stat."""
from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import shutil
import signal
import time

import sh

log = logging.getLogger("podproxy.podman")

PIPE_SIZE = 1024 * 1024  # podman's stdout pipe: 1 MiB instead of 64 KiB, fewer wake-ups per transfer
DEVNULL = open(os.devnull, "rb")  # stdin of commands without input
_PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None


def die_with_parent() -> None:
    """In the forked child, before exec: podman gets SIGTERM when the thread
    that started it dies, so a worker that is killed (graceful timeout, a
    second SIGTERM) leaves no podman behind (podman cleans up on SIGTERM)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_SETPRIV: list | None = None


def pdeathsig_prefix() -> list:
    """``setpriv --pdeathsig TERM --``: exec'd before podman, it sets the
    same parent-death signal as ``die_with_parent`` without running Python
    in the child. [] when util-linux's setpriv is not there."""
    global _SETPRIV
    if _SETPRIV is None:
        path = shutil.which("setpriv")
        _SETPRIV = [path, "--pdeathsig", "TERM", "--"] if path else []
    return _SETPRIV


def start_error(exc: BaseException) -> str:
    """What made a start fail: for sh's ``ForkException`` (the exec failed
    in the child) the last line of the child's traceback, e.g. ``[Errno 7]
    Argument list too long``."""
    if isinstance(exc, sh.ForkException):
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        last = lines[-1] if lines else "exec failed"
        return last.split(": ", 1)[1] if last.startswith(("OSError: ", "FileNotFoundError: ",
                                                          "PermissionError: ")) else last
    return str(exc)


# sh 2.x's OProc.__init__: the fds it opens, as attributes of the OProc
# (the parent's ends; the child's ends) and as locals (sync pipes)
_PARENT_FDS = ("_stdin_parent_fd", "_stdout_parent_fd", "_stderr_parent_fd", "_pipe_fd")
_CHILD_FDS = ("_stdin_child_fd", "_stdout_child_fd", "_stderr_child_fd")
_SESSION_PIPE = ("session_pipe_read", "session_pipe_write")
_EXC_PIPE = ("exc_pipe_read", "exc_pipe_write")


def release_failed_start(exc: BaseException, reap_timeout: float = 5.0) -> None:
    """Clean up after sh failed to start a process: sh does not. Its
    ``OProc.__init__`` raised, leaving the fds it had opened (up to four per
    start: two pipe ends, two sync pipes) and, when the fork had happened,
    the child it forked, which exited and is never reaped (a zombie).

    They are found in the failed frame (sh 2.x's names) and released:

    * ``ForkException``: the child's exec failed (``E2BIG``, a binary that
      cannot run); sh has closed the child's ends and the exception pipe.
      Our ends and the session pipe are closed and the child is reaped.
    * an ``OSError`` before the fork (no pid: ``pipe``/``fork`` failed):
      nothing was closed yet, so every fd made so far is closed.

    Any other state is left alone (closing an fd twice could close another
    thread's)."""
    frame = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "__init__" and code.co_filename == sh.__file__ and "exc_pipe_read" in code.co_varnames:
            frame = tb.tb_frame  # OProc.__init__
        tb = tb.tb_next
    if frame is None:
        return
    local = frame.f_locals
    proc = local.get("self")
    pid = vars(proc).get("pid") if proc is not None else None
    if isinstance(exc, sh.ForkException) and pid:
        fds = [getattr(proc, name, None) for name in _PARENT_FDS] + [local.get(n) for n in _SESSION_PIPE]
    elif pid is None:
        fds = [getattr(proc, name, None) for name in _PARENT_FDS + _CHILD_FDS] + \
              [local.get(n) for n in _SESSION_PIPE + _EXC_PIPE]
    else:
        log.error("podman start failed in an unknown state; its fds and pid %s are left as they are", pid)
        return
    for fd in fds:
        if isinstance(fd, int):
            try:
                os.close(fd)
            except OSError:
                pass
    if pid:
        _reap(pid, reap_timeout)


def _reap(pid: int, timeout: float) -> None:
    """Wait for the child ``pid`` to exit (SIGKILL after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = float("inf")
        time.sleep(0.005)


def grow_pipe(fd: int) -> None:
    """Raise a pipe's capacity to ``PIPE_SIZE`` (Linux; best effort: a
    process over /proc/sys/fs/pipe-max-size keeps the default)."""
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except OSError:
        pass


def stat_fields(pid) -> list:
    """The fields of ``/proc/<pid>/stat`` after the command name (the state
    first); OSError if the process is gone."""
    with open("/proc/%s/stat" % pid, "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()


def _group_running(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs. A zombie does not
    count: podman's own zombie stays until sh reaps it after we return, and
    ``killpg(pgid, 0)`` would see it (and make every kill wait its grace)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = stat_fields(entry.name)
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def kill_group(pid: int, grace: float = 1.0) -> None:
    """SIGTERM podman's process group, then SIGKILL what is left after
    ``grace`` seconds (podman cleans up its temp files on SIGTERM)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _group_running(pid):
            return
        time.sleep(0.02)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
