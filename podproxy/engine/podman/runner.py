"""Running podman through ``sh``: argv lists only, streams both ways, and
typed errors from exit codes.

* ``run`` runs a command to completion (stdin is /dev/null: uploads reach
  podman as files, see ``uploads``) and returns a ``Completed``; exit codes
  not in ``ok`` raise a ``PodmanError`` (``execute`` + ``judge``). Every podman process, small
  or streamed, is started by ``Runner._start`` through ``sh``.
* ``stream`` starts a command whose stdout is an ``os.pipe`` that we read
  ourselves, so that a slow client slows podman down (back pressure) instead
  of the output piling up in memory; closing the stream kills podman's whole
  process group.

The error classes carry podman's exit code and its ``Error: ...`` text, and
are ``APIError``s with podman's default mapping (1 -> 404, 2 -> 409,
otherwise 500); handlers add the HTTP context podman's handlers add.
"""
from __future__ import annotations

import ctypes
import fcntl
import heapq
import logging
import os
import re
import select
import shutil
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import sh

from ...web.errors import APIError, cause_of

log = logging.getLogger("podproxy.podman")

CHUNK = 1024 * 1024  # bytes per read of podman's output (and per chunk sent)
PIPE_SIZE = 1024 * 1024  # podman's stdout pipe: 1 MiB instead of 64 KiB, fewer wake-ups per transfer
_ALL_CODES = list(range(-64, 256))  # we judge exit codes ourselves


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


def subcommand(args: Sequence[str]) -> str:
    """The podman subcommand of ``args`` for logs and metrics: ``version``,
    ``image exists``, ``image save`` (never a user-supplied value)."""
    words = [a for a in args[:2] if not a.startswith("-")]
    if words and words[0] in ("image", "system", "manifest", "container") and len(words) > 1:
        return " ".join(words[:2])
    return words[0] if words else ""


# An observer is called as ``observer(subcommand, exit_code, seconds)`` when a
# podman process ends (exit code -N: killed by signal N; 127: could not run).
Observer = Callable[[str, int, float], None]

_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None


def _die_with_parent() -> None:
    """In the forked child, before exec: podman gets SIGTERM when the thread
    that started it dies, so a worker that is killed (graceful timeout, a
    second SIGTERM) leaves no podman behind (podman cleans up on SIGTERM)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_SETPRIV: list | None = None
_DEVNULL = open(os.devnull, "rb")  # stdin of commands without input


def _pdeathsig_prefix() -> list:
    """``setpriv --pdeathsig TERM --``: exec'd before podman, it sets the
    same parent-death signal as ``_die_with_parent`` without running Python
    in the child. [] when util-linux's setpriv is not there."""
    global _SETPRIV
    if _SETPRIV is None:
        path = shutil.which("setpriv")
        _SETPRIV = [path, "--pdeathsig", "TERM", "--"] if path else []
    return _SETPRIV


@dataclass
class Completed:
    argv: list
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def _decode(data) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


class Deadline:
    """One watched command: its process group and when it must be over."""

    __slots__ = ("at", "pid", "done", "fired")

    def __init__(self, at: float, pid: int):
        self.at, self.pid, self.done, self.fired = at, pid, False, False

    def __lt__(self, other: "Deadline") -> bool:
        return self.at < other.at


class Watchdog:
    """Kills the process group of a command that outlives its timeout.

    One thread for all of a runner's commands (started on first use),
    instead of sh's timer plus polling thread per command."""

    def __init__(self):
        self._cond = threading.Condition()
        self._heap: list[Deadline] = []
        self._thread: threading.Thread | None = None

    def watch(self, pid: int, timeout: float) -> Deadline:
        deadline = Deadline(time.monotonic() + timeout, pid)
        with self._cond:
            heapq.heappush(self._heap, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="podman watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0] is deadline:
                self._cond.notify()
        return deadline

    def cancel(self, deadline: Deadline) -> None:
        """The command is over: never kill it. (The heap holds the commands
        running now, one per busy thread, so removing is cheap.)"""
        with self._cond:
            deadline.done = True
            try:
                self._heap.remove(deadline)
            except ValueError:  # already popped by the loop
                return
            heapq.heapify(self._heap)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0].at > time.monotonic():
                    self._cond.wait(None if not self._heap else self._heap[0].at - time.monotonic())
                deadline = heapq.heappop(self._heap)
                if deadline.done:
                    continue
                deadline.fired = True
            kill_group(deadline.pid)


