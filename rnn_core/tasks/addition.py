"""The seq2seq addition task: questions like ``"535+61"`` answered as ``"596"``, as in Keras's
``addition_rnn`` example, with a held-out test set of questions never seen in training."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.config import AdditionConfig, RunSpec
from rnn_core.tasks.base import KerasCode, Report, Results, Task, detail
from rnn_core.tasks.info import TaskInfo

VOCAB = "0123456789+ "  # every character a question or answer may hold
CHAR_TO_ID = {c: i for i, c in enumerate(VOCAB)}
MAX_DIGITS = 5
_SUM_RE = re.compile(r"^\s*(\d+)\s*\+\s*(\d+)\s*$")


@dataclass(frozen=True)
class AdditionData:
    """Encoded train / validation / held-out test splits of the addition task."""

    config: AdditionConfig  # the config that generated the data (sizes may be clamped)
    x_train: np.ndarray  # (N, T_in, V) one-hot questions
    y_train: np.ndarray  # (N, T_out) answer character ids
    x_val: np.ndarray  # (N_val, T_in, V)
    y_val: np.ndarray  # (N_val, T_out)
    x_test: np.ndarray  # (N_test, T_in, V) questions absent from train and validation
    y_test: np.ndarray  # (N_test, T_out)
    test_pairs: np.ndarray  # (N_test, 2) the operands of each test question
    note: str  # explanation when sizes were clamped to what the digit count allows
    val_pairs: np.ndarray | None = None  # (N_val, 2) the operands of each validation question


def question_len(digits: int) -> int:
    """Characters in a padded question: ``digits + '+' + digits``."""
    return 2 * digits + 1


def answer_len(digits: int) -> int:
    """Characters in a padded answer: the sum has at most ``digits + 1`` digits."""
    return digits + 1


def capacity(digits: int) -> int:
    """Number of distinct unordered questions with operands of up to ``digits`` digits."""
    n = 10**digits
    return n * (n + 1) // 2


def _random_numbers(rng: np.random.Generator, digits: int, n: int) -> np.ndarray:
    """Numbers whose length is uniform in 1..digits (digits uniform), as in the Keras example."""
    lengths = rng.integers(1, digits + 1, size=n)
    return rng.integers(0, 10**lengths)  # uniform digits, leading zeros allowed


def _distinct_pairs(rng: np.random.Generator, digits: int, count: int) -> list[tuple[int, int]]:
    """``count`` distinct unordered operand pairs, in random order."""
    if count > capacity(digits) // 4:  # small spaces: enumerate, then shuffle
        a, b = np.triu_indices(10**digits)
        order = rng.permutation(len(a))[:count]
        return list(zip(a[order].tolist(), b[order].tolist(), strict=True))
    seen: set[tuple[int, int]] = set()
    pairs: list[tuple[int, int]] = []
    while len(pairs) < count:
        for a, b in zip(*(_random_numbers(rng, digits, count).tolist() for _ in "ab"), strict=True):
            key = (min(a, b), max(a, b))
            if key not in seen:
                seen.add(key)
                pairs.append((a, b))
    return pairs[:count]


_LOOKUP = np.zeros(256, np.int32)
_LOOKUP[np.frombuffer(VOCAB.encode(), np.uint8)] = np.arange(len(VOCAB))


def _texts_to_ids(texts: list[str], length: int) -> np.ndarray:
    """Map equal-length ASCII strings to character ids. Returns (N, length)."""
    raw = np.frombuffer("".join(texts).encode("ascii"), np.uint8)
    return _LOOKUP[raw].reshape(len(texts), length)  # (N, length)


def encode_question(a: int, b: int, digits: int, reverse: bool) -> np.ndarray:
    """One-hot encode ``a+b`` padded to the question length. Returns (T_in, V)."""
    text = f"{a}+{b}".ljust(question_len(digits))
    if reverse:
        text = text[::-1]
    ids = [CHAR_TO_ID[c] for c in text]
    return np.eye(len(VOCAB), dtype=np.float32)[ids]  # (T_in, V)


def encode_answer(total: int, digits: int) -> np.ndarray:
    """Character ids of the padded answer. Returns (T_out,)."""
    return np.array([CHAR_TO_ID[c] for c in str(total).ljust(answer_len(digits))], np.int32)


def decode(ids: np.ndarray) -> str:
    """Turn character ids (or per-character probabilities) back into text."""
    ids = np.asarray(ids)
    if ids.ndim == 2:  # (T, V) probabilities
        ids = ids.argmax(axis=-1)
    return "".join(VOCAB[int(i)] for i in ids)


def _encode_pairs(pairs: list[tuple[int, int]], cfg: AdditionConfig) -> tuple:
    """Encode operand pairs into (x one-hot, y ids) arrays."""
    t_in, t_out = question_len(cfg.digits), answer_len(cfg.digits)
    questions = [f"{a}+{b}".ljust(t_in) for a, b in pairs]
    if cfg.reverse:
        questions = [q[::-1] for q in questions]
    q_ids = _texts_to_ids(questions, t_in)  # (N, T_in)
    x = np.eye(len(VOCAB), dtype=np.float32)[q_ids]  # (N, T_in, V)
    y = _texts_to_ids([str(a + b).ljust(t_out) for a, b in pairs], t_out)  # (N, T_out)
    return x, y


def make_addition_data(cfg: AdditionConfig) -> AdditionData:
    """Generate distinct questions and split them into train, validation and held-out test."""
    if not 1 <= cfg.digits <= MAX_DIGITS:
        raise ValueError(f"digits must be between 1 and {MAX_DIGITS}, got {cfg.digits}")
    if cfg.train_size < 10 or cfg.test_size < 1:
        raise ValueError("training size must be at least 10 and test size at least 1")
    rng = np.random.default_rng(cfg.seed)
    room = capacity(cfg.digits)
    test_size = min(cfg.test_size, room // 5)
    train_size = min(cfg.train_size, room - test_size)
    note = ""
    if (train_size, test_size) != (cfg.train_size, cfg.test_size):
        note = (
            f"With {cfg.digits} digit(s) there are only {room:,} distinct questions: "
            f"using {train_size:,} for training and {test_size:,} held out for testing."
        )
    pairs = _distinct_pairs(rng, cfg.digits, train_size + test_size)
    n_val = max(1, int(round(train_size * cfg.val_fraction)))
    train, val, test = (
        pairs[: train_size - n_val],
        pairs[train_size - n_val : train_size],
        pairs[train_size:],
    )
    x_tr, y_tr = _encode_pairs(train, cfg)
    x_va, y_va = _encode_pairs(val, cfg)
    x_te, y_te = _encode_pairs(test, cfg)
    used = AdditionConfig(**{**cfg.__dict__, "train_size": train_size, "test_size": test_size})
    return AdditionData(
        used, x_tr, y_tr, x_va, y_va, x_te, y_te, np.array(test, np.int64), note,
        val_pairs=np.array(val, np.int64).reshape(-1, 2),
    )  # fmt: skip


def example_sum(digits: int) -> str:
    """A sum a ``digits``-digit model accepts: ``"531+61"`` for 3 digits, ``"53+6"`` for 2."""
    return f"{'53182'[:digits]}+{'61'[: max(1, digits - 1)]}"


def parse_sum(text: str, digits: int) -> tuple[int, int]:
    """Parse a user's ``"a+b"``; raise ValueError with a message a student can act on."""
    match = _SUM_RE.match(text or "")
    if not match:
        raise ValueError(
            f"Type a sum like {example_sum(digits)}: two whole numbers of up to {digits} "
            f"digit(s) joined by '+'. Got {text!r}."
        )
    a, b = int(match.group(1)), int(match.group(2))
    limit = 10**digits - 1
    if a > limit or b > limit:
        raise ValueError(
            f"This model was trained on numbers of up to {digits} digit(s) "
            f"(at most {limit}); {a}+{b} is outside what it has seen."
        )
    return a, b


