"""Tests for rnn_core.charts.classify: the IMDB and MNIST figure builders are pure and honest."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.charts import classify as cc


def test_confusion_heatmap_counts_rows_and_shares() -> None:
    counts = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])  # class 2 never occurs
    fig = cc.confusion_heatmap(counts, labels=["a", "b", "c"])
    (hm,) = fig.data
    assert list(hm.x) == list(hm.y) == ["a", "b", "c"]
    z = np.asarray(hm.z)
    assert z.shape == (3, 3)
    np.testing.assert_allclose(z[0], [0.8, 0.2, 0.0])
    np.testing.assert_allclose(z[1], [0.25, 0.75, 0.0])
    np.testing.assert_allclose(z[2], [0.0, 0.0, 0.0])  # an empty row is not divided by zero
    assert [list(r) for r in hm.text] == [["8", "2", ""], ["1", "3", ""], ["", "", ""]]
    assert np.asarray(hm.customdata)[1].tolist() == [4, 4, 4]  # row totals for the hover
    assert fig.layout.yaxis.title.text == "true digit"
    assert fig.layout.xaxis.title.text == "predicted digit"
    assert fig.layout.yaxis.autorange == "reversed"  # class 0 on top, as in a table


def test_confusion_heatmap_default_labels_and_bad_input() -> None:
    fig = cc.confusion_heatmap(np.eye(10, dtype=int) * 5)
    assert list(fig.data[0].x) == [str(i) for i in range(10)]
    with pytest.raises(ValueError, match="square"):
        cc.confusion_heatmap(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels"):
        cc.confusion_heatmap(np.zeros((2, 2)), labels=["x"])


def test_misclassified_grid_places_each_digit_under_its_labels() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((11, 28, 28))
    true, pred = list(range(11)), [(t + 1) % 10 for t in range(11)]
    fig = cc.misclassified_grid(images, true, pred, cols=4)
    (hm,) = fig.data
    z = np.asarray(hm.z, dtype=float)
    cell_h, cell_w = cc.LABEL_BAND + 28 + cc.GAP, 28 + cc.GAP
    assert z.shape == (3 * cell_h, 4 * cell_w - cc.GAP)  # 11 digits in rows of 4
    top, left = 1 * cell_h + cc.LABEL_BAND, 1 * cell_w  # digit 5: row 1, column 1
    np.testing.assert_allclose(z[top : top + 28, left : left + 28], images[5])
    assert np.isnan(z[:, 28:32]).all()  # the gap between columns stays empty
    assert np.isnan(z[2 * cell_h :, 3 * cell_w :]).all()  # no twelfth digit
    labels = fig.layout.annotations
    assert len(labels) == 11
    assert "true 5" in labels[5].text and "said 6" in labels[5].text
    assert labels[5].x == left + 13.5 and labels[5].y == top - 1  # centred right above it
    assert fig.layout.yaxis.scaleanchor == "x"  # square pixels: labels stay with their digits


def test_misclassified_grid_empty_and_mismatched() -> None:
    fig = cc.misclassified_grid(np.zeros((0, 28, 28)), [], [])
    assert len(fig.data) == 0 and "No mistakes" in fig.layout.annotations[0].text
    with pytest.raises(ValueError, match="labels"):
        cc.misclassified_grid(np.zeros((2, 28, 28)), [1], [2, 3])


def test_review_bars_probabilities_colours_and_marks() -> None:
    rows = [
        {"review": "<START> great " + "x" * 100, "P(positive)": 0.9, "predicted": "positive",
         "true": "positive", "ok": True},
        {"review": "<START> dull", "P(positive)": 0.7, "predicted": "positive",
         "true": "negative", "ok": False},
    ]  # fmt: skip
    fig = cc.review_bars(rows, width=20)
    (bar,) = fig.data
    assert list(bar.x) == [0.9, 0.7]
    assert bar.y[0].startswith("#1 great") and bar.y[0].endswith("…") and len(bar.y[0]) <= 23
    assert bar.y[1] == "#2 dull"
    assert list(bar.marker.color) == [cc.POS_COLOR, cc.NEG_COLOR]
    assert bar.text[0] == "0.90 · true positive ✓" and bar.text[1] == "0.70 · true negative ✗"
    assert fig.layout.shapes[0].x0 == 0.5  # the decision threshold


def test_review_bars_threshold_label_sits_above_the_bars() -> None:
    """The '0.5: …' label is anchored on the plot area's top edge, in the top margin, so it
    cannot cover bar #1 (it was centred 2 % above the edge and overlapped it)."""
    rows = [{"review": "ok", "P(positive)": 0.6, "predicted": "positive", "true": "positive",
             "ok": True}]  # fmt: skip
    fig = cc.review_bars(rows)
    (label,) = [a for a in fig.layout.annotations if a.text.startswith("0.5")]
    assert label.yref == "paper" and label.y >= 1 and label.yanchor == "bottom"
    text_px = 1.4 * label.font.size  # one line of text, with its line spacing
    assert fig.layout.margin.t >= (label.yshift or 0) + text_px


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of '#RRGGBB'."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_review_as_read_strikes_the_cut_and_marks_unknown_words_legibly() -> None:
    import re

    tokens = ["<START>", "a", "zzz", "b", "c"]
    html = cc.review_as_read_html(tokens, {"zzz"}, kept_start=2, kept_end=5)
    assert html.count(cc.CUT_STYLE) == 2  # <START> and "a": cut (pre-truncation)
    assert f'<span style="{cc.UNKNOWN_STYLE}">zzz</span>' in html and "&lt;START&gt;" in html
    assert html.endswith(" b c")
    cut = cc.review_as_read_html(tokens, {"a"}, kept_start=2, kept_end=5)
    assert cc.UNKNOWN_STYLE not in cut  # a cut word is shown as cut, not as unknown
    # an opaque background with its own text colour: the same contrast on a light or dark page
    bg = re.search(r"background-color:(#[0-9A-Fa-f]{6})", cc.UNKNOWN_STYLE).group(1)
    fg = re.search(r";color:(#[0-9A-Fa-f]{6})", cc.UNKNOWN_STYLE).group(1)
    hi, lo = sorted([_luminance(bg), _luminance(fg)], reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 7  # WCAG AAA for normal text


def test_length_histogram_marks_maxlen_and_share_cut() -> None:
    lengths = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000])
    fig = cc.length_histogram(lengths, maxlen=45)
    assert fig.layout.shapes[0].x0 == 45
    assert "60% of reviews are longer" in fig.layout.annotations[0].text
    assert max(fig.data[0].x) < 1000  # the longest 1% is drawn at the right edge


def test_truncation_strip_parts_add_up() -> None:
    cut = cc.truncation_strip(260, 200, 60, 260, "pre")
    assert [t.x[0] for t in cut.data] == [60, 200]
    assert cut.data[0].name.startswith("cut (start)")
    post = cc.truncation_strip(260, 200, 0, 200, "pre")
    assert [t.name.split(":")[0] for t in post.data] == ["kept", "cut (end)"]
    short = cc.truncation_strip(50, 200, 0, 50, "post")
    assert [(t.name.split(":")[0], t.x[0]) for t in short.data] == [
        ("kept", 50),
        ("padding (zeros)", 150),
    ]
    with pytest.raises(ValueError):
        cc.truncation_strip(10, 5, 6, 4)
