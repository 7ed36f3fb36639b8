"""``netsim show NAME``: a scenario's or env's resolved default config as commented YAML.

Every key is printed with its value and a comment giving its type, bounds, unit and one-line
description, all read from the pydantic schema: bounds from ``Field(gt=, ge=, lt=, le=,
min_length=, max_length=)``, the description from ``Field(description=...)`` and the unit
from ``Field(json_schema_extra={"unit": ...})`` or, by convention, a parenthesised unit at
the end of the description (``"Poisson arrival rate (1/s)"``). Stripped of its comments the
output is valid YAML that loads to the resolved config.
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from typing import Any

import annotated_types as at
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .config import Config, _submodel, validate
from .errors import ConfigError

__all__ = ["describe", "describe_config", "field_comment", "unit_of"]

_COMMENT_COL = 34
_UNIT = re.compile(r"\s*\(([^()]*)\)\s*$")


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if ann is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{name}[{inner}]" if inner else name
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "")


def _bounds(field: FieldInfo) -> str:
    lo = hi = None
    lo_open = hi_open = False
    min_len = max_len = None
    for m in field.metadata:
        if isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Ge):
            lo, lo_open = m.ge, False
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
        elif isinstance(m, at.Le):
            hi, hi_open = m.le, False
        elif isinstance(m, at.MinLen):
            min_len = m.min_length
        elif isinstance(m, at.MaxLen):
            max_len = m.max_length
    parts = []
    if lo is not None or hi is not None:
        left = ("(" if lo_open else "[") + (f"{lo:g}" if lo is not None else "-inf")
        right = (f"{hi:g}" if hi is not None else "inf") + (")" if hi_open or hi is None else "]")
        if lo is None:
            left = "(-inf"
        parts.append(f"in {left}, {right}")
    if min_len is not None or max_len is not None:
        parts.append(f"{min_len or 0}..{max_len if max_len is not None else 'any'} items")
    return ", ".join(parts)


def unit_of(field: FieldInfo) -> tuple[str | None, str]:
    """(unit, description without the unit) of a field."""
    desc = " ".join((field.description or "").split())
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("unit"):
        return str(extra["unit"]), desc
    m = _UNIT.search(desc)
    if m and _looks_like_unit(m.group(1)):
        return m.group(1), desc[: m.start()].rstrip()
    return None, desc


_NOT_UNITS = {"default", "never", "e.g.", "eg", "see", "if", "when", "one", "optional", "needs",
              "i.e.", "ie", "or", "and", "none", "only", "per", "same", "all"}


def _looks_like_unit(text: str) -> bool:
    """A trailing parenthetical is a unit if it is short and not a remark (``(default 4)``)."""
    words = text.split()
    return bool(words) and len(text) <= 20 and "," not in text and (
        words[0].lower() not in _NOT_UNITS
    )


def field_comment(field: FieldInfo) -> str:
    """``type, bounds [unit]; description`` of one field."""
    head = _type_name(field.annotation)
    bounds = _bounds(field)
    if bounds:
        head += f" {bounds}"
    unit, desc = unit_of(field)
    if unit:
        head += f" [{unit}]"
    return f"{head}; {desc}" if desc else head


def _scalar(value: Any) -> str:
    text = yaml.safe_dump([value], default_flow_style=True, width=10**6, allow_unicode=True)
    return text.strip()[1:-1]


def _line(text: str, comment: str | None) -> str:
    if not comment:
        return text
    return f"{text.ljust(_COMMENT_COL)} # {comment}" if len(text) < _COMMENT_COL else (
        f"{text}  # {comment}"
    )


def _emit(schema: type[BaseModel], data: dict, indent: int, out: list[str], item: bool = False):
    """Append ``data`` (a dump of ``schema``) as commented YAML lines to ``out``; with
    ``item`` the mapping is a list item (``- `` before its first key)."""
    keys = [k for k in schema.model_fields if k in data]
    for i, key in enumerate(keys):
        field = schema.model_fields[key]
        value = data[key]
        lead = " " * indent + (("- " if i == 0 else "  ") if item else "")
        child = indent + (2 if item else 0) + 2
        comment = field_comment(field)
        sub = _submodel(field.annotation)
        if sub is not None and isinstance(value, dict) and value:
            out.append(_line(f"{lead}{key}:", comment))
            _emit(sub, value, child, out)
        elif (
            sub is not None and isinstance(value, list) and value
            and all(isinstance(v, dict) for v in value)
        ):
            out.append(_line(f"{lead}{key}:", comment))
            for v in value:
                _emit(sub, v, child, out, item=True)
        else:
            out.append(_line(f"{lead}{key}: {_scalar(value)}", comment))


def describe_config(schema: type[BaseModel], config: BaseModel | dict, indent: int = 0) -> str:
    """The commented YAML of ``config`` (an instance of ``schema`` or its dump)."""
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    lines: list[str] = []
    _emit(schema, data, indent, lines)
    return "\n".join(lines) + "\n"


def _header(kind: str, name: str, schema: type, where: str, presets, chosen, how: str) -> list:
    """Comment lines heading ``netsim show``: what NAME is, its schema and its presets."""
    lines = [f"# {kind} {name}: {where}".rstrip(": ")]
    lines.append(f"# schema: {schema.__module__}.{schema.__qualname__}")
    if chosen is not None:
        lines.append(f"# preset {chosen[0]}: {chosen[1]}")
    lines.append(f"# presets: {', '.join(presets)}  ({how})" if presets else "# presets: none")
    return lines


def _describe_scenario(name: str, preset: str | None) -> str:
    from .scenario import resolve

    r = resolve(name, preset=preset)
    sc = r.scenario
    presets = sc.presets()
    default = sc.preset_path()
    chosen = None if preset is None else (preset, "/".join(presets[preset].parts[-2:]))
    lines = _header("scenario", sc.name, sc.schema, sc.description, presets, chosen,
                    f"netsim run {sc.name} --preset NAME")
    if default is not None:
        lines.insert(2, f"# defaults: {default.parent.name}/{default.name}")
    lines.append(_line(f"seed: {r.seed}", "int in [0, 2**63 - 1]; root seed"))
    lines.append(_line(f"reps: {r.reps}", "int in [1, inf); replications"))
    lines.append("config:")
    return "\n".join(lines) + "\n" + describe_config(sc.schema, r.config, indent=2)


def _env_class(env_id: str):
    import gymnasium as gym

    spec = gym.spec(env_id)
    ep = spec.entry_point
    if callable(ep):
        return spec, ep
    module, _, attr = ep.partition(":")
    return spec, getattr(importlib.import_module(module), attr)


def _describe_env(env_id: str, preset: str | None) -> str:
    from .registry import require_env_id

    env_id = require_env_id(env_id)
    spec, cls = _env_class(env_id)
    schema: type[Config] = getattr(cls, "config_cls", None)
    if schema is None or not issubclass(schema, BaseModel):
        raise ConfigError(f"{env_id}: its class {cls.__name__} declares no config_cls schema")
    presets: dict = dict(getattr(cls, "presets", {}) or {})
    base: dict = {}
    if preset is not None:
        if preset not in presets:
            raise ConfigError(f"--preset: env '{env_id}' has no preset '{preset}' "
                              f"(presets: {', '.join(presets) or 'none'})")
        base = presets[preset]
    config = validate(schema, {**base, **dict(spec.kwargs or {})})
    chosen = None if preset is None else (preset, f"gym.make({env_id!r}, preset={preset!r})")
    lines = _header("env", env_id, schema, f"{cls.__module__}.{cls.__qualname__}", presets,
                    chosen, "gym.make(id, preset=NAME)")
    vec = getattr(spec, "vector_entry_point", None)
    if vec:
        lines.insert(2, f"# vector_entry_point: {vec if isinstance(vec, str) else vec.__name__}")
    return "\n".join(lines) + "\n" + describe_config(schema, config)


def describe(name: str, preset: str | None = None) -> str:
    """``netsim show NAME``: an env id (``netsim/X-v0``) or a scenario name / YAML file."""
    if "/" in name and not name.endswith((".yaml", ".yml")):
        return _describe_env(name, preset)
    return _describe_scenario(name, preset)
