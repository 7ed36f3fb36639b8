"""Density-matrix brute force shared by the quantum tests: Bell states, Bell-diagonal states,
gates on n qubits, two-qubit depolarising, and Fock-space optics for heralding (two modes,
at most two photons). Independent of quantum.physics: used as the oracle for its closed forms.
"""

from __future__ import annotations

from itertools import product
from math import comb, factorial, sqrt

import numpy as np

# Bell states as kets in the basis |00>, |01>, |10>, |11>
_S = 1 / np.sqrt(2)
PHI_P = np.array([_S, 0, 0, _S])
PSI_M = np.array([0, _S, -_S, 0])
PSI_P = np.array([0, _S, _S, 0])
PHI_M = np.array([_S, 0, 0, -_S])
BELL = [PHI_P, PSI_M, PSI_P, PHI_M]  # the (A, B, C, D) order of quantum.physics

I2 = np.eye(2)
X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])
Y = 1j * X @ Z
H = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float)


def bell_diagonal_rho(c):
    return sum(ci * np.outer(b, b) for ci, b in zip(c, BELL, strict=True))


def bell_coefficients(rho2):
    """Diagonal of a two-qubit state in the Bell basis (A, B, C, D)."""
    return np.array([float(np.real(b.conj() @ rho2 @ b)) for b in BELL])


