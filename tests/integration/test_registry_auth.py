"""X-Registry-Auth reaches podman only as a private temporary auth file:
never on a command line, never in a log, removed after the request.

podman runs through a wrapper that records each command line and the auth
file it was given (mode and whether it exists) before exec'ing podman."""
from __future__ import annotations

import base64
import glob
import json
import os
import tempfile

import pytest
from helpers import REGISTRY_PASSWORD, REGISTRY_USER, start_podproxy

V = "/v4.3.1/libpod"
BASE = "localhost/podproxy/base:1"

WRAPPER = """#!/bin/sh
printf 'ARGV %s\\n' "$*" >> {log}
for a in "$@"; do
  case "$a" in --authfile=*) f="${{a#--authfile=}}"; printf 'AUTHFILE %s %s\\n' "$f" "$(stat -c %a "$f")" >> {log};; esac
done
exec podman "$@"
"""


@pytest.fixture(scope="module")
def recorded(store, tmp_path_factory):
    base = tmp_path_factory.mktemp("wrapper")
    log = base / "calls.log"
    wrapper = base / "podman"
    wrapper.write_text(WRAPPER.format(log=log))
    wrapper.chmod(0o755)
    server = start_podproxy(store, "--podman=%s" % wrapper, "--log-level=debug")
    yield server, log
    server.stop()


def _header(user, password):
    return base64.urlsafe_b64encode(json.dumps({"username": user, "password": password}).encode()).decode()


def _auth_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "podproxy-*-auth-*")))


def test_credentials_only_in_a_private_file(recorded, auth_registry):
    server, log = recorded
    header = _header(REGISTRY_USER, REGISTRY_PASSWORD)
    before = _auth_dirs()
    dest = "%s/secret/base:1" % auth_registry.address
    push = server.http.request("POST", "%s/images/%s/push?destination=%s&tlsVerify=false" % (V, BASE, dest),
                               headers={"X-Registry-Auth": header})
    assert (push.status, push.body) == (200, b"\n")
    pull = server.http.request("POST", "%s/images/pull?reference=%s&tlsVerify=false" % (V, dest),
                               headers={"X-Registry-Auth": header})
    assert pull.status == 200 and b'"images":' in pull.body.splitlines()[-1]
    wrong = server.http.request("POST", "%s/images/pull?reference=%s&tlsVerify=false&quiet=1" % (V, dest),
                                headers={"X-Registry-Auth": _header(REGISTRY_USER, "not-" + REGISTRY_PASSWORD)})
    assert b"unauthorized" in wrong.body

    calls = log.read_text()
    files = [line.split() for line in calls.splitlines() if line.startswith("AUTHFILE")]
    assert len(files) == 3  # push, pull, wrong pull
    for _, path, mode in files:
        assert mode == "600"
        assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))
    assert _auth_dirs() == before
    for secret in (REGISTRY_PASSWORD, header):
        assert secret not in calls
        assert secret not in server.output()


def test_streamed_pull_cut_short_still_removes_the_file(recorded, auth_registry):
    """The client goes away mid-stream: the auth file goes anyway."""
    server, _ = recorded
    before = _auth_dirs()
    conn = server.http._conn()
    conn.putrequest("POST", "%s/images/pull?reference=%s/secret/base:1&tlsVerify=false" % (V, auth_registry.address))
    conn.putheader("X-Registry-Auth", _header(REGISTRY_USER, REGISTRY_PASSWORD))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 200
    resp.read(10)
    conn.close()
    import time

    deadline = time.monotonic() + 30
    while _auth_dirs() != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _auth_dirs() == before


def _config(registry, user, password):
    """X-Registry-Config: credentials per registry (podman's pkg/auth)."""
    value = {registry: {"username": user, "password": password}}
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_x_registry_config_is_used_and_leaves_nothing(recorded, auth_registry):
    """X-Registry-Config (a map registry -> credentials, what podman-py and
    the remote CLI send) works for push and pull through the same private
    auth file, filed under the registry it names, and removed after."""
    server, log = recorded
    seen = len(log.read_text().splitlines())
    before = _auth_dirs()
    dest = "%s/config/base:1" % auth_registry.address
    good = _config(auth_registry.address, REGISTRY_USER, REGISTRY_PASSWORD)
    push = server.http.request("POST", "%s/images/%s/push?destination=%s&tlsVerify=false" % (V, BASE, dest),
                               headers={"X-Registry-Config": good})
    assert (push.status, push.body) == (200, b"\n"), push.body
    pull = server.http.request("POST", "%s/images/pull?reference=%s&tlsVerify=false" % (V, dest),
                               headers={"X-Registry-Config": good})
    assert pull.status == 200 and b'"images":' in pull.body.splitlines()[-1], pull.body
    # the controls: the credentials in the header are what opened the door
    for header in ({}, {"X-Registry-Config": _config(auth_registry.address, REGISTRY_USER, "not-" + REGISTRY_PASSWORD)},
                   {"X-Registry-Config": _config("other.example:5000", REGISTRY_USER, REGISTRY_PASSWORD)}):
        denied = server.http.request("POST", "%s/images/pull?reference=%s&tlsVerify=false&quiet=1" % (V, dest),
                                     headers=header)
        assert b"unauthorized" in denied.body, (header, denied.body)

    calls = log.read_text().splitlines()[seen:]
    files = [line.split() for line in calls if line.startswith("AUTHFILE")]
    assert len(files) == 4  # push, pull, wrong password, other registry (no header: no file)
    for _, path, mode in files:
        assert mode == "600"
        assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))
    assert _auth_dirs() == before
    for secret in (REGISTRY_PASSWORD, good):
        assert secret not in "\n".join(calls)
        assert secret not in server.output()
