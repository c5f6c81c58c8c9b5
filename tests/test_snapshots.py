"""Pretrained snapshots: save -> read -> rebuild gives the same predictions; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnn_core import pretrained as snapshots
from rnn_core.engine.job import TrainingJob
from rnn_core.pretrained import SnapshotError


@pytest.fixture(scope="module")
def saved(tmp_path_factory, trained_tiny_run):
    """The session's tiny addition run (2 epochs, in-thread) saved as a snapshot, once."""
    run = trained_tiny_run
    model, snap = run.job.model, run.job.snapshot()
    folder = tmp_path_factory.mktemp("snap")
    meta = snapshots.save_snapshot(
        folder / "adder.weights.h5",
        model,
        run.spec,
        snap,
        run.score(),
        command="python -m rnn_core …",
    )
    return meta, model, run.data, snap


def test_round_trip_predicts_the_same_and_keeps_the_history(saved) -> None:
    meta, model, data, trained = saved
    snap = snapshots.read_snapshot(meta)
    assert snap.name == "adder" and snap.spec.task == "addition" and snap.epochs == 2
    assert snap.params == model.count_params() and snap.input_shape == (5, 12)
    assert snap.test.questions == len(data.y_test)
    assert [e["epoch"] for e in snap.epoch_logs] == [1.0, 2.0]
    assert snap.epoch_logs[-1]["val_loss"] == pytest.approx(trained.epoch_logs[-1]["val_loss"])
    assert snap.epoch_extras[-1] == trained.epoch_extras[-1]  # the typed report, round-tripped
    assert snap.batch_logs and snap.train_seconds > 0

    weights = snapshots.load_weights(snap)
    assert all(not w.flags.writeable for w in weights)  # shared by sessions: read-only
    copy = snapshots.build_model(snap, list(weights))  # no dataset needed to rebuild
    x = data.x_test[:20]
    np.testing.assert_allclose(
        copy.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6
    )
    copy.layers[-1].set_weights([w * 0 for w in copy.layers[-1].get_weights()])
    assert np.any(weights[-1] != 0)  # changing the copy leaves the loaded arrays alone


def test_listing_and_sizes(saved) -> None:
    meta, model, _, _ = saved
    folder = meta.parent
    (folder / "notes.json").write_text('{"not": "a snapshot"}')
    found = snapshots.list_snapshots(folder)
    assert [s.name for s in found] == ["adder"]
    assert snapshots.list_snapshots(folder, task="imdb") == []
    body = json.loads(meta.read_text())
    weights = folder / "adder.weights.h5"
    assert body["weights_bytes"] == weights.stat().st_size
    assert weights.stat().st_size < 4 * model.count_params() + 80_000  # float32, no optimizer
    assert meta.stat().st_size < 50_000
    assert snapshots.main_score(found[0])[0] == "exact match"


def test_missing_and_corrupt_files_give_one_clear_error(saved, tmp_path: Path) -> None:
    for f in saved[0].parent.iterdir():  # work on copies: other tests share the fixture
        (tmp_path / f.name).write_bytes(f.read_bytes())
    meta = tmp_path / "adder.json"
    with pytest.raises(SnapshotError, match="missing"):
        snapshots.read_snapshot(tmp_path / "nothing.json")
    weights = tmp_path / "adder.weights.h5"
    weights.write_bytes(weights.read_bytes()[:300])  # truncated download
    snap = snapshots.read_snapshot(meta)
    with pytest.raises(SnapshotError, match="could not be read"):
        snapshots.load_weights(snap)
    weights.unlink()
    with pytest.raises(SnapshotError, match="adder.weights.h5.*missing"):
        snapshots.read_snapshot(meta)
    meta.write_text("{ not json")
    with pytest.raises(SnapshotError, match="not readable JSON"):
        snapshots.read_snapshot(meta)


@pytest.mark.slow  # long
def test_preload_then_train_more_continues_the_copy(saved) -> None:
    from rnn_core.tasks import get_task

    meta, _, data, _ = saved
    snap = snapshots.read_snapshot(meta)
    task, spec = get_task("addition"), snap.spec
    model = snapshots.build_model(snap, list(snapshots.load_weights(snap)))
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, on_epoch=task.epoch_report(data))
    job.preload(snap.epoch_logs, snap.train_seconds, snap.epoch_extras, snap.batch_logs)
    first = job.snapshot()
    assert first.state == "done" and first.epoch == 2 and first.progress == 1.0
    assert first.train_seconds == snap.train_seconds and job.history()["loss"][0] > 0
    with pytest.raises(RuntimeError):
        job.preload(snap.epoch_logs, 1.0)  # only once, before any training
    job.start(1)
    after = job.wait(60)
    assert after.state == "done", after.error
    assert after.epoch == 3 and [e["epoch"] for e in after.epoch_logs] == [1.0, 2.0, 3.0]
    assert after.train_seconds > snap.train_seconds
    assert 0 <= after.epoch_extras[-1].exact_match <= 1


