"""A worker's temp dirs, named after the worker so that the master can
remove those of a dead one.

A worker killed in the middle of a request (SIGKILL at the end of the
graceful timeout) cannot remove its own temp dirs, and what is in them can
be large (podman's staging of an image, a build context) or secret
(registry credentials). Every temp dir a worker makes is
``podproxy-<pid>-<kind>...`` (``mkdtemp``), marked as podproxy's by a
``MARK`` file made with it; gunicorn's master removes those of workers
that are gone (``sweep``) when a worker exits, when the server exits, and
when it starts (those of a server that was killed).

Only marked dirs are ever removed: another program's
``podproxy-12-imagesMore`` is not podproxy's to sweep, whatever its name.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile

from .podman.process import stat_fields

PREFIX = "podproxy-"
MARK = ".podproxy-scratch"  # in every dir ``mkdtemp`` makes: the sweep's proof that the dir is podproxy's
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-[^/]+\Z")


def mkdtemp(kind: str = "", dir: str | None = None) -> str:
    """A new temp dir of this process (``kind`` says what for), marked,
    mode 0700. Its random part is lowercase hex: podman reads some paths as
    image names too (an ``oci:`` load tries the path as a reference), and
    ``tempfile``'s ``_`` could make one invalid, changing podman's error
    text from the service's (a name ending in ``_``)."""
    base = dir or tempfile.gettempdir()
    prefix = "%s%d-%s" % (PREFIX, os.getpid(), kind + "-" if kind else "")
    for _ in range(100):
        path = os.path.join(base, prefix + secrets.token_hex(4))
        try:
            os.mkdir(path, 0o700)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError("no free temp dir name under %s" % base)
    path = os.path.abspath(path)
    try:
        with open(os.path.join(path, MARK), "x"):
            pass
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def _ours(path: str) -> bool:
    """Whether ``path`` is a dir podproxy made: marked, and owned by us
    (a mark that someone else planted does not count)."""
    try:
        return os.lstat(os.path.join(path, MARK)).st_uid == os.geteuid() == os.lstat(path).st_uid
    except OSError:
        return False


def _running(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie does not (gunicorn's master does not
    reap the workers it kills at the end of the graceful timeout before
    ``on_exit``)."""
    try:
        return stat_fields(pid)[0] != b"Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        return True  # cannot tell: keep its dirs


def sweep(tmpdir: str | None = None, pids=None) -> int:
    """Remove the temp dirs of workers that are gone; how many were.
    ``pids``: those workers' dirs; by default every dir whose worker is no
    longer running (never a live one, so servers sharing a TMPDIR are safe
    from each other). Only dirs ``mkdtemp`` made (marked) are touched."""
    base = tmpdir or tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    removed = 0
    for name in names:
        m = _NAME.match(name)
        if not m:
            continue
        pid = int(m.group(1))
        if (pids is not None and pid not in pids) or (pids is None and _running(pid)):
            continue
        if not _ours(os.path.join(base, name)):
            continue
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        removed += 1
    return removed
