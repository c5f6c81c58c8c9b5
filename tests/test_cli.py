"""The CLI drives the same core headless and prints one JSON object as its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


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
