"""podproxy.security.unixsock: the modes asked for, and no chmod through a symlink."""
import os
import socket

import pytest

from podproxy.security import unixsock
from podproxy.settings import Settings


@pytest.mark.parametrize("text, mode", [("0600", 0o600), ("660", 0o660), ("0o640", 0o640), ("0", 0)])
def test_parse_mode(text, mode):
    assert unixsock.parse_mode(text) == mode


@pytest.mark.parametrize("text", ["", "0o", "0999", "1777", "rw-------", "0x1ff", "-600"])
def test_bad_modes(text):
    with pytest.raises(ValueError, match="not a socket mode"):
        unixsock.parse_mode(text)


def test_mode_for():
    assert unixsock.mode_for(Settings()) == 0o600
    assert unixsock.mode_for(Settings(socket_group="www-data")) == 0o660
    assert unixsock.mode_for(Settings(socket_group="www-data", socket_mode=0o640)) == 0o640


def test_mode_is_set_on_the_socket(tmp_path):
    path = str(tmp_path / "s.sock")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(path)
        unixsock.apply(Settings(bind=["unix:" + path], socket_mode=0o640))
        assert os.stat(path).st_mode & 0o7777 == 0o640
    finally:
        sock.close()


def test_a_symlink_in_its_place_is_not_followed(tmp_path):
    """A path swapped for a link to another file (say /etc/shadow) between
    the bind and the chmod: refused, the target keeps its mode."""
    target = tmp_path / "precious"
    target.write_text("x")
    target.chmod(0o600)
    link = tmp_path / "s.sock"
    link.symlink_to(target)
    with pytest.raises(RuntimeError, match="no longer the socket"):
        unixsock.apply(Settings(bind=["unix:%s" % link], socket_mode=0o666))
    assert target.stat().st_mode & 0o7777 == 0o600


def test_systemd_sockets_are_left_alone(tmp_path):
    path = str(tmp_path / "s.sock")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(path)
        before = os.stat(path).st_mode
        unixsock.apply(Settings(bind=["unix:" + path], socket_mode=0o600), systemd_activated=True)
        assert os.stat(path).st_mode == before
    finally:
        sock.close()
