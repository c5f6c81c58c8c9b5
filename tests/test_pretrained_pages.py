"""AppTest: "Start from a pretrained model" shows results at once on the Train and Text pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import pretrained as snapshots
from rnn_core.tasks import get_task
from tests.conftest import SHARED_DATA
from tests.skip_policy import skip_without_shared

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds


def _shipped(task: str) -> snapshots.Pretrained:
    found = snapshots.list_snapshots(snapshots.ASSETS, task)
    if not found:
        pytest.skip(f"no {task} snapshot in assets/ (see assets/README.md)")
    return found[0]


def _load_pretrained(at: AppTest) -> None:
    button = next(b for b in at.button if b.label == "Load the pretrained model")
    button.click().run()
    assert not at.exception, at.exception


def test_train_page_starts_from_the_addition_snapshot() -> None:
    snap = _shipped("addition")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    offer = next(c.value for c in at.caption if snap.command in c.value)
    recorded = f"exact match {snap.test.exact_match:.3f} as recorded when it was saved"
    assert recorded in offer and "scored again on this machine" in offer
    _load_pretrained(at)
    record = at.session_state["current"]
    assert record.name.endswith("pretrained") and record.pretrained == snap.name
    assert record.origin == "pretrained"
    state = record.job.snapshot()
    assert state.state == "done" and state.epoch == snap.epochs  # no training ran
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["epochs done"] == str(snap.epochs)
    assert float(tiles["test exact match (recorded)"]) == pytest.approx(
        snap.epoch_extras[-1].exact_match, abs=1e-3
    )
    fresh = snapshots.rescore(snap, get_task("addition").make_data(snap.spec.data))
    rescored = f"scored on this machine after epoch {snap.epochs}: **{fresh.exact_match:.3f}**"
    assert any(rescored in m.value for m in at.markdown)  # the copy, scored again on load
    at.text_input[0].input("123+45")  # "ask your own sum": the copy answers at once
    next(b for b in at.button if b.label == "Ask the model").click().run()
    assert not at.exception, at.exception
    answer = " ".join(s.value for s in at.success)
    assert "123+45 = **" in answer and "☑ right" in answer
    weights = record.job.model.get_weights()
    assert all(w.flags.writeable for w in weights)  # the session's own copy, trainable


@pytest.mark.parametrize("with_corpus", [False, True])
def test_text_page_generates_from_the_snapshot_without_training(
    with_corpus: bool, tmp_path: Path
) -> None:
    snap = _shipped("text")
    if with_corpus:
        skip_without_shared("nietzsche.txt")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tx_source"] = "python-docs"  # the form's corpus does not matter
    at.session_state["data_dir"] = str(SHARED_DATA if with_corpus else tmp_path)
    at.run()
    at.switch_page("pages/text.py").run()
    assert not at.exception, at.exception
    offer = next(c.value for c in at.caption if snap.command in c.value)
    assert f"test bits/char {snap.test.bits_per_char:.3f} (test half" in offer  # the split
    _load_pretrained(at)
    record = at.session_state["tx_current"]
    assert record.pretrained == snap.name and record.job.snapshot().epoch == snap.epochs
    assert record.origin == "pretrained" and record.data.vocab.chars == snap.vocab["chars"]
    tiles = {m.label: m.value for m in at.metric}
    if with_corpus:  # the corpus is here: the copy can train more, and is scored again
        assert not record.job.released and "nietzsche" in record.name
        bits = snap.test.bits_per_char  # the JSON's test-half figure, reproduced here
        assert float(tiles["test bits/char: your RNN"]) == pytest.approx(bits, abs=0.005)
        assert 1.5 < float(tiles["test bits/char: counting 5-gram"]) < 3
        # re-scored here, read straight through; its per-epoch curve, if any, as recorded
        assert any(c.value.startswith("The test figures score every character, read straight")
                   or "the test figures score every character, read straight" in c.value
                   for c in at.caption)  # fmt: skip
    else:
        assert tiles["test bits/char: your RNN"] == "—"
        assert any("needs the corpus" in c.value for c in at.caption)
    at.session_state["tx_own_n"] = 50
    next(b for b in at.button if b.label == "Generate").click().run()
    assert not at.exception, at.exception
    assert any("50 characters in" in c.value for c in at.caption)
    labels = [b.label for b in at.get("download_button")]
    assert "Alphabet (.keras.vocab.json)" in labels and "Model (.keras)" in labels


def test_train_page_says_what_it_cannot_score_without_the_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rnn_core.data.loaders import data_status

    _shipped("mnist")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # not this machine's Keras cache
    assert not data_status(tmp_path)["mnist.npz"]
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["task"] = "mnist"
    at.session_state["data_dir"] = str(tmp_path)  # an empty folder
    at.run()
    at.switch_page("pages/train.py").run()
    _load_pretrained(at)
    warning = " ".join(w.value for w in at.warning)
    assert "`mnist.npz` not on this machine" in warning and "python -m rnn_core fetch" in warning
    assert "current" not in at.session_state  # no run without data; the curves are shown
    assert any(c.proto.spec for c in at.get("plotly_chart"))


def test_train_page_labels_older_per_epoch_figures_as_recorded_on_test() -> None:
    skip_without_shared("mnist.npz")
    snap = _shipped("mnist")
    if snap.epoch_extras[-1].split != "test":
        pytest.skip("the shipped MNIST snapshot was saved with validation reports")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["task"] = "mnist"
    at.session_state["data_dir"] = str(SHARED_DATA)
    at.run()
    at.switch_page("pages/train.py").run()
    _load_pretrained(at)
    metrics = {m.label: m.value for m in at.metric}
    n = snap.epoch_extras[-1].sample_size
    label = f"test accuracy ({n:,} images, recorded)"
    assert metrics[label] == f"{snap.epoch_extras[-1].accuracy:.3f}"
    assert not any(label.startswith("val accuracy (") for label in metrics)
