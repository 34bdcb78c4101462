"""A build context whose members try to leave it (``..``, absolute paths,
links pointing out, then a member written through such a link) is refused,
and nothing is written outside the context: the server's temp dir is
placed deep inside a dir of the test's own, and every file in that dir is
checked afterwards."""
from __future__ import annotations

import io
import os
import tarfile
import tempfile

import pytest

from podproxy.app import create_app
from podproxy.settings import Settings

pytestmark = pytest.mark.podman

V = "/v4.3.1/libpod"
CONTAINERFILE = b"FROM localhost/podproxy/base:1\nLABEL escaped=no\n"


def member(name, data=b"", type=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = type, link, len(data), 0o644
    return info, io.BytesIO(data) if data else None


def context(*members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(*member("Containerfile", CONTAINERFILE))
        for info, data in members:
            tar.addfile(info, data)
        tar.addfile(*member("after.txt", b"after"))  # a member after the bad one
    return buf.getvalue()


def files_under(path) -> set:
    return {os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs}


@pytest.fixture
def jail(tmp_path, monkeypatch):
    """``tmp_path/a/b/c/tmp`` as the server's temp dir: three levels of
    ``..`` from the context still land in ``tmp_path``."""
    deep = tmp_path / "a" / "b" / "c" / "tmp"
    deep.mkdir(parents=True)
    (tmp_path / "victim").write_bytes(b"victim")
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    return tmp_path, deep


REFUSED = {
    "dotdot": lambda base: [member("../../escaped", b"x")],
    "dotdot-deep": lambda base: [member("../../../../../escaped", b"x")],
    "symlink-out": lambda base: [member("link", type=tarfile.SYMTYPE, link=str(base)),
                                 member("link/escaped", b"x")],
    "symlink-dotdot": lambda base: [member("up", type=tarfile.SYMTYPE, link="../../../.."),
                                    member("up/escaped", b"x")],
    "hardlink-out": lambda base: [member("hl", type=tarfile.LNKTYPE, link=str(base / "victim"))],
}


def check_nothing_outside(base, deep, before):
    assert files_under(base) == before  # nothing written anywhere in the test's dir, temp dir included
    assert [n for n in os.listdir(deep) if not n.startswith("podproxy-metrics")] == []  # scratch dirs gone
    assert (base / "victim").read_bytes() == b"victim"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_members_leaving_the_context_are_refused_and_write_nothing(store, jail, case):
    base, deep = jail
    app = create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options)))
    before, images = files_under(base), store.image_ids()
    reply = app.test_client().post(V + "/build?t=localhost/escape/%s:1" % case, data=context(*REFUSED[case](base)))
    body = reply.get_data()  # the whole answer
    assert reply.status_code == 500, body
    assert set(reply.get_json()) == {"cause", "message", "response"}, body
    check_nothing_outside(base, deep, before)
    assert store.image_ids() == images  # nothing built


def test_an_absolute_member_lands_inside_the_context(store, jail):
    """``/abs/path`` is extracted as ``abs/path`` inside the context (as
    GNU tar and podman's archive package do): the build goes on, and
    nothing is written at the absolute path."""
    base, deep = jail
    app = create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options)))
    before = files_under(base)
    ref = "localhost/escape/absolute:1"
    reply = app.test_client().post(V + "/build?t=" + ref, data=context(member(str(base / "escaped"), b"x")))
    body = reply.get_data()
    try:
        assert reply.status_code == 200 and b"Successfully tagged " + ref.encode() in body, body
        check_nothing_outside(base, deep, before)
    finally:
        store.podman("rmi", ref, check=False)
