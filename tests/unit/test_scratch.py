"""The master's sweep of scratch dirs left by dead workers."""
import os
import subprocess

from podproxy.scratch import sweep as sweep_scratch


def test_only_dead_workers_dirs_go(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid is free
    for name in ("podproxy-%d-abc" % dead.pid, "podproxy-%d-def" % os.getpid(), "podproxy-metrics-xyz",
                 "podproxy-server-1.log", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tmp").mkdir()
    assert sweep_scratch(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == sorted(["podproxy-%d-def" % os.getpid(), "podproxy-metrics-xyz",
                                                   "podproxy-server-1.log", "other"])
    assert sweep_scratch(str(tmp_path), pids={os.getpid()}) == 1  # named: removed even if running
    assert "podproxy-%d-def" % os.getpid() not in os.listdir(tmp_path)
