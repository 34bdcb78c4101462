"""A podman that cannot be started leaves nothing behind: no fd, no zombie,
and oversized arguments are refused before anything starts."""
import os

import pytest

from podproxy.engine.podman import argv as validate
from podproxy.engine.podman import process as runner_module
from podproxy.engine.podman.errors import BadInput, Unavailable
from podproxy.engine.podman.runner import Runner
from podproxy.handlers.errors import answer

HUGE = "a" * 200_000  # over Linux's 128 KiB per argument: exec fails with E2BIG


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def zombies() -> int:
    """Exited children of this process that nobody reaped."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = runner_module.stat_fields(pid)
        except (OSError, IndexError):
            continue
        if fields[0] == b"Z" and int(fields[1]) == os.getpid():
            count += 1
    return count


@pytest.fixture
def podman(tmp_path) -> str:
    """An executable standing in for podman (these tests never get as far as running it)."""
    path = tmp_path / "podman"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def starts(runner: Runner, how: str, args):
    if how == "run":
        return runner.run(args)
    if how == "stream":
        return runner.stream(args).first()
    progress = runner.progress(args)
    try:
        return list(progress)
    finally:
        progress.close()


@pytest.mark.parametrize("how", ["run", "stream", "progress"])
def test_oversized_argument_is_a_400_and_nothing_starts(how):
    runner = Runner("podman")
    before = (open_fds(), zombies())
    for _ in range(1000):
        with pytest.raises(BadInput) as err:
            starts(runner, how, ["image", "exists", HUGE])
        assert answer(err.value).status == 400 and err.value.cause == "invalid argument"
    assert runner.calls == 0
    assert (open_fds(), zombies()) == before
    assert "131071" in err.value.message


def test_all_arguments_together_are_bounded():
    with pytest.raises(BadInput) as err:
        Runner("podman").run(["image", "exists"] + ["a" * 100_000] * 11)
    assert answer(err.value).status == 400 and "1048576" in err.value.message


@pytest.mark.parametrize("how", ["run", "stream", "progress"])
def test_exec_failing_with_e2big_leaks_nothing(monkeypatch, podman, how):
    """The kernel's own refusal (the bound lifted to let it through): the
    failed start is Unavailable, its pipes are closed and its child reaped."""
    monkeypatch.setattr(validate, "MAX_ARGUMENT", 10**9)
    runner = Runner(podman)
    before = (open_fds(), zombies())
    for _ in range(50):
        with pytest.raises(Unavailable) as err:
            starts(runner, how, ["image", "exists", HUGE])
    assert "Argument list too long" in err.value.message
    assert (open_fds(), zombies()) == before


@pytest.mark.parametrize("how", ["run", "stream", "progress"])
def test_a_podman_that_cannot_exec_leaks_nothing(monkeypatch, tmp_path, how):
    """An executable file the kernel cannot run (ENOEXEC), exec'd directly
    (no setpriv in front, as on a host without util-linux)."""
    bad = tmp_path / "podman"
    bad.write_bytes(b"\x7fELF not really\n")
    bad.chmod(0o755)
    monkeypatch.setattr(runner_module, "_SETPRIV", [])
    runner = Runner(str(bad))
    before = (open_fds(), zombies())
    for _ in range(50):
        with pytest.raises(Unavailable) as err:
            starts(runner, how, ["version"])
    assert "Exec format error" in err.value.message
    assert (open_fds(), zombies()) == before


def test_a_failing_fork_leaks_nothing(monkeypatch, podman):
    """fork itself fails (EAGAIN: out of processes) after sh made its pipes."""
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    runner = Runner(podman)
    runner._cmd()  # resolved before fork is taken away
    monkeypatch.setattr(os, "fork", no_fork)
    before = open_fds()
    for _ in range(50):
        with pytest.raises(Unavailable) as err:
            runner.run(["version"])
    assert "Resource temporarily unavailable" in err.value.message
    assert open_fds() == before
