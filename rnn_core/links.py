"""Shareable links: a page's settings as URL query parameters, and back.

A run's link (Train and Text pages) has ``task`` plus ``d.<field>``, ``m.<field>`` and
``t.<field>`` for the data, model and training configs; the stepper's link has one key per
:class:`~rnn_core.stepper.settings.StepperSettings` field. Only values that differ from the
defaults are written, so links stay short. Reading a link ignores every key that is not one
of its own (``utm_*``, ``embed``, a learning platform's additions, the tab key) and refuses a
value of the wrong type or out of range with a one-line ValueError naming the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from rnn_core.config import RunSpec
from rnn_core.stepper.settings import StepperSettings

PREFIXES = {"d": "data", "m": "model", "t": "train"}
RUN_KEYS = ("task", "preset")  # a run link's keys besides the prefixed config fields
C = TypeVar("C")


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


def _fields_query(cfg: Any, default: Any, prefix: str = "") -> dict[str, str]:
    """``prefix + field`` -> text for every field of ``cfg`` that differs from ``default``."""
    return {
        f"{prefix}{f.name}": _text(getattr(cfg, f.name))
        for f in dataclasses.fields(cfg)
        if getattr(cfg, f.name) != getattr(default, f.name)
    }


def _parse(raw: str, annotation: Any, key: str) -> Any:
    """Convert one query value to its field's type; ValueError naming the key otherwise."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = typing.get_args(annotation) if union else (annotation,)
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


def _fields_from_query(default: C, params: Mapping[str, str], prefix: str = "") -> C:
    """``default`` with the values of ``params``' ``prefix + field`` keys; others are ignored."""
    hints = typing.get_type_hints(type(default))
    changes = {
        f.name: _parse(str(params[f"{prefix}{f.name}"]), hints[f.name], f"{prefix}{f.name}")
        for f in dataclasses.fields(default)
        if f"{prefix}{f.name}" in params
    }
    return dataclasses.replace(default, **changes)


def is_run_key(key: str) -> bool:
    """True for the keys a run link may have (``task``, ``preset``, ``d.``/``m.``/``t.``…)."""
    prefix, dot, name = key.partition(".")
    return key in RUN_KEYS or (bool(dot) and prefix in PREFIXES and bool(name))


def to_query(spec: RunSpec) -> dict[str, str]:
    """Query parameters for ``spec`` (task plus every value that is not the default)."""
    base = _defaults(spec.task)
    query = {"task": spec.task}
    for prefix, part in PREFIXES.items():
        query |= _fields_query(getattr(spec, part), getattr(base, part), f"{prefix}.")
    return query


def from_query(params: Mapping[str, str]) -> RunSpec:
    """The spec a link describes: the task's defaults with the link's values applied.

    Keys that are not fields of the task's configs are ignored; a bad value raises ValueError.
    """
    spec = _defaults(params.get("task", "addition"))
    parts = {
        part: _fields_from_query(getattr(spec, part), params, f"{prefix}.")
        for prefix, part in PREFIXES.items()
    }
    return RunSpec(task=spec.task, **parts)


def is_stepper_key(key: str) -> bool:
    """True for the keys a stepper link may have."""
    return key in {f.name for f in dataclasses.fields(StepperSettings)}


def stepper_query(settings: StepperSettings) -> dict[str, str]:
    """Query parameters for the stepper's settings (only those that are not the default)."""
    return _fields_query(settings, StepperSettings())


def stepper_from_query(params: Mapping[str, str]) -> StepperSettings:
    """The stepper settings a link describes; other keys ignored, a bad value a ValueError."""
    return _fields_from_query(StepperSettings(), params)
