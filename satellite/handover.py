"""Handover between candidate links (beams, satellites, providers): policies, interruption
costs and per-flight metrics.

Interruption defaults (configurable; see the module README for the discussion):

* beam switch, same satellite: 2 s - DVB-S2/RCS2 mobility handover = log-off, re-tune,
  carrier and NCR re-synchronisation, log-on (engineering assumption; ETSI TS 101 545-2
  allows seamless handover, deployed aero systems report second-scale gaps);
* GEO satellite switch, same provider: 10 s (antenna re-pointing, acquisition, network entry);
* LEO satellite switch: 0.05 s, and only at the 15-s reconfiguration boundaries of the
  global scheduler (Tanveer et al., CoNEXT 2023; Mohan et al., WWW 2024 observe Starlink
  satellite reassignments every 15 s with tens-of-ms disruptions);
* provider switch: 30 s (another network: re-association, addressing, VPN/session
  re-establishment; assumption);
* loss of lock is declared after 2 s without carrier (assumption): a reactive policy notices
  a blocked link only then.

With ``make_before_break`` (a multi-modem terminal) a handover started while the old link
still works costs no service: the old link carries the traffic until the new one is up. That
is where prediction pays: a forced handover after the link is lost always leaves a gap.

Accounting per second ``t`` on serving link ``c``: the ACM loop picks the MODCOD from the
*measured* Es/N0 one second earlier minus ``acm_margin_db``; the second carries
``η·Rs/(1 + load)`` bits if the *true* Es/N0 meets that MODCOD's threshold and nothing
otherwise; an interruption started by a handover blanks its duration. Outage seconds count
seconds with true Es/N0 below the lowest MODCOD (or no visible/unblocked serving link).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .dvbs2 import _frontier, modcod_table
from .links import KIND_LEO, LinkSet
from .load import user_share

__all__ = [
    "Interruptions",
    "LinkView",
    "Policy",
    "reactive",
    "max_elevation",
    "max_remaining_visibility",
    "max_throughput",
    "best_predicted",
    "predictive",
    "POLICIES",
    "COST_MARGIN_DB_PER_S",
    "simulate_handover",
    "switch_kind",
    "remaining_visibility_s",
    "HandoverResult",
    "LinkSession",
    "hysteresis_select",
    "clairvoyant_schedule",
]

SWITCH_KINDS = ("none", "beam", "satellite", "provider")


@dataclass(frozen=True)
class Interruptions:
    """Interruption per handover type (s) and the LEO reconfiguration period (s).

    ``make_before_break``: a terminal with a second modem keeps using the old link while a
    *planned* handover (started while the old link is usable) completes; a forced handover
    (after the link is lost) always leaves a gap. ``loss_detect_s``: seconds without carrier
    lock before the terminal declares the serving link lost (until then policies see its
    last measured Es/N0).
    """

    beam_s: float = 2.0
    satellite_s: float = 10.0
    leo_satellite_s: float = 0.05
    provider_s: float = 30.0
    leo_slot_s: float = 15.0
    make_before_break: bool = False
    loss_detect_s: int = 2

    def __post_init__(self):
        for k in ("beam_s", "satellite_s", "leo_satellite_s", "provider_s"):
            if getattr(self, k) < 0:
                raise ValueError(f"{k}: interruption must be >= 0 s (got {getattr(self, k)})")
        if self.leo_slot_s <= 0:
            raise ValueError(f"leo_slot_s: must be > 0 (got {self.leo_slot_s})")
        if self.loss_detect_s < 1:
            raise ValueError(f"loss_detect_s: must be >= 1 s (got {self.loss_detect_s})")


def switch_kind(ls: LinkSet, a: int, b: int) -> int:
    """0 none, 1 beam, 2 satellite, 3 provider for a switch from candidate a to b."""
    if a == b:
        return 0
    if ls.provider[a] != ls.provider[b]:
        return 3
    if ls.sat[a] != ls.sat[b]:
        return 2
    return 1


def _interruption_s(ls: LinkSet, a: int, b: int, cost: Interruptions) -> float:
    k = switch_kind(ls, a, b)
    if k == 3:
        return cost.provider_s
    if k == 2:
        return cost.leo_satellite_s if ls.kind[b] == KIND_LEO else cost.satellite_s
    return cost.beam_s if k == 1 else 0.0


@dataclass
class LinkView:
    """What a policy sees at one decision epoch (arrays over candidates ``(C,)``).

    ``usable`` = visible and not blocked; ``cost_s`` = the interruption a switch to each
    candidate would cost now (0 for the serving one); ``pred_esn0_db`` / ``p_good`` are the
    forecasts for t + horizon (NaN when no forecast was made for a candidate);
    ``remaining_s`` is the remaining visibility from orbit and flight-plan prediction;
    ``rate_bps`` the throughput each candidate would give now: the ACM rate at its measured
    Es/N0 (minus the ACM margin) shared with its beam's current other users,
    ``η·Rs/(1 + load)`` (0 when not usable).
    """

    t: int
    serving: int
    esn0_db: np.ndarray
    el_deg: np.ndarray
    usable: np.ndarray
    sat_key: np.ndarray
    cost_s: np.ndarray
    pred_esn0_db: np.ndarray | None = None
    p_good: np.ndarray | None = None
    remaining_s: np.ndarray | None = None
    #: ``rate_bps`` as given, or a function computing it on first use (see :meth:`rate_bps`)
    rate: np.ndarray | Callable[[], np.ndarray] | None = field(default=None, repr=False)

    @property
    def rate_bps(self) -> np.ndarray:
        """Throughput each candidate would give now (computed once, on first use: the env
        steps without it unless a policy asks)."""
        if callable(self.rate):
            self.rate = self.rate()
        return self.rate


Policy = Callable[[LinkView], int]

#: extra hysteresis (dB) per second of interruption a switch costs
COST_MARGIN_DB_PER_S = 0.1


def _best(values: np.ndarray, usable: np.ndarray) -> int:
    v = np.where(usable & np.isfinite(values), values, -np.inf)
    return int(np.argmax(v)) if np.isfinite(v).any() else -1


def _best_beam_of(v: LinkView, sat_key) -> int:
    return _best(v.esn0_db, v.usable & (v.sat_key == sat_key))


def _switch_if_better(
    v: LinkView, values: np.ndarray, mask: np.ndarray, hysteresis_db: float
) -> int:
    """The candidate maximising ``values - cost margin`` among ``mask`` if it beats the
    serving one by ``hysteresis_db`` plus ``COST_MARGIN_DB_PER_S`` per second of
    interruption; else the serving one."""
    s = v.serving
    cur = values[s] if s >= 0 and v.usable[s] and np.isfinite(values[s]) else -np.inf
    score = values - COST_MARGIN_DB_PER_S * v.cost_s
    b = _best(score, mask & v.usable)
    if b < 0 or b == s:
        return s
    return b if score[b] > cur + hysteresis_db else s


def reactive(threshold_db: float = 5.5, hysteresis_db: float = 1.0) -> Policy:
    """Stay while the serving Es/N0 >= ``threshold_db``; below it (or when the link is lost)
    switch to the best measured candidate if it beats the serving one by ``hysteresis_db``
    (plus the switch-cost margin)."""

    def policy(v: LinkView) -> int:
        s = v.serving
        if s >= 0 and v.usable[s] and v.esn0_db[s] >= threshold_db:
            return s
        return _switch_if_better(v, v.esn0_db, v.usable, hysteresis_db)

    return policy


def max_elevation(hysteresis_deg: float = 2.0) -> Policy:
    """Serve from the satellite at the highest elevation (switch when another is higher by
    ``hysteresis_deg`` or the serving one is lost), on its best measured beam."""

    def policy(v: LinkView) -> int:
        s = v.serving
        b = _best(v.el_deg, v.usable)
        if b < 0:
            return s
        if s >= 0 and v.usable[s] and v.el_deg[b] <= v.el_deg[s] + hysteresis_deg:
            best_same = _best_beam_of(v, v.sat_key[s])
            return best_same if v.esn0_db[best_same] > v.esn0_db[s] + 1.0 else s
        return _best_beam_of(v, v.sat_key[b])

    return policy


def max_remaining_visibility() -> Policy:
    """Keep the serving satellite while it is usable; otherwise take the one that stays
    visible longest (LEO: the classic longest-visibility rule), on its best beam."""

    def policy(v: LinkView) -> int:
        s = v.serving
        if s >= 0 and v.usable[s]:
            best_same = _best_beam_of(v, v.sat_key[s])
            return best_same if v.esn0_db[best_same] > v.esn0_db[s] + 1.0 else s
        b = _best(v.remaining_s + 1e-3 * v.esn0_db, v.usable)
        return s if b < 0 else _best_beam_of(v, v.sat_key[b])

    return policy


def max_throughput(hysteresis: float = 0.2, hold_s: float = 60.0) -> Policy:
    """Load-aware greedy: serve the candidate with the highest throughput now
    (``rate_bps`` = ACM rate at the measured Es/N0 over ``1 + load``; no forecast). Switch to
    the best ``b`` when ``r_b > (1 + hysteresis)·r_s`` and the gain over ``hold_s`` seconds
    pays for the interruption: ``(r_b - r_s)·hold_s > r_b·cost_b``."""

    def policy(v: LinkView) -> int:
        s = v.serving
        r = np.where(v.usable, v.rate_bps, 0.0)
        b = _best(r, v.usable)
        if b < 0 or b == s:
            return s
        cur = r[s] if s >= 0 and v.usable[s] else 0.0
        if r[b] > (1.0 + hysteresis) * cur and (r[b] - cur) * hold_s > r[b] * v.cost_s[b]:
            return b
        return s

    return policy


def best_predicted(hysteresis_db: float = 1.0) -> Policy:
    """Serve from the candidate with the best *forecast* Es/N0 at t + h, switching when its
    forecast beats the serving one's by ``hysteresis_db`` plus the switch-cost margin.
    Reactive when no forecast exists."""
    fallback = reactive(hysteresis_db=hysteresis_db)

    def policy(v: LinkView) -> int:
        if not np.isfinite(v.pred_esn0_db).any():
            return fallback(v)
        return _switch_if_better(v, v.pred_esn0_db, np.isfinite(v.pred_esn0_db), hysteresis_db)

    return policy


def predictive(
    p_threshold: float = 0.5, outage_db: float = -2.35, hysteresis_db: float = 1.0
) -> Policy:
    """Proactive switching on the classifier's forecast: stay while the serving link is
    forecast *good* at t + h (``p_good >= p_threshold``). When degradation is forecast, move
    to a candidate forecast good, cheapest switch first (beam, then satellite, then
    provider), best forecast Es/N0 among equals; a costly switch (another provider or GEO
    satellite, >= 10 s) is only made when the serving link is forecast in outage
    (forecast Es/N0 < ``outage_db``) or lost. Reactive when no forecast exists."""
    fallback = reactive(hysteresis_db=hysteresis_db)

    def policy(v: LinkView) -> int:
        s = v.serving
        ok_now = s >= 0 and v.usable[s]
        if not ok_now and not np.isfinite(v.p_good).any():
            return fallback(v)
        if ok_now:
            pg = v.p_good[s]
            if not np.isfinite(pg):
                return fallback(v)
            if pg >= p_threshold:
                return s
        good = v.usable & (np.nan_to_num(v.p_good) >= p_threshold)
        severe = not ok_now or v.pred_esn0_db[s] < outage_db
        if not severe:
            good &= v.cost_s < 10.0
        if not good.any():
            return fallback(v) if not ok_now else s
        cheapest = v.cost_s[good].min()
        b = _best(v.pred_esn0_db, good & (v.cost_s <= cheapest))
        if b < 0:
            return s
        cur = v.pred_esn0_db[s] if ok_now else -np.inf
        return b if v.pred_esn0_db[b] > cur + hysteresis_db or severe else s

    return policy


#: policy name -> factory with default arguments
POLICIES: dict[str, Callable[[], Policy]] = {
    "reactive": reactive,
    "max_elevation": max_elevation,
    "max_remaining_visibility": max_remaining_visibility,
    "max_throughput": max_throughput,
    "best_predicted": best_predicted,
    "predictive": predictive,
}


def remaining_visibility_s(ls: LinkSet) -> np.ndarray:
    """Seconds each candidate stays above its elevation mask from each sample on (``(T, C)``;
    0 if below it now): the ephemeris along the flight plan only. Airframe blockage in
    future turns is *not* known from the plan's geometry alone and is not read (issue 17:
    reading the realised blockage leaked the future into this baseline)."""
    vis = ls.visible
    out = np.zeros(vis.shape)
    run = np.zeros(vis.shape[1])
    for t in range(vis.shape[0] - 1, -1, -1):
        run = np.where(vis[t], run + 1.0, 0.0)
        out[t] = run
    return out


@dataclass
class HandoverResult:
    """Per-second trace and totals of one policy on one flight."""

    serving: np.ndarray  # (T,) candidate index, -1 = none
    delivered_bits: np.ndarray  # (T,)
    interrupted_s: np.ndarray  # (T,)
    outage: np.ndarray  # (T,) bool
    switches: np.ndarray  # (T,) switch kind code (0 none)

    def totals(self) -> dict[str, float]:
        return {
            "outage_s": float(self.outage.sum()),
            "handovers": float((self.switches > 0).sum()),
            "beam_switches": float((self.switches == 1).sum()),
            "satellite_switches": float((self.switches == 2).sum()),
            "provider_switches": float((self.switches == 3).sum()),
            "delivered_gb": float(self.delivered_bits.sum() / 8e9),
            "interruption_s": float(self.interrupted_s.sum()),
        }


class LinkSession:
    """The terminal's connection over one flight, advanced one second at a time.

    ``step(t, target)`` applies a requested handover (refused unless the target is usable;
    LEO-to-LEO satellite changes wait for a reconfiguration boundary unless the serving
    satellite is lost), then accounts second ``t``: outage, interruption, and the bits the
    ACM loop delivers. Used by :func:`simulate_handover` and by the engine model.
    """

    def __init__(
        self,
        ls: LinkSet,
        cost: Interruptions = Interruptions(),
        acm_margin_db: float = 0.5,
        table: str = "dvbs2",
        allowed: np.ndarray | None = None,
    ):
        modcod_table(table)
        self.ls = ls
        self.cost = cost
        self.acm_margin_db = acm_margin_db
        n_t, n_c = ls.esn0_db.shape
        self.usable = ls.visible & ~ls.blocked
        if allowed is not None:
            self.usable = self.usable & np.asarray(allowed, dtype=bool)[None, :]
        self.sat_key = ls.provider.astype(np.int64) * 1_000_000 + ls.sat.astype(np.int64)
        self.remaining = remaining_visibility_s(ls) if n_c else np.zeros((n_t, 0))
        self._thr, self._eff, self._idx = _frontier(table)
        self._thr_by_idx = np.array([m.threshold_db for m in modcod_table(table)])
        self._bits_tc = self._bits_table() if n_c else np.zeros((n_t, 0))
        self.serving = -1
        self.pending = 0.0
        self.prev = -1  # old link still carrying traffic during a make-before-break handover
        self._costs: dict[int, np.ndarray] = {}
        self.trace = HandoverResult(
            np.full(n_t, -1),
            np.zeros(n_t),
            np.zeros(n_t),
            np.ones(n_t, dtype=bool),
            np.zeros(n_t, dtype=np.int8),
        )

    def view(self, t: int, pred_esn0_db=None, p_good=None) -> LinkView:
        """What a policy sees at second ``t``: a serving link that lost lock less than
        ``loss_detect_s`` seconds ago still looks usable with its last measured Es/N0."""
        nan = np.full(self.ls.n, np.nan)
        usable, esn0 = self.usable[t], self.ls.esn0_meas_db[t]
        s = self.serving
        if s >= 0 and not usable[s]:
            lo = max(0, t - self.cost.loss_detect_s + 1)
            ok = np.flatnonzero(self.usable[lo : t + 1, s])
            if ok.size:  # not yet declared lost
                usable, esn0 = usable.copy(), esn0.copy()
                usable[s] = True
                esn0[s] = self.ls.esn0_meas_db[lo + ok[-1], s]
        return LinkView(
            t,
            s,
            esn0,
            self.ls.el_deg[t],
            usable,
            self.sat_key,
            self.costs_from(s),
            nan if pred_esn0_db is None else pred_esn0_db,
            nan if p_good is None else p_good,
            self.remaining[t],
            lambda: self._rate_now(t, esn0, usable),
        )

    def _rate_now(self, t: int, esn0: np.ndarray, usable: np.ndarray) -> np.ndarray:
        """``η(Es/N0_meas - margin)·Rs/(1 + load)`` per candidate at ``t`` (0 if unusable)."""
        est = esn0 - self.acm_margin_db
        fin = np.isfinite(est) & usable
        n_met = np.where(fin, np.searchsorted(self._thr, np.where(fin, est, -np.inf), "right"), 0)
        eff = np.where(n_met > 0, self._eff[np.maximum(n_met - 1, 0)], 0.0)
        return eff * self.ls.symbol_rate_hz * user_share(self.ls.load[t])

    def costs_from(self, s: int) -> np.ndarray:
        """Interruption (s) of a switch from candidate ``s`` to every candidate."""
        if s < 0:
            return np.zeros(self.ls.n)
        cached = self._costs.get(s)
        if cached is None:
            ls, c = self.ls, self.cost
            sat_cost = np.where(ls.kind == KIND_LEO, c.leo_satellite_s, c.satellite_s)
            cached = np.where(
                ls.provider != ls.provider[s],
                c.provider_s,
                np.where(ls.sat != ls.sat[s], sat_cost, c.beam_s),
            )
            cached[s] = 0.0
            self._costs[s] = cached
        return cached

    def switch(self, t: int, target: int) -> int:
        """Try to hand over to ``target`` at second ``t``; returns the switch kind (0 none)."""
        ls, s = self.ls, self.serving
        if target < 0 or target == s or not self.usable[t, target]:
            return 0
        lost = s < 0 or not self.usable[t, s]
        if (
            s >= 0
            and not lost
            and ls.kind[s] == KIND_LEO
            and ls.kind[target] == KIND_LEO
            and ls.sat[s] != ls.sat[target]
        ):
            if ls.t_s[t] % self.cost.leo_slot_s >= 1.0:
                return 0  # wait for the next reconfiguration boundary
        kind = 0
        if s >= 0:
            kind = switch_kind(ls, s, target)
            self.pending += _interruption_s(ls, s, target, self.cost)
            self.trace.switches[t] = kind
            self.prev = s if (self.cost.make_before_break and not lost) else -1
        self.serving = target
        return kind

    def _bits_table(self) -> np.ndarray:
        """Bits ``(T, C)`` candidate ``c`` carries in second ``t`` if it serves then: the ACM
        loop picks the MODCOD from the measured Es/N0 a second earlier (minus the margin);
        nothing if that MODCOD fails on the true Es/N0 or none fits; the carrier is shared
        with the beam's other users."""
        ls = self.ls
        true = ls.esn0_db
        meas = ls.esn0_meas_db
        est = np.concatenate([meas[:1], meas[:-1]], axis=0) - self.acm_margin_db
        fin = np.isfinite(est)
        n_met = np.where(fin, np.searchsorted(self._thr, np.where(fin, est, -np.inf), "right"), 0)
        pick = np.maximum(n_met - 1, 0)
        ok = self.usable & (true >= self._thr[0]) & (n_met > 0)
        ok &= true >= self._thr_by_idx[self._idx[pick]]
        bits = self._eff[pick] * ls.symbol_rate_hz[None, :] * user_share(ls.load)
        return np.where(ok, bits, 0.0)

    def _bits(self, t: int, c: int) -> float:
        """Bits candidate ``c`` carries in second ``t`` (see :meth:`_bits_table`)."""
        return self._bits_tc[t, c]

    def account(self, t: int) -> float:
        """Account second ``t`` on the serving link; returns the bits delivered.

        During a handover's interruption nothing is delivered, unless the terminal makes
        before it breaks (``cost.make_before_break``) and the switch was planned (the old link
        was usable when it started): then the old link carries the traffic while it lasts.
        """
        ls, s, tr = self.ls, self.serving, self.trace
        tr.serving[t] = s
        if s < 0:
            return 0.0
        tr.outage[t] = not (bool(self.usable[t, s]) and ls.esn0_db[t, s] >= self._thr[0])
        blank = min(self.pending, 1.0)
        self.pending -= blank
        bits = (1.0 - blank) * self._bits(t, s)
        if blank > 0 and self.prev >= 0 and self.usable[t, self.prev]:
            bits += blank * self._bits(t, self.prev)  # make-before-break: the old link carries on
        else:
            tr.interrupted_s[t] = blank
        if self.pending <= 0:
            self.prev = -1
        tr.delivered_bits[t] = bits
        return float(bits)


