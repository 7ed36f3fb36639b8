"""Shared test settings: quiet progress bars, offscreen matplotlib."""

import os

os.environ.setdefault("NETSIM_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
