"""Configuration: strict pydantic schemas, YAML files and ``key=value`` overrides.

Every scenario and env declares a schema by subclassing :class:`Config`: unknown keys are
rejected, values are validated and converted, and any failure becomes a one-line
:class:`~netsim.errors.ConfigError` naming the key and what is allowed.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError

__all__ = [
    "Config",
    "validate",
    "parse_assignment",
    "apply_overrides",
    "set_dotted",
    "parse_value",
    "deep_merge",
    "load_yaml",
    "format_validation_error",
]

C = TypeVar("C", bound=BaseModel)


class Config(BaseModel):
    """Base of every config schema: unknown keys are errors, instances are immutable, and
    numbers must be finite (``.inf`` or ``.nan`` in a YAML file is an error)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Sub``, ``Sub | None``, ``list[Sub]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, typing.TypeAliasType if hasattr(typing, "TypeAliasType") else ()):
        return _submodel(annotation.__value__)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _submodel(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict, set, frozenset) or (
        origin is not None and getattr(origin, "__module__", "") == "collections.abc"
    ):
        for arg in typing.get_args(annotation):
            sub = _submodel(arg)
            if sub is not None:
                return sub
    return None


def _model_at(schema: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model that owns the last element of an error location."""
    model: type[BaseModel] | None = schema
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, str) and part in model.model_fields:
            model = _submodel(model.model_fields[part].annotation)
        # integer indices and dict keys keep the element model found above
    return model


def _fmt_loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def format_validation_error(schema: type[BaseModel], err: ValidationError, prefix: str = "") -> str:
    """One line describing every error of ``err``."""
    msgs = []
    for e in err.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = prefix + _fmt_loc(loc)
        etype = e["type"]
        if etype == "value_error" and not loc and not prefix:
            # a cross-field rule (model_validator) on the whole config: its message names
            # the keys itself; "<root>: ... (got dict)" would only add noise
            msgs.append(_strip_value_error(e["msg"]))
            continue
        if etype == "extra_forbidden":
            owner = _model_at(schema, loc)
            allowed = ", ".join(owner.model_fields) if owner is not None else "?"
            msgs.append(f"unknown key '{key}' (allowed: {allowed})")
        elif etype == "missing":
            msgs.append(f"missing required key '{key}'")
        else:
            msg = _strip_value_error(e["msg"])
            got = e.get("input")
            if isinstance(got, Mapping | list):
                # too long to echo; its type is worth naming only when the type is the error
                wrong_type = etype.endswith(("_type", "_parsing"))
                got_type = f" (got {type(got).__name__})" if wrong_type else ""
                msgs.append(f"{key}: {msg}{got_type}")
                continue
            shown = repr(got)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            msgs.append(f"{key}: {msg} (got {shown})")
    return "; ".join(msgs)


def _strip_value_error(msg: str) -> str:
    msg = msg.rstrip(".")
    return msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg


def _numeric(annotation: Any) -> bool:
    """True if ``annotation`` admits int or float but not bool (``int``, ``float | None``,
    ``Annotated[float, ...]``)."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _numeric(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(_numeric(a) for a in args)
    return False


def _numeric_items(annotation: Any) -> bool:
    """True for ``list[float]``, ``tuple[int, ...]`` and the like."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _numeric_items(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_numeric_items(a) for a in typing.get_args(annotation))
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return origin in (list, tuple) and bool(args) and all(_numeric(a) for a in args)


def _bool_for_number(schema: type[BaseModel], data: Any, prefix: str = "") -> str | None:
    """The key of the first ``true``/``false`` given where a number is expected, if any.

    pydantic's lax mode silently turns booleans into 1 and 0 (and YAML reads ``yes`` and
    ``on`` as true), so ``horizon: yes`` would otherwise become a 1-second horizon."""
    if not isinstance(data, Mapping):
        return None
    for key, value in data.items():
        field = schema.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        where = f"{prefix}.{key}" if prefix else key
        ann = field.annotation
        if isinstance(value, bool) and _numeric(ann):
            return where
        items = value if isinstance(value, list | tuple) else None
        if items is not None and _numeric_items(ann):
            for i, v in enumerate(items):
                if isinstance(v, bool):
                    return f"{where}[{i}]"
        sub = _submodel(ann)
        if sub is None:
            continue
        if isinstance(value, Mapping):
            found = _bool_for_number(sub, value, where)
            if found:
                return found
        for i, v in enumerate(items or ()):
            found = _bool_for_number(sub, v, f"{where}[{i}]")
            if found:
                return found
    return None


def validate(schema: type[C], data: Mapping[str, Any] | BaseModel | None = None, **overrides) -> C:
    """Validate ``data`` (plus keyword overrides) against ``schema``.

    Raises:
        ConfigError: one line naming each bad key and what is allowed.
    """
    if isinstance(data, schema) and not overrides:
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump()
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"config must be a mapping of keys to values, got {type(data).__name__}")
    merged = deep_merge(dict(data or {}), overrides)
    bad = _bool_for_number(schema, merged)
    if bad is not None:
        raise ConfigError(f"{bad}: expected a number, got a boolean (true/false/yes/no/on/off)")
    try:
        return schema.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(format_validation_error(schema, err)) from None


def deep_merge(base: dict, update: Mapping) -> dict:
    """Recursive merge of ``update`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(dict(out[k]), v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_value(text: str) -> Any:
    """A CLI value parsed as a YAML scalar or flow collection: ``1``, ``0.5``, ``true``,
    ``[1, 2]``, ``{a: 1}``; anything unparsable stays a string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``"a.b=1"`` -> ``(["a", "b"], 1)``."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not p for p in key.split(".")):
        raise ConfigError(f"--set expects key=value (dotted keys allowed), got {text!r}")
    return key.split("."), parse_value(value.strip())


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``key="a.b"``, creating sections as needed.

    A numeric part indexes an existing list: ``stations.0.servers`` sets ``servers`` of the
    first entry of ``stations``."""
    path = key.split(".")
    node: Any = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"'{here}': '{'.'.join(path[:i])}' is a list of {len(node)} item(s); "
                    f"use an index 0..{len(node) - 1} (setting '{key}')"
                )
            idx: Any = int(part)
        else:
            idx = part
        if last:
            node[idx] = value
            return
        nxt = node[idx] if isinstance(node, list) else node.get(idx)
        if nxt is None:
            nxt = node[idx] = {}
        elif not isinstance(nxt, dict | list):
            raise ConfigError(f"'{here}' is not a section (setting '{key}')")
        node = nxt


def apply_overrides(data: Mapping[str, Any], assignments: Iterable[str]) -> dict:
    """Apply ``key=value`` assignments (dotted keys address nested sections)."""
    out = copy.deepcopy(dict(data))
    for text in assignments:
        path, value = parse_assignment(text)
        set_dotted(out, ".".join(path), value)
    return out


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing, unreadable or non-mapping file is a ConfigError."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"cannot read YAML {p}: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level, got {type(data).__name__}")
    return data