def simulate_handover(
    ls: LinkSet,
    policy: Policy,
    cost: Interruptions = Interruptions(),
    decision_interval_s: int = 1,
    pred_esn0_db: np.ndarray | None = None,
    p_good: np.ndarray | None = None,
    acm_margin_db: float = 0.5,
    table: str = "dvbs2",
    allowed: np.ndarray | None = None,
) -> HandoverResult:
    """Run ``policy`` over a flight's candidates, one step per second.

    Args:
        ls: the flight's candidate links.
        policy: ``LinkView -> candidate index`` (called every ``decision_interval_s``).
        cost: interruption durations.
        pred_esn0_db, p_good: ``(T, C)`` forecasts for t + h (NaN where absent).
        allowed: optional ``(C,)`` mask of candidates the policy may use.

    A handover only ever goes to a visible, unblocked candidate (see :class:`LinkSession`).
    """
    if decision_interval_s < 1:
        raise ValueError(f"decision_interval_s must be >= 1 (got {decision_interval_s})")
    sess = LinkSession(ls, cost, acm_margin_db, table, allowed)
    for t in range(ls.t_s.size):
        if ls.n and t % decision_interval_s == 0:
            view = sess.view(
                t,
                None if pred_esn0_db is None else pred_esn0_db[t],
                None if p_good is None else p_good[t],
            )
            sess.switch(t, int(policy(view)))
        sess.account(t)
    return sess.trace


