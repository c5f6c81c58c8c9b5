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


def test_main_score_prefers_the_fresh_figure_and_reads_bits_from_old_json() -> None:
    text = next(s for s in SHIPPED if s.name == "nietzsche-lstm")
    label, value = pretrained.main_score(text)
    assert label == "held-out bits/char"
    assert value == pytest.approx(text.test.val_loss / 0.6931471805599453)
    adder = next(s for s in SHIPPED if s.spec.task == "addition")
    fresh = replace(adder.test, exact_match=0.5)
    assert pretrained.main_score(adder, fresh) == ("exact match", 0.5)
