"""The board format: a hand-in (what a student sends), its checks, and its database row.

Every field is bounded (:class:`BoardLimits`); a value outside its bounds raises
:class:`BoardError` with one readable line naming the field. Rows read back from the database
go through the same checks, so a row edited by hand cannot reach a page unchecked.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from rnn_core.board.limits import DEFAULT, BoardLimits
from rnn_core.config import RunSpec

CODE_RE = re.compile(r"^[a-z0-9_-]+$")  # a class code, once lowercased
METRIC_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")  # a metric name such as val_loss


class BoardError(ValueError):
    """A hand-in or a board action that is refused; the message is one readable line."""


@dataclass(frozen=True)
class HandIn:
    """One run handed in to a class: configuration, curves, test scores and weights."""

    class_code: str  # the class the teacher chose: 3-32 letters, digits, - or _ (lowercased)
    student: str  # the display name shown on the board (no account behind it)
    spec: RunSpec  # the run's configuration (a local data folder is not handed in)
    history: tuple[dict[str, float | None], ...]  # per-epoch logs: epoch, loss, val_loss …
    test: dict[str, float]  # whole-test-set scores (the task's Results.scores()); {} if none
    params: int  # parameters of the model
    seconds: float  # wall time spent inside fit, summed over calls
    weights: bytes = b""  # the small weights file; b"" when only the configuration is shared
    manifest: dict[str, Any] = field(default_factory=dict)  # the weights file's manifest
    labels: dict[str, str] = field(default_factory=dict)  # how ``test`` was made; {}: unrecorded

    @property
    def task(self) -> str:
        """The task the run trained (``spec.task``)."""
        return self.spec.task

    @property
    def cell(self) -> str:
        """The model's cell (SimpleRNN, LSTM, GRU or Dense)."""
        return self.spec.model.cell

    @property
    def epochs(self) -> int:
        """Epochs in the history."""
        return len(self.history)


@dataclass(frozen=True)
class Entry:
    """A hand-in as stored: its id and time, the hand-in, and the size of its weights."""

    id: int  # the row's id, unique in the database
    created: str  # when it was handed in, UTC, ISO 8601 to the second
    item: HandIn  # the hand-in (weights b"" and manifest {} when listed; Board.get has them)
    weights_bytes: int  # size of the stored weights file (0: configuration only)


def _json(value: Any, what: str, limit: int) -> str:
    """Compact JSON of ``value``; BoardError when it is larger than ``limit`` bytes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    size = len(text.encode("utf-8"))
    if size > limit:
        raise BoardError(f"{what} is too large: {size:,} bytes, at most {limit:,}")
    return text


def _number(value: Any, what: str, low: float, high: float) -> float:
    """A finite real number within [low, high] (not a bool); BoardError otherwise."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise BoardError(f"{what} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise BoardError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def check_code(code: Any, limits: BoardLimits = DEFAULT) -> str:
    """The class code, stripped and lowercased; BoardError unless 3-32 letters, digits, - or _."""
    text = code.strip().lower() if isinstance(code, str) else ""
    if not (limits.code_min <= len(text) <= limits.code_max and CODE_RE.match(text)):
        raise BoardError(
            f"class code: {limits.code_min}-{limits.code_max} letters, digits, - or _, got {code!r}"
        )
    return text


def check_name(name: Any, limits: BoardLimits = DEFAULT) -> str:
    """The display name with its spaces tidied; BoardError if empty, too long or unprintable."""
    if not isinstance(name, str):
        raise BoardError(f"display name must be text, got {name!r}")
    text = " ".join(name.split())
    if not text:
        raise BoardError("display name: type the name the board should show")
    if len(text) > limits.name_max:
        raise BoardError(f"display name: at most {limits.name_max} characters, got {len(text)}")
    if not text.isprintable():
        raise BoardError("display name: only printable characters, please")
    return text