def op_on(u, qubits, n):
    """The 2^n × 2^n matrix of gate ``u`` acting on ``qubits`` (in that order) of n qubits."""
    k = len(qubits)
    rest = [q for q in range(n) if q not in qubits]
    perm = list(qubits) + rest
    full = np.kron(u, np.eye(2 ** (n - k)))
    # full acts on the permuted order; bring it back to the natural order
    t = full.reshape([2] * (2 * n))
    inv = np.argsort(perm)
    t = t.transpose(list(inv) + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def apply(rho, u, qubits, n):
    m = op_on(u, qubits, n)
    return m @ rho @ m.conj().T


def partial_trace(rho, keep, n):
    """Reduced state on ``keep`` (sorted order) of an n-qubit state."""
    t = rho.reshape([2] * (2 * n))
    drop = [q for q in range(n) if q not in keep]
    for q in sorted(drop, reverse=True):
        nq = t.ndim // 2
        t = np.trace(t, axis1=q, axis2=q + nq)
    d = 2 ** len(keep)
    return t.reshape(d, d)


def depolarise_two(rho, qubits, p, n):
    """Two-qubit depolarising: with probability p replace ``qubits`` by I/4."""
    if p == 0:
        return rho
    keep = [q for q in range(n) if q not in qubits]
    rest = partial_trace(rho, keep, n)
    mixed = np.kron(np.eye(4) / 4, rest)  # order: qubits, keep
    perm = list(qubits) + keep
    t = mixed.reshape([2] * (2 * n))
    inv = np.argsort(perm)
    t = t.transpose(list(inv) + [n + i for i in inv])
    return (1 - p) * rho + p * t.reshape(2**n, 2**n)


def project(rho, qubit, bit, n):
    """Unnormalised state after projecting ``qubit`` on |bit>."""
    proj = np.diag([1.0 - bit, float(bit)])
    return apply(rho, proj, [qubit], n)


# -- two optical modes with at most two photons (Fock basis |n_a, n_b>, n_a + n_b <= 2) -------
FOCK = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
_IDX = {s: i for i, s in enumerate(FOCK)}


def beam_splitter():
    """50:50 beam splitter a† → (c† + d†)/√2, b† → (c† − d†)/√2 on the 6-dim Fock space."""
    u = np.zeros((6, 6))
    for na, nb in FOCK:
        # expand (c+d)^na (c-d)^nb / sqrt(2^(na+nb) na! nb!) into c^i d^j
        amp: dict[tuple[int, int], float] = {}
        for i in range(na + 1):
            for j in range(nb + 1):
                key = (i + j, (na - i) + (nb - j))
                amp[key] = amp.get(key, 0.0) + comb(na, i) * comb(nb, j) * (-1) ** (nb - j)
        norm = 1 / sqrt(2 ** (na + nb) * factorial(na) * factorial(nb))
        for (nc, nd), a in amp.items():
            u[_IDX[(nc, nd)], _IDX[(na, nb)]] += a * norm * sqrt(factorial(nc) * factorial(nd))
    return u


def loss_kraus(eta):
    """Kraus operators of independent photon loss (transmission eta) on both modes."""
    out = []
    for ka, kb in product(range(3), repeat=2):
        k = np.zeros((6, 6))
        for na, nb in FOCK:
            if ka <= na and kb <= nb:
                amp = sqrt(comb(na, ka) * eta ** (na - ka) * (1 - eta) ** ka
                           * comb(nb, kb) * eta ** (nb - kb) * (1 - eta) ** kb)
                k[_IDX[(na - ka, nb - kb)], _IDX[(na, nb)]] = amp
        if k.any():
            out.append(k)
    return out


def emit(rho_spins):
    """Each spin in |1> emits one photon into its own mode: spins (4) -> spins ⊗ modes (24)."""
    v = np.zeros((24, 4))
    for s in range(4):
        sa, sb = s >> 1, s & 1
        v[s * 6 + _IDX[(sa, sb)], s] = 1.0
    return v @ rho_spins @ v.T


def detection_round(rho_spins, eta, p_dark):
    """One detection window: emit, lose, interfere, count photons per output (threshold
    detectors with dark counts). Returns {(click_c, click_d): unnormalised spin state}."""
    rho = emit(rho_spins)
    bs = np.kron(np.eye(4), beam_splitter())
    rho = sum(np.kron(np.eye(4), k) @ rho @ np.kron(np.eye(4), k).T for k in loss_kraus(eta))
    rho = bs @ rho @ bs.T
    out = {pat: np.zeros((4, 4), dtype=complex) for pat in product((0, 1), repeat=2)}
    t = rho.reshape(4, 6, 4, 6)
    for (nc, nd), i in _IDX.items():
        spins = t[:, i, :, i]
        for cc, cd in out:
            pc = 1.0 if nc > 0 else p_dark
            pd = 1.0 if nd > 0 else p_dark
            w = (pc if cc else 1 - pc) * (pd if cd else 1 - pd)
            out[(cc, cd)] = out[(cc, cd)] + w * spins
    return out


def heralding_patterns(scheme, eta, p_dark, alpha=0.5):
    """Heralded spin states per accepted click pattern, and P(no click at all).

    ``"midpoint"``: Barrett-Kok, spins start in (|0> + |1>)/√2, two rounds with X on both
    spins in between, exactly one click per round. ``"single_click"``: spins start in
    √(1−α)|0> + √α|1>, one round, exactly one click. Returns ({pattern: unnormalised spin
    state}, P(no click in any window))."""
    amp = np.array([np.sqrt(1 - alpha), np.sqrt(alpha)])
    ket = np.kron(amp, amp)
    rho = np.outer(ket, ket).astype(complex)
    one = [(1, 0), (0, 1)]
    first = detection_round(rho, eta, p_dark)
    if scheme == "single_click":
        return {pat: first[pat] for pat in one}, float(np.real(np.trace(first[(0, 0)])))
    xx = np.kron(X, X)
    states = {}
    for pat1 in one:
        second = detection_round(xx @ first[pat1] @ xx, eta, p_dark)
        for pat2 in one:
            states[(pat1, pat2)] = second[pat2]
    none2 = detection_round(xx @ first[(0, 0)] @ xx, eta, p_dark)[(0, 0)]
    return states, float(np.real(np.trace(none2)))


def corrected_bell_coefficients(states, reference):
    """Sum over patterns of the Bell coefficients after the Pauli correction (on qubit 2)
    that maps each pattern's ``reference`` state (noiseless heralding) onto Φ⁺."""
    total = np.zeros(4)
    for pat, rho in states.items():
        ref = reference[pat] / np.trace(reference[pat])

        def fid(u, ref=ref):
            return bell_coefficients(np.kron(I2, u) @ ref @ np.kron(I2, u).conj().T)[0]

        best = max((I2, X, Y, Z), key=fid)
        u = np.kron(I2, best)
        total += bell_coefficients(u @ rho @ u.conj().T)
    return total


def rx(theta):
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * X


def recurrence_round(c1, c2, gate_error=0.0, meas_error=0.0, rotate=True):
    """One recurrence round on ρ1 (qubits A1=0, B1=1) ⊗ ρ2 (A2=2, B2=3): optional DEJMPS
    rotations (Rx(π/2) at A, Rx(−π/2) at B), CNOT A1→A2 and B1→B2 each followed by two-qubit
    depolarising, Z measurement of A2 and B2 with each bit misread with probability
    ``meas_error``, keep the source pair when the reported bits agree.
    Returns (p_success, Bell coefficients of the kept pair)."""
    n = 4
    rho = np.kron(bell_diagonal_rho(c1), bell_diagonal_rho(c2)).astype(complex)
    if rotate:
        for q, th in ((0, np.pi / 2), (1, -np.pi / 2), (2, np.pi / 2), (3, -np.pi / 2)):
            rho = apply(rho, rx(th), [q], n)
    rho = apply(rho, CNOT, [0, 2], n)
    rho = apply(rho, CNOT, [1, 3], n)
    rho = depolarise_two(rho, [0, 2], gate_error, n)
    rho = depolarise_two(rho, [1, 3], gate_error, n)
    kept = np.zeros((4, 4), dtype=complex)
    e = meas_error
    for ma, mb in product((0, 1), repeat=2):
        post = project(project(rho, 2, ma, n), 3, mb, n)
        # reported agreement: true agree & (no flip or both flip), or disagree & one flip
        w = (1 - e) ** 2 + e**2 if ma == mb else 2 * e * (1 - e)
        kept = kept + w * partial_trace(post, [0, 1], n)
    p = float(np.real(np.trace(kept)))
    return p, bell_coefficients(kept / p)


def noisy_swap(c1, c2, gate_error=0.0, meas_error=0.0):
    """Swap of ρ12 ⊗ ρ34 by CNOT 2→3 (then two-qubit depolarising), H on 2, Z measurement of
    2 and 3 with each bit misread with probability ``meas_error``, correction X^m3 then Z^m2
    on qubit 4 from the reported bits. Returns the Bell coefficients of pair (1, 4)."""
    n = 4
    rho = np.kron(bell_diagonal_rho(c1), bell_diagonal_rho(c2)).astype(complex)
    rho = apply(rho, CNOT, [1, 2], n)
    rho = depolarise_two(rho, [1, 2], gate_error, n)
    rho = apply(rho, H, [1], n)
    out = np.zeros((4, 4), dtype=complex)
    e = meas_error
    for m2, m3 in product((0, 1), repeat=2):
        post = partial_trace(project(project(rho, 1, m2, n), 2, m3, n), [0, 3], n)
        for r2, r3 in product((0, 1), repeat=2):
            w = (e if r2 != m2 else 1 - e) * (e if r3 != m3 else 1 - e)
            u = np.kron(I2, np.linalg.matrix_power(Z, r2) @ np.linalg.matrix_power(X, r3))
            out = out + w * (u @ post @ u.conj().T)
    return bell_coefficients(out / np.trace(out))
