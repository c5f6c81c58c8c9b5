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

    def history(self) -> dict[str, list[float]]:
        return self._history

    def snapshot(self):
        from rnn_core.engine.job import Snapshot

        return Snapshot(state="done", epoch=len(next(iter(self._history.values()))))


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


def test_a_run_with_the_preset_setup_shows_its_result() -> None:
    from rnn_core.run import Run
    from rnn_core.tasks import get_task
    from rnn_core.tasks.imdb import ImdbResults

    preset = PRESETS["seed000-imdb-dense"]
    job = _Job({"val_accuracy": [0.7, 0.765]})
    record = Run("Dense 32×1", preset.spec, get_task("imdb"), job, 321, None)
    record.results = ImdbResults(accuracy=0.7712, reviews=25_000)
    at = _open_lessons([record])
    captions = " ".join(c.value for c in at.caption)
    assert "Dense 32×1, 2 epochs: test accuracy 0.771, best val_accuracy 0.765" in captions


def test_matching_and_best_validation_helpers() -> None:
    a, b = PRESETS["seed000-imdb-dense"].spec, PRESETS["seed000-imdb-simplernn"].spec
    assert same_setup(a, a) and not same_setup(a, b)
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
