"""Outer-loop link adaptation (OLLA) towards a BLER target (pure functions, not yet used by the
envs, whose gNB decodes a block iff its SINR reaches the MCS threshold).

The scheduler picks the MCS from the reported SINR minus an offset ``Δ`` (dB). After each
first transmission the offset moves by the HARQ feedback (Pedersen et al., "Performance of
High-Speed Downlink Packet Access in coexistence with dedicated channels", IEEE Trans. Veh.
Technol. 56(3), 2007, §III; Nakamura et al., WPMC 2002):

* NACK: ``Δ += Δ_up``;  ACK: ``Δ -= Δ_down`` with ``Δ_down = Δ_up · T / (1 - T)``

for the BLER target ``T``. The expected drift ``p·Δ_up - (1-p)·Δ_down`` is zero exactly when
the block error probability ``p`` equals ``T``, so the offset settles where the link's BLER is
``T``. Over any ``N`` blocks with ``K`` NACKs the offset obeys, exactly,
``K/N = T + (1 - T)·(Δ_N - Δ_0) / (Δ_up·N)`` (:func:`nack_fraction`): a bounded offset
forces the NACK fraction to ``T`` at rate ``1/N``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["step_down_db", "olla_update", "run_olla", "nack_fraction"]


def _check(step_up_db: float, bler_target: float) -> None:
    if not 0.0 < bler_target < 1.0:
        raise ValueError(f"bler_target: must be in (0, 1) (got {bler_target!r})")
    if not step_up_db > 0.0:
        raise ValueError(f"step_up_db: must be > 0 (got {step_up_db!r})")


def step_down_db(step_up_db: float, bler_target: float) -> float:
    """``Δ_down = Δ_up · T / (1 - T)`` (dB), the ACK step giving zero drift at BLER ``T``."""
    _check(step_up_db, bler_target)
    return step_up_db * bler_target / (1.0 - bler_target)


def olla_update(offset_db, nack, step_up_db: float = 0.5, bler_target: float = 0.1):
    """Offsets after one feedback each (vectorised): ``+Δ_up`` on NACK, ``-Δ_down`` on ACK."""
    down = step_down_db(step_up_db, bler_target)
    return np.asarray(offset_db, dtype=float) + np.where(np.asarray(nack, bool), step_up_db, -down)


def run_olla(
    p_nack: Callable[[np.ndarray], np.ndarray],
    n_blocks: int,
    rng: np.random.Generator,
    n_links: int = 1,
    offset0_db: float = 0.0,
    step_up_db: float = 0.5,
    bler_target: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_links`` independent links for ``n_blocks`` first transmissions: a block fails with
    probability ``p_nack(offset)`` (the link's BLER at that back-off). Returns the offsets
    before each block ``(n_blocks + 1, n_links)`` and the NACKs ``(n_blocks, n_links)``."""
    _check(step_up_db, bler_target)
    if n_blocks < 1:
        raise ValueError(f"n_blocks: must be >= 1 (got {n_blocks!r})")
    offsets = np.empty((n_blocks + 1, n_links))
    offsets[0] = offset0_db
    u = rng.random((n_blocks, n_links))
    nacks = np.empty((n_blocks, n_links), dtype=bool)
    for k in range(n_blocks):
        nacks[k] = u[k] < p_nack(offsets[k])
        offsets[k + 1] = olla_update(offsets[k], nacks[k], step_up_db, bler_target)
    return offsets, nacks


def nack_fraction(offset_first_db, offset_last_db, n_blocks, step_up_db=0.5, bler_target=0.1):
    """The NACK fraction implied by the offset's change over ``n_blocks``:
    ``T + (1 - T)·(Δ_N - Δ_0) / (Δ_up·N)`` (exact for :func:`olla_update`)."""
    _check(step_up_db, bler_target)
    change = np.asarray(offset_last_db, float) - np.asarray(offset_first_db, float)
    return bler_target + (1.0 - bler_target) * change / (step_up_db * n_blocks)
