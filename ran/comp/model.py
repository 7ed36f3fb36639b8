"""The small-cell network on the engine: mobility, channels, handover, CoMP allocation epochs.

Every ``dt_s`` (:meth:`CompNetwork.tick`) UEs move (Manhattan mobility), each UE-BS link gets
its path loss (TR 38.901 UMi street canyon; LoS from the street geometry), spatially
correlated shadowing and vehicle blockage, the A3/RLF state machines advance, every BS serves
its attached UEs (equal PRB share capped by each UE's demand; the rest is spare) and the rate
of every UE is computed under each allocation policy. Every ``market_interval_s``
(:meth:`CompNetwork.market_epoch`) the UEs in trouble (A3 pending, handover executing, T310
running or primary rate below the floor, plus ``trouble_hold_s``) form one market instance;
each policy allocates the spare PRBs of their K nearest BSs, and the market's allocation takes
effect after its bidding rounds (rounds × 2 × message latency; a result overtaken by a later
epoch's is dropped). Allocations hold until the next epoch, except that a BS's own UEs have
priority: where they take PRBs back, its CoMP shares shrink in proportion. All policies see
the same channel and handover trajectory (policies change only data-PRB interference, never
RSRP or the radio-link monitoring SINR), so their comparison is paired.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from netsim import ConfigError, Simulation
from netsim.radio import db_to_linear, dbm_to_watt, thermal_noise_dbm
from netsim.stats import jain_index

from .apps import draw_apps, need_mbps, urgency
from .baselines import equal_share, no_comp, proportional_response, second_price, welfare_optimum
from .bilateral import posted_prices
from .capped import capped_eisenberg_gale, capped_welfare_optimum, fair_share, run_capped_market
from .cho import (
    ChoState,
    adapted_coefficient,
    cho_step,
    daps_step,
    filter_coefficient,
    l3_filter,
    ping_pongs,
)
from .geometry import StreetGrid, line_of_sight, sites
from .handover import HandoverState, handover_step
from .market import MarketInstance, initial_bids, run_market, utilities, welfare
from .mobility import blockage_step, manhattan_step, place_walkers, positions, segment_index
from .pathloss import (
    DECORRELATION_LOS_M,
    DECORRELATION_NLOS_M,
    gudmundson_step,
    pathloss_db,
    shadowing_sigma_db,
)
from .radio import (
    cluster_sinr,
    comp_overlap,
    primary_overlap,
    serving_sinr,
)

__all__ = [
    "EPOCH_METRICS",
    "HANDOVER_SCHEMES",
    "POLICIES",
    "PolicyOutcome",
    "CompNetwork",
    "eg_distance",
    "los_table",
]

#: allocation policies compared on the same instances
POLICIES = (
    "market",
    "bilateral",
    "optimum",
    "fisher",
    "equal_share",
    "fair_share",
    "second_price",
    "no_comp",
    "cho",
    "daps",
)
#: policies that are handover schemes rather than CoMP allocations (:mod:`ran.comp.cho`):
#: no CoMP PRBs, their own serving cells on the same channel (Rel-16 CHO and DAPS)
HANDOVER_SCHEMES = ("cho", "daps")
#: per-epoch market statistics (``CompNetwork.epochs`` columns besides per-policy ones)
EPOCH_METRICS = (
    "efficiency",
    "eg_utility_gap",
    "eg_nash_ratio",
    "eg_price_gap",
    "rounds",
    "messages",
    "alloc_time_s",
    "converged",
    "n_trouble",
    "n_need",
)


@dataclass(frozen=True)
class PolicyOutcome:
    """What a policy decided for one epoch's troubled UEs: PRBs ``(n, K)``, total revenue,
    the delay before it applies (s), and the market's rounds/messages."""

    prbs: np.ndarray
    revenue: float = 0.0
    delay_s: float = 0.0
    rounds: int = 0
    messages: int = 0
    converged: bool = True
    bids: np.ndarray | None = None
    prices: np.ndarray | None = None


Policy = Callable[[MarketInstance, np.ndarray], PolicyOutcome]


