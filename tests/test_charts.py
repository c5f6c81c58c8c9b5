"""Training figure builders are pure functions of plain data."""

from __future__ import annotations

from types import SimpleNamespace

from rnn_core.charts import training as charts

BATCHES = [
    {"step": s, "epoch": s / 10, "loss": 2 - s / 20, "accuracy": s / 40} for s in range(1, 21)
]
EPOCHS = [
    {"epoch": 1.0, "loss": 1.5, "accuracy": 0.3, "val_loss": 1.6, "val_accuracy": 0.25},
    {"epoch": 2.0, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45},
]


def test_training_curves_have_train_and_validation_in_both_panels() -> None:
    fig = charts.training_curves(BATCHES, EPOCHS, "accuracy", [(1.0, 0.1), (2.0, 0.2)], "exact")
    names = [t.name for t in fig.data]
    assert names.count("validation") == 2 and names.count("train (batches)") == 2
    assert names[-1] == "exact" and list(fig.data[-1].y) == [0.1, 0.2]
    val_acc = [t for t in fig.data if t.name == "validation" and t.xaxis == "x2"][0]
    assert list(val_acc.x) == [1.0, 2.0] and list(val_acc.y) == [0.25, 0.45]
    batch_loss = fig.data[0]
    assert len(batch_loss.x) == 20 and batch_loss.y[0] == 2 - 1 / 20
    assert fig.layout.uirevision == "keep"


def test_training_curves_before_any_epoch_are_empty_not_broken() -> None:
    fig = charts.training_curves([], [], "accuracy")
    assert all(len(t.x or ()) == 0 for t in fig.data)


def test_live_curves_build_their_frame_once_and_put_each_call_s_numbers_in(monkeypatch) -> None:  # noqa: ANN001
    import plotly.graph_objects as go

    from rnn_core.charts.palette import DARK

    frames: list[object] = []
    real = charts.make_subplots
    monkeypatch.setattr(charts, "make_subplots", lambda **kw: frames.append(1) or real(**kw))
    redraws = [  # a height no other test draws: the first call builds the frame
        charts.training_curves(BATCHES[:n], EPOCHS[: n // 10], height=357, smoothing=0.6)
        for n in (5, 10, 15, 20)
    ]
    assert len(frames) == 1  # four redraws with more data each, one frame built
    assert [len(f.data[0].x) for f in redraws] == [5, 10, 15, 20]
    assert list(redraws[3].data[1].y) == charts.ema([b["loss"] for b in BATCHES], 0.6).tolist()
    redraws[3].update_layout(height=999)  # a page changing its figure leaves the next alone
    assert charts.training_curves(BATCHES, EPOCHS, height=357, smoothing=0.6).layout.height == 357
    for fig in (
        redraws[3],
        charts.training_curves(BATCHES, EPOCHS, "accuracy", [(1.0, 0.1)], "exact", theme=DARK),
        charts.training_curves(BATCHES, [], log_loss=True),
    ):  # Plotly, validating every property, finds nothing to change in the figure
        assert go.Figure(fig.to_dict()).to_dict() == fig.to_dict()


def test_compare_curves_one_line_per_run_with_distinct_colours() -> None:
    fig = charts.compare_curves([("LSTM", EPOCHS), ("GRU", EPOCHS[:1])], "val_accuracy")
    assert [t.name for t in fig.data] == ["LSTM", "GRU"]
    assert list(fig.data[1].y) == [0.25]
    assert fig.data[0].line.color != fig.data[1].line.color


def test_progress_text_and_seconds() -> None:
    assert charts.format_seconds(42.4) == "42 s"
    assert charts.format_seconds(75) == "1 min 15 s"
    snap = SimpleNamespace(
        state="running", epoch=1, epochs_target=5, batch=3, batches_per_epoch=10,
        samples_per_sec=1234.0, eta_seconds=90, queue_position=0, queue_reason="",
    )  # fmt: skip
    text = charts.progress_text(snap)
    assert "epoch 2/5" in text and "batch 3/10" in text and "1,234 samples/s" in text
    assert "1 min 30 s left" in text
    queued = SimpleNamespace(**{**vars(snap), "state": "queued", "queue_position": 3})
    assert "position 3" in charts.progress_text(queued)
    starting = SimpleNamespace(**{**vars(snap), "batch": 0, "samples_per_sec": 0.0, "epoch": 0})
    assert "starting" in charts.progress_text(starting) and "epoch 1/5" in charts.progress_text(
        starting
    )


def test_progress_text_of_a_stopped_run_names_the_epochs_it_did() -> None:
    """Stopped after 10 of 40 epochs: '10/40 epochs done', not 'epoch 11/40 · batch 0/15'."""
    snap = SimpleNamespace(
        state="done", epoch=10, epochs_target=40, batch=0, batches_per_epoch=15,
        samples_per_sec=900.0, eta_seconds=0, queue_position=0, stopped_early=True,
    )  # fmt: skip
    text = charts.progress_text(snap)
    assert text == "10/40 epochs done · stopped early"
    full = SimpleNamespace(**{**vars(snap), "epoch": 40, "stopped_early": False})
    assert charts.progress_text(full) == "40/40 epochs done"


def test_progress_text_while_the_trained_model_is_scored_says_so() -> None:
    """After the last epoch the bar says the test set is being scored, not 'epoch 5/5 ·
    batch 10/10 · about 0 s left' as if training went on."""
    snap = SimpleNamespace(
        state="running", epoch=4, epochs_target=10, batch=15, batches_per_epoch=15,
        samples_per_sec=900.0, eta_seconds=0, queue_position=0, scoring=True,
    )  # fmt: skip
    text = charts.progress_text(snap)
    assert text.startswith("4/10 epochs done") and "scoring" in text and "test set" in text
    stopping = SimpleNamespace(**{**vars(snap), "state": "stopping"})
    assert "batch" not in charts.progress_text(stopping)
    training = SimpleNamespace(**{**vars(snap), "scoring": False})
    assert "scoring" not in charts.progress_text(training)


def test_bits_per_char_curve_draws_the_ngram_as_a_flat_line() -> None:
    from rnn_core.charts.text import bits_per_char_curve

    fig = bits_per_char_curve([1, 2, 3], [3.1, 2.6, 2.3], 2.09, "counting 5-gram")
    rnn, ngram = fig.data
    assert list(rnn.y) == [3.1, 2.6, 2.3] and list(rnn.x) == [1, 2, 3]
    assert set(ngram.y) == {2.09} and ngram.x[0] == 0 and ngram.x[-1] == 3
    assert "counting 5-gram" in ngram.name and "lower is better" in fig.layout.yaxis.title.text
    # the per-epoch curve is the validation half's, and says so (the test half is scored once)
    assert "(validation)" in rnn.name and "(validation)" in ngram.name
    assert fig.layout.yaxis.title.text.startswith("validation")
    assert len(bits_per_char_curve([1], [3.0], float("nan")).data) == 1  # no baseline, no line
