"""Session files and run files: round trips that predict the same, and every refusal."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from rnn_core import session_file
from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.run_file import (
    KERAS_MEMBER,
    RunFileError,
    keras_export,
    read_keras_export,
    read_run_file,
    restore_run,
    run_to_file,
)
from rnn_core.session_file import SessionFileError, read_session, write_session
from tests.conftest import tiny_spec

pytestmark = pytest.mark.slow  # long: its module fixture trains three models
CATS = " ".join(["the cat sat on a mat and ran home"] * 60)


def _trained(spec: RunSpec, load_data: Any = None, epochs: int = 1) -> Any:
    """A run of ``spec`` trained ``epochs`` in this process and scored."""
    from rnn_core.run import start_run

    run = start_run(spec, None, load_data, in_process=True)
    run.job.start(epochs)
    assert run.job.wait(120).state == "done"
    run.score()
    return run


def _cats(task: Any, cfg: Any) -> Any:
    """The text task's loader for a tiny in-memory corpus."""
    from rnn_core.data.corpus import Corpus

    return task.make_data(cfg, Corpus("cats", CATS, "test"))


def _text_spec() -> RunSpec:
    """A tiny character model over the cats corpus."""
    cfg = TextConfig(corpus="cats", maxlen=8, step=4, temperatures=(0.5,), sample_length=10)
    return RunSpec("text", cfg, ModelConfig(cell="GRU", units=8, embedding_dim=4), TrainConfig())


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    """An LSTM adder, a GRU adder with dropout (released), and a text GRU, each trained."""
    lstm = _trained(tiny_spec("LSTM"))
    gru_spec = tiny_spec("GRU")
    gru = _trained(replace(gru_spec, model=replace(gru_spec.model, dropout=0.1, layers=2)))
    text = _trained(_text_spec(), _cats)
    return {"lstm": lstm, "gru": gru, "text": text}


@pytest.fixture(scope="module")
def blob(runs) -> bytes:
    """A session file of the LSTM adder alone (the base every refusal test edits)."""
    return write_session([runs["lstm"]])


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's outputs for ``x``."""
    return np.asarray(model.predict_on_batch(x))


def test_round_trip_gives_back_every_run_with_its_curves_results_and_weights(runs) -> None:
    lstm, gru, text = runs["lstm"], runs["gru"], runs["text"]
    x_gru = gru.data.x_test[:10]
    gru_out = _predict(gru.job.model, x_gru)
    gru.release()  # an older run: the model leaves memory, its weights file stays
    assert gru.job.model is None and gru.kept is not None
    restored = read_session(write_session([lstm, gru, text]))
    assert [r.name for r in restored] == [lstm.name, gru.name, text.name]

    back = restore_run(restored[0], in_process=True)  # addition: its data is made here
    assert back.origin == "imported" and back.name == lstm.name and back.params == lstm.params
    old, new = lstm.job.snapshot(), back.job.snapshot()
    assert new.epoch == old.epoch == 1 and new.state == "done"
    assert new.epoch_logs[-1]["val_loss"] == pytest.approx(old.epoch_logs[-1]["val_loss"])
    assert new.epoch_extras == old.epoch_extras  # the typed per-epoch reports
    assert len(new.batch_logs) == len(old.batch_logs)
    x = lstm.data.x_test[:10]
    np.testing.assert_allclose(_predict(back.job.model, x), _predict(lstm.job.model, x), atol=1e-6)
    assert restored[0].snapshot.test == lstm.results  # the results saved with the weights
    assert back.score().scores() == lstm.results.scores()  # scored again here: the same
    back.job.start(1)  # Train more continues the copy and its curves
    assert back.job.wait(120).state == "done" and back.job.snapshot().epoch == 2

    gru_back = restore_run(restored[1], in_process=True)
    np.testing.assert_allclose(_predict(gru_back.job.model, x_gru), gru_out, atol=1e-6)

    text_back = restore_run(restored[2], lambda task, cfg: None, in_process=True)
    assert text_back.data is None and text_back.job.released  # no corpus here: generates only
    assert text_back.results == text.results and text_back.scored()  # the file's results
    ids = np.asarray([text.data.vocab.encode("the cat")], np.int32)  # (1, T)
    np.testing.assert_allclose(
        _predict(text_back.job.model, ids), _predict(text.job.model, ids), atol=1e-6
    )
    assert restored[2].snapshot.vocab["chars"] == text.data.vocab.chars


