"""Traffic per UE, generated one block of TTIs at a time as ``(TTI, UE)`` byte and packet
arrays (vectorised over TTIs and UEs).

* Parametric, as in the Colosseum O-RAN COMMAG dataset (Bonati et al., IEEE Commun. Mag.
  59(10), 2021): eMBB constant bit rate (1 Mbps by default, 4 Mbps in ColO-RAN) in packets of
  :data:`CBR_PACKET_BYTES`; MTC Poisson 30 packets/s of 125 B; URLLC Poisson 10 packets/s of
  125 B. Their uplink carries Poisson :data:`UL_SIGNALLING_PPS` packets/s of
  :data:`UL_SIGNALLING_BYTES` (a stand-in for the RLC/ACK traffic seen in the COMMAG uplink).
* Trace replay of the TRACTOR phone captures (``data/phone_traces``): packets from the
  network side (172.30.1.250) are downlink, those from the phone (172.30.1.1) uplink, at
  their captured times, looped, from a random offset. TRACTOR's ``traffic_gen.py`` sends
  ``Length - 70`` bytes of UDP payload per captured frame; on the air this is
  ``max(Length - 70, 0) + 28`` bytes with the IP/UDP headers (:func:`air_bytes`).
  Only the call part of the Meet capture is replayed (:data:`TRACE_SPAN_S`).
* ``ctrl``: no user traffic, only the uplink signalling stream.
"""

from __future__ import annotations

import gzip
import importlib.resources
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from numba import njit

from .phy import TTI_S

__all__ = [
    "CLASSES",
    "TRACES",
    "CBR_PACKET_BYTES",
    "MTC_RATE_PPS",
    "URLLC_RATE_PPS",
    "SMALL_PACKET_BYTES",
    "UE_TRAFFIC_KINDS",
    "Trace",
    "UeTraffic",
    "Packets",
    "StepTraffic",
    "dense_arrivals",
    "TrafficMix",
    "air_bytes",
    "load_trace",
    "cbr_arrivals",
    "make_ue_traffic",
]

#: traffic classes (classifier label order, as in TRACTOR: eMBB, MTC, URLLC, control)
CLASSES = ("embb", "mmtc", "urllc", "ctrl")
#: phone traces per class (files in data/phone_traces, .csv.gz)
TRACES = {
    "embb": ("embb_youtube_04_10", "embb_netflix_11_18_first300s", "embb_onedrive_upload_05_18_b"),
    "urllc": ("urllc_meet_04_10_first200s", "urllc_messenger_05_18_first90s",
              "urllc_maps_ar_04_16_first180s"),
    "mmtc": ("mmtc_idle_04_10", "mmtc_idle_11_18"),
}
#: replayed part of a trace (s from its first packet); the Meet capture is idle until the
#: call starts at ≈100 s (TRACTOR raw/README.md), so only the call is replayed
TRACE_SPAN_S = {"urllc_meet_04_10_first200s": (100.0, 200.0)}
CBR_PACKET_BYTES = 1250
MTC_RATE_PPS = 30.0
URLLC_RATE_PPS = 10.0
SMALL_PACKET_BYTES = 125
UL_SIGNALLING_PPS = 10.0
UL_SIGNALLING_BYTES = 64
UE_TRAFFIC_KINDS = ("commag", "trace")
_HEADER_STRIPPED = 70
_IP_UDP = 28
_SPAN_S = 1e5  # key spacing between UEs in the packed trace arrays (> 2 x longest trace)


def air_bytes(length_bytes) -> np.ndarray:
    """Bytes on the air for a captured frame replayed by TRACTOR's traffic generator:
    ``max(Length - 70, 0) + 28`` (UDP payload plus IP/UDP headers)."""
    return np.maximum(np.asarray(length_bytes, dtype=np.int64) - _HEADER_STRIPPED, 0) + _IP_UDP


@dataclass(frozen=True)
class Trace:
    """One phone capture: packet times (s from the first packet) and air bytes per direction."""

    name: str
    traffic_class: str
    duration_s: float
    dl_time_s: np.ndarray
    dl_bytes: np.ndarray
    ul_time_s: np.ndarray
    ul_bytes: np.ndarray


