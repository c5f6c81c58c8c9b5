"""The one run flow: ``rnn_core.run.start_run`` from a spec to a typed Run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnn_core.engine.budgets import Budget, BudgetError
from rnn_core.run import Run, start_run
from rnn_core.tasks import get_task
from rnn_core.tasks.addition import AdditionReport, AdditionResults
from tests.conftest import tiny_spec

keras = pytest.importorskip("keras")


def test_a_tiny_addition_run_trains_to_done_and_scores_once() -> None:
    spec = tiny_spec(epochs=2)
    seen = []

    def load(task, cfg):
        seen.append((task.info.name, cfg))
        return task.make_data(cfg)

    run = start_run(spec, Budget(), load, in_process=True)
    assert isinstance(run, Run) and seen == [("addition", spec.data)]  # data loaded once
    assert run.task is get_task("addition") and run.origin == "trained" and run.pretrained == ""
    assert run.name == "LSTM 8×1" and run.params == run.job.model.count_params()
    assert run.output_size == 12 and run.note == run.data.note  # 12 characters in VOCAB
    assert run.results is None and run.score() is None  # nothing trained yet: not scored
    run.job.start()
    snap = run.job.wait(90)
    assert snap.state == "done" and snap.epoch == 2, snap.error
    assert all(isinstance(r, AdditionReport) for r in snap.epoch_extras)
    results = run.score()
    assert isinstance(results, AdditionResults) and run.scored()
    assert results == run.task.evaluate(run.job.model, run.data)  # the same weights, same scores
    assert (run.results_epoch, run.results_version) == (2, snap.version)
    assert run.score() is results  # scored once per set of weights
    run.release()
    assert run.data is None and run.results is results  # curves and results stay


def test_a_budget_refusal_raises_before_any_data_is_loaded() -> None:
    calls = []
    spec = tiny_spec(epochs=5)
    with pytest.raises(BudgetError, match="epochs 5 is above this server's limit of 3"):
        start_run(spec, Budget(max_epochs=3), lambda task, cfg: calls.append(cfg))
    assert calls == []


def test_a_data_budget_refusal_raises_on_the_built_data() -> None:
    spec = tiny_spec()  # asks for 400 questions: within a limit of 400

    def more(task, cfg):  # a loader whose data is larger than the spec says
        return task.make_data(replace(cfg, train_size=2_000))

    with pytest.raises(BudgetError, match="1,800 training examples is above"):
        start_run(spec, Budget(max_train_size=400), more)


def test_pretrained_runs_have_their_origin_and_history() -> None:
    from rnn_core import pretrained

    (snap,) = pretrained.list_snapshots(pretrained.ASSETS, "addition")
    spec = replace(snap.spec, data=replace(snap.spec.data, train_size=200, test_size=50))
    run = start_run(spec, None, pretrained=snap, in_process=True)
    assert run.origin == "pretrained" and run.pretrained == snap.name
    assert run.name.endswith("· pretrained") and run.params == snap.params
    state = run.job.snapshot()
    assert state.state == "done" and state.epoch == snap.epochs and not run.job.released
    assert state.epoch_extras == snap.epoch_extras  # typed reports, as recorded

    only = start_run(spec, None, lambda task, cfg: None, pretrained=snap)  # no data here
    assert only.origin == "pretrained" and only.data is None and only.job.released
    x = np.zeros((1, *snap.input_shape), np.float32)
    assert only.job.model.predict_on_batch(x).shape[-1] == only.output_size  # it still predicts


def test_the_compare_tables_test_figure_says_why_a_run_has_none() -> None:
    """'training…', 'no epoch trained', the scored figure, or 'not scored': never 'None'."""
    from types import SimpleNamespace

    snap = SimpleNamespace(active=True, epoch=0, version=3)
    job = SimpleNamespace(snapshot=lambda: snap)
    run = Run("LSTM 8×1", tiny_spec(), get_task("addition"), job, 10, None)
    assert run.test_figure() == "training…"
    snap.active = False
    assert run.test_figure() == "no epoch trained"
    snap.epoch = 2
    assert run.test_figure() == "not scored"
    run.results = AdditionResults(exact_match=0.99, accuracy=0.995, questions=50)
    run.results_version = 3
    assert run.test_figure() == "0.9900"
    snap.version = 4  # trained more since: the figure belongs to older weights
    assert run.test_figure() == "not scored"


class _PrimeRecorder:
    """A stand-in pool: records each prime asked for (no worker)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object]] = []

    def prime(self, ident: str, make: object) -> None:
        self.asked.append((ident, make))


