"""One run as files: a JSON manifest (config, history, results) and its Keras weights.

The unit that session files (``rnn_core.session_file``), model imports and hand-ins share.

- :func:`run_to_file` (a Run -> :class:`RunFile`: ``manifest`` dict + ``.weights.h5`` bytes)
- :func:`read_run_file` (manifest + weights bytes -> :class:`Restored`, every check done)
- :func:`restore_run` (Restored -> a session Run, origin "imported", through the run flow)
- :func:`keras_export` / :func:`read_keras_export`: the same manifest inside an exported
  ``.keras`` (loaded with ``safe_mode=True``), plus the alphabet file for text models.

The manifest's ``snapshot`` is the pretrained-snapshot JSON of ``rnn_core.pretrained`` (spec,
history, test scores, text alphabet), so configs have one serializer. Weights are Keras's
weights-only HDF5 (no pickle, no code). Reading checks the config parses, builds the model it
describes and checks every weight's shape against it; each failure is one
:class:`RunFileError` with a readable message. Everything but manifests needs TensorFlow.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_core.config import RunSpec
from rnn_core.pretrained import (
    Pretrained,
    SnapshotError,
    layers_only,
    shape_data,
    snapshot_body,
    snapshot_from_body,
)
from rnn_core.tasks import get_task

if TYPE_CHECKING:
    from rnn_core.run import DataLoader, Run

FORMAT = "rnn-lab-run/1"  # the "format" field of a run manifest
KERAS_MEMBER = "rnn_lab_run.json"  # the run manifest inside a ``.keras`` exported by RNN Lab
KERAS_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5", KERAS_MEMBER})
MAX_KERAS_BYTES = 50 * 2**20  # the largest model file imported (50 MB)
EXPORT_FIX = "export the run again from RNN Lab (Export this run → Model (.keras))"


class RunFileError(ValueError):
    """A run file that cannot be used; the message says which check failed."""


@dataclass(frozen=True)
class RunFile:
    """One run, ready to write: a JSON-safe manifest and its weights file's bytes."""

    manifest: dict[str, Any]  # format, name, origin and the snapshot (spec, history, results)
    weights: bytes  # the model's layers as a Keras ``.weights.h5`` file (no optimizer state)


@dataclass(frozen=True)
class Restored:
    """A checked run file: what :func:`restore_run` turns back into a session's Run."""

    snapshot: Pretrained  # spec, history, recorded test results, text alphabet
    weights: tuple[np.ndarray, ...]  # in ``model.get_weights()`` order, shapes checked
    name: str  # the run's legend label when it was saved


def why_not_saved(run: Run) -> str:
    """Why ``run`` cannot be written now ("" when it can)."""
    if run.job.snapshot().active:
        return "it is still training"
    if run.job.model is None and getattr(run, "kept", None) is None:
        return "its model was released to save memory"
    return ""


def run_manifest(run: Run) -> dict[str, Any]:
    """The manifest of a run that holds its model (spec, history, results of these weights)."""
    snap = run.job.snapshot()
    vocab = None
    if run.data is not None:
        companion = run.task.companion(run.data)  # text: the alphabet ``generate`` reads
        vocab = None if companion is None else json.loads(companion[1])
    test = run.results if run.scored() else None
    body = snapshot_body(run.name, run.job.model, run.spec, snap, test, vocab)
    return {"format": FORMAT, "name": run.name, "origin": run.origin, "snapshot": body}


def run_to_file(run: Run) -> RunFile:
    """The run as a :class:`RunFile`; a released run gives the copy kept when it was released.

    RunFileError when it is training or has no weights any more.
    """
    reason = why_not_saved(run)
    if reason:
        raise RunFileError(f"run {run.name!r} cannot be saved: {reason}")
    if run.job.model is None:
        return run.kept
    return RunFile(run_manifest(run), weights_bytes(run.job.model))


def weights_bytes(model: Any) -> bytes:
    """The model's layers as the bytes of a Keras ``.weights.h5`` file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.weights.h5")
        layers_only(model).save_weights(path)
        return Path(path).read_bytes()


def read_manifest(manifest: Any, where: str) -> tuple[Pretrained, str]:
    """(snapshot, run name) of a manifest, no TensorFlow; RunFileError naming ``where``."""
    if not isinstance(manifest, dict) or "format" not in manifest:
        raise RunFileError(f"{where} is not an RNN Lab run description")
    if manifest["format"] != FORMAT:
        raise RunFileError(
            f"{where} has format {manifest['format']!r}; this RNN Lab reads {FORMAT}"
        )
    name = manifest.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RunFileError(f"{where} has no run name")
    try:
        snap = snapshot_from_body(manifest.get("snapshot"), Path(where), where, EXPORT_FIX)
    except SnapshotError as exc:
        raise RunFileError(f"the configuration in {where} does not parse: {exc}") from None
    return snap, name


def _model_of(snap: Pretrained, where: str) -> Any:
    """The model the snapshot's configuration builds (no dataset needed)."""
    try:
        return get_task(snap.spec.task).build(snap.spec, shape_data(snap))
    except Exception as exc:  # a config the builder refuses: one line
        raise RunFileError(
            f"the configuration in {where} does not build a model ({type(exc).__name__}: {exc})"
        ) from None


def _check_shapes(theirs: list[tuple[int, ...]], model: Any, where: str) -> None:
    """RunFileError unless ``theirs`` are the shapes of the model's weights."""
    mine = [tuple(int(d) for d in w.shape) for w in model.weights]
    if Counter(theirs) != Counter(mine):
        raise RunFileError(
            f"the weights in {where} do not fit the model its configuration builds: "
            f"{len(theirs)} arrays {sorted(theirs)} against {len(mine)} arrays {sorted(mine)}"
        )


