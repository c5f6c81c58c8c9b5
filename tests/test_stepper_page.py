"""AppTest of "Inside the RNN": stepping, random weights without TensorFlow, trained runs.

The page runs under a small router (written to tmp_path, with ``pages`` linked next to it) that
registers it beside the Train page, so its link to the Train page resolves as in the app.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.stepper import numpy_rnn as nr
from rnn_core.stepper.sources import random_input

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 60  # TensorFlow's import alone takes seconds; AppTest's default is 3 s
ROUTER = """
import streamlit as st
st.navigation([
    st.Page("pages/stepper.py", title="Inside the RNN", default=True),
    st.Page("pages/train.py", title="Train"),
]).run()
"""


@pytest.fixture
def router(tmp_path: Path) -> Path:
    """A router script beside a link to the repo's pages/ folder."""
    (tmp_path / "pages").symlink_to(REPO / "pages")
    path = tmp_path / "router.py"
    path.write_text(ROUTER)
    return path


def _open(router: Path) -> AppTest:
    at = AppTest.from_file(str(router), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception


def _equation(at: AppTest) -> str:
    (tex,) = [x.value for x in at.latex]
    return tex


def test_random_mode_steps_forward_and_back(router: Path) -> None:
    at = _open(router)
    info = " ".join(i.value for i in at.info)
    assert "Why every unit saturates" in info and "exactly 1.0" in info
    code = " ".join(c.value for c in at.code)  # the show-code expander: the step function
    assert "def step(" in code and "def _core(" in code
    lens = " ".join(m.value for m in at.markdown)
    assert "The gradient of the layer on screen is exactly 0 at every timestep" in lens
    assert at.slider(key="stp_t").value == 0
    # the page's numbers are seed 001's demo: compare the written h_t with NumPy's forward pass
    demo = random_input("simple_rnn", "uniform01")
    h = nr.forward(list(demo.layers), demo.x)[0].h  # (T, H)
    assert f"= {h[0, 0]:.3f}" in _equation(at)
    _click(at, "Next")
    assert at.slider(key="stp_t").value == 1
    assert any(m.value.startswith("**t = 1** (step 2 of 100)") for m in at.markdown)
    assert _equation(at).removesuffix("\\end{aligned}\n$$").endswith("= 1.000")
    _click(at, "Next")
    _click(at, "Previous")
    assert at.slider(key="stp_t").value == 1
    at.slider(key="stp_t").set_value(57).run()
    at.number_input(key="stp_unit").set_value(5).run()
    assert not at.exception
    assert "h_t[5]" in _equation(at)
    assert any(m.value.startswith("**t = 57**") for m in at.markdown)
    _click(at, "Previous")
    assert at.slider(key="stp_t").value == 56
    # the end of the sequence: Next is disabled
    at.slider(key="stp_t").set_value(99).run()
    assert next(b for b in at.button if b.label == "Next").disabled


def test_cells_gates_and_play(router: Path) -> None:
    at = _open(router)
    at.selectbox(key="stp_cell").set_value("LSTM").run()
    at.radio(key="stp_scheme").set_value("keras_default").run()
    assert not at.exception
    tex = _equation(at)
    for name in ("i_t", "f_t", r"\tilde c_t", "o_t", "c_t", "h_t"):
        assert f"{name}[0]" in tex
    assert any("Gates and states over time" in m.value for m in at.markdown)
    assert any("4·(F+H+1)·H = 4·(32+64+1)·64 = 24,832" in m.value for m in at.markdown)
    at.selectbox(key="stp_cell").set_value("GRU").run()
    assert "b'_z" in _equation(at)
    at.checkbox(key="stp_reset_after").uncheck().run()
    assert "b'_z" not in _equation(at) and r"r_t \odot h_{t-1}" in _equation(at)
    assert any("3·(F+H+1)·H" in m.value for m in at.markdown)
    _click(at, "Play")
    assert at.session_state["stp_playing"]
    assert any(b.label == "Pause" for b in at.button)
    _click(at, "Pause")
    assert not at.session_state["stp_playing"]


def test_a_pause_press_delivered_twice_pauses_once(router: Path) -> None:
    """Streamlit can deliver one press twice (it replays a trigger whose run a rerun cut
    short); the second delivery of Pause must not start Play again."""
    at = _open(router)
    _click(at, "Play")
    pause = next(b for b in at.button if b.label == "Pause")
    pause.click().run()
    assert not at.session_state["stp_playing"]
    pause.click().run()  # the same press again, after the page has redrawn
    assert not at.exception
    assert not at.session_state["stp_playing"]
    assert any(b.label == "Play" for b in at.button)


def test_reset_after_box_is_unticked_for_cells_without_a_reset_gate(router: Path) -> None:
    """LSTM and SimpleRNN show the GRU box disabled and unticked; GRU gets its choice back."""
    at = _open(router)

    def box() -> object:
        (found,) = [c for c in at.checkbox if c.label == "GRU reset_after"]
        return found

    at.selectbox(key="stp_cell").set_value("GRU").run()
    assert box().value is True and not box().disabled
    at.selectbox(key="stp_cell").set_value("LSTM").run()
    assert box().value is False and box().disabled
    at.selectbox(key="stp_cell").set_value("GRU").run()
    assert box().value is True and not box().disabled


def test_random_mode_does_not_import_tensorflow(router: Path) -> None:
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(router)!r}, default_timeout=60)\n"
        "at.run()\n"
        "next(b for b in at.button if b.label == 'Next').click().run()\n"
        "at.selectbox(key='stp_cell').set_value('GRU').run()\n"
        "at.slider(key='stp_t').set_value(40).run()\n"
        "assert not at.exception, at.exception\n"
        "assert len(at.latex) == 1\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_no_trained_model_points_to_the_train_page(router: Path) -> None:
    at = _open(router)
    at.radio(key="stp_source").set_value("A model trained this session").run()
    assert not at.exception
    assert any("No recurrent model has been trained" in i.value for i in at.info)
    assert len(at.get("page_link")) == 1
    assert not at.latex  # nothing to step through