def test_preload_rejects_mismatched_extras(saved) -> None:
    meta, model, data, _ = saved
    cfg = snapshots.read_snapshot(meta).spec.train
    job = TrainingJob(model, (data.x_train, data.y_train), None, cfg)
    with pytest.raises(ValueError, match="extras"):
        job.preload([{"epoch": 1.0, "loss": 1.0}], 1.0, extras=[None, None])


@pytest.mark.process
def test_preload_works_for_a_child_process_job(saved) -> None:
    from rnn_core.engine.process import ProcessRunner, new_job

    meta, model, data, _ = saved
    snap = snapshots.read_snapshot(meta)
    job = new_job(model, "addition", data, snap.spec.train, runner=ProcessRunner("addition", data))
    job.preload(snap.epoch_logs, snap.train_seconds, snap.epoch_extras, snap.batch_logs)
    s = job.snapshot()
    assert (s.state, s.epoch, s.progress) == ("done", 2, 1.0) and s.epoch_extras[-1]
    assert job.history()["val_loss"] == [e["val_loss"] for e in snap.epoch_logs]
    assert job.checkpoint is None  # Train more sends this copy's weights to the child


def test_text_export_files_are_read_by_generate(tmp_path: Path, capsys) -> None:
    from rnn_core.cli import main
    from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
    from rnn_core.data.corpus import Corpus
    from rnn_core.export import model_bytes
    from rnn_core.tasks import get_task
    from rnn_core.tasks.text import sidecar_json

    text = " ".join(["the cat sat on a mat and ran home"] * 100)
    spec = RunSpec(
        task="text",
        data=TextConfig(corpus="cats", maxlen=10),
        model=ModelConfig(cell="GRU", units=8, embedding_dim=4),
        train=TrainConfig(epochs=1),
    )
    task = get_task("text")
    data = task.make_data(spec.data, Corpus("cats", text, "test"))
    model = task.build(spec, data)
    (tmp_path / "cats.keras").write_bytes(model_bytes(model))  # the page's two downloads
    (tmp_path / "cats.keras.vocab.json").write_text(sidecar_json(data))
    args = ["generate", "--model", str(tmp_path / "cats.keras"), "--seed", "The cat"]
    assert main([*args, "--length", "30", "--temperature", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["seed"] == "the cat" and len(result["text"]) == 30
    assert set(result["text"]) <= set(data.vocab.chars)
    ids = np.asarray([data.vocab.encode("the cat")], np.int32)  # (1, T)
    first = data.vocab.chars[int(model.predict_on_batch(ids)[0, -1].argmax())]
    assert result["text"][0] == first  # the exported weights, not fresh ones
    assert result["mode"] == "carry"  # the sidecar says the model samples carrying its state


def test_generate_samples_in_window_mode_when_the_model_was_trained_for_it(
    tmp_path: Path, capsys
) -> None:
    from rnn_core.cli import main
    from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
    from rnn_core.data.corpus import Corpus
    from rnn_core.export import model_bytes
    from rnn_core.sampling import CharGenerator
    from rnn_core.tasks import get_task
    from rnn_core.tasks.text import sidecar_json

    text = " ".join(["the cat sat on a mat and ran home"] * 100)
    cfg = TextConfig(corpus="cats", maxlen=6, every_position=False, window_sampling=True)
    spec = RunSpec("text", cfg, ModelConfig(cell="LSTM", units=8, embedding_dim=0), TrainConfig())
    task = get_task("text")
    data = task.make_data(spec.data, Corpus("cats", text, "test"))
    model = task.build(spec, data)
    (tmp_path / "k.keras").write_bytes(model_bytes(model))
    (tmp_path / "k.keras.vocab.json").write_text(sidecar_json(data))
    args = ["generate", "--model", str(tmp_path / "k.keras"), "--seed", "the cat sat on"]
    assert main([*args, "--length", "20", "--temperature", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mode"] == "window"
    gen, seed = CharGenerator.from_keras(model), data.vocab.encode("the cat sat on")
    rng = np.random.default_rng(0)
    keras_way = data.vocab.decode(gen.generate(seed, 20, [0.0], rng, window=6)[0])
    assert result["text"] == keras_way  # re-reading the last 6 characters, as Keras does
    assert main([*args, "--length", "20", "--temperature", "0", "--json", "--no-window"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["mode"] == "carry"
