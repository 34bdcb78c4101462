"""podman started by the launcher process (``launcher``) keeps every
guarantee of one started in the worker: the same answers, kills of the
process group (timeout, a stream let go), podman gone with the worker that
asked for it, start failures that leak nothing. Against a fake podman: the
real one cannot be made to hang or fail on demand."""
import os
import signal
import subprocess
import sys
import time

import pytest

from podproxy.engine.podman import launched as launcher
from podproxy.engine.podman.errors import NotFound, Unavailable
from podproxy.engine.podman.launched import Launched
from podproxy.engine.podman.runner import NO_TIMEOUT, Runner


@pytest.fixture
def channel():
    ch, pid = launcher.start()
    yield ch, pid
    ch.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("the launcher did not exit once its channel was closed")


def gone(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return False


def parent_of(pid: int) -> int:
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_run_answers_as_a_local_start(channel, fake_podman, tmp_path):
    podman = fake_podman('echo "out $*"; echo "Error: $1: image not known" >&2; echo $PPID > %s; exit 1\n'
                         % (tmp_path / "ppid"))
    ch, launcher_pid = channel
    remote = Runner(podman, ["--root=/x"], launcher=ch).run_unchecked(["image", "exists", "--", "a b"])
    local = Runner(podman, ["--root=/x"]).run_unchecked(["image", "exists", "--", "a b"])
    assert remote == local
    assert remote.stdout == b"out --root=/x image exists -- a b\n" and remote.exit_code == 1
    with pytest.raises(NotFound):
        Runner(podman, launcher=ch).run(["image", "exists", "x"])
    assert int((tmp_path / "ppid").read_text()) == launcher_pid  # forked by the launcher, not by us


def test_stream_and_progress_through_the_launcher(channel, fake_podman):
    ch, _ = channel
    podman = fake_podman('head -c 3000000 /dev/zero; echo "Copying blob" >&2; echo "Error: boom" >&2; exit 125\n')
    stream = Runner(podman, launcher=ch).stream(["image", "save"])
    assert isinstance(stream._proc, Launched)
    with pytest.raises(Exception) as err:
        assert sum(len(c) for c in stream) == 3000000
    assert "boom" in str(err.value)
    stream.close()
    progress = Runner(podman, launcher=ch).progress(["pull"])
    assert list(progress) == ["Copying blob"]
    assert progress.exit_code == 125 and progress.error == "boom"
    progress.close()


def test_timeout_kills_the_group_through_the_launcher(channel, fake_podman, tmp_path):
    ch, _ = channel
    podman = fake_podman("sleep 60 & echo $! > %s; wait\n" % (tmp_path / "child"))
    start = time.monotonic()
    with pytest.raises(Unavailable) as err:
        Runner(podman, launcher=ch).run(["image", "exists"], timeout=0.5)
    assert time.monotonic() - start < 3
    assert "timed out" in err.value.message
    assert wait_gone(int((tmp_path / "child").read_text()))  # podman's own child: the whole group


def test_closing_a_stream_kills_podman(channel, fake_podman):
    ch, _ = channel
    podman = fake_podman("while :; do printf x; sleep 0.01; done\n")
    stream = Runner(podman, launcher=ch).stream(["image", "save"])
    assert stream.first()
    pid = stream.pid
    start = time.monotonic()
    stream.close()
    assert time.monotonic() - start < 2
    assert wait_gone(pid)
    assert stream.exit_code == -signal.SIGTERM


def test_podman_dies_with_the_worker_that_asked_for_it(channel, fake_podman, tmp_path):
    """The worker is SIGKILLed; the launcher (still used by others) kills its podman."""
    ch, launcher_pid = channel
    pid_file = tmp_path / "pid"
    podman = fake_podman("echo $$ > %s\nexec sleep 60\n" % pid_file)
    code = ("import socket, sys, time\nfrom podproxy.engine.podman.runner import Runner\n"
            "ch = socket.socket(fileno=int(sys.argv[1]))\n"
            "s = Runner(%r, launcher=ch).stream(['image', 'save']); time.sleep(60)\n" % podman)
    worker = subprocess.Popen([sys.executable, "-c", code, str(ch.fileno())], pass_fds=[ch.fileno()])
    try:
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert not gone(child) and parent_of(child) == launcher_pid
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert wait_gone(child), "podman outlived the worker that started it"
        assert not gone(launcher_pid)  # the launcher serves the others on
        assert Runner("/bin/echo", launcher=ch).run(["still", "served"]).text == "still served\n"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_podman_that_cannot_exec_leaks_nothing(channel, tmp_path):
    ch, launcher_pid = channel
    bad = tmp_path / "podman"
    bad.write_bytes(b"\x7fELF not really\n")
    bad.chmod(0o755)
    runner = Runner(str(bad), launcher=ch)
    before = len(os.listdir("/proc/self/fd"))
    for how in ("run", "stream", "progress"):
        with pytest.raises(Unavailable) as err:
            if how == "run":
                runner.run(["version"])
            elif how == "stream":
                runner.stream(["version"])
            else:
                runner.progress(["version"])
        assert "Exec format error" in err.value.message and err.value.exit_code == 127
    assert len(os.listdir("/proc/self/fd")) == before
    children = [p for p in os.listdir("/proc") if p.isdigit() and _ppid_or_none(int(p)) == launcher_pid]
    assert children == []  # each failed start's child was reaped in the launcher


def _ppid_or_none(pid: int):
    try:
        return parent_of(pid)
    except (OSError, IndexError, ValueError):
        return None


def test_a_dead_launcher_is_a_clear_failure(fake_podman):
    ch, pid = launcher.start()
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        with pytest.raises(Unavailable) as err:
            Runner(fake_podman("echo ok\n"), launcher=ch).run(["version"], timeout=NO_TIMEOUT)
        assert "launcher went away" in err.value.message
    finally:
        ch.close()
