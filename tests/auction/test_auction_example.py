"""examples/auction_mohaf.py runs at its quick size and prints both price rules. Slow: the
default suite already runs it (tests/test_examples.py); this adds the output checks."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auction_mohaf.py"


@pytest.mark.slow
def test_example_runs_quick(monkeypatch, capsys):
    monkeypatch.setenv("NETSIM_EXAMPLE_QUICK", "1")
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "MOHAF rule" in out and "clearing price" in out and "/60" in out
