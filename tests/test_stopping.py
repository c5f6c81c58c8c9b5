"""Stop on validation: the ``until`` condition, patience with the best weights restored, the
same in the thread and the child-process runner; the test questions are never looked at."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig, Until, parse_until
from rnn_core.engine.process import ProcessRunner, new_job
from rnn_core.engine.runner import ThreadRunner
from rnn_core.engine.slots import SlotPool
from rnn_core.engine.stopping import StopRule, StopTracker, check_rule
from tests.conftest import ReusedModel

# the child-process case starts a training child: out of the quick tier (make test)
KINDS = ("thread", pytest.param("process", marks=pytest.mark.process))
DATA = AdditionConfig(digits=2, train_size=300, test_size=30, seed=5)
MODEL = ModelConfig(cell="LSTM", units=8, layers=1, seed=5)


def test_until_is_parsed_from_the_command_line_form() -> None:
    assert parse_until("val_accuracy>=0.89") == Until("val_accuracy", ">=", 0.89)
    assert parse_until(" val_bits_per_char <= 2.0 ") == Until("val_bits_per_char", "<=", 2.0)
    assert parse_until("val_exact_match≥0.99") == Until("val_exact_match", ">=", 0.99)
    assert parse_until("val_accuracy>=0.89").text() == "val_accuracy>=0.89"
    assert Until("val_loss", "<", 1.0).met(0.5) and not Until("val_loss", "<", 1.0).met(1.0)


@pytest.mark.parametrize(
    "text, words",
    [("val_accuracy=0.9", "METRIC>=VALUE"), ("val_accuracy>=high", "not a number"),
     ("", "METRIC>=VALUE"), ("val_loss<=nan", "finite")],
)  # fmt: skip
def test_bad_until_is_one_readable_line(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as info:
        TrainConfig(until=text) if text else parse_until(text)
    assert "\n" not in str(info.value)


def test_an_unknown_metric_for_the_task_names_the_choices() -> None:
    from rnn_core.tasks import get_task

    task = get_task("addition")
    with pytest.raises(ValueError, match="not a validation metric of the addition task") as info:
        check_rule(TrainConfig(until="val_bits_per_char<=2"), task.val_metrics(), True, "addition")
    assert "val_exact_match" in str(info.value) and "\n" not in str(info.value)
    assert {"val_bits_per_char", "val_accuracy", "val_loss"} <= set(get_task("text").val_metrics())
    assert "val_mae" in get_task("forecast").val_metrics()
    assert get_task("imdb").val_metrics() == {"val_loss": "min", "val_accuracy": "max"}
    with pytest.raises(ValueError, match="validation split"):
        check_rule(TrainConfig(patience=2), task.val_metrics(), False, "addition")
    with pytest.raises(ValueError, match="patience must be"):
        TrainConfig(patience=-1)


def test_the_tracker_stops_on_the_condition_and_restores_on_patience() -> None:
    met = StopTracker(StopRule.from_config(TrainConfig(until="val_exact_match>=0.99")))
    assert not met.epoch(1, {"val_exact_match": 0.5, "val_loss": 1.0}).stop
    verdict = met.epoch(2, {"val_exact_match": 0.9912, "val_loss": 0.5})
    assert verdict.stop and not verdict.restore
    assert verdict.reason == "stopped at epoch 2: val_exact_match 0.991 ≥ 0.99"

    waits = StopTracker(StopRule.from_config(TrainConfig(patience=2)))  # val_loss, lower wins
    losses = [1.0, 0.5, 0.6, 0.7]
    verdicts = [waits.epoch(i + 1, {"val_loss": v}) for i, v in enumerate(losses)]
    assert [v.best for v in verdicts] == [True, True, False, False]
    assert [v.stop for v in verdicts] == [False, False, False, True] and verdicts[-1].restore
    assert "weights restored from epoch 2 (val_loss 0.500)" in verdicts[-1].reason
    ends = StopTracker(StopRule.from_config(TrainConfig(patience=5)))
    for i, v in enumerate(losses):
        assert not ends.epoch(i + 1, {"val_loss": v}).stop
    assert ends.finish(4).restore and "ran to epoch 4" in ends.finish(4).reason
    with pytest.raises(RuntimeError, match="val_exact_match"):
        met.epoch(3, {"val_loss": 0.4})


def _tiny_job(epochs: int, runner=None, model=None, **train):  # noqa: ANN001
    """A tiny addition job (same seeds every time) on ``runner(data)``, a thread by default;
    on ``model`` when given (built from the same spec), else on a new model."""
    from rnn_core.tasks import get_task

    task = get_task("addition")
    cfg = TrainConfig(epochs=epochs, batch_size=32, publish_every=1, seed=5, **train)
    spec = RunSpec("addition", DATA, MODEL, cfg)
    data = task.make_data(DATA)
    model = task.build(spec, data) if model is None else model
    job = new_job(model, "addition", data, cfg, runner=runner(data) if runner else ThreadRunner())
    job.pool = SlotPool(2)
    return job, data


@pytest.fixture(scope="module")
def built() -> ReusedModel:
    """The thread runner's tiny model, shared by the module and reset to its built state."""
    from rnn_core.tasks import get_task

    task = get_task("addition")
    return ReusedModel(task.build(RunSpec("addition", DATA, MODEL), task.make_data(DATA)))


