"""Run the netsim CLI in-process from a test: ``(exit code, stdout, stderr)``."""

import pytest

from netsim.cli import main

#: a short M/M/1 run for CLI tests
FAST = ["--set", "horizon=400", "--set", "warmup=40", "--reps", "2", "--quiet"]


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
