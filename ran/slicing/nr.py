"""NR carrier numerology and resource block groups (pure functions, not yet used by the envs).

The envs model a 10 MHz LTE carrier (:mod:`.phy`). This module gives the NR equivalents an
NR cell needs, each transcribed from the standard:

* **Numerology** (TS 38.211 §4.2-4.3): subcarrier spacing ``Δf = 15·2^μ`` kHz, slot duration
  ``1/2^μ`` ms (14 OFDM symbols, normal CP), ``2^μ`` slots per 1 ms subframe; a resource block
  is 12 subcarriers, ``180·2^μ`` kHz (:func:`slot_s`, :func:`prb_bandwidth_hz`).
* **Carrier size** (TS 38.101-1 V15 Table 5.3.2-1, maximum transmission bandwidth
  configuration ``N_RB``, FR1): :data:`NR_PRBS` for μ = 0 (15 kHz) and μ = 1 (30 kHz), e.g.
  20 MHz at μ = 0 -> 106 PRBs, 100 MHz at μ = 1 -> 273 PRBs (:func:`carrier_prbs`).
* **RBG size** (TS 38.214 Table 5.1.2.2.1-1, downlink resource allocation type 0): the
  nominal RBG size ``P`` by bandwidth-part size and ``rbg-Size`` configuration

  ======================  ===============  ===============
  bandwidth part (PRBs)   configuration 1  configuration 2
  ======================  ===============  ===============
  1 - 36                  2                4
  37 - 72                 4                8
  73 - 144                8                16
  145 - 275               16               16
  ======================  ===============  ===============

  and (§5.1.2.2.1) the BWP of ``N_size`` PRBs starting at common RB ``N_start`` is cut into
  ``ceil((N_size + N_start mod P) / P)`` RBGs: the first of ``P - N_start mod P`` PRBs, the
  last of ``(N_start + N_size) mod P`` PRBs when that is > 0 (else ``P``), the others of ``P``
  (:func:`rbg_sizes`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NR_PRBS",
    "MAX_BWP_PRBS",
    "scs_khz",
    "slot_s",
    "prb_bandwidth_hz",
    "carrier_prbs",
    "nominal_rbg_size",
    "rbg_sizes",
]

#: 38.101-1 Table 5.3.2-1 (FR1, Rel-15 bandwidths): ``{μ: {bandwidth MHz: N_RB}}``
NR_PRBS: dict[int, dict[int, int]] = {
    0: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 40: 216, 50: 270},
    1: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 40: 106, 50: 133, 60: 162, 70: 189,
        80: 217, 90: 245, 100: 273},
}
#: largest bandwidth part (38.214 Table 5.1.2.2.1-1, 38.331 maxNrofPhysicalResourceBlocks)
MAX_BWP_PRBS = 275
#: 38.214 Table 5.1.2.2.1-1: (largest BWP size of the row, P config 1, P config 2)
_RBG_ROWS = ((36, 2, 4), (72, 4, 8), (144, 8, 16), (275, 16, 16))


def _mu(mu) -> int:
    if mu not in NR_PRBS:
        raise ValueError(f"mu: numerology must be 0 or 1 (got {mu!r})")
    return int(mu)


def scs_khz(mu: int) -> float:
    """Subcarrier spacing ``15·2^μ`` kHz (38.211 Table 4.2-1)."""
    return 15.0 * 2 ** _mu(mu)


def slot_s(mu: int) -> float:
    """Slot duration ``10^-3 / 2^μ`` s (38.211 §4.3.2, 14 symbols, normal CP)."""
    return 1e-3 / 2 ** _mu(mu)


def prb_bandwidth_hz(mu: int) -> float:
    """Bandwidth of one resource block, 12 subcarriers: ``12·15·2^μ`` kHz, in Hz."""
    return 12 * scs_khz(mu) * 1e3


def carrier_prbs(bandwidth_mhz: int, mu: int) -> int:
    """PRBs of an FR1 carrier of ``bandwidth_mhz`` at numerology ``mu`` (38.101-1 Table
    5.3.2-1); ValueError for a bandwidth that numerology does not define."""
    table = NR_PRBS[_mu(mu)]
    if bandwidth_mhz not in table:
        raise ValueError(
            f"bandwidth_mhz: {bandwidth_mhz!r} MHz is not defined for mu={mu} "
            f"(one of {sorted(table)})"
        )
    return table[bandwidth_mhz]


def nominal_rbg_size(bwp_prbs: int, config: int = 1) -> int:
    """Nominal RBG size ``P`` for a bandwidth part of ``bwp_prbs`` PRBs and ``rbg-Size``
    configuration 1 or 2 (38.214 Table 5.1.2.2.1-1)."""
    if config not in (1, 2):
        raise ValueError(f"config: rbg-Size configuration must be 1 or 2 (got {config!r})")
    if not 1 <= bwp_prbs <= MAX_BWP_PRBS:
        raise ValueError(f"bwp_prbs: must be in 1..{MAX_BWP_PRBS} (got {bwp_prbs!r})")
    for top, p1, p2 in _RBG_ROWS:
        if bwp_prbs <= top:
            return p1 if config == 1 else p2
    raise AssertionError("unreachable")  # pragma: no cover


def rbg_sizes(bwp_prbs: int, config: int = 1, bwp_start: int = 0) -> np.ndarray:
    """PRBs of each RBG of a bandwidth part of ``bwp_prbs`` PRBs starting at common RB
    ``bwp_start`` (38.214 §5.1.2.2.1): ``ceil((N_size + N_start mod P) / P)`` RBGs, the first
    ``P - N_start mod P`` PRBs, the last ``(N_start + N_size) mod P`` (``P`` if 0)."""
    if bwp_start < 0:
        raise ValueError(f"bwp_start: must be >= 0 (got {bwp_start!r})")
    p = nominal_rbg_size(bwp_prbs, config)
    off = bwp_start % p
    n = -(-(bwp_prbs + off) // p)
    sizes = np.full(n, p, dtype=np.int64)
    if n == 1:  # the whole BWP inside one RBG
        sizes[0] = bwp_prbs
        return sizes
    sizes[0] = p - off
    tail = (bwp_start + bwp_prbs) % p
    if tail:
        sizes[-1] = tail
    return sizes
