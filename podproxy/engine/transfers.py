"""TransferEngine: the podman commands that move image data (save, load,
import, commit, scp), with the same argv rules as ``ImageEngine``.

Exports go through a pipe, never through a file of ours: ``podman image
save`` writes to its stdout (our pipe, so the client's pace is podman's
pace). The directory formats need a temp dir, which ``save_dir`` removes on
every path once its tar stream ends or is closed. Uploads (``load``,
``import``) are written to a file in the command's scratch dir, which
podman would otherwise make itself from its stdin (see ``uploads``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..gocompat.reference import normalized_name_error, tag_error
from . import scratch, uploads
from .dirtar import DirTar
from .podman.errors import BAD_INPUT, UNSUPPORTED, EngineError, Failure, PodmanError
from .podman.runner import NO_TIMEOUT, Runner
from .podman.streams import Progress, Stream

ARCHIVE_FORMATS = ("oci-archive", "docker-archive")
DIR_FORMATS = ("oci-dir", "docker-dir")


class BadReference(PodmanError):
    """A name podman would refuse, found before podman ran."""

    def __init__(self, message: str):
        super().__init__(message, 125)


def _save_args(format: str, compress: bool = False, uncompressed: bool = False) -> list:
    args = ["image", "save", "--quiet", "--format=" + format]
    if compress and format == "docker-dir":  # the only format --compress applies to
        args.append("--compress")
    if uncompressed:
        args.append("--uncompressed")
    return args


@dataclass
class Commit:
    """``libpod.ContainerCommitOptions`` as the API gives them."""

    container: str
    image: str = ""  # repo:tag, or "" for an untagged image
    author: str = ""
    message: str = ""
    changes: tuple = ()
    format: str = "oci"
    pause: bool = False
    squash: bool = False
    config: str = ""  # a file with a JSON config to merge (podman 5's --config)


class TransferEngine:
    """Every command runs with a TMPDIR of its own (podman stages layers
    and archives there and leaves them behind when it is killed), removed
    once podman is gone, whatever happened."""

    def __init__(self, runner: Runner, tmpdir: str | None = None):
        self.runner = runner
        self.tmpdir = tmpdir  # where the per-command dirs go; None = $TMPDIR

    def _workdir(self) -> str:
        return scratch.mkdtemp(dir=self.tmpdir)

    @staticmethod
    def _env(workdir: str) -> dict:
        tmp = os.path.join(workdir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        return {**os.environ, "TMPDIR": tmp}

    @contextlib.contextmanager
    def _scratch(self):
        """(podman's environment, the dir that holds its TMPDIR), removed
        at the end."""
        workdir = self._workdir()
        try:
            yield self._env(workdir), workdir
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    @contextlib.contextmanager
    def _uploaded(self, body: uploads.SocketBody | Iterable[bytes]):
        """``_scratch`` with ``body`` saved in it: (env, the file's path)."""
        with self._scratch() as (env, workdir):
            path = os.path.join(workdir, "upload")
            uploads.save(body, path)
            yield env, path

    # -- export ---------------------------------------------------------
    def save(self, names: list, format: str, compress: bool = False, uncompressed: bool = False) -> Stream:
        """``podman image save`` of one image, or of several (``-m``, one
        docker-archive holding them all), to a pipe."""
        args = _save_args(format, compress, uncompressed)
        if len(names) > 1:
            args.append("--multi-image-archive")
        workdir = self._workdir()
        try:
            stream = self.runner.stream([*args, "--", *names], env=self._env(workdir))
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        stream.cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
        return stream

    def save_dir(self, name: str, format: str, compress: bool = False,
                 cancelled: Callable[[], bool] | None = None) -> DirTar:
        """``podman image save --format oci-dir|docker-dir`` into a temp dir,
        then that dir as a tar stream of known length (``cancelled``: as
        ``Stream.first``). Errors are raised
        before the first chunk is returned; the dir is removed when the
        stream ends or is closed, and at once on failure."""
        workdir = self._workdir()
        try:
            target = os.path.join(workdir, "image")
            args = [*_save_args(format, compress), "--output=" + target, "--", name]
            with self.runner.stream(args, env=self._env(workdir)) as run:
                run.first(cancelled)  # podman is silent until it exits (--quiet)
                for _ in run:
                    pass
            return DirTar(target, remove=workdir)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise

    # -- import ---------------------------------------------------------
    def load(self, body: uploads.SocketBody | Iterable[bytes]) -> list[str]:
        """``podman image load`` of ``body`` (saved first: see ``uploads``);
        the names it loaded."""
        with self._uploaded(body) as (env, archive):
            out = self.runner.run(["image", "load", "--input=" + archive], timeout=NO_TIMEOUT, env=env).text
        return [line[len("Loaded image: "):] for line in out.splitlines() if line.startswith("Loaded image: ")]

    def check_name(self, name: str) -> None:
        """Raise podman's tag error for a name it would refuse."""
        err = tag_error(name)
        if err is not None:
            raise BadReference(err)

    def import_(self, body: uploads.SocketBody | Iterable[bytes], reference: str = "", message: str = "", changes=(),
                os_: str = "", arch: str = "", variant: str = "") -> str:
        """``podman image import`` of a rootfs tar from ``body``; the new
        image's ``sha256:`` ID. A bad reference fails before anything is
        imported (podman itself would leave an untagged image behind)."""
        if reference:
            self.check_name(reference)
        args = ["image", "import", "--quiet"]
        args += ["--change=" + c for c in changes]
        if message:
            args.append("--message=" + message)
        for opt, value in (("--os=", os_), ("--arch=", arch), ("--variant=", variant)):
            if value:
                args.append(opt + value)
        with self._uploaded(body) as (env, archive):
            args += ["--", archive]
            if reference:
                args.append(reference)
            out = self.runner.run(args, timeout=NO_TIMEOUT, env=env).text.strip()
        return out.splitlines()[-1] if out else out

    def commit_progress(self, c: Commit) -> Progress:
        """``podman container commit`` reporting progress (stderr lines);
        the new image's ID is its stdout."""
        args = self._commit_args(c)
        args.remove("--quiet")
        return self.runner.progress(args)

    def commit(self, c: Commit) -> str:
        """``podman container commit``; the new image's ID (no prefix)."""
        with self._scratch() as (env, _):
            out = self.runner.run(self._commit_args(c), timeout=NO_TIMEOUT, env=env).text.strip()
        return out.splitlines()[-1] if out else out

    @staticmethod
    def _commit_args(c: Commit) -> list:
        args = ["container", "commit", "--quiet", "--format=" + c.format]
        if c.author:
            args.append("--author=" + c.author)
        if c.message:
            args.append("--message=" + c.message)
        args += ["--change=" + ch for ch in c.changes]
        args.append("--pause=%s" % ("true" if c.pause else "false"))
        if c.squash:
            args.append("--squash")
        if c.config:
            args.append("--config=" + c.config)
        args += ["--", c.container]
        if c.image:
            args.append(c.image)
        return args

    # -- scp ------------------------------------------------------------
    def scp(self, source: str, destination: str, quiet: bool = False) -> str:
        """``podman image scp`` for an ssh transfer; the image named by the
        last word podman prints (what podman's ``ScpReport`` holds)."""
        args = ["image", "scp"]
        if quiet:
            args.append("--quiet")
        with self._scratch() as (env, _):
            out = self.runner.run([*args, "--", source, destination], timeout=NO_TIMEOUT, env=env).text.strip()
        if not out:
            raise Failure("image scp reported no image", 0)
        return out.split()[-1]


def _refused(message: str, kind: str) -> EngineError:
    """An scp refusal: ``...: invalid argument`` wraps define.ErrInvalidArg
    (the cause); any other message is its own cause."""
    return EngineError(message, cause="invalid argument" if message.endswith(": invalid argument") else message,
                       kind=kind)


def scp_refusal(source: str, destination: str) -> EngineError | None:
    """Why podman's API refuses an scp request without transferring
    anything: ``ExecuteTransfer``'s argument checks (``BAD_INPUT``), then
    "local transfers need the CLI" (``UNSUPPORTED``); None for an ssh
    transfer."""
    locations = []
    for arg in [source] + ([destination] if destination else []):
        user, remote, image = "", False, arg
        if "::" in arg:
            image = arg.split("::")[1]
            if "@localhost::" in arg:
                user = arg.split("@", 1)[0]
            else:
                remote = True
                err = normalized_name_error(image) if image else None
                if err:
                    return _refused(err, kind=BAD_INPUT)
        locations.append((user, remote, image))
    if len(locations) > 1:
        if not locations[0][2] and not locations[1][2]:
            return _refused("a source image must be specified: invalid argument", kind=BAD_INPUT)
    elif not locations[0][2]:
        return _refused("no source image specified: invalid argument", kind=BAD_INPUT)
    elif not locations[0][1] and not locations[0][0]:
        return _refused("must specify a destination: invalid argument", kind=BAD_INPUT)
    if any(remote for _, remote, _ in locations):
        return None
    return _refused("cannot use the user transfer function on the remote client: invalid argument",
                    kind=UNSUPPORTED)
