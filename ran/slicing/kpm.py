"""KPM reports in the Colosseum/SCOPE per-UE metrics format (one row per UE per 250 ms).

The CSV written by SCOPE's srsLTE (``<IMSI>_metrics.csv``) has 36 columns, five of them
blank separators (``,,`` in the header). :func:`load_colosseum_csv` reads it by position and
returns the 31 named columns; :func:`write_colosseum_csv` writes the same layout, so
simulated and real reports go through one code path. :data:`FEATURES` are the 17 KPIs
TRACTOR classifies on.

:func:`downlink_columns` and :func:`uplink_columns` turn a period's sums into report
columns: means over the TTIs in which the UE was scheduled (0 when it was not, as srsLTE
reports), sums of PRBs, buffers at the end of the period, bit rates over the period. A
simulated report is a :class:`KpmReport`, a mapping over one matrix of all the columns.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

__all__ = [
    "REPORT_S",
    "COLOSSEUM_HEADER",
    "KPM_COLUMNS",
    "FEATURES",
    "COL",
    "MAX_TURBO_ITERS",
    "KpmReport",
    "turbo_iterations",
    "downlink_columns",
    "period_sums",
    "uplink_columns",
    "to_frame",
    "load_colosseum_csv",
    "write_colosseum_csv",
]

REPORT_S = 0.25  # KPM period (s)
#: the 36 header fields of a Colosseum/SCOPE per-UE metrics CSV ('' = blank separator)
COLOSSEUM_HEADER = (
    "Timestamp", "num_ues", "IMSI", "RNTI", "", "slicing_enabled", "slice_id", "slice_prb",
    "power_multiplier", "scheduling_policy", "", "dl_mcs", "dl_n_samples", "dl_buffer [bytes]",
    "tx_brate downlink [Mbps]", "tx_pkts downlink", "tx_errors downlink (%)", "dl_cqi", "",
    "ul_mcs", "ul_n_samples", "ul_buffer [bytes]", "rx_brate uplink [Mbps]", "rx_pkts uplink",
    "rx_errors uplink (%)", "ul_rssi", "ul_sinr", "phr", "", "sum_requested_prbs",
    "sum_granted_prbs", "", "dl_pmi", "dl_ri", "ul_n", "ul_turbo_iters",
)
KPM_COLUMNS = tuple(c for c in COLOSSEUM_HEADER if c)
#: the 17 KPIs TRACTOR classifies on, in its order
FEATURES = (
    "dl_mcs", "dl_n_samples", "dl_buffer [bytes]", "tx_brate downlink [Mbps]", "tx_pkts downlink",
    "dl_cqi", "ul_mcs", "ul_n_samples", "ul_buffer [bytes]", "rx_brate uplink [Mbps]",
    "rx_pkts uplink", "rx_errors uplink (%)", "ul_sinr", "phr", "sum_requested_prbs",
    "sum_granted_prbs", "ul_turbo_iters",
)
COL = {name: i for i, name in enumerate(KPM_COLUMNS)}
SCHEDULING_POLICY = {"rr": 0, "wf": 1, "pf": 2}


#: turbo decoder iterations of a failed block (srsLTE's maximum)
MAX_TURBO_ITERS = 10.0
_R = {name: COL[name] for name in KPM_COLUMNS}  # row of each column in a report matrix
_DL_MCS, _DL_N, _DL_BUF, _DL_RATE = (_R[c] for c in FEATURES[:4])
_DL_PKTS, _DL_ERR, _DL_CQI = _R["tx_pkts downlink"], _R["tx_errors downlink (%)"], _R["dl_cqi"]
_REQ, _GRANTED = _R["sum_requested_prbs"], _R["sum_granted_prbs"]


class KpmReport(Mapping):
    """One KPM report: column name -> per-UE values (float), backed by a matrix ``data`` of
    shape ``(len(KPM_COLUMNS), UEs)`` in :data:`KPM_COLUMNS` order (columns the model does
    not produce are 0)."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray):
        self.data = data

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[COL[key]]

    def __iter__(self):
        return iter(KPM_COLUMNS)

    def __len__(self) -> int:
        return len(KPM_COLUMNS)


def turbo_iterations(margin_db) -> np.ndarray:
    """Decoder-effort proxy of one transport block: ``1 + 2^(-margin_dB)`` when it is decoded
    (SINR margin over the MCS threshold >= 0), :data:`MAX_TURBO_ITERS` when it fails (no 3GPP
    source; srsLTE reports the mean iterations)."""
    m = np.asarray(margin_db, dtype=float)
    return np.where(m >= 0, 1.0 + np.exp2(-np.maximum(m, 0.0)), MAX_TURBO_ITERS)


@njit(cache=True)
def downlink_columns(sums, buffer_bits, packet_bytes, n_tti, period_s, out):
    """Downlink columns of one report into the report matrix ``out`` from the period's sums
    per UE ``sums`` (:data:`~ran.slicing.period.DL_SUMS`: TTIs scheduled, of them decoded,
    MCS over them, bits served, PRBs requested and granted, CQI over the ``n_tti`` TTIs), the
    buffers at the period's end (bits) and the mean packet sizes (bytes, for packet counts).
    Means are over the scheduled TTIs (0 when there were none, as srsLTE reports)."""
    for u in range(buffer_bits.size):
        n = float(sums[0, u])
        per = 1.0 / max(n, 1.0)
        bits = float(sums[3, u])
        out[_DL_MCS, u] = float(sums[2, u]) * per
        out[_DL_N, u] = n
        out[_DL_BUF, u] = buffer_bits[u] / 8.0
        out[_DL_RATE, u] = bits / period_s / 1e6
        out[_DL_PKTS, u] = np.rint(bits / 8.0 / max(packet_bytes[u], 1.0))
        out[_DL_ERR, u] = 100.0 * (n - float(sums[1, u])) * per
        out[_REQ, u] = float(sums[4, u])
        out[_GRANTED, u] = float(sums[5, u])
        out[_DL_CQI, u] = float(sums[6, u]) / n_tti


