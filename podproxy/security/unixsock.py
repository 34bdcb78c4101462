"""Who may connect to podproxy's unix sockets (``--bind unix:PATH``).

The API is root-equivalent, so a socket is created ``0600`` (its owner
only) unless told otherwise: ``--socket-group GROUP`` makes it ``0660`` with
that group (as podman's own ``podman.sock``: root and one group), and
``--socket-mode MODE`` chooses the mode outright.

There is no moment at which the socket is more open than asked: gunicorn
binds it under the ``umask`` set in ``gunicorn_conf.py`` (``BIND_UMASK``,
so it is born ``0600`` owned by the server's user), and only then does
``apply`` (gunicorn's ``when_ready``) give it its group and its mode. A
socket handed over by systemd (``podproxy.socket``, ``LISTEN_FDS``) is
left as systemd made it (``SocketMode=``, ``SocketGroup=``).
"""
from __future__ import annotations

import grp
import os
import stat

BIND_UMASK = 0o177  # a socket is bound 0600: owner only, until ``apply``


def parse_mode(text: str) -> int:
    """``0660``, ``660``, ``0o660`` -> 0o660; ValueError for anything else."""
    value = str(text).strip().lower()
    if value.startswith("0o"):
        value = value[2:]
    if not value or any(c not in "01234567" for c in value) or int(value, 8) > 0o777:
        raise ValueError("not a socket mode: %r (use octal, e.g. 0600 or 0660)" % text)
    return int(value, 8)


def resolve_group(name: str) -> int:
    """A group name or number -> gid; ValueError when there is no such group."""
    if str(name).isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError("no such group: %r (--socket-group)" % name) from None


def mode_for(settings) -> int:
    """The mode the settings ask for: ``--socket-mode``, else 0660 with a
    ``--socket-group``, else 0600."""
    if settings.socket_mode is not None:
        return settings.socket_mode
    return 0o660 if settings.socket_group else 0o600


def paths(settings) -> list[str]:
    """The filesystem paths of the unix sockets in ``--bind`` (abstract
    sockets, ``unix:\\0name``, have no file and no mode)."""
    return [b[len("unix:"):] for b in settings.bind if b.startswith("unix:") and not b.startswith("unix:\0")]


def apply(settings, systemd_activated: bool = False) -> None:
    """Give the bound sockets their group and mode (gunicorn's ``when_ready``)."""
    if systemd_activated:
        return
    gid = resolve_group(settings.socket_group) if settings.socket_group else -1
    mode = mode_for(settings)
    for path in paths(settings):
        _set(path, gid, mode)


def _set(path: str, gid: int, mode: int) -> None:
    """Group and mode of the socket at ``path``, never of what a symlink
    put there since the bind points to: the file is opened without
    following links (``O_PATH|O_NOFOLLOW``), must be a socket of this
    user's, and is changed through that descriptor (``/proc/self/fd``, as
    glibc's ``fchmodat`` does), so swapping the path meanwhile (in a
    directory others may write) cannot redirect a root chmod elsewhere."""
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    try:
        st = os.fstat(fd)
        if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
            raise RuntimeError("%s is no longer the socket this server bound; not changing its mode" % path)
        link = "/proc/self/fd/%d" % fd
        os.chown(link, -1, gid)
        os.chmod(link, mode)
    finally:
        os.close(fd)


def problem(settings) -> str | None:
    """Why ``serve`` must not start with these socket settings, or None."""
    if settings.socket_group:
        try:
            gid = resolve_group(settings.socket_group)
        except ValueError as e:
            return str(e)
        if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
            return "--socket-group %s: this user is not in that group, so it cannot give its socket to it" % (
                settings.socket_group)
    return None