def test_a_training_run_is_not_written(runs) -> None:
    class Busy:
        active = True

    run = runs["lstm"]
    real = run.job.snapshot
    run.job.snapshot = lambda: Busy()
    try:
        with pytest.raises(SessionFileError, match="still training"):
            write_session([run])
    finally:
        run.job.snapshot = real


# ------------------------------------------------------------------------------- refusals
def _rezip(blob: bytes, changes: dict[str, Any]) -> bytes:
    """The zip with members replaced (bytes), dropped (None) or added (new names)."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    changes = dict(changes)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            value = changes.pop(name, src.read(name))
            if value is not None:
                zf.writestr(name, value)
        for name, value in changes.items():
            zf.writestr(name, value)
    return out.getvalue()


def _edit_run(blob: bytes, edit: Any) -> bytes:
    """The session file with run 1's manifest changed by ``edit(manifest)``."""
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(blob)).read("run-1.json"))
    edit(manifest)
    return _rezip(blob, {"run-1.json": json.dumps(manifest)})


def _set(path: str, value: Any) -> Any:
    """An edit setting ``manifest[a][b]…`` for the dotted path."""

    def edit(manifest: dict) -> None:
        *keys, last = path.split(".")
        for k in keys:
            manifest = manifest[k]
        manifest[last] = value

    return edit