def eg_distance(inst: MarketInstance, market: PolicyOutcome, fisher: PolicyOutcome) -> dict:
    """How far the market's outcome is from the Eisenberg-Gale (Fisher) equilibrium, on the
    quantities the equilibrium fixes uniquely (utilities and prices; linear-utility
    equilibrium allocations need not be unique):

    * ``eg_utility_gap``: budget-weighted mean of ``|u_i^market/u_i^EG - 1|``;
    * ``eg_nash_ratio``: ``exp(Σ_i β_i·log(u_i^market/u_i^EG))`` with ``β = B/ΣB`` (the ratio
      of budget-weighted geometric means, <= 1 because EG maximises the Nash welfare);
    * ``eg_price_gap``: ``Σ_j |p_j^market - p_j^EG| / Σ_j p_j^EG`` over BSs with spare PRBs.
    """
    out: dict = {}
    um, uf = utilities(inst, market.prbs), utilities(inst, fisher.prbs)
    ok = (uf > 0) & (inst.budget > 0)
    if ok.any():
        beta = inst.budget[ok] / inst.budget[ok].sum()
        ratio = np.maximum(um[ok], 1e-300) / uf[ok]
        out["eg_utility_gap"] = float(np.sum(beta * np.abs(ratio - 1.0)))
        out["eg_nash_ratio"] = float(np.exp(np.sum(beta * np.log(ratio))))
    if market.prices is not None and fisher.prices is not None:
        bs = np.unique(inst.cluster)
        bs = bs[inst.spare[bs] > 0]
        pf, pm = fisher.prices[bs], market.prices[bs]
        if bs.size and np.nansum(pf) > 0:
            out["eg_price_gap"] = float(np.nansum(np.abs(pm - pf)) / np.nansum(pf))
    return out


_LOS_CACHE: dict[tuple, np.ndarray] = {}


def _cached_los_table(grid: StreetGrid, bs_xy: np.ndarray, resolution_m: float) -> np.ndarray:
    """:func:`los_table`, computed once per geometry (it is deterministic; envs reset often).
    The cached array is read-only."""
    key = (grid, bs_xy.tobytes(), bs_xy.shape, float(resolution_m))
    table = _LOS_CACHE.get(key)
    if table is None:
        if len(_LOS_CACHE) > 8:
            _LOS_CACHE.clear()
        table = los_table(grid, bs_xy, resolution_m)
        table.flags.writeable = False
        _LOS_CACHE[key] = table
    return table