def _metrics(values: Any, what: str, limits: BoardLimits, nullable: bool) -> dict[str, Any]:
    """A mapping of metric names to finite numbers (None too when ``nullable``)."""
    if not isinstance(values, Mapping):
        raise BoardError(f"{what} must be a mapping of metric names to numbers")
    if len(values) > limits.max_metrics:
        raise BoardError(f"{what}: at most {limits.max_metrics} metrics, got {len(values)}")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not METRIC_RE.match(key):
            raise BoardError(f"{what}: {key!r} is not a metric name")
        if value is None and nullable:
            out[key] = None
        else:
            out[key] = _number(value, f"{what} {key}", -1e300, 1e300)
    return out


def _labels(values: Any, limits: BoardLimits) -> dict[str, str]:
    """Words on how the test scores were made (``{"reading": "straight"}``), by name."""
    if not isinstance(values, Mapping):
        raise BoardError("test labels must be a mapping of names to words")
    if len(values) > limits.max_metrics:
        raise BoardError(f"test labels: at most {limits.max_metrics}, got {len(values)}")
    for key, value in values.items():
        if not isinstance(key, str) or not METRIC_RE.match(key):
            raise BoardError(f"test labels: {key!r} is not a name")
        if not (isinstance(value, str) and value.isprintable()):
            raise BoardError(f"test label {key} must be printable text, got {value!r}")
        if len(value) > limits.max_label_chars:
            raise BoardError(f"test label {key}: at most {limits.max_label_chars} characters")
    return dict(values)


def _spec(spec: Any, limits: BoardLimits) -> tuple[RunSpec, str]:
    """The spec without a local data folder, and its JSON; BoardError if it cannot be used."""
    from rnn_core.pretrained import spec_from_dict

    if not isinstance(spec, RunSpec):
        raise BoardError("configuration: not a run configuration")
    if "data_dir" in {f.name for f in dataclasses.fields(spec.data)}:
        spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, data_dir=None))
    text = _json(spec.to_dict(), "configuration", limits.max_config_bytes)
    try:
        again = spec_from_dict(json.loads(text))
    except (KeyError, TypeError, ValueError) as exc:
        raise BoardError(f"configuration: {exc}") from None
    if again != spec:
        raise BoardError("configuration: does not survive a JSON round trip")
    return spec, text


def check(item: HandIn, limits: BoardLimits = DEFAULT) -> HandIn:
    """The hand-in with its code, name and spec normalised; BoardError naming a bad field."""
    code, name = check_code(item.class_code, limits), check_name(item.student, limits)
    spec, _ = _spec(item.spec, limits)
    if not isinstance(item.history, Sequence) or isinstance(item.history, str | bytes):
        raise BoardError("history must be a list of per-epoch logs")
    if len(item.history) > limits.max_epochs:
        raise BoardError(f"history: at most {limits.max_epochs} epochs, got {len(item.history)}")
    history = tuple(
        _metrics(log, f"history epoch {i + 1}", limits, True) for i, log in enumerate(item.history)
    )
    _json(history, "history", limits.max_history_bytes)
    test = _metrics(item.test, "test results", limits, False)
    labels = _labels(item.labels, limits)
    if isinstance(item.params, bool) or not isinstance(item.params, Integral):
        raise BoardError(f"params must be a whole number, got {item.params!r}")
    if not 1 <= item.params <= limits.max_params:
        raise BoardError(f"params must be between 1 and {limits.max_params:,}, got {item.params}")
    seconds = _number(item.seconds, "seconds", 0.0, limits.max_seconds)
    if not isinstance(item.weights, bytes):
        raise BoardError("weights must be bytes")
    if len(item.weights) > limits.max_weights_bytes:
        raise BoardError(
            f"weights file is too large: {len(item.weights):,} bytes, "
            f"at most {limits.max_weights_bytes:,} (hand in a smaller model)"
        )
    if not isinstance(item.manifest, Mapping):
        raise BoardError("weights manifest must be a mapping")
    if bool(item.weights) != bool(item.manifest):
        raise BoardError("weights and their manifest come together (or neither)")
    _json(dict(item.manifest), "weights manifest", limits.max_manifest_bytes)
    return HandIn(
        code, name, spec, history, test, int(item.params), seconds,
        item.weights, dict(item.manifest), labels,
    )  # fmt: skip


