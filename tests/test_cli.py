"""The CLI drives the same core headless and prints one JSON object as its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.mark.process  # a fresh Python trains
def test_train_addition_json(tmp_path: Path) -> None:
    model_path = tmp_path / "adder.keras"
    out = _cli(
        "train", "--task", "addition", "--cell", "GRU", "--units", "16", "--layers", "2",
        "--digits", "2", "--train-size", "500", "--epochs", "2", "--batch-size", "64",
        "--optimizer", "rmsprop", "--lr", "0.003", "--seed", "5", "--no-reverse",
        "--save", str(model_path), "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["task"] == "addition" and result["epochs_run"] == 2
    cfg = result["config"]
    assert cfg["model"] == {**cfg["model"], "cell": "GRU", "units": 16, "layers": 2, "seed": 5}
    assert cfg["data"]["digits"] == 2 and cfg["data"]["reverse"] is False
    assert cfg["train"]["optimizer"] == "rmsprop" and cfg["train"]["batch_size"] == 64
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(result["history"])
    assert len(result["history"]["loss"]) == 2
    assert 0 <= result["test"]["exact_match"] <= result["test"]["accuracy"] <= 1
    assert result["train_seconds"] > 0
    assert "epoch 2/2" in out.stderr  # progress goes to stderr, one line per epoch

    import keras

    model = keras.saving.load_model(model_path)
    assert model.count_params() == result["params"]


@pytest.mark.process  # a fresh Python trains
def test_presets_are_listed_and_a_preset_runs() -> None:
    listed = _cli("presets", "--json")
    assert listed.returncode == 0
    names = [p["name"] for p in json.loads(listed.stdout)]
    assert "addition-tiny" in names and "addition-fast" in names
    out = _cli("train", "--preset", "addition-tiny", "--epochs", "1", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["epochs_run"] == 1 and result["config"]["model"]["units"] == 32


def test_bad_input_is_one_clear_line_not_a_traceback() -> None:
    for args, message in [
        (["train", "--preset", "nope"], "unknown preset"),
        (["train", "--task", "addition", "--digits", "9", "--epochs", "1"], "digits must be"),
    ]:
        out = _cli(*args)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.process  # a fresh Python trains
def test_until_and_patience_json_contract(tmp_path: Path) -> None:
    """--until stops on validation and says why; history has seconds and val_exact_match."""
    out = _cli(
        "train", "--task", "addition", "--cell", "GRU", "--units", "8", "--digits", "2",
        "--train-size", "300", "--test-size", "20", "--epochs", "4", "--batch-size", "64",
        "--seed", "3", "--until", "val_loss>=100", "--patience", "1", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    history = result["history"]
    epochs = result["epochs_run"]
    assert result["config"]["train"]["until"] == "val_loss>=100"
    assert result["config"]["train"]["patience"] == 1
    # "best" is the highest val_loss, i.e. epoch 1 while the loss falls: stopped at epoch 2
    assert epochs == 2 and history["val_loss"][1] < history["val_loss"][0]
    assert result["stop_reason"].startswith("stopped at epoch 2: val_loss has not improved")
    assert "weights restored from epoch 1" in result["stop_reason"]
    assert result["stop_reason"] in out.stderr
    assert len(history["seconds"]) == len(history["val_exact_match"]) == epochs
    assert 0 < history["seconds"][0] < history["seconds"][1] <= result["train_seconds"]
    assert all(0 <= v <= 1 for v in history["val_exact_match"])
    assert result["test"]["questions"] == 20


def test_the_test_set_is_scored_once_after_training(monkeypatch, capsys) -> None:
    """In-process: every prediction during training reads the validation questions; the
    test questions are read once, by the final evaluate."""
    from rnn_core.cli import main
    from rnn_core.tasks.addition import AdditionTask

    seen: list[int] = []
    predict = AdditionTask.predict
    monkeypatch.setattr(
        AdditionTask,
        "predict",
        lambda self, model, x: (seen.append(len(x)), predict(self, model, x))[1],
    )
    args = ["train", "--task", "addition", "--units", "8", "--digits", "2", "--train-size",
            "400", "--test-size", "25", "--epochs", "2", "--batch-size", "64",
            "--json"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert seen == [40, 40, 25]  # 2 epochs of the 40 validation questions, then the test once
    assert result["test"]["questions"] == 25
    assert result["stop_reason"] == "" and len(result["history"]["seconds"]) == 2


def test_until_errors_are_one_line() -> None:
    for until, message in [
        ("val_bits_per_char<=2", "not a validation metric of the addition task"),
        ("val_accuracy=0.9", "write METRIC>=VALUE"),
        ("test_accuracy>=0.9", "not a validation metric"),
    ]:
        out = _cli("train", "--task", "addition", "--epochs", "1", "--until", until)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


# ----- IMDB and MNIST: tiny Keras-format files in a temporary data dir ------------------------
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def _cli_env(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """The CLI with extra environment variables, a private Keras cache and no network."""
    import os

    full = {k: v for k, v in os.environ.items() if k != "RNN_LAB_DATA_DIR"}
    full.update(OFFLINE)  # any download attempt fails at once on a closed local port
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=full,
    )


@pytest.mark.process  # a fresh Python trains
def test_train_imdb_json_on_tiny_data(tmp_path: Path) -> None:
    from tests.tiny_data import write_imdb

    data_dir = write_imdb(tmp_path / "data")
    out = _cli_env(
        "train", "--task", "imdb", "--cell", "GRU", "--bidirectional", "--units", "8",
        "--layers", "2", "--maxlen", "30", "--num-words", "50", "--embedding-dim", "8",
        "--train-size", "60", "--epochs", "2", "--batch-size", "16", "--data-dir", str(data_dir),
        "--json",
        env={"KERAS_HOME": str(tmp_path / "keras")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    cfg = result["config"]
    assert result["task"] == "imdb" and result["epochs_run"] == 2
    assert cfg["data"] == {**cfg["data"], "maxlen": 30, "num_words": 50, "train_size": 60}
    assert cfg["model"] == {**cfg["model"], "cell": "GRU", "bidirectional": True, "layers": 2}
    assert cfg["model"]["embedding_dim"] == 8 and cfg["data"]["data_dir"] == str(data_dir)
    assert result["test"]["reviews"] == 40  # the whole (tiny) test set
    assert 0 <= result["test"]["accuracy"] <= 1
    assert len(result["history"]["val_accuracy"]) == 2
    n_train = 60 - int(60 * cfg["data"]["val_fraction"])  # the rest validates
    assert f"Training on {n_train} reviews" in out.stderr
    assert "test_accuracy" not in out.stderr  # epoch lines: validation only; test once, at the end
    assert out.stderr.index("val_accuracy") < out.stderr.index("test: accuracy")


@pytest.mark.process  # a fresh Python trains
def test_train_mnist_preset_with_data_dir_from_the_environment(tmp_path: Path) -> None:
    from tests.tiny_data import write_mnist

    data_dir = write_mnist(tmp_path / "data")
    out = _cli_env(
        "train", "--preset", "mnist-fast", "--epochs", "1", "--json",
        env={"RNN_LAB_DATA_DIR": str(data_dir), "KERAS_HOME": str(tmp_path / "keras")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    from rnn_core.presets import PRESETS

    preset = PRESETS["mnist-fast"].spec.to_dict()
    assert result["config"]["model"] == preset["model"] and result["task"] == "mnist"
    assert result["test"]["images"] == 30 and 0 <= result["test"]["accuracy"] <= 1


def test_every_preset_gives_its_spec_and_flags_override_it() -> None:
    from rnn_core.cli import build_parser, spec_from_args
    from rnn_core.presets import PRESETS

    for name, preset in PRESETS.items():
        args = build_parser().parse_args(["train", "--preset", name])
        assert spec_from_args(args) == preset.spec, name
    args = build_parser().parse_args(["train", "--preset", "imdb-fast", "--maxlen", "77"])
    assert spec_from_args(args).data.maxlen == 77
    argv = ["train", "--task", "mnist", "--steps-per-execution", "8", "--rows-per-step", "4"]
    spec = spec_from_args(build_parser().parse_args(argv))
    assert (spec.train.steps_per_execution, spec.data.rows_per_step) == (8, 4)
    args = build_parser().parse_args(
        ["train", "--preset", "mnist-fast-constant", "--schedule", "cosine"]
    )
    assert spec_from_args(args) == PRESETS["mnist-fast"].spec  # the lesson's pair differs by it


@pytest.mark.process  # a fresh Python imports TensorFlow
def test_missing_data_is_a_message_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for task in ("imdb", "mnist"):
        out = _cli_env(
            "train", "--task", task, "--epochs", "1", "--data-dir", str(empty),
            env={"KERAS_HOME": str(tmp_path / "keras")},
        )  # fmt: skip
        assert out.returncode == 2, out.stderr[-2000:]
        assert "Traceback" not in out.stderr
        assert f"python -m rnn_core fetch --data-dir {empty}" in out.stderr
        assert ("imdb.npz" if task == "imdb" else "mnist.npz") in out.stderr
        assert "RNN_LAB_DATA_DIR" in out.stderr


def test_fetch_offline_says_what_failed_and_exits_nonzero(tmp_path, monkeypatch, capsys) -> None:
    import keras

    from rnn_core.cli import main

    def offline(*args: object, **kwargs: object) -> str:
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    assert main(["fetch", "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "could not download" in err and "imdb.npz" in err and "mnist.npz" in err
    assert f"python -m rnn_core fetch --data-dir {tmp_path / 'd'}" in err
    assert "Traceback" not in err


def test_fetch_copies_every_file_into_the_data_dir(tmp_path, monkeypatch, capsys) -> None:
    import keras

    from rnn_core.cli import main

    def fake_get_file(fname: str, origin: str, extract: bool = False, **kwargs: object) -> str:
        path = tmp_path / "cache" / fname  # a zip's "extracted" folder holds the file unzipped
        path = path / fname.removesuffix(".zip") if extract else path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(origin)
        return str(path.parent if extract else path)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    monkeypatch.setenv("RNN_LAB_DATA_DIR", str(tmp_path / "class"))
    assert main(["fetch"]) == 0
    names = sorted(p.name for p in (tmp_path / "class").iterdir())
    assert names == [
        "imdb.npz", "imdb_word_index.json", "jena_climate_2009_2016.csv", "mnist.npz",
        "nietzsche.txt",
    ]  # fmt: skip
    assert "done" in capsys.readouterr().err
