"""Two-line element sets: parsing with validation, from files or strings, and the bundled sets.

Format: NORAD/CelesTrak TLE (Hoots & Roehrich, *Spacetrack Report No. 3*, 1980; Vallado et al.,
AIAA 2006-6753). Each line is 69 characters; column 69 is the modulo-10 checksum of columns
1-68 (digits count as their value, ``-`` as 1, everything else 0). A set is an optional name
line (3-line form) followed by line 1 and line 2 of the same catalogue number.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sgp4.api import Satrec, SatrecArray

__all__ = [
    "TLE",
    "checksum",
    "parse_tle",
    "load_tle",
    "bundled_tle",
    "BUNDLED",
    "satrec_array",
    "select",
]

#: bundled CelesTrak snapshots (2021-08-05), see ``satellite/data/README.md``
BUNDLED = {
    "geo": "geo_2021-08-05.txt",
    "starlink": "starlink_2021-08-05.txt",
    "oneweb": "oneweb_2021-08-05.txt",
}


@dataclass(frozen=True)
class TLE:
    """One element set: ``name`` (may be empty), ``line1`` and ``line2`` (69 chars each)."""

    name: str
    line1: str
    line2: str

    @property
    def catalog(self) -> int:
        """NORAD catalogue number (columns 3-7)."""
        return int(self.line1[2:7])

    def satrec(self) -> Satrec:
        return Satrec.twoline2rv(self.line1, self.line2)


def checksum(line: str) -> int:
    """Modulo-10 checksum of columns 1-68 (digits by value, ``-`` counts 1)."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def _check_line(line: str, number: int, where: str) -> None:
    if len(line) != 69:
        raise ValueError(f"{where}: TLE line {number} must have 69 characters (got {len(line)})")
    if line[0] != str(number) or line[1] != " ":
        raise ValueError(
            f"{where}: TLE line {number} must start with '{number} ' (got {line[:2]!r})"
        )
    if not line[68].isdigit():
        raise ValueError(f"{where}: TLE line {number} column 69 must be the checksum digit")
    want = checksum(line)
    if int(line[68]) != want:
        raise ValueError(
            f"{where}: TLE line {number} checksum mismatch (column 69 says {line[68]}, "
            f"columns 1-68 give {want})"
        )
    fields = (
        [(2, 7), (18, 20), (20, 32)]
        if number == 1
        else [(2, 7), (8, 16), (17, 25), (26, 33), (34, 42), (43, 51), (52, 63)]
    )
    for a, b in fields:
        text = line[a:b].strip()
        try:
            float(text)
        except ValueError:
            raise ValueError(
                f"{where}: TLE line {number} columns {a + 1}-{b} must be numeric (got {text!r})"
            ) from None


def _validate_pair(name: str, l1: str, l2: str, where: str, where2: str) -> TLE:
    _check_line(l1, 1, where)
    _check_line(l2, 2, where2)
    if l1[2:7] != l2[2:7]:
        raise ValueError(
            f"{where}: catalogue numbers of line 1 ({l1[2:7].strip()}) and line 2 "
            f"({l2[2:7].strip()}) differ"
        )
    sat = Satrec.twoline2rv(l1, l2)
    if sat.error != 0 or not (0.0 < sat.no_kozai < 0.1):  # 0.1 rad/min ~ 23 rev/day
        raise ValueError(f"{where}: TLE for {name or l1[2:7]} has an invalid mean motion")
    if not 0.0 <= sat.ecco < 1.0:
        raise ValueError(f"{where}: TLE for {name or l1[2:7]} has eccentricity outside [0, 1)")
    return TLE(name, l1, l2)


def parse_tle(text: str, source: str = "<string>") -> list[TLE]:
    """Parse 2-line or 3-line TLE text; blank lines are skipped.

    Raises:
        ValueError: naming the line number and the problem (length, leading digit, checksum,
            non-numeric field, catalogue mismatch, missing line 2, no element set).
    """
    lines = [(i + 1, ln.rstrip("\r\n").rstrip()) for i, ln in enumerate(text.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln.strip()]
    out: list[TLE] = []
    k = 0
    while k < len(lines):
        i, ln = lines[k]
        name = ""
        if not ln.startswith("1 "):
            name = ln[2:].strip() if ln.startswith("0 ") else ln.strip()
            k += 1
            if k >= len(lines):
                raise ValueError(f"{source} line {i}: name {name!r} is not followed by TLE line 1")
            i, ln = lines[k]
        if k + 1 >= len(lines):
            raise ValueError(f"{source} line {i}: TLE line 1 is not followed by line 2")
        i2, ln2 = lines[k + 1]
        out.append(_validate_pair(name, ln, ln2, f"{source} line {i}", f"{source} line {i2}"))
        k += 2
    if not out:
        raise ValueError(f"{source}: no TLE element set found")
    return out


def load_tle(path: str | Path) -> list[TLE]:
    """Read and parse a TLE file (see :func:`parse_tle`)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"TLE file not found: {p}")
    return parse_tle(p.read_text(encoding="ascii", errors="replace"), source=str(p))


def bundled_tle(name: str) -> list[TLE]:
    """A bundled CelesTrak snapshot: ``"geo"``, ``"starlink"`` or ``"oneweb"``."""
    if name not in BUNDLED:
        raise ValueError(f"tle set: unknown bundled set {name!r} (allowed: {', '.join(BUNDLED)})")
    ref = importlib.resources.files("satellite").joinpath("data", BUNDLED[name])
    return parse_tle(ref.read_text(encoding="ascii"), source=f"satellite/data/{BUNDLED[name]}")


def select(tles: list[TLE], names: list[str]) -> list[TLE]:
    """The sets whose name equals each of ``names`` (case-insensitive), in that order."""
    index = {t.name.strip().upper(): t for t in tles}
    missing = [n for n in names if n.strip().upper() not in index]
    if missing:
        raise ValueError(f"satellite names not in the TLE set: {', '.join(missing)}")
    return [index[n.strip().upper()] for n in names]


def satrec_array(tles: list[TLE] | list[Satrec]) -> SatrecArray:
    """An sgp4 ``SatrecArray`` of the sets (propagated together in C)."""
    recs = [t.satrec() if isinstance(t, TLE) else t for t in tles]
    if not recs:
        raise ValueError("need at least one satellite")
    return SatrecArray(np.asarray(recs, dtype=object).tolist())
