"""Typed configuration from plain data: dataclasses built from YAML-like dicts, checked once.

:func:`from_dict` builds a (nested, frozen) dataclass from a mapping, rejecting
unknown keys and wrong types with the full key's name (``optim.lrr``); a
dataclass's own ``__post_init__`` checks of values surface as :class:`ConfigError`
with the key's prefix; a dataclass's ``renamed_keys`` (old key -> new dotted key) keeps
configurations of earlier versions loading. :func:`apply_overrides` applies
``section.key=value`` strings (``A:B`` for a setting of two values, as ``--n-avg 7:13``).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """The configuration has an unknown key, a wrong type or an invalid value."""


_PAIR = re.compile(r"^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*$")  # A:B, never YAML's base 60


def apply_overrides(
    raw: dict[str, Any], overrides: list[str] | tuple[str, ...], cls: type | None = None
) -> dict[str, Any]:
    """Set ``section.key=value`` items (values parsed as YAML) in ``raw``, in place.

    Args:
        raw: The mapping the overrides apply to (e.g. a YAML file's content).
        overrides: ``KEY=VALUE`` strings, keys dotted.
        cls: The dataclass ``raw`` describes. With it, old key names (``renamed_keys``) in
            ``raw`` and in the overrides are first changed to the new ones, so an override
            wins over the file whichever name either of them uses; and a setting of two
            values (``tuple[int, int]``) also reads ``A:B`` as ``[A, B]``.

    Examples:
        >>> apply_overrides({"optim": {"lr": 1}}, ["optim.lr=0.0002", "run.seed=3"])
        {'optim': {'lr': 0.0002}, 'run': {'seed': 3}}
    """
    if cls is not None:
        _rename_tree(cls, raw)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not KEY=VALUE")
        key = _new_key(cls, key) if cls is not None else key
        *parents, leaf = key.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section")
        pair = _PAIR.match(value)
        if pair and cls is not None and _is_pair(_field_hint(cls, key)):
            node[leaf] = [yaml.safe_load(pair[1]), yaml.safe_load(pair[2])]
        else:
            node[leaf] = yaml.safe_load(value)
    return raw


def _field_hint(cls: type, key: str) -> Any:
    """The type of the field a dotted ``key`` names in dataclass ``cls`` (None: no such field)."""
    hint: Any = cls
    for part in key.split("."):
        if not dataclasses.is_dataclass(hint):
            return None
        hint = typing.get_type_hints(hint).get(part)
    return hint


def _is_pair(hint: Any) -> bool:
    args = typing.get_args(hint)
    return typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is not Ellipsis


def _field_classes(cls: type) -> dict[str, type]:
    """The fields of dataclass ``cls`` whose type is itself a dataclass."""
    hints = typing.get_type_hints(cls)
    return {name: hint for name, hint in hints.items() if dataclasses.is_dataclass(hint)}


def _rename_tree(cls: type, raw: dict[str, Any]) -> None:
    """Move old keys to their new names throughout ``raw`` (in place)."""
    if not isinstance(raw, dict):
        return
    moved = _move_renamed_keys(cls, raw, "")
    if moved is not raw:
        raw.clear()
        raw.update(moved)
    for name, field_class in _field_classes(cls).items():
        if name in raw:
            _rename_tree(field_class, raw[name])


def _new_key(cls: type, key: str) -> str:
    """A dotted key with old names (``renamed_keys`` along the way) changed to the new ones."""
    head, _, rest = key.partition(".")
    renamed = getattr(cls, "renamed_keys", {})
    if head in renamed:
        return ".".join(filter(None, [renamed[head], rest]))
    inner = _field_classes(cls).get(head)
    return f"{head}.{_new_key(inner, rest)}" if inner is not None and rest else key


def from_dict(cls: type, raw: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass ``cls`` from ``raw``, checking every key and type."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
    raw = _move_renamed_keys(cls, raw, prefix)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key '{prefix}{unknown[0]}'; valid keys here: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(hints[name], value, f"{prefix}{name}")
    try:
        config = cls(**values)
    except ConfigError:
        raise
    except ValueError as err:  # a __post_init__ check: "field: message"
        raise ConfigError(f"{prefix}{err}") from err
    return config


def _move_renamed_keys(cls: type, raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``raw`` with the keys that ``cls.renamed_keys`` (old key -> new dotted key) lists moved."""
    renamed = getattr(cls, "renamed_keys", {})
    if not any(old in raw for old in renamed):
        return raw
    raw = dict(raw)
    for old, new in renamed.items():
        if old not in raw:
            continue
        *parents, leaf = new.split(".")
        node = raw
        for part in parents:
            if not isinstance(node.get(part, {}), dict):
                raise ConfigError(f"{prefix}{part}: expected a mapping, got {node[part]!r}")
            node[part] = node = dict(node.get(part, {}))
        if leaf in node:
            raise ConfigError(f"{prefix}{old} is the old name of {prefix}{new}: give one")
        node[leaf] = raw.pop(old)
    return raw


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {
            _coerce(args[0], k, key): _coerce(args[1], v, f"{key}.{k}") for k, v in value.items()
        }
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            form = " [A, B] (A:B in --set)" if _is_pair(hint) else ""
            raise ConfigError(f"{key}: expected a list{form}, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}")
    return value


def plain(value: Any) -> Any:
    """Nested dicts and lists only (tuples become lists), e.g. for JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
