"""KPM reports in the Colosseum/SCOPE per-UE metrics format (one row per UE per 250 ms).

The CSV written by SCOPE's srsLTE (``<IMSI>_metrics.csv``) has 36 columns, five of them
blank separators (``,,`` in the header). :func:`load_colosseum_csv` reads it by position and
returns the 31 named columns; :func:`write_colosseum_csv` writes the same layout, so
simulated and real reports go through one code path. :data:`FEATURES` are the 17 KPIs
TRACTOR classifies on.

:func:`downlink_kpis` and :func:`uplink_kpis` turn per-TTI quantities into report columns:
means over the TTIs in which the UE was scheduled (0 when it was not, as srsLTE reports),
sums of PRBs, buffers at the end of the period, bit rates over the period.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "REPORT_S",
    "COLOSSEUM_HEADER",
    "KPM_COLUMNS",
    "FEATURES",
    "COL",
    "downlink_kpis",
    "uplink_kpis",
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
)  # fmt: skip
KPM_COLUMNS = tuple(c for c in COLOSSEUM_HEADER if c)
#: the 17 KPIs TRACTOR classifies on, in its order
FEATURES = (
    "dl_mcs", "dl_n_samples", "dl_buffer [bytes]", "tx_brate downlink [Mbps]", "tx_pkts downlink",
    "dl_cqi", "ul_mcs", "ul_n_samples", "ul_buffer [bytes]", "rx_brate uplink [Mbps]",
    "rx_pkts uplink", "rx_errors uplink (%)", "ul_sinr", "phr", "sum_requested_prbs",
    "sum_granted_prbs", "ul_turbo_iters",
)  # fmt: skip
COL = {name: i for i, name in enumerate(KPM_COLUMNS)}
SCHEDULING_POLICY = {"rr": 0, "wf": 1, "pf": 2}


#: turbo decoder iterations of a failed block (srsLTE's maximum)
MAX_TURBO_ITERS = 10.0


def _per_period(x: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Sums over the TTI axis of ``(periods, TTIs, UEs)`` arrays (a product is faster than
    ``sum(axis=1)`` on small blocks)."""
    return np.einsum("t,ptu->pu", ones, x) if x.ndim == 3 else ones @ x


def downlink_kpis(prbs, need_prbs, mcs, decoded, served_bits, buffer_bits, packet_bytes,
                  period_s: float = REPORT_S) -> dict[str, np.ndarray]:  # fmt: skip
    """Downlink columns of one report from per-(TTI, UE) arrays of the period: PRBs granted
    and requested, MCS in use, decoded flags, bits served; buffers at the period's end (bits)
    and mean packet sizes (bytes, for the packet counts), per UE."""
    on = prbs > 0
    n_u = prbs.shape[1]
    # every column sum in one product: [on, on & decoded, on·mcs, served, requested, granted]
    sums = np.ones(prbs.shape[0]) @ np.concatenate(
        [on, on & decoded, on * mcs, served_bits, need_prbs, prbs], axis=1, dtype=float
    )
    n, ok, mcs_sum, bits, req, granted = sums.reshape(6, n_u)
    per = 1.0 / np.maximum(n, 1)
    return {
        "dl_mcs": mcs_sum * per,
        "dl_n_samples": n,
        "dl_buffer [bytes]": buffer_bits / 8.0,
        "tx_brate downlink [Mbps]": bits / period_s / 1e6,
        "tx_pkts downlink": np.round(bits / 8.0 / np.maximum(packet_bytes, 1.0)),
        "tx_errors downlink (%)": 100.0 * (n - ok) * per,
        "sum_requested_prbs": req,
        "sum_granted_prbs": granted,
    }


def uplink_kpis(prbs, mcs, decoded, served_bits, sinr_db, margin_db, buffer_bits, phr_db,
                packet_bytes, period_s: float = REPORT_S) -> dict[str, np.ndarray]:  # fmt: skip
    """Uplink columns of reports from ``(periods, TTIs, UEs)`` arrays: PRBs granted, MCS,
    decoded flags, bits served, SINR and its margin over the MCS threshold (dB); buffers at
    each period's end, power headroom and mean packet sizes, ``(periods, UEs)``.

    ``ul_turbo_iters`` is a decoder-effort proxy: ``1 + 2^(-margin_dB)`` for a decoded block
    and :data:`MAX_TURBO_ITERS` for a failed one (no 3GPP source; srsLTE reports the mean).
    Means are over the TTIs with an uplink grant; 0 without one, as srsLTE reports."""
    ones = np.ones(prbs.shape[-2])
    on = prbs > 0
    n = _per_period(on, ones)
    per = 1.0 / np.maximum(n, 1)
    bits = _per_period(served_bits, ones)
    iters = np.where(decoded, 1.0 + np.exp2(-np.maximum(margin_db, 0.0)), MAX_TURBO_ITERS)
    return {
        "ul_mcs": _per_period(on * mcs, ones) * per,
        "ul_n_samples": n,
        "ul_buffer [bytes]": buffer_bits / 8.0,
        "rx_brate uplink [Mbps]": bits / period_s / 1e6,
        "rx_pkts uplink": np.round(bits / 8.0 / np.maximum(packet_bytes, 1.0)),
        "rx_errors uplink (%)": 100.0 * (n - _per_period(on & decoded, ones)) * per,
        "ul_sinr": _per_period(on * sinr_db, ones) * per,
        "phr": np.where(n > 0, phr_db, 0.0),
        "ul_turbo_iters": _per_period(on * iters, ones) * per,
    }


def _rows_of(report: dict[str, np.ndarray]) -> int:
    return max(np.size(v) for v in report.values())


def to_frame(reports: dict[str, np.ndarray] | list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Reports (column -> per-UE array, or a list of them) as one DataFrame with
    :data:`KPM_COLUMNS`; missing columns are 0, scalars are broadcast."""
    reports = [reports] if isinstance(reports, dict) else list(reports)
    if not reports:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in KPM_COLUMNS})
    sizes = [_rows_of(r) for r in reports]
    data = {
        c: np.concatenate(
            [
                np.broadcast_to(np.asarray(r.get(c, 0.0), dtype=float), (n,))
                for r, n in zip(reports, sizes, strict=True)
            ]
        )
        for c in KPM_COLUMNS
    }
    return pd.DataFrame(data).astype({"Timestamp": np.int64, "IMSI": np.int64})


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
