"""The addition task's data: distinct questions, a truly held-out test set, encodings."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import AdditionConfig
from rnn_core.tasks import addition


def _questions(x: np.ndarray, reverse: bool) -> list[str]:
    texts = [addition.decode(q) for q in x]
    return [t[::-1] if reverse else t for t in texts]


def _pairs(x: np.ndarray, reverse: bool) -> set[tuple[int, int]]:
    out = set()
    for q in _questions(x, reverse):
        a, b = (int(v) for v in q.strip().split("+"))
        out.add((min(a, b), max(a, b)))
    return out


@pytest.mark.parametrize("reverse", [True, False])
def test_splits_are_distinct_and_held_out(reverse: bool) -> None:
    data = addition.make_addition_data(
        AdditionConfig(digits=3, train_size=3000, test_size=300, reverse=reverse, seed=4)
    )
    train, val, test = (_pairs(x, reverse) for x in (data.x_train, data.x_val, data.x_test))
    assert len(train) == len(data.x_train)  # no duplicate question inside a split
    assert len(train) + len(val) == 3000 and len(test) == 300
    assert not train & test and not val & test and not train & val


def test_answers_are_the_sums_of_the_questions() -> None:
    data = addition.make_addition_data(AdditionConfig(digits=2, train_size=500, seed=2))
    for q, y in zip(_questions(data.x_train, True), data.y_train, strict=True):
        a, b = (int(v) for v in q.strip().split("+"))
        assert addition.decode(y).strip() == str(a + b)
    assert data.x_train.shape[1:] == (5, len(addition.VOCAB))  # "99+99" is 5 characters
    assert data.y_train.shape[1] == 3


def test_reverse_reverses_the_question_text() -> None:
    fwd = addition.decode(addition.encode_question(12, 345, 3, reverse=False))
    rev = addition.decode(addition.encode_question(12, 345, 3, reverse=True))
    assert fwd == "12+345 " and rev == fwd[::-1]


def test_same_seed_same_data_other_seed_other_data() -> None:
    cfg = AdditionConfig(digits=3, train_size=1000, seed=7)
    a, b = addition.make_addition_data(cfg), addition.make_addition_data(cfg)
    c = addition.make_addition_data(AdditionConfig(digits=3, train_size=1000, seed=8))
    assert np.array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_small_digit_counts_are_clamped_with_a_note() -> None:
    data = addition.make_addition_data(AdditionConfig(digits=1, train_size=50_000))
    assert addition.capacity(1) == 55
    n = len(data.x_train) + len(data.x_val) + len(data.x_test)
    assert n == 55 and "55" in data.note
    assert len(_pairs(data.x_test, True) & _pairs(data.x_train, True)) == 0


@pytest.mark.parametrize("digits", [0, 6])
def test_bad_digit_counts_are_rejected(digits: int) -> None:
    with pytest.raises(ValueError, match="digits"):
        addition.make_addition_data(AdditionConfig(digits=digits))


@pytest.mark.parametrize(
    ("text", "expected"), [("12+345", (12, 345)), (" 7 + 8 ", (7, 8)), ("0+0", (0, 0))]
)
def test_parse_sum_accepts_sums(text: str, expected: tuple[int, int]) -> None:
    assert addition.parse_sum(text, 3) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Type a sum"), ("12-3", "Type a sum"), ("abc", "Type a sum"), ("1+2+3", "Type a sum"),
     ("-1+2", "Type a sum"), ("1234+1", "up to 3 digit")],
)  # fmt: skip
def test_parse_sum_explains_bad_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        addition.parse_sum(text, 3)


def test_exact_match_and_char_accuracy() -> None:
    y = np.array([[1, 2, 11], [3, 4, 11]])
    pred = np.array([[1, 2, 11], [3, 5, 11]])
    assert addition.exact_match(pred, y) == 0.5
    assert addition.char_accuracy(pred, y) == pytest.approx(5 / 6)


def test_question_table_marks_right_and_wrong() -> None:
    ids = np.stack([addition.encode_answer(89, 2), addition.encode_answer(10, 2)])
    rows = addition.question_table(np.array([[30, 59], [4, 5]]), ids)
    assert rows[0] == addition.QuestionRow("30+59", "89", "89", True)
    assert rows[1].ok is False and rows[1].guess == "10"


@pytest.mark.parametrize("digits", range(1, addition.MAX_DIGITS + 1))
def test_the_example_sums_follow_the_models_digits(digits: int) -> None:
    """The placeholder's example and the error's example are sums this model accepts."""
    example = addition.example_sum(digits)
    assert addition.parse_sum(example, digits)
    assert max(len(n) for n in example.split("+")) == digits
    with pytest.raises(ValueError) as err:
        addition.parse_sum("twelve", digits)
    suggested = str(err.value).split("like ")[1].split(":")[0]
    assert addition.parse_sum(suggested, digits)
