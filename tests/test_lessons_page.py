"""AppTest: the Lessons page lists the lessons and shows a user's result beside the source's."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from rnn_core.lessons import LESSONS, best_validation, lesson_presets, same_setup
from rnn_core.presets import PRESETS

APP = Path(__file__).resolve().parents[1] / "app.py"


class _Job:
    """Stands in for a finished TrainingJob: only what the Lessons page reads."""

    def __init__(self, history: dict[str, list[float]]) -> None:
        self._history = history
        self.model = None  # released (the sidebar's "Save this session" reads it)

    def history(self) -> dict[str, list[float]]:
        return self._history

    def snapshot(self):
        from rnn_core.engine.job import Snapshot

        return Snapshot(state="done", epoch=len(next(iter(self._history.values()))))


def _link(at: AppTest) -> dict[str, str]:
    """The address bar as a share link reads it: without the tab's private key."""
    return {k: v for k, v in at.query_params.items() if k != "tab"}


def _open_lessons(runs: list | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if runs is not None:
        at.session_state["runs"] = runs
    at.run()
    at.switch_page("pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def test_every_lesson_and_preset_is_shown_with_its_source_figure() -> None:
    at = _open_lessons()
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    for lesson in LESSONS:
        assert lesson.title in " ".join(s.value for s in at.subheader)
        for preset in lesson_presets(lesson):
            assert preset.source_result in text
    assert text.count("not run yet in this session") == sum(len(x.presets) for x in LESSONS)
    assert f"{len(LESSONS)} short experiments" in text  # the count follows the lessons


def test_a_run_with_the_preset_setup_shows_its_result() -> None:
    from rnn_core.run import Run
    from rnn_core.tasks import get_task
    from rnn_core.tasks.imdb import ImdbResults

    preset = PRESETS["seed000-imdb-dense"]
    job = _Job({"val_accuracy": [0.7, 0.765], "seconds": [10.2, 20.6]})
    record = Run("Dense 32×1", preset.spec, get_task("imdb"), job, 321, None)
    record.results = ImdbResults(accuracy=0.7712, reviews=25_000)
    at = _open_lessons([record])
    captions = " ".join(c.value for c in at.caption)
    want = "Dense 32×1, 2 epochs: test accuracy 0.771, best val_accuracy 0.765, 21 s of training"
    assert want in captions  # the seconds: what the padding lesson compares


def test_matching_and_best_validation_helpers() -> None:
    a, b = PRESETS["seed000-imdb-dense"].spec, PRESETS["seed000-imdb-simplernn"].spec
    assert same_setup(a, a) and not same_setup(a, b)
    from dataclasses import replace

    here = replace(a, data=replace(a.data, data_dir="/data"), train=replace(a.train, epochs=1))
    assert same_setup(here, a)  # where the files are and how many epochs: shown, not matched
    assert not same_setup(replace(a, train=replace(a.train, learning_rate=0.01)), a)
    assert not same_setup(replace(a, data=replace(a.data, val_fraction=0.1)), a)
    assert best_validation({"loss": [1.0], "val_accuracy": [0.5, 0.8, 0.6]}) == (
        "val_accuracy",
        0.8,
    )
    assert best_validation({"loss": [1.0]}) is None


def test_lesson_figures_name_each_model_beside_its_own_number() -> None:
    """'the LSTM climbs higher (0.85 vs 0.89)' reads as LSTM 0.85: each figure names its model."""
    import re

    lesson = next(les for les in LESSONS if les.key == "simplernn-vs-lstm")
    pairs = dict(
        (m, float(v)) for v, m in re.findall(r"(0\.\d+) for the (LSTM|SimpleRNN)", lesson.look_for)
    )
    assert set(pairs) == {"LSTM", "SimpleRNN"} and pairs["LSTM"] > pairs["SimpleRNN"]


def test_open_button_loads_the_preset_in_this_session() -> None:
    """The lesson's button switches page inside the session: the preset fills the Train form
    and the session's runs are still there (a plain link started a new session)."""
    from rnn_core.links import from_query
    from rnn_core.run import Run
    from rnn_core.tasks import get_task

    job = _Job({"val_accuracy": [0.7]})
    kept = [Run("Dense 32×1", PRESETS["seed000-imdb-dense"].spec, get_task("imdb"), job, 1, None)]
    at = _open_lessons(kept)
    at.button(key="lesson_addition-size_seed003-addition-300").click().run()
    assert not at.exception, at.exception
    assert at.session_state["runs"] == kept
    assert at.selectbox(key="task").value == "addition"
    assert at.selectbox(key="addition.preset").value == "seed003-addition-300"
    want = PRESETS["seed003-addition-300"].spec
    assert same_setup(from_query(_link(at)), want)  # the form is the preset


def test_a_preset_picked_in_the_form_is_the_preset_when_read_back() -> None:
    """Fields the form has no control for (mnist-fast's 4 % validation share) come from the
    preset, so the run started from the form is the preset's run and the lesson counts it."""
    from rnn_core.links import from_query

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="task").set_value("mnist").run()
    at.selectbox(key="mnist.preset").set_value("mnist-fast").run()
    assert not at.exception, at.exception
    spec = from_query(_link(at))
    assert spec.data.val_fraction == PRESETS["mnist-fast"].spec.data.val_fraction
    assert same_setup(spec, PRESETS["mnist-fast"].spec)
