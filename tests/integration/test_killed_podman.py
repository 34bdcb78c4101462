"""A podman killed by a signal mid-load is reported as killed, by which
signal, not with its last progress line ("Copying blob ...")."""
from __future__ import annotations

import json
import os
import signal
import threading

from helpers import Store, process_table, random_rootfs, start_podproxy, wait_until

from podproxy.engine.podman.errors import Failure, error_for
from podproxy.handlers.errors import answer


def test_error_for_a_signal_death_names_the_signal():
    err = error_for(-9, "Getting image source signatures\nCopying blob 5f70bf18a086 done\nCopying blob 3c1b\n")
    assert isinstance(err, Failure) and answer(err).status == 500
    assert err.message == err.cause == "podman was killed by SIGKILL (signal 9)"
    assert error_for(-15, "").message == "podman was killed by SIGTERM (signal 15)"


def _podman_pids(marker: str, words: str) -> list[int]:
    return [pid for pid, _, _, cmd in process_table()
            if marker in cmd and words in cmd and cmd.split(" ", 1)[0].endswith("podman")]


def test_podman_killed_mid_load(tmp_path, fresh_store):
    """The real podman loading a 64 MB archive is SIGKILLed half way."""
    maker = Store.create()
    try:
        maker.podman("import", "-q", random_rootfs(str(tmp_path / "rootfs.tar"), 64 << 20), "localhost/podproxy/kill:1")
        archive = str(tmp_path / "image.tar")
        maker.podman("save", "-o", archive, "localhost/podproxy/kill:1")
    finally:
        maker.destroy()
    server = start_podproxy(fresh_store)
    try:
        with open(archive, "rb") as f:
            data = f.read()
        replies = []
        thread = threading.Thread(target=lambda: replies.append(
            server.http.request("POST", "/v4.0.0/libpod/images/load", body=data, timeout=120)))
        thread.start()
        wait_until(lambda: _podman_pids(fresh_store.path, "image load"), 60, step=0.01)
        for pid in _podman_pids(fresh_store.path, "image load"):
            os.kill(pid, signal.SIGKILL)
        thread.join(120)
        (reply,) = replies
    finally:
        server.stop()
    assert reply.status == 500
    body = json.loads(reply.body)
    assert body == {"cause": "podman was killed by SIGKILL (signal 9)", "response": 500,
                    "message": "unable to load image: podman was killed by SIGKILL (signal 9)"}
    assert "Copying" not in reply.body.decode()