def test_a_prime_builds_the_spec_s_model_on_a_small_copy_of_its_data(tmp_path) -> None:
    from rnn_core.config import MnistConfig, ModelConfig, RunSpec, TrainConfig
    from rnn_core.engine.pool import model_key
    from rnn_core.run import PRIME_BATCHES, prime_start, start_run
    from tests.tiny_data import write_mnist

    write_mnist(tmp_path, per_class=20)  # 200 training images
    spec = RunSpec(
        "mnist",
        MnistConfig(data_dir=str(tmp_path)),
        ModelConfig(cell="GRU", units=8),
        TrainConfig(epochs=1, batch_size=16),
    )
    pool = _PrimeRecorder()
    prime_start(spec, pool)  # MNIST reads files: not primed without the page's loader
    assert pool.asked == []
    loaded: list[object] = []

    def loader(task, cfg):
        loaded.append(cfg)
        return task.make_data(cfg)

    prime_start(spec, pool, loader)
    ((ident, make),) = pool.asked
    request, key = make()
    assert loaded[0].train_size == PRIME_BATCHES * 16  # 64 of the 200 images
    x_train = request["data"].x_train
    assert len(x_train) + len(request["data"].x_val) == PRIME_BATCHES * 16
    assert request["target"] == 1 and request["model"]  # one epoch, the model's bytes
    run = start_run(spec, None, in_process=True)  # the Start of the whole data set
    job = run.job
    assert model_key(job.model, spec.train, job.train, job.val) == key  # the same traced model


def test_a_text_prime_reads_a_short_text_with_the_whole_corpus_s_alphabet() -> None:
    """The prime's windows come from a few thousand characters, yet its model (sized by the
    alphabet, which the corpus's last characters extend) is the Start's on the whole corpus."""
    import numpy as np

    from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
    from rnn_core.data.corpus import Corpus
    from rnn_core.engine.pool import model_key
    from rnn_core.run import PRIME_BATCHES, prime_start, start_run
    from rnn_core.tasks.text import prime_corpus

    rng = np.random.default_rng(0)
    words = ["the", "will", "to", "power", "is", "a", "truth"]
    text = " ".join(rng.choice(words, 12_000)) + " quiz? jump! (xyz)"  # rarities at the end
    corpus = Corpus("made", text, "a made-up text")
    spec = RunSpec(
        "text",
        TextConfig(corpus="made", maxlen=20, step=3),
        ModelConfig(cell="GRU", units=8, embedding_dim=8),
        TrainConfig(epochs=1, batch_size=32),
    )
    windows = PRIME_BATCHES * 32
    small = prime_corpus(corpus, spec.data, windows)
    assert len(small.text) < 3_000 < len(text) and set(small.text) == set(text)

    def loader(task, cfg):
        return task.make_data(cfg, prime_corpus(corpus, cfg, windows))

    pool = _PrimeRecorder()
    prime_start(spec, pool, loader)
    ((_, make),) = pool.asked
    request, key = make()
    assert windows <= len(request["data"].x_train) < 2 * windows
    run = start_run(spec, None, lambda task, cfg: task.make_data(cfg, corpus), in_process=True)
    assert len(run.data.x_train) > 10 * windows
    job = run.job
    assert model_key(job.model, spec.train, job.train, job.val) == key  # the same traced model


def test_nothing_is_primed_when_trainings_go_to_a_cluster(monkeypatch) -> None:
    from rnn_core.config import AdditionConfig, RunSpec
    from rnn_core.engine.ray_runner import ADDRESS_ENV
    from rnn_core.run import prime_start

    spec = RunSpec("addition", AdditionConfig(digits=1, train_size=50, test_size=10))
    pool = _PrimeRecorder()
    monkeypatch.setenv(ADDRESS_ENV, "ray://cluster:10001")
    prime_start(spec, pool)  # the cluster trains every run: no local worker to prime
    assert pool.asked == []
    monkeypatch.delenv(ADDRESS_ENV)
    prime_start(spec, pool)  # trainings stay here: primed
    assert [ident for ident, _ in pool.asked] == [repr(spec)]
