"""podman started by the launcher process (``launcher``) for this one, and
the handle that stands for it here.

``start()`` starts a launcher (a fresh interpreter), ``fork()`` forks one
from this process; ``fork_shared()`` makes the one every ``Runner`` of
this process and its children uses (``shared()``): gunicorn's master forks
it before the first worker.
``launch(channel, argv, env, io)`` asks the launcher to start ``argv``
through ``sh`` with the given stdin/stdout/stderr (file descriptors passed
with ``SCM_RIGHTS``; a stream not given is collected by the launcher and
sent back at the end), over a socket pair of its own: the command, then the
launcher's answer (the pid, or why it could not start). It returns a
``Launched`` once podman runs.

``Launched`` answers as sh's ``RunningCommand`` does for a local process
(``pid``, ``wait()``, ``exit_code``, ``stdout``, ``stderr``,
``process.is_alive()``) and ``terminate_group(grace)`` kills podman's
process group, done by the launcher, which alone reaps podman (so it never
signals a pid that was reaped and reused). Closing the handle, or the end
of this process, closes the socket pair: the launcher then kills the group
(the parent-death guarantee).

The frames on the pair are in ``frames``.
"""
from __future__ import annotations

import array
import gc
import json
import logging
import os
import select
import signal
import socket
import sys
import threading

from .errors import Unavailable
from .frames import IO_NAMES, MAX_REPLY, MAX_REQUEST, grace_frame, read_exit, recv_frame, send_frame
from .process import kill_group

log = logging.getLogger("podproxy.podman")

START_TIMEOUT = 30.0  # seconds for the launcher to answer a request with a pid or an error
GONE = "podproxy's podman launcher went away"


_shared: socket.socket | None = None
_shared_pid: int | None = None


def start() -> tuple:
    """Start the launcher (a fresh interpreter that imports sh and little
    else: ``python -m podproxy.engine.podman.launcher FD``); returns
    (channel, pid). The caller reaps it (gunicorn's master reaps every
    child). Best called while the process has one thread: a fork by
    another thread meanwhile would inherit the launcher's end too."""
    channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        theirs.set_inheritable(True)
        argv = [sys.executable, "-m", "podproxy.engine.podman.launcher", str(theirs.fileno())]
        pid = os.posix_spawn(sys.executable, argv, os.environ)
    except BaseException:
        channel.close()
        raise
    finally:
        theirs.close()
    return channel, pid


def fork() -> tuple:
    """Fork the launcher from this process; returns (channel, pid). For
    gunicorn's master once the app is loaded and frozen (``gc.freeze``),
    before the first worker: single-threaded, and the launcher shares the
    master's pages as the workers do (a fresh interpreter would hold its
    own ~15 MB). The launcher keeps the master's fds (never its ends of
    a podman's pipes: it gets those per command)."""
    channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the launcher (covered by the tests that serve through it)
        code = 70
        try:
            gc.freeze()  # the inherited objects stay shared: this collector never writes into them
            signal.set_wakeup_fd(-1)  # gunicorn's, the master's
            channel.close()  # else the launcher would hold the master's end: never EOF
            from .launcher import serve  # imports sh: in the launcher only

            code = serve(theirs)
        finally:
            os._exit(code)
    theirs.close()
    return channel, pid


def fork_shared() -> socket.socket:
    """The launcher every ``Runner`` of this process and of its future
    children (the workers) uses, forked once (``fork``)."""
    global _shared, _shared_pid
    if _shared is None:
        _shared, _shared_pid = fork()
    return _shared


def shared() -> socket.socket | None:
    """The shared launcher's channel, if there is one."""
    return _shared


def close_shared() -> None:
    """This process lets go of the shared launcher (it exits once every
    process has, and their commands are over)."""
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


def forget_shared(reason: str) -> None:
    """The shared launcher is gone: the runners of this process start
    podman themselves from now on."""
    if _shared is not None:
        log.error("%s (%s): podman is started from this process from now on", GONE, reason)
        close_shared()


