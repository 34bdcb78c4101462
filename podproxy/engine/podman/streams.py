"""Long-running podman commands read as they go, from our own pipe:
``Stream`` (stdout as byte chunks, with back pressure) and ``Progress``
(stderr as progress lines). ``close()`` on either kills podman's process
group if it still runs, reaps it and reports the exit."""
from __future__ import annotations

import os
import re
import select
import socket
import time
from collections.abc import Iterator

from .errors import ClientGone, PodmanError, Unavailable, error_for, killed_message
from .process import DEVNULL, grow_pipe, kill_group

CHUNK = 1024 * 1024  # bytes per read of podman's output (and per chunk sent)


def as_text(data) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


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

    def __init__(self, runner, args: list, env: dict | None = None):
        self.args = args
        self.cleanups: list = []  # called once podman is gone (temp dirs to remove)
        self._first: bytes | None = None
        self._closed = False
        self.exit_code: int | None = None
        self._runner = runner
        self._start = time.monotonic()
        runner.prepare(args)  # podman missing: Unavailable before any pipe is made
        read_fd, write_fd = os.pipe()
        grow_pipe(write_fd)
        self._fd = read_fd
        try:
            self._proc = runner.spawn(args, env, _out=write_fd, _in=DEVNULL)
        except Unavailable:
            os.close(read_fd)
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
            raise error_for(self.exit_code, as_text(self._proc.stderr))

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

    def __init__(self, runner, args: list, merge_stdout: bool = False):
        self.args = args
        self.exit_code: int | None = None
        self.error: str | None = None
        self.stdout = b""
        self._closed = False
        self._runner = runner
        self._start = time.monotonic()
        runner.prepare(args)
        read_fd, write_fd = os.pipe()
        self._file = os.fdopen(read_fd, "rb", buffering=0)
        io = {"_err": write_fd}
        if merge_stdout:
            io["_out"] = write_fd
        try:
            self._proc = runner.spawn(args, **io)
        except Unavailable:
            self._file.close()
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

    def failure(self) -> PodmanError:
        """The typed error of a failed run (after iterating)."""
        return error_for(self.exit_code or 125, "Error: " + (self.error or ""))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        stop_run(self, self._file.close)


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
