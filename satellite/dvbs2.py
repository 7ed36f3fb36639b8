"""DVB-S2 MODCODs and adaptive coding and modulation (ACM).

ETSI EN 302 307-1 V1.4.1, Table 13: ideal Es/N0 for quasi-error-free (QEF, PER = 1e-7)
operation on AWGN with normal FECFRAMEs (64,800 bits), no pilots. The spectral efficiency of a
MODCOD is the payload per transmitted symbol, ``η = (K_bch - 80) / (90·(S + 1))`` with
``K_bch`` the BCH-uncoded block (Table 5a), 80 the BBHEADER bits, ``S = 64800/(90·m)`` slots of
90 symbols for ``m`` bits per symbol and one 90-symbol PLHEADER slot; this reproduces the
efficiencies printed in Table 13. ACM picks the most efficient MODCOD whose threshold (plus a
margin) the link meets; below the lowest threshold (QPSK 1/4, -2.35 dB) the link is in outage.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["Modcod", "TABLES", "modcod_table", "select_modcod", "throughput_bps", "outage"]

# (modulation, bits/symbol, code rate, K_bch (normal frame), Es/N0 QEF threshold dB)
_TABLE_13 = [
    ("QPSK", 2, "1/4", 16008, -2.35),
    ("QPSK", 2, "1/3", 21408, -1.24),
    ("QPSK", 2, "2/5", 25728, -0.30),
    ("QPSK", 2, "1/2", 32208, 1.00),
    ("QPSK", 2, "3/5", 38688, 2.23),
    ("QPSK", 2, "2/3", 43040, 3.10),
    ("QPSK", 2, "3/4", 48408, 4.03),
    ("QPSK", 2, "4/5", 51648, 4.68),
    ("QPSK", 2, "5/6", 53840, 5.18),
    ("QPSK", 2, "8/9", 57472, 6.20),
    ("QPSK", 2, "9/10", 58192, 6.42),
    ("8PSK", 3, "3/5", 38688, 5.50),
    ("8PSK", 3, "2/3", 43040, 6.62),
    ("8PSK", 3, "3/4", 48408, 7.91),
    ("8PSK", 3, "5/6", 53840, 9.35),
    ("8PSK", 3, "8/9", 57472, 10.69),
    ("8PSK", 3, "9/10", 58192, 10.98),
    ("16APSK", 4, "2/3", 43040, 8.97),
    ("16APSK", 4, "3/4", 48408, 10.21),
    ("16APSK", 4, "4/5", 51648, 11.03),
    ("16APSK", 4, "5/6", 53840, 11.61),
    ("16APSK", 4, "8/9", 57472, 12.89),
    ("16APSK", 4, "9/10", 58192, 13.13),
    ("32APSK", 5, "3/4", 48408, 12.73),
    ("32APSK", 5, "4/5", 51648, 13.64),
    ("32APSK", 5, "5/6", 53840, 14.28),
    ("32APSK", 5, "8/9", 57472, 15.69),
    ("32APSK", 5, "9/10", 58192, 16.05),
]


@dataclass(frozen=True)
class Modcod:
    """One MODCOD: ``name`` (e.g. ``"QPSK 3/4"``), bits per symbol, code rate, K_bch,
    QEF threshold (Es/N0 dB) and spectral efficiency (information bits per symbol)."""

    name: str
    bits_per_symbol: int
    rate: Fraction
    k_bch: int
    threshold_db: float
    efficiency: float


def _build(rows) -> tuple[Modcod, ...]:
    out = []
    for mod, m, rate, k_bch, thr in rows:
        slots = 64800 // (90 * m)
        eff = (k_bch - 80) / (90.0 * (slots + 1))
        out.append(Modcod(f"{mod} {rate}", m, Fraction(rate), k_bch, thr, eff))
    return tuple(out)


#: available tables by name
TABLES: dict[str, tuple[Modcod, ...]] = {"dvbs2": _build(_TABLE_13)}


def modcod_table(name: str = "dvbs2") -> tuple[Modcod, ...]:
    """The MODCOD table ``name`` (``"dvbs2"``: EN 302 307-1 Table 13, 28 entries)."""
    if name not in TABLES:
        raise ValueError(
            f"modcod_table: unknown MODCOD table {name!r} (allowed: {', '.join(TABLES)})"
        )
    return TABLES[name]


@functools.cache
def _frontier(table: str):
    """Thresholds sorted ascending, and for each prefix the best efficiency and its index."""
    t = modcod_table(table)
    thr = np.array([m.threshold_db for m in t])
    eff = np.array([m.efficiency for m in t])
    order = np.argsort(thr, kind="stable")
    best_idx = np.empty(order.size, dtype=int)
    cur = order[0]
    for i, j in enumerate(order):
        if eff[j] > eff[cur]:
            cur = j
        best_idx[i] = cur
    return thr[order], eff[best_idx], best_idx


def _met(esn0_db, table: str, margin_db: float):
    thr, best_eff, best_idx = _frontier(table)
    x = np.asarray(esn0_db, dtype=float) - margin_db
    n = np.where(np.isnan(x), 0, np.searchsorted(thr, x, side="right"))
    return n, best_eff, best_idx  # n = number of MODCODs whose threshold is met


def select_modcod(esn0_db, table: str = "dvbs2", margin_db: float = 0.0):
    """Index (into the table) of the MODCOD ACM selects for each Es/N0: the highest spectral
    efficiency among MODCODs with ``threshold + margin <= Es/N0``; -1 where none fits."""
    n, _, best_idx = _met(esn0_db, table, margin_db)
    return np.where(n > 0, best_idx[np.maximum(n - 1, 0)], -1)


def throughput_bps(esn0_db, symbol_rate_hz, table: str = "dvbs2", margin_db: float = 0.0):
    """ACM throughput ``η(Es/N0)·Rs`` in bit/s (0 in outage)."""
    n, best_eff, _ = _met(esn0_db, table, margin_db)
    eff = np.where(n > 0, best_eff[np.maximum(n - 1, 0)], 0.0)
    return eff * np.asarray(symbol_rate_hz, dtype=float)


def outage(esn0_db, table: str = "dvbs2", margin_db: float = 0.0):
    """True where Es/N0 (minus margin) is below the lowest MODCOD threshold (or NaN)."""
    thr = _frontier(table)[0]
    x = np.asarray(esn0_db, dtype=float) - margin_db
    return ~(x >= thr[0])
