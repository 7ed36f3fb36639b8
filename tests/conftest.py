"""Shared test settings: quiet progress bars, offscreen matplotlib, and derandomised
hypothesis (the same examples on every run, so CI is reproducible); set
``HYPOTHESIS_PROFILE=explore`` to draw fresh examples."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("NETSIM_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
