"""Ring all-reduce on real numpy data with per-step timing over the WAN model.

Data (Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 69(2), 2009; the NCCL/PCCL ring): the n peers of the ring split their
buffer into n chunks. **Reduce-scatter**, steps s = 0..n−2: peer i sends chunk (i − s) mod n
to peer i+1, which adds it to its own copy; afterwards peer i holds the full sum of chunk
(i + 1) mod n. **All-gather**, steps s = 0..n−2: peer i sends chunk (i + 1 − s) mod n to peer
i+1, which overwrites its copy. Every peer ends with bit-identical copies of the sum.

Timing: in step k, ring edge e (peer e → peer e+1) moves one chunk of S/n bits and takes
``c_e = α_e + (S/n)/B_e`` (one-way latency α = RTT/2, bandwidth B). A transfer starts when the
edge is free and its chunk has arrived from the previous step:
``t[k, e] = max(t[k−1, e], t[k−1, e−1]) + c_e`` with ``t[−1, ·] = 0``. The finish of the last
step is then exactly ``2(n−1)·max_e c_e``; on a uniform WAN
``2(n−1)·α + 2(n−1)/n · S/B`` (the Patarasuk-Yuan / nccl-tests ring cost).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..collectives import BUSBW_FACTORS

__all__ = [
    "ring_allreduce_busbw_bps",
    "ring_allreduce_time",
    "ring_finish_s",
    "ring_step_costs",
    "ring_schedule",
    "RingAllReduce",
]


def _check_n(n: int) -> None:
    if int(n) != n or n < 2:
        raise ValueError(f"a ring all-reduce needs at least 2 peers, got {n}")


def ring_allreduce_time(
    n: int, message_bytes: float, bandwidth_bps: float, latency_s: float
) -> float:
    """Closed form on a uniform WAN: ``2(n−1)·α + 2(n−1)/n · 8S/B`` (s)."""
    _check_n(n)
    if not message_bytes > 0:
        raise ValueError(f"message size must be > 0 bytes, got {message_bytes}")
    if not bandwidth_bps > 0:
        raise ValueError(f"bandwidth must be > 0 bps, got {bandwidth_bps}")
    if latency_s < 0:
        raise ValueError(f"latency must be >= 0 s, got {latency_s}")
    return 2 * (n - 1) * latency_s + ring_allreduce_busbw_bps(n, message_bytes, bandwidth_bps)


def ring_allreduce_busbw_bps(n: int, message_bytes: float, duration_s: float) -> float:
    """nccl-tests bus bandwidth of an all-reduce of ``message_bytes`` over ``n`` peers that
    took ``duration_s``: ``2(n−1)/n · 8S/t`` (bit/s; nccl-tests PERFORMANCE.md, the factor
    from :data:`transport.collectives.BUSBW_FACTORS`). With ``duration_s`` a bandwidth in
    bit/s instead it is the bandwidth term ``2(n−1)/n · 8S/B`` (s) of the ring's time."""
    return BUSBW_FACTORS["allreduce"](n) * 8.0 * message_bytes / duration_s


def ring_finish_s(costs) -> float:
    """Completion time (s) of a ring all-reduce with per-edge step costs ``costs`` (s): the
    last step of :func:`ring_schedule` ends at exactly ``2(n−1)·max_e c_e``."""
    c = np.asarray(costs, dtype=float)
    _check_n(c.size)
    return 2 * (c.size - 1) * float(c.max())


def ring_step_costs(
    order: Sequence[int], bandwidth_bps, latency_s, message_bytes: float
) -> np.ndarray:
    """``c_e = α[o_e, o_{e+1}] + 8S/(n·B[o_e, o_{e+1}])`` for each edge of the ring ``order``
    (indices into the matrices), in seconds."""
    o = np.asarray(order, dtype=int)
    n = o.size
    _check_n(n)
    if not message_bytes > 0:
        raise ValueError(f"message size must be > 0 bytes, got {message_bytes}")
    nxt = np.roll(o, -1)
    bw = np.asarray(bandwidth_bps, dtype=float)[o, nxt]
    if np.any(~(bw > 0)):
        raise ValueError("every ring edge needs a bandwidth > 0")
    return np.asarray(latency_s, dtype=float)[o, nxt] + 8.0 * message_bytes / n / bw


