"""``--podman-timeout`` end to end: a podman command that outlives it is
killed with its whole process group, the client gets podman's error shape
(500, "timed out"), and the server goes on answering.

The real podman answers too fast to time out, so podman is a wrapper that
hangs for one subcommand (``history``, with a child ``sleep`` of its own,
as podman has helpers) and execs the real podman for everything else."""
from __future__ import annotations

import os
import signal
import time

import pytest
from helpers import start_podproxy, wait_until

V = "/v4.3.1/libpod"
BASE = "localhost/podproxy/base:1"
TIMEOUT = 2.0

WRAPPER = """#!/bin/sh
for a in "$@"; do
  if [ "$a" = history ]; then
    sleep 600 &
    echo "$$ $!" >> {pids}
    wait
    exit 0
  fi
done
exec podman "$@"
"""


def alive(pid: int) -> bool:
    """Running (a zombie or a reaped pid is not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def slow_history(store, tmp_path_factory):
    base = tmp_path_factory.mktemp("slow-podman")
    pids = base / "pids"
    wrapper = base / "podman"
    wrapper.write_text(WRAPPER.format(pids=pids))
    wrapper.chmod(0o755)
    server = start_podproxy(store, "--podman=%s" % wrapper, "--podman-timeout=%g" % TIMEOUT)
    yield server, pids
    server.stop()
    for pid in started(pids):  # a failed test leaves nothing behind either
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def started(pids) -> list:
    """The wrapper's pid and its child's, for every hanging command."""
    return [int(p) for line in pids.read_text().splitlines() for p in line.split()] if pids.exists() else []


def test_a_command_that_outlives_the_timeout_is_killed(slow_history):
    server, pids = slow_history
    start = time.monotonic()
    reply = server.http.request("GET", "%s/images/%s/history" % (V, BASE), timeout=60)
    took = time.monotonic() - start
    assert reply.status == 500, reply.body
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"cause", "message", "response"} and body["response"] == 500, body
    assert "timed out after 2s" in body["message"], body
    assert TIMEOUT <= took < TIMEOUT + 8, took  # killed at the deadline, not when sleep ends

    hung = started(pids)
    assert len(hung) == 2  # the wrapper (podman) and its child
    wait_until(lambda: not any(alive(p) for p in hung), timeout=10)  # the whole group is gone

    # the server goes on: other commands (the real podman) still answer
    assert server.http.request("GET", "%s/images/%s/exists" % (V, BASE), timeout=30).status == 204
    assert server.http.request("GET", "/_ping", timeout=30).status == 200


def test_a_command_within_the_timeout_is_not_killed(slow_history):
    """The control: the same server answers a fast command normally."""
    server, _ = slow_history
    reply = server.http.request("GET", "%s/images/%s/json" % (V, BASE), timeout=60)
    assert reply.status == 200 and reply.json()["Id"]
