"""Compare runs by any metric: the metric list, each metric's direction, the ranking."""

from __future__ import annotations

import math

from rnn_core import compare

A = [
    {"epoch": 1.0, "loss": 0.9, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.4,
     "seconds": 3.0},
    {"epoch": 2.0, "loss": 0.6, "accuracy": 0.7, "val_loss": 0.8, "val_accuracy": 0.6,
     "seconds": 6.0},
]  # fmt: skip
B = [{"epoch": 1.0, "loss": 0.7, "val_loss": 0.7, "val_accuracy": 0.55, "val_exact_match": 0.1}]


def test_logged_metrics_are_every_key_validation_first_without_epoch_or_time() -> None:
    assert compare.logged_metrics([A, B]) == [
        "val_accuracy", "val_exact_match", "val_loss", "accuracy", "loss",
    ]  # fmt: skip
    assert compare.logged_metrics([[], []]) == []


def test_test_metrics_are_the_fractional_scores_not_the_counts() -> None:
    scores = [{"accuracy": 0.8, "count": 30}, {}, {"mae": 0.2, "naive_mae": 0.3, "windows": 9}]
    assert compare.test_metrics(scores) == ["test_accuracy", "test_mae", "test_naive_mae"]


def test_options_put_the_tasks_own_metric_first_then_curves_then_test_scores() -> None:
    options = compare.metric_options([A, B], [{"accuracy": 0.8}], "val_loss")
    assert options == [
        "val_loss", "val_accuracy", "val_exact_match", "accuracy", "loss", "test_accuracy",
    ]  # fmt: skip
    assert compare.metric_options([A], [], "val_bits")[0] == "val_accuracy"  # not logged


def test_direction_loss_bits_and_errors_are_lower_is_better() -> None:
    for name in ("loss", "val_loss", "test_bits_per_char", "test_mae", "val_mse"):
        assert compare.lower_is_better(name), name
    for name in ("val_accuracy", "test_exact_match", "test_word_validity"):
        assert not compare.lower_is_better(name), name
    assert compare.metric_label("val_loss") == "val loss (lower is better)"
    assert compare.metric_label("test_accuracy") == "test accuracy (higher is better)"


def test_run_value_is_the_best_epoch_in_the_metrics_direction_or_the_test_score() -> None:
    assert compare.run_value(A, {}, "val_loss") == 0.8  # the smallest loss
    assert compare.run_value(A, {}, "val_accuracy") == 0.6  # the largest accuracy
    assert compare.run_value(B, {}, "accuracy") is None  # never logged by this run
    assert compare.run_value(A, {"accuracy": 0.75}, "test_accuracy") == 0.75
    assert compare.run_value(A, {}, "test_accuracy") is None  # not scored
    nan = [{"epoch": 1.0, "val_loss": math.nan}, {"epoch": 2.0, "val_loss": 2.0}]
    assert compare.run_value(nan, {}, "val_loss") == 2.0


def test_ranking_is_best_first_in_the_direction_with_missing_values_last() -> None:
    assert compare.ranking([0.8, None, 0.7, 0.9], "val_loss") == [2, 0, 3, 1]
    assert compare.ranking([0.8, None, 0.7, 0.9], "val_accuracy") == [3, 0, 2, 1]
    assert compare.ranking([0.5, 0.5], "val_accuracy") == [0, 1]  # ties keep the run order