def ring_schedule(costs) -> np.ndarray:
    """Finish times ``t[k, e]`` (s, from the collective's start) of the 2(n−1) steps on each
    edge e, by the dependency recurrence of the module docstring."""
    c = np.asarray(costs, dtype=float)
    n = c.size
    _check_n(n)
    t = np.empty((2 * (n - 1), n))
    left = np.arange(n) - 1  # edge e-1 (index -1 wraps to the last edge)
    prev = np.zeros(n)
    for k in range(2 * (n - 1)):
        prev = np.maximum(prev, prev[left]) + c
        t[k] = prev
    return t


class RingAllReduce:
    """One ring all-reduce over ``buffers`` (one 1-D array per peer, in ring order).

    The inputs are copied; :meth:`apply_steps` advances the data movement step by step, so an
    engine can stop it mid-way (a peer died) and discard the partial buffers. ``costs`` (per
    edge, s) gives the timing: :attr:`step_end` is when step k has finished on every edge.
    """

    def __init__(self, buffers: Sequence[np.ndarray], costs=None):
        n = len(buffers)
        _check_n(n)
        first = np.asarray(buffers[0])
        if first.ndim != 1 or first.size == 0:
            raise ValueError("buffers must be non-empty 1-D arrays")
        if any(np.asarray(b).shape != first.shape for b in buffers):
            raise ValueError("all peers must contribute buffers of one shape")
        self.n = n
        self.length = first.size
        self.steps = 2 * (n - 1)
        width = -(-self.length // n)  # ceil: pad with zeros to n equal chunks
        work = np.zeros((n, n * width), dtype=np.result_type(*[np.asarray(b) for b in buffers]))
        work[:, : self.length] = np.stack([np.asarray(b) for b in buffers])
        self._work = work.reshape(n, n, width)  # [peer, chunk, element]
        self._src = np.arange(n)
        self._dst = (self._src + 1) % n
        self.done = 0
        if costs is None:
            costs = np.zeros(n)
        costs = np.asarray(costs, dtype=float)
        if costs.shape != (n,) or np.any(~np.isfinite(costs)) or np.any(costs < 0):
            raise ValueError(f"costs must be {n} finite values >= 0 (one per ring edge)")
        self.costs = costs
        self.schedule = ring_schedule(costs)
        self.step_end = self.schedule.max(axis=1)
        self.duration = float(self.step_end[-1])

    def _step(self, k: int) -> None:
        n = self.n
        src, dst = self._src, self._dst
        if k < n - 1:  # reduce-scatter
            chunk = (src - k) % n
            self._work[dst, chunk] += self._work[src, chunk]
        else:  # all-gather
            chunk = (src + 1 - (k - (n - 1))) % n
            self._work[dst, chunk] = self._work[src, chunk]

    def apply_steps(self, upto: int) -> None:
        """Perform the data movement of steps ``done .. upto−1``."""
        if not 0 <= upto <= self.steps:
            raise ValueError(f"step must be in 0..{self.steps}, got {upto}")
        while self.done < upto:
            self._step(self.done)
            self.done += 1

    def steps_done_by(self, elapsed_s: float) -> int:
        """How many whole steps have finished ``elapsed_s`` after the start."""
        return int(np.searchsorted(self.step_end, elapsed_s, side="right"))

    def chunks_sent_by(self, elapsed_s: float) -> int:
        """Edge transfers (one chunk each) completed ``elapsed_s`` after the start."""
        return int(np.count_nonzero(self.schedule <= elapsed_s))

    @property
    def complete(self) -> bool:
        return self.done == self.steps

    def buffers(self) -> np.ndarray:
        """Current per-peer buffers, shape (n, length)."""
        return self._work.reshape(self.n, -1)[:, : self.length].copy()

    def run(self) -> np.ndarray:
        """All steps; returns the (n, length) results (every row is the sum)."""
        self.apply_steps(self.steps)
        return self.buffers()
