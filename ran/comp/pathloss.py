"""3GPP TR 38.901 UMi street-canyon path loss and log-normal shadowing: pure, vectorised.

Source: 3GPP TR 38.901 V17.0.0, Table 7.4.1-1 (path loss, UMi - Street Canyon) and Table
7.5-6 (shadow-fading decorrelation distances). Distances are in metres, the carrier frequency
in Hz (the table's ``f_c`` is in GHz), heights in metres and losses in dB.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from netsim.radio import fspl_db

__all__ = [
    "MODELS",
    "SIGMA_SF_LOS_DB",
    "SIGMA_SF_NLOS_DB",
    "SIGMA_SF_NLOS_OPTIONAL_DB",
    "DECORRELATION_LOS_M",
    "DECORRELATION_NLOS_M",
    "breakpoint_distance_m",
    "umi_los_db",
    "umi_nlos_db",
    "umi_nlos_optional_db",
    "pathloss_db",
    "shadowing_sigma_db",
    "gudmundson_step",
]

#: shadow-fading standard deviations of Table 7.4.1-1 (UMi street canyon), dB
SIGMA_SF_LOS_DB = 4.0
SIGMA_SF_NLOS_DB = 7.82
SIGMA_SF_NLOS_OPTIONAL_DB = 8.2
#: shadow-fading decorrelation distances of Table 7.5-6 (UMi street canyon), m
DECORRELATION_LOS_M = 10.0
DECORRELATION_NLOS_M = 13.0
#: effective environment height h_E for UMi (note 1 of Table 7.4.1-1), m
H_E_M = 1.0
#: propagation velocity the table fixes for d'_BP (note 1: c = 3.0e8 m/s), m/s
C_TABLE_M_S = 3.0e8
#: minimum 2D distance of the table's validity range, m (closer distances are clipped)
D2D_MIN_M = 10.0

#: path-loss models accepted by :func:`pathloss_db`
MODELS = ("umi_street_canyon", "umi_street_canyon_optional", "free_space")


def _geometry(d2d_m, h_bs_m: float, h_ut_m: float):
    d2d = np.maximum(np.asarray(d2d_m, dtype=float), D2D_MIN_M)
    d3d = np.sqrt(d2d**2 + (h_bs_m - h_ut_m) ** 2)
    return d2d, d3d


def breakpoint_distance_m(fc_hz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5) -> float:
    """Breakpoint distance ``d'_BP = 4·h'_BS·h'_UT·f_c/c`` with ``h' = h - h_E``, h_E = 1 m
    and c = 3.0e8 m/s (TR 38.901 Table 7.4.1-1, note 1), in metres."""
    return 4.0 * (h_bs_m - H_E_M) * (h_ut_m - H_E_M) * fc_hz / C_TABLE_M_S


@lru_cache(maxsize=64)
def _umi_constants(fc_hz: float, h_bs_m: float, h_ut_m: float):
    """The per-scenario scalars of :func:`_umi`: ``log10(f_c/GHz)``, ``d'_BP`` and
    ``log10(d'_BP² + (h_BS - h_UT)²)`` (computed once per frequency and heights)."""
    dbp = breakpoint_distance_m(fc_hz, h_bs_m, h_ut_m)
    return np.log10(fc_hz / 1e9), dbp, np.log10(dbp**2 + (h_bs_m - h_ut_m) ** 2)


def _umi(d2d_m, fc_hz: float, h_bs_m: float, h_ut_m: float):
    """LOS loss, the NLOS formula ``PL'_NLOS`` and ``log10(d3D)`` from one logarithm."""
    d2d, d3d = _geometry(d2d_m, h_bs_m, h_ut_m)
    lf, dbp, lg_bp = _umi_constants(float(fc_hz), float(h_bs_m), float(h_ut_m))
    lg = np.log10(d3d)
    pl1 = 32.4 + 21.0 * lg + 20.0 * lf
    pl2 = 32.4 + 40.0 * lg + 20.0 * lf - 9.5 * lg_bp
    nlos = 35.3 * lg + 22.4 + 21.3 * lf - 0.3 * (h_ut_m - 1.5)
    return np.where(d2d <= dbp, pl1, pl2), nlos, lg


def umi_los_db(d2d_m, fc_hz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5):
    """UMi street-canyon LOS path loss (TR 38.901 Table 7.4.1-1), dB.

    ``PL1 = 32.4 + 21·log10(d3D) + 20·log10(fc)`` for ``d2D <= d'_BP`` and
    ``PL2 = 32.4 + 40·log10(d3D) + 20·log10(fc) - 9.5·log10(d'_BP² + (h_BS - h_UT)²)`` beyond,
    with ``fc`` in GHz and distances in m; ``d2D`` is clipped below at 10 m.
    """
    return _umi(d2d_m, fc_hz, h_bs_m, h_ut_m)[0]


def umi_nlos_db(d2d_m, fc_hz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5):
    """UMi street-canyon NLOS path loss (TR 38.901 Table 7.4.1-1), dB:
    ``max(PL_LOS, 35.3·log10(d3D) + 22.4 + 21.3·log10(fc) - 0.3·(h_UT - 1.5))``."""
    los, nlos, _ = _umi(d2d_m, fc_hz, h_bs_m, h_ut_m)
    return np.maximum(los, nlos)


def umi_nlos_optional_db(d2d_m, fc_hz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5):
    """Optional UMi NLOS model (TR 38.901 Table 7.4.1-1): ``32.4 + 20·log10(fc) +
    31.9·log10(d3D)`` dB, σ_SF = 8.2 dB."""
    _, d3d = _geometry(d2d_m, h_bs_m, h_ut_m)
    return 32.4 + 20.0 * np.log10(fc_hz / 1e9) + 31.9 * np.log10(d3d)


def pathloss_db(model: str, d2d_m, los, fc_hz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5):
    """Path loss (dB) of ``model`` for LOS (``los`` True) or NLOS links, elementwise.

    Models: ``umi_street_canyon`` (TR 38.901 Table 7.4.1-1), ``umi_street_canyon_optional``
    (its optional NLOS formula; LOS as the default model) and ``free_space`` (Friis, at the
    3D distance, regardless of ``los``).

    Raises:
        ValueError: unknown model, or a non-positive frequency or height.
    """
    if model not in MODELS:
        raise ValueError(f"pathloss_model: unknown model {model!r} (allowed: {', '.join(MODELS)})")
    if not fc_hz > 0 or not h_bs_m > 0 or not h_ut_m > 0:
        raise ValueError("carrier frequency and antenna heights must be positive")
    los = np.asarray(los, dtype=bool)
    if model == "free_space":
        _, d3d = _geometry(d2d_m, h_bs_m, h_ut_m)
        return np.broadcast_to(fspl_db(d3d, fc_hz), np.broadcast_shapes(d3d.shape, los.shape))
    los_db, nlos_db, lg = _umi(d2d_m, fc_hz, h_bs_m, h_ut_m)
    if model == "umi_street_canyon":
        nlos_db = np.maximum(los_db, nlos_db)
    else:
        nlos_db = 32.4 + 20.0 * np.log10(fc_hz / 1e9) + 31.9 * lg
    return np.where(los, los_db, nlos_db)


def shadowing_sigma_db(model: str, los):
    """Shadow-fading standard deviation (dB) of ``model`` for LOS/NLOS links (Table 7.4.1-1);
    0 for ``free_space``."""
    if model not in MODELS:
        raise ValueError(f"pathloss_model: unknown model {model!r} (allowed: {', '.join(MODELS)})")
    los = np.asarray(los, dtype=bool)
    if model == "free_space":
        return np.zeros(los.shape)
    nlos = SIGMA_SF_NLOS_DB if model == "umi_street_canyon" else SIGMA_SF_NLOS_OPTIONAL_DB
    return np.where(los, SIGMA_SF_LOS_DB, nlos)


def gudmundson_step(z, moved_m, decorrelation_m, normal):
    """One step of spatially correlated shadowing (Gudmundson, Electron. Lett. 27(23), 1991;
    the exponential model behind TR 38.901 §7.5 step 7): the unit-variance state moves as the
    AR(1) ``z' = ρ·z + sqrt(1-ρ²)·n`` with ``ρ = exp(-Δd/d_corr)``. Multiply ``z`` by σ_SF (dB)
    to get the shadowing in dB. ``normal`` holds standard normal draws of ``z``'s shape."""
    rho = np.exp(-np.asarray(moved_m, dtype=float) / decorrelation_m)
    return rho * z + np.sqrt(1.0 - rho**2) * normal