def hysteresis_select(
    values: np.ndarray, usable: np.ndarray, hysteresis_db: float = 1.0
) -> np.ndarray:
    """Network-side selection ``(T,)``: start on the best usable candidate and move to the
    best one whenever it beats the serving one by more than ``hysteresis_db`` or the serving
    one becomes unusable (the reactive rule with an infinite threshold; -1 = none usable).
    A plain-Python loop over rows (fast for the few candidates of one provider)."""
    v = np.where(usable, values, -np.inf)
    n_t = v.shape[0]
    out = np.full(n_t, -1)
    if v.shape[1] == 0:
        return out
    best = np.argmax(v, axis=1).tolist()
    rows = v.tolist()
    s = -1
    for t in range(n_t):
        row = rows[t]
        b = best[t]
        vb = row[b]
        if vb == -np.inf:
            s = -1 if s < 0 or row[s] == -np.inf else s
        elif s < 0 or row[s] == -np.inf or vb > row[s] + hysteresis_db:
            s = b
        out[t] = s
    return out


def clairvoyant_schedule(
    sess: LinkSession,
    decision_interval_s: int = 1,
    penalty_per_s: float = 0.0,
    allowed: np.ndarray | None = None,
    bits_unit: float = 1e9,
) -> np.ndarray:
    """The candidate to serve from at each decision epoch with full knowledge of the flight's
    links: a dynamic programme (Viterbi) over epochs and candidates maximising delivered
    bits (in ``bits_unit``) minus ``penalty_per_s`` per second of switch interruption.

    Epoch ``e`` (second ``t = e·I``) on candidate ``c`` earns the bits ``c`` carries in its
    ``I`` seconds (:meth:`LinkSession._bits_table`); a switch ``a → b`` costs the interruption
    ``d(a, b)`` of ``sess.cost`` as the bits ``b`` would carry in ``[t, t + d)`` plus the
    penalty. A switch needs ``b`` usable at ``t`` (and in ``allowed[e]`` ``(E, C)`` when
    given); a LEO-to-LEO satellite change waits for a reconfiguration boundary unless the
    serving link is lost, as in :meth:`LinkSession.switch`. The first choice is free. The
    session's own rules (make-before-break, loss detection) are not modelled, so this is a
    strong clairvoyant reference, not a proof of optimality. Returns ``(E,)`` indices.
    """
    ls, cost = sess.ls, sess.cost
    n_t, n_c = ls.esn0_db.shape
    step = int(decision_interval_s)
    epochs = np.arange(0, n_t, step)
    if n_c == 0:
        return np.full(epochs.size, -1)
    bits = sess._bits_tc / bits_unit
    cum = np.vstack([np.zeros((1, n_c)), np.cumsum(bits, axis=0)])
    ends = np.minimum(epochs + step, n_t)
    reward = cum[ends] - cum[epochs]  # (E, C)
    dur = np.stack([sess.costs_from(a) for a in range(n_c)])  # (C, C) seconds
    lost = np.zeros((epochs.size, n_c, n_c))
    for d in np.unique(dur):
        if d <= 0:
            continue
        whole = int(np.floor(d))
        hi = np.minimum(epochs + whole, n_t)
        part = cum[hi] - cum[epochs]
        frac_row = np.minimum(epochs + whole, n_t - 1)
        part = part + (d - whole) * bits[frac_row] * (epochs + whole < n_t)[:, None]
        m = dur == d
        lost += np.where(m[None], part[:, None, :], 0.0)
    trans = lost + penalty_per_s * dur[None]  # (E, C, C): from a (axis 1) to b (axis 2)
    leo = ls.kind == KIND_LEO
    leo_pair = leo[:, None] & leo[None, :] & (ls.sat[:, None] != ls.sat[None, :])
    boundary = (ls.t_s[epochs] % cost.leo_slot_s) < 1.0
    usable = sess.usable[epochs]
    can = usable if allowed is None else usable & allowed
    value = np.where(can[0], reward[0], -np.inf)
    back = np.zeros((epochs.size, n_c), dtype=np.int64)
    back[0] = np.arange(n_c)
    eye = np.eye(n_c, dtype=bool)
    for e in range(1, epochs.size):
        ok_to = can[e][None, :] | eye  # stay is always possible
        if not boundary[e]:
            lost_now = ~usable[e]
            ok_to = ok_to & ~(leo_pair & ~lost_now[:, None])
        score = np.where(ok_to, value[:, None] - np.where(eye, 0.0, trans[e]), -np.inf)
        back[e] = np.argmax(score, axis=0)
        value = score[back[e], np.arange(n_c)] + reward[e]
    out = np.empty(epochs.size, dtype=np.int64)
    out[-1] = int(np.argmax(value))
    for e in range(epochs.size - 1, 0, -1):
        out[e - 1] = back[e, out[e]]
    return out