def exact_match(pred_ids: np.ndarray, y: np.ndarray) -> float:
    """Share of questions whose whole predicted answer equals the true one."""
    return float(np.mean(np.all(pred_ids == y, axis=-1)))


def char_accuracy(pred_ids: np.ndarray, y: np.ndarray) -> float:
    """Share of answer characters predicted correctly."""
    return float(np.mean(pred_ids == y))


@dataclass(frozen=True)
class QuestionRow:
    """One held-out question and the model's answer, like Keras's ``Q 30+59 T 89 ☑ 89``."""

    question: str  # e.g. "30+59"
    true: str  # the right answer
    guess: str  # the model's answer, blanks stripped
    ok: bool  # guess == true


def question_table(pairs: np.ndarray, pred_ids: np.ndarray) -> tuple[QuestionRow, ...]:
    """Rows like the Keras example's ``Q 30+59 T 89 ☑ 89`` lines."""
    rows = []
    for (a, b), ids in zip(pairs, pred_ids, strict=True):
        guess = decode(ids).strip()
        truth = str(int(a) + int(b))
        rows.append(QuestionRow(f"{a}+{b}", truth, guess, guess == truth))
    return tuple(rows)


@dataclass(frozen=True)
class AdditionReport(Report):
    """After one epoch: exact match on the validation questions and the first few answered.

    Never the test questions: those are scored once, when training has ended.
    """

    exact_match: float  # share of validation questions whose whole answer is right
    table: tuple[QuestionRow, ...]  # the first validation questions with the model's answers
    split: str = "validation"  # the questions scored ("test" in files saved before 2026-12)

    @property
    def score(self) -> float:
        """Exact match on ``split`` (validation questions)."""
        return self.exact_match

    def val_scores(self) -> dict[str, float]:
        """``val_exact_match``: the share of validation questions answered entirely right."""
        return {"val_exact_match": float(self.exact_match)} if self.split == "validation" else {}

    @classmethod
    def from_plain(cls, values: Any) -> AdditionReport:
        """Rebuild from JSON (rows are dicts there); older files scored the test questions."""
        rows = tuple(QuestionRow(**r) for r in values["table"])
        return cls(float(values["exact_match"]), rows, str(values.get("split", "test")))


