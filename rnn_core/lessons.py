"""Guided lessons: the seed tutorials as short steps, each pointing at presets to run."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from rnn_core.presets import PRESETS


@dataclass(frozen=True)
class Lesson:
    """One guided step: what to try, which presets to run, what to look for."""

    key: str  # stable id (used in widget keys)
    title: str  # heading
    page: str  # page file that runs the presets, e.g. "pages/train.py"
    story: str  # two or three sentences: the question this lesson answers
    presets: tuple[str, ...]  # preset names, run side by side
    look_for: str  # what to compare once the runs are done


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "dense-vs-rnn",
        "1 · Does word order help? Dense vs SimpleRNN on 30 words",
        "pages/train.py",
        "Seed 000 cuts every IMDB review to its last 30 words. A Dense network sees those words "
        "all at once, flattened; a SimpleRNN reads them in order. Which does better?",
        ("seed000-imdb-dense", "seed000-imdb-simplernn"),
        "Compare the test accuracies. With only 30 words, reading them in order does not help: "
        "the Dense baseline wins (the source: 77 % vs 68 %).",
    ),
    Lesson(
        "simplernn-vs-lstm",
        "2 · Long reviews: SimpleRNN vs LSTM on 500 words",
        "pages/train.py",
        "With 500 words per review, the network must carry information across many timesteps. "
        "A SimpleRNN's gradient fades over long spans; an LSTM's cell state carries it.",
        ("seed001-imdb-simplernn", "seed002-imdb-lstm"),
        "Compare the validation curves: the LSTM climbs higher (the source: about 0.89 for the "
        "LSTM vs 0.85 for the SimpleRNN).",
    ),
    Lesson(
        "mnist-rows",
        "3 · An image is a sequence too: MNIST read row by row",
        "pages/train.py",
        "Each 28×28 digit becomes 28 timesteps of 28 pixels. The RNN sees one row at a time and "
        "must remember the shape drawn so far to name the digit at the end. The fast preset "
        "reads two rows side by side per timestep: 14 timesteps of 56 pixels, half the steps, "
        "so an epoch takes a little over half the time.",
        ("seed004-mnist-simplernn", "mnist-fast"),
        "Look at the confusion matrix and the misclassified digits: which digits does it mix up?",
    ),
    Lesson(
        "addition-size",
        "4 · Learning to add: 128 vs 300 units",
        "pages/train.py",
        "Seed 003's encoder-decoder reads '535+61' and writes '596', one character at a time. "
        "Does a bigger hidden state learn faster, per epoch and per second? (The Train page's "
        "addition-fast gets to 99 % in about 6 epochs: its learning rate falls to zero, see "
        "lesson 5, and its loop over the 7 + 4 characters is unrolled, written out step by "
        "step, which costs less per batch on such short sequences.)",
        ("seed003-addition-128", "seed003-addition-300"),
        "Compare exact match per epoch and seconds per epoch in the compare table.",
    ),
    Lesson(
        "falling-rate",
        "5 · Why the fast presets are fast: a learning rate that falls to zero",
        "pages/train.py",
        "A large learning rate makes big steps: it learns quickly, then keeps jumping around the "
        "bottom of the loss. The fast presets start large and let the rate fall smoothly to zero "
        "by their last epoch (a cosine schedule), so their last steps settle. They also use small "
        "models that cost little per step (GRU 64 here); this one reads two pixel rows per "
        "timestep, hands TensorFlow 8 batches per call, so less time goes to Python between "
        "batches, and is compiled with XLA, which fuses the cell's many small operations into "
        "one program.",
        ("mnist-fast-constant", "mnist-fast"),
        "Same model, same 3 epochs, same seconds: compare the validation loss and accuracy at "
        "the end. Only the learning rate's path differs.",
    ),
    Lesson(
        "length-batches",
        "6 · Padding costs time: batching reviews by length",
        "pages/train.py",
        "Every IMDB review is padded with zeros to maxlen (400 words here), and the RNN reads "
        "every padding step. In a batch of random reviews most rows are short, so most of what "
        "it reads is padding. Batching reviews of similar length together and cutting each "
        "batch to its longest review skips most of that work. Both presets also read four "
        "words per timestep (their vectors side by side): 100 steps instead of 400, each one "
        "seeing a short phrase.",
        ("imdb-fast-random-batches", "imdb-fast"),
        "Same model, same 4 epochs: compare the seconds of training and the validation "
        "accuracy. The test accuracy of both is still scored on every review at maxlen 400.",
    ),
    Lesson(
        "both-ways",
        "7 · Reading a review both ways: a bidirectional GRU",
        "pages/train.py",
        "A GRU reading forward knows, at each word, only the words before it. imdb-fast adds a "
        "second GRU that reads the review from its last word back to its first, and max over "
        "time then keeps each unit's strongest reading, whichever direction it came from. The "
        "one-way preset has 80 units (about 50,000 recurrent weights), imdb-fast 32 each way "
        "(about 31,000).",
        ("imdb-fast-forward", "imdb-fast"),
        "Compare the test accuracy each run reports when it ends, and the seconds of training. "
        "The validation accuracies sit closer together: most validation reviews are of movies "
        "the training reviews also cover. Inside the RNN can step through the one-way GRU "
        "only: a bidirectional layer reads the whole review before its first output is known.",
    ),
    Lesson(
        "temperature",
        "8 · Writing like Nietzsche: sampling temperature",
        "pages/text.py",
        "A character LSTM predicts the next character. How you sample from its prediction "
        "matters: at low temperature it repeats safe words, at high temperature it invents.",
        (),
        "Train a few epochs, then compare the samples at 0.2, 0.5, 1.0 and 1.2 side by side, "
        "and move the temperature slider to see the next-character bars change.",
    ),
)


def lesson_presets(lesson: Lesson) -> list[Any]:
    """The Preset objects of a lesson, in order (unknown names are an error in the data)."""
    return [PRESETS[name] for name in lesson.presets]


def _comparable(spec: Any) -> tuple[Any, ...]:
    """What decides a run's result: task, data (not the folder it is read from), model and
    training, but not the epoch count (the result is shown with the epochs it trained)."""
    located = "data_dir" in {f.name for f in fields(spec.data)}  # a loaded dataset's folder
    data = replace(spec.data, data_dir=None) if located else spec.data
    return spec.task, data, spec.model, replace(spec.train, epochs=1, publish_every=1)


def same_setup(spec_a: Any, spec_b: Any) -> bool:
    """True when two runs share task, data, model and training settings (epochs aside)."""
    return _comparable(spec_a) == _comparable(spec_b)


def best_validation(history: dict[str, list[float]]) -> tuple[str, float] | None:
    """The best validation accuracy-like value of a run's history, with its key."""
    keys = [k for k in history if k.startswith("val_") and "acc" in k]
    if not keys or not history[keys[0]]:
        return None
    return keys[0], max(history[keys[0]])