def los_table(grid: StreetGrid, bs_xy: np.ndarray, resolution_m: float) -> np.ndarray:
    """LoS from every sample point of every street segment to every BS: ``(S, L, M)`` bool,
    with segments numbered as :func:`~ran.comp.mobility.segment_index` and ``L`` points
    ``resolution_m`` apart along each segment (a UE uses the nearest point)."""
    b = grid.block_m
    steps = max(1, int(round(b / resolution_m)))
    u = np.linspace(0.0, b, steps + 1)
    nh = grid.blocks_x * (grid.blocks_y + 1)
    hi, hj = np.arange(nh) % grid.blocks_x, np.arange(nh) // grid.blocks_x
    nv = (grid.blocks_x + 1) * grid.blocks_y
    vi, vj = np.arange(nv) // grid.blocks_y, np.arange(nv) % grid.blocks_y
    horiz = np.stack(
        [hi[:, None] * b + u[None, :], np.broadcast_to(hj[:, None] * b, (nh, u.size))], -1
    )
    vert = np.stack(
        [np.broadcast_to(vi[:, None] * b, (nv, u.size)), vj[:, None] * b + u[None, :]], -1
    )
    pts = np.concatenate([horiz, vert]).reshape(-1, 2)
    out = np.empty((pts.shape[0], bs_xy.shape[0]), dtype=bool)
    chunk = max(1, 200_000 // max(1, bs_xy.shape[0]))
    for s in range(0, pts.shape[0], chunk):
        out[s : s + chunk] = line_of_sight(grid, pts[s : s + chunk, None, :], bs_xy[None, :, :])
    return out.reshape(nh + nv, u.size, bs_xy.shape[0])


def _with_full_need(inst: MarketInstance) -> MarketInstance:
    """A linear-utility instance as a capped one whose caps never bind (the most a UE could
    get, ``Σ_j v_ij·C_j``), for the rules that need a desired amount."""
    return MarketInstance.trusted(
        inst.cluster, inst.value, inst.spare, inst.budget, inst.reserve, inst.money_value,
        inst.weights.sum(axis=1) * (1 + 1e-9), np.ones(inst.n_ues),
    )


class CompNetwork:
    """The CoMP small-cell network of a :class:`~ran.comp.scenario.CompConfig` on ``sim``.

    Args:
        sim: the simulation.
        cfg: the configuration.
        extra_policies: more named policies ``(instance, ue_indices) -> PolicyOutcome``
            evaluated beside ``cfg.policies`` (the PettingZoo env adds its agents this way).

    Observers (e.g. the study's :class:`~ran.comp.events.EventProbe`) append a callable
    ``hook(net, t, events, serving_before)`` to :attr:`tick_hooks`; it runs at the end of
    every tick.
    """

    def __init__(
        self,
        sim: Simulation,
        cfg,
        extra_policies: dict[str, Policy] | None = None,
    ):
        self.sim, self.cfg = sim, cfg
        self.grid = StreetGrid(cfg.blocks_x, cfg.blocks_y, cfg.block_m, cfg.street_m)
        self.bs_xy = sites(self.grid, cfg.layout, cfg.isd_m)
        self.n_bs = m = self.bs_xy.shape[0]
        if cfg.cluster_bs > m:
            raise ConfigError(
                f"cluster_bs: must be <= the number of BSs ({m}), got {cfg.cluster_bs}"
            )
        self.los_lookup = _cached_los_table(self.grid, self.bs_xy, cfg.los_resolution_m)
        self._los_step = cfg.block_m / (self.los_lookup.shape[1] - 1)
        self.hp = cfg.handover
        n = self.n_ues = cfg.n_ues
        place = sim.rng("placement")
        vehicle = place.random(n) < cfg.vehicle_fraction
        self.speed = np.where(vehicle, cfg.vehicle_speed_m_s, cfg.pedestrian_speed_m_s)
        self.vehicle = vehicle
        self.app, self.desired_mbps, self.app_weight = draw_apps(
            sim.rng("apps"), n, cfg.app_shares
        )
        self.walkers = place_walkers(self.grid, self.speed, place.random((n, 3)))
        self._rng_mob, self._rng_sh = sim.rng("mobility"), sim.rng("shadowing")
        self._rng_bl = sim.rng("blockage")
        self._ticks = 0
        #: shadowing and blockage advance every ``_fading_every`` steps (exact AR(1) / Markov
        #: transitions over that period; piecewise constant in between)
        self._fading_every = max(1, int(round(cfg.fading_step_s / cfg.dt_s)))
        self._turn_cols = int(math.ceil(self.speed.max() * cfg.dt_s / cfg.block_m)) + 1
        self.tx_prb_dbm = cfg.tx_power_dbm - 10.0 * math.log10(cfg.n_prbs)
        self.noise_w = float(
            dbm_to_watt(thermal_noise_dbm(cfg.prb_bandwidth_hz, cfg.noise_figure_db))
        )
        # per-PRB rate constants of :func:`~ran.comp.radio.prb_rate_bps` (see :meth:`_rate`)
        self._gap_lin = db_to_linear(cfg.snr_gap_db)
        self._rate_cap_bps = cfg.prb_bandwidth_hz * cfg.max_spectral_eff
        self.z = self._rng_sh.standard_normal((n, m)) if cfg.shadowing else np.zeros((n, m))
        p_block = cfg.mean_blocked_s / (cfg.mean_blocked_s + cfg.mean_clear_s)
        self.blocked = (
            (self._rng_bl.random((n, m)) < p_block) if cfg.blockage else np.zeros((n, m), bool)
        )
        #: reserve price per PRB of every BS (tokens); the pricing env changes it
        self.reserve_price = np.full(m, cfg.reserve_price)
        self.budget = np.full(n, cfg.budget)
        #: tokens each UE holds (``budget_carry``): it earns ``budget`` every epoch, up to
        #: ``budget_cap`` epochs of income, and pays the bids of :attr:`wallet_policy`
        self.wallet = np.full(n, cfg.budget)
        self.wallet_policy = "market"
        self.policy_fns: dict[str, Policy] = {p: self._builtin(p) for p in cfg.policies}
        self.policy_fns.update(extra_policies or {})
        self.names = list(self.policy_fns)
        k, n_pol = cfg.cluster_bs, len(self.names)
        self._channel()
        hp = self.hp
        #: L3-filtered RSRP (TS 38.331 §5.5.3.2) the handover schemes decide on
        self._l3_a = (
            adapted_coefficient(filter_coefficient(hp.l3_filter_k), cfg.dt_s, hp.l3_reference_s)
            if hp.l3_filter_k
            else 1.0
        )
        self.rsrp_l3 = self.rsrp_dbm
        self.ho = HandoverState.initial(self.rsrp_l3)
        #: the handover state of each rival scheme (CHO, DAPS) among the policies
        self.ho_alt: dict[str, HandoverState] = {}
        for p in self.names:
            if p == "cho":
                self.ho_alt[p] = ChoState.initial(self.rsrp_l3)
            elif p == "daps":
                self.ho_alt[p] = HandoverState.initial(self.rsrp_l3)
        self.alt_prim_prbs = {p: np.zeros(n) for p in self.ho_alt}
        self.alt_has_primary = {p: np.ones(n, dtype=bool) for p in self.ho_alt}
        #: completed handovers per scheme ("a3" = the baseline): (ue, time, source, target)
        self.ho_log: dict[str, list] = {"a3": [], **{p: [] for p in self.ho_alt}}
        #: UE-ticks without a primary link per scheme (RLF, interruption)
        self.no_primary_ticks = dict.fromkeys(self.ho_log, 0)
        self.scheme_rlf = dict.fromkeys(self.ho_log, 0)
        self.used = np.zeros(m)
        self.spare = np.full(m, float(cfg.n_prbs))
        self.prim_prbs = np.zeros(n)
        self.prim_rate0 = np.zeros(n)
        self.has_primary = np.ones(n, dtype=bool)
        self.comp_cluster = {p: np.zeros((n, k), dtype=np.int64) for p in self.names}
        self.comp_prbs = {p: np.zeros((n, k)) for p in self.names}
        self.sold = np.zeros((m, n_pol))  # PRBs sold per BS and policy
        self._epoch_seq = 0  # allocation epochs started
        self._applied_seq = dict.fromkeys(self.names, 0)  # epoch of each installed allocation
        self.rates = np.zeros((n, n_pol))  # Mbit/s, per policy
        self.trouble_until = np.full(n, -np.inf)
        # the market's last bids and clusters, to warm-start the next epoch
        self._warm_bids = np.zeros((n, k))
        self._warm_cluster = np.full((n, k), -1, dtype=np.int64)
        self.last_epoch: dict = {}
        # statistics
        met = sim.metrics
        self.c_triggered, self.c_handovers = met.counter("a3_triggers"), met.counter("handovers")
        self.c_rlf, self.c_events = met.counter("rlf"), met.counter("blockage_events")
        self.c_ticks = met.counter("ticks")
        self.ue_ticks = 0
        self.trouble_ticks = 0
        self.rate_sum = np.zeros(n_pol)
        self.below = np.zeros(n_pol)
        self.trouble_rate_sum = np.zeros(n_pol)
        self.trouble_below = np.zeros(n_pol)
        self.epochs: list[dict] = []
        self.tick_hooks: list[Callable] = []
        #: ``hook(net, ue_indices)`` called at each allocation epoch before the instance is
        #: built (a clairvoyant baseline sets ``reserve_price`` here)
        self.pre_market_hooks: list[Callable] = []
        self._tick_proc = sim.every(cfg.dt_s, self.tick)
        self._market_proc = sim.every(cfg.market_interval_s, self.market_epoch)

    # -- channel --------------------------------------------------------------------------------
    def positions(self) -> np.ndarray:
        return positions(self.grid, self.walkers)

    def _channel(self, moved_m: np.ndarray | None = None) -> None:
        cfg = self.cfg
        seg, along = segment_index(self.grid, self.walkers)
        pos_idx = np.rint(along / self._los_step).astype(np.int64)
        np.minimum(np.maximum(pos_idx, 0, out=pos_idx), self.los_lookup.shape[1] - 1, out=pos_idx)
        self.los = self.los_lookup[seg, pos_idx]
        diff = self.positions()[:, None, :] - self.bs_xy[None, :, :]
        self.d2d = np.sqrt(np.einsum("nmk,nmk->nm", diff, diff))
        if moved_m is not None and cfg.shadowing:
            decor = np.where(self.los, DECORRELATION_LOS_M, DECORRELATION_NLOS_M)
            normal = self._rng_sh.standard_normal(self.z.shape)
            self.z = gudmundson_step(self.z, moved_m[:, None], decor, normal)
        if moved_m is not None and cfg.blockage:
            self.blocked = blockage_step(
                self.blocked,
                self._fading_every * cfg.dt_s,
                cfg.mean_blocked_s,
                cfg.mean_clear_s,
                self._rng_bl.random(self.blocked.shape),
            )
        loss = pathloss_db(
            cfg.pathloss_model, self.d2d, self.los, cfg.carrier_hz, cfg.h_bs_m, cfg.h_ut_m
        )
        if cfg.shadowing:
            loss = loss + shadowing_sigma_db(cfg.pathloss_model, self.los) * self.z
        if cfg.blockage:
            loss = loss + cfg.blockage_db * (self.blocked & self.los)
        self.loss_db = loss
        self.rsrp_dbm = self.tx_prb_dbm - loss
        self.rx_w = dbm_to_watt(self.rsrp_dbm)  # rx_power_w(tx_prb_dbm, loss)

    def serving_clear(self) -> np.ndarray:
        """UEs whose serving link is in LoS and not blocked by a vehicle."""
        rows = np.arange(self.n_ues)
        s = self.ho.serving
        return self.los[rows, s] & ~self.blocked[rows, s]

    def _rate(self, sinr) -> np.ndarray:
        """:func:`~ran.comp.radio.prb_rate_bps` with its constants precomputed (the same
        arithmetic: ``min(B·log2(1 + max(SINR, 0)/Γ), B·SE_max)``)."""
        r = self.cfg.prb_bandwidth_hz * np.log2(1.0 + np.maximum(sinr, 0.0) / self._gap_lin)
        return np.minimum(r, self._rate_cap_bps)

    # -- one step ----------------------------------------------------------------------------------
    def tick(self) -> None:
        cfg, t = self.cfg, self.sim.now
        self.walkers = manhattan_step(
            self.grid, self.walkers, cfg.dt_s, self._rng_mob.random((self.n_ues, self._turn_cols))
        )
        self._ticks += 1
        fade = self._ticks % self._fading_every == 0
        self._channel(self.speed * (self._fading_every * cfg.dt_s) if fade else None)
        ho = self.ho
        serving_before = ho.serving.copy()
        if self._l3_a < 1.0:
            self.rsrp_l3 = l3_filter(self.rsrp_l3, self.rsrp_dbm, self._l3_a)
        else:
            self.rsrp_l3 = self.rsrp_dbm
        # radio-link monitoring on control resources: random-PRB load-coupled interference
        activity = self.used / cfg.n_prbs
        sinr_rlm = serving_sinr(self.rx_w, ho.serving, activity, self.noise_w)
        ev = handover_step(ho, t, self.rsrp_l3, 10.0 * np.log10(sinr_rlm), self.hp)
        self.c_triggered.add(ev.triggered.size)
        self.c_handovers.add(ev.completed.size)
        self.c_rlf.add(ev.rlf.size)
        self.has_primary = ho.has_primary(t)
        self._log("a3", t, ev, serving_before, ho.serving, self.has_primary)
        for p, st in self.ho_alt.items():
            before = st.serving.copy()
            sinr_db = 10.0 * np.log10(serving_sinr(self.rx_w, st.serving, activity, self.noise_w))
            if p == "cho":
                ev_p = cho_step(
                    st, t, self.rsrp_l3, sinr_db, self.hp, self.hp.cho_prep_margin_db,
                    self.hp.cho_prep_s,
                )
            else:
                ev_p = daps_step(st, t, self.rsrp_l3, sinr_db, self.hp)
            self.alt_has_primary[p] = st.has_primary(t)
            self._log(p, t, ev_p, before, st.serving, self.alt_has_primary[p])
        self._serve()
        self._policy_rates()
        self._trouble(t)
        self._statistics()
        for hook in self.tick_hooks:
            hook(self, t, ev, serving_before)
        self.c_ticks.add()

    def _log(self, scheme: str, t: float, ev, before, after, has_primary) -> None:
        """Per-scheme handover log (completed handovers), RLF count and UE-ticks without a
        primary link."""
        log = self.ho_log[scheme]
        for ue in ev.completed.tolist():
            log.append((ue, t, int(before[ue]), int(after[ue])))
        self.scheme_rlf[scheme] += int(ev.rlf.size)
        self.no_primary_ticks[scheme] += int(self.n_ues - np.count_nonzero(has_primary))

    def _serve(self) -> None:
        """Own-cell service: each attached UE gets ``min(need, n_PRB/attached)`` PRBs, its need
        following from its SINR without CoMP traffic (the previous step's loads). A rival
        handover scheme's UE gets the same rule on its own serving cell, with the loads and
        attachment counts of the baseline (one UE's choice of cell does not move them)."""
        cfg, s = self.cfg, self.ho.serving
        overlap = primary_overlap(self.used, np.zeros(self.n_bs), cfg.n_prbs)
        sinr0 = serving_sinr(self.rx_w, s, overlap, self.noise_w)
        r0 = self._rate(sinr0)
        need = np.where(r0 > 0, cfg.demand_mbps * 1e6 / np.maximum(r0, 1e-9), np.inf)
        attached = np.bincount(s, weights=self.has_primary.astype(float), minlength=self.n_bs)
        fair = cfg.n_prbs / np.maximum(attached[s], 1.0)
        self.prim_prbs = np.where(self.has_primary, np.minimum(need, fair), 0.0)
        for p, st in self.ho_alt.items():
            sa = st.serving
            ra = self._rate(serving_sinr(self.rx_w, sa, overlap, self.noise_w))
            need_a = np.where(ra > 0, cfg.demand_mbps * 1e6 / np.maximum(ra, 1e-9), np.inf)
            fair_a = cfg.n_prbs / np.maximum(attached[sa], 1.0)
            self.alt_prim_prbs[p] = np.where(
                self.alt_has_primary[p], np.minimum(need_a, fair_a), 0.0
            )
        self.used = np.minimum(
            np.bincount(s, weights=self.prim_prbs, minlength=self.n_bs), cfg.n_prbs
        )
        self.spare = cfg.n_prbs - self.used
        self.prim_rate0 = self.prim_prbs * r0 / 1e6

    def _policy_rates(self) -> None:
        n_prbs, used, serving = self.cfg.n_prbs, self.used, self.ho.serving
        rates = np.empty((self.n_ues, len(self.names)))
        idle = n_prbs - used
        for j, p in enumerate(self.names):
            sold = np.minimum(self.sold[:, j], idle)
            a = primary_overlap(used, sold, n_prbs)
            if p in self.ho_alt:  # a rival handover scheme: its own cells, no CoMP
                rates[:, j] = self.alt_prim_prbs[p] * self._rate(
                    serving_sinr(self.rx_w, self.ho_alt[p].serving, a, self.noise_w)
                )
                continue
            rates[:, j] = self.prim_prbs * self._rate(
                serving_sinr(self.rx_w, serving, a, self.noise_w)
            )
            if not self.sold[:, j].any():  # nothing sold: no CoMP PRBs anywhere
                continue
            prbs = self.comp_prbs_now(p)
            rows = np.flatnonzero(prbs.any(axis=1) & self.has_primary)
            if rows.size:
                b = comp_overlap(used, sold, n_prbs)
                sinr_c = cluster_sinr(self.rx_w[rows], self.comp_cluster[p][rows], b, self.noise_w)
                rates[rows, j] += np.sum(prbs[rows] * self._rate(sinr_c), axis=1)
        self.rates = rates / 1e6

    def _comp_scale(self, j: int) -> np.ndarray:
        """Per BS, the fraction of policy ``j``'s sold PRBs still idle now: own traffic has
        priority, so when the spare shrinks between epochs every CoMP share of that BS
        shrinks in proportion (``min(1, (n - used)/sold)``)."""
        sold, idle = self.sold[:, j], self.cfg.n_prbs - self.used
        over = sold > idle  # then sold > 0
        return np.divide(idle, sold, out=np.ones_like(sold), where=over)

    def comp_prbs_now(self, policy: str) -> np.ndarray:
        """CoMP PRBs ``(N, K)`` policy ``policy`` delivers now (its allocation, cut where
        the BS's own UEs took PRBs back since the epoch)."""
        j = self.names.index(policy)
        return self.comp_prbs[policy] * self._comp_scale(j)[self.comp_cluster[policy]]

    def _trouble(self, t: float) -> None:
        ho = self.ho
        now = (
            (ho.target >= 0)  # in handover
            | ~np.isnan(ho.rlf_until)  # in RLF
            | ~np.isnan(ho.t310_since)
            | ~np.isnan(ho.cond_since).all(axis=1)
            | (self.prim_rate0 < self.cfg.rate_floor_mbps)
        )
        self.trouble_until = np.where(now, t + self.cfg.trouble_hold_s, self.trouble_until)

    def in_trouble(self) -> np.ndarray:
        return self.sim.now < self.trouble_until

    def _statistics(self) -> None:
        floor = self.cfg.rate_floor_mbps
        low = self.rates < floor
        tr = self.in_trouble()
        self.ue_ticks += self.n_ues
        self.trouble_ticks += int(tr.sum())
        self.rate_sum += self.rates.sum(axis=0)
        self.below += low.sum(axis=0)
        self.trouble_rate_sum += self.rates[tr].sum(axis=0)
        self.trouble_below += low[tr].sum(axis=0)

    # -- allocation epochs ------------------------------------------------------------------------
    def market_epoch(self) -> None:
        cfg, t = self.cfg, self.sim.now
        idx = np.flatnonzero(self.in_trouble() & self.has_primary)
        k = cfg.cluster_bs
        record: dict = {"time": t, "n_trouble": int(idx.size)}
        self._epoch_seq += 1
        seq = self._epoch_seq
        if cfg.budget_carry and self._epoch_seq > 1:
            self.wallet = np.minimum(self.wallet + cfg.budget, cfg.budget_cap * cfg.budget)
        if idx.size == 0:
            for j, p in enumerate(self.names):
                self._apply(p, j, seq, idx, np.zeros((0, k), np.int64), np.zeros((0, k)))
            self.last_epoch = {"instance": None, "ues": idx, "outcomes": {}}
            self.epochs.append(record)
            return
        for hook in self.pre_market_hooks:
            hook(self, idx)
        inst = self.instance(idx)
        cluster = inst.cluster
        outcomes = {p: fn(inst, idx) for p, fn in self.policy_fns.items()}
        for j, p in enumerate(self.names):
            out = outcomes[p]
            if out.delay_s > 0:
                self.sim.schedule(out.delay_s, self._apply, p, j, seq, idx, cluster, out.prbs)
            else:
                self._apply(p, j, seq, idx, cluster, out.prbs)
        spent = outcomes.get(self.wallet_policy)
        if cfg.budget_carry and spent is not None and spent.bids is not None:
            self.wallet[idx] = np.maximum(self.wallet[idx] - spent.bids.sum(axis=1), 0.0)
        self.last_epoch = {"instance": inst, "ues": idx, "outcomes": outcomes}
        self.epochs.append(self._epoch_stats(record, inst, outcomes, idx))

    def clusters(self, idx: np.ndarray) -> np.ndarray:
        """The CoMP cluster of UEs ``idx``: their ``cluster_bs`` BSs of highest RSRP
        (``cluster_by="rsrp"``, strongest first) or nearest (``"nearest"``, nearest first)."""
        key = -self.rsrp_dbm[idx] if self.cfg.cluster_by == "rsrp" else self.d2d[idx]
        return np.argsort(key, axis=1, kind="stable")[:, : self.cfg.cluster_bs]

    def comp_values(self, idx: np.ndarray, cluster: np.ndarray) -> np.ndarray:
        """Value of one CoMP PRB (Mbit/s) from each cluster BS: the rate of the next PRB sold
        (top of the band) with the other cluster members nulling."""
        top = comp_overlap(self.used, np.zeros(self.n_bs), self.cfg.n_prbs)
        return self._rate(cluster_sinr(self.rx_w[idx], cluster, top, self.noise_w)) / 1e6

    def instance(self, idx: np.ndarray) -> MarketInstance:
        """The market instance of UEs ``idx`` now: their clusters, values, budgets, the spare
        PRBs and the reserve bids ``reserve_price·spare``."""
        cluster = self.clusters(idx).astype(np.int64, copy=False)
        value = self.comp_values(idx, cluster)
        cap = weight = None
        if self.cfg.utility == "capped":
            cap = need_mbps(self.desired_mbps[idx], self.prim_rate0[idx])
            ho = self.ho
            breaking = ho.in_handover()[idx] | ~np.isnan(ho.t310_since[idx])
            weight = urgency(self.app_weight[idx], breaking, self.cfg.urgency)
        return MarketInstance.trusted(
            cluster,
            value,
            self.spare.copy(),
            (self.wallet if self.cfg.budget_carry else self.budget)[idx].copy(),
            np.asarray(self.reserve_price * self.spare, dtype=float),
            self.cfg.money_value,
            cap,
            weight,
        )

    def _apply(self, p: str, j: int, seq: int, idx, cluster, prbs) -> None:
        """Install policy ``p``'s allocation of epoch ``seq``, unless a later epoch's is
        already in place (a market slower than ``market_interval_s`` finishes after the next
        epoch's faster one; its stale result is dropped)."""
        if seq < self._applied_seq[p]:
            return
        self._applied_seq[p] = seq
        self.comp_prbs[p][:] = 0.0
        self.comp_prbs[p][idx] = prbs
        self.comp_cluster[p][idx] = cluster
        self.sold[:, j] = np.bincount(cluster.ravel(), weights=np.ravel(prbs), minlength=self.n_bs)

    def _epoch_stats(self, rec: dict, inst: MarketInstance, out: dict, idx) -> dict:
        prim = self.prim_rate0[idx]
        opt = welfare(inst, out["optimum"].prbs) if "optimum" in out else math.nan
        needy = inst.cap > 1e-9 if inst.capped else np.zeros(inst.n_ues, bool)
        rec["n_need"] = int(needy.sum())
        for p, o in out.items():
            if p in self.ho_alt:  # handover schemes allocate no CoMP PRBs: nothing to score
                continue
            rate = np.sum(inst.value * o.prbs, axis=1)
            rec[f"welfare.{p}"] = w = welfare(inst, o.prbs)
            rec[f"revenue.{p}"] = o.revenue
            rec[f"jain.{p}"] = jain_index(prim + rate)
            rec[f"alloc_time.{p}"] = o.delay_s
            if opt > 0:
                rec[f"efficiency.{p}"] = w / opt
            if needy.any():
                rec[f"satisfied.{p}"] = float(
                    np.mean(np.minimum(rate[needy], inst.cap[needy]) / inst.cap[needy])
                )
        if "market" in out:
            m = out["market"]
            rec.update(
                rounds=m.rounds,
                messages=m.messages,
                alloc_time_s=m.delay_s,
                converged=float(m.converged),
            )
            if "optimum" in out and rec["welfare.optimum"] > 0:
                rec["efficiency"] = rec["welfare.market"] / rec["welfare.optimum"]
            if "fisher" in out:
                rec.update(eg_distance(inst, m, out["fisher"]))
        return rec

    # -- built-in policies ------------------------------------------------------------------------
    def _builtin(self, name: str) -> Policy:
        cfg = self.cfg
        capped = cfg.utility == "capped"
        if name == "market":
            return self._market_policy
        if name == "bilateral":

            def bilateral(inst, _idx):
                if not capped:  # a linear UE wants everything it can pay for
                    inst = _with_full_need(inst)
                r = posted_prices(
                    inst, max_rounds=cfg.market_max_rounds, latency_s=cfg.message_latency_s
                )
                return PolicyOutcome(
                    r.prbs, float(r.payments.sum()), r.time_s, r.rounds, r.messages,
                    r.converged, prices=r.prices,
                )

            return bilateral
        if name == "optimum":
            if capped:
                return lambda inst, _idx: PolicyOutcome(capped_welfare_optimum(inst).prbs)
            return lambda inst, _idx: PolicyOutcome(welfare_optimum(inst, "closed_form").prbs)
        if name == "fisher":

            def fisher(inst, _idx):
                if capped:
                    r = capped_eisenberg_gale(inst)
                    return PolicyOutcome(r.prbs, float(np.nansum(r.revenue)), prices=r.prices)
                # cold start: warm starts slow proportional response down (measured)
                r = proportional_response(inst, tol=cfg.fisher_tol, max_iter=20_000)
                return PolicyOutcome(
                    r.prbs, float(np.nansum(r.revenue)), rounds=r.iterations, prices=r.prices
                )

            return fisher
        if name == "fair_share":
            return lambda inst, _idx: PolicyOutcome(
                fair_share(inst if capped else _with_full_need(inst)).prbs
            )
        rules = {"equal_share": equal_share, "second_price": second_price, "no_comp": no_comp}
        rules.update(dict.fromkeys(HANDOVER_SCHEMES, no_comp))  # their own cells, no CoMP
        if name in rules:
            rule = rules[name]

            def one_shot(inst, _idx):
                r = rule(inst)
                return PolicyOutcome(r.prbs, float(np.nansum(r.revenue)))

            return one_shot
        raise ConfigError(f"policies: unknown policy {name!r} (allowed: {', '.join(POLICIES)})")

    def _warm_start(self, inst: MarketInstance, idx: np.ndarray) -> np.ndarray:
        """Starting bids: last epoch's for UEs whose cluster is unchanged, else the default."""
        out = initial_bids(inst)
        same = np.all(self._warm_cluster[idx] == inst.cluster, axis=1)
        out[same] = self._warm_bids[idx][same]
        return out

    def _market_policy(self, inst: MarketInstance, idx: np.ndarray) -> PolicyOutcome:
        cfg = self.cfg
        init = self._warm_start(inst, idx)
        if inst.capped:
            res = run_capped_market(
                inst,
                eps=cfg.market_eps,
                max_rounds=cfg.market_max_rounds,
                latency_s=cfg.message_latency_s,
                init_bids=init,
            )
            return self._market_outcome(inst, idx, res)
        res = run_market(
            inst,
            eps=cfg.market_eps,
            max_rounds=cfg.market_max_rounds,
            dynamics=cfg.dynamics,
            latency_s=cfg.message_latency_s,
            init_bids=init,
        )
        return self._market_outcome(inst, idx, res)

    def _market_outcome(self, inst, idx, res) -> PolicyOutcome:
        self._warm_bids[:] = 0.0
        self._warm_cluster[:] = -1
        self._warm_bids[idx] = res.bids
        self._warm_cluster[idx] = inst.cluster
        return PolicyOutcome(
            res.allocation.prbs,
            float(res.allocation.revenue.sum()),
            res.time_s,
            res.rounds,
            res.messages,
            res.converged,
            res.bids,
            res.allocation.prices,
        )

    # -- results ----------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Scalar results per policy: mean rate, fraction of UE-time below the floor, the same
        for UEs in trouble, and epoch means (welfare, revenue, Jain) - tidy rows."""
        rows = []
        ep = pd.DataFrame(self.epochs)
        for j, p in enumerate(self.names):
            rows += [
                (p, "mean_rate_mbps", self.rate_sum[j] / max(self.ue_ticks, 1)),
                (p, "frac_below_floor", self.below[j] / max(self.ue_ticks, 1)),
                (
                    p,
                    "trouble_mean_rate_mbps",
                    self.trouble_rate_sum[j] / max(self.trouble_ticks, 1),
                ),
                (p, "trouble_frac_below_floor", self.trouble_below[j] / max(self.trouble_ticks, 1)),
            ]
            for key in ("welfare", "revenue", "jain", "efficiency", "satisfied", "alloc_time"):
                col = f"{key}.{p}"
                if col in ep:
                    rows.append((p, f"epoch_{key}", float(ep[col].mean())))
        for col in EPOCH_METRICS:
            if col in ep and col != "efficiency":  # per policy above
                rows.append(
                    (
                        "market" if col != "n_trouble" else "all",
                        f"epoch_{col}",
                        float(ep[col].mean()),
                    )
                )
        rows += self.handover_rows()
        for name, c in self.sim.metrics.counters.items():
            rows.append(("all", name, c.value))
        rows.append(("all", "trouble_time_fraction", self.trouble_ticks / max(self.ue_ticks, 1)))
        return pd.DataFrame(rows, columns=["policy", "metric", "value"])

    def handover_rows(self) -> list[tuple]:
        """Per handover scheme (``a3`` = the baseline every CoMP policy shares, ``cho``,
        ``daps``): completed handovers, ping-pongs (:func:`~ran.comp.cho.ping_pongs`,
        window ``ping_pong_s``) and their share, RLFs, and the share of UE-time without a
        primary link (RLF, re-establishment, handover interruption); ``policy`` is the
        scheme."""
        rows = []
        for scheme, log in self.ho_log.items():
            arr = np.asarray(log, dtype=float).reshape(-1, 4)
            pp = ping_pongs(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], self.hp.ping_pong_s)
            n_ho = int(arr.shape[0])
            rows += [
                (scheme, "ho_handovers", float(n_ho)),
                (scheme, "ho_ping_pongs", float(pp.sum())),
                (scheme, "ho_ping_pong_share", float(pp.sum()) / n_ho if n_ho else math.nan),
                (scheme, "ho_rlf", float(self.scheme_rlf[scheme])),
                (
                    scheme,
                    "ho_no_primary_share",
                    self.no_primary_ticks[scheme] / max(self.ue_ticks, 1),
                ),
            ]
        return rows

    def epoch_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.epochs)
