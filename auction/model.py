"""Resources, requests, weights and allocations as small struct-of-arrays dataclasses.

Units: demand and capacity in normalised CPU (the Google trace's unit, 0-1 of the largest
machine), ``mem_demand`` and ``mem_capacity`` (optional: vector packing) in normalised
memory; prices in money per unit of demand; budgets in money; locations in km; latency in
ms; reliability, availability and energy efficiency are fractions in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

__all__ = ["Resources", "Requests", "Instance", "Weights", "UtilityParams", "Allocation"]


def _as(a, dtype) -> np.ndarray:
    out = np.ascontiguousarray(np.asarray(a, dtype=dtype))
    out.setflags(write=False)
    return out


def _check_range(name: str, a: np.ndarray, lo: float, hi: float) -> None:
    if a.size and not (np.all(np.isfinite(a)) and a.min() >= lo and a.max() <= hi):
        raise ValueError(f"{name}: values must be finite and in [{lo:g}, {hi:g}]")


def _check_nonneg(name: str, a: np.ndarray) -> None:
    if a.size and not (np.all(np.isfinite(a)) and a.min() >= 0):
        raise ValueError(f"{name}: values must be finite and >= 0 (got min {a.min():g})")


class _Arrays:
    """Shared behaviour: length checks and row subsets."""

    def __len__(self) -> int:
        return int(self.type.shape[0])

    def _check_lengths(self) -> None:
        n = len(self)
        for f in fields(self):
            a = getattr(self, f.name)
            if a is not None and a.shape[0] != n:
                raise ValueError(f"{f.name}: expected {n} rows, got {a.shape[0]}")

    def take(self, idx):
        """The rows ``idx`` (an index array or boolean mask) as a new object."""
        return type(self)(
            **{
                f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[idx]
                for f in fields(self)
            }
        )


@dataclass(frozen=True)
class Resources(_Arrays):
    """M resources (machines, edge nodes): one entry per resource in each array."""

    type: np.ndarray  # int, resource type (must equal the request's type)
    capacity: np.ndarray  # normalised CPU units offered to the auction
    unit_cost: np.ndarray  # reserve price per unit of demand (money/unit)
    location: np.ndarray  # (M, 2) km
    reliability: np.ndarray  # [0, 1]
    availability: np.ndarray  # [0, 1]
    energy_efficiency: np.ndarray  # [0, 1], 1 = most efficient
    #: memory offered (normalised like the trace's memory column); None = CPU only. Packing
    #: is checked on memory only when the requests carry ``mem_demand`` too (Instance.memory)
    mem_capacity: np.ndarray | None = field(default=None)

    def __post_init__(self):
        if self.mem_capacity is not None:
            object.__setattr__(self, "mem_capacity", _as(self.mem_capacity, np.float64))
            _check_nonneg("mem_capacity", self.mem_capacity)
        for name, dt in (("type", np.int64),) + tuple(
            (f, np.float64)
            for f in ("capacity", "unit_cost", "reliability", "availability", "energy_efficiency")
        ):
            object.__setattr__(self, name, _as(getattr(self, name), dt))
        object.__setattr__(self, "location", _as(np.reshape(self.location, (-1, 2)), np.float64))
        self._check_lengths()
        _check_nonneg("capacity", self.capacity)
        _check_nonneg("unit_cost", self.unit_cost)
        for name in ("reliability", "availability", "energy_efficiency"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if not np.all(np.isfinite(self.location)):
            raise ValueError("location: values must be finite (km)")


@dataclass(frozen=True)
class Requests(_Arrays):
    """N requests (tasks): one entry per request in each array."""

    type: np.ndarray  # int
    demand: np.ndarray  # normalised CPU units
    budget: np.ndarray  # money
    priority: np.ndarray  # int, larger = more important (Google: 0..11)
    location: np.ndarray  # (N, 2) km
    requester: np.ndarray  # int id of the user who submitted the request
    min_reliability: np.ndarray  # QoS floor on the resource's reliability (0 = none)
    max_latency_ms: np.ndarray  # QoS ceiling on latency (inf = none)
    arrival_s: np.ndarray = field(default=None)  # submit time (s); online auction only
    duration_s: np.ndarray = field(default=None)  # holding time (s); online auction only
    mem_demand: np.ndarray | None = field(default=None)  # memory request; None = CPU only

    def __post_init__(self):
        if self.mem_demand is not None:
            object.__setattr__(self, "mem_demand", _as(self.mem_demand, np.float64))
            _check_nonneg("mem_demand", self.mem_demand)
        n = np.asarray(self.type).shape[0]
        if self.arrival_s is None:
            object.__setattr__(self, "arrival_s", np.zeros(n))
        if self.duration_s is None:
            object.__setattr__(self, "duration_s", np.full(n, np.inf))
        for name in ("type", "priority", "requester"):
            object.__setattr__(self, name, _as(getattr(self, name), np.int64))
        for name in (
            "demand",
            "budget",
            "min_reliability",
            "max_latency_ms",
            "arrival_s",
            "duration_s",
        ):
            object.__setattr__(self, name, _as(getattr(self, name), np.float64))
        object.__setattr__(self, "location", _as(np.reshape(self.location, (-1, 2)), np.float64))
        self._check_lengths()
        _check_nonneg("demand", self.demand)
        _check_nonneg("budget", self.budget)
        _check_range("min_reliability", self.min_reliability, 0.0, 1.0)
        if self.max_latency_ms.size and (
            np.isnan(self.max_latency_ms).any() or self.max_latency_ms.min() <= 0
        ):
            raise ValueError("max_latency_ms: values must be > 0 (inf = no latency floor)")
        if self.requester.size and self.requester.min() < 0:
            raise ValueError("requester: ids must be >= 0")
        if not np.all(np.isfinite(self.location)):
            raise ValueError("location: values must be finite (km)")

    @property
    def n_requesters(self) -> int:
        """Number of requester ids (max id + 1)."""
        return int(self.requester.max()) + 1 if len(self) else 0


@dataclass(frozen=True)
class Instance:
    """One allocation problem: resources, requests and the resources' current prices."""

    resources: Resources
    requests: Requests

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.requests), len(self.resources)

    @property
    def memory(self) -> bool:
        """True when packing is two-dimensional (CPU and memory): the resources carry
        ``mem_capacity`` and the requests ``mem_demand``."""
        return self.resources.mem_capacity is not None and self.requests.mem_demand is not None

    def with_requests(self, idx) -> Instance:
        return replace(self, requests=self.requests.take(idx))


