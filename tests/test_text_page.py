"""AppTest: the Text generation page trains a tiny model on a slice of the Python docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tx_source"] = "python-docs"  # no download, no data directory
    at.run()
    at.switch_page("pages/text.py").run()
    assert not at.exception, at.exception
    return at


def _wait_done(at: AppTest, seconds: float = 120) -> object:
    job = at.session_state["tx_current"].job
    wait_until(lambda: not job.snapshot().active, seconds, 0.1, "the run to finish")
    return job.snapshot()


def test_page_shows_corpus_and_form_without_training(page: AppTest) -> None:
    assert page.title[0].value == "Text generation"
    captions = " ".join(c.value for c in page.caption)
    assert "pydoc_data" in captions and "distinct" in captions
    assert page.session_state["tx_temperatures"] == [0.2, 0.5, 1.0, 1.2]
    assert "tx_current" not in page.session_state


def test_tiny_run_samples_every_epoch_generates_and_is_compared_with_a_second(
    page: AppTest,
) -> None:
    for key, value in {
        "tx_max_chars": 20_000, "tx_units": 16, "tx_maxlen": 20, "tx_step": 10,
        "tx_epochs": 2, "tx_sample_length": 60, "tx_temperatures": [0.0, 1.0],
    }.items():  # fmt: skip
        page.session_state[key] = value
    start = next(b for b in page.button if "Start training" in b.label)
    start.click().run()
    assert not page.exception, page.exception
    snap = _wait_done(page)
    assert snap.state == "done" and snap.epoch == 2
    page.run()
    assert not page.exception, page.exception
    tiles = {m.label: m.value for m in page.metric}
    assert tiles["epochs done"] == "2" and 0 <= float(tiles["word validity (T=0.5)"]) <= 1
    # the last validation figure, then the test half's (scored once training stopped) of the
    # RNN beside the counting n-gram's, each tile naming its split
    extras, run = snap.epoch_extras, page.session_state["tx_current"]
    assert float(tiles["validation bits/char (epoch 2)"]) == pytest.approx(
        extras[-1].bits_per_char, abs=6e-4
    )
    assert run.scored() and run.results.headline[0] == "test bits/char"
    rnn, ngram = (float(v) for k, v in tiles.items() if k.startswith("test bits/char"))
    assert rnn == pytest.approx(run.results.bits_per_char, abs=6e-4)
    assert ngram == pytest.approx(run.data.ngram_test_bits, abs=6e-4) and ngram > 0
    assert ngram != pytest.approx(extras[-1].ngram_bits_per_char, abs=1e-6)  # another half
    captions = " ".join(c.value for c in page.caption)
    assert f"over {extras[-1].words_scored} generated words" in captions  # its sample size
    # how both figures read their half: straight through, for the RNN and the n-gram alike
    assert (
        "The validation and test figures score every character, read straight through" in (captions)
        and "the 5-gram scores the same characters" in captions
    )
    assert "Your RNN vs counting" in captions and "carry mode" in " ".join(
        m.value for m in page.markdown
    )
    # one word-validity figure on the page (issue 18 item 7): no per-sample percentages
    texts = " ".join(m.value for m in page.markdown)
    assert "real words" not in texts and texts.count("word validity") == 0
    assert [e.epoch for e in extras] == [1, 2] and extras[0].seed == extras[1].seed
    assert all(len(s) == 60 for e in extras for s in e.samples)
    texts = " ".join(m.value for m in page.markdown)
    assert "After epoch 2" in texts and "T = 0" in texts and "T = 1" in texts
    # the timeline scrubs back to epoch 1 and stops following new epochs
    timeline = next(s for s in page.select_slider if "Timeline" in s.label)
    timeline.set_value(1).run()
    assert "After epoch 1" in " ".join(m.value for m in page.markdown)

    # own seed with characters outside the alphabet: reported, the rest is continued
    page.text_area(key="tx_own_seed").set_value("the list €€ of ☃ items")
    page.select_slider(key="tx_own_t").set_value(0.0)
    next(b for b in page.button if b.label == "Generate").click().run()
    assert not page.exception, page.exception
    warning = " ".join(w.value for w in page.warning)
    assert "'€'" in warning and "'☃'" in warning

    # temperature explorer: the bars follow the log-scale slider, 0 = argmax
    page.select_slider(key="tx_ctx_t").set_value(0.05).run()
    assert not page.exception, page.exception
    assert any("bits" in c.value for c in page.caption)

    # a second, smaller run: the two are compared by the metric picked, best first (one more
    # training, not two: a model's first fit costs seconds of tracing)
    records = [page.session_state["tx_current"]]
    for key, value in {
        "tx_units": 4, "tx_step": 40, "tx_epochs": 1, "tx_sample_length": 30,
    }.items():  # fmt: skip
        page.session_state[key] = value
    next(b for b in page.button if "Start training" in b.label).click().run()
    _wait_done(page)
    records.append(page.session_state["tx_current"])
    assert records[1] is not records[0]
    page.run()
    assert not page.exception, page.exception
    picker = page.selectbox(key="tx_compare_metric")
    assert picker.value == "val_loss"  # the text task's own measure first
    table = next(d.value for d in page.dataframe if "best val loss ↓" in d.value.columns)
    best = sorted(min(r.job.history()["val_loss"]) for r in records)  # lower is better
    assert list(table["best val loss ↓"]) == [round(v, 4) for v in best]
    picker.set_value("val_accuracy").run()
    assert not page.exception, page.exception
    table = next(d.value for d in page.dataframe if "best val accuracy ↑" in d.value.columns)
    best = sorted((max(r.job.history()["val_accuracy"]) for r in records), reverse=True)
    assert list(table["best val accuracy ↑"]) == [round(v, 4) for v in best]
    assert "Best first by val accuracy (higher is better)." in [c.value for c in page.caption]


def test_the_fast_preset_ticks_xla_and_the_keras_preset_does_not(page: AppTest) -> None:
    assert page.checkbox(key="tx_jit_compile").label == "Compile with XLA"
    page.selectbox(key="tx_preset").set_value("text-fast").run()
    assert page.checkbox(key="tx_jit_compile").value is True
    page.selectbox(key="tx_preset").set_value("seed003-text-keras").run()
    assert not page.exception, page.exception
    assert page.checkbox(key="tx_jit_compile").value is False


def test_keras_preset_samples_in_window_mode(page: AppTest) -> None:
    page.selectbox(key="tx_preset").set_value("seed003-text-keras").run()
    assert not page.exception, page.exception
    assert page.session_state["tx_window_sampling"] is True
    assert page.session_state["tx_every_position"] is False
    for key, value in {
        "tx_max_chars": 20_000, "tx_units": 8, "tx_maxlen": 12, "tx_step": 24,
        "tx_epochs": 1, "tx_sample_length": 30, "tx_batch_size": 128,
    }.items():  # fmt: skip
        page.session_state[key] = value
    next(b for b in page.button if "Start training" in b.label).click().run()
    assert not page.exception, page.exception
    record = page.session_state["tx_current"]
    assert record.spec.data.window_sampling is True
    snap = _wait_done(page)
    assert snap.epoch_extras[-1].mode == "window 12"
    page.run()
    texts = " ".join(m.value for m in page.markdown)
    assert "window 12 mode: the last 12 characters are re-read" in texts


def test_refused_settings_keep_the_page_alive(page: AppTest) -> None:
    page.session_state["tx_max_chars"] = 20_000
    page.session_state["tx_seed_text"] = "snowman ☃"
    next(b for b in page.button if "Start training" in b.label).click().run()
    assert not page.exception, page.exception
    assert any("☃" in e.value for e in page.error)
    assert "tx_current" not in page.session_state


@pytest.mark.slow  # long: a training
def test_a_released_run_keeps_its_curves_and_samples(page: AppTest) -> None:
    for key, value in {
        "tx_max_chars": 20_000, "tx_units": 8, "tx_maxlen": 20, "tx_step": 40,
        "tx_epochs": 1, "tx_sample_length": 30,
    }.items():  # fmt: skip
        page.session_state[key] = value
    next(b for b in page.button if "Start training" in b.label).click().run()
    _wait_done(page)
    record = page.session_state["tx_current"]
    record.release()  # what pages.common.free_old_models does to older runs
    assert record.data is None and record.job.released
    page.run()
    assert not page.exception, page.exception
    assert "After epoch 1" in " ".join(m.value for m in page.markdown)  # samples are kept
    assert any("start a new run" in c.value for c in page.caption)