REFUSALS = {
    "not a zip": (lambda b: b"just some text, not a zip", "not a zip archive"),
    "no session.json": (lambda b: _rezip(b, {"session.json": None}), "no session.json"),
    "unknown member": (lambda b: _rezip(b, {"evil.pkl": b"x"}), "does not have: evil.pkl"),
    "missing weights": (lambda b: _rezip(b, {"run-1.weights.h5": None}), "lacks run-1.weights.h5"),
    "wrong format version": (
        lambda b: _rezip(
            b, {"session.json": json.dumps({"format": "rnn-lab-session/9", "runs": 1})}
        ),
        "format 'rnn-lab-session/9'; this RNN Lab reads rnn-lab-session/1",
    ),
    "session.json not JSON": (
        lambda b: _rezip(b, {"session.json": b"{oops"}),
        "session.json is not readable JSON",
    ),
    "run count out of range": (
        lambda b: _rezip(
            b, {"session.json": json.dumps({"format": session_file.FORMAT, "runs": 99})}
        ),
        "gives 99 runs",
    ),
    "run manifest not JSON": (
        lambda b: _rezip(b, {"run-1.json": b"\xff"}),
        "run-1.json is not readable JSON",
    ),
    "run format": (
        lambda b: _edit_run(b, _set("format", "rnn-lab-run/7")),
        "run-1.json has format 'rnn-lab-run/7'",
    ),
    "config does not parse": (
        lambda b: _edit_run(b, _set("snapshot.spec.model.units", -3)),
        "configuration in run-1.json does not parse.*units must be",
    ),
    "unknown config field": (
        lambda b: _edit_run(b, _set("snapshot.spec.model.wings", 2)),
        "does not parse.*unknown ModelConfig field",
    ),
    "unknown task": (
        lambda b: _edit_run(b, _set("snapshot.spec.task", "chess")),
        "configuration in run-1.json does not parse",
    ),
    "weights of another shape": (
        lambda b: _edit_run(b, _set("snapshot.spec.model.units", 16)),
        "weights in run-1.json do not fit the model its configuration builds",
    ),
    "weights not a weights file": (
        lambda b: _rezip(b, {"run-1.weights.h5": b"\x89HDF but not really"}),
        "not a Keras weights file",
    ),
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_every_refusal_is_one_readable_message(blob, kind: str) -> None:
    make, message = REFUSALS[kind]
    assert read_session(blob)  # the base file is fine
    with pytest.raises(SessionFileError, match=message):
        read_session(make(blob))


def test_size_limits_say_the_limit(blob, monkeypatch) -> None:
    with pytest.raises(SessionFileError, match="at most 50.0 MB"):
        read_session(b"\0" * (session_file.MAX_BYTES + 1))
    monkeypatch.setattr(session_file, "MAX_UNPACKED", 2000)
    with pytest.raises(SessionFileError, match="unpack to more than 0.0 MB"):
        read_session(blob)


def test_more_runs_than_a_session_keeps_are_not_written(runs) -> None:
    with pytest.raises(SessionFileError, match="at most 8 runs"):
        write_session([runs["lstm"]] * 9)


def test_run_file_pair_is_public_and_checks_shapes(runs) -> None:
    f = run_to_file(runs["lstm"])
    assert f.manifest["format"] == "rnn-lab-run/1" and f.weights[:4] == b"\x89HDF"
    assert read_run_file(f.manifest, f.weights).name == runs["lstm"].name
    other = run_to_file(runs["text"])
    with pytest.raises(RunFileError, match="do not fit"):
        read_run_file(f.manifest, other.weights)


# ------------------------------------------------------------------------- model import
def test_keras_export_imports_with_its_history(runs) -> None:
    run = runs["lstm"]
    blob = keras_export(run)
    assert KERAS_MEMBER in zipfile.ZipFile(io.BytesIO(blob)).namelist()
    back = restore_run(read_keras_export(blob, name="adder.keras"), in_process=True)
    x = run.data.x_test[:10]
    np.testing.assert_allclose(_predict(back.job.model, x), _predict(run.job.model, x), atol=1e-6)
    assert back.job.snapshot().epoch == 1 and back.origin == "imported"


def test_text_model_import_needs_its_own_alphabet(runs) -> None:
    from rnn_core.tasks.text import sidecar_json

    run = runs["text"]
    blob, alphabet = keras_export(run), sidecar_json(run.data)
    with pytest.raises(RunFileError, match="add its alphabet file"):
        read_keras_export(blob)
    wrong = json.dumps({**json.loads(alphabet), "chars": "abc"})
    with pytest.raises(RunFileError, match="alphabet file does not belong"):
        read_keras_export(blob, wrong)
    with pytest.raises(RunFileError, match="not an RNN Lab .vocab.json"):
        read_keras_export(blob, "[1, 2]")
    back = read_keras_export(blob, alphabet)
    assert back.snapshot.vocab["chars"] == run.data.vocab.chars


def test_import_refusals(runs) -> None:
    import keras

    from rnn_core.export import model_bytes

    run = runs["lstm"]
    with pytest.raises(RunFileError, match="not a Keras .keras file"):
        read_keras_export(b"nope")
    with pytest.raises(RunFileError, match="a model file can be at most 50 MB"):
        read_keras_export(b"\0" * (50 * 2**20 + 1))
    with pytest.raises(RunFileError, match="not exported by RNN Lab"):
        read_keras_export(model_bytes(run.job.model))
    extra = _rezip(keras_export(run), {"payload.pkl": b"x"})
    with pytest.raises(RunFileError, match=r"unexpected files \(payload.pkl\)"):
        read_keras_export(extra)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(keras_export(run))).read(KERAS_MEMBER))
    bigger = json.loads(json.dumps(manifest))
    bigger["snapshot"]["spec"]["model"]["units"] = 16
    with pytest.raises(RunFileError, match="do not fit"):
        read_keras_export(_rezip(keras_export(run), {KERAS_MEMBER: json.dumps(bigger)}))

    inputs = keras.Input((5, 12))  # a model with a Python lambda inside: code on load
    lam = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    unsafe = _rezip(model_bytes(lam), {KERAS_MEMBER: json.dumps(manifest)})
    with pytest.raises(RunFileError, match="does not load with safe_mode=True"):
        read_keras_export(unsafe)