def _h5_shapes(path: str) -> list[tuple[int, ...]]:
    """Shapes of every array in an HDF5 file (OSError when it is not one)."""
    import h5py

    shapes: list[tuple[int, ...]] = []

    def visit(_: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            shapes.append(tuple(int(d) for d in obj.shape))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return shapes


def read_run_file(manifest: Any, weights: bytes, where: str = "the run file") -> Restored:
    """Check a manifest and its ``.weights.h5`` bytes; the weights as the config's model has them.

    RunFileError when the manifest is not a run, its configuration does not parse or build,
    or the weights are not a weights file or do not fit that model (shapes checked).
    """
    snap, name = read_manifest(manifest, where)
    model = _model_of(snap, where)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.weights.h5")
        Path(path).write_bytes(weights)
        try:
            shapes = _h5_shapes(path)
        except OSError:
            raise RunFileError(f"the weights of {where} are not a Keras weights file") from None
        _check_shapes(shapes, model, where)
        try:
            layers_only(model).load_weights(path)
        except Exception as exc:  # same shapes, other layout: Keras names the layer
            raise RunFileError(
                f"the weights of {where} do not load into its model ({str(exc)[:200]})"
            ) from None
    return Restored(snap, tuple(model.get_weights()), name)


def restore_run(
    restored: Restored,
    load_data: DataLoader | None = None,
    *,
    spec: RunSpec | None = None,
    in_process: bool = False,
) -> Run:
    """A Run (origin "imported") holding a copy of the restored weights and history.

    ``spec`` (default: the file's) lets a page point the data at its own directory;
    ``load_data`` gives the run's data, or None when it is not on this machine: the run then
    predicts and generates but cannot train, and shows the results recorded in the file.
    """
    from rnn_core.run import start_run

    snap = restored.snapshot
    run = start_run(
        spec or snap.spec, None, load_data, name=restored.name, in_process=in_process,
        pretrained=snap, weights=list(restored.weights),
    )  # fmt: skip
    run.origin, run.pretrained, run.params = "imported", "", snap.params
    if run.data is None and snap.test is not None:  # cannot score here: the file's results
        run.results, run.results_epoch = snap.test, snap.epochs
        run.results_version = run.job.snapshot().version
    return run


def keras_export(run: Run) -> bytes:
    """The run's ``.keras`` model file with its manifest inside (Keras ignores the member)."""
    from rnn_core.export import model_bytes

    blob = model_bytes(run.job.model)
    buf = io.BytesIO(blob)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(KERAS_MEMBER, json.dumps(run_manifest(run), ensure_ascii=False))
    return buf.getvalue()


def read_keras_export(
    blob: bytes, alphabet: str | None = None, name: str = "the model"
) -> Restored:
    """Check a ``.keras`` exported by RNN Lab (and a text model's alphabet file) and read it.

    Checks: at most :data:`MAX_KERAS_BYTES`; a zip with Keras's members and RNN Lab's
    manifest only; the manifest's config parses; text models come with the alphabet file that
    belongs to them; the model loads with ``safe_mode=True``; its weights fit the model the
    config builds. RunFileError otherwise.
    """
    if len(blob) > MAX_KERAS_BYTES:
        raise RunFileError(
            f"{name} is {len(blob) / 2**20:.1f} MB; a model file can be at most "
            f"{MAX_KERAS_BYTES / 2**20:.0f} MB"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            members = set(zf.namelist())
            unknown = sorted(members - KERAS_MEMBERS)
            if unknown:
                raise RunFileError(f"{name} holds unexpected files ({', '.join(unknown)})")
            if KERAS_MEMBER not in members:
                raise RunFileError(
                    f"{name} was not exported by RNN Lab (it has no {KERAS_MEMBER}): {EXPORT_FIX}"
                )
            manifest = json.loads(zf.read(KERAS_MEMBER).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError):
        raise RunFileError(f"{name} is not a Keras .keras file") from None
    snap, run_name = read_manifest(manifest, name)
    _check_alphabet(snap, alphabet, name)
    model = _model_of(snap, name)
    from rnn_core.export import model_from_bytes

    try:
        loaded = model_from_bytes(blob)  # safe_mode=True: no code, no lambdas
    except Exception as exc:
        raise RunFileError(
            f"{name} does not load with safe_mode=True ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    arrays = [np.asarray(w) for w in loaded.get_weights()]
    _check_shapes([tuple(a.shape) for a in arrays], model, name)
    if [a.shape for a in arrays] != [tuple(w.shape) for w in model.weights]:
        raise RunFileError(f"the layers of {name} are not in the order its configuration builds")
    return Restored(snap, tuple(arrays), run_name)


def _check_alphabet(snap: Pretrained, alphabet: str | None, name: str) -> None:
    """A text model needs the alphabet file exported with it (RunFileError otherwise)."""
    if snap.vocab is None:
        return
    if alphabet is None:
        raise RunFileError(
            f"{name} is a text model: add its alphabet file (.keras.vocab.json) exported with it"
        )
    try:
        chars = json.loads(alphabet)["chars"]
    except (json.JSONDecodeError, TypeError, KeyError):
        raise RunFileError("the alphabet file is not an RNN Lab .vocab.json") from None
    if chars != snap.vocab.get("chars"):
        raise RunFileError(
            f"the alphabet file does not belong to {name}: {len(str(chars))} characters, "
            f"the model was trained on {len(str(snap.vocab.get('chars', '')))}"
        )