class Runner:
    """Runs one podman binary with fixed global options."""

    def __init__(self, podman: str = "podman", global_options: Sequence[str] = (), timeout: float | None = None):
        self.podman = podman
        self.global_options = list(global_options)
        self.timeout = timeout
        self._command = None
        self._resolved: str | None = None
        self._lock = threading.Lock()
        self._watchdog = Watchdog()
        self.calls = 0  # podman processes started (for tests and metrics)
        self.observers: list[Observer] = []  # called when a podman process ends

    def notify(self, args: Sequence[str], exit_code: int, seconds: float) -> None:
        """Tell the observers (metrics, request logs) that podman ended.
        An observer's failure is logged, never the request's failure."""
        name = subcommand(args)
        for observer in list(self.observers):
            try:
                observer(name, exit_code, seconds)
            except Exception:
                log.exception("podman observer failed")

    def _path(self) -> str:
        if self._resolved is None:
            path = shutil.which(self.podman)
            if path is None:
                raise Unavailable("podman not found: %r is not an executable on PATH" % self.podman, 127)
            self._resolved = path
        return self._resolved

    def _cmd(self):
        """``sh``'s command for podman with the global options, behind
        ``setpriv --pdeathsig TERM`` where util-linux has it."""
        if self._command is None:
            with self._lock:
                prefix = _pdeathsig_prefix()
                if prefix:
                    self._command = sh.Command(prefix[0]).bake(*prefix[1:], self._path(), *self.global_options)
                else:
                    self._command = sh.Command(self._path()).bake(*self.global_options)
        return self._command

    def _start(self, args: Sequence[str], env: dict | None = None, **io):
        """Start ``podman <args>`` through ``sh``: the one place that says
        how (its own process group, no tty, our exit code handling, the
        parent-death signal); ``io`` gives sh's ``_in``/``_out``/``_err``."""
        kwargs = dict(_return_cmd=True, _bg=True, _bg_exc=False, _tty_out=False, _ok_code=_ALL_CODES,
                      _new_group=True, **io)
        if not _pdeathsig_prefix():
            kwargs["_preexec_fn"] = _die_with_parent
        if env is not None:
            kwargs["_env"] = env
        try:
            return self._cmd()(*args, **kwargs)
        except (OSError, sh.ForkException) as e:
            release_failed_start(e)
            raise Unavailable("cannot run podman: %s" % start_error(e), 127) from None

    def check_args(self, args: Sequence[str]) -> None:
        """Every argument must fit in argv as it is, and all within exec's
        size bounds (``validate.arguments``; 400 otherwise): a NUL byte,
        undecodable bytes or an oversized argument would make the exec
        itself fail."""
        from .argv import arguments

        arguments([*self.global_options, *args])

    def argv(self, args: Sequence[str]) -> list[str]:
        return [self.podman, *self.global_options, *args]

    # ------------------------------------------------------------------
    def run(
        self,
        args: Sequence[str],
        *,
        ok: Iterable[int] = (0,),
        timeout: float | None = None,
        env: dict | None = None,
    ) -> Completed:
        """Run ``podman <global options> <args>`` to the end; an exit code
        not in ``ok`` raises the typed error. ``env`` replaces podman's
        environment (e.g. a TMPDIR of its own)."""
        return self.judge(self.execute(args, timeout=timeout, env=env), ok)

    @staticmethod
    def judge(result: Completed, ok: Iterable[int] = (0,)) -> Completed:
        if result.exit_code not in tuple(ok):
            raise error_for(result.exit_code, result.stderr)
        return result

    def execute(self, args: Sequence[str], *, timeout: float | None = None, env: dict | None = None) -> Completed:
        """Run podman to the end and return what it did, whatever its exit
        code (``Unavailable`` if it could not run or timed out)."""
        self.check_args(args)
        timeout = self.timeout if timeout is None else timeout
        self._path()  # podman missing: nothing ran, nothing to tell the observers
        start = time.monotonic()
        self.calls += 1
        try:
            code, out, err = self._small(args, timeout, env)
        except Unavailable as e:
            self.notify(args, e.exit_code, time.monotonic() - start)
            raise
        result = Completed(list(args), code, out, _decode(err))
        self.notify(args, code, time.monotonic() - start)
        log.debug("podman %s -> %d in %.1f ms", " ".join(args), code, (time.monotonic() - start) * 1000)
        return result

    def _small(self, args: Sequence[str], timeout: float | None, env: dict | None = None):
        """A command without input whose output fits in memory (lookups,
        inspect, list, rm...): stdin is /dev/null, sh collects the output."""
        return self._wait(self._start(args, env, _in=_DEVNULL), args, timeout)

    def _wait(self, proc, args: Sequence[str], timeout: float | None):
        """Wait for podman under the runner's one watchdog thread (not sh's
        ``_timeout``: sh polls it from a thread every 0.1 s and joins that
        thread at the end, ~70 ms per command)."""
        deadline = self._watchdog.watch(proc.pid, timeout) if timeout else None
        try:
            proc.wait()
        except BaseException:
            kill_group(proc.pid, grace=0)
            raise
        finally:
            if deadline is not None:
                self._watchdog.cancel(deadline)
        if deadline is not None and deadline.fired:
            raise Unavailable("podman %s timed out after %gs" % (args[0] if args else "", timeout), -9)
        out, err = proc.stdout or b"", proc.stderr or b""
        if proc.exit_code == 127 and _pdeathsig_prefix() and not out and b"setpriv" in err:
            raise Unavailable("cannot run podman: %s" % err.decode("utf-8", "replace").strip(), 127)
        return proc.exit_code, out, err

    def stream(self, args: Sequence[str], *, env: dict | None = None) -> "Stream":
        """Start ``podman <args>`` with its stdout as a byte stream."""
        return Stream(self, list(args), env)

    def progress(self, args: Sequence[str], merge_stdout: bool = False) -> "Progress":
        """Start ``podman <args>`` with its stderr (progress) as lines
        (and its stdout too with ``merge_stdout``)."""
        return Progress(self, list(args), merge_stdout)


