"""MNIST task: Keras-exact scaled data, stratified subsets, confusion matrix, models, training."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import MnistConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.data.files import ENV_VAR, DataMissingError
from rnn_core.tasks import mnist
from tests.conftest import REPO, SHARED_DATA
from tests.skip_policy import needs_shared
from tests.tiny_data import write_mnist


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No data dir from the environment and an empty private Keras cache."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder with a tiny mnist.npz: 80 training and 30 test images."""
    return write_mnist(tmp_path / "data")


def test_data_is_keras_load_data_scaled_to_unit_range(data_dir, monkeypatch) -> None:
    import keras
    from keras.src.datasets import mnist as kmnist

    monkeypatch.setattr(kmnist, "get_file", lambda *a, **k: str(data_dir / "mnist.npz"))
    (kx, ky), (kxt, kyt) = keras.datasets.mnist.load_data()
    monkeypatch.setenv(ENV_VAR, str(data_dir))  # the environment variable names the folder
    data = mnist.make_mnist_data(MnistConfig(val_fraction=0))
    assert data.x_train.shape == (80, 28, 28) and data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.x_train, kx.astype(np.float32) / 255)
    np.testing.assert_array_equal(data.x_test, kxt.astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y_train, ky)
    np.testing.assert_array_equal(data.y_test, kyt)
    assert data.x_train.min() >= 0 and data.x_train.max() == 1.0 and data.x_val is None


def test_the_shared_source_keeps_training_pixels_raw(data_dir) -> None:
    """The server-wide source holds the 60,000 training images as uint8 (a quarter of their
    float32 size); each run's subset is scaled, as Keras's data divided by 255."""
    from rnn_core.engine.memory import data_bytes

    cfg = MnistConfig(train_size=40, val_fraction=0, data_dir=str(data_dir))
    source = mnist.load_mnist_source(cfg)
    assert source.x_train.dtype == np.uint8 and source.x_test.dtype == np.float32
    float_size = 4 * (source.x_train.size + source.x_test.size)
    assert data_bytes(source) < 0.5 * float_size
    data = mnist.make_mnist_data(cfg, source)
    assert data.x_train.dtype == np.float32 and data.x_train.flags.writeable
    pixels = np.rint(data.x_train * 255).astype(np.uint8)  # (40, 28, 28) back to raw pixels
    assert {img.tobytes() for img in pixels} <= {img.tobytes() for img in source.x_train}


def test_subset_is_stratified_copied_and_validation_is_the_tail(data_dir) -> None:
    cfg = MnistConfig(train_size=40, val_fraction=0.25, data_dir=str(data_dir), seed=2)
    source = mnist.load_mnist_source(cfg)
    data = mnist.make_mnist_data(cfg, source)
    assert len(data.y_train) == 30 and len(data.y_val) == 10
    counts = np.bincount(np.concatenate([data.y_train, data.y_val]), minlength=10)
    np.testing.assert_array_equal(counts, [4] * 10)  # 40 of 80 balanced images: 4 per digit
    pixels = np.rint(data.x_val * 255).astype(np.uint8)  # (10, 28, 28) back to raw pixels
    idx = [int(np.flatnonzero((source.x_train == img).all(axis=(1, 2)))[0]) for img in pixels]
    assert idx == sorted(idx) and min(idx) > 0  # the tail of the subset, in source order
    before = source.x_train.copy()
    data.x_train[:] = 0  # the run's own copy
    np.testing.assert_array_equal(source.x_train, before)
    with pytest.raises(ValueError):
        data.x_test[0, 0, 0] = 1.0  # the shared test set is read-only
    with pytest.raises(ValueError, match="source was loaded for"):
        mnist.make_mnist_data(replace(cfg, data_dir=str(data_dir.parent)), source)


def test_confusion_matrix_counts_and_checks() -> None:
    counts = mnist.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], classes=3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert mnist.confusion_matrix([], [], classes=10).sum() == 0
    with pytest.raises(ValueError, match="differ in length"):
        mnist.confusion_matrix([1, 2], [1])
    with pytest.raises(ValueError, match="labels must be in"):
        mnist.confusion_matrix([1, 12], [1, 1])


