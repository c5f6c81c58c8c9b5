"""AppTest: IMDB and MNIST on the Train page with tiny Keras-format files, and missing data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.charts import classify as classify_charts
from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds; AppTest's default is 3 s
VOCAB = 300  # distinct words in the tiny IMDB word index


def write_tiny_imdb(folder: Path, n: int = 40, seed: int = 0) -> None:
    """imdb.npz (object arrays of raw-rank lists, pos then neg) and imdb_word_index.json."""
    rng = np.random.default_rng(seed)

    def reviews() -> np.ndarray:
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = [int(v) for v in rng.integers(1, VOCAB + 1, size=int(rng.integers(5, 60)))]
        return out

    labels = np.array([1] * (n // 2) + [0] * (n - n // 2), dtype=np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "imdb.npz", x_train=reviews(), y_train=labels, x_test=reviews(),
             y_test=labels.copy())  # fmt: skip
    words = ["the", "good", "bad", "movie"] + [f"w{r}" for r in range(5, VOCAB + 1)]
    index = {w: rank for rank, w in enumerate(words, start=1)}  # 1 = most frequent
    (folder / "imdb_word_index.json").write_text(json.dumps(index))


def write_tiny_mnist(folder: Path, seed: int = 0) -> None:
    """mnist.npz with 60 training and 30 test uint8 images of random digits."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, size=60, dtype=np.uint8),
        x_test=rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, size=30, dtype=np.uint8),
    )


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An RNN_LAB_DATA_DIR, an empty Keras cache, and Keras's downloader disabled."""
    from keras.src.utils import file_utils

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("RNN_LAB_DATA_DIR", str(folder))
    return folder


