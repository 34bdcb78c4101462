"""The unit tests run without podman: ``app`` here is a podproxy that never runs it (no store, no
image); a unit test that made it run podman would fail with podman missing, as it should."""
import pytest

from podproxy.app import create_app
from podproxy.settings import Settings


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("no-store")
    return create_app({"TESTING": True}, settings=Settings(podman_option=["--root=%s/root" % root,
                                                                         "--runroot=%s/run" % root]))
