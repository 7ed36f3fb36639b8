"""``examples/ran_comp_market.py`` runs at its quick size and prints its table."""

import os
import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ran_comp_market.py"


def test_example_runs_quick(capsys, monkeypatch):
    monkeypatch.setitem(os.environ, "NETSIM_EXAMPLE_QUICK", "1")
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "| trading post |" in out and "| equal share |" in out
