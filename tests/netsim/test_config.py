"""Config validation: one-line errors naming the key and what is allowed."""

from typing import Literal

import pytest
from pydantic import Field

from netsim import Config, ConfigError, validate
from netsim.config import apply_overrides, load_yaml, parse_assignment


class Inner(Config):
    rate: float = Field(1.0, gt=0)


class Outer(Config):
    n: int = Field(2, ge=1, le=10)
    mode: Literal["rr", "pf"] = "rr"
    inner: Inner = Inner()
    items: list[Inner] = []


def test_defaults_and_overrides():
    cfg = validate(Outer, {"n": 3}, mode="pf")
    assert cfg.n == 3 and cfg.mode == "pf" and cfg.inner.rate == 1.0


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ({"bogus": 1}, r"unknown key 'bogus' \(allowed: n, mode, inner, items\)"),
        ({"inner": {"bogus": 1}}, r"unknown key 'inner.bogus' \(allowed: rate\)"),
        ({"items": [{"rate": 1}, {"x": 1}]}, r"unknown key 'items\[1\].x' \(allowed: rate\)"),
        ({"n": "many"}, r"^n: .*integer.*\(got 'many'\)"),
        ({"n": 11}, r"^n: .*less than or equal to 10"),
        ({"inner": {"rate": -1}}, r"^inner.rate: .*greater than 0 \(got -1\)"),
        ({"mode": "wf"}, r"^mode: Input should be 'rr' or 'pf'"),
    ],
)
def test_errors_are_one_line_and_name_the_key(data, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        validate(Outer, data)
    assert "\n" not in str(info.value)


def test_frozen():
    cfg = validate(Outer, {})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        cfg.n = 5


def test_assignments_parse_yaml_scalars():
    assert parse_assignment("a.b=1") == (["a", "b"], 1)
    assert parse_assignment("x=0.5") == (["x"], 0.5)
    assert parse_assignment("x=[1, 2]") == (["x"], [1, 2])
    assert parse_assignment("x=pf") == (["x"], "pf")
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignment("novalue")


def test_apply_overrides_nests():
    out = apply_overrides({"a": {"b": 1}}, ["a.c=2", "d=x"])
    assert out == {"a": {"b": 1, "c": 2}, "d": "x"}
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"a": 1}, ["a.b=2"])


def test_load_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="cannot read YAML"):
        load_yaml(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(lst)