def test_misclassified_returns_the_first_wrong_digits(data_dir) -> None:
    data = mnist.make_mnist_data(MnistConfig(data_dir=str(data_dir)))
    predicted = data.y_test.astype(np.int64).copy()
    predicted[[3, 7, 20]] = (predicted[[3, 7, 20]] + 1) % 10
    images, true, guessed = mnist.misclassified(None, data, n=2, predicted=predicted)
    np.testing.assert_array_equal(true, data.y_test[[3, 7]])
    np.testing.assert_array_equal(guessed, (data.y_test[[3, 7]] + 1) % 10)
    np.testing.assert_array_equal(images, data.x_test[[3, 7]])


def test_two_rows_per_step_read_the_same_pixels_in_half_the_steps(data_dir) -> None:
    with pytest.raises(ValueError, match=r"rows per step must divide 28 \(1, 2, 4, 7, 14 or 28\)"):
        MnistConfig(rows_per_step=3)
    rows = MnistConfig(val_fraction=0.25, data_dir=str(data_dir))
    pairs = replace(rows, rows_per_step=2)
    by_row, by_pair = mnist.make_mnist_data(rows), mnist.make_mnist_data(pairs)
    assert by_pair.x_train.shape == (60, 14, 56) and by_pair.x_val.shape == (20, 14, 56)
    assert by_pair.x_test.shape == (30, 14, 56) and not by_pair.x_test.flags.writeable
    for split in ("x_train", "x_val", "x_test"):  # step t holds rows 2t and 2t+1, side by side
        a, b = getattr(by_row, split), getattr(by_pair, split)
        np.testing.assert_array_equal(b[:, 3, :28], a[:, 6])
        np.testing.assert_array_equal(b[:, 3, 28:], a[:, 7])
        np.testing.assert_array_equal(mnist.as_images(b), a)
    predicted = (by_pair.y_test + 1) % 10  # every digit wrong
    images, _, _ = mnist.misclassified(None, by_pair, n=2, predicted=predicted)
    np.testing.assert_array_equal(images, by_row.x_test[:2])  # drawn as 28×28 images
    spec = RunSpec(task="mnist", data=pairs, model=ModelConfig(cell="GRU", units=4))
    assert mnist.MnistTask().build(spec, by_pair).input_shape == (None, 14, 56)
    script = mnist.MnistTask().keras_code(spec).data
    assert "x.reshape(-1, 14, 56), x_test.reshape(-1, 14, 56)" in script


@pytest.mark.parametrize(
    ("cell", "bidirectional", "layers"),
    [("SimpleRNN", False, 2), ("LSTM", True, 1), ("GRU", False, 1), ("Dense", False, 2)],
)
def test_model_parameter_formulas_match_keras(data_dir, cell, bidirectional, layers) -> None:
    from rnn_core.params import summary_rows

    cfg = MnistConfig(data_dir=str(data_dir))
    data = mnist.make_mnist_data(cfg)
    model_cfg = ModelConfig(cell, 7, layers, dropout=0.2, bidirectional=bidirectional)
    model = mnist.MnistTask().build(RunSpec("mnist", cfg, model_cfg, TrainConfig()), data)
    rows = summary_rows(model)
    assert all(r["params"] == r["formula params"] for r in rows), rows
    assert sum(r["params"] for r in rows) == model.count_params()
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    if cell == "Dense":
        assert rows[1]["params"] == (28 * 28 + 1) * 7  # every pixel at once
    else:
        width = 2 * 7 if bidirectional else 7
        assert rows[-1]["params"] == (width + 1) * 10  # softmax over the last state