class ClientGone(APIError):
    """The client closed its connection while podman was still working."""

    def __init__(self):
        super().__init__(500, "client disconnected")


def client_gone(sock: socket.socket) -> bool:
    """True if the peer of ``sock`` has closed (EOF or reset); data sent
    ahead by the client (a pipelined request) is not a close."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


class Stream:
    """podman's stdout as an iterator of byte chunks, read from our own pipe.

    ``first()`` waits for the first chunk (or the end) so that a failure
    before any output can still be answered with a proper status. Iterating
    goes on from there; at the end a failed exit raises a ``PodmanError``
    (after output went out, the caller must cut the response short).
    ``close()`` kills the process group if podman is still running and is
    safe to call more than once.
    """

    def __init__(self, runner: Runner, args: list, env: dict | None = None):
        self.args = args
        self.cleanups: list = []  # called once podman is gone (temp dirs to remove)
        self._first: bytes | None = None
        self._closed = False
        self.exit_code: int | None = None
        self._runner = runner
        self._start = time.monotonic()
        runner.check_args(args)
        runner._path()  # podman missing: Unavailable before any pipe is made
        read_fd, write_fd = os.pipe()
        _grow_pipe(write_fd)
        self._fd = read_fd
        io = {"_out": write_fd, "_in": _DEVNULL}
        runner.calls += 1
        try:
            self._proc = runner._start(args, env, **io)
        except Unavailable:
            os.close(read_fd)
            runner.notify(args, 127, 0.0)
            raise
        finally:
            os.close(write_fd)  # the child holds its own copy

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> bytes:
        return os.read(self._fd, CHUNK)

    def _finish(self) -> None:
        """At EOF: reap podman and raise if it failed."""
        self._proc.wait()
        self.exit_code = self._proc.exit_code
        self._runner.notify(self.args, self.exit_code, time.monotonic() - self._start)
        if self.exit_code != 0:
            raise error_for(self.exit_code, _decode(self._proc.stderr))

    def first(self, watch: socket.socket | None = None) -> bytes:
        """The first chunk; b"" if podman succeeded without output. Raises
        the typed error if podman failed before writing anything.

        podman can be silent for a long time before its first byte (an
        oci-archive is staged whole first). ``watch`` is the client's socket:
        if the client hangs up meanwhile, podman is killed and ``ClientGone``
        raised, instead of noticing only at the first write."""
        if watch is not None:
            self._wait_for_output(watch)
        chunk = self._read()
        if not chunk:
            self._finish()
        self._first = chunk
        return chunk

    def _wait_for_output(self, sock: socket.socket) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP)
        watched = sock.fileno()
        poller.register(watched, select.POLLIN | select.POLLRDHUP | select.POLLHUP)
        while True:
            for fd, _events in poller.poll():
                if fd == self._fd:
                    return
                if client_gone(sock):
                    self.close()
                    raise ClientGone()
                poller.unregister(watched)  # pipelined data, not a hang-up: stop watching

    def __iter__(self) -> Iterator[bytes]:
        if self._first is None:
            self.first()
        if self._first:
            yield self._first
            while True:
                chunk = self._read()
                if not chunk:
                    break
                yield chunk
            self._finish()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            stop_run(self, lambda: os.close(self._fd))
        finally:
            for cleanup in self.cleanups:
                cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_LOG_LINE = re.compile(r'time="[^"]*" level=')


class Progress:
    """A podman command that reports progress on stderr (pull, push,
    build): iterate for the progress lines as podman writes them (read from
    our own pipe, log lines dropped); then ``exit_code``, ``stdout`` and,
    after a failure, ``error`` (podman's ``Error: ...`` text, which is not
    yielded as progress). ``close()`` kills the process group if needed."""

    def __init__(self, runner: Runner, args: list, merge_stdout: bool = False):
        self.args = args
        self.exit_code: int | None = None
        self.error: str | None = None
        self.stdout = b""
        self._closed = False
        runner.check_args(args)
        self._runner = runner
        self._start = time.monotonic()
        runner._path()
        read_fd, write_fd = os.pipe()
        self._file = os.fdopen(read_fd, "rb", buffering=0)
        io = {"_err": write_fd}
        if merge_stdout:
            io["_out"] = write_fd
        runner.calls += 1
        try:
            self._proc = runner._start(args, **io)
        except Unavailable:
            self._file.close()
            runner.notify(args, 127, 0.0)
            raise
        finally:
            os.close(write_fd)

    def _lines(self) -> Iterator[str]:
        buf = b""
        while True:
            chunk = self._file.read(CHUNK)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace")
        if buf:
            yield buf.decode("utf-8", "replace")

    def __iter__(self) -> Iterator[str]:
        error: list[str] | None = None
        for line in self._lines():
            if error is not None:
                error.append(line)
            elif line.startswith("Error: "):
                error = [line[len("Error: ") :]]
            elif not _LOG_LINE.match(line):
                yield line
        self._proc.wait()
        self.exit_code = self._proc.exit_code
        self._runner.notify(self.args, self.exit_code, time.monotonic() - self._start)
        self.stdout = self._proc.stdout or b""
        if self.exit_code < 0:
            self.error = killed_message(self.exit_code)
        elif self.exit_code != 0:
            self.error = "\n".join(error).rstrip("\n") if error else "podman exited with status %d" % self.exit_code

    def failure(self) -> "PodmanError":
        """The typed error of a failed run (after iterating)."""
        return error_for(self.exit_code or 125, "Error: " + (self.error or ""))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        stop_run(self, self._file.close)


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


def stop_run(run, release) -> None:
    """``close()`` of a ``Stream`` or ``Progress``: kill podman's process
    group if it still runs, reap it, ``release()`` our end of the pipe, and
    report an exit that was not read to the end (killed, or the reader gave up)."""
    try:
        if run._proc.process.is_alive()[0]:
            kill_group(run._proc.pid)
        run._proc.wait()
    except Exception:  # already reaped, or sh raised for the signal
        pass
    finally:
        release()
        if run.exit_code is None:
            run.exit_code = run._proc.process.exit_code
            if run.exit_code is not None:
                run._runner.notify(run.args, run.exit_code, time.monotonic() - run._start)


def _grow_pipe(fd: int) -> None:
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