@dataclass(frozen=True)
class AdditionResults(Results):
    """Scores on every held-out question."""

    exact_match: float  # share of questions answered entirely right
    accuracy: float  # share of answer characters right
    questions: int  # held-out questions scored
    predicted: np.ndarray | None = detail()  # (N_test, T_out) predicted character ids

    @property
    def headline(self) -> tuple[str, float]:
        """Exact match."""
        return "exact match", self.exact_match


_KERAS_DATA = '''\
# Data: questions such as "535+61" and their answers "596", one-hot encoded per character.
DIGITS, TRAIN_SIZE, REVERSE = {digits}, {train_size}, {reverse}
VOCAB = "0123456789+ "
T_IN, T_OUT = 2 * DIGITS + 1, DIGITS + 1
rng = np.random.default_rng({seed})


def numbers(n):
    """Numbers whose digit count is uniform in 1..DIGITS."""
    return rng.integers(0, 10 ** rng.integers(1, DIGITS + 1, size=n))


a, b = numbers(TRAIN_SIZE), numbers(TRAIN_SIZE)
questions = [f"{{x}}+{{y}}".ljust(T_IN) for x, y in zip(a, b)]
questions = [q[::-1] for q in questions] if REVERSE else questions
answers = [str(x + y).ljust(T_OUT) for x, y in zip(a, b)]
index = {{c: i for i, c in enumerate(VOCAB)}}
x = np.eye(len(VOCAB), dtype="float32")[[[index[c] for c in q] for q in questions]]  # (N, T_IN, V)
y = np.array([[index[c] for c in s] for s in answers])  # (N, T_OUT)
'''


