"""bench/abuse.py in its small configuration: every attack runs and is
reported; the slow and silent clients leave /_ping fast and the server's
resources flat (points 5-7 of issue 11; the oversized-argument and form
attacks are reported, their bounds are points 8 and 9)."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_abuse_script_small():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "abuse.py"), "--small"],
                          capture_output=True, text=True, timeout=300, check=False)
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert sorted(rows) == sorted(["slow-header", "silent", "slow-body", "oversized-arg", "form-body"]), proc.stdout
    for attack in ("slow-header", "silent", "slow-body"):
        assert "ping<1s:yes flat:yes" in rows[attack], rows[attack]
    assert proc.returncode in (0, 1), proc.stderr
