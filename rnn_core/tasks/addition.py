"""The seq2seq addition task: questions like ``"535+61"`` answered as ``"596"``, as in Keras's
``addition_rnn`` example, with a held-out test set of questions never seen in training."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rnn_core.config import AdditionConfig

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
    return AdditionData(used, x_tr, y_tr, x_va, y_va, x_te, y_te, np.array(test, np.int64), note)


def parse_sum(text: str, digits: int) -> tuple[int, int]:
    """Parse a user's ``"a+b"``; raise ValueError with a message a student can act on."""
    match = _SUM_RE.match(text or "")
    if not match:
        raise ValueError(f"Type a sum like 12+345: two whole numbers joined by '+'. Got {text!r}.")
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


def question_table(pairs: np.ndarray, pred_ids: np.ndarray) -> list[dict[str, object]]:
    """Rows like the Keras example's ``Q 30+59 T 89 ☑ 89`` lines."""
    rows = []
    for (a, b), ids in zip(pairs, pred_ids, strict=True):
        guess = decode(ids).strip()
        truth = str(int(a) + int(b))
        rows.append({"question": f"{a}+{b}", "true": truth, "guess": guess, "ok": guess == truth})
    return rows