class LauncherGone(OSError):
    """The launcher process cannot be reached (it died): nothing was started."""


def _fileno(value) -> int:
    return value if isinstance(value, int) else value.fileno()


def launch(channel: socket.socket, argv: list, env: dict | None, io: dict) -> Launched:
    """Start ``argv`` in the launcher behind ``channel``. ``io``: sh's
    ``_in``/``_out``/``_err`` as fds or files (the caller keeps and closes
    its own). ``LauncherGone`` if the launcher is not there (nothing
    started); ``Unavailable`` if podman could not start."""
    names = [name for name in IO_NAMES if name in io]
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            fds = array.array("i", [theirs.fileno(), *(_fileno(io[name]) for name in names)])
            channel.sendmsg([("+" + ",".join(names)).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        finally:
            theirs.close()
        ours.settimeout(START_TIMEOUT)
        send_frame(ours, b"R", json.dumps({"argv": list(argv), "env": env}).encode())
        frame = recv_frame(ours, MAX_REQUEST)
    except OSError as e:
        ours.close()
        raise LauncherGone(e.errno, "%s: %s" % (GONE, e.strerror or e)) from None
    except BaseException:
        ours.close()
        raise
    if frame is None or frame[0] not in (b"P", b"E"):
        ours.close()
        raise LauncherGone(0, GONE)
    if frame[0] == b"E":
        ours.close()
        raise Unavailable(frame[1].decode("utf-8", "replace"), 127)
    ours.settimeout(None)
    return Launched(ours, int(frame[1]))


class Launched:
    """A podman process the launcher runs for us (see the module doc)."""

    def __init__(self, sock: socket.socket, pid: int):
        self.pid = pid
        self.exit_code: int | None = None
        self.stdout = b""
        self.stderr = b""
        self._sock: socket.socket | None = sock
        self._lock = threading.Lock()  # the watchdog thread sends kills while the owner waits

    @property
    def process(self) -> Launched:  # sh's RunningCommand.process
        return self

    def is_alive(self) -> tuple:
        """(running, exit code) without blocking."""
        sock = self._sock
        if self.exit_code is None and sock is not None:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                self._receive()
        return self.exit_code is None, self.exit_code

    def wait(self) -> int:
        """Until podman has ended and the launcher has reaped it."""
        if self.exit_code is None:
            self._receive()
        return self.exit_code if self.exit_code is not None else -signal.SIGKILL  # _receive always sets it

    def _receive(self) -> None:
        try:
            frame = recv_frame(self._sock, MAX_REPLY) if self._sock is not None else None
        except OSError:
            frame = None
        done = read_exit(frame[1]) if frame is not None and frame[0] == b"X" else None
        if done is not None:
            self.exit_code, self.stdout, self.stderr = done
        else:  # the launcher died, and its podman with it (parent-death signal)
            self.exit_code = -signal.SIGKILL
            self.stderr = ("Error: %s" % GONE).encode()
        self.close()

    def terminate_group(self, grace: float = 1.0) -> None:
        """SIGTERM podman's process group, SIGKILL after ``grace`` seconds
        (by the launcher; ``wait()`` then returns the exit)."""
        with self._lock:
            if self._sock is None:
                return
            try:
                send_frame(self._sock, b"K", grace_frame(grace))
            except OSError:
                pass

    def close(self) -> None:
        """Let go of podman: if it still runs, the launcher kills its group."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def stop(proc, grace: float = 1.0) -> None:
    """Kill a started podman's process group: SIGTERM, SIGKILL after
    ``grace`` (by the launcher for a ``Launched`` one; else here, for
    sh's ``RunningCommand`` of a podman forked from this process)."""
    if isinstance(proc, Launched):
        proc.terminate_group(grace)
    else:
        kill_group(proc.pid, grace)
