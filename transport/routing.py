"""A collective whose every step waits for an outside routing decision (the RL model).

:class:`RoutingModel` runs one collective step-synchronously over the fluid transport on a
leaf-spine fabric, optionally with background traffic. Before each step it requests a
decision (a :class:`~transport.execute.Batch`) from a :class:`netsim.DecisionPoint`; the
answer gives, for every cross-leaf flow of the step, the spine of each of its ``split``
equal pieces (:class:`~transport.balancing.External`). When the collective is done it makes
one last request so that an event-driven env stops exactly there. The reference answers
(ECMP, spraying, minimal split) are available as actions via :meth:`baseline_action`.
"""

from __future__ import annotations

import numpy as np

from netsim import DecisionPoint, Simulation

from .background import BackgroundTraffic
from .balancing import ECMP, External, minimal_split
from .collectives import build_collective, place_ranks, schedule
from .execute import Batch, CollectiveRun
from .flowsim import FlowTransport
from .metrics import lower_bound_cct_s
from .network import Network

__all__ = ["RoutingModel", "max_cross_flows"]


def max_cross_flows(coll) -> int:
    """Largest number of transfers in one step (bounds the cross-leaf flows of a step)."""
    return max(len(s) for s in coll.steps)


class RoutingModel:
    """One collective on ``net`` whose steps are routed by ``decisions``.

    Args:
        sim, net: engine and leaf-spine network.
        collective, ranks, message_bytes, placement: what runs where.
        split: pieces per cross-leaf flow the decision maker places.
        alpha_s: per-transfer latency (s).
        background_load: offered load per host link of ECMP background flows (0 = none).
        background_bytes: mean background flow size (bytes, exponential).
        decisions: the decision point the steps wait on.
    """

    def __init__(
        self,
        sim: Simulation,
        net: Network,
        collective: str,
        ranks: int,
        message_bytes: float,
        placement: str,
        split: int,
        alpha_s: float,
        background_load: float,
        background_bytes: float,
        decisions: DecisionPoint,
    ):
        if net.kind != "leaf_spine":
            raise ValueError("RoutingModel: needs a leaf-spine network")
        self.sim, self.net, self.split = sim, net, int(split)
        self.coll = build_collective(collective, ranks, message_bytes)
        self.hosts = place_ranks(ranks, net.n_hosts, placement, sim.rng("transport.placement"))
        self.transport = FlowTransport(sim, net)
        self.balancer = External(sim.rng("transport.balancing.external"), split)
        self._ecmp = ECMP(sim.rng("transport.balancing.ecmp"))
        self.decisions = decisions
        self.background = None
        if background_load > 0:
            self.background = BackgroundTraffic(
                sim, net, self.transport, background_load, background_bytes, "exponential"
            )
        sched = schedule(self.coll, 1, "step")
        self._conn = sched.conn
        self.run = CollectiveRun(
            sim, net, sched, self.hosts, self.balancer, self.transport, alpha_s, decisions=decisions
        )
        self.lower_bound_s = lower_bound_cct_s(net, self.coll, self.hosts, alpha_s)
        self.run.finished.callbacks.append(self._on_finished)
        self.run.start()

    @property
    def done(self) -> bool:
        return self.run.finished.triggered

    def _on_finished(self, _ev) -> None:
        if self.background is not None:
            self.background.stop()
        self.decisions.finish()

    # -- the current decision -------------------------------------------------------------------
    def batch(self) -> Batch | None:
        """The step waiting for a decision (None when the collective is over)."""
        state = self.decisions.state if self.decisions.waiting else None
        return state if isinstance(state, Batch) else None

    def cross(self, batch: Batch) -> np.ndarray:
        """Indices (within the batch) of its cross-leaf flows, in action order."""
        return np.flatnonzero(self.net.tor[batch.src_hosts] != self.net.tor[batch.dst_hosts])

    def baseline_action(self, name: str, n_slots: int) -> np.ndarray:
        """The action that reproduces ``ecmp``, ``spray`` or ``minimal_split`` for the pending
        step (padded with zeros to ``n_slots``)."""
        out = np.zeros(n_slots, dtype=np.int64)
        b = self.batch()
        if b is None:
            return out
        S, k = self.net.spines, self.split
        cross = self.cross(b)
        if name == "spray":
            out[: cross.size * k] = S
        elif name == "ecmp":
            conn = self._conn[b.nodes[cross]]
            path = self._ecmp.paths(self.net, b.src_hosts[cross], b.dst_hosts[cross], conn)
            out[: cross.size * k] = np.repeat(path, k)
        elif name == "minimal_split":
            asg = minimal_split(self.net, b.src_hosts, b.dst_hosts, b.nbytes)
            for i, f in enumerate(cross.tolist()):
                sel = asg.parent == f
                pieces = np.round(asg.fraction[sel] * k).astype(np.int64)
                if pieces.sum() != k:
                    p = round(1 / asg.fraction[sel].min())
                    raise ValueError(f"split: minimal_split needs a multiple of {p} pieces")
                out[i * k : (i + 1) * k] = np.repeat(asg.path[sel], pieces)
        else:
            raise ValueError(f"baseline: unknown {name!r} (allowed: ecmp, spray, minimal_split)")
        return out

    def fabric_utilisation(self) -> np.ndarray:
        """Current load/capacity of every uplink then every downlink (from background)."""
        rate = self.transport.link_rates_bps() / self.net.capacity_bps
        return np.concatenate(
            [rate[self.net.uplinks()].ravel(), rate[self.net.downlinks()].ravel()]
        )
