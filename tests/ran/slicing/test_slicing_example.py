"""``examples/ran_slicing.py`` runs at its small size."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_example_runs_quick():
    env = {**os.environ, "NETSIM_EXAMPLE_QUICK": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "ran_slicing.py")], env=env,
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "KPM reports" in out.stdout and "proportional" in out.stdout
