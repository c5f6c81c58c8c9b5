"""Share links on the Text and stepper pages: a link fills the page, other keys are ignored, a
bad value is refused in one line with nothing lost, the address bar follows the page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.links import from_query, stepper_from_query, stepper_query, to_query
from rnn_core.stepper.settings import StepperSettings

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # a loaded machine; the text page imports no TensorFlow until Start
NOISE = {"utm_source": "lms", "utm_campaign": "week3", "embed": "true", "lti_launch": "1"}


def _open(page: str, query: dict[str, str], state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _bar(at: AppTest) -> dict[str, str]:
    """The address bar's parameters without the tab's private key."""
    bar = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    bar.pop("tab", None)
    return bar


def _share(at: AppTest) -> dict[str, str]:
    """The query of the page's share link (AppTest has no host: the link starts with '?')."""
    code = next(c.value for c in at.code if c.value.startswith("?"))
    assert "tab=" not in code
    return dict(parse_qsl(code[1:]))


TEXT = RunSpec(
    task="text",
    data=TextConfig(
        corpus="python-docs", maxlen=30, step=5, temperatures=(0.5, 1.5), sample_length=220,
        seed_text="def ", window_sampling=True, max_chars=50_000, lowercase=False,
    ),
    model=ModelConfig(cell="GRU", units=72, layers=2, embedding_dim=16),
    train=TrainConfig(epochs=4, batch_size=64, learning_rate=0.004, patience=2),
)  # fmt: skip


def test_a_text_link_fills_corpus_model_and_sampling_and_the_page_shares_it() -> None:
    at = _open("pages/text.py", to_query(TEXT) | NOISE)
    s = {k.removeprefix("tx_"): v for k, v in at.session_state.items() if k.startswith("tx_")}
    assert (s["source"], s["lowercase"], s["max_chars"]) == ("python-docs", False, 50_000)
    assert (s["cell"], s["units"], s["layers"], s["embedding_dim"]) == ("GRU", 72, 2, 16)
    assert (s["maxlen"], s["step"], s["epochs"], s["patience"]) == (30, 5, 4, 2)
    assert (s["temperatures"], s["sample_length"], s["seed_text"]) == ([0.5, 1.5], 220, "def ")
    assert s["window_sampling"] is True
    assert not at.warning  # utm_*, embed and an LMS's keys are no error
    shared = _share(at)
    assert from_query(shared) == from_query(_bar(at))
    assert (from_query(shared).model, from_query(shared).train) == (TEXT.model, TEXT.train)
    assert not set(NOISE) & set(shared)


def test_a_text_link_made_with_an_upload_asks_for_the_file() -> None:
    spec = RunSpec("text", TextConfig(corpus="upload:my_notes.txt"), ModelConfig(), TrainConfig())
    at = _open("pages/text.py", to_query(spec))
    assert at.session_state["tx_source"] == "upload"
    note = " ".join(i.value for i in at.info)
    assert "my_notes.txt" in note and "never carries a file's text" in note


def test_a_bad_text_link_is_refused_in_one_line_and_the_form_keeps_its_values() -> None:
    at = _open("pages/text.py", {}, {"tx_source": "python-docs"})
    at.number_input(key="tx_units").set_value(200).run()
    at.query_params.update({"task": "text", "m.units": "lots", "m.layers": "3"})
    at.run()
    assert not at.exception, at.exception
    (warning,) = [w.value for w in at.warning]
    assert "m.units='lots' is not a valid int" in warning and "\n" not in warning
    assert at.session_state["tx_units"] == 200 and at.session_state["tx_layers"] == 1


def test_only_foreign_keys_leave_the_train_form_as_it_is() -> None:
    at = _open("pages/train.py", {})
    at.number_input(key="addition.units").set_value(77).run()
    at.query_params.clear()
    at.query_params.update(NOISE)
    at.run()
    assert not at.exception and not at.warning
    assert at.session_state["addition.units"] == 77


def test_a_stepper_link_opens_that_cell_seed_timestep_and_unit() -> None:
    settings = StepperSettings(cell="LSTM", scheme="keras_default", timesteps=60, seed=7, t=42)
    at = _open("pages/stepper.py", stepper_query(settings) | {"unit": "5"} | NOISE)
    s = at.session_state
    assert (s["stp_cell"], s["stp_scheme"], s["stp_timesteps"], s["stp_seed"]) == (
        "LSTM", "keras_default", 60, 7,
    )  # fmt: skip
    assert (s["stp_t"], s["stp_unit"]) == (42, 5)
    assert any(m.value.startswith("**t = 42**") for m in at.markdown)
    assert not at.warning
    assert stepper_from_query(_share(at)) == stepper_from_query(_bar(at))
    assert stepper_from_query(_bar(at)) == StepperSettings(
        cell="LSTM", scheme="keras_default", timesteps=60, seed=7, t=42, unit=5
    )
    next(b for b in at.button if b.label == "Next").click().run()
    assert stepper_from_query(_bar(at)).t == 43  # the address bar follows the stepper


def test_a_stepper_link_past_the_end_is_clamped_and_a_bad_one_keeps_the_view() -> None:
    at = _open("pages/stepper.py", {"timesteps": "20", "t": "999"})
    assert at.session_state["stp_t"] == 19
    at.query_params.update({"cell": "Transformer", "t": "3"})
    at.run()
    (warning,) = [w.value for w in at.warning]
    assert "cell must be one of SimpleRNN, LSTM, GRU, got 'Transformer'" in warning
    assert (at.session_state["stp_timesteps"], at.session_state["stp_t"]) == (20, 19)


@pytest.mark.slow  # long: a training
def test_a_finished_runs_curves_are_also_a_table() -> None:
    at = _open("pages/train.py", {"preset": "addition-tiny"})
    at.number_input(key="addition.epochs").set_value(2).run()
    at.button(key="train_start").click().run()
    record = at.session_state["current"]
    record.job.wait(240)
    at.run()
    assert not at.exception, at.exception
    logs = record.job.snapshot().epoch_logs
    (table,) = [d.value for d in at.dataframe if "val loss" in d.value.columns]
    assert list(table["epoch"]) == [1, 2]
    assert list(table["val loss"]) == [round(log["val_loss"], 4) for log in logs]
    assert list(table["train accuracy"]) == [round(log["accuracy"], 4) for log in logs]
    scores = [round(r.score, 4) for r in record.job.snapshot().epoch_extras]
    assert list(table["val exact match"]) == scores


def test_an_uploaded_corpus_is_named_in_the_link_but_its_text_never_is() -> None:
    text = "the zebracorn reads every line of this private note twice. " * 200
    good = ("file-1", "private notes.txt", text.encode())
    at = _open("pages/text.py", {}, {"tx_source": "upload", "tx_upload_good": good})
    shared, bar = _share(at), _bar(at)
    assert shared["d.corpus"] == bar["d.corpus"] == "upload:private notes.txt"
    everything = " ".join([*shared.values(), *bar.values()])
    assert "zebracorn" not in everything and "private note twice" not in everything
    lead = " ".join(c.value for c in at.caption)
    assert "never carries its text" in lead
