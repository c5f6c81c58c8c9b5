"""Every shipped pretrained snapshot, scored again now, reproduces the scores in its JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rnn_core import pretrained
from tests.conftest import SHARED_DATA
from tests.skip_policy import skip_without_shared

keras = pytest.importorskip("keras")
SHIPPED = pretrained.list_snapshots(pretrained.ASSETS)
NEEDS = {"imdb": "imdb.npz", "mnist": "mnist.npz", "nietzsche": "nietzsche.txt"}


def _data(snap: pretrained.Pretrained):
    """The snapshot's data on this machine, or a visible skip naming what is missing."""
    from rnn_core.tasks import get_task

    cfg, task = snap.spec.data, get_task(snap.spec.task)
    need = NEEDS.get(snap.spec.task) or NEEDS.get(getattr(cfg, "corpus", ""))
    if need:
        skip_without_shared(need)
        cfg = replace(cfg, data_dir=str(SHARED_DATA))
    data = task.make_data(cfg)
    if snap.vocab and data.vocab.chars != snap.vocab["chars"]:
        pytest.skip(f"{snap.name}: this machine's {cfg.corpus} text has another alphabet")
    return data


def test_the_shipped_snapshots_include_addition_and_a_python_docs_text_model() -> None:
    tasks = {(s.spec.task, getattr(s.spec.data, "corpus", None)) for s in SHIPPED}
    assert ("addition", None) in tasks and ("text", "python-docs") in tasks  # scored in CI


# the IMDB snapshots score the real test set through the model: long, out of the quick tier
CASES = [
    pytest.param(s, id=s.name, marks=[pytest.mark.slow] if s.spec.task == "imdb" else [])
    for s in SHIPPED
]


@pytest.mark.parametrize("snap", CASES)
def test_rescore_matches_the_json(snap: pretrained.Pretrained) -> None:
    fresh = pretrained.rescore(snap, _data(snap))
    gaps = pretrained.score_gaps(snap, fresh)
    assert gaps, f"{snap.name}: no deterministic score to compare"
    for key, (recorded, now) in gaps.items():
        assert now == pytest.approx(recorded, abs=pretrained.TOLERANCE), (snap.name, key)


def test_text_snapshots_record_test_half_figures_and_say_where_they_came_from() -> None:
    """Shipped text figures are on the test half (re-scored after the tail was split in two),
    the n-gram's beside them on the same windows; the note names the split and the script."""
    texts = [s for s in SHIPPED if s.spec.task == "text"]
    assert {s.name for s in texts} >= {"nietzsche-lstm", "python-docs-gru"}
    for snap in texts:
        label, value = pretrained.main_score(snap)
        assert label == "test bits/char" and 1.0 < value < 4.0, snap.name
        assert value == pytest.approx(snap.test.loss / 0.6931471805599453)
        assert 1.0 < snap.test.ngram_bits_per_char < 4.0
        assert "test half" in snap.test_note and "rescore_text_snapshots" in snap.test_note


def test_main_score_prefers_the_fresh_figure() -> None:
    adder = next(s for s in SHIPPED if s.spec.task == "addition")
    fresh = replace(adder.test, exact_match=0.5)
    assert pretrained.main_score(adder, fresh) == ("exact match", 0.5)
