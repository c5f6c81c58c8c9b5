"""Exports: CSV history, JSON config, and the generated Keras script against the real builders."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from rnn_core.config import (
    AdditionConfig,
    ImdbConfig,
    MnistConfig,
    ModelConfig,
    RunSpec,
    TrainConfig,
)
from rnn_core.export import config_json, history_csv, keras_code, model_code
from rnn_core.tasks import get_task


def test_history_csv_has_one_row_per_epoch() -> None:
    history = {"loss": [1.0, 0.5, 0.25], "val_accuracy": [0.5, 0.75, 0.875]}
    table = pd.read_csv(io.StringIO(history_csv(history)))
    assert list(table.columns) == ["epoch", "loss", "val_accuracy"]
    assert table["epoch"].tolist() == [1, 2, 3]
    assert table["val_accuracy"].tolist() == [0.5, 0.75, 0.875]
    assert history_csv({}) == "epoch\n"


def test_config_json_round_trips() -> None:
    spec = RunSpec(data=AdditionConfig(digits=4), model=ModelConfig(cell="GRU", units=7))
    assert json.loads(config_json(spec)) == spec.to_dict()


def _our_params(spec: RunSpec) -> int:
    from rnn_core.models import build_seq2seq, build_sequence_classifier

    if spec.task == "addition":
        d = spec.data.digits
        return build_seq2seq(spec.model, 2 * d + 1, 12, d + 1).count_params()
    if spec.task == "imdb":
        model = build_sequence_classifier(
            spec.model, (spec.data.maxlen,), 2, vocab_size=spec.data.num_words
        )
        return model.count_params()
    return build_sequence_classifier(spec.model, (28, 28), 10).count_params()


MODELS = [
    ModelConfig(cell="SimpleRNN", units=5, layers=1),
    ModelConfig(cell="LSTM", units=6, layers=2, dropout=0.1),
    ModelConfig(cell="GRU", units=4, layers=2, bidirectional=True),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.cell)
@pytest.mark.parametrize("task", ["addition", "imdb", "mnist"])
def test_exported_model_has_the_same_layers_and_parameters(task: str, model: ModelConfig) -> None:
    import keras

    data = {"addition": AdditionConfig(digits=2), "imdb": ImdbConfig(num_words=50, maxlen=9)}
    spec = RunSpec(task=task, data=data.get(task, MnistConfig()), model=model)
    ns = {"keras": keras, "T_IN": 5, "T_OUT": 3, "VOCAB": "0123456789+ "}
    ns |= {"NUM_WORDS": 50, "MAXLEN": 9}
    exec(model_code(spec), ns)
    assert ns["model"].count_params() == _our_params(spec)


def test_dense_baseline_exports_flatten_and_dense() -> None:
    import keras

    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(num_words=30, maxlen=6),
        model=ModelConfig(cell="Dense", units=8, embedding_dim=4),
    )
    code = model_code(spec)
    assert "Flatten" in code
    ns = {"keras": keras, "NUM_WORDS": 30, "MAXLEN": 6}
    exec(code, ns)
    assert ns["model"].count_params() == _our_params(spec)


@pytest.mark.process  # a fresh Python trains
def test_generated_addition_script_trains_in_a_fresh_python(tmp_path) -> None:
    spec = RunSpec(
        data=AdditionConfig(digits=1, train_size=64),
        model=ModelConfig(cell="LSTM", units=8),
        # the threshold is met at epoch 1: the script's own StopAt callback ends training there
        train=TrainConfig(epochs=3, batch_size=32, optimizer="rmsprop", until="val_loss<=1e9"),
    )
    script = tmp_path / "export.py"
    script.write_text(keras_code(spec))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "val_accuracy" in out.stdout
    assert "Total params" in out.stdout
    assert "Epoch 1/3" in out.stdout and "Epoch 2/3" not in out.stdout


def test_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown task 'weather'"):
        keras_code(replace(RunSpec(), task="weather"))
    with pytest.raises(ValueError, match="no Keras code export for task 'text'"):
        keras_code(get_task("text").default_spec())


def test_exported_model_file_reloads_and_predicts_the_same(tiny_run, tmp_path) -> None:
    import keras
    import numpy as np

    from rnn_core.export import model_bytes

    task, data, model, spec = tiny_run(epochs=1)
    # weights off their (seeded) initialisers, so a file without them could not predict the same;
    # the optimizer's state built as after training (no fit: its tracing costs seconds)
    rng = np.random.default_rng(0)
    model.set_weights(
        [w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()]
    )
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / "run.keras"
    path.write_bytes(model_bytes(model))
    again = keras.models.load_model(path)  # safe_mode stays on: no code is unpickled
    x = data.x_test[:16]  # (16, T_in, V)
    np.testing.assert_allclose(again.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)


def _fit_line(script: str) -> str:
    """The script's ``model.fit(...)`` line."""
    return next(line for line in script.splitlines() if line.startswith("model.fit("))


