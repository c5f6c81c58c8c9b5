"""Budgets: sources and priority, spec checks, epoch checks, and the CLI obeying them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine.budgets import Budget, BudgetError, check_epochs, check_spec, violations

ROOT = Path(__file__).resolve().parent.parent


def _spec(units: int = 32, layers: int = 1, epochs: int = 2, train_size: int = 500) -> RunSpec:
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=2, train_size=train_size),
        model=ModelConfig(units=units, layers=layers),
        train=TrainConfig(epochs=epochs),
    )


def test_defaults_when_nothing_is_set() -> None:
    assert Budget.from_sources({}, {}) == Budget()


def test_environment_overrides_mapping_which_overrides_defaults() -> None:
    b = Budget.from_sources(
        {"max_units": 256, "max_layers": 2}, {"RNN_LAB_MAX_UNITS": "64", "RNN_LAB_MAX_EPOCHS": ""}
    )
    assert b.max_units == 64  # environment wins
    assert b.max_layers == 2  # from the mapping
    assert b.max_epochs == Budget().max_epochs  # empty variable is ignored


@pytest.mark.parametrize("raw", ["lots", "0", "-5", "1.5"])
def test_bad_budget_values_are_named(raw: str) -> None:
    with pytest.raises(BudgetError, match="RNN_LAB_MAX_UNITS"):
        Budget.from_sources({}, {"RNN_LAB_MAX_UNITS": raw})


def test_spec_within_budget_passes() -> None:
    b = Budget(max_units=32, max_layers=1, max_epochs=2, max_train_size=500)
    assert violations(_spec(), b) == []
    check_spec(_spec(), b)


def test_every_exceeded_value_is_reported_with_its_limit_and_variable() -> None:
    b = Budget(max_units=16, max_layers=1, max_epochs=1, max_train_size=100)
    problems = violations(_spec(units=32, layers=2, epochs=2, train_size=500), b)
    assert len(problems) == 4
    joined = " | ".join(problems)
    for text in ("units 32", "limit of 16", "RNN_LAB_MAX_UNITS", "layers 2", "epochs 2"):
        assert text in joined
    assert "training size 500 is above this server's limit of 100" in joined
    with pytest.raises(BudgetError, match="units 32"):
        check_spec(_spec(units=32), b)


def test_maxlen_is_checked_when_the_data_config_has_one() -> None:
    from rnn_core.config import ImdbConfig

    spec = RunSpec(task="imdb", data=ImdbConfig(maxlen=800), model=ModelConfig(units=8))
    assert violations(spec, Budget(max_maxlen=500)) == [
        "maxlen 800 is above this server's limit of 500 (set by RNN_LAB_MAX_MAXLEN)"
    ]


def test_train_more_counts_the_epochs_already_done() -> None:
    b = Budget(max_epochs=10)
    check_epochs(6, 4, b)
    with pytest.raises(BudgetError, match="4 left"):
        check_epochs(6, 5, b)


def test_cli_refuses_a_run_above_the_budget_without_traceback() -> None:
    env = {**os.environ, "RNN_LAB_MAX_UNITS": "8", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "rnn_core", "train", "--task", "addition", "--units", "16",
         "--digits", "1", "--train-size", "50", "--epochs", "1", "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert "units 16 is above this server's limit of 8" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def test_built_data_is_checked_for_corpus_size_and_example_count() -> None:
    from types import SimpleNamespace

    import numpy as np

    from rnn_core.engine.budgets import check_data

    data = SimpleNamespace(corpus=SimpleNamespace(text="x" * 500), x_train=np.zeros((40, 3)))
    check_data(data, Budget(max_corpus_chars=500, max_train_size=40))
    with pytest.raises(BudgetError, match="500 characters, above this server's limit of 499"):
        check_data(data, Budget(max_corpus_chars=499))
    with pytest.raises(BudgetError, match="40 training examples is above .* limit of 39"):
        check_data(data, Budget(max_train_size=39))
