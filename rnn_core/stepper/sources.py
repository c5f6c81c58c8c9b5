"""What the "Inside the RNN" stepper steps through: seed 001's demo, random weights, trained runs.

Importing this module is NumPy-only. The trained-run functions call the run's Keras model
(and import ``keras`` lazily), so the random-weights path never loads TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.data.review_text import id_words, index_words
from rnn_core.stepper.gradient_lens import LogitLens, logit_lens
from rnn_core.stepper.numpy_rnn import (
    CELL_NAMES,
    CellKind,
    CellWeights,
    random_weights,
    seed001_demo,
    weights_from_keras,
)

PAD = "<PAD>"
NAMES = CELL_NAMES  # kind -> Keras class
SCHEMES = {
    "uniform01": "uniform [0, 1)",
    "keras_default": "Keras defaults (glorot_uniform / orthogonal / zero bias)",
}


@dataclass(frozen=True)
class StepperInput:
    """One input sequence and the recurrent stack that reads it, ready for ``forward``."""

    title: str  # what is on screen, e.g. "LSTM 64×1 trained on addition"
    layers: tuple[CellWeights, ...]  # the recurrent stack that reads x, bottom layer first
    x: np.ndarray  # (T, F) input of the first recurrent layer
    labels: tuple[str, ...]  # (T,) what each timestep reads: a character, a word, "row 5"
    label_kind: str = "step"  # "step" (random numbers), "char", "word", "words" or "row"
    span: tuple[int, int] = (0, 0)  # [first, last+1) timesteps that are not padding
    readout: np.ndarray | None = None  # (H_top,) d output / d pooled h (Dense column); None
    readout_text: str = "the mean of the last hidden state h_T"  # what the lens differentiates
    lens: LogitLens | None = None  # trained classifier: its logit's true gradient (all pooling)
    prediction: str = ""  # markdown: the trained model's answer for this input
    image: np.ndarray | None = None  # (28, 28) MNIST digit whose rows are the timesteps
    rows_per_step: int = 1  # image rows read per timestep
    note: str = ""  # one or two sentences about how the input is fed

    @property
    def timesteps(self) -> int:
        """Sequence length T."""
        return int(self.x.shape[0])


def random_input(
    kind: CellKind,
    scheme: str,
    timesteps: int = 100,
    units: int = 64,
    seed: int = 1,
    features: int = 32,
    reset_after: bool = True,
) -> StepperInput:
    """Seed 001's input (uniform [0, 1)) read by a random ``kind`` layer with ``scheme`` weights.

    SimpleRNN with "uniform01" is exactly seed 001's demo (float64). Other choices keep the very
    same input sequence and draw new weights, so only the weights differ between them.
    ``reset_after`` picks the GRU variant (Keras's default True); other cells ignore it.
    """
    x, demo = seed001_demo(np.random.default_rng(seed), timesteps, features, units)  # (T, F)
    if (kind, scheme) == ("simple_rnn", "uniform01"):
        w = demo
    else:
        wrng = np.random.default_rng(seed + 1)
        w = random_weights(kind, features, units, scheme, wrng, reset_after, dtype=np.float64)
    variant = f" (reset_after={reset_after})" if kind == "gru" else ""
    demo = " — seed 001's demo" if (kind, scheme) == ("simple_rnn", "uniform01") else ""
    return StepperInput(
        title=f"{NAMES[kind]}{variant}, {units} units, weights {SCHEMES[scheme]}{demo}",
        layers=(w,),
        x=x,
        labels=tuple(str(t) for t in range(timesteps)),
        span=(0, timesteps),
        note=f"Input: {timesteps} timesteps of {features} numbers drawn uniformly from [0, 1).",
    )


# ---------------------------------------------------------------- Keras models (lazy keras)


def keras_twin(layers: Sequence[CellWeights]) -> list[Any]:
    """Keras SimpleRNN/LSTM/GRU layers holding exactly these weights, for a parity check."""
    import keras  # lazy: only the parity check of random weights needs Keras

    out = []
    for w in layers:
        kw = {"reset_after": w.reset_after} if w.kind == "gru" else {}
        dtype = str(w.kernel.dtype)
        lay = getattr(keras.layers, NAMES[w.kind])(
            w.units, return_sequences=True, dtype=dtype, **kw
        )
        lay.build((None, None, w.input_dim))
        lay.set_weights([w.kernel, w.recurrent_kernel, w.bias])
        out.append(lay)
    return out


def recurrent_stack(model: Any) -> list[Any]:
    """The leading run of SimpleRNN/LSTM/GRU layers that read the model's input (the encoder)."""
    stack: list[Any] = []
    for lay in model.layers:
        name = type(lay).__name__
        if name == "Bidirectional":
            raise ValueError(
                "This model's recurrent layers are Bidirectional: each one reads the sequence "
                "forwards and backwards at the same time, so there is no single h_t to step "
                "through. Train a model without Bidirectional to look inside it (for IMDB "
                "reviews: the preset imdb-fast-forward, the Train page's default)."
            )
        if name in NAMES.values():
            stack.append(lay)
        elif stack:
            break  # e.g. RepeatVector: what follows reads the encoder, not the input
    if not stack:
        raise ValueError(
            "This model has no SimpleRNN, LSTM or GRU layer to step through (the Dense "
            "baseline reads every timestep at once)."
        )
    return stack


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's output for a batch, as NumPy (a direct call: safe while it trains)."""
    from keras import ops  # lazy: only trained runs need Keras

    return np.asarray(ops.convert_to_numpy(model(x, training=False)))


def _head_lens(model: Any, x: np.ndarray, column: int, name: str) -> dict[str, Any]:
    """StepperInput fields of a classifier's head: the true gradient of logit ``column``
    (named ``name``, e.g. "positive") through its Dense head and pooling, by ``logit_lens``."""
    lens = logit_lens(model, x, column)
    return {"readout": lens.readout, "readout_text": lens.target(name), "lens": lens}


def token_words(ids: Sequence[int] | np.ndarray, word_index: Mapping[str, int] | None) -> list[str]:
    """One label per token id, as ``datasets.decode_review`` spells them; 0 is <PAD>."""
    fallback = "<UNK>" if word_index else "#{}"
    return id_words(ids, index_words(word_index or {}), PAD, fallback)


def _label(data: Any, index: int) -> int:
    """The true class of test item ``index``."""
    return int(np.asarray(data.y_test[index]).reshape(-1)[0])


def test_choices(task: str, data: Any, limit: int = 40) -> list[str]:
    """Readable labels for the first ``limit`` test inputs of a task's data, in test-set order."""
    from rnn_core.tasks import get_task

    return get_task(task).stepper_choices(data, limit)


def imdb_choices(data: Any, limit: int) -> list[str]:
    """ "#i (tone, n words): the first words …" for the first ``limit`` test reviews."""
    out = []
    for i in range(min(limit, len(data.x_test))):
        ids = [t for t in np.asarray(data.x_test[i]).tolist() if t > 1]
        words = token_words(ids[:8], getattr(data, "word_index", None))
        tone = "positive" if _label(data, i) > 0 else "negative"
        out.append(f"#{i} ({tone}, {len(ids)} words): {' '.join(words)} …")
    return out


def addition_input(model: Any, data: Any, index: int) -> dict[str, Any]:
    """StepperInput fields for addition question ``index`` (the encoder reads characters)."""
    from rnn_core.tasks.addition import VOCAB, decode

    q = np.asarray(data.x_test[index], np.float32)  # (T_in, V) one-hot question
    chars = [VOCAB[i] for i in q.argmax(axis=-1)]
    a, b = (int(v) for v in data.test_pairs[index])
    guess = decode(_predict(model, q[None])[0].argmax(axis=-1)).strip()  # (T_out,) ids -> text
    truth = str(a + b)
    verdict = "right" if guess == truth else f"wrong: the true answer is {truth}"
    rev = " and reversed, as in Keras's example" if getattr(data.config, "reverse", False) else ""
    return {
        "x": q,
        "labels": tuple("␣" if c == " " else c for c in chars),
        "label_kind": "char",
        "span": (0, len(chars)),
        "readout_text": "the mean of the encoder's final state (all that the decoder receives)",
        "prediction": f"Question **{a}+{b}** → the model answers **{guess or '(blank)'}** "
        f"({verdict}).",
        "note": f"The encoder reads the question one character per timestep, padded with "
        f"blanks to {len(chars)} characters{rev}; each character is a one-hot vector of "
        f"{q.shape[1]} numbers. The decoder then writes the answer from the encoder's final "
        f"state.",
    }


def imdb_input(model: Any, data: Any, index: int) -> dict[str, Any]:
    """StepperInput fields for test review ``index`` (the RNN reads word embeddings, one or
    ``words_per_step`` side by side per timestep)."""
    from rnn_core.stepper.gradient_lens import embedded, words_per_step

    ids = np.asarray(data.x_test[index], np.int64)  # (T,) padded token ids
    if not any(type(lay).__name__ == "Embedding" for lay in model.layers):
        raise ValueError("This IMDB model has no Embedding layer to read words through.")
    k = words_per_step(model)
    x = embedded(model, ids).astype(np.float32)  # (T/k, k*E) what the RNN reads per step
    words = token_words(ids, getattr(data, "word_index", None))
    groups = [words[i : i + k] for i in range(0, len(words), k)]
    labels = tuple(PAD if all(w == PAD for w in g) else " ".join(g) for g in groups)
    real = np.nonzero(ids)[0] // k  # timesteps holding a word
    span = (int(real[0]), int(real[-1]) + 1) if real.size else (0, 0)
    p = float(_predict(model, ids[None]).reshape(-1)[0])  # P(positive)
    truth = "positive" if _label(data, index) > 0 else "negative"
    guess = "positive" if p >= 0.5 else "negative"
    pads = len(labels) - (span[1] - span[0])
    if k == 1:
        how = f"One word per timestep: the RNN reads each word's {x.shape[1]}-number vector."
    else:
        how = (
            f"{k} words per timestep: the RNN reads their {x.shape[1] // k}-number vectors side "
            f"by side, {x.shape[1]} numbers, so {len(ids)} tokens take {len(labels)} timesteps."
        )
    return {
        "x": x,
        "labels": labels,
        "label_kind": "word" if k == 1 else "words",
        "span": span,
        **_head_lens(model, ids, 0, "positive"),
        "prediction": f"P(positive) = **{p:.3f}** → **{guess}** (true label: {truth}).",
        "note": f"{how} The review is padded to {len(ids)} tokens; {pads} of the "
        f"timesteps are padding only (id 0, shown as {PAD}), which the RNN steps through too.",
    }


def mnist_input(model: Any, data: Any, index: int) -> dict[str, Any]:
    """StepperInput fields for test digit ``index`` (the RNN reads ``rows_per_step`` pixel rows
    per step, one by default)."""
    from rnn_core.tasks.mnist import reading, step_shape

    rows = getattr(data.config, "rows_per_step", 1)
    steps, width = step_shape(rows)
    x = np.asarray(data.x_test[index], np.float32).reshape(steps, width)  # (T, F)
    probs = _predict(model, x[None]).reshape(-1)  # (10,)
    guess, truth = int(probs.argmax()), _label(data, index)
    if rows == 1:
        labels = tuple(f"row {t}" for t in range(steps))
    else:
        labels = tuple(f"rows {t * rows}–{t * rows + rows - 1}" for t in range(steps))
    return {
        "x": x,
        "labels": labels,
        "label_kind": "row",
        "span": (0, steps),
        **_head_lens(model, x, guess, f"class {guess}"),
        "prediction": f"The model reads **{guess}** (p = {probs[guess]:.3f}); the true digit "
        f"is **{truth}** ({'right' if guess == truth else 'wrong'}).",
        "image": x.reshape(28, 28),
        "rows_per_step": rows,
        "note": f"The RNN reads {reading(rows)}: pixel values in [0, 1], top row first.",
    }


def trained_input(model: Any, task: str, data: Any, index: int, title: str) -> StepperInput:
    """Test input ``index`` of a task and the recurrent stack of ``model`` that reads it.

    Raises ValueError with a readable message for models the stepper cannot show
    (Bidirectional layers, no recurrent layer, an unknown task).
    """
    from rnn_core.tasks import get_task

    handler = get_task(task)
    if not handler.steppable:
        raise ValueError(f"The stepper does not know the task {task!r} yet.")
    layers = tuple(weights_from_keras(recurrent_stack(model)))
    fields = handler.stepper_input(model, data, index, layers[-1].units)
    return StepperInput(title=title, layers=layers, **fields)