def _trained_record(task: str, cell: str, layers: int, pooling: str = "last") -> object:
    """A Run whose job trained a tiny model for one epoch with the real engine."""
    from rnn_core.engine import job as training
    from tests import tiny_classifiers as tiny

    x, y, data = tiny.imdb_data() if task == "imdb" else tiny.mnist_data()
    spec = tiny.spec(task, cell, 6, layers, pooling=pooling)
    model = tiny.build(spec)
    job = training.TrainingJob(model, (x, y), None, spec.train)
    job.start()
    assert job.wait(90).state == "done"
    name = f"{cell} 6×{layers}"
    from rnn_core.run import Run
    from rnn_core.tasks import get_task

    params = int(model.count_params())
    return Run(name, spec, get_task(task), job, params, data)


@pytest.mark.slow  # long: trains two models
def test_trained_runs_injected(router: Path) -> None:
    imdb = _trained_record("imdb", "LSTM", 1)
    mnist = _trained_record("mnist", "GRU", 2)
    at = AppTest.from_file(str(router), default_timeout=TIMEOUT)
    at.session_state["runs"] = [imdb, mnist]
    at.run()
    at.radio(key="stp_source").set_value("A model trained this session").run()
    assert not at.exception
    # the newest run is picked first: the MNIST digit reader, two GRU layers
    text = " ".join(m.value for m in at.markdown)
    assert "The model's final prediction:" in text and "true digit is" in text
    assert any("NumPy vs Keras on this input" in s.value for s in at.success)
    diff = float(next(s.value for s in at.success if "NumPy vs Keras" in s.value).split("**")[1])
    assert diff <= 1e-5
    counts = re.findall(r"= ([\d,]+)\. Keras's count_params\(\) for this layer: ([\d,]+)\.", text)
    assert len(counts) == 2 and all(ours == theirs for ours, theirs in counts)  # two GRU layers
    assert at.radio(key="stp_layer").options == ["layer 1 (6 units)", "layer 2 (6 units)"]
    at.radio(key="stp_layer").set_value(1).run()
    assert any("reads h_t of layer 1" in m.value for m in at.markdown)
    _click(at, "Next")
    assert at.slider(key="stp_t").value == 1
    assert any("reads h_t of layer 1 (the layer below) at t = 1" in m.value for m in at.markdown)
    at.radio(key="stp_layer").set_value(0).run()
    assert any("reads pixel **row 1** of the image" in m.value for m in at.markdown)
    # the IMDB run: starts at the review's first word, words coloured by the unit
    at.selectbox(key="stp_run").set_value(0).run()
    assert not at.exception
    case = at.session_state["stp_trained_case"]
    first = case.inp.span[0]
    assert at.slider(key="stp_t").value == first
    assert any(m.value.startswith(f"**t = {first}**") for m in at.markdown)
    assert any("reads the word **<START>**" in m.value for m in at.markdown)
    html = [e.proto.body for e in at.get("html") if not e.proto.body.startswith("<style>")]
    assert len(html) == 1 and html[0].count("<span") == case.inp.span[1] - first
    _click(at, "Next")
    word = case.inp.labels[first + 1]
    assert any(f"reads the word **{word}**" in m.value for m in at.markdown)
    tex = _equation(at)
    h = case.traces[0].h[first + 1, 0]
    assert tex.removesuffix("\\end{aligned}\n$$").endswith(f"= {h:.3f}")
    assert "P(positive) = **" in " ".join(m.value for m in at.markdown)
    assert np.isfinite(case.lens["the trained model"]).all()


def test_a_model_reading_max_and_mean_is_explained_with_both(router: Path) -> None:
    at = AppTest.from_file(str(router), default_timeout=TIMEOUT)
    at.session_state["runs"] = [_trained_record("imdb", "GRU", 1, pooling="max+mean")]
    at.run()
    at.radio(key="stp_source").set_value("A model trained this session").run()
    assert not at.exception
    lens = at.session_state["stp_trained_case"].inp.lens
    assert lens.pooling == "max+mean" and lens.readout.shape == (12,)
    captions = " ".join(c.value for c in at.caption)
    assert "Max+mean pooling: the Dense head reads, for each unit, its largest h_t" in captions
    assert "before the last step, their h_T gets only its 1/T share, through the mean." in captions
    assert "the max's share enters only at the timestep" in captions
