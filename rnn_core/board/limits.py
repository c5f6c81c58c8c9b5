"""Limits and input bounds of a class board (typed, frozen; the page may read them from secrets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoardLimits:
    """How much one class and one student may store, and the bounds of every field."""

    per_class: int = 200  # hand-ins kept per class code; further hand-ins are refused
    per_student: int = 5  # hand-ins per display name within one class
    code_min: int = 3  # shortest class code (characters)
    code_max: int = 32  # longest class code (characters)
    name_max: int = 40  # longest display name (characters)
    max_epochs: int = 1000  # epochs of history kept with a hand-in
    max_metrics: int = 32  # metric names per epoch and per test result
    max_label_chars: int = 40  # longest word on how the test scores were made ("straight")
    max_params: int = 1_000_000_000  # largest parameter count accepted
    max_seconds: float = 10_000_000.0  # largest training time accepted (seconds)
    max_config_bytes: int = 16_000  # JSON size of the configuration
    max_history_bytes: int = 400_000  # JSON size of the history
    max_weights_bytes: int = 2_000_000  # size of the weights file ("small": about 2 MB)
    max_manifest_bytes: int = 1_000_000  # JSON size of the weights file's manifest


DEFAULT = BoardLimits()  # the limits used when a caller gives none