def period_sums(x: np.ndarray) -> np.ndarray:
    """Sums over the TTIs of ``(periods, TTIs, UEs)`` terms, ``(periods, UEs)``, as numpy's
    ``einsum`` adds them (in time order for two or more UEs)."""
    return np.einsum("t,ptu->pu", np.ones(x.shape[1]), x)


_UL = tuple(_R[c] for c in (
    "ul_mcs", "ul_n_samples", "ul_buffer [bytes]", "rx_brate uplink [Mbps]", "rx_pkts uplink",
    "rx_errors uplink (%)", "ul_sinr", "phr", "ul_turbo_iters",
))


@njit(cache=True)
def uplink_columns(sums, buffer_bits, real_sums, phr_db, packet_bytes, period_s, out):
    """Uplink columns of a chunk of reports into ``out`` ``(periods, columns, UEs)``: from
    per-period sums ``sums`` ``(periods, >= 4, UEs)`` (TTIs granted, of them decoded, MCS over
    them, bits served) and ``real_sums`` ``(periods, 2, UEs)`` (SINR in dB and decoder effort,
    :func:`turbo_iterations`, over the granted TTIs), buffers at each period's end (bits),
    power headroom (dB) and mean packet sizes (bytes), ``(periods, UEs)``.
    Means are over the granted TTIs; 0 without one, as srsLTE reports."""
    mcs, n_col, buf, rate, pkts, err, sinr, phr, turbo = _UL
    for i in range(sums.shape[0]):
        for u in range(sums.shape[2]):
            n = float(sums[i, 0, u])
            per = 1.0 / max(n, 1.0)
            bits = float(sums[i, 3, u])
            out[i, mcs, u] = float(sums[i, 2, u]) * per
            out[i, n_col, u] = n
            out[i, buf, u] = buffer_bits[i, u] / 8.0
            out[i, rate, u] = bits / period_s / 1e6
            out[i, pkts, u] = np.rint(bits / 8.0 / max(packet_bytes[i, u], 1.0))
            out[i, err, u] = 100.0 * (n - float(sums[i, 1, u])) * per
            out[i, sinr, u] = real_sums[i, 0, u] * per
            out[i, phr, u] = phr_db[i, u] if n > 0 else 0.0
            out[i, turbo, u] = real_sums[i, 1, u] * per


def _matrix(report: Mapping) -> np.ndarray:
    """A report as a ``(columns, UEs)`` matrix in :data:`KPM_COLUMNS` order (missing columns
    0, scalars broadcast)."""
    if isinstance(report, KpmReport):
        return report.data
    n = max(np.size(v) for v in report.values())
    return np.stack([np.broadcast_to(np.asarray(report.get(c, 0.0), dtype=float), (n,))
                     for c in KPM_COLUMNS])


def to_frame(reports: Mapping | list[Mapping]) -> pd.DataFrame:
    """Reports (column -> per-UE array, or a list of them) as one DataFrame with
    :data:`KPM_COLUMNS`; missing columns are 0, scalars are broadcast."""
    reports = [reports] if isinstance(reports, Mapping) else list(reports)
    if not reports:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in KPM_COLUMNS})
    data = np.concatenate([_matrix(r) for r in reports], axis=1)
    frame = pd.DataFrame(dict(zip(KPM_COLUMNS, data, strict=True)))
    return frame.astype({"Timestamp": np.int64, "IMSI": np.int64})


def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def load_colosseum_csv(path: str | Path) -> pd.DataFrame:
    """Read a Colosseum/SCOPE per-UE metrics CSV (optionally ``.gz``) by position.

    The header must match :data:`COLOSSEUM_HEADER`, blank separator columns included; they
    are dropped. Raises ValueError naming the file and the first mismatching column.
    """
    path = Path(path)
    with _open_text(path) as f:
        header = f.readline().rstrip("\r\n").split(",")
        if tuple(header) != COLOSSEUM_HEADER:
            bad = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(header, COLOSSEUM_HEADER, strict=False))
                    if a != b
                ),
                min(len(header), len(COLOSSEUM_HEADER)),
            )
            got = header[bad] if bad < len(header) else "<end of header>"
            want = COLOSSEUM_HEADER[bad] if bad < len(COLOSSEUM_HEADER) else "<end of header>"
            raise ValueError(
                f"{path.name}: not a Colosseum metrics CSV (column {bad}: got {got!r}, "
                f"expected {want!r})"
            )
        df = pd.read_csv(f, header=None, names=list(range(len(COLOSSEUM_HEADER))))
    keep = [i for i, name in enumerate(COLOSSEUM_HEADER) if name]
    out = df[keep].copy()
    out.columns = list(KPM_COLUMNS)
    return out.astype({"Timestamp": np.int64, "IMSI": np.int64})


def write_colosseum_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` (with :data:`KPM_COLUMNS`) in the Colosseum layout, blanks included."""
    path = Path(path)
    out = pd.DataFrame(index=df.index)
    for i, name in enumerate(COLOSSEUM_HEADER):
        out[i] = df[name] if name else ""
    text = ",".join(COLOSSEUM_HEADER) + "\n" + out.to_csv(header=False, index=False)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