def test_training_learns_the_bars_and_reports(data_dir) -> None:
    from rnn_core.engine.job import TrainingJob

    cfg = MnistConfig(val_fraction=0.1, data_dir=str(data_dir))
    task = mnist.MnistTask()
    data = task.make_data(cfg)
    train_cfg = TrainConfig(epochs=10, batch_size=16, learning_rate=3e-2)
    spec = RunSpec("mnist", cfg, ModelConfig("GRU", 16), train_cfg)
    model = task.build(spec, data)
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, task.epoch_report(data))
    job.start()
    snap = job.wait(timeout=120)
    assert snap.state == "done", snap.error
    extra = snap.epoch_extras[-1]
    assert extra.sample_size == 8 and np.sum(extra.confusion) == 8  # the validation images
    wrong = len(extra.wrong)
    assert np.trace(extra.confusion) == 8 - wrong and extra.split == "validation"
    result = task.evaluate(model, data)
    assert result.images == 30 and result.accuracy >= 0.7  # chance is 0.1


def test_epoch_report_scores_validation_images_and_never_the_test_set(data_dir) -> None:
    cfg = MnistConfig(val_fraction=0.25, data_dir=str(data_dir))
    task = mnist.MnistTask()
    data = task.make_data(cfg)
    model = task.build(RunSpec("mnist", cfg, ModelConfig("GRU", 4), TrainConfig()), data)
    blind = replace(data, x_test=None, y_test=None)  # any look at the test set fails
    report = task.epoch_report(blind, size=15)(model, 1)
    pred = task.predict(model, data.x_val[:15])  # (15,)
    assert (report.split, report.sample_size) == ("validation", 15)
    assert report.score == pytest.approx(float((pred == data.y_val[:15]).mean()))
    np.testing.assert_array_equal(report.confusion, mnist.confusion_matrix(data.y_val[:15], pred))
    assert [i for i, _ in report.wrong] == list(np.flatnonzero(pred != data.y_val[:15]))
    no_val = task.make_data(replace(cfg, val_fraction=0.0))
    assert task.epoch_report(no_val)(model, 1) is None


def test_reports_of_older_files_read_as_recorded_on_the_test_set() -> None:
    old = json.loads((REPO / "assets" / "mnist-lstm.json").read_text())["history"]
    values = old["epoch_extras"][-1]
    assert "test_accuracy" in values  # saved before the per-epoch reports moved to validation
    report = mnist.MnistTask().report_from_plain(values)
    assert (report.split, report.score) == ("test", values["test_accuracy"])
    assert report.wrong == tuple(tuple(w) for w in values["wrong"])


def test_missing_file_raises_a_clear_error(tmp_path, monkeypatch) -> None:
    import keras

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataMissingError) as info:
        mnist.make_mnist_data(MnistConfig(data_dir=str(tmp_path / "empty")))
    msg = str(info.value)
    assert "mnist.npz" in msg and ENV_VAR in msg and "data-directory setting" in msg
    assert f"python -m rnn_core fetch --data-dir {tmp_path / 'empty'}" in msg


@pytest.mark.slow  # real data
@needs_shared("mnist.npz")
def test_real_mnist_known_facts_and_one_quick_epoch() -> None:
    cfg = MnistConfig(train_size=3_000, data_dir=str(SHARED_DATA))
    source = mnist.load_mnist_source(cfg)
    assert abs(float(source.x_train.mean(dtype=np.float64)) / 255 - 0.1306604762738429) < 1e-7
    np.testing.assert_array_equal(source.y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    data = mnist.make_mnist_data(cfg, source)
    share = np.bincount(np.concatenate([data.y_train, data.y_val])) / 3_000
    np.testing.assert_allclose(share, np.bincount(source.y_train) / 60_000, atol=0.001)
    task = mnist.MnistTask()
    spec = RunSpec("mnist", cfg, ModelConfig("GRU", 32), TrainConfig(learning_rate=1e-2))
    model = task.build(spec, data)
    model.fit(data.x_train, data.y_train, epochs=2, batch_size=32, verbose=0)
    result = task.evaluate(model, data)
    assert result.images == 10_000 and result.accuracy > 0.5  # chance is 0.1