def encode_row(item: HandIn, limits: BoardLimits = DEFAULT) -> dict[str, Any]:
    """The checked hand-in as column values of the entries table (JSON text for the parts)."""
    item = check(item, limits)
    return {
        "class_code": item.class_code,
        "student": item.student,
        "student_key": item.student.casefold(),
        "task": item.task,
        "cell": item.cell,
        "params": item.params,
        "seconds": item.seconds,
        "config": _json(item.spec.to_dict(), "configuration", limits.max_config_bytes),
        "history": _json(list(item.history), "history", limits.max_history_bytes),
        "test": _json(item.test, "test results", 1_000_000),
        "test_labels": _json(item.labels, "test labels", 10_000),
        "weights": item.weights,
        "weights_manifest": _json(item.manifest, "weights manifest", limits.max_manifest_bytes),
    }


def decode_row(row: Mapping[str, Any], limits: BoardLimits = DEFAULT) -> HandIn:
    """The hand-in of a row written by :func:`encode_row`, checked again; BoardError if bad."""
    from rnn_core.pretrained import spec_from_dict

    try:
        spec = spec_from_dict(json.loads(row["config"]))
        history = json.loads(row["history"])
        test = json.loads(row["test"])
        manifest = json.loads(row.get("weights_manifest") or "{}")
        labels = json.loads(row.get("test_labels") or "{}")  # rows before version 3: none
    except (KeyError, TypeError, ValueError) as exc:
        raise BoardError(f"a stored hand-in cannot be read: {exc}") from None
    weights = row.get("weights") or b""
    item = HandIn(
        row["class_code"], row["student"], spec, tuple(history), test, row["params"],
        row["seconds"], bytes(weights), manifest, labels,
    )  # fmt: skip
    return check(item, limits)


def run_payload(run: Any, limits: BoardLimits = DEFAULT) -> tuple[bytes, dict[str, Any], str]:
    """(weights, manifest, "") of a run's weights file (``rnn_core.run_file``), or
    (b"", {}, why) when the run has none to give or its file is above the board's limits."""
    from rnn_core.run_file import RunFileError, run_to_file

    try:
        file = run_to_file(run)
    except RunFileError as exc:
        return b"", {}, str(exc)
    size = len(file.weights)
    if size > limits.max_weights_bytes:
        return b"", {}, (
            f"its weights file is {size / 1e6:.1f} MB, above the board's "
            f"{limits.max_weights_bytes / 1e6:.1f} MB"
        )  # fmt: skip
    manifest_size = len(json.dumps(file.manifest, ensure_ascii=False).encode("utf-8"))
    if manifest_size > limits.max_manifest_bytes:
        return b"", {}, f"its description is {manifest_size:,} bytes, above the board's limit"
    return file.weights, file.manifest, ""


def from_run(
    run: Any, class_code: str, student: str, limits: BoardLimits = DEFAULT
) -> tuple[HandIn, str]:
    """(hand-in, why it has no weights or "") of a finished ``rnn_core.run.Run``: its spec,
    curves, test scores and their labels (when ``run.results`` belong to its current weights),
    params, seconds and its weights file when that fits the limits."""
    from rnn_core.tasks.base import plain

    snap = run.job.snapshot()
    scored = run.scored()
    test = run.results.scores() if scored else {}
    labels = {k: str(v) for k, v in run.results.labels().items()} if scored else {}
    weights, manifest, why = run_payload(run, limits)
    item = HandIn(
        class_code, student, run.spec, tuple(plain(list(snap.epoch_logs))), plain(test),
        int(run.params), float(snap.train_seconds), weights, manifest, labels,
    )  # fmt: skip
    return item, why
