"""Fixtures for the security tests: a token file and apps with tokens or
policies on a fresh store."""
from __future__ import annotations

import pytest

from podproxy.app import create_app
from podproxy.settings import Settings

ADMIN = "admin-token-0123456789abcdef"
READER = "reader-token-0123456789abcdef"
NOEXPORT = "noexport-token-0123456789abc"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# name token [policy]\nadmin %s\nreader %s read-only\nops %s no-export\n" % (ADMIN, READER, NOEXPORT))
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def make_secured_app(fresh_store):
    """``make_secured_app(**settings)``: an app on a fresh store."""

    def make(**settings):
        return create_app({"TESTING": True}, settings=Settings(podman_option=list(fresh_store.options), **settings))

    return make
