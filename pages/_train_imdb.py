"""Train page, IMDB task: validation reviews per epoch, test accuracy once at the end, score
your own review, and what padding and truncation did to one review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from pages._plot import chart, page_theme
from pages.common import cached_figure, sample_accuracy_label, score_test_set
from rnn_core.charts import classify as classify_charts
from rnn_core.tasks.imdb import (
    IMDB_HOOK_SIZE,
    describe_truncation,
    read_review,
    review_examples,
    review_rows,
    score_review,
)

METRIC_LABEL = "val accuracy"  # the live panel's metric tile
EXTRA_HELP = (
    "**train loss**: binary cross-entropy on the training batches (lower is better). "
    "**val accuracy**: share of the held-out part of the training reviews classified right. "
    "They are mostly of the same movies as the training reviews, while the test reviews are of "
    "other movies, and an accuracy on 1,000 reviews moves by about ±0.01 by chance alone: the "
    "test accuracy can come out either side of it (3 seeds of the form's default, "
    "imdb-fast-forward: from 0.001 below to 0.007 above their last val accuracy; of imdb-fast: "
    "0.0001 below to 0.015 above; with 20,000 words instead of 3,000, 0.010–0.017 below; "
    "benchmarks/RESULTS.md). "
    "**val accuracy (N reviews)**: the same on the first N validation reviews, whose scores "
    "the page shows. The test reviews are never looked at during training: they are scored "
    "once, after it ends. Chance is 0.5."
)


def extra_label(record: Any) -> str:
    """Label of the accuracy the epoch hook measures on the first validation reviews."""
    return sample_accuracy_label(record, IMDB_HOOK_SIZE, "reviews")


def evaluate(record: Any) -> None:
    """Once training has stopped: P(positive) for all 25,000 test reviews, kept in the run."""
    score_test_set(record, "reviews")


def after_epoch(record: Any) -> Callable[[Any], None]:
    """Under the curves, after each epoch: five validation reviews with the model's
    P(positive)."""
    data = record.data

    def reviews(snap: Any) -> None:
        reports = [r for r in snap.epoch_extras if r is not None]
        if not reports:
            return
        report = reports[-1]
        rows = review_rows(data, report.probabilities, report.split)
        where = (
            "held out from training; the test reviews are scored once, when training ends"
            if report.split == "validation"
            else "recorded when this pretrained model was trained"
        )
        st.markdown(f"**Five {report.split} reviews after epoch {snap.epoch}** ({where})")
        st.caption(
            "Bar length = the model's probability that the review is positive; over 0.5 it "
            "answers *positive*. Colour = the true label (blue positive, orange negative); "
            "✓ / ✗ = right or wrong. `br` is a line break left over from the web pages."
        )
        theme = page_theme()
        key = (snap.epoch, len(reports), theme)
        fig = cached_figure(
            record, "reviews", key, lambda: classify_charts.review_bars(rows, theme=theme)
        )
        chart(fig, f"reviews_{id(record)}", "review-predictions")
        with st.expander("Read the five reviews as the model sees them"):
            table = pd.DataFrame(rows)
            table["ok"] = table["ok"].map({True: "✓", False: "✗"})
            st.dataframe(
                table[["true", "predicted", "P(positive)", "ok", "review"]],
                hide_index=True,
                width="stretch",
                column_config={"P(positive)": st.column_config.NumberColumn(format="%.3f")},
            )
            st.caption(
                "`<START>` marks the beginning of a review; `<OOV>` is a word outside the "
                f"{data.config.num_words:,} most frequent ones."
            )

    return reviews


def _read_note(read: Any, cfg: Any) -> str:
    """What the marks on a typed review mean: the words maxlen cuts, the unknown words."""
    n_cut = len(read.tokens) - (read.kept_end - read.kept_start)
    side = "start" if cfg.truncating == "pre" else "end"
    cut = (
        f"Struck out: the {n_cut} token(s) beyond maxlen = {cfg.maxlen} that the model never "
        f"reads ({cfg.truncating}-truncation cuts the {side}). "
        if n_cut
        else f"All {len(read.tokens)} tokens fit in maxlen = {cfg.maxlen}. "
    )
    known = (
        f"Marked in orange: {len(read.unknown)} word(s) the model does not know (not among the "
        f"{cfg.num_words:,} most frequent); it reads each as the same <OOV> token."
        if read.unknown
        else "The model knows every word you typed."
    )
    return cut + known


def results(record: Any, active: bool) -> None:
    """Below the live panel: whole-test accuracy, your own review, padding and truncation."""
    data, cfg = record.data, record.spec.data
    test, epoch = record.results, record.results_epoch
    if test is not None and not active:
        st.metric(
            f"test accuracy, all {test.reviews:,} test reviews (after epoch {epoch})",
            f"{test.accuracy:.3f}",
        )
        st.caption(
            f"Share of the {test.reviews:,} test reviews the model labels right (none of "
            "them was used for training); chance is 0.5."
        )

    st.markdown("**Score your own review**")
    with st.form("review"):
        text = st.text_area("Type a review (English)", placeholder="A moving, beautifully shot…")
        if st.form_submit_button("Score my review") and text:
            try:
                p, _ = score_review(record.job.model, text, data.word_index, cfg)
            except ValueError as exc:
                st.warning(str(exc))
            else:
                said = "positive" if p > 0.5 else "negative"
                st.success(f"P(positive) = **{p:.3f}** → the model says **{said}**")
                read = read_review(text, data.word_index, cfg)
                st.markdown(
                    classify_charts.review_as_read_html(
                        read.tokens, read.unknown, read.kept_start, read.kept_end
                    ),
                    unsafe_allow_html=True,
                )
                st.caption(f"Your review as the model reads it (lower case, no punctuation). "
                           f"{_read_note(read, cfg)}")  # fmt: skip

    truncation_section(record)


@st.cache_resource(max_entries=4, show_spinner=False)
def _examples(key: tuple, _source: Any, _cfg: Any) -> Any:
    """The first ten test reviews as words, once per source (shared, read-only)."""
    return review_examples(_cfg, source=_source)


def truncation_section(record: Any) -> None:
    """What padding and truncation did to one test review, and how long reviews are."""
    from pages.common import task_source

    cfg = record.spec.data
    source = task_source("imdb", cfg)
    ex = _examples(source.key, source, cfg)
    st.markdown(f"**What maxlen = {cfg.maxlen} does to a review**")
    lengths = [len(w) for w in ex.words]
    first_cut = next((i for i, n in enumerate(lengths) if n > cfg.maxlen), 0)
    i = st.selectbox(
        "Test review",
        range(len(ex.words)),
        index=first_cut,
        format_func=lambda k: (
            f"#{k + 1}: {lengths[k]} tokens, {'positive' if ex.labels[k] else 'negative'}"
        ),
        key=f"trunc_review_{id(record)}",
    )
    d = describe_truncation(ex.words[i], cfg.maxlen, cfg.padding, cfg.truncating)
    st.write(d["summary"])
    kept_start = d["n_cut"] if d["cut_side"] == "start" else 0
    fig = classify_charts.truncation_strip(
        lengths[i], cfg.maxlen, kept_start, kept_start + len(d["kept"]), cfg.padding, page_theme()
    )
    chart(fig, f"strip_{id(record)}", "review-truncation")
    cut = " ".join(d["cut"])
    kept = d["kept_text"]
    pad = f"*[{d['n_pad']} padding zeros {d['pad_side']} the words]*" if d["n_pad"] else ""
    parts = [f":red[~~{cut}~~]", kept] if d["cut_side"] == "start" else [kept, f":red[~~{cut}~~]"]
    if not cut:
        parts = [kept]
    parts = [pad, *parts] if d["pad_side"] == "before" else [*parts, pad]
    st.markdown(" ".join(p for p in parts if p))
    cut_note = (
        f"Struck out in red: the {d['n_cut']} words the model never reads "
        f"({cfg.truncating}-truncation cuts the {d['cut_side']} of a long review). "
        if d["n_cut"]
        else f"This review fits: nothing is cut, {d['n_pad']} zeros are added {d['pad_side']} it. "
    )
    st.caption(
        cut_note + "Short reviews are filled up to maxlen with zeros (id 0); the network reads "
        "them too, so padding *before* the words (pre) keeps the review's own words closest "
        "to the final state that makes the decision."
    )
    fig = classify_charts.length_histogram(
        record.data.train_lengths, cfg.maxlen, theme=page_theme()
    )
    chart(fig, f"lengths_{id(record)}", "review-lengths")
    st.caption("Lengths of this run's training reviews, in tokens, before padding or cutting.")


def code() -> tuple[Callable[..., Any], ...]:
    """The rnn_core functions shown in "Show the code"."""
    from rnn_core.models import build_sequence_classifier
    from rnn_core.tasks.imdb import load_imdb_source, make_imdb_data

    return build_sequence_classifier, load_imdb_source, make_imdb_data
