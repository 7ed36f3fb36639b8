"""satellite: orbits (SGP4), link budgets (DVB-S2 ACM), signal-quality prediction and
proactive handover for aircraft and trains."""
