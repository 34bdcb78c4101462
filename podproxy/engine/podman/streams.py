"""Long-running podman commands read as they go, from our own pipe:
``Stream`` (stdout as byte chunks, with back pressure) and ``Progress``
(stderr as progress lines). ``close()`` on either kills podman's process
group if it still runs, reaps it and reports the exit."""
from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable, Iterator

from .errors import ClientGone, PodmanError, Unavailable, error_for, killed_message
from .process import DEVNULL, grow_pipe, kill_group

CHUNK = 1024 * 1024  # bytes per read of podman's output (and per chunk sent)
CANCEL_CHECK = 0.2  # seconds between two questions to a silent stream's ``cancelled``


def as_text(data) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""



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

    def first(self, cancelled: Callable[[], bool] | None = None) -> bytes:
        """The first chunk; b"" if podman succeeded without output. Raises
        the typed error if podman failed before writing anything.

        podman can be silent for a long time before its first byte (an
        oci-archive is staged whole first). ``cancelled`` (the caller's
        "the client hung up") is asked every ``CANCEL_CHECK`` seconds
        meanwhile: once it says so, podman is killed and ``ClientGone``
        raised, instead of noticing only at the first write."""
        if cancelled is not None:
            self._wait_for_output(cancelled)
        chunk = self._read()
        if not chunk:
            self._finish()
        self._first = chunk
        return chunk

    def _wait_for_output(self, cancelled: Callable[[], bool]) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP)
        while not poller.poll(CANCEL_CHECK * 1000):
            if cancelled():
                self.close()
                raise ClientGone()

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
    yielded as progress; log lines after it are not part of it). Log lines
    are dropped, but those ``keep_logs`` matches (a debug run's events).
    ``close()`` kills the process group if needed."""

    def __init__(self, runner, args: list, merge_stdout: bool = False, keep_logs: re.Pattern | None = None):
        self.args = args
        self._keep_logs = keep_logs
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
            log = _LOG_LINE.match(line)
            if error is not None:
                if not log:
                    error.append(line)
            elif line.startswith("Error: "):
                error = [line[len("Error: ") :]]
            elif not log or self._keep_logs is not None and self._keep_logs.search(line):
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
