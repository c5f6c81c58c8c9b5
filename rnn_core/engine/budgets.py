"""Budgets for hosted use: maxima on model and data sizes, checked before any training starts.

A budget comes from, in rising priority: the defaults below (generous, for a laptop; class-safe
:data:`HOSTED` ones when :func:`hosted`), a mapping such as the ``[budgets]`` table of
``.streamlit/secrets.toml``, and environment variables ``RNN_LAB_MAX_UNITS`` and so on. The CLI
and the pages check the same budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "RNN_LAB_"
HOSTED_ENV = "RNN_LAB_HOSTED"  # 1: a shared server for visitors; 0: never, whatever the host
CLOUD_CHECKOUT = Path("/mount/src")  # where Community Cloud clones the app's repository
_ROOT = Path(__file__).resolve().parents[2]


def hosted(environ: Mapping[str, str] | None = None, root: Path = _ROOT) -> bool:
    """True on Streamlit Community Cloud or with ``RNN_LAB_HOSTED=1`` (``0`` turns it off).

    Community Cloud documents no flag of its own; its containers are recognised by two marks
    apps rely on: the repository checked out under ``/mount/src`` and ``HOSTNAME=streamlit``.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(HOSTED_ENV, "").strip().lower()
    if raw:
        return raw not in ("0", "false", "no", "off")
    return environ.get("HOSTNAME") == "streamlit" or CLOUD_CHECKOUT in root.parents


class BudgetError(ValueError):
    """A run asks for more than this server allows."""


@dataclass(frozen=True)
class Budget:
    """Largest values a run may ask for on this server."""

    max_units: int = 1024  # units per recurrent layer
    max_layers: int = 4  # stacked recurrent layers
    max_epochs: int = 200  # epochs of one model, counting "train more"
    max_train_size: int = 200_000  # training examples (questions, reviews, images, windows)
    max_maxlen: int = 2_000  # timesteps per sequence (IMDB maxlen, text window)
    max_corpus_chars: int = 5_000_000  # characters of a text corpus (an upload is cut to this)

    @classmethod
    def from_sources(
        cls,
        mapping: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        is_hosted: bool | None = None,
    ) -> Budget:
        """Defaults (:data:`HOSTED` when hosted), then ``mapping`` (e.g. secrets), then
        ``RNN_LAB_MAX_*`` variables. ``is_hosted`` None asks :func:`hosted`."""
        environ = os.environ if environ is None else environ
        base = HOSTED if (hosted(environ) if is_hosted is None else is_hosted) else cls()
        values: dict[str, int] = {}
        for f in fields(cls):
            raw: Any = (mapping or {}).get(f.name)
            source = f"budgets.{f.name}"
            env_name = ENV_PREFIX + f.name.upper()
            if environ.get(env_name, "").strip():
                raw, source = environ[env_name], env_name
            if raw is None:
                continue
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise BudgetError(f"{source} must be a whole number, got {raw!r}") from None
            if value < 1:
                raise BudgetError(f"{source} must be at least 1, got {value}")
            values[f.name] = value
        return replace(base, **values)

    def source(self, name: str) -> str:
        """Where a limit is set, for messages: the environment variable to change."""
        return ENV_PREFIX + name.upper()


HOSTED = Budget(
    max_units=256,
    max_layers=2,
    max_epochs=50,
    max_train_size=60_000,
    max_maxlen=500,
    max_corpus_chars=1_000_000,
)  # class-safe defaults of a hosted server: every run's child stays well under 1 GB


def _limits(spec: Any) -> list[tuple[str, str, int]]:
    """(budget field, label, requested value) for every limited value the spec carries."""
    pairs = [
        ("max_units", "units", getattr(spec.model, "units", None)),
        ("max_layers", "layers", getattr(spec.model, "layers", None)),
        ("max_epochs", "epochs", getattr(spec.train, "epochs", None)),
        ("max_train_size", "training size", getattr(spec.data, "train_size", None)),
        ("max_maxlen", "maxlen", getattr(spec.data, "maxlen", None)),
    ]
    return [(name, label, int(v)) for name, label, v in pairs if v is not None]


def violations(spec: Any, budget: Budget) -> list[str]:
    """One readable line per value of ``spec`` above the budget (empty when it fits)."""
    out = []
    for name, label, value in _limits(spec):
        limit = getattr(budget, name)
        if value > limit:
            out.append(
                f"{label} {value:,} is above this server's limit of {limit:,} "
                f"(set by {budget.source(name)})"
            )
    return out


def check_spec(spec: Any, budget: Budget) -> None:
    """Raise BudgetError listing every value of ``spec`` above the budget."""
    problems = violations(spec, budget)
    if problems:
        raise BudgetError("; ".join(problems))


def check_epochs(done: int, more: int, budget: Budget) -> None:
    """Raise BudgetError when training ``more`` epochs after ``done`` exceeds the budget."""
    if done + more > budget.max_epochs:
        left = max(0, budget.max_epochs - done)
        raise BudgetError(
            f"{done} + {more} epochs is above this server's limit of {budget.max_epochs} "
            f"epochs per model ({left} left; set by {budget.source('max_epochs')})"
        )


def check_data(data: Any, budget: Budget) -> None:
    """Raise BudgetError when built data exceeds the budget (corpus characters, examples)."""
    problems = []
    corpus = getattr(data, "corpus", None)
    chars = len(getattr(corpus, "text", "") or "")
    if chars > budget.max_corpus_chars:
        problems.append(
            f"the corpus has {chars:,} characters, above this server's limit of "
            f"{budget.max_corpus_chars:,} (set by {budget.source('max_corpus_chars')}); "
            "use only the first part of it"
        )
    x = getattr(data, "x_train", None)
    if x is not None and len(x) > budget.max_train_size:
        problems.append(
            f"{len(x):,} training examples is above this server's limit of "
            f"{budget.max_train_size:,} (set by {budget.source('max_train_size')})"
        )
    if problems:
        raise BudgetError("; ".join(problems))