@pytest.fixture
def make_job(built):
    """Factory (kind, epochs, **train) -> (job, data); thread jobs train the module's model."""

    def make(kind: str, epochs: int, **train):  # noqa: ANN202
        if kind == "thread":
            return _tiny_job(epochs, model=built.reset(), **train)
        return _tiny_job(epochs, lambda data: ProcessRunner("addition", data), **train)

    return make


@pytest.fixture(scope="module")
def reference(built) -> list[dict[str, float]]:
    """Epoch logs of 5 epochs with no stop rule (thread runner)."""
    job, _ = _tiny_job(5, model=built.reset())
    job.start()
    snap = job.wait(180)
    assert snap.state == "done", snap.error
    return list(snap.epoch_logs)


def test_every_epoch_logs_validation_exact_match_and_cumulative_seconds(reference) -> None:
    assert all(0 <= log["val_exact_match"] <= 1 for log in reference)
    seconds = [log["seconds"] for log in reference]
    assert all(b > a > 0 for a, b in zip(seconds, seconds[1:], strict=False))


def test_the_epoch_report_reads_validation_questions_never_test_ones(built) -> None:
    from rnn_core.tasks import get_task

    task = get_task("addition")
    data = task.make_data(DATA)
    model = built.reset()
    report = task.epoch_report(data)(model, 1)
    val_questions = {f"{a}+{b}" for a, b in data.val_pairs}
    test_questions = {f"{a}+{b}" for a, b in data.test_pairs}
    assert report.table and {row.question for row in report.table} <= val_questions
    assert not {row.question for row in report.table} & test_questions
    ids = task.predict(model, data.x_val)
    assert report.exact_match == float(np.mean(np.all(ids == data.y_val, axis=-1)))
    assert report.split == "validation" and report.val_scores() == {
        "val_exact_match": report.exact_match
    }


@pytest.mark.parametrize("kind", KINDS)
def test_until_stops_after_the_first_epoch_that_meets_it(kind: str, reference, make_job) -> None:
    losses = [log["val_loss"] for log in reference]
    threshold = (losses[0] + losses[1]) / 2  # met first at epoch 2 (the loss falls at first)
    expected = next(i + 1 for i, v in enumerate(losses) if v <= threshold)
    assert expected < 5
    job, _ = make_job(kind, 5, until=f"val_loss<={threshold}")
    job.start()
    snap = job.wait(180)
    assert snap.state == "done" and not snap.stopped_early, snap.error
    assert snap.epoch == expected
    reached = snap.epoch_logs[-1]["val_loss"]
    assert snap.stop_reason == (
        f"stopped at epoch {expected}: val_loss {reached:.3f} ≤ {threshold:g}"
    )
    job.start(1)  # Train more checks the condition again: met again after one epoch
    assert job.wait(180).epoch == expected + 1


@pytest.mark.parametrize("kind", KINDS)
def test_patience_restores_the_best_epochs_weights(kind: str, reference, make_job) -> None:
    # "best" by a never-met condition on a loss that only falls: epoch 1 stays the best, so
    # patience 2 ends the run at epoch 3 with epoch 1's weights back in the job's model
    losses = [log["val_loss"] for log in reference]
    assert losses[0] > max(losses[1:3])
    job, data = make_job(kind, 5, until="val_loss>=100", patience=2)
    job.start()
    snap = job.wait(180)
    assert snap.state == "done", snap.error
    assert snap.epoch == 3
    assert snap.stop_reason.startswith("stopped at epoch 3: val_loss has not improved for 2")
    assert "weights restored from epoch 1" in snap.stop_reason
    val_loss = job.model.evaluate(data.x_val, data.y_val, verbose=0, batch_size=256)[0]
    assert val_loss == pytest.approx(snap.epoch_logs[0]["val_loss"], rel=1e-3)
    assert val_loss > snap.epoch_logs[-1]["val_loss"] * 1.01  # not the last epoch's weights
