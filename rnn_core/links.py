"""Shareable links: a run's configuration as URL query parameters, and back.

Keys are ``task`` plus ``d.<field>``, ``m.<field>`` and ``t.<field>`` for the data, model and
training configs; only values that differ from the task's defaults are written, so links stay
short. Reading a link is strict: an unknown key or a value of the wrong type raises ValueError.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from rnn_core.config import RunSpec

PREFIXES = {"d": "data", "m": "model", "t": "train"}


def _defaults(task: str) -> RunSpec:
    """The spec a link is read against: the task's default spec."""
    from rnn_core.tasks import get_task

    return get_task(task).default_spec()


def _text(value: Any) -> str:
    """A field value as it appears in a URL."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return "none"
    if isinstance(value, tuple | list):
        return ",".join(_text(v) for v in value)
    return str(value)


def to_query(spec: RunSpec) -> dict[str, str]:
    """Query parameters for ``spec`` (task plus every value that is not the default)."""
    base = _defaults(spec.task)
    query = {"task": spec.task}
    for prefix, part in PREFIXES.items():
        cfg, default = getattr(spec, part), getattr(base, part)
        for f in dataclasses.fields(cfg):
            value = getattr(cfg, f.name)
            if value != getattr(default, f.name):
                query[f"{prefix}.{f.name}"] = _text(value)
    return query


def _parse(raw: str, annotation: Any, key: str) -> Any:
    """Convert one query value to its field's type; ValueError naming the key otherwise."""
    kinds = typing.get_args(annotation) or (annotation,)
    if type(None) in kinds and raw.lower() in ("none", ""):
        return None
    kind = next(k for k in kinds if k is not type(None))
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false"):
                raise ValueError
            return raw.lower() in ("1", "true")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if origin is tuple:
            item = typing.get_args(kind)[0]
            return tuple(_parse(v, item, key) for v in raw.split(",") if v)
        return str(raw)
    except ValueError:
        name = getattr(kind, "__name__", str(kind))
        raise ValueError(f"link parameter {key}={raw!r} is not a valid {name}") from None


def from_query(params: Mapping[str, str]) -> RunSpec:
    """The spec a link describes: the task's defaults with the link's values applied."""
    spec = _defaults(params.get("task", "addition"))
    changes: dict[str, dict[str, Any]] = {part: {} for part in PREFIXES.values()}
    for key, raw in params.items():
        if key == "task":
            continue
        prefix, _, name = key.partition(".")
        part = PREFIXES.get(prefix)
        cfg = getattr(spec, part) if part else None
        if cfg is None or name not in {f.name for f in dataclasses.fields(cfg)}:
            raise ValueError(f"unknown link parameter {key!r}")
        hints = typing.get_type_hints(type(cfg))
        changes[part][name] = _parse(str(raw), hints[name], key)
    return RunSpec(
        task=spec.task,
        data=dataclasses.replace(spec.data, **changes["data"]),
        model=dataclasses.replace(spec.model, **changes["model"]),
        train=dataclasses.replace(spec.train, **changes["train"]),
    )