def test_export_keeps_early_stopping_on_a_keras_metric() -> None:
    spec = RunSpec(
        data=AdditionConfig(digits=1, train_size=64),
        model=ModelConfig(cell="GRU", units=8),
        train=TrainConfig(epochs=9, until="val_accuracy>=0.95", patience=2),
    )
    script = keras_code(spec)
    assert "callbacks=callbacks" in _fit_line(script)
    import keras

    ns: dict = {"keras": keras}
    stop_lines = script.split("# Stopping\n")[1].split("# Training")[0]
    exec(stop_lines, ns)
    early, until = ns["callbacks"]
    assert (early.monitor, early.patience, early.restore_best_weights) == ("val_accuracy", 2, True)
    # the until callback stops at the threshold, not before
    model = type("M", (), {"stop_training": False})()
    until.set_model(model)
    until.on_epoch_end(0, {"val_accuracy": 0.9})
    assert model.stop_training is False
    until.on_epoch_end(1, {"val_accuracy": 0.95})
    assert model.stop_training is True


def test_export_says_when_the_stop_rule_is_rnn_labs_own_metric() -> None:
    spec = RunSpec(
        data=AdditionConfig(digits=1, train_size=64),
        model=ModelConfig(cell="GRU", units=8),
        train=TrainConfig(epochs=9, until="val_exact_match>=0.99"),
    )
    script = keras_code(spec)
    assert "callbacks" not in _fit_line(script)
    assert "val_exact_match>=0.99" in script and "all 9 epochs" in script


def test_export_of_a_cosine_schedule_decays_over_the_scripts_own_training_steps() -> None:
    spec = RunSpec(
        data=AdditionConfig(digits=1, train_size=64),
        train=TrainConfig(epochs=3, batch_size=32, learning_rate=0.01, schedule="cosine"),
    )
    script = keras_code(spec)
    assert script.splitlines()[2] == "import math"
    import math

    import keras
    import numpy as np

    ns: dict = {"keras": keras, "math": math, "x": np.zeros((64, 1))}
    exec(script.split("# Training\n")[1].split("model.compile")[0], ns)
    kept = int(64 * (1 - spec.data.val_fraction))  # the rows Keras trains on after the split
    assert ns["steps"] == 3 * math.ceil(kept / 32)
    assert float(ns["rate"](0)) == pytest.approx(0.01)
    assert float(ns["rate"](ns["steps"])) == pytest.approx(0.0, abs=1e-9)
    constant = keras_code(RunSpec(data=AdditionConfig(digits=1, train_size=64)))
    assert "rate = 0.003" in constant and "import math" not in constant


def test_export_without_a_stop_rule_has_no_callbacks() -> None:
    spec = RunSpec(data=AdditionConfig(digits=1, train_size=64), train=TrainConfig(epochs=3))
    script = keras_code(spec)
    assert "callbacks" not in script and "# Stopping" not in script


def test_export_runs_as_many_batches_per_call_as_the_run_did() -> None:
    data = AdditionConfig(digits=1, train_size=64)
    script = keras_code(RunSpec(data=data, train=TrainConfig(steps_per_execution=8)))
    compile_line = next(line for line in script.splitlines() if line.startswith("model.compile"))
    assert compile_line.endswith('metrics=["accuracy"], steps_per_execution=8)')
    assert "steps_per_execution" not in keras_code(RunSpec(data=data))
