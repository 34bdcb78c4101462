"""The launcher: a small process that starts podman through ``sh`` for the
server's workers (this module runs in it, and alone imports sh;
``launched`` is the workers' side and starts it).

Why: sh forks the calling process and runs Python in the child until exec.
Forked from a gunicorn worker (the app loaded, a dozen threads) that costs
several milliseconds per podman process; forked from this process, which
holds little more than the interpreter and sh, it costs much less
(docs/performance.md, "Writes and uncached reads").

gunicorn's master forks it (``launched.fork_shared``) once the app is
loaded and frozen, before the first worker, so that it shares the master's
pages as the workers do (``launched.start()`` starts one in a fresh
interpreter instead, for tests and tools); the master keeps the channel to
it, one end of a ``SOCK_SEQPACKET`` socket pair, and the workers inherit it. Each command is one message on the channel
carrying a socket pair of its own and podman's stdin/stdout/stderr
(``SCM_RIGHTS``); the launcher serves it in a thread (see ``launched`` and
``frames`` for the protocol), so commands run side by side.

Guarantees, as for a podman started in the worker:

* podman gets sh's options (``process.SH_OPTIONS``: its own process group),
  and SIGTERM if the launcher thread that started it dies (parent-death
  signal, set in the child before exec);
* the worker that asked for it dies or lets go of it (its end of the pair
  closes): the launcher kills podman's process group (SIGTERM, SIGKILL
  after ``GRACE``) and reaps it;
* kills (timeouts, abandoned streams) are done here, where podman is
  reaped, and only while it is not reaped or its group still has a
  process (``_kill``), so a freed and reused pgid is not signalled;
* the launcher ignores the signals a terminal or a service manager sends to
  the whole group, and gunicorn's (the master decides when the server
  stops), and exits once every holder of the channel (master and workers)
  has closed it (the master in ``on_exit``) and its commands are over.
"""
from __future__ import annotations

import array
import ctypes
import json
import logging
import os
import signal
import socket
import threading
import time

import sh

from .errors import Unavailable
from .frames import IO_NAMES, MAX_REQUEST, exit_frame, read_grace, recv_frame, send_frame
from .process import die_with_parent, group_running, sh_start

log = logging.getLogger("podproxy.podman")

GRACE = 1.0  # seconds between SIGTERM and SIGKILL for podman whose worker let go
REQUEST_TIMEOUT = 10.0  # seconds for a worker to send its request once its message came
NAME = b"podproxy-launch"  # /proc/PID/comm
# gunicorn's signals (to the master; a terminal or a service manager sends
# INT/TERM/HUP to the whole group): the launcher ignores them, podman gets
# their defaults back (SIGHUP stays ignored, as sh leaves it for podman)
_IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
            signal.SIGTTIN, signal.SIGTTOU, signal.SIGWINCH)
_RESTORED = tuple(sig for sig in _IGNORED if sig != signal.SIGHUP)
_MAX_FDS = 4  # the command's socket, stdin, stdout, stderr

# -- in the launcher process -------------------------------------------------------

def _child_setup() -> None:
    """In sh's child, before exec: podman's signals back to their defaults,
    and SIGTERM to it when the launcher thread that started it dies."""
    for sig in _RESTORED:
        signal.signal(sig, signal.SIG_DFL)
    die_with_parent()


def _set_name() -> None:
    try:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(NAME), 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def serve(channel: socket.socket) -> int:
    """The launcher's loop: one thread per command, until every holder of
    the channel has closed it; then the commands that still run are waited for."""
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # gunicorn's handler, if forked from its master
    _set_name()
    space = socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize)
    while True:
        try:
            msg, ancillary, flags, _ = channel.recvmsg(256, space, socket.MSG_CMSG_CLOEXEC)
        except InterruptedError:  # pragma: no cover - retried by Python already
            continue
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        if not msg and not fds:
            break  # every holder closed the channel
        names = msg[1:].decode("ascii", "replace").split(",") if msg[1:] else []
        if not fds or not msg.startswith(b"+") or flags & socket.MSG_CTRUNC or len(names) != len(fds) - 1 \
                or any(name not in IO_NAMES for name in names):
            for fd in fds:
                os.close(fd)
            continue
        conn = socket.socket(fileno=fds[0])
        streams = dict(zip(names, fds[1:], strict=False))
        threading.Thread(target=_command, args=(conn, streams), name="podman command").start()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    return 0


def _command(conn: socket.socket, io: dict) -> None:
    """Serve one command: read it, start it, report its pid, then wait for
    it (while ``_listen`` acts on kills and on the worker going away);
    report its exit."""
    try:
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            frame = recv_frame(conn, MAX_REQUEST)
            if frame is None or frame[0] != b"R":
                return
            request = json.loads(frame[1])
            argv, env = request["argv"], request["env"]
            try:
                proc = sh_start(sh.Command(argv[0]), argv[1:], env, io, preexec=_child_setup)
            except Unavailable as e:
                send_frame(conn, b"E", e.message.encode("utf-8", "replace"))
                return
        finally:
            for fd in io.values():
                os.close(fd)
        conn.settimeout(None)
        listener = threading.Thread(target=_listen, args=(conn, proc), name="podman command kills", daemon=True)
        try:
            send_frame(conn, b"P", str(proc.pid).encode())
        except OSError:
            pass  # the worker is gone: _listen sees it and kills podman
        listener.start()
        proc.wait()  # sh's blocking waitpid: the exit is seen at once
        try:
            send_frame(conn, b"X", exit_frame(proc.exit_code, proc.stdout or b"", proc.stderr or b""))
        except OSError:
            pass
        conn.shutdown(socket.SHUT_RDWR)  # ends _listen
        listener.join()
    except Exception:  # pragma: no cover - a bug here must not take the launcher down
        log.exception("podman launcher: a command failed")
    finally:
        conn.close()


def _listen(conn: socket.socket, proc) -> None:
    """The worker's side of a running command: ``K`` kills the group; the
    worker closing its end (it let go of podman, or died) kills it too."""
    while proc.process.exit_code is None:
        try:
            frame = recv_frame(conn, MAX_REQUEST)
        except OSError:
            frame = None
        if frame is None:
            _kill(proc, GRACE)
            return
        if frame[0] == b"K":
            _kill(proc, read_grace(frame[1]))


def _kill(proc, grace: float) -> None:
    """``process.kill_group`` for a podman that sh may reap at any time (its
    threads do): the group is signalled only while podman is not reaped or
    another process of its group runs, so never a pgid that was freed and
    may be reused."""
    def signal_group(sig) -> None:
        if proc.process.exit_code is None or group_running(proc.pid):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_running(proc.pid):
            return
        time.sleep(0.02)
    signal_group(signal.SIGKILL)


if __name__ == "__main__":  # pragma: no cover - started by ``launched.start``
    import sys

    sys.exit(serve(socket.socket(fileno=int(sys.argv[1]))))
