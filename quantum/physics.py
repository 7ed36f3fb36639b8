"""Physics of entangled pairs: pure, vectorised functions.

States are Werner states of fidelity F (to the target Bell state), with Werner parameter
``w = (4F - 1)/3``, or Bell-diagonal states given by coefficients (A, B, C, D) with A the
fidelity. Fidelity always lies in [1/4, 1].

Bell-diagonal states are also handled in their *correlation* form ``s = (s_x, s_y, s_z)``
with ``s_i = ±⟨σ_i⊗σ_i⟩`` signed so that Φ⁺ has ``s = (1, 1, 1)``: then ``F = (1 + Σ s_i)/4``,
a Werner state is ``s = (w, w, w)``, entanglement swapping multiplies correlations
component-wise and a Pauli memory channel scales them; this is what the engine stores.

Sources: Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007) (swap, Werner algebra);
Bennett et al., PRL 76, 722 (1996) (BBPSSW); Deutsch et al., PRL 77, 2818 (1996) (DEJMPS);
Barrett & Kok, PRA 71, 060310 (2005) (two-photon midpoint scheme); Humphreys et al., Nature
558, 268 (2018) and Rozpędek et al., PRA 99, 052330 (2019) (single-click scheme); Nielsen &
Chuang §8.3 and Ghosh, Fowler & Geller, PRA 86, 062318 (2012) (T1/T2 and its Pauli twirl);
Briegel, Dür, Cirac & Zoller, PRL 81, 5932 (1998) and Dür, Briegel, Cirac & Zoller, PRA 59,
169 (1999) (noisy CNOTs and measurements in swap and distillation); Collins et al., PRL 98,
060502 (2007) (multiplexed memories).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "C_FIBER_M_S",
    "fidelity_to_werner",
    "werner_to_fidelity",
    "depolarise",
    "swap_fidelity",
    "bbpssw",
    "dejmps",
    "werner_to_bell_diagonal",
    "fiber_transmissivity",
    "link_success_probability",
    "link_initial_fidelity",
    "attempt_time_s",
    "memory_factors",
    "t1t2_decay",
    "bell_diagonal_to_correlations",
    "correlations_to_bell_diagonal",
    "correlations_fidelity",
    "werner_hashing_yield",
    "noisy_swap_correlations",
    "noisy_swap_werner",
    "heralded_state",
    "dead_time_attempt_s",
    "multiplexed_probability",
    "heralded_link",
    "noisy_recurrence",
    "noisy_bbpssw",
]

#: speed of light in fibre (refractive index ≈ 1.5): 2·10⁸ m/s
C_FIBER_M_S = 2.0e8


def fidelity_to_werner(f):
    """``w = (4F − 1)/3``."""
    return (4.0 * np.asarray(f, dtype=float) - 1.0) / 3.0


def werner_to_fidelity(w):
    """``F = (3w + 1)/4``."""
    return (3.0 * np.asarray(w, dtype=float) + 1.0) / 4.0


def depolarise(f, dt_s, tau_s, qubits: int = 1):
    """Depolarising memory decay ``F(t) = 1/4 + (F0 − 1/4)·exp(−q·t/τ)`` for ``q`` stored
    qubits of the pair waiting ``t`` seconds each with coherence time τ (the decay rate doubles
    when both halves wait)."""
    f = np.asarray(f, dtype=float)
    return 0.25 + (f - 0.25) * np.exp(-qubits * np.asarray(dt_s, dtype=float) / tau_s)


def swap_fidelity(f1, f2):
    """Entanglement swapping of two Werner pairs: ``F = F1·F2 + (1 − F1)(1 − F2)/3``
    (equivalently ``w = w1·w2``)."""
    f1 = np.asarray(f1, dtype=float)
    f2 = np.asarray(f2, dtype=float)
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def bbpssw(f1, f2):
    """BBPSSW recurrence on two Werner pairs, in Werner form (Bennett et al. 1996).

    Returns ``(p_success, F_out)`` with ``p = (1 + w1·w2)/2`` and
    ``w' = (w1 + w2 + 4·w1·w2)/(6p)``. E.g. F = 0.9, 0.8 gives p ≈ 0.8178, F' ≈ 0.8832.
    """
    w1, w2 = fidelity_to_werner(f1), fidelity_to_werner(f2)
    p = (1.0 + w1 * w2) / 2.0
    w_out = (w1 + w2 + 4.0 * w1 * w2) / (6.0 * p)
    return p, werner_to_fidelity(w_out)


def werner_to_bell_diagonal(f):
    """Bell-diagonal coefficients (A, B, C, D) of a Werner state: (F, (1−F)/3 ×3)."""
    f = np.asarray(f, dtype=float)
    r = (1.0 - f) / 3.0
    return np.stack([f, r, r, r], axis=-1)


def dejmps(c1, c2):
    """DEJMPS recurrence on two Bell-diagonal states (Deutsch et al. 1996).

    ``c1``, ``c2``: arrays ``(..., 4)`` of coefficients (A, B, C, D), A = fidelity to Φ⁺.
    With ``N = (A1 + B1)(A2 + B2) + (C1 + D1)(C2 + D2)`` the success probability, the output is
    ``A' = (A1A2 + B1B2)/N``, ``B' = (C1D2 + D1C2)/N``, ``C' = (C1C2 + D1D2)/N``,
    ``D' = (A1B2 + B1A2)/N``. Returns ``(p_success, coefficients_out)``.
    """
    a1, b1, c_1, d1 = np.moveaxis(np.asarray(c1, dtype=float), -1, 0)
    a2, b2, c_2, d2 = np.moveaxis(np.asarray(c2, dtype=float), -1, 0)
    n = (a1 + b1) * (a2 + b2) + (c_1 + d1) * (c_2 + d2)
    out = np.stack(
        [a1 * a2 + b1 * b2, c_1 * d2 + d1 * c_2, c_1 * c_2 + d1 * d2, a1 * b2 + b1 * a2], axis=-1
    )
    return n, out / np.asarray(n)[..., None]


def fiber_transmissivity(length_km, attenuation_db_per_km: float = 0.2):
    """Fibre transmissivity ``η = 10^(−α·L/10)`` (0.2 dB/km: ``10^(−0.02·L)``)."""
    return np.power(10.0, -attenuation_db_per_km * np.asarray(length_km, dtype=float) / 10.0)


def link_success_probability(
    length_km,
    scheme: str = "midpoint",
    detector_efficiency: float = 1.0,
    emission_efficiency: float = 1.0,
    bright_state: float = 0.1,
    attenuation_db_per_km: float = 0.2,
):
    """Success probability of one heralded attempt over a link of ``length_km`` with the
    detection station at its midpoint; each photon sees ``η_ph = η_emit·η(L/2)·η_det``.

    * ``"midpoint"`` (two-photon / double-click, Barrett & Kok 2005): both photons must be
      detected and the linear-optics Bell measurement resolves 2 of 4 Bell states:
      ``p = η_ph²/2``.
    * ``"single_click"`` (Humphreys et al. 2018): each node emits with bright-state population
      α and one click heralds: ``p = 1 − (1 − α·η_ph)² ≈ 2α·η_ph`` (dark counts neglected).
    """
    eta_ph = (
        emission_efficiency
        * detector_efficiency
        * fiber_transmissivity(np.asarray(length_km, dtype=float) / 2.0, attenuation_db_per_km)
    )
    if scheme == "midpoint":
        return 0.5 * eta_ph**2
    if scheme == "single_click":
        if not 0.0 < bright_state <= 0.5:
            raise ValueError(f"bright_state must be in (0, 0.5], got {bright_state}")
        return 1.0 - (1.0 - bright_state * eta_ph) ** 2
    raise ValueError(f"scheme must be 'midpoint' or 'single_click', got {scheme!r}")


def link_initial_fidelity(
    scheme: str = "midpoint", link_fidelity: float = 1.0, bright_state: float = 0.1
):
    """Fidelity F0 of a freshly heralded pair (Werner form).

    ``"midpoint"``: ``F0 = link_fidelity`` (set by the emitters and the interference quality).
    ``"single_click"``: the bright-state admixture |↑↑⟩ caps the fidelity at ``1 − α``
    (Humphreys et al. 2018, ideal visibility); other imperfections enter through
    ``link_fidelity``, combined in Werner form ``w0 = w(1 − α)·w(link_fidelity)``.
    """
    if scheme == "midpoint":
        return float(link_fidelity)
    if scheme == "single_click":
        w = fidelity_to_werner(1.0 - bright_state) * fidelity_to_werner(link_fidelity)
        return float(werner_to_fidelity(w))
    raise ValueError(f"scheme must be 'midpoint' or 'single_click', got {scheme!r}")


def attempt_time_s(length_km, local_time_s: float = 0.0):
    """Duration of one heralded attempt: ``L/c_fiber`` (photons travel L/2 to the midpoint and
    the herald L/2 back) plus a local time (emission, reset, processing), in seconds."""
    return np.asarray(length_km, dtype=float) * 1e3 / C_FIBER_M_S + local_time_s


def memory_factors(dt_s, qubits: int = 1, tau_s=None, t1_s=None, t2_s=None):
    """Factors ``(f_x, f_y, f_z)`` that scale a pair's correlations while ``qubits`` of its
    halves wait ``dt_s`` seconds.

    * depolarising (``tau_s``): every ``f_i = exp(−q·t/τ)``, i.e.
      ``F(t) = 1/4 + (F0 − 1/4)·exp(−q·t/τ)``;
    * T1/T2 (``t1_s``, ``t2_s``): amplitude + phase damping has Pauli transfer diagonal
      ``(e^{−t/T2}, e^{−t/T2}, e^{−t/T1})`` (Nielsen & Chuang §8.3); the engine keeps its Pauli
      twirl (Ghosh et al. 2012), so ``f = (e^{−qt/T2}, e^{−qt/T2}, e^{−qt/T1})``;
    * neither: no decay (all ones).
    """
    dt = np.asarray(dt_s, dtype=float)
    if tau_s is not None:
        f = np.exp(-qubits * dt / tau_s)
        return f, f, f
    if t1_s is not None and t2_s is not None:
        if t2_s > 2.0 * t1_s:
            raise ValueError(f"t2_s must be <= 2·t1_s (got T1={t1_s}, T2={t2_s})")
        e2 = np.exp(-qubits * dt / t2_s)
        return e2, e2, np.exp(-qubits * dt / t1_s)
    one = np.ones_like(dt)
    return one, one, one


def t1t2_decay(f, dt_s, t1_s, t2_s, qubits: int = 1):
    """Fidelity of a Werner pair after ``qubits`` halves wait ``dt_s`` under T1/T2:
    ``F' = 1/4 + (F − 1/4)·(e^{−qt/T1} + 2e^{−qt/T2})/3`` (Pauli-twirled amplitude and phase
    damping; exact for one waiting qubit)."""
    fx, fy, fz = memory_factors(dt_s, qubits, t1_s=t1_s, t2_s=t2_s)
    f = np.asarray(f, dtype=float)
    return 0.25 + (f - 0.25) * (fx + fy + fz) / 3.0


def bell_diagonal_to_correlations(c):
    """Correlations ``(s_x, s_y, s_z)`` of Bell-diagonal coefficients ``(A, B, C, D)`` =
    weights of (Φ⁺, Ψ⁻, Ψ⁺, Φ⁻): ``s_x = ⟨XX⟩ = A − B + C − D``,
    ``s_y = −⟨YY⟩ = A + B − C − D``, ``s_z = ⟨ZZ⟩ = A − B − C + D``."""
    a, b, cc, d = np.moveaxis(np.asarray(c, dtype=float), -1, 0)
    return np.stack([a - b + cc - d, a + b - cc - d, a - b - cc + d], axis=-1)


def correlations_to_bell_diagonal(s):
    """Inverse of :func:`bell_diagonal_to_correlations`: ``A = (1 + s_x + s_y + s_z)/4``,
    ``B = (1 − s_x + s_y − s_z)/4``, ``C = (1 + s_x − s_y − s_z)/4``,
    ``D = (1 − s_x − s_y + s_z)/4``."""
    sx, sy, sz = np.moveaxis(np.asarray(s, dtype=float), -1, 0)
    return (
        np.stack([1 + sx + sy + sz, 1 - sx + sy - sz, 1 + sx - sy - sz, 1 - sx - sy + sz], axis=-1)
        / 4.0
    )


def correlations_fidelity(sx, sy, sz):
    """Fidelity to Φ⁺ of a Bell-diagonal state: ``F = (1 + s_x + s_y + s_z)/4``."""
    return (1.0 + np.asarray(sx, dtype=float) + sy + sz) / 4.0


def werner_hashing_yield(f):
    """Hashing-bound distillable entanglement (ebits per pair) of a Werner pair,
    ``max(0, 1 − H(F, (1−F)/3, (1−F)/3, (1−F)/3))`` (Bennett et al., PRA 54, 3824 (1996))."""
    f = np.clip(np.asarray(f, dtype=float), 0.25, 1.0)
    r = (1.0 - f) / 3.0
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(f > 0, f * np.log2(f), 0.0) - 3.0 * np.where(r > 0, r * np.log2(r), 0.0)
    return np.maximum(0.0, 1.0 - h)


def noisy_swap_correlations(s1, s2, gate_werner: float = 1.0, meas_error: float = 0.0):
    """Correlations of the pair made by swapping Bell-diagonal pairs ``s1``, ``s2`` with a
    noisy Bell-state measurement: the ideal product ``s1·s2`` times a Werner factor
    ``gate_werner`` (depolarising gates) and, when each of the two outcome bits is misread
    with probability ``ε = meas_error`` (a wrong X or Z correction), times
    ``(1 − 2ε, (1 − 2ε)², 1 − 2ε)``: an X error flips ``s_y, s_z``, a Z error ``s_x, s_y``
    (Briegel et al., PRL 81, 5932 (1998) use the same depolarising-gate and
    measurement-error model)."""
    if not 0.0 <= meas_error <= 0.5:
        raise ValueError(f"meas_error must be in [0, 0.5], got {meas_error}")
    e = 1.0 - 2.0 * meas_error
    f = np.array([e, e * e, e]) * gate_werner
    return np.asarray(s1, dtype=float) * np.asarray(s2, dtype=float) * f


def noisy_swap_werner(w1, w2, gate_error: float = 0.0, meas_error: float = 0.0):
    """Werner parameter of a swap of Werner pairs ``w1``, ``w2`` whose Bell measurement is a
    noisy CNOT (two-qubit depolarising: with probability ``p_gate = gate_error`` both qubits
    are replaced by the maximally mixed state, so the output is ``I/4``) followed by
    single-qubit measurements each misread with probability ``ε = meas_error``, the model of
    Briegel, Dür, Cirac & Zoller, PRL 81, 5932 (1998) and Dür & Briegel (2007) §4:
    ``w' = (1 − p_gate)·w1·w2·(2(1 − 2ε) + (1 − 2ε)²)/3`` (the Werner twirl of
    :func:`noisy_swap_correlations` with ``gate_werner = 1 − p_gate``)."""
    _check_probability("gate_error", gate_error)
    if not 0.0 <= meas_error <= 0.5:
        raise ValueError(f"meas_error must be in [0, 0.5], got {meas_error}")
    e = 1.0 - 2.0 * meas_error
    w1 = np.asarray(w1, dtype=float)
    return (1.0 - gate_error) * w1 * np.asarray(w2, dtype=float) * (2.0 * e + e * e) / 3.0


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")


def heralded_state(
    scheme: str, eta_ph: float, dark_count_prob: float = 0.0, bright_state: float = 0.1
):
    """Heralding with lossy photons and dark counts at the midpoint station.

    Model: two threshold detectors behind a 50:50 beam splitter, perfect visibility; each
    photon reaches a detector with probability ``η = eta_ph`` (emission × fibre × detector
    efficiency) and each detector fires a dark count with probability ``p = dark_count_prob``
    per detection window. A window heralds when exactly one detector clicks. A lost photon
    carries the which-path information away, so an attempt heralded by a dark count in place
    of a lost photon leaves the spins in an equal mixture of the right Bell state and its
    phase-flipped partner (fidelity 1/2); a herald caused by |↑↑⟩ or |↓↓⟩ (two photons
    bunched into one detector, or none plus a dark count) leaves a product state (fidelity 0).
    With ``q0 = 2p(1 − p)``, ``q1 = η(1 − p) + (1 − η)·q0`` and
    ``q2 = (1 − (1 − η)²)(1 − p) + (1 − η)²·q0`` the probabilities that a window with 0, 1 or
    2 photons shows exactly one click:

    * ``"midpoint"`` (double click, Barrett & Kok, PRA 71, 060310 (2005): two rounds with a
      spin flip between, one click needed in each):
      ``P = q1²/2 + q0·q2/2``, good part ``G = η²(1 − p)²/2``, mixed part ``M = q1²/2 − G``;
      with ``p = 0``: ``P = η²/2``, ``F = 1``.
    * ``"single_click"`` (Humphreys et al., Nature 558, 268 (2018); Rozpędek et al., PRA 99,
      052330 (2019): bright-state population α, one round):
      ``P = (1 − α)²·q0 + 2α(1 − α)·q1 + α²·q2``, ``G = 2α(1 − α)·η(1 − p)``,
      ``M = 2α(1 − α)(1 − η)·q0``; with ``p = 0``: ``P = 1 − (1 − αη)²`` and
      ``F = 2(1 − α)/(2 − αη)`` (→ ``1 − α`` for ``η → 0``).

    Returns ``(P_herald, (A, B, C, D), P_click)``: the Bell-diagonal coefficients of the
    heralded state after the Pauli correction (``A = F = (G + M/2)/P``, ``D = M/(2P)``,
    ``B = C = (P − G − M)/(2P)``; off-diagonal terms of the single-click product part are
    twirled away, which leaves F unchanged) and the probability that at least one detector
    clicks in the attempt, which sets the dead time's cost (:func:`dead_time_attempt_s`):
    ``1 − (1 − η)²(1 − p)⁴`` (double click) and ``1 − (1 − αη)²(1 − p)²`` (single click).
    Dimensionless probabilities throughout. The same ingredients (threshold detectors, dark
    counts per mode, loss before the beam splitter) are used by Dhara et al., PRR 5, 043173
    (2023) for emissive memories; the tests check every number by a density-matrix enumeration
    of the click patterns.
    """
    _check_probability("eta_ph", eta_ph)
    _check_probability("dark_count_prob", dark_count_prob)
    eta, p = float(eta_ph), float(dark_count_prob)
    q0 = 2.0 * p * (1.0 - p)
    q1 = eta * (1.0 - p) + (1.0 - eta) * q0
    q2 = (1.0 - (1.0 - eta) ** 2) * (1.0 - p) + (1.0 - eta) ** 2 * q0
    if scheme == "midpoint":
        herald = 0.5 * q1 * q1 + 0.5 * q0 * q2
        good = 0.5 * (eta * (1.0 - p)) ** 2
        mixed = 0.5 * q1 * q1 - good
        click = 1.0 - (1.0 - eta) ** 2 * (1.0 - p) ** 4
    elif scheme == "single_click":
        a = float(bright_state)
        if not 0.0 < a <= 0.5:
            raise ValueError(f"bright_state must be in (0, 0.5], got {bright_state}")
        herald = (1.0 - a) ** 2 * q0 + 2.0 * a * (1.0 - a) * q1 + a * a * q2
        good = 2.0 * a * (1.0 - a) * eta * (1.0 - p)
        mixed = 2.0 * a * (1.0 - a) * (1.0 - eta) * q0
        click = 1.0 - (1.0 - a * eta) ** 2 * (1.0 - p) ** 2
    else:
        raise ValueError(f"scheme must be 'midpoint' or 'single_click', got {scheme!r}")
    if herald <= 0.0:
        return 0.0, np.array([0.25, 0.25, 0.25, 0.25]), click
    wrong = herald - good - mixed
    coeffs = np.array([good + mixed / 2.0, wrong / 2.0, wrong / 2.0, mixed / 2.0]) / herald
    return herald, coeffs, click


def dead_time_attempt_s(attempt_s, dead_time_s, click_probability):
    """Mean duration (s) of an attempt when a detector that clicked is blind for
    ``dead_time_s``: the next attempt's photons reach the station ``attempt_s`` after this
    one's, so after a click the nodes hold the next emission back until the detector is live
    again, and a clicked attempt lasts ``max(t_att, t_dead)``:
    ``E[t] = t_att + P_click·max(0, t_dead − t_att)``. The heralded pair rate is
    ``P_herald/E[t]`` (exact mean of the renewal process: the successful attempt clicks too,
    and each failed one clicks with probability ``(P_click − P_herald)/(1 − P_herald)``)."""
    t = np.asarray(attempt_s, dtype=float)
    extra = np.maximum(0.0, np.asarray(dead_time_s, dtype=float) - t)
    return t + np.asarray(click_probability, dtype=float) * extra


def multiplexed_probability(p, modes: int):
    """Success probability of an attempt round over ``modes`` independent modes (temporal,
    spectral or spatial multiplexing of a multimode memory, Collins et al., PRL 98, 060502
    (2007); Simon et al., PRL 98, 190504 (2007)): ``1 − (1 − p)^m``, computed as
    ``−expm1(m·log1p(−p))`` to keep precision for small p. ``m = 1`` returns ``p``."""
    if int(modes) != modes or modes < 1:
        raise ValueError(f"modes must be an integer >= 1, got {modes}")
    p = np.asarray(p, dtype=float)
    if modes == 1:
        return p
    with np.errstate(divide="ignore"):
        return -np.expm1(modes * np.log1p(-p))


def heralded_link(
    length_km: float,
    scheme: str = "midpoint",
    link_fidelity: float = 1.0,
    detector_efficiency: float = 1.0,
    emission_efficiency: float = 1.0,
    bright_state: float = 0.1,
    attenuation_db_per_km: float = 0.2,
    dark_count_prob: float = 0.0,
    memory_modes: int = 1,
    success_probability: float | None = None,
    with_click: bool = False,
) -> tuple[float, float, float]:
    """Per attempt round of one link: ``(p, F0, P_click)``, shared by the chain
    (:func:`quantum.chain.link_physics`) and the network (:func:`quantum.network.edge_links`).

    ``p``: ``success_probability`` if given, else :func:`link_success_probability`; with dark
    counts (``dark_count_prob > 0``, parametric only) the herald probability of
    :func:`heralded_state`, and F0 (:func:`link_initial_fidelity`) has its Werner parameter
    scaled by ``w_dc(p_dc)/w_dc(0)``, the ratio of the (twirled) heralded state's Werner
    parameter with and without dark counts, so the dark-count-free F0 model is unchanged.
    ``P_click`` (the probability that a detector clicks, for dead time) is computed when
    ``with_click`` or dark counts are on, else 0. ``memory_modes = m`` makes a round succeed
    with ``1 − (1 − p)^m`` and click with ``1 − (1 − P_click)^m``
    (:func:`multiplexed_probability`; one heralded mode is kept)."""
    f0 = link_initial_fidelity(scheme, link_fidelity, bright_state)
    click = 0.0
    if success_probability is not None:
        p = success_probability
    else:
        p = float(link_success_probability(
            length_km, scheme, detector_efficiency, emission_efficiency, bright_state,
            attenuation_db_per_km,
        ))
        if dark_count_prob > 0 or with_click:
            eta_ph = emission_efficiency * detector_efficiency * float(
                fiber_transmissivity(length_km / 2.0, attenuation_db_per_km)
            )
            herald, coeffs, click = heralded_state(scheme, eta_ph, dark_count_prob, bright_state)
            if dark_count_prob > 0:
                if herald <= 0.0:
                    raise ValueError("dark_count_prob: the link never heralds (probability 0)")
                p = herald
                ref = heralded_state(scheme, eta_ph, 0.0, bright_state)[1]
                factor = fidelity_to_werner(coeffs[0]) / fidelity_to_werner(ref[0])
                f0 = float(werner_to_fidelity(fidelity_to_werner(f0) * factor))
    if memory_modes > 1:
        p = float(multiplexed_probability(p, memory_modes))
        click = float(multiplexed_probability(click, memory_modes))
    return float(p), f0, float(click)


def noisy_recurrence(c1, c2, gate_error: float = 0.0, meas_error: float = 0.0,
                     rotate: bool = True):
    """One recurrence round (bilateral CNOT, measure the target pair, keep the source pair
    when the outcomes agree) on Bell-diagonal pairs ``c1`` (source), ``c2`` (target) with
    noisy gates and measurements (Briegel et al., PRL 81, 5932 (1998); Dür, Briegel, Cirac &
    Zoller, PRA 59, 169 (1999), eqs. for the noisy DEJMPS map).

    Noise model: each node's CNOT is followed by two-qubit depolarising with probability
    ``p_gate = gate_error`` (``ρ → (1 − p_gate)ρ + p_gate·I/4 ⊗ tr_{12}ρ``, so with
    probability ``1 − (1 − p_gate)²`` the output is ``I/4`` and the outcomes agree half the
    time); each measured bit is misread with probability ``ε = meas_error``, so true agreement
    is reported with probability ``c = (1 − ε)² + ε²`` and disagreement as agreement with
    ``1 − c``. ``rotate=True`` applies DEJMPS's local rotations first (Φ⁻ ↔ Ψ⁻ of the inputs,
    Deutsch et al. 1996); on Werner inputs the round is BBPSSW's. With inputs (A, B, C, D) in
    the order (Φ⁺, Ψ⁻, Ψ⁺, Φ⁻) after the rotation, the ideal unnormalised outputs are

    * agree: ``(A1A2 + D1D2, C1B2 + B1C2, C1C2 + B1B2, A1D2 + D1A2)``,
    * disagree: ``(A1C2 + D1B2, C1D2 + B1A2, C1A2 + B1D2, A1B2 + D1C2)``,

    and the kept pair is ``x = (1 − p_gate)²·(c·agree + (1 − c)·disagree) + (1 − (1 −
    p_gate)²)/8·(1, 1, 1, 1)``. Returns ``(p_success, coefficients)`` with ``p = Σx``; with no
    noise this is :func:`dejmps` (``rotate=True``).
    """
    _check_probability("gate_error", gate_error)
    if not 0.0 <= meas_error <= 0.5:
        raise ValueError(f"meas_error must be in [0, 0.5], got {meas_error}")
    a1, b1, c_1, d1 = np.moveaxis(np.asarray(c1, dtype=float), -1, 0)
    a2, b2, c_2, d2 = np.moveaxis(np.asarray(c2, dtype=float), -1, 0)
    if rotate:
        b1, d1, b2, d2 = d1, b1, d2, b2
    agree = np.stack([a1 * a2 + d1 * d2, c_1 * b2 + b1 * c_2, c_1 * c_2 + b1 * b2,
                      a1 * d2 + d1 * a2], axis=-1)
    disagree = np.stack([a1 * c_2 + d1 * b2, c_1 * d2 + b1 * a2, c_1 * a2 + b1 * d2,
                         a1 * b2 + d1 * c_2], axis=-1)
    c = (1.0 - meas_error) ** 2 + meas_error**2
    keep = (1.0 - gate_error) ** 2
    x = keep * (c * agree + (1.0 - c) * disagree) + (1.0 - keep) / 8.0
    p = x.sum(axis=-1)
    return p, x / np.asarray(p)[..., None]


def noisy_bbpssw(f1, f2, gate_error: float = 0.0, meas_error: float = 0.0):
    """BBPSSW on Werner pairs of fidelities ``f1``, ``f2`` with noisy CNOTs and measurements
    (:func:`noisy_recurrence` on twirled inputs, output twirled back to Werner form).
    Returns ``(p_success, F_out)``; with no noise it equals :func:`bbpssw`."""
    p, c = noisy_recurrence(werner_to_bell_diagonal(f1), werner_to_bell_diagonal(f2),
                            gate_error, meas_error)
    return p, c[..., 0]
