"""Proportional-share (trading-post) market for spare PRBs, played by price-anticipating UEs.

UE ``i`` bids ``b_ij >= 0`` at each base station ``j`` of its CoMP cluster, within its budget
``B_i``. BS ``j`` sells its ``C_j`` spare PRBs in proportion to the bids: UE ``i`` receives
``x_ij = C_j · b_ij / (Σ_k b_kj + r_j)`` PRBs, where ``r_j >= 0`` is the BS's reserve bid (a
reserve price ``p_res`` per PRB is the reserve bid ``p_res·C_j``; what the reserve "buys" stays
unsold). The BS's price is ``(Σ_k b_kj + r_j) / C_j`` and its revenue ``Σ_k b_kj``.
UE ``i`` values PRBs of BS ``j`` at ``v_ij`` (its CoMP rate per PRB), so with ``w_ij = v_ij·C_j``
its payoff is ``Σ_j w_ij·b_ij/(b_ij + y_ij) - μ·Σ_j b_ij`` with ``y_ij`` the other bids (and
reserve) at ``j``: ``μ = 0`` is the fixed-budget game of Feldman, Lai & Zhang (EC 2005; IEEE
TPDS 20(8), 2009) and Zhang (ICALP 2005); ``μ > 0`` prices money as in the quasi-linear
proportional-allocation game of Johari & Tsitsiklis (Math. Oper. Res. 29(3), 2004).

All functions are vectorised over UEs: a market instance holds, per UE, the ``K`` BS indices of
its cluster (``cluster``, shape ``(N, K)``) and the values ``v`` of those links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .newton_kernel import newton_rounds

__all__ = [
    "DYNAMICS",
    "MarketInstance",
    "Allocation",
    "MarketResult",
    "best_response",
    "respond_to_totals",
    "response_slope",
    "allocate",
    "run_market",
    "initial_bids",
    "welfare",
    "utilities",
    "nash_gap",
    "symmetric_equilibrium",
]

#: bid-update dynamics accepted by :func:`run_market`
DYNAMICS = ("newton", "best_response")
#: floor on others' bids: against an empty BS the best reply is "an infinitesimal bid"
Y_FLOOR = 1e-12


def _check_array(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: must be finite")
    if np.any(a < 0):
        raise ValueError(f"{name}: must be >= 0 (got min {a.min():g})")
    return a


@dataclass(frozen=True)
class MarketInstance:
    """One allocation problem.

    Attributes:
        cluster: ``(N, K)`` BS indices of each UE's CoMP cluster (distinct per row, K >= 1).
        value: ``(N, K)`` value of one PRB of that BS to the UE (e.g. Mbit/s per PRB), >= 0.
        spare: ``(M,)`` spare PRBs per BS, >= 0.
        budget: ``(N,)`` budget per UE (tokens), >= 0.
        reserve: ``(M,)`` reserve bid per BS (tokens), >= 0; default none.
        money_value: μ >= 0, value of one token (0 = fixed-budget game).
        cap: ``(N,)`` demand cap per UE in value units (e.g. the Mbit/s it still needs), or
            None for uncapped linear utilities (the classical trading post).
        weight: ``(N,)`` urgency weight per UE (utility per unit of value), None = 1.

    With ``cap``/``weight`` UE ``i``'s utility is ``a_i·min(Σ_j v_ij·x_ij, D_i)`` (concave,
    demand-capped; :mod:`ran.comp.capped`), else ``Σ_j v_ij·x_ij``.
    """

    cluster: np.ndarray
    value: np.ndarray
    spare: np.ndarray
    budget: np.ndarray
    reserve: np.ndarray | None = None
    money_value: float = 0.0
    cap: np.ndarray | None = None
    weight: np.ndarray | None = None

    def __post_init__(self):
        cluster = np.asarray(self.cluster)
        if cluster.ndim != 2:
            raise ValueError(f"cluster: expected an (N, K) array, got shape {cluster.shape}")
        if cluster.shape[1] < 1:
            raise ValueError("cluster size K must be >= 1 (got 0)")
        if cluster.size and not np.issubdtype(cluster.dtype, np.integer):
            raise ValueError("cluster: must hold integer BS indices")
        spare = _check_array("spare", self.spare, 1)
        m = spare.size
        if cluster.size and (cluster.min() < 0 or cluster.max() >= m):
            raise ValueError(f"cluster: BS indices must be in [0, {m}) (M = number of BSs)")
        srt = np.sort(cluster, axis=1)
        if np.any(srt[:, 1:] == srt[:, :-1]):
            raise ValueError("cluster: a BS appears twice in one UE's cluster")
        value = _check_array("value", self.value, 2)
        if value.shape != cluster.shape:
            raise ValueError(f"value: shape {value.shape} differs from cluster {cluster.shape}")
        budget = _check_array("budget", self.budget, 1)
        if budget.size != cluster.shape[0]:
            raise ValueError(f"budget: {budget.size} entries for {cluster.shape[0]} UEs")
        reserve = np.zeros(m) if self.reserve is None else _check_array("reserve", self.reserve, 1)
        if reserve.size != m:
            raise ValueError(f"reserve: {reserve.size} entries for {m} BSs")
        for name in ("cap", "weight"):
            arr = getattr(self, name)
            if arr is not None:
                arr = _check_array(name, arr, 1)
                if arr.size != cluster.shape[0]:
                    raise ValueError(f"{name}: {arr.size} entries for {cluster.shape[0]} UEs")
                object.__setattr__(self, name, arr)
        if not (np.isfinite(self.money_value) and self.money_value >= 0):
            raise ValueError(f"money_value: must be >= 0 (got {self.money_value!r})")
        for name, arr in (
            ("cluster", cluster.astype(np.int64)),
            ("value", value),
            ("spare", spare),
            ("budget", budget),
            ("reserve", reserve),
        ):
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "money_value", float(self.money_value))

    @classmethod
    def trusted(
        cls, cluster, value, spare, budget, reserve, money_value=0.0, cap=None, weight=None
    ):
        """An instance from arrays the caller guarantees valid (int64 cluster, float
        arrays of the right shapes, all finite and >= 0): skips the checks of the
        constructor, for the model's per-epoch instances."""
        inst = object.__new__(cls)
        for name, arr in (
            ("cluster", cluster),
            ("value", value),
            ("spare", spare),
            ("budget", budget),
            ("reserve", reserve),
            ("money_value", float(money_value)),
            ("cap", cap),
            ("weight", weight),
        ):
            object.__setattr__(inst, name, arr)
        return inst

    @property
    def n_ues(self) -> int:
        return int(self.cluster.shape[0])

    @property
    def n_bs(self) -> int:
        return int(self.spare.size)

    @property
    def capped(self) -> bool:
        return self.cap is not None

    @property
    def urgency(self) -> np.ndarray:
        """``a_i`` (ones without weights)."""
        return np.ones(self.n_ues) if self.weight is None else self.weight

    @property
    def weights(self) -> np.ndarray:
        """``w_ij = v_ij · C_j``: the value of BS ``j``'s whole spare capacity to UE ``i``."""
        return self.value * self.spare[self.cluster]

    def per_bs(self, x: np.ndarray) -> np.ndarray:
        """Sum an ``(N, K)`` array over UEs into ``(M,)`` per BS."""
        return np.bincount(self.cluster.ravel(), weights=np.ravel(x), minlength=self.n_bs)


