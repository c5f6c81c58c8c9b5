"""The live curves' table alternative: one row per epoch with what the curves draw."""

from __future__ import annotations

from pages.common import curves_table


def test_rows_follow_the_epochs_and_name_the_metric() -> None:
    logs = [
        {"epoch": 1.0, "loss": 1.23456, "val_loss": 1.5, "mae": 0.4, "val_mae": 0.5},
        {"epoch": 2.0, "loss": 0.9, "val_loss": 1.1, "mae": 0.3},
    ]
    rows = curves_table(logs, "mae", [(1.0, 0.25), (2.0, 0.5)], "naive MAE")
    assert rows == [
        {"epoch": 1, "train loss": 1.2346, "val loss": 1.5, "train mae": 0.4, "val mae": 0.5,
         "naive MAE": 0.25},
        {"epoch": 2, "train loss": 0.9, "val loss": 1.1, "train mae": 0.3, "val mae": None,
         "naive MAE": 0.5},
    ]  # fmt: skip


def test_an_epoch_without_the_extra_score_says_none_and_no_label_no_column() -> None:
    logs = [{"epoch": 1.0, "loss": 2.0}, {"epoch": 2.0, "loss": 1.0}]
    rows = curves_table(logs, "accuracy", [(2.0, 0.75)], "val exact match")
    assert [r["val exact match"] for r in rows] == [None, 0.75]
    assert "val exact match" not in curves_table(logs, "accuracy", [], "")[0]
    assert curves_table([], "accuracy", [], "") == []