@dataclass(frozen=True)
class Weights:
    """Weights α, β, γ, δ of the cost, QoS, energy and fairness terms (defaults 0.3/0.3/0.2/0.2).

    They are used normalised to sum 1, so every per-pair utility stays in [0, 1]. Each weight
    must be finite and >= 0 and their sum must be > 0.
    """

    cost: float = 0.3
    qos: float = 0.3
    energy: float = 0.2
    fairness: float = 0.2

    def __post_init__(self):
        vals = np.array([self.cost, self.qos, self.energy, self.fairness], dtype=float)
        if not np.all(np.isfinite(vals)) or vals.min() < 0:
            raise ValueError(
                "weights: each of cost, qos, energy, fairness must be finite and >= 0, "
                f"got {vals.tolist()}"
            )
        if vals.sum() <= 0:
            raise ValueError(
                "weights: cost + qos + energy + fairness must sum to a positive number"
            )

    def normalised(self) -> tuple[float, float, float, float]:
        s = self.cost + self.qos + self.energy + self.fairness
        return self.cost / s, self.qos / s, self.energy / s, self.fairness / s


@dataclass(frozen=True)
class UtilityParams:
    """Latency model ``lat = base_ms + ms_per_km · distance`` and the QoS latency scale.

    Defaults: 1 ms of processing/queuing plus 0.01 ms/km, i.e. a round trip in fibre
    (2 × 5 µs/km) along the straight line; ``latency_ref_ms`` is the latency at which the
    latency factor ``exp(-lat/ref)`` falls to 1/e.
    """

    latency_base_ms: float = 1.0
    latency_ms_per_km: float = 0.01
    latency_ref_ms: float = 10.0

    def __post_init__(self):
        if self.latency_base_ms < 0 or self.latency_ms_per_km < 0 or self.latency_ref_ms <= 0:
            raise ValueError(
                "utility params: latency_base_ms, latency_ms_per_km must be >= 0 "
                "and latency_ref_ms > 0"
            )


@dataclass
class Allocation:
    """The pairs a mechanism selected, in selection order, with their payments.

    ``utility`` is each pair's marginal utility U_ij when it was accepted (its fairness term
    counts the requester's holdings at that moment), so ``utility.sum()`` equals F(S).
    """

    request: np.ndarray  # int (K,)
    resource: np.ndarray  # int (K,)
    utility: np.ndarray  # float (K,)
    payment: np.ndarray  # float (K,)

    @classmethod
    def empty(cls) -> Allocation:
        z = np.zeros(0)
        return cls(z.astype(np.int64), z.astype(np.int64), z.copy(), z.copy())

    def __len__(self) -> int:
        return int(self.request.shape[0])

    def assignment(self, n_requests: int) -> np.ndarray:
        """Resource of each request (-1 = not served); needs at most one pair per request."""
        out = np.full(n_requests, -1, dtype=np.int64)
        if np.unique(self.request).size != self.request.size:
            raise ValueError("assignment: a request holds several resources")
        out[self.request] = self.resource
        return out
