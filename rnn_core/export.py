"""Exports of a run: model bytes, history as CSV, config as JSON, a plain Keras script."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from typing import Any

from rnn_core.config import RunSpec


def model_bytes(model: Any) -> bytes:
    """A Keras model (weights, and optimizer state once trained) in the ``.keras`` format."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(blob: bytes) -> Any:
    """Rebuild a model saved by :func:`model_bytes` (safe mode on: no code is unpickled)."""
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(blob)
        return keras.saving.load_model(path)


def history_csv(history: dict[str, list[float]]) -> str:
    """One row per epoch (``epoch`` first, then the metrics in sorted order)."""
    keys = sorted(history)
    rows = max((len(v) for v in history.values()), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i in range(rows):
        values = [history[k][i] if i < len(history[k]) else "" for k in keys]
        writer.writerow([i + 1, *values])
    return out.getvalue()


def config_json(spec: RunSpec) -> str:
    """The run's full configuration, indented, as the CLI's ``config`` field."""
    return json.dumps(spec.to_dict(), indent=2) + "\n"


# ----- "as Keras code" ---------------------------------------------------------------------
_ADDITION_DATA = '''\
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

_IMDB_DATA = """\
# Data: IMDB reviews as word ids (Keras's loader), padded or cut to MAXLEN words.
NUM_WORDS, MAXLEN, TRAIN_SIZE = {num_words}, {maxlen}, {train_size}
(x, y), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=NUM_WORDS, skip_top={skip_top})
pad = dict(maxlen=MAXLEN, padding="{padding}", truncating="{truncating}")
x, x_test = keras.utils.pad_sequences(x, **pad), keras.utils.pad_sequences(x_test, **pad)
x, y = x[:TRAIN_SIZE], y[:TRAIN_SIZE]  # (N, MAXLEN) word ids, (N,) 0/1 labels
"""

_MNIST_DATA = """\
# Data: MNIST digits scaled to [0, 1], each image read as 28 timesteps of 28 pixels.
TRAIN_SIZE = {train_size}
(x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
x, x_test = x.astype("float32") / 255.0, x_test.astype("float32") / 255.0  # (N, 28, 28)
x, y = x[:TRAIN_SIZE], y[:TRAIN_SIZE]
"""


def _rnn(spec: RunSpec, return_sequences: bool, bidirectional: bool) -> str:
    """Source of one recurrent layer call."""
    m = spec.model
    args = [str(m.units), f"return_sequences={return_sequences}"]
    if m.dropout:
        args.append(f"dropout={m.dropout}")
    layer = f"keras.layers.{m.cell}({', '.join(args)})"
    return f"keras.layers.Bidirectional({layer})" if bidirectional else layer


def _stack(spec: RunSpec, last_returns: bool, bidirectional: bool) -> list[str]:
    """Source lines of the stacked recurrent layers."""
    n = spec.model.layers
    return [f"h = {_rnn(spec, last_returns or i < n - 1, bidirectional)}(h)" for i in range(n)]


def _addition_model(spec: RunSpec) -> list[str]:
    """Encoder RNNs -> RepeatVector -> decoder RNNs -> TimeDistributed Dense."""
    lines = ["inputs = keras.Input((T_IN, len(VOCAB)))", "h = inputs"]
    lines += _stack(spec, False, spec.model.bidirectional)
    lines.append("h = keras.layers.RepeatVector(T_OUT)(h)")
    lines += _stack(spec, True, False)
    lines.append(
        'outputs = keras.layers.TimeDistributed(keras.layers.Dense(len(VOCAB), "softmax"))(h)'
    )
    return lines


def _classifier_model(spec: RunSpec, input_shape: str, embed: bool, classes: int) -> list[str]:
    """Optional Embedding -> RNN stack or the Dense baseline -> classifier head."""
    m = spec.model
    lines = [f"inputs = keras.Input({input_shape})", "h = inputs"]
    if embed:
        lines.append(f"h = keras.layers.Embedding(NUM_WORDS, {m.embedding_dim})(h)")
    if m.cell == "Dense":
        lines.append("h = keras.layers.Flatten()(h)")
        lines += [f'h = keras.layers.Dense({m.units}, "relu")(h)' for _ in range(m.layers)]
    else:
        lines += _stack(spec, m.pooling != "last", m.bidirectional)
        pool = {"max": "GlobalMaxPooling1D", "mean": "GlobalAveragePooling1D"}.get(m.pooling)
        lines += [f"h = keras.layers.{pool}()(h)"] if pool else []
    head = 'Dense(1, "sigmoid")' if classes == 2 else f'Dense({classes}, "softmax")'
    lines.append(f"outputs = keras.layers.{head}(h)")
    return lines


def _task_parts(spec: RunSpec) -> tuple[str, list[str], str, str]:
    """(data code, model lines, loss, evaluation code) for the spec's task."""
    d = spec.data
    if spec.task == "addition":
        data = _ADDITION_DATA.format(
            digits=d.digits, train_size=d.train_size, reverse=d.reverse, seed=d.seed
        )
        return data, _addition_model(spec), "sparse_categorical_crossentropy", ""
    if spec.task == "imdb":
        size = "None" if d.train_size is None else d.train_size
        data = _IMDB_DATA.format(
            num_words=d.num_words,
            maxlen=d.maxlen,
            train_size=size,
            skip_top=d.skip_top,
            padding=d.padding,
            truncating=d.truncating,
        )
        evaluate = 'print("test accuracy", model.evaluate(x_test, y_test, verbose=0)[1])\n'
        return data, _classifier_model(spec, "(MAXLEN,)", True, 2), "binary_crossentropy", evaluate
    if spec.task == "mnist":
        size = "None" if d.train_size is None else d.train_size
        data = _MNIST_DATA.format(train_size=size)
        evaluate = 'print("test accuracy", model.evaluate(x_test, y_test, verbose=0)[1])\n'
        model = _classifier_model(spec, "(28, 28)", False, 10)
        return data, model, "sparse_categorical_crossentropy", evaluate
    raise ValueError(f"no Keras code export for task {spec.task!r}")


def model_code(spec: RunSpec) -> str:
    """Only the model-building lines (inputs -> outputs -> ``model``) of :func:`keras_code`."""
    _, lines, _, _ = _task_parts(spec)
    return "\n".join([*lines, "model = keras.Model(inputs, outputs)"]) + "\n"


def keras_code(spec: RunSpec, name: str = "") -> str:
    """A standalone script (numpy + keras only) that builds and trains the same model."""
    data, _, loss, evaluate = _task_parts(spec)
    t = spec.train
    title = name or f"{spec.model.cell} {spec.model.units}x{spec.model.layers}"
    val = getattr(spec.data, "val_fraction", 0.1)
    optimizer = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD", "adamw": "AdamW"}[t.optimizer]
    return (
        f'"""RNN Lab export: {title} on the {spec.task} task, rebuilt with plain Keras."""\n\n'
        "import keras\nimport numpy as np\n\n"
        f"{data}\n"
        f"# Model\n{model_code(spec)}"
        "model.summary()\n\n"
        "# Training\n"
        f"model.compile(keras.optimizers.{optimizer}(learning_rate={t.learning_rate}), "
        f'"{loss}", metrics=["accuracy"])\n'
        f"model.fit(x, y, epochs={t.epochs}, batch_size={t.batch_size}, "
        f"validation_split={val})\n"
        f"{evaluate}"
    )
