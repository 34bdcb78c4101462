"""Running podman through ``sh``: argv lists only, streams both ways, and
typed errors from exit codes.

* ``run`` runs a command to completion (stdin is /dev/null: uploads reach
  podman as files, see ``uploads``) and returns a ``Completed``; exit codes
  not in ``ok`` raise a ``PodmanError`` (``run_unchecked`` + ``check_exit``). Every podman process, small
  or streamed, is started by ``Runner._start`` through ``sh``.
* ``stream`` starts a command whose stdout is an ``os.pipe`` that we read
  ourselves, so that a slow client slows podman down (back pressure) instead
  of the output piling up in memory; closing the stream kills podman's whole
  process group.

Errors are in ``errors``, the processes' kernel side in ``process``, the
timeout thread in ``watchdog``, ``Stream``/``Progress`` in ``streams``.
"""
from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sh

from .errors import Unavailable, error_for
from .process import (
    DEVNULL,
    die_with_parent,
    kill_group,
    pdeathsig_prefix,
    release_failed_start,
    start_error,
)
from .streams import Progress, Stream, as_text
from .watchdog import Watchdog

log = logging.getLogger("podproxy.podman")

_ALL_CODES = list(range(-64, 256))  # we judge exit codes ourselves
NO_TIMEOUT = math.inf  # ``run(..., timeout=NO_TIMEOUT)``: the command may take as long as it needs


def subcommand(args: Sequence[str]) -> str:
    """The podman subcommand of ``args`` for logs and metrics: ``version``,
    ``image exists``, ``image save`` (never a user-supplied value)."""
    words = [a for a in args[:2] if not a.startswith("-")]
    if words and words[0] in ("image", "system", "manifest", "container") and len(words) > 1:
        return " ".join(words[:2])
    return words[0] if words else ""


# An observer is called as ``observer(subcommand, exit_code, seconds)`` when a
# podman process ends (exit code -N: killed by signal N; 127: could not run).
Observer = Callable[[str, int | None, float], None]


@dataclass
class Completed:
    argv: list
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")



class Runner:
    """Runs one podman binary with fixed global options."""

    def __init__(self, podman: str = "podman", global_options: Sequence[str] = (), timeout: float | None = None):
        self.podman = podman
        self.global_options = list(global_options)
        self.timeout = timeout if timeout else NO_TIMEOUT  # the default of run(); None or 0: no limit
        self._command: Any = None  # sh.Command, baked on first use
        self._resolved: str | None = None
        self._lock = threading.Lock()
        self._watchdog = Watchdog()
        self.calls = 0  # podman processes started (for tests and metrics)
        self.observers: list[Observer] = []  # called when a podman process ends

    def notify(self, args: Sequence[str], exit_code: int | None, seconds: float) -> None:
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
                prefix = pdeathsig_prefix()
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
        if not pdeathsig_prefix():
            kwargs["_preexec_fn"] = die_with_parent
        if env is not None:
            kwargs["_env"] = env
        try:
            return self._cmd()(*args, **kwargs)
        except (OSError, sh.ForkException) as e:
            release_failed_start(e)
            raise Unavailable("cannot run podman: %s" % start_error(e), 127) from None

    def check_args(self, args: Sequence[str]) -> None:
        """Every argument must fit in argv as it is, and all within exec's
        size bounds (``argv.arguments``; 400 otherwise): a NUL byte,
        undecodable bytes or an oversized argument would make the exec
        itself fail."""
        from .argv import arguments

        arguments([*self.global_options, *args])

    def prepare(self, args: Sequence[str]) -> None:
        """Before a ``Stream``/``Progress`` makes its pipe: the argv checks,
        and ``Unavailable`` if podman is not there (nothing ran, nothing is
        reported to the observers)."""
        self.check_args(args)
        self._path()

    def spawn(self, args: Sequence[str], env: dict | None = None, **io):
        """Start a ``prepare``d command for a ``Stream``/``Progress``
        (``io``: sh's ``_in``/``_out``/``_err``); a start that fails is
        reported to the observers (exit 127) and raises ``Unavailable``."""
        self.calls += 1
        try:
            return self._start(args, env, **io)
        except Unavailable:
            self.notify(args, 127, 0.0)
            raise

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
        not in ``ok`` raises the typed error. ``timeout``: seconds before
        podman is killed (``Unavailable``); None: the runner's; ``NO_TIMEOUT``:
        none. ``env`` replaces podman's environment (e.g. a TMPDIR of its own)."""
        return self.check_exit(self.run_unchecked(args, timeout=timeout, env=env), ok)

    @staticmethod
    def check_exit(result: Completed, ok: Iterable[int] = (0,)) -> Completed:
        """``result`` if its exit code is in ``ok``; else raises its typed error (``error_for``)."""
        if result.exit_code not in tuple(ok):
            raise error_for(result.exit_code, result.stderr)
        return result

    def run_unchecked(self, args: Sequence[str], *, timeout: float | None = None, env: dict | None = None) -> Completed:
        """Run podman to the end and return what it did, whatever its exit
        code (``Unavailable`` if it could not run or timed out)."""
        self.check_args(args)
        timeout = self.timeout if timeout is None else timeout
        self._path()  # podman missing: nothing ran, nothing to tell the observers
        start = time.monotonic()
        self.calls += 1
        try:
            code, out, err = self._collect(args, timeout, env)
        except Unavailable as e:
            self.notify(args, e.exit_code, time.monotonic() - start)
            raise
        result = Completed(list(args), code, out, as_text(err))
        self.notify(args, code, time.monotonic() - start)
        log.debug("podman %s -> %d in %.1f ms", " ".join(args), code, (time.monotonic() - start) * 1000)
        return result

    def _collect(self, args: Sequence[str], timeout: float, env: dict | None = None):
        """A command without input whose output fits in memory (lookups,
        inspect, list, rm...): stdin is /dev/null, sh collects the output."""
        return self._wait(self._start(args, env, _in=DEVNULL), args, timeout)

    def _wait(self, proc, args: Sequence[str], timeout: float):
        """Wait for podman under the runner's one watchdog thread (not sh's
        ``_timeout``: sh polls it from a thread every 0.1 s and joins that
        thread at the end, ~70 ms per command)."""
        deadline = self._watchdog.watch(proc.pid, timeout) if timeout != NO_TIMEOUT else None
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
        if proc.exit_code == 127 and pdeathsig_prefix() and not out and b"setpriv" in err:
            raise Unavailable("cannot run podman: %s" % err.decode("utf-8", "replace").strip(), 127)
        return proc.exit_code, out, err

    def stream(self, args: Sequence[str], *, env: dict | None = None) -> Stream:
        """Start ``podman <args>`` with its stdout as a byte stream."""
        return Stream(self, list(args), env)

    def progress(self, args: Sequence[str], merge_stdout: bool = False, keep_logs=None) -> Progress:
        """Start ``podman <args>`` with its stderr (progress) as lines
        (and its stdout too with ``merge_stdout``; log lines that
        ``keep_logs`` matches too)."""
        return Progress(self, list(args), merge_stdout, keep_logs)
