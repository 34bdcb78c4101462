"""The unit tests need no podman: a run of them on a PATH without it passes (the rest of the
suite still refuses to start without podman, in tests/conftest.py)."""
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def run_pytest(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k != "PODPROXY_TEST_PODMAN"}
    env["PATH"] = str(tmp_path)  # an empty directory: no podman, nothing else either
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_unit_tests_run_without_podman(tmp_path):
    proc = run_pytest(tmp_path, "tests/unit/test_openapi.py", "tests/unit/test_query.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout


def test_other_tests_still_refuse_to_start_without_podman(tmp_path):
    proc = run_pytest(tmp_path, "tests/integration/test_serve.py")
    assert proc.returncode != 0
    assert "these tests run against the real podman" in proc.stderr