@cache
def load_trace(name: str) -> Trace:
    """Read ``data/phone_traces/<name>.csv.gz`` (columns ``time_s, length_bytes,
    direction``)."""
    cls = next((c for c, names in TRACES.items() if name in names), None)
    if cls is None:
        known = ", ".join(n for names in TRACES.values() for n in names)
        raise ValueError(f"trace: unknown trace {name!r} (known: {known})")
    res = importlib.resources.files("ran.slicing").joinpath(f"data/phone_traces/{name}.csv.gz")
    with gzip.open(str(res), "rt") as f:
        df = pd.read_csv(f)
    t = df["time_s"].to_numpy(float)
    t = t - t.min()
    lo, hi = TRACE_SPAN_S.get(name, (0.0, np.inf))
    keep = (t >= lo) & (t < hi)
    df, t = df[keep], t[keep]
    t0 = t.min()
    # a looped trace restarts one mean inter-packet gap after its last packet
    duration = float(t.max() - t0 + (t.max() - t0) / max(len(t) - 1, 1))
    out = {}
    for d in ("dl", "ul"):
        sel = (df["direction"] == d).to_numpy()
        order = np.argsort(t[sel], kind="stable")
        out[d] = ((t[sel] - t0)[order], air_bytes(df["length_bytes"].to_numpy()[sel])[order])
    return Trace(name, cls, duration, out["dl"][0], out["dl"][1], out["ul"][0], out["ul"][1])


