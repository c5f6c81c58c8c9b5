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
    assert result["test"]["loss"] > 0 and 0 <= result["test"]["word_validity"] <= 1
    bits, ngram = result["test"]["bits_per_char"], result["test"]["ngram_bits_per_char"]
    assert bits == pytest.approx(result["test"]["loss"] / np.log(2)) and 0 < ngram < 8
    assert "val_loss" not in result["test"] and "val_accuracy" not in result["test"]
    assert len(result["history"]["val_bits_per_char"]) == 2  # per epoch: validation
    assert "val_bits_per_char" in out.stderr and "test: bits_per_char" in out.stderr
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


def test_patience_picks_on_validation_and_the_test_half_is_scored_once(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """In-process: every epoch scores the validation half; the test half is scored once, after
    training, on the weights patience kept (the epoch with the best validation bits/char)."""
    from rnn_core.cli import main
    from rnn_core.config import TextConfig
    from rnn_core.tasks import text
    from rnn_core.tasks.text import load_text_model, make_text_data

    corpus, model_path = _corpus(tmp_path / "cats.txt"), tmp_path / "cats.keras"
    data = make_text_data(TextConfig(corpus=str(corpus), maxlen=20, step=10))
    halves = {data.val_read[0].tobytes(): "validation", data.test_read[0].tobytes(): "test"}
    seen: list[str] = []
    scores = text.held_out_scores
    monkeypatch.setattr(
        text, "held_out_scores",
        lambda m, x, y: (seen.append(halves.get(x.tobytes(), "other")), scores(m, x, y))[1],
    )  # fmt: skip
    args = ["train", "--task", "text", "--corpus", str(corpus), "--cell", "GRU", "--units",
            "16", "--maxlen", "20", "--step", "10", "--epochs", "4", "--lr", "0.05",
            "--patience", "1", "--temperatures", "1", "--sample-length", "20",
            "--save", str(model_path), "--json"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    epochs = result["epochs_run"]
    assert seen == ["validation"] * epochs + ["test"]  # the test half once, at the end
    history, test = result["history"]["val_bits_per_char"], result["test"]
    kept, _ = load_text_model(model_path)[:2]
    kept_val, _ = scores(kept, *data.val_read)
    assert kept_val == pytest.approx(min(history), abs=1e-4)  # kept: the best validation epoch
    kept_test, _ = scores(kept, *data.test_read)
    assert test["bits_per_char"] == pytest.approx(kept_test, abs=1e-4)  # reported: on test
    assert test["bits_per_char"] != pytest.approx(kept_val, abs=1e-4)
    assert test["ngram_bits_per_char"] == pytest.approx(data.ngram_test_bits)


def test_generate_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    out = _cli("generate", "--model", str(tmp_path / "none.keras"), "--seed", "x")
    assert out.returncode == 2 and "no model file" in out.stderr