class AdditionTask(Task):
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
    report_type = AdditionReport
    results_type = AdditionResults
    steppable = True

    def val_metrics(self) -> dict[str, str]:
        """Keras's ``val_loss`` and ``val_accuracy`` (per character), and ``val_exact_match``."""
        return super().val_metrics() | {"val_exact_match": "max"}

    def make_data(self, cfg: AdditionConfig, source: Any = None) -> AdditionData:
        """Generate the question sets (there is no shared source)."""
        return make_addition_data(cfg)

    def build(self, spec: RunSpec, data: AdditionData) -> Any:
        """Build and compile the encoder-decoder model."""
        from rnn_core.models import build_seq2seq, compile_model

        d = data.config.digits
        model = build_seq2seq(spec.model, question_len(d), len(VOCAB), answer_len(d))
        compile_model(model, spec.train, "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def splits(self, data: AdditionData) -> tuple:
        """((x_train, y_train), (x_val, y_val)) for the engine."""
        return (data.x_train, data.y_train), (data.x_val, data.y_val)

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Answer character ids for encoded questions. Returns (N, T_out)."""
        probs = np.asarray(model.predict_on_batch(x))  # (N, T_out, V)
        return probs.argmax(axis=-1)  # (N, T_out)

    def epoch_report(self, data: AdditionData, shown: int = 10):
        """A hook for the engine: exact match on the validation questions plus a sample table
        (the test questions are never looked at during training)."""

        def hook(model: Any, epoch: int) -> AdditionReport:
            ids = self.predict(model, data.x_val)  # (N_val, T_out)
            table = question_table(data.val_pairs[:shown], ids[:shown])
            return AdditionReport(exact_match(ids, data.y_val), table)

        return hook

    def evaluate(self, model: Any, data: AdditionData) -> AdditionResults:
        """Held-out test metrics: exact match and per-character accuracy."""
        ids = self.predict(model, data.x_test)  # (N_test, T_out)
        return AdditionResults(
            exact_match(ids, data.y_test), char_accuracy(ids, data.y_test), len(data.y_test), ids
        )

    def answer(self, model: Any, text: str, cfg: AdditionConfig) -> QuestionRow:
        """Answer a user's sum; raises ValueError with a readable message on bad input."""
        a, b = parse_sum(text, cfg.digits)
        x = encode_question(a, b, cfg.digits, cfg.reverse)[None]  # (1, T_in, V)
        guess = decode(self.predict(model, x)[0]).strip()
        return QuestionRow(f"{a}+{b}", str(a + b), guess, guess == str(a + b))

    def keras_code(self, spec: RunSpec) -> KerasCode:
        """Data generation, encoder RNNs -> RepeatVector -> decoder RNNs -> TimeDistributed."""
        from rnn_core.export import rnn_stack

        d = spec.data
        data = _KERAS_DATA.format(
            digits=d.digits, train_size=d.train_size, reverse=d.reverse, seed=d.seed
        )
        lines = ["inputs = keras.Input((T_IN, len(VOCAB)))", "h = inputs"]
        lines += rnn_stack(spec, False, spec.model.bidirectional)
        lines.append("h = keras.layers.RepeatVector(T_OUT)(h)")
        lines += rnn_stack(spec, True, False)
        lines.append(
            'outputs = keras.layers.TimeDistributed(keras.layers.Dense(len(VOCAB), "softmax"))(h)'
        )
        return KerasCode(data, tuple(lines), "sparse_categorical_crossentropy")

    def stepper_choices(self, data: AdditionData, limit: int) -> list[str]:
        """ "#i: a+b" for the first ``limit`` held-out questions."""
        return [f"#{i}: {a}+{b}" for i, (a, b) in enumerate(data.test_pairs[:limit])]

    def stepper_input(self, model: Any, data: AdditionData, index: int, top: int) -> dict:
        """The encoder reads held-out question ``index`` one character per timestep."""
        from rnn_core.stepper.sources import addition_input

        return addition_input(model, data, index)