def train_page(task: str) -> AppTest:
    """The Train page with ``task`` picked."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="task").set_value(task).run()
    assert not at.exception, at.exception
    return at


def start_and_wait(at: AppTest, **values: object) -> object:
    """Fill the form, press Start, wait for the run to end, redraw; returns the run record."""
    task = at.session_state["task"]
    for key, value in values.items():
        at.session_state[f"{task}.{key}"] = value  # each task has its own form
    next(b for b in at.button if "Start training" in b.label).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    record = at.session_state["current"]
    wait_until(lambda: not record.job.snapshot().active, 120, 0.1, "the run to finish")
    at.run()
    assert not at.exception, at.exception
    return record


def texts(at: AppTest) -> str:
    """Everything the user reads in markdown and captions."""
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


@pytest.mark.slow  # long: a training through the page
def test_imdb_trains_scores_reviews_and_shows_truncation(data_dir: Path) -> None:
    write_tiny_imdb(data_dir)
    at = train_page("imdb")
    assert "`imdb.npz` ✓ found" in texts(at) and "`imdb_word_index.json` ✓ found" in texts(at)
    assert at.session_state["imdb.train_size"] == 5_000  # a fresh form starts on a small subset
    record = start_and_wait(
        at, units=4, embedding_dim=4, num_words=100, maxlen=30, epochs=2, batch_size=16,
        train_size=0, truncating="post", cell="GRU", bidirectional=True,
    )  # fmt: skip
    spec = record.spec
    assert spec.task == "imdb" and spec.model.units == 4 and spec.model.embedding_dim == 4
    assert (spec.data.num_words, spec.data.maxlen, spec.data.truncating) == (100, 30, "post")
    assert spec.data.train_size is None and spec.data.data_dir == str(data_dir)  # 0 = "all"
    assert record.job.model.get_layer("embedding").input_dim == 100
    summary = next(d.value for d in at.dataframe if "formula" in d.value.columns)
    emb = summary[summary["type"] == "Embedding"].iloc[0]
    assert emb["formula"] == "100·4 = 400" and emb["params"] == 400
    bi = summary[summary["type"] == "Bidirectional"].iloc[0]  # GRU reading 4 words of 4 numbers
    assert bi["formula"] == "2·[3·(16+4+2)·4] = 528" and bi["params"] == 528

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["epochs done"] == "2"
    data = record.data
    assert spec.data.words_per_step == 4  # the form's default (imdb-fast): 30 widens to 32
    assert data.x_train.shape[1] == 32 and len(data.y_train) == 32  # 40 reviews, 20% held out
    p = record.job.model.predict_on_batch(data.x_test).reshape(-1)  # (40,)
    whole = float(((p > 0.5) == (data.y_test > 0.5)).mean())
    label = "test accuracy, all 40 test reviews (after epoch 2)"
    assert metrics[label] == f"{whole:.3f}"
    p_val = record.job.model.predict_on_batch(data.x_val).reshape(-1)  # (8,) per epoch: these
    val = float(((p_val > 0.5) == (data.y_val > 0.5)).mean())
    assert metrics["val accuracy (8 reviews)"] == f"{val:.3f}"
    assert not any(label.startswith("test accuracy (") for label in metrics)
    assert "Five validation reviews after epoch 2" in texts(at)

    box = next(t for t in at.text_area if t.label == "Type a review (English)")
    box.input("Good movie, zzzz! w250 the bad" + " the" * 30)  # 37 tokens for maxlen 30
    next(b for b in at.button if b.label == "Score my review").click().run()
    assert not at.exception
    assert any("P(positive) =" in s.value for s in at.success)
    shown = texts(at)
    unknown = f'<span style="{classify_charts.UNKNOWN_STYLE}">'
    assert f"{unknown}zzzz</span>" in shown and f"{unknown}w250</span>" in shown
    assert f"{unknown}good</span>" not in shown  # rank 2 is among the 100 kept words
    assert "2 word(s) the model does not know" in shown
    # post-truncation: the model reads <START> and the first 29 words, the last 7 are cut
    assert "Struck out: the 7 token(s) beyond maxlen = 30" in shown
    assert shown.count(f'<span style="{classify_charts.CUT_STYLE}">the</span>') == 7

    assert "What maxlen = 30 does to a review" in shown
    pick = at.selectbox(key=f"trunc_review_{id(record)}")
    n_tokens = int(pick.options[pick.index].split(":")[1].split()[0])
    assert n_tokens > 30  # the first review that gets cut is picked
    assert f"{n_tokens - 30} of {n_tokens} tokens cut" in shown


@pytest.mark.slow  # long: a training through the page
def test_mnist_trains_and_shows_confusion_and_mistakes(data_dir: Path) -> None:
    write_tiny_mnist(data_dir)
    at = train_page("mnist")
    assert "`mnist.npz` ✓ found" in texts(at)
    assert not any(n.key == "embedding_dim" for n in at.number_input)  # IMDB only
    record = start_and_wait(
        at, units=8, epochs=1, batch_size=16, train_size=0, cell="GRU", dropout=0.1
    )
    assert record.spec.task == "mnist" and record.spec.model.cell == "GRU"
    assert record.spec.model.dropout == pytest.approx(0.1)
    data = record.data
    pred = record.job.model.predict_on_batch(data.x_test).argmax(axis=-1)  # (30,)
    wrong = int((pred != data.y_test).sum())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["epochs done"] == "1"
    label = "test accuracy, all 30 test images (after epoch 1)"
    assert metrics[label] == f"{1 - wrong / 30:.4f}"
    shown = texts(at)
    assert "**Confusion matrix after epoch 1** (all 30 test images)" in shown
    assert f"**{wrong:,} misclassified of 30**" in shown
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion matrix, misclassified grid

    second = start_and_wait(at, cell="SimpleRNN")  # a second run: the compare view appears
    assert [r.spec.model.cell for r in at.session_state["runs"]] == ["GRU", "SimpleRNN"]
    table = next(d.value for d in at.dataframe if "run" in d.value.columns)
    assert at.selectbox(key="compare_metric").value == "val_accuracy"  # the task's metric
    val = [max(r.job.history()["val_accuracy"]) for r in (record, second)]
    order = sorted(range(2), key=lambda i: -val[i])  # best first: higher accuracy is better
    runs_ = [(record, second)[i] for i in order]
    assert list(table["cell"]) == [r.spec.model.cell for r in runs_]
    assert list(table["best val accuracy ↑"]) == [round(val[i], 4) for i in order]
    extras = [r.job.snapshot().epoch_extras for r in runs_]
    sampled = [(e.split, e.sample_size) for ex in extras for e in ex]
    assert sampled == [("validation", 6)] * 2  # 10% of the 60 training images
    best = [max(e.accuracy for e in ex) for ex in extras]
    assert list(table["best val accuracy (6 images)"]) == [round(b, 4) for b in best]
    scored = [r.results.accuracy for r in runs_]  # whole test set, kept
    assert list(table["test (whole set)"]) == [f"{v:.4f}" for v in scored]  # text: or why not
    at.selectbox(key="compare_metric").set_value("test_accuracy").run()  # a test score
    table = next(d.value for d in at.dataframe if "run" in d.value.columns)
    ranked = sorted(scored, reverse=True)
    assert list(table["test accuracy ↑"]) == [round(v, 4) for v in ranked]


def test_a_run_started_before_the_last_one_was_scored_shows_its_progress_first(
    data_dir: Path,
) -> None:
    write_tiny_mnist(data_dir)
    at = train_page("mnist")
    first = start_and_wait(at, units=8, epochs=1, batch_size=16, train_size=0, cell="GRU")
    first.results, first.results_version = None, -1  # Start came before its scoring rerun
    at.session_state["mnist.epochs"] = 200  # the budget's most: trains until stopped
    at.session_state["mnist.cell"] = "LSTM"  # another model (an identical spec reuses the first)
    next(b for b in at.button if "Start training" in b.label).click().run()
    second = at.session_state["current"]
    try:
        wait_until(lambda: second.job.snapshot().batch_logs, 120, 0.1, "the second run's batch")
        at.run()  # the page while the second run trains: its progress, no scoring of the first
        assert second.job.snapshot().active and first.results is None
        table = next(d.value for d in at.dataframe if "run" in d.value.columns)
        assert "not scored" in list(table["test (whole set)"])
    finally:
        second.job.stop()
    wait_until(lambda: not second.job.snapshot().active, 120, 0.1, "the second run to stop")
    at.run()  # nothing trains: now the first run is scored too
    assert not at.exception, at.exception
    assert first.results is not None and first.scored()


def test_missing_data_says_what_and_how_and_addition_still_works(data_dir: Path) -> None:
    at = train_page("mnist")
    assert "`mnist.npz` ✗ missing" in texts(at)
    next(b for b in at.button if "Start training" in b.label).click().run()
    assert not at.exception
    (error,) = at.error
    assert "mnist.npz" in error.value and str(data_dir) in error.value
    assert f"python -m rnn_core fetch --data-dir {data_dir}" in error.value
    assert "RNN_LAB_DATA_DIR" in error.value
    assert "current" not in at.session_state
    at.selectbox(key="task").set_value("addition").run()
    assert not at.exception and not at.error
    assert any(s.key == "addition.digits" for s in at.slider)
    start = next(b for b in at.button if "Start training" in b.label)
    assert not start.disabled


def test_task_presets_load_into_the_form(data_dir: Path) -> None:
    from rnn_core.presets import PRESETS

    at = train_page("imdb")
    names = at.selectbox(key="imdb.preset").options
    assert any(n.startswith("seed000-imdb-dense") for n in names)
    assert not any(n.startswith("mnist") or n.startswith("addition") for n in names)
    at.selectbox(key="imdb.preset").set_value("seed000-imdb-dense").run()
    spec = PRESETS["seed000-imdb-dense"].spec
    s = {k.removeprefix("imdb."): v for k, v in at.session_state.items()}
    assert (s["cell"], s["units"], s["embedding_dim"]) == ("Dense", 32, 16)
    assert (s["maxlen"], s["optimizer"], s["epochs"]) == (30, "rmsprop", 10)
    assert s["train_size"] == 0 and spec.data.train_size is None  # "all" in the form
    assert at.selectbox(key="imdb.train_size").value == 0
    assert "Source reports: about 77% test accuracy" in texts(at)
    at.selectbox(key="task").set_value("mnist").run()  # a new task starts from its defaults
    assert at.session_state["mnist.preset"] == "(custom)"
    assert at.session_state["mnist.train_size"] == 5_000


def test_a_preset_edited_in_the_form_no_longer_shows_its_figures() -> None:
    from rnn_core.presets import PRESETS

    at = train_page("addition")
    at.selectbox(key="addition.preset").set_value("addition-fast").run()
    measured = PRESETS["addition-fast"].measured
    assert measured and measured in texts(at)
    at.number_input(key="addition.seed").set_value(7).run()  # another seed: the same setup
    assert measured in texts(at) and "Edited from" not in texts(at)
    at.number_input(key="addition.units").set_value(64).run()
    assert not at.exception
    assert measured not in texts(at) and "Source reports" not in texts(at)
    assert "Edited from addition-fast (units changed)" in texts(at)
    at.number_input(key="addition.units").set_value(128).run()  # back to the preset's value
    assert measured in texts(at) and "Edited from" not in texts(at)


def test_the_xla_box_follows_the_preset_and_refuses_batching_by_length() -> None:
    from rnn_core.links import from_query

    at = train_page("mnist")
    at.selectbox(key="mnist.preset").set_value("seed004-mnist-simplernn").run()
    assert at.checkbox(key="mnist.jit_compile").value is False
    at.selectbox(key="mnist.preset").set_value("mnist-fast").run()
    assert at.checkbox(key="mnist.jit_compile").value is True
    at.checkbox(key="mnist.jit_compile").uncheck().run()
    assert "Edited from mnist-fast (jit_compile changed)" in texts(at)
    link = {k: v for k, v in at.query_params.items() if k != "tab"}
    assert from_query(link).train.jit_compile is False
    at.selectbox(key="task").set_value("imdb").run()
    at.checkbox(key="imdb.batch_by_length").check().run()
    at.checkbox(key="imdb.jit_compile").check().run()
    next(b for b in at.button if "Start training" in b.label).click().run()
    assert not at.exception, at.exception
    assert any("XLA compiles one program per batch shape" in e.value for e in at.error)
    assert at.checkbox(key="imdb.jit_compile").value  # nothing lost
    assert at.checkbox(key="imdb.batch_by_length").value
    assert "current" not in at.session_state


def test_older_files_per_epoch_accuracy_is_labelled_recorded_on_test() -> None:
    from types import SimpleNamespace

    from pages.common import sample_accuracy_label
    from rnn_core.tasks.mnist import MnistTask

    old = json.loads((APP.parent / "assets" / "mnist-lstm.json").read_text())["history"]
    reports = tuple(MnistTask().report_from_plain(e) for e in old["epoch_extras"])

    def record(extras: tuple, y_val: object) -> SimpleNamespace:
        job = SimpleNamespace(snapshot=lambda: SimpleNamespace(epoch_extras=extras))
        return SimpleNamespace(job=job, data=SimpleNamespace(y_val=y_val))

    n = reports[-1].sample_size
    label = sample_accuracy_label(record(reports, None), 2_000, "images")
    assert label == f"test accuracy ({n:,} images, recorded)"
    assert sample_accuracy_label(record((), np.zeros(30)), 20, "images") == (
        "val accuracy (20 images)"
    )  # before the first epoch: the sample the hook will score
