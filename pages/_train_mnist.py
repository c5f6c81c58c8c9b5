"""Train page, MNIST task: validation confusion matrix and misclassified digits per epoch,
the test set once at the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from pages._plot import chart, page_theme
from pages.common import cached_figure, sample_accuracy_label, score_test_set
from rnn_core.charts import classify as classify_charts
from rnn_core.tasks.mnist import MNIST_HOOK_SIZE, as_images, confusion_matrix, reading

METRIC_LABEL = "val accuracy"  # the live panel's metric tile
EXTRA_HELP = (
    "**train loss**: cross-entropy on the training batches (lower is better). **val accuracy**"
    ": share of the held-out part of the training images classified right. **val accuracy (N "
    "images)**: the same on the first N validation images, whose confusion matrix the page "
    "shows. The test images are never looked at during training: they are scored once, after "
    "it ends. Chance is 0.1."
)
SHOWN_WRONG = 16  # misclassified digits drawn in the grid (two rows of eight)


def extra_label(record: Any) -> str:
    """Label of the accuracy the epoch hook measures on the first validation images."""
    return sample_accuracy_label(record, MNIST_HOOK_SIZE, "images")


def evaluate(record: Any) -> None:
    """Once training has stopped: the predicted digit for all 10,000 test images."""
    score_test_set(record, "images")


def after_epoch(record: Any) -> Callable[[Any], None]:
    """Under the curves: confusion matrix and wrong digits (the first 2,000 validation images
    while training, the whole test set once it has stopped)."""
    data = record.data

    def digits(snap: Any) -> None:
        reports = [r for r in snap.epoch_extras if r is not None]
        if not reports:
            return
        scored = record.scored()  # the whole test set, scored after training stopped
        if scored:
            pred = record.results.predicted
            x, y, split = data.x_test, data.y_test, "test"
            counts = confusion_matrix(data.y_test, pred)
            wrong = np.flatnonzero(pred != data.y_test)
            n_images, n_wrong = len(pred), len(wrong)
            wrong = wrong[:SHOWN_WRONG]
            guesses = pred[wrong]
        else:
            report = reports[-1]
            split = report.split
            x, y = (data.x_val, data.y_val) if split == "validation" else (data.x_test, data.y_test)
            counts = np.asarray(report.confusion)  # (10, 10)
            n_images = report.sample_size
            n_wrong = n_images - int(np.trace(counts))
            wrong = np.asarray([i for i, _ in report.wrong], dtype=np.int64)
            guesses = np.asarray([p for _, p in report.wrong], dtype=np.int64)
        where = f"the first {n_images:,} {split} images" if n_images < len(y) else (
            f"all {n_images:,} {split} images"
        )  # fmt: skip
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Confusion matrix after epoch {snap.epoch}** ({where})")
            theme = page_theme()
            key = (snap.epoch, len(reports), scored, theme)  # the same matrix and digits
            fig = cached_figure(
                record, "confusion", key,
                lambda: classify_charts.confusion_heatmap(counts, theme=theme),
            )  # fmt: skip
            chart(fig, f"confusion_{id(record)}", "confusion-matrix")
            st.caption(
                "Row = the true digit, column = the model's answer; each number counts images. "
                "The diagonal holds the right answers; any number off it is a mistake. "
                "Colour = share of that row."
            )
        with right:
            st.markdown(f"**{n_wrong:,} misclassified of {n_images:,}** (the first {len(wrong)})")
            fig = cached_figure(
                record, "wrong", key,
                lambda: classify_charts.misclassified_grid(
                    as_images(x[wrong]), y[wrong], guesses, theme=theme
                ),
            )  # fmt: skip
            chart(fig, f"wrong_{id(record)}", "misclassified-digits")
            st.caption(
                f"Each image is what the network read, {reading(data.config.rows_per_step)}, "
                "top to bottom. Above each: the true digit, and in red what the model said."
            )

    return digits


def results(record: Any, active: bool) -> None:
    """Below the live panel: accuracy on the whole test set once training has stopped."""
    test, epoch = record.results, record.results_epoch
    if test is not None and not active:
        st.metric(
            f"test accuracy, all {test.images:,} test images (after epoch {epoch})",
            f"{test.accuracy:.4f}",
        )
        st.caption(
            f"Share of the {test.images:,} test digits the model names right (none of them "
            "was used for training); chance is 0.1."
        )


def code() -> tuple[Callable[..., Any], ...]:
    """The rnn_core functions shown in "Show the code"."""
    from rnn_core.models import build_sequence_classifier
    from rnn_core.tasks.mnist import load_mnist_source, make_mnist_data

    return build_sequence_classifier, load_mnist_source, make_mnist_data
