"""Task registry: how each task makes its data, builds its model and scores it.

The CLI and the pages both go through :func:`get_task`, so the per-task switch exists once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core.config import AdditionConfig, RunSpec
from rnn_core.tasks import addition
from rnn_core.tasks.imdb import ImdbTask
from rnn_core.tasks.info import TaskInfo
from rnn_core.tasks.mnist import MnistTask
from rnn_core.tasks.text import TextTask

__all__ = ["TASKS", "AdditionTask", "TaskInfo", "get_task", "run_name"]


class AdditionTask:
    """Seq2seq addition: encoder RNN reads ``535+61``, decoder writes ``596``."""

    info = TaskInfo(
        name="addition",
        label="Addition (seq2seq)",
        rnn_type="many-to-many",
        metric="accuracy",
        description=(
            "The encoder reads a question such as 535+61 one character at a time; the decoder "
            "writes the answer 596 one character at a time. Accuracy is per character; exact "
            "match counts questions whose whole answer is right."
        ),
    )
    data_config = AdditionConfig

    def make_data(self, cfg: AdditionConfig) -> addition.AdditionData:
        """Generate the question sets."""
        return addition.make_addition_data(cfg)

    def build(self, spec: RunSpec, data: addition.AdditionData) -> Any:
        """Build and compile the encoder-decoder model."""
        from rnn_core.models import build_seq2seq, compile_model

        d = data.config.digits
        model = build_seq2seq(
            spec.model, addition.question_len(d), len(addition.VOCAB), addition.answer_len(d)
        )
        compile_model(model, spec.train, "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def splits(self, data: addition.AdditionData) -> tuple:
        """((x_train, y_train), (x_val, y_val)) for the engine."""
        return (data.x_train, data.y_train), (data.x_val, data.y_val)

    def predict_ids(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Answer character ids for encoded questions. Returns (N, T_out)."""
        probs = np.asarray(model.predict_on_batch(x))  # (N, T_out, V)
        return probs.argmax(axis=-1)  # (N, T_out)

    def epoch_report(self, data: addition.AdditionData, shown: int = 10):
        """A hook for the engine: exact match on held-out questions plus a sample table."""

        def hook(model: Any, epoch: int) -> dict[str, Any]:
            ids = self.predict_ids(model, data.x_test)
            table = addition.question_table(data.test_pairs[:shown], ids[:shown])
            return {"exact_match": addition.exact_match(ids, data.y_test), "table": table}

        return hook

    def evaluate(self, model: Any, data: addition.AdditionData) -> dict[str, float]:
        """Held-out test metrics: exact match and per-character accuracy."""
        ids = self.predict_ids(model, data.x_test)
        return {
            "exact_match": addition.exact_match(ids, data.y_test),
            "accuracy": addition.char_accuracy(ids, data.y_test),
            "questions": int(len(data.y_test)),
        }

    def answer(self, model: Any, text: str, cfg: AdditionConfig) -> dict[str, Any]:
        """Answer a user's sum; raises ValueError with a readable message on bad input."""
        a, b = addition.parse_sum(text, cfg.digits)
        x = addition.encode_question(a, b, cfg.digits, cfg.reverse)[None]  # (1, T_in, V)
        guess = addition.decode(self.predict_ids(model, x)[0]).strip()
        return {
            "question": f"{a}+{b}",
            "true": str(a + b),
            "guess": guess,
            "ok": guess == str(a + b),
        }


TASKS: dict[str, Any] = {"addition": AdditionTask(), "imdb": ImdbTask(), "mnist": MnistTask()}
TASKS["text"] = TextTask()


def get_task(name: str) -> Any:
    """The registered task called ``name``; ValueError listing the choices otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]


def run_name(spec: RunSpec) -> str:
    """A short legend label such as ``LSTM 128×2``."""
    m = spec.model
    bi = "bi-" if m.bidirectional else ""
    return f"{bi}{m.cell} {m.units}×{m.layers}"
