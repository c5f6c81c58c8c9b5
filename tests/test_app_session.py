"""AppTest: open a session file from the sidebar, import a model on the Stepper and Text pages;
a refused file is one error line and the session's runs stay as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tiny_spec

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds; AppTest's default is 3 s
CATS = " ".join(["the cat sat on a mat and ran home"] * 60)


def _trained(spec: Any, load_data: Any = None) -> Any:
    """A run of ``spec`` trained one epoch in this process and scored."""
    from rnn_core.run import start_run

    run = start_run(spec, None, load_data, in_process=True)
    run.job.start(1)
    assert run.job.wait(120).state == "done"
    run.score()
    return run


@pytest.fixture(scope="module")
def adder() -> Any:
    """A tiny trained addition run."""
    return _trained(tiny_spec("GRU"))


@pytest.fixture(scope="module")
def writer() -> Any:
    """A tiny trained character model over an in-memory corpus."""
    from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
    from rnn_core.data.corpus import Corpus

    cfg = TextConfig(corpus="cats", maxlen=8, step=4, temperatures=(0.5,), sample_length=10)
    spec = RunSpec("text", cfg, ModelConfig(cell="GRU", units=8, embedding_dim=4), TrainConfig())
    return _trained(spec, lambda task, c: task.make_data(c, Corpus("cats", CATS, "test")))


def _app(page: str, runs: list[Any]) -> AppTest:
    """The app on ``page`` with these runs in the session."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tx_source"] = "python-docs"  # the Text page: no download
    at.session_state["runs"] = list(runs)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


SIDEBAR = """
import streamlit as st
from pages._chrome import sidebar_chrome


def empty() -> None:
    st.write("a page")


page = st.navigation([st.Page(empty, title="Page")])
sidebar_chrome()
page.run()
"""  # the app's sidebar under a function page: AppTest drops a file page's sidebar on reruns


@pytest.mark.slow  # long: trains, then pages read it back
def test_open_a_session_file_from_the_sidebar(adder, tmp_path: Path) -> None:
    from rnn_core.session_file import write_session

    blob = write_session([adder])
    other = _trained(tiny_spec("LSTM"))  # this session's own run, which must survive
    (tmp_path / "pages").symlink_to(APP.parent / "pages")
    (tmp_path / "router.py").write_text(SIDEBAR)
    at = AppTest.from_file(str(tmp_path / "router.py"), default_timeout=TIMEOUT)
    at.session_state["runs"] = [other]
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.sidebar.get("download_button")] == ["Save this session"]
    assert "1 run(s) in the file." in [c.value for c in at.sidebar.caption]

    at.sidebar.file_uploader(key="sf_upload_0").upload("broken.zip", blob[:200]).run()
    assert not at.exception, at.exception
    assert _errors(at) == ["**broken.zip** was not opened: it is not a zip archive, so not an "
                           "RNN Lab session file."]  # fmt: skip
    assert at.session_state["runs"] == [other]  # nothing lost, nothing added
    assert not at.sidebar.file_uploader(key="sf_upload_1").value  # the refused file is gone

    at.sidebar.file_uploader(key="sf_upload_1").upload("mine.rnnlab.zip", blob).run()
    assert not at.exception, at.exception
    assert not _errors(at)
    runs = at.session_state["runs"]
    assert runs[0] is other and len(runs) == 2
    back = runs[1]
    assert back.origin == "imported" and back.name == adder.name
    assert at.session_state["current"] is back  # the Train page shows it
    assert back.job.snapshot().epoch_logs == adder.job.snapshot().epoch_logs
    assert back.score().scores() == adder.results.scores()  # scored again here: the same
    assert [s.value for s in at.sidebar.success] == [
        f"Opened **mine.rnnlab.zip**: 1 run(s) added to this session ({adder.name})."
    ]
    assert "2 run(s) in the file." in [c.value for c in at.sidebar.caption]
    back.job.start(1)  # Train more (the button's call) continues the restored copy
    assert back.job.wait(120).state == "done" and back.job.snapshot().epoch == 2


def test_stepper_imports_a_model_and_refuses_a_foreign_one(trained_tiny_run) -> None:
    """The session's trained tiny addition run (conftest), exported and imported."""
    from rnn_core.export import model_bytes
    from rnn_core.run_file import keras_export

    adder = trained_tiny_run
    at = _app("pages/stepper.py", [])
    at.radio(key="stp_source").set_value("A model trained this session").run()
    at.file_uploader(key="stp_import_0").upload("plain.keras", model_bytes(adder.job.model)).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    (error,) = _errors(at)
    assert error.startswith("**plain.keras** was not opened: plain.keras was not exported by RNN")
    assert at.session_state["runs"] == []

    at.file_uploader(key="stp_import_1").upload("adder.keras", keras_export(adder)).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    assert not _errors(at)
    (run,) = at.session_state["runs"]
    assert run.origin == "imported" and run.spec == adder.spec
    assert at.session_state["stp_trained_case"].key[1] == id(run)  # the stepper reads it
    assert any("NumPy vs Keras on this input" in s.value for s in at.success)


@pytest.mark.slow  # long: trains, then pages read it back
def test_text_page_imports_a_model_with_its_alphabet(writer, adder) -> None:
    from rnn_core.run_file import keras_export
    from rnn_core.tasks.text import sidecar_json

    blob, alphabet = keras_export(writer), sidecar_json(writer.data).encode()
    at = _app("pages/text.py", [])
    at.file_uploader(key="tx_import_0").upload("adder.keras", keras_export(adder)).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    assert _errors(at) == [
        "**adder.keras** was not opened: it is a model of the addition task, not a text model."
    ]
    at.file_uploader(key="tx_import_1").upload("cats.keras", blob).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    (error,) = _errors(at)
    assert "is a text model: add its alphabet file" in error
    assert at.session_state["runs"] == []

    at.file_uploader(key="tx_import_2").upload("cats.keras", blob).upload(
        "cats.keras.vocab.json", alphabet
    ).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    assert not _errors(at)
    run = at.session_state["tx_current"]
    assert run.origin == "imported" and run.data.vocab.chars == writer.data.vocab.chars
    assert "generates from its saved alphabet" in run.note  # no corpus here: generation only
    assert any("Continue" in t.label or "seed" in t.label.lower() for t in at.text_input)


@pytest.mark.slow  # long: trains, then pages read it back
def test_train_page_shows_a_run_without_its_data(adder) -> None:
    """A released run (or one opened where its dataset is not) shows curves and its figure."""
    from rnn_core.run_file import run_to_file

    run = _trained(tiny_spec("GRU"))
    run.release()
    assert run.data is None and run.job.model is None
    assert run_to_file(run) is run.kept  # saved again from the copy kept at release
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["runs"] = [run]
    at.session_state["current"] = run
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert any(f"Run: {run.name}" in h.value for h in at.subheader)
    captions = " ".join(c.value for c in at.caption)
    assert "measured after epoch 1. Its dataset is not loaded here" in captions
