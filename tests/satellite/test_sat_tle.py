"""TLE parsing and validation (format: Hoots & Roehrich, Spacetrack Report No. 3)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.tle import BUNDLED, bundled_tle, checksum, parse_tle, select

GOOD = """ISS (ZARYA)
1 25544U 98067A   21217.50000000  .00001264  00000-0  31515-4 0  9993
2 25544  51.6436 108.4467 0001307 320.8536 134.6328 15.48900271296367
"""


def _fix(line: str) -> str:
    return line[:68] + str(checksum(line))


def test_parse_three_and_two_line_forms():
    l1 = _fix(GOOD.splitlines()[1])
    l2 = _fix(GOOD.splitlines()[2])
    three = parse_tle(f"ISS (ZARYA)\n{l1}\n{l2}\n")
    two = parse_tle(f"{l1}\n\n{l2}\n")
    assert three[0].name == "ISS (ZARYA)" and three[0].catalog == 25544
    assert two[0].name == "" and two[0].line1 == l1


def test_bundled_sets_have_the_documented_sizes():
    sizes = {k: len(bundled_tle(k)) for k in BUNDLED}
    assert sizes == {"geo": 537, "starlink": 1661, "oneweb": 254}  # SOURCES.md section 4a


def _lines():
    t = bundled_tle("geo")[0]
    return t.name, t.line1, t.line2


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda n, a, b: (n, a[:-1], b), "69 characters"),
        (lambda n, a, b: (n, a[:68] + str((int(a[68]) + 1) % 10), b), "checksum"),
        (lambda n, a, b: (n, "3" + a[1:], b), "must start with '1 '"),
        (lambda n, a, b: (n, a, _fix(b[:8] + "ab.cdefg" + b[16:])), "numeric"),
        (lambda n, a, b: (n, a, _fix(b[:2] + "99999" + b[7:])), "catalogue numbers"),
    ],
)
def test_malformed_lines_are_rejected_with_a_clear_message(mutate, message):
    n, a, b = mutate(*_lines())
    with pytest.raises(ValueError, match=message):
        parse_tle(f"{n}\n{a}\n{b}\n")


def test_missing_second_line_and_empty_text():
    _, a, _ = _lines()
    with pytest.raises(ValueError, match="not followed by line 2"):
        parse_tle(a)
    with pytest.raises(ValueError, match="no TLE element set"):
        parse_tle("\n\n")


def test_select_unknown_name():
    with pytest.raises(ValueError, match="NOT A SAT"):
        select(bundled_tle("geo"), ["NOT A SAT"])


@settings(max_examples=40, deadline=None)
@given(col=st.integers(min_value=2, max_value=67), delta=st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_breaks_the_checksum(col, delta):
    """Changing one digit changes the modulo-10 sum, so the line is rejected."""
    name, a, b = _lines()
    if not a[col].isdigit():
        return
    bad = a[:col] + str((int(a[col]) + delta) % 10) + a[col + 1 :]
    with pytest.raises(ValueError):
        parse_tle(f"{name}\n{bad}\n{b}\n")
