"""The server's sweeps of scratch dirs, live: what podproxy's workers left
is removed (at start, when a worker dies), another program's dir is not."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from helpers import children, start_podproxy, wait_until


def _dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return dead.pid


def _worker(server) -> int:
    for pid, state in children(server.proc.pid):
        if state != "Z":
            return pid
    raise AssertionError("no worker")


def test_start_and_dead_worker_sweeps_spare_foreign_dirs(store, tmp_path):
    foreign = tmp_path / ("podproxy-%d-imagesMore" % _dead_pid())
    foreign.mkdir()
    (foreign / "data").write_text("another program's")
    code = "from podproxy.engine import scratch; print(scratch.mkdtemp('load'))"  # a killed server's worker left it
    left = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(tmp_path)}).stdout.strip()
    assert os.path.isdir(left)
    server = start_podproxy(store, workers=1, env={"TMPDIR": str(tmp_path)})
    try:
        assert not os.path.exists(left)  # swept at start
        assert (foreign / "data").read_text() == "another program's"
        # a worker killed in the middle of an upload: its scratch dir exists, then the master removes it
        worker = _worker(server)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /v4.0.0/libpod/images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
                         + b"x" * 100000)
            mine = "podproxy-%d-" % worker

            def worker_dirs():
                return [n for n in os.listdir(tmp_path) if n.startswith(mine)]

            wait_until(worker_dirs, 10)
            os.kill(worker, signal.SIGKILL)
            wait_until(lambda: not worker_dirs(), 10)
        wait_until(lambda: server.http.request("GET", "/_ping", timeout=5).status == 200, 30)
        assert (foreign / "data").read_text() == "another program's"
    finally:
        server.stop()
    assert (foreign / "data").read_text() == "another program's"  # and at exit