@dataclass(frozen=True)
class Allocation:
    """Outcome of a bid profile: PRBs ``(N, K)``, prices per PRB and revenue ``(M,)``."""

    prbs: np.ndarray
    prices: np.ndarray
    revenue: np.ndarray


@dataclass(frozen=True)
class MarketResult:
    """Outcome of :func:`run_market`. ``time_s`` = rounds × 2 × per-message latency."""

    bids: np.ndarray
    allocation: Allocation
    rounds: int
    messages: int
    converged: bool
    time_s: float


def _sorted_by_ratio(w, other, budget):
    """Common prologue of the water-fillings: ``w``, ``other`` (floored at ``Y_FLOOR``) and
    ``budget`` as arrays, the mask ``w > 0``, and ``(w/other, w, other)`` sorted by the ratio
    (descending) along each row."""
    w = np.asarray(w, dtype=float)
    other = np.maximum(np.asarray(other, dtype=float), Y_FLOOR)
    budget = np.asarray(budget, dtype=float)
    act = w > 0
    ratio = np.where(act, w / other, 0.0)
    order = np.argsort(-ratio, axis=1, kind="stable")
    srt = [np.take_along_axis(a, order, axis=1) for a in (ratio, w, other)]
    return w, other, budget, act, srt


def best_response(w, y, budget, money_value: float = 0.0) -> np.ndarray:
    """Price-anticipating best response by closed-form water-filling, vectorised over UEs.

    Maximises ``Σ_j w_j·b_j/(b_j + y_j) - μ·Σ_j b_j`` s.t. ``Σ_j b_j <= B``, ``b >= 0``. KKT
    gives ``b_j = (sqrt(w_j·y_j/λ) - y_j)^+`` with one multiplier λ per UE: sort BSs by
    ``w_j/y_j`` (descending); with the ``k`` best active, spending the budget needs
    ``λ_k = (Σ_{l<=k} sqrt(w_l·y_l) / (B + Σ_{l<=k} y_l))²``; the active set is the largest
    ``k`` with ``w_k/y_k > λ_k``, and ``λ = max(μ, λ_B)`` (the budget binds only when
    ``λ_B > μ``). Feldman, Lai & Zhang (EC 2005, §4) give the μ = 0 case.

    Args:
        w: ``(N, K)`` values ``v·C`` (>= 0); y: ``(N, K)`` others' bids plus reserve (>= 0;
        floored at a tiny positive number, as an empty BS invites an infinitesimal bid);
        budget: ``(N,)``; money_value: μ >= 0.
    """
    w, y, budget, act, (r, ws, ys) = _sorted_by_ratio(w, y, budget)
    s = np.cumsum(np.sqrt(ws * ys), axis=1)
    big_y = np.cumsum(ys, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_k = (s / (budget[:, None] + big_y)) ** 2
    valid = (ws > 0) & (r > lam_k)
    k = np.where(valid.any(axis=1), valid.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1), -1)
    lam_b = np.where(k >= 0, np.take_along_axis(lam_k, np.maximum(k, 0)[:, None], 1)[:, 0], np.inf)
    lam = np.maximum(money_value, lam_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.sqrt(w * y / lam[:, None]) - y
    b = np.where(act & np.isfinite(lam)[:, None] & (lam[:, None] > 0), np.maximum(b, 0.0), 0.0)
    b = np.where(budget[:, None] > 0, b, 0.0)
    return _within_budget(b, budget)


def _within_budget(b: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Scale rows whose spend exceeds the budget by float round-off (``sqrt(w·y/λ) - y``
    cancels when ``b << y``) back onto the budget, so ``Σ_j b_j <= B`` holds exactly."""
    spend = b.sum(axis=1)
    over = spend > budget
    if over.any():
        b = b.copy()
        b[over] *= (budget[over] / spend[over])[:, None]
    return b


def respond_to_totals(w, totals, budget, money_value: float = 0.0, with_bound: bool = False):
    """Bids consistent with posted totals ``T_j`` (all bids plus reserve at BS ``j``).

    The best response's KKT condition ``w_j·y_j/(b_j + y_j)² = λ`` with ``b_j + y_j = T_j``
    gives ``b_j = T_j·(1 - λ·T_j/w_j)^+``. The budget multiplier follows by water-filling:
    sort BSs by ``w_j/T_j``; with the ``k`` best active,
    ``λ_k = (Σ_{l<=k} T_l - B) / Σ_{l<=k} T_l²/w_l``, valid when it lies between the k-th and
    (k+1)-th ratio; ``λ = max(μ, λ_B)``. At a fixed point ``T_j = Σ_i b_ij + r_j`` these bids
    are mutual best responses (a Nash equilibrium). With ``with_bound`` it also returns the
    ``(N,)`` mask of UEs whose budget binds (``λ_B > μ``).
    """
    w, t, budget, act, (r, ws, ts) = _sorted_by_ratio(w, totals, budget)
    acts = ws > 0
    s_t = np.cumsum(np.where(acts, ts, 0.0), axis=1)
    s_q = np.cumsum(np.where(acts, ts**2 / np.where(acts, ws, 1.0), 0.0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_k = (s_t - budget[:, None]) / s_q
    nxt = np.concatenate([r[:, 1:], np.zeros((r.shape[0], 1))], axis=1)
    valid = acts & (lam_k < r) & (lam_k >= nxt)
    n_act = acts.sum(axis=1)
    last = np.take_along_axis(lam_k, np.maximum(n_act - 1, 0)[:, None], 1)[:, 0]
    first_valid = np.take_along_axis(lam_k, np.argmax(valid, axis=1)[:, None], 1)[:, 0]
    lam_b = np.where(valid.any(axis=1), first_valid, last)  # budget beyond all totals: λ < 0
    lam = np.maximum(money_value, lam_b)
    b = t * (1.0 - lam[:, None] * t / np.where(act, w, 1.0))
    b = np.where(act & (n_act > 0)[:, None], np.maximum(b, 0.0), 0.0)
    b = _within_budget(np.where(budget[:, None] > 0, b, 0.0), budget)
    if with_bound:
        return b, (lam_b > money_value) & (budget > 0)
    return b


def allocate(inst: MarketInstance, bids) -> Allocation:
    """Proportional shares of the spare PRBs for ``bids`` ``(N, K)``: ``x_ij = C_j·b_ij/T_j``
    with ``T_j = Σ_k b_kj + r_j``; price ``T_j/C_j`` per PRB (NaN without spare PRBs)."""
    bids = np.asarray(bids, dtype=float)
    revenue = inst.per_bs(bids)
    totals = revenue + inst.reserve
    t = totals[inst.cluster]
    share = np.divide(bids, t, out=np.zeros_like(t), where=t > 0)
    prices = np.divide(totals, inst.spare, out=np.full(totals.shape, np.nan), where=inst.spare > 0)
    return Allocation(share * inst.spare[inst.cluster], prices, revenue)


def welfare(inst: MarketInstance, prbs) -> float:
    """Social welfare: the sum of :func:`utilities`."""
    return float(np.sum(utilities(inst, prbs)))


def utilities(inst: MarketInstance, prbs) -> np.ndarray:
    """Per-UE utility: ``Σ_j v_ij·x_ij``, or ``a_i·min(Σ_j v_ij·x_ij, D_i)`` when capped."""
    u = np.sum(inst.value * np.asarray(prbs, dtype=float), axis=1)
    if inst.cap is not None:
        u = inst.urgency * np.minimum(u, inst.cap)
    return u


def _payoff(inst: MarketInstance, bids, y) -> np.ndarray:
    w = inst.weights
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(bids + y > 0, bids / (bids + y), 0.0)
    return np.sum(w * share, axis=1) - inst.money_value * np.sum(bids, axis=1)


def nash_gap(inst: MarketInstance, bids) -> float:
    """Largest gain any UE gets from a unilateral best response, relative to the larger of
    its best-response and current payoff magnitudes (0 at a Nash equilibrium)."""
    bids = np.asarray(bids, dtype=float)
    y = (inst.per_bs(bids) + inst.reserve)[inst.cluster] - bids
    br = best_response(inst.weights, y, inst.budget, inst.money_value)
    y_f = np.maximum(y, Y_FLOOR)
    best, now = _payoff(inst, br, y_f), _payoff(inst, bids, y_f)
    # relative to the larger payoff magnitude: a UE whose best reply is "bid nothing"
    # (payoff 0) but who pays for a loss now is far from equilibrium
    scale = np.maximum(np.maximum(np.abs(best), np.abs(now)), 1e-300)
    gap = np.where(best > now, (best - now) / scale, 0.0)
    return float(gap.max(initial=0.0))


def initial_bids(inst: MarketInstance) -> np.ndarray:
    """Starting bids: the budget split evenly over the BSs a UE values (never above the
    one-bidder demand ``w/μ`` when ``μ > 0``)."""
    act = inst.weights > 0
    n = np.maximum(act.sum(axis=1, keepdims=True), 1)
    b0 = inst.budget[:, None] * act / n
    if inst.money_value > 0:  # never start above the unconstrained (one-bidder) demand
        b0 = np.minimum(b0, inst.weights / inst.money_value)
    return b0


def run_market(
    inst: MarketInstance,
    eps: float = 1e-4,
    max_rounds: int = 200,
    dynamics: str = "newton",
    latency_s: float = 5e-4,
    init_bids=None,
    compiled: bool = True,
) -> MarketResult:
    """Bilateral bidding rounds until bids change by less than ``eps`` (relative to the
    budget) or ``max_rounds`` rounds.

    Each round every UE sends one bid to each BS of its cluster and each BS answers every
    UE of its bidder set with its posted total, so a round is ``2·N·K`` messages and two
    message latencies (the UEs act in parallel); ``time_s = rounds·2·latency_s``.

    Dynamics:
        * ``"newton"`` (default): BSs post totals ``T_j``; UEs answer with
          :func:`respond_to_totals`; each BS then moves ``T_j`` by a Newton step on
          ``T_j = Σ_i b_ij + r_j`` computed from the bids it received
          (``dF/dT`` from :func:`response_slope`, which accounts for budget-bound UEs),
          halving its step whenever the residual changes sign. Converged when the bids stop
          moving with ``|Σ_i b_ij + r_j - T_j| < eps·T_j``; if they never settle, the final
          bids still count as converged when the Nash gap (:func:`nash_gap`, second order in
          the bid error) is below ``eps²``.
        * ``"best_response"``: simultaneous price-anticipating best responses to the others'
          bids (:func:`best_response`), damped by ``2/n`` with ``n`` the largest number of
          bidders at the UE's BSs (without damping, n >= 4 symmetric bidders oscillate).
          Converged requires every bid to be within ``eps`` of the UE's best response.
    ``compiled`` runs the Newton rounds in the numba kernel of
    :mod:`ran.comp.newton_kernel` (same arithmetic; False uses the numpy reference).
    Both declare convergence only at (eps-approximate) Nash equilibria. Neither is guaranteed
    to converge: with near-zero reserves (below about 1e-4 tokens per PRB) a BS with a single
    bidder makes the Newton step degenerate and the totals can cycle; ``converged`` is then
    False after ``max_rounds`` and :func:`nash_gap` measures how far the bids are from a
    Nash equilibrium.
    """
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics: unknown {dynamics!r} (allowed: {', '.join(DYNAMICS)})")
    if not eps > 0:
        raise ValueError(f"eps: must be > 0 (got {eps!r})")
    if isinstance(max_rounds, bool) or int(max_rounds) < 1:
        raise ValueError(f"max_rounds: must be an integer >= 1 (got {max_rounds!r})")
    if not latency_s >= 0:
        raise ValueError(f"latency_s: must be >= 0 (got {latency_s!r})")
    w, budget, mu = inst.weights, inst.budget, inst.money_value
    scale = np.maximum(budget, 1e-12)[:, None]
    bids = initial_bids(inst) if init_bids is None else np.asarray(init_bids, dtype=float).copy()
    if bids.shape != w.shape:
        raise ValueError(f"init_bids: shape {bids.shape} differs from cluster {w.shape}")
    rounds, converged = 0, False
    if inst.n_ues:
        if dynamics == "newton":
            if compiled:
                rounds, converged, bids = newton_rounds(
                    inst.cluster, w, budget, mu, inst.reserve, inst.n_bs, bids.copy(), eps,
                    int(max_rounds), scale[:, 0],
                )
            else:
                rounds, converged, bids = _newton(inst, bids, eps, int(max_rounds), scale)
            if not converged:  # bids at an equilibrium whose totals have not settled: the
                # payoff gap is second order in the bid error, hence eps² (bids good to ~eps)
                converged = nash_gap(inst, bids) < eps * eps
        else:
            nb = inst.per_bs((w > 0).astype(float))
            alpha = np.minimum(1.0, 2.0 / np.maximum(nb[inst.cluster].max(axis=1), 1.0))[:, None]
            for rounds in range(1, int(max_rounds) + 1):  # noqa: B007 - rounds is reported
                y = (inst.per_bs(bids) + inst.reserve)[inst.cluster] - bids
                step = best_response(w, y, budget, mu) - bids
                # converged = the bids ARE best responses (the undamped residual is small);
                # the damped move alpha*step can be tiny far from an equilibrium
                residual = np.max(np.abs(step) / scale)
                bids = bids + alpha * step
                if residual < eps:
                    converged = True
                    break
    messages = 2 * rounds * int(inst.cluster.size)
    return MarketResult(
        bids, allocate(inst, bids), rounds, messages, converged, rounds * 2.0 * latency_s
    )


def _newton(inst: MarketInstance, bids, eps, max_rounds, scale):
    w, budget, mu, cl = inst.weights, inst.budget, inst.money_value, inst.cluster
    totals = np.maximum(inst.per_bs(bids) + inst.reserve, Y_FLOOR)
    step = np.ones(inst.n_bs)
    g_prev = np.zeros(inst.n_bs)
    wanted = inst.per_bs((w > 0).astype(float)) > 0  # BSs nobody values have no price to find
    for rnd in range(1, max_rounds + 1):
        tc = totals[cl]
        new, bound = respond_to_totals(w, tc, budget, mu, with_bound=True)
        f = inst.per_bs(new)
        slope = inst.per_bs(response_slope(w, tc, new, bound))
        g = f + inst.reserve - totals
        step = np.where(g * g_prev < 0, 0.5 * step, np.minimum(1.0, 1.25 * step))
        g_prev = g
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where(slope - 1.0 < -1e-9, -g / (slope - 1.0), g)
        change = np.max(np.abs(new - bids) / scale)
        residual = np.max(np.abs(g) / totals, where=wanted, initial=0.0)
        bids = new
        if change < eps and residual < eps:
            return rnd, True, bids
        totals = np.clip(totals + step * newton, totals / 4.0, totals * 4.0)
        totals = np.maximum(totals, Y_FLOOR)
    return max_rounds, False, bids


def response_slope(w, totals, bids, bound) -> np.ndarray:
    """``∂b_ij/∂T_j`` of :func:`respond_to_totals` (own total only), ``(N, K)``.

    With ``b_j = T_j·(1 - λ·T_j/w_j)`` and λ fixed (money binds, λ = μ):
    ``∂b_j/∂T_j = 1 - 2λT_j/w_j = 2b_j/T_j - 1``. When the budget binds, λ moves with
    ``T_j`` so that the spend stays ``B``: ``Σ_l b_l = Σ_l T_l - λ·Σ_l q_l = B`` with
    ``q_l = T_l²/w_l`` over the active BSs gives ``∂λ/∂T_j = (1 - 2λT_j/w_j)/Σ_l q_l`` and
    ``∂b_j/∂T_j = (2b_j/T_j - 1)·(1 - q_j/Σ_l q_l)`` (0 for a UE with a single active BS:
    it bids its budget whatever the total)."""
    act = bids > 0
    base = np.where(act, 2.0 * bids / totals - 1.0, 0.0)
    q = np.where(act, totals**2 / np.where(w > 0, w, 1.0), 0.0)
    sq = q.sum(axis=1, keepdims=True)
    shrink = np.where(sq > 0, 1.0 - q / np.where(sq > 0, sq, 1.0), 0.0)
    return np.where(np.asarray(bound)[:, None], base * shrink, base)


def symmetric_equilibrium(
    n: int, value: float, spare: float, budget: float, money_value: float = 0.0
) -> tuple[float, float, float]:
    """Closed-form Nash equilibrium of ``n >= 2`` identical UEs at one BS without reserve:
    ``(bid, share, price)``.

    With ``w = v·C``, the first-order condition ``w·y/(b + y)² = μ`` at ``y = (n-1)·b`` gives
    ``b* = w·(n-1)/(μ·n²)`` (Johari & Tsitsiklis 2004, §3); the budget caps it:
    ``b* = min(B, w·(n-1)/(μ·n²))``, and ``b* = B`` when ``μ = 0`` (Feldman, Lai & Zhang 2005).
    Shares are ``1/n`` and the price is ``n·b*/C``.
    """
    if n < 2:
        raise ValueError(f"n: the symmetric equilibrium needs n >= 2 UEs (got {n})")
    if not (value > 0 and spare > 0 and budget > 0 and money_value >= 0):
        raise ValueError("value, spare and budget must be > 0 and money_value >= 0")
    w = value * spare
    b = budget if money_value == 0 else min(budget, w * (n - 1) / (money_value * n * n))
    return b, 1.0 / n, n * b / spare
