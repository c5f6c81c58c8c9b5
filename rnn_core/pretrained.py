"""Pretrained snapshots: small trained models shipped in ``assets/`` so a cold host shows results.

A snapshot is two files: ``NAME.weights.h5`` (Keras weights only, a few hundred kB) and
``NAME.json`` (the RunSpec, the measured test scores, epochs, training seconds, the per-epoch
history and, for text, the alphabet). A model is rebuilt through the task's own ``build`` from
the spec plus the shapes in the JSON, so no dataset is needed to load one. ``python -m rnn_core
train ... --save NAME.weights.h5`` writes both (see assets/README.md). Reading the JSON never
imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from rnn_core.config import ModelConfig, RunSpec, TrainConfig
from rnn_core.tasks import Report, Results, get_task
from rnn_core.tasks.base import plain

FORMAT = "rnn-lab-snapshot/1"  # the "format" field of every snapshot JSON
ASSETS = Path(__file__).resolve().parents[1] / "assets"  # where the shipped snapshots live
WEIGHTS_SUFFIX = ".weights.h5"  # Keras's weights-only format
MAX_BATCH_POINTS = 600  # batch-curve points kept in a snapshot (every k-th when longer)


class SnapshotError(ValueError):
    """A snapshot that cannot be read or used; the message names the file and the fix."""


@dataclass(frozen=True)
class Pretrained:
    """One pretrained model's description (the JSON); the weights stay in their file."""

    name: str  # file stem, e.g. "addition-lstm"
    spec: RunSpec  # the configuration it was trained with (data_dir cleared)
    params: int  # parameters of the model
    test: Results | None  # held-out scores (task.evaluate at save time); None: not scored
    epochs: int  # epochs trained
    train_seconds: float  # wall time inside fit
    epoch_logs: tuple[dict[str, float], ...]  # one per epoch: loss, val_loss, accuracy …
    epoch_extras: tuple[Report | None, ...]  # the task's per-epoch reports (typed)
    batch_logs: tuple[dict[str, float], ...]  # thinned per-batch curve points
    input_shape: tuple[int | None, ...]  # the model's input shape without the batch axis
    vocab: dict[str, Any] | None  # text models: the ``generate`` sidecar (alphabet, maxlen …)
    command: str  # the CLI command that produced it
    weights_path: Path  # the .weights.h5 file beside the JSON
    saved: str = ""  # the date the snapshot was saved (YYYY-MM-DD), "" when not recorded
    test_note: str = ""  # where ``test`` came from when re-scored after saving; "" = at save


