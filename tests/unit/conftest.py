"""The unit tests run without podman: ``app`` here is a podproxy that never runs it (no store, no
image); a unit test that made it run podman would fail with podman missing, as it should."""
import stat
import textwrap

import pytest

from podproxy.app import create_app
from podproxy.settings import Settings


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("no-store")
    return create_app({"TESTING": True}, settings=Settings(podman_option=["--root=%s/root" % root,
                                                                         "--runroot=%s/run" % root]))


@pytest.fixture
def fake_podman(tmp_path):
    """``make(script)``: the path of an executable ``podman`` running ``script`` in sh, for the
    cases real podman cannot produce (a crash mid-stream, a hang, output of a chosen size)."""
    def make(script):
        path = tmp_path / "podman"
        path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
        return str(path)
    return make
