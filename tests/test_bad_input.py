"""Bad-input sweep: each input a student or teacher might try gives one clear message.

Inputs covered elsewhere (and listed in benchmarks/RESULTS.md's sweep table): binary, Latin-1,
tiny and oversized uploads (test_text), malformed sums (test_app), offline without data files
(test_app_classify, test_cli), out-of-alphabet seed text (test_text_page, test_text_cli).
"""

from __future__ import annotations

import re

import pytest

from rnn_core.cli import main

SMALL = ["--task", "addition", "--digits", "1", "--train-size", "50", "--epochs", "1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--units", "0"], "units"),
        (["--units", "-5"], "units"),
        (["--layers", "0"], "layers must be"),
        (["--epochs", "0"], "epochs must be a whole number >= 1"),
        (["--batch-size", "0"], "batch size must be a whole number >= 1"),
        (["--train-size", "0"], "training size must be at least 10"),
        (["--train-size", "-3"], "training size must be at least 10"),
        (["--digits", "9"], "digits must be between 1 and 5"),
        (["--lr", "0"], "learning rate must be in (0, 10]"),
        (["--lr", "-1"], "learning rate must be in (0, 10]"),
        (["--epochs", "100000"], "above this server's limit"),
        (["--units", "5000"], "above this server's limit"),
        (["--train-size", "10000000"], "above this server's limit"),
        (["--preset", "no-such-preset"], "unknown preset"),
    ],
)
def test_cli_bad_numbers_are_one_line_and_exit_2(args, message, capsys) -> None:
    code = main(["train", *SMALL, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dropout", 1.0, "dropout must be in [0, 1)"),
        ("dropout", -0.1, "dropout must be in [0, 1)"),
        ("units", 2.5, "units must be a whole number"),
        ("layers", True, "layers must be a whole number"),
    ],
)
def test_model_config_refuses_impossible_values(field, value, message) -> None:
    from rnn_core.config import ModelConfig

    with pytest.raises(ValueError, match=re.escape(message)):
        ModelConfig(**{field: value})


def test_empty_review_is_refused_with_a_hint() -> None:
    from rnn_core.config import ImdbConfig
    from rnn_core.tasks.imdb import score_review

    with pytest.raises(ValueError, match="at least one word"):
        score_review(None, "   ... !!! ", {"good": 1}, ImdbConfig())