def snapshot_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights file, JSON file) for ``NAME.weights.h5``, ``NAME.json`` or ``NAME``."""
    path = Path(path)
    name = path.name
    for suffix in (WEIGHTS_SUFFIX, ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return path.with_name(name + WEIGHTS_SUFFIX), path.with_name(name + ".json")


def _thin(logs: list[dict[str, float]], most: int = MAX_BATCH_POINTS) -> list[dict[str, float]]:
    """Every k-th batch point (and the last) so the curve keeps its shape in few bytes."""
    if len(logs) <= most:
        return logs
    k = math.ceil(len(logs) / most)
    return logs[::k] + ([logs[-1]] if (len(logs) - 1) % k else [])


def save_snapshot(
    path: str | Path,
    model: Any,
    spec: RunSpec,
    history: Any,
    test: Results,
    vocab: dict[str, Any] | None = None,
    command: str = "",
) -> Path:
    """Write ``NAME.weights.h5`` and ``NAME.json``; ``history`` is the job's last Snapshot.

    Returns the JSON path. The stored spec has ``data_dir`` cleared: the host that loads the
    snapshot uses its own data directory.
    """
    weights, meta = snapshot_paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    layers_only(model).save_weights(weights)  # layers only, no optimizer
    name = weights.name[: -len(WEIGHTS_SUFFIX)]
    body = snapshot_body(name, model, spec, history, test, vocab, command)
    body |= {"weights": weights.name, "weights_bytes": weights.stat().st_size}
    meta.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def layers_only(model: Any) -> Any:
    """The same layers as a fresh functional model: its weights file holds no optimizer."""
    import keras

    return keras.Model(model.inputs, model.outputs)


def snapshot_body(
    name: str,
    model: Any,
    spec: RunSpec,
    history: Any,
    test: Results | None,
    vocab: dict[str, Any] | None = None,
    command: str = "",
) -> dict[str, Any]:
    """A snapshot's JSON-safe description (no weights): what :func:`snapshot_from_body` reads.

    ``history`` is the job's Snapshot; ``test`` None means the weights were not scored.
    """
    data = spec.data
    if any(f.name == "data_dir" for f in dataclasses.fields(data)):
        data = dataclasses.replace(data, data_dir=None)
    body = {
        "format": FORMAT,
        "name": name,
        "spec": RunSpec(spec.task, data, spec.model, spec.train).to_dict(),
        "params": int(model.count_params()),
        "input_shape": list(model.input_shape[1:]),
        "test": None if test is None else test.stored(),
        "epochs": int(history.epoch),
        "train_seconds": round(float(history.train_seconds), 2),
        "vocab": vocab,
        "command": command,
        "saved": time.strftime("%Y-%m-%d"),
        "history": {
            "epoch_logs": list(history.epoch_logs),
            "epoch_extras": list(history.epoch_extras),
            "batch_logs": _thin(list(history.batch_logs)),
        },
    }
    return plain(body)


def spec_from_dict(d: dict[str, Any]) -> RunSpec:
    """The RunSpec of :meth:`RunSpec.to_dict` (lists back to tuples); ValueError if unusable."""

    def make(cls: Any, values: dict[str, Any]) -> Any:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    task = get_task(d["task"])
    return RunSpec(
        task=d["task"],
        data=make(task.data_config, d["data"]),
        model=make(ModelConfig, d["model"]),
        train=make(TrainConfig, d["train"]),
    )


def read_snapshot(path: str | Path) -> Pretrained:
    """The snapshot described by ``NAME.json`` (no TensorFlow); SnapshotError when unusable."""
    weights, meta = snapshot_paths(path)
    fix = "recreate it with the command in assets/README.md"
    try:
        body = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"snapshot file {meta.name} is missing: {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{meta.name} is not readable JSON ({exc}): {fix}") from None
    if not weights.is_file():
        raise SnapshotError(f"{weights.name}, the weights of {meta.name}, is missing: {fix}")
    return snapshot_from_body(body, weights, meta.name, fix)


def snapshot_from_body(body: Any, weights: Path, where: str, fix: str) -> Pretrained:
    """The Pretrained of a :func:`snapshot_body` dict; SnapshotError naming ``where``."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SnapshotError(f"{where} is not an RNN Lab snapshot ({FORMAT}): {fix}")
    try:
        hist = body["history"]
        spec = spec_from_dict(body["spec"])
        task = get_task(spec.task)
        test = body["test"]
        return Pretrained(
            name=str(body["name"]),
            spec=spec,
            params=int(body["params"]),
            test=None if test is None else task.results_from_plain(test),
            epochs=int(body["epochs"]),
            train_seconds=float(body["train_seconds"]),
            epoch_logs=tuple(dict(e) for e in hist["epoch_logs"]),
            epoch_extras=tuple(task.report_from_plain(e) for e in hist["epoch_extras"]),
            batch_logs=tuple(dict(b) for b in hist["batch_logs"]),
            input_shape=tuple(body["input_shape"]),
            vocab=body.get("vocab"),
            command=str(body.get("command", "")),
            weights_path=weights,
            saved=str(body.get("saved", "")),
            test_note=str(body.get("test_note", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"{where} has a bad or missing field ({exc}): {fix}") from None


def list_snapshots(folder: str | Path = ASSETS, task: str | None = None) -> list[Pretrained]:
    """Every readable snapshot in ``folder`` (for ``task`` if given), sorted by name."""
    found = []
    for meta in sorted(Path(folder).glob("*.json")):
        try:
            snap = read_snapshot(meta)
        except SnapshotError:
            continue  # not a snapshot (or broken): skipped; read_snapshot names the problem
        if task is None or snap.spec.task == task:
            found.append(snap)
    return found


def empty_data(snap: Pretrained) -> Any:
    """Data with the snapshot's shapes and no rows: a job over it has nothing to train on."""
    base = shape_data(snap)
    empty = base.x_train  # (0, ...) in the model's input shape
    return SimpleNamespace(
        config=base.config, vocab=base.vocab, x_train=empty, y_train=empty, x_val=empty,
        y_val=empty, x_test=empty, y_test=empty, note="",
    )  # fmt: skip


def shape_data(snap: Pretrained) -> Any:
    """What ``task.build`` reads from a run's data, made from the snapshot alone (no dataset)."""
    from rnn_core.data.corpus import Vocabulary

    shape = [d or 1 for d in snap.input_shape]
    vocab = Vocabulary.from_json(snap.vocab) if snap.vocab else None
    return SimpleNamespace(
        config=snap.spec.data, x_train=np.zeros((0, *shape), np.float32), vocab=vocab
    )


def build_model(snap: Pretrained, weights: list[np.ndarray] | None = None, data: Any = None) -> Any:
    """A fresh compiled model of the snapshot's shape with its weights (a copy, trainable).

    ``weights`` are arrays from :func:`load_weights` (read from the file when None); ``data``
    is a run's real data when the page has it (the model is the same either way).
    """
    import keras

    data = shape_data(snap) if data is None else data
    model = get_task(snap.spec.task).build(snap.spec, data)
    if weights is None:
        try:
            keras.Model(model.inputs, model.outputs).load_weights(snap.weights_path)
        except Exception as exc:  # a truncated or foreign h5 file: one readable line
            raise SnapshotError(
                f"the weights in {snap.weights_path.name} could not be read "
                f"({type(exc).__name__}: {exc}); recreate it with the command in assets/README.md"
            ) from None
        return model
    mine = [tuple(w.shape) for w in model.get_weights()]
    theirs = [tuple(w.shape) for w in weights]
    if mine != theirs:
        raise SnapshotError(f"snapshot {snap.name}: weight shapes {theirs} do not fit {mine}")
    model.set_weights(weights)  # copies into the model's own variables
    return model


def load_weights(snap: Pretrained) -> tuple[np.ndarray, ...]:
    """The snapshot's weights as read-only arrays, in ``model.get_weights()`` order."""
    arrays = []
    for w in build_model(snap).get_weights():
        w = np.asarray(w)
        w.flags.writeable = False
        arrays.append(w)
    return tuple(arrays)


# Scores that depend on random sampling (and whose definition changed after some snapshots were
# saved): a re-score does not have to reproduce them. Every other scalar score must.
SAMPLED = ("word_validity", "words_scored")
TOLERANCE = 0.005  # largest gap allowed between a recorded score and its re-score


def rescore(snap: Pretrained, data: Any, model: Any = None) -> Results:
    """The snapshot's test results measured again now, on ``data`` (the task's evaluate)."""
    from rnn_core.tasks import get_task

    model = build_model(snap, data=data) if model is None else model
    return get_task(snap.spec.task).evaluate(model, data)


def score_gaps(snap: Pretrained, fresh: Results) -> dict[str, tuple[float, float]]:
    """{score: (recorded in the JSON, re-scored)} for every deterministic, finite score."""
    recorded, now = snap.test.scores(), fresh.scores()
    return {
        key: (float(recorded[key]), float(now[key]))
        for key in recorded
        if key not in SAMPLED and key in now and math.isfinite(float(recorded[key]))
    }


def main_score(snap: Pretrained, test: Results | None = None) -> tuple[str, float]:
    """The headline test figure (label, value): of ``test`` when given, else of the JSON's."""
    return (snap.test if test is None else test).headline
