"""Markdown pipe tables of DataFrames (GitHub flavour), with no extra dependency."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["markdown_table"]


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g", index: bool = False) -> str:
    """A pipe table of ``df``; floats formatted with ``floatfmt``, NaN and None left empty.

    ``index=True`` writes the index (every level of a MultiIndex) as the first columns."""

    def cell(v) -> str:
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else format(float(v), floatfmt)
        return "" if v is None else str(v)

    flat = df.reset_index() if index else df
    head = [str(c) for c in flat.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in flat.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"
