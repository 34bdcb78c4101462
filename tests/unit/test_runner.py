"""The runner against a fake podman, for what the real one cannot be made
to do on demand: hang, vanish, write to stdout and fail."""
import os
import time

import pytest

from podproxy.engine.podman.errors import (
    ClientGone,
    Failure,
    InUse,
    NotFound,
    Unavailable,
    error_for,
    error_message,
)
from podproxy.engine.podman.runner import NO_TIMEOUT, Runner
from podproxy.handlers.errors import answer


def test_error_message_parsing():
    stderr = 'time="x" level=warning msg="y"\nError: 2 errors occurred:\n\t* a\n\t* b\n'
    assert error_message(stderr) == "2 errors occurred:\n\t* a\n\t* b"
    assert error_message("Error: nope: image not known\n") == "nope: image not known"


def test_exit_codes_map_to_types():
    assert isinstance(error_for(1, "Error: x\n"), NotFound)
    assert isinstance(error_for(2, "Error: x\n"), InUse)
    assert isinstance(error_for(125, "Error: nope: image not known\n"), NotFound)
    assert isinstance(error_for(125, "Error: bad\n"), Failure)
    assert answer(error_for(125, "Error: bad\n")).status == 500


def test_argv_is_a_list_with_global_options(fake_podman):
    podman = fake_podman('for a in "$@"; do echo "[$a]"; done\n')
    out = Runner(podman, ["--root=/x y"]).run(["image", "exists", "--", "-a; rm -rf /"]).text
    assert out.splitlines() == ["[--root=/x y]", "[image]", "[exists]", "[--]", "[-a; rm -rf /]"]


def test_timeout_kills_and_raises(fake_podman):
    podman = fake_podman("sleep 30\n")
    with pytest.raises(Unavailable) as e:
        Runner(podman, timeout=0.5).run(["image", "exists", "x"])
    assert "timed out" in e.value.message and answer(e.value).status == 500


def test_no_timeout_is_an_explicit_value(fake_podman):
    podman = fake_podman("sleep 1; echo done\n")
    assert Runner(podman, timeout=0.2).run(["image", "exists", "x"], timeout=NO_TIMEOUT).text == "done\n"
    with pytest.raises(Unavailable):
        Runner(podman, timeout=0.2).run(["image", "exists", "x"])


def test_missing_podman():
    with pytest.raises(Unavailable) as e:
        Runner("/nonexistent/podman").run(["version"])
    assert answer(e.value).status == 500


def test_stream_failure_after_output_raises_at_end(fake_podman):
    podman = fake_podman("printf data; echo 'Error: broke' >&2; exit 125\n")
    with Runner(podman).stream(["image", "save"]) as stream:
        assert stream.first() == b"data"
        with pytest.raises(Failure):
            list(stream)


def test_stream_close_kills_the_process_group(fake_podman, tmp_path):
    pidfile = tmp_path / "pid"
    podman = fake_podman('sh -c "echo \\$\\$ > %s; exec sleep 60" &\nwhile :; do printf x; sleep 0.01; done\n' % pidfile)
    stream = Runner(podman).stream(["image", "save"])
    assert stream.first()
    while not pidfile.exists() or not pidfile.read_text().strip():
        pass
    child = int(pidfile.read_text())
    stream.close()
    assert not _alive(child)


def _alive(pid):
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_observers_hear_every_podman_end(fake_podman):
    podman = fake_podman('[ "$2" = fail ] && { echo "Error: no" >&2; exit 125; }\nprintf out\n')
    runner = Runner(podman)
    heard = []
    runner.observers.append(lambda name, code, seconds: heard.append((name, code, seconds >= 0)))
    runner.run(["image", "exists", "--", "-x"])
    with pytest.raises(Failure):
        runner.run(["image", "fail"])
    with runner.stream(["image", "save", "--", "x"]) as stream:
        assert b"".join(stream) == b"out"
    assert heard == [("image exists", 0, True), ("image fail", 125, True), ("image save", 0, True)]


def test_observers_hear_killed_streams_and_missing_podman(fake_podman):
    runner = Runner(fake_podman("printf x; sleep 30\n"))
    heard = []
    runner.observers.append(lambda name, code, seconds: heard.append((name, code)))
    stream = runner.stream(["load"])
    assert stream.first() == b"x"
    stream.close()
    missing = Runner("/nonexistent/podman")
    missing.observers = runner.observers
    with pytest.raises(Unavailable):
        missing.run(["version"])
    assert heard[0][0] == "load" and heard[0][1] < 0  # killed by a signal
    assert len(heard) == 1  # could not even start: no podman process ended


def test_an_observer_failure_is_not_the_request_failure(fake_podman):
    runner = Runner(fake_podman("printf ok\n"))
    runner.observers.append(lambda *a: 1 / 0)
    assert runner.run(["version"]).text == "ok"


@pytest.mark.parametrize("start", ["Runner(%r).stream(['image', 'save']); time.sleep(60)",
                                   "Runner(%r).run(['image', 'exists'])"])
def test_podman_dies_with_the_process_that_started_it(fake_podman, tmp_path, start):
    """A worker killed by gunicorn (graceful timeout, second SIGTERM) must
    not leave podman running: the child gets SIGTERM when its parent dies
    (streams: sh; small commands: subprocess through setpriv)."""
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "pid"
    podman = fake_podman("echo $$ > %s\nexec sleep 60\n" % pid_file)
    code = ("import sys, time; from podproxy.engine.podman.runner import Runner\n"
            "s = " + start % podman + "\n")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
        os.kill(child, 0)  # running
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            # a zombie of init's is dead too
            with open("/proc/%d/stat" % child) as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("podman outlived the process that started it")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_kill_group_does_not_wait_out_its_grace_for_a_zombie(fake_podman):
    """podman dies at once on SIGTERM; its zombie (reaped later by sh) must
    not make the kill wait the whole grace period."""
    import time

    from podproxy.engine.podman.process import kill_group

    podman = fake_podman("while :; do printf x; sleep 0.01; done\n")
    stream = Runner(podman).stream(["image", "save"])
    assert stream.first()
    start = time.monotonic()
    kill_group(stream.pid, grace=5.0)
    assert time.monotonic() - start < 0.5  # was 1-2 s: until sh reaped the zombie
    stream.close()


def test_a_silent_stream_is_cancelled_by_the_callers_callable(fake_podman):
    """The engine is told "the client hung up" by a callable (it never sees
    the client's socket): asked while podman is silent, podman is killed."""
    runner = Runner(fake_podman("sleep 30; printf late\n"))
    heard = []
    runner.observers.append(lambda name, code, seconds: heard.append((name, code)))
    asked = []
    stream = runner.stream(["image", "save"])
    started = time.monotonic()
    with pytest.raises(ClientGone):
        stream.first(lambda: asked.append(1) or len(asked) >= 3)
    assert time.monotonic() - started < 5 and len(asked) == 3
    assert heard and heard[0][1] < 0  # podman was killed
    quick = runner.stream(["image", "save"])
    with pytest.raises(ClientGone):
        quick.first(lambda: True)
    fast = Runner(fake_podman("printf now\n")).stream(["image", "save"])
    assert fast.first(lambda: False) == b"now"
    fast.close()
