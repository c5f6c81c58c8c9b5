"""CLI: train a text model on a tiny corpus file, then generate from it in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )  # fmt: skip


def _corpus(path: Path) -> Path:
    """A 15k-character text of made-up sentences."""
    rng = np.random.default_rng(0)
    words = np.array(
        ["the", "cat", "sat", "on", "a", "mat", "and", "dogs", "ran", "far", "away", "from", "home"]
    )
    text = " ".join(rng.choice(words, 3000)) + "."
    path.write_text(text)
    return path


@pytest.mark.process  # fresh Pythons train and generate
def test_train_then_generate_in_a_fresh_process(tmp_path: Path) -> None:
    corpus, model = _corpus(tmp_path / "cats.txt"), tmp_path / "cats.keras"
    out = _cli(
        "train", "--task", "text", "--corpus", str(corpus), "--cell", "LSTM", "--units", "24",
        "--layers", "1", "--maxlen", "20", "--step", "10", "--epochs", "2",
        "--temperatures", "0.5,1", "--save", str(model), "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["task"] == "text" and result["epochs_run"] == 2
    data = result["config"]["data"]
    assert data["maxlen"] == 20 and data["step"] == 10 and data["temperatures"] == [0.5, 1.0]
    assert result["config"]["model"]["cell"] == "LSTM"
    assert result["test"]["val_loss"] > 0 and 0 <= result["test"]["word_validity"] <= 1
    bits, ngram = result["test"]["bits_per_char"], result["test"]["ngram_bits_per_char"]
    assert bits == pytest.approx(result["test"]["val_loss"] / np.log(2)) and 0 < ngram < 8
    assert "bits_per_char" in out.stderr  # per epoch too
    assert len(result["history"]["val_loss"]) == 2
    assert "word_validity" in out.stderr  # the per-epoch line shows the task's score
    assert (tmp_path / "cats.keras.vocab.json").is_file()

    gen = _cli(
        "generate", "--model", str(model), "--seed", "The cat", "--temperature", "0",
        "--length", "120", "--json",
    )  # fmt: skip
    assert gen.returncode == 0, gen.stderr[-2000:]
    res = json.loads(gen.stdout.strip().splitlines()[-1])
    assert len(res["text"]) == 120 and set(res["text"]) <= set(corpus.read_text())
    assert res["seed"] == "the cat"  # the model was trained lowercased
    assert res["seconds"] > 0 and res["ms_per_char"] == pytest.approx(
        res["seconds"] * 1e3 / 120, abs=1e-3
    )

    bad = _cli("generate", "--model", str(model), "--seed", "Zebra €", "--length", "5")
    assert bad.returncode == 2
    assert "'z'" in bad.stderr and "'€'" in bad.stderr and "alphabet" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_generate_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    out = _cli("generate", "--model", str(tmp_path / "none.keras"), "--seed", "x")
    assert out.returncode == 2 and "no model file" in out.stderr