def cbr_arrivals(t0_us: int, n_tti: int, interval_us, phase_us):
    """Arrivals of constant-bit-rate sources (one per entry of ``interval_us``) in the TTIs
    ``[t0, t0 + n_tti ms)``: packets at ``phase + k·interval`` (µs). Returns
    ``(tti, source)`` index arrays, one entry per packet."""
    interval = np.asarray(interval_us, dtype=np.int64)
    phase = np.asarray(phase_us, dtype=np.int64)
    t1 = t0_us + n_tti * int(TTI_S * 1e6)
    k0 = np.maximum(-((phase - t0_us) // interval), 0)  # first k with phase + kΔ >= t0
    k1 = np.maximum(-((phase - t1) // interval), 0)
    counts = k1 - k0
    src = np.repeat(np.arange(interval.size), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts - k0, counts)
    t = phase[src] + k * interval[src]
    return (t - t0_us) // int(TTI_S * 1e6), src


@dataclass(frozen=True)
class UeTraffic:
    """Traffic of one UE. ``kind`` is ``"trace"`` (replay ``trace`` from ``offset_s``) or
    ``"parametric"`` with a downlink source ``dl`` in {"cbr", "poisson", "none"} at
    ``dl_rate`` (Mbps for CBR, packets/s for Poisson) and Poisson uplink signalling."""

    traffic_class: str
    kind: str = "parametric"
    dl: str = "none"
    dl_rate: float = 0.0
    dl_packet_bytes: int = SMALL_PACKET_BYTES
    ul_rate_pps: float = UL_SIGNALLING_PPS
    ul_packet_bytes: int = UL_SIGNALLING_BYTES
    trace: str | None = None
    offset_s: float = 0.0
    phase_s: float = 0.0


def make_ue_traffic(
    traffic_class: str,
    mode: str,
    rng: np.random.Generator,
    embb_rate_mbps: float = 1.0,
    traces: dict[str, tuple[str, ...]] | None = None,
) -> UeTraffic:
    """The traffic of a UE of ``traffic_class`` under ``mode`` ("commag" or "trace"); the
    trace (one of ``traces[traffic_class]``, default :data:`TRACES`), its start offset and
    the CBR phase are drawn from ``rng``."""
    if traffic_class not in CLASSES:
        raise ValueError(f"traffic_class: unknown class {traffic_class!r} (allowed: {CLASSES})")
    if mode not in UE_TRAFFIC_KINDS:
        raise ValueError(f"traffic: unknown mode {mode!r} (allowed: {', '.join(UE_TRAFFIC_KINDS)})")
    if embb_rate_mbps < 0:
        raise ValueError(f"embb_rate_mbps: must be >= 0 (got {embb_rate_mbps})")
    if traffic_class == "ctrl":
        return UeTraffic("ctrl")
    if mode == "trace":
        names = (traces or TRACES)[traffic_class]
        if not names or any(n not in TRACES[traffic_class] for n in names):
            raise ValueError(f"traces: {traffic_class} needs captures from "
                             f"{', '.join(TRACES[traffic_class])} (got {list(names)})")
        name = names[int(rng.integers(len(names)))]
        offset = float(rng.uniform(0.0, load_trace(name).duration_s))
        return UeTraffic(traffic_class, kind="trace", trace=name, offset_s=offset)
    if traffic_class == "embb":
        interval = CBR_PACKET_BYTES * 8 / max(embb_rate_mbps * 1e6, 1e-9)
        return UeTraffic("embb", dl="cbr" if embb_rate_mbps > 0 else "none",
                         dl_rate=embb_rate_mbps, dl_packet_bytes=CBR_PACKET_BYTES,
                         phase_s=float(rng.uniform(0.0, interval)))
    rate = MTC_RATE_PPS if traffic_class == "mmtc" else URLLC_RATE_PPS
    return UeTraffic(traffic_class, dl="poisson", dl_rate=rate)


@dataclass
class Packets:
    """Packets of one block, per direction: the cell ``tti·UEs + ue`` and the bytes of each."""

    dl_cell: np.ndarray
    dl_bytes: np.ndarray
    ul_cell: np.ndarray
    ul_bytes: np.ndarray


@dataclass
class StepTraffic:
    """Arrivals of one block: bytes and packets per (TTI, UE), downlink and uplink."""

    dl_bytes: np.ndarray
    dl_pkts: np.ndarray
    ul_bytes: np.ndarray
    ul_pkts: np.ndarray


@cache
def _all_twice(direction: str) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[int, int]]]:
    """Packet times (s) and sizes of every trace in one direction, each trace written twice
    in a row (so that a window never wraps), all traces one after another; and the
    ``(first, end)`` positions of each trace in them."""
    times, sizes, where, at = [], [], {}, 0
    for name in (n for names in TRACES.values() for n in names):
        tr = load_trace(name)
        t = getattr(tr, f"{direction}_time_s")
        times.append(np.concatenate([t, t + tr.duration_s]))
        sizes.append(np.tile(getattr(tr, f"{direction}_bytes"), 2))
        where[name] = (at, at + 2 * t.size)
        at += 2 * t.size
    return np.concatenate(times), np.concatenate(sizes), where


class _PackedTraces:
    """The trace packets of several UEs as one sorted key array (UE ``j``'s packets at
    ``j·SPAN + time``, each trace written twice so that a window never wraps); the keys are
    computed on the fly from the shared per-trace arrays of :func:`_all_twice`."""

    def __init__(self, traces: list[Trace], direction: str):
        self.times, self.sizes, where = _all_twice(direction)
        seg = np.array([where[tr.name] for tr in traces], dtype=np.int64).reshape(-1, 2)
        self.first, self.end = seg[:, 0].copy(), seg[:, 1].copy()

    def packets(self, pos_s: np.ndarray, n_tti: int, cols: np.ndarray, n_ues: int):
        """Packets of the windows of ``n_tti`` TTIs starting at ``pos_s`` (s into each
        trace), trace ``j`` feeding UE ``cols[j]`` of ``n_ues``: ``(cell, bytes)`` arrays, one
        entry per packet, with cell ``tti·n_ues + UE``."""
        return _window(self.times, self.sizes, self.first, self.end, pos_s, n_tti, cols, n_ues)


@njit(cache=True, inline="always")
def _lower_bound(times, first, end, base, value):
    """First position ``q`` in ``first..end`` with ``base + times[q] >= value`` (``end`` if
    none)."""
    lo, hi = first, end
    while lo < hi:
        mid = (lo + hi) >> 1
        if base + times[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _window(times, sizes, first, end, pos_s, n_tti, cols, n_ues):
    k = pos_s.size
    lo = np.empty(k, dtype=np.int64)
    hi = np.empty(k, dtype=np.int64)
    for j in range(k):
        base = j * _SPAN_S
        start = base + pos_s[j]
        lo[j] = _lower_bound(times, first[j], end[j], base, start)
        hi[j] = _lower_bound(times, first[j], end[j], base, start + n_tti * TTI_S)
    cell = np.empty((hi - lo).sum(), dtype=np.int64)
    nbytes = np.empty(cell.size, dtype=np.int64)
    i = 0
    for j in range(k):
        base = j * _SPAN_S
        start = base + pos_s[j]
        for q in range(lo[j], hi[j]):
            cell[i] = min(int((base + times[q] - start) / TTI_S), n_tti - 1) * n_ues + cols[j]
            nbytes[i] = sizes[q]
            i += 1
    return cell, nbytes


class TrafficMix:
    """Traffic of all UEs of a cell: :meth:`packets` (or :meth:`block`, per TTI and UE)
    returns the next block of TTIs.

    Args:
        ues: one :class:`UeTraffic` per UE.
        rng: the traffic stream (Poisson draws).
    """

    def __init__(self, ues: list[UeTraffic], rng: np.random.Generator):
        self.ues = list(ues)
        self.rng = rng
        self.n = len(self.ues)
        self.t_us = 0
        self.trace_cols = np.array([i for i, u in enumerate(ues) if u.kind == "trace"],
                                   dtype=np.int64)
        traces = [load_trace(ues[i].trace) for i in self.trace_cols]
        self.trace_dur = np.array([t.duration_s for t in traces])
        self.trace_pos = np.array([ues[i].offset_s for i in self.trace_cols], dtype=float)
        self._dl = _PackedTraces(traces, "dl")
        self._ul = _PackedTraces(traces, "ul")
        param = [i for i, u in enumerate(ues) if u.kind != "trace"]
        self.cbr_cols = np.array([i for i in param if ues[i].dl == "cbr"], dtype=int)
        self.cbr_interval_us = np.array(
            [
                round(ues[i].dl_packet_bytes * 8 / (ues[i].dl_rate * 1e6) * 1e6)
                for i in self.cbr_cols
            ],
            dtype=np.int64,
        )
        self.cbr_phase_us = np.array(
            [round(ues[i].phase_s * 1e6) for i in self.cbr_cols], dtype=np.int64
        )
        self.cbr_size = np.array([ues[i].dl_packet_bytes for i in self.cbr_cols], dtype=np.int64)
        self.pois_cols = np.array([i for i in param if ues[i].dl == "poisson"], dtype=int)
        self.pois_rate = np.array([ues[i].dl_rate for i in self.pois_cols]) * TTI_S
        self.pois_size = np.array([ues[i].dl_packet_bytes for i in self.pois_cols], dtype=np.int64)
        self.ul_cols = np.array(param, dtype=int)
        self.ul_rate = np.array([ues[i].ul_rate_pps for i in param]) * TTI_S
        self.ul_size = np.array([ues[i].ul_packet_bytes for i in param], dtype=np.int64)

    def _poisson(self, rate_per_tti: np.ndarray, n_tti: int):
        """Poisson arrivals: a Poisson number of packets per source over the block, at
        uniformly distributed TTIs (the conditional law of a Poisson process)."""
        counts = self.rng.poisson(rate_per_tti * n_tti)
        src = np.repeat(np.arange(rate_per_tti.size), counts)
        return self.rng.integers(0, n_tti, src.size), src

    def packets(self, n_tti: int) -> Packets:
        """Packets arriving in the next ``n_tti`` TTIs."""
        dl: list[tuple] = []
        ul: list[tuple] = []
        if self.trace_cols.size:
            dl.append(self._dl.packets(self.trace_pos, n_tti, self.trace_cols, self.n))
            ul.append(self._ul.packets(self.trace_pos, n_tti, self.trace_cols, self.n))
            self.trace_pos = np.mod(self.trace_pos + n_tti * TTI_S, self.trace_dur)
        if self.cbr_cols.size:
            tti, j = cbr_arrivals(self.t_us, n_tti, self.cbr_interval_us, self.cbr_phase_us)
            dl.append((tti * self.n + self.cbr_cols[j], self.cbr_size[j]))
        if self.pois_cols.size:
            tti, j = self._poisson(self.pois_rate, n_tti)
            dl.append((tti * self.n + self.pois_cols[j], self.pois_size[j]))
        if self.ul_cols.size:
            tti, j = self._poisson(self.ul_rate, n_tti)
            ul.append((tti * self.n + self.ul_cols[j], self.ul_size[j]))
        self.t_us += n_tti * int(TTI_S * 1e6)
        return Packets(*_joined(dl), *_joined(ul))

    def block(self, n_tti: int) -> StepTraffic:
        """Arrivals in the next ``n_tti`` TTIs, per (TTI, UE)."""
        p = self.packets(n_tti)
        return StepTraffic(*dense_arrivals(p.dl_cell, p.dl_bytes, n_tti, self.n),
                           *dense_arrivals(p.ul_cell, p.ul_bytes, n_tti, self.n))


def _joined(parts: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Cells and bytes of several ``(cell, bytes)`` packet lists, one after the other."""
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([c for c, _ in parts]), np.concatenate([b for _, b in parts])


def dense_arrivals(cell, nbytes, n_tti: int, n_ues: int) -> tuple[np.ndarray, np.ndarray]:
    """Bytes and packets per (TTI, UE) of the packets in cells ``cell`` (``tti·UEs + ue``)."""
    by = np.zeros((n_tti, n_ues), dtype=np.int64)
    pk = np.zeros((n_tti, n_ues), dtype=np.int64)
    _scatter(cell, nbytes, by.reshape(-1), pk.reshape(-1))
    return by, pk


@njit(cache=True)
def _scatter(cell, nbytes, out_bytes, out_pkts):
    """Add packet ``i`` (``nbytes[i]`` bytes) to cell ``cell[i]`` of the byte and packet counts."""
    for i in range(cell.size):
        out_bytes[cell[i]] += nbytes[i]
        out_pkts[cell[i]] += 1
