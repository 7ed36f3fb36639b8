"""Scenario presets (``<name>.yaml``) and study scripts that reproduce each paper's headline
results. Run one with ``netsim run NAME``; list them with ``netsim list``."""
