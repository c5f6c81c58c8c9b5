"""IMDB task: Keras-exact data on a tiny generated file, subsets, truncation, scoring, models."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import ImdbConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.data.files import ENV_VAR, DataMissingError
from rnn_core.tasks import imdb
from tests.conftest import REPO, SHARED_DATA
from tests.skip_policy import needs_shared
from tests.tiny_data import write_imdb


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No data dir from the environment and an empty private Keras cache."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder with a tiny imdb.npz and word index in Keras's formats."""
    return write_imdb(tmp_path / "data")


def cfg_for(data_dir: Path, **kw: object) -> ImdbConfig:
    """A tiny-vocabulary config reading the tiny files."""
    return ImdbConfig(**{"num_words": 40, "maxlen": 20, "data_dir": str(data_dir), **kw})


def test_importing_imdb_mnist_and_tasks_loads_no_tensorflow() -> None:
    code = (
        "import sys, rnn_core.tasks.imdb, rnn_core.tasks.mnist, rnn_core.tasks\n"
        "t = rnn_core.tasks\n"
        "print(t.get_task('imdb').info.name, t.get_task('mnist').info.name,"
        " 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["imdb", "mnist", "False", "False"]


@pytest.mark.parametrize(("padding", "truncating"), [("pre", "pre"), ("post", "post")])
def test_padded_arrays_equal_keras_load_data_then_pad_sequences(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, padding: str, truncating: str
) -> None:
    import keras
    from keras.src.datasets import imdb as kimdb

    monkeypatch.setattr(kimdb, "get_file", lambda *a, **k: str(data_dir / "imdb.npz"))
    (kx, ky), (kxt, kyt) = keras.datasets.imdb.load_data(num_words=40, skip_top=2)
    cfg = cfg_for(data_dir, skip_top=2, padding=padding, truncating=truncating, val_fraction=0)
    data = imdb.make_imdb_data(cfg)
    pad = {"maxlen": 20, "padding": padding, "truncating": truncating}
    np.testing.assert_array_equal(data.x_train, keras.utils.pad_sequences(kx, **pad))
    np.testing.assert_array_equal(data.x_test, keras.utils.pad_sequences(kxt, **pad))
    np.testing.assert_array_equal(data.y_train, ky)
    np.testing.assert_array_equal(data.y_test, kyt)
    assert data.x_val is None and data.x_train.dtype == np.int32
    np.testing.assert_array_equal(data.train_lengths, [len(s) for s in kx])


def test_subset_is_stratified_copied_and_validation_is_the_tail(data_dir: Path) -> None:
    source = imdb.load_imdb_source(cfg_for(data_dir))
    cfg = cfg_for(data_dir, train_size=30, val_fraction=0.2, seed=3)
    data = imdb.make_imdb_data(cfg, source)
    y = np.concatenate([data.y_train, data.y_val])
    assert len(data.y_train) == 24 and len(data.y_val) == 6
    assert y.sum() == 15  # 30 of 80 balanced reviews: exactly half positive
    rows = {tuple(r) for r in source.x_train}
    assert all(tuple(r) in rows for r in np.concatenate([data.x_train, data.x_val]))
    other = imdb.make_imdb_data(replace(cfg, seed=4), source)
    assert not np.array_equal(other.x_train, data.x_train)  # another seed, another subset
    before = source.x_train.copy()
    data.x_train[:] = 0  # a run's own copy is writable; the shared source is not touched
    np.testing.assert_array_equal(source.x_train, before)
    with pytest.raises(ValueError):
        data.x_test[0, 0] = 5  # the shared test set is read-only
    with pytest.raises(ValueError, match="source was loaded for"):
        imdb.make_imdb_data(replace(cfg, maxlen=10), source)


def test_truncation_report_matches_the_padded_row(data_dir: Path) -> None:
    cfg = cfg_for(data_dir, maxlen=8)
    source = imdb.load_imdb_source(cfg)
    ex = imdb.review_examples(cfg, n=3, source=source)
    assert len(ex.words) == 3 and ex.words[0][0] == "<START>"
    assert ex.train_lengths.max() == 71  # the long review: 70 words and the start mark
    for truncating in ("pre", "post"):
        report = imdb.describe_truncation(ex.words[0], 8, "pre", truncating)
        n = len(ex.words[0])
        assert report["n_cut"] == n - 8 == len(report["cut"]) and len(report["kept"]) == 8
        assert report["kept"] == list(ex.words[0][-8:] if truncating == "pre" else ex.words[0][:8])
        assert f"{n - 8} of {n} tokens cut" in report["summary"]
    data = imdb.make_imdb_data(cfg, source)  # the model's row, decoded, is what "kept" says
    assert data.test_texts[0] == imdb.describe_truncation(ex.words[0], 8)["kept_text"]
    short = imdb.describe_truncation(["<START>", "good"], 8, padding="post")
    assert short["n_cut"] == 0 and short["n_pad"] == 6 and short["pad_side"] == "after"


def test_score_review_marks_unknown_words_and_encodes_like_keras(data_dir: Path) -> None:
    cfg = cfg_for(data_dir, maxlen=6)
    data = imdb.make_imdb_data(cfg)
    x, tokens, unknown = imdb.encode_for_model("The GOOD movie, zzz w50!", data.word_index, cfg)
    # the=1+3, good=2+3, movie=4+3; zzz is not in the index, w50 is past num_words=40
    np.testing.assert_array_equal(x, [[1, 4, 5, 7, 2, 2]])
    assert tokens == ["the", "good", "movie", "zzz", "w50"] and unknown == ["zzz", "w50"]
    spec = RunSpec("imdb", cfg, ModelConfig(cell="Dense", units=4), TrainConfig())
    model = imdb.ImdbTask().build(spec, data)
    p, unknown = imdb.score_review(model, "good zzz zzz", data.word_index, cfg)
    assert 0.0 <= p <= 1.0 and unknown == ["zzz"]
    with pytest.raises(ValueError, match="at least one word"):
        imdb.score_review(model, " ,. ", data.word_index, cfg)


@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_a_typed_review_is_read_with_the_models_own_cut(data_dir: Path, truncating: str) -> None:
    """read_review cuts where pad() cuts: the tokens it keeps are the ids the model gets."""
    from dataclasses import replace

    cfg = replace(cfg_for(data_dir, maxlen=6), truncating=truncating)
    data = imdb.make_imdb_data(cfg)
    text = "the good movie zzz the good movie w50 good"  # 9 words + <START> = 10 tokens
    read = imdb.read_review(text, data.word_index, cfg)
    assert read.tokens[0] == "<START>" and len(read.tokens) == 10
    assert read.kept_end - read.kept_start == 6 and read.n_pad == 0
    assert (read.kept_start, read.kept_end) == ((4, 10) if truncating == "pre" else (0, 6))
    x, _, _ = imdb.encode_for_model(text, data.word_index, cfg)  # (1, 6)
    kept = read.tokens[read.kept_start : read.kept_end]
    ids = [1 if w == "<START>" else 2 if w in read.unknown else data.word_index[w] + 3
           for w in kept]  # fmt: skip
    assert list(x[0]) == ids and read.unknown == {"zzz", "w50"}


@pytest.mark.parametrize(
    ("cell", "bidirectional", "layers"),
    [("SimpleRNN", False, 1), ("LSTM", False, 2), ("GRU", True, 2), ("LSTM", True, 1),
     ("Dense", False, 1)],
)  # fmt: skip
def test_model_parameter_formulas_match_keras(
    data_dir: Path, cell: str, bidirectional: bool, layers: int
) -> None:
    from rnn_core.params import summary_rows

    cfg = cfg_for(data_dir)
    data = imdb.make_imdb_data(cfg)
    model_cfg = ModelConfig(cell, 6, layers, bidirectional=bidirectional, embedding_dim=5)
    model = imdb.ImdbTask().build(RunSpec("imdb", cfg, model_cfg, TrainConfig()), data)
    rows = summary_rows(model)
    assert all(r["params"] == r["formula params"] for r in rows), rows
    assert sum(r["params"] for r in rows) == model.count_params()
    assert rows[0]["type"] == "Embedding" and rows[0]["params"] == 40 * 5
    assert model.output_shape == (None, 1)
    kinds = [r["type"] for r in rows]
    if cell == "Dense":
        assert kinds == ["Embedding", "Flatten", "Dense", "Dense"]
        assert rows[2]["params"] == (20 * 5 + 1) * 6  # Flatten of maxlen x embedding
    else:
        assert kinds.count("Bidirectional" if bidirectional else cell) == layers


def test_training_learns_the_tiny_sentiment_and_reports(data_dir: Path) -> None:
    from rnn_core.engine.job import TrainingJob

    cfg = cfg_for(data_dir, val_fraction=0.25)
    task = imdb.ImdbTask()
    data = task.make_data(cfg)
    spec = RunSpec(
        "imdb", cfg, ModelConfig("GRU", 8, embedding_dim=8), TrainConfig(epochs=12, batch_size=16)
    )
    model = task.build(spec, data)
    train, val = task.splits(data)
    job = TrainingJob(
        model, train, val, replace(spec.train, batch_size=16), task.epoch_report(data)
    )
    job.start()
    snap = job.wait(timeout=120)
    assert snap.state == "done", snap.error
    extra = snap.epoch_extras[-1]
    assert isinstance(extra, imdb.ImdbReport)
    assert extra.sample_size == 20 and len(extra.probabilities) == imdb.SAMPLE_REVIEWS
    assert extra.split == "validation"
    p_val = task.predict(model, data.x_val)  # (20,) the report scores the validation reviews
    assert extra.accuracy == pytest.approx(float(((p_val > 0.5) == (data.y_val > 0.5)).mean()))
    np.testing.assert_allclose(extra.probabilities, p_val[: imdb.SAMPLE_REVIEWS], rtol=1e-5)
    result = task.evaluate(model, data)
    assert result.reviews == 40 and result.accuracy >= 0.9  # "good"/"bad" is learnable
    rows = imdb.sample_reviews(model, data)
    assert len(rows) == imdb.SAMPLE_REVIEWS
    assert all(r["ok"] == (r["predicted"] == r["true"]) for r in rows)


def test_epoch_report_scores_validation_reviews_and_never_the_test_set(data_dir: Path) -> None:
    cfg = cfg_for(data_dir, val_fraction=0.25)
    task = imdb.ImdbTask()
    data = task.make_data(cfg)
    assert len(data.sample_texts) == imdb.SAMPLE_REVIEWS
    words = [" ".join(imdb.id_words(row, imdb.index_words(data.word_index))) for row in data.x_val]
    assert list(data.sample_texts) == words[: imdb.SAMPLE_REVIEWS]  # validation, not test
    spec = RunSpec("imdb", cfg, ModelConfig("GRU", 4, embedding_dim=4), TrainConfig())
    model = task.build(spec, data)
    blind = replace(data, x_test=None, y_test=None)  # any look at the test set fails
    report = task.epoch_report(blind, size=12)(model, 1)
    p = task.predict(model, data.x_val[:12])  # (12,)
    assert (report.split, report.sample_size) == ("validation", 12)
    assert report.score == pytest.approx(float(((p > 0.5) == (data.y_val[:12] > 0.5)).mean()))
    rows = imdb.review_rows(data, report.probabilities, report.split)
    assert [r["true"] == "positive" for r in rows] == list(data.y_val[:5] > 0.5)
    no_val = task.make_data(cfg_for(data_dir, val_fraction=0.0))
    assert task.epoch_report(no_val)(model, 1) is None and no_val.sample_texts == ()


def test_reports_of_older_files_read_as_recorded_on_the_test_set() -> None:
    old = json.loads((REPO / "assets" / "imdb-lstm.json").read_text())["history"]
    values = old["epoch_extras"][-1]
    assert "test_accuracy" in values  # saved before the per-epoch reports moved to validation
    report = imdb.ImdbTask().report_from_plain(values)
    assert (report.split, report.score) == ("test", values["test_accuracy"])
    assert report.sample_size == values["sample_size"]


def test_missing_files_raise_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    import keras

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", offline)
    with pytest.raises(DataMissingError) as info:
        imdb.load_imdb_source(ImdbConfig(data_dir=str(tmp_path / "nowhere")))
    msg = str(info.value)
    assert "imdb.npz" in msg and "(no such folder)" in msg and ENV_VAR in msg
    assert f"python -m rnn_core fetch --data-dir {tmp_path / 'nowhere'}" in msg


@pytest.mark.parametrize(
    ("field", "value"), [("maxlen", 0), ("padding", "mid"), ("train_size", 3), ("num_words", 3)]
)
def test_bad_config_values_are_readable_errors(data_dir: Path, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        imdb.make_imdb_data(cfg_for(data_dir, **{field: value}))


@pytest.mark.slow  # real data
@needs_shared("imdb.npz")
def test_real_imdb_known_facts_and_one_quick_epoch() -> None:
    cfg = ImdbConfig(maxlen=100, train_size=2_000, data_dir=str(SHARED_DATA))
    source = imdb.load_imdb_source(cfg)
    assert source.train_lengths[0] == 218 and source.x_train.shape == (25_000, 100)
    np.testing.assert_array_equal(source.y_train[:10], [1, 0, 0, 1, 0, 0, 1, 0, 1, 0])
    assert int(source.x_train.max()) == 9_999
    data = imdb.make_imdb_data(cfg, source)
    assert data.test_texts[0].startswith("<START> please give this one a miss br br")
    assert data.y_train.sum() + data.y_val.sum() == 1_000  # stratified: half positive
    spec = RunSpec("imdb", cfg, ModelConfig("Dense", 16, embedding_dim=16), TrainConfig())
    task = imdb.ImdbTask()
    model = task.build(spec, data)
    # 4 short epochs: 0.656-0.684 over 4 shuffle seeds (2 gave 0.609-0.636, and 0.589 in a suite)
    model.fit(data.x_train, data.y_train, epochs=4, batch_size=64, verbose=0)
    result = task.evaluate(model, data)
    assert result.reviews == 25_000 and result.accuracy > 0.6  # chance is 0.5
