"""The master's sweep of scratch dirs left by dead workers: only the dirs
podproxy made (marked), of processes that are gone."""
import os
import subprocess
import sys

from podproxy.engine import scratch
from podproxy.engine.scratch import sweep as sweep_scratch


def dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid is free
    return dead.pid


def made_by_a_dead_process(tmp_path) -> str:
    """A dir ``scratch.mkdtemp`` made in a process that has since exited (a killed worker)."""
    code = "from podproxy.engine import scratch; print(scratch.mkdtemp('x', dir=%r))" % str(tmp_path)
    return os.path.basename(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                           text=True).stdout.strip())


def test_only_dead_workers_dirs_go(tmp_path):
    dead = made_by_a_dead_process(tmp_path)
    live = os.path.basename(scratch.mkdtemp("y", dir=str(tmp_path)))
    assert dead in os.listdir(tmp_path)
    for name in ("podproxy-metrics-xyz", "podproxy-server-1.log", "other"):
        (tmp_path / name).mkdir()
    assert sweep_scratch(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == sorted([live, "podproxy-metrics-xyz", "podproxy-server-1.log", "other"])
    assert sweep_scratch(str(tmp_path), pids={os.getpid()}) == 1  # named: removed even if running
    assert live not in os.listdir(tmp_path)


def test_another_programs_dir_is_never_swept(tmp_path):
    """``podproxy-<dead pid>-...`` without podproxy's mark is someone else's
    (seen: another program's ``podproxy-12-imagesMore`` vanished)."""
    foreign = "podproxy-%d-imagesMore" % dead_pid()
    (tmp_path / foreign).mkdir()
    (tmp_path / foreign / "data").write_text("theirs")
    planted = "podproxy-%d-x" % dead_pid()  # a mark not made by us: another owner's
    (tmp_path / planted).mkdir()
    (tmp_path / planted / scratch.MARK).write_text("")
    os.chown(tmp_path / planted / scratch.MARK, 65534, 65534)
    dead = made_by_a_dead_process(tmp_path)
    assert sweep_scratch(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == sorted([foreign, planted])
    assert (tmp_path / foreign / "data").read_text() == "theirs"
    assert dead not in os.listdir(tmp_path)
