"""satellite: orbits (SGP4), link budgets (DVB-S2 ACM), signal-quality prediction and
proactive handover for aircraft and trains.

Modules (import what you need; ``import satellite`` itself is light):

* :mod:`~satellite.tle` - TLE parsing/validation, bundled CelesTrak snapshots (2021-08-05);
* :mod:`~satellite.orbits` - SGP4 ``SatrecArray`` propagation, Hermite fill-in, Walker-delta,
  ideal GEO; :mod:`~satellite.frames` - TEME->ECEF (GMST 1982), WGS-84, look angles;
  :mod:`~satellite.visibility` - (time, satellite, platform) pairs above a mask;
* :mod:`~satellite.platforms` - aircraft flight plans flown by a point-mass model, trains and
  vehicles on polylines, the ADS-B CSV loader;
* :mod:`~satellite.beams` - GEO HTS hexagonal beams, LEO earth-fixed cells, Bessel / tapered
  (Caini 1992) / ITU-R S.672 patterns, co-channel C/I;
* :mod:`~satellite.linkbudget` - C/N0, Es/N0, FSPL, gases (P.676), rain (P.838), optional
  ``itur``; scan loss and airframe blockage; :mod:`~satellite.dvbs2` - EN 302 307-1 Table 13 ACM;
  :mod:`~satellite.weather` - moving EXCELL rain cells; :mod:`~satellite.load` - beam load;
* :mod:`~satellite.links` - per-second candidate links of a platform;
  :mod:`~satellite.dataset` - the flight dataset generator and real ADS-B tracks replayed in
  its world;
  :mod:`~satellite.predict` - gradient boosting vs persistence, GroupKFold by flight;
* :mod:`~satellite.handover` - interruptions and policies; :mod:`~satellite.model` - the
  connection as an engine process; :mod:`~satellite.scenario` - the ``satellite_handover``
  study's config schema and ``build()`` (the run is ``scenarios/satellite_handover.py``).

References: Yan & Mafakheri, "Satellite Connectivity Prediction for Fast-Moving Platforms"
(arXiv:2508.00877, 2025); Vallado et al., AIAA 2006-6753; ETSI EN 302 307-1; ITU-R P.525,
P.618, P.676, P.838, P.839, S.672; 3GPP TR 38.811.
"""

__all__ = [
    "beams", "dataset", "dvbs2", "frames", "handover", "linkbudget", "links", "load", "model",
    "orbits", "platforms", "predict", "scenario", "tle", "visibility", "weather",
]
