"""Exports of a run: model bytes, history as CSV, config as JSON, a plain Keras script."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

from rnn_core.config import RunSpec

if TYPE_CHECKING:
    from rnn_core.tasks.base import KerasCode


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


# ----- "as Keras code": shared model lines; each task supplies its parts (Task.keras_code)
def _rnn(spec: RunSpec, return_sequences: bool, bidirectional: bool) -> str:
    """Source of one recurrent layer call."""
    m = spec.model
    args = [str(m.units), f"return_sequences={return_sequences}"]
    if m.dropout:
        args.append(f"dropout={m.dropout}")
    if m.unroll:
        args.append("unroll=True")
    layer = f"keras.layers.{m.cell}({', '.join(args)})"
    return f"keras.layers.Bidirectional({layer})" if bidirectional else layer


def rnn_stack(spec: RunSpec, last_returns: bool, bidirectional: bool) -> list[str]:
    """Source lines of the stacked recurrent layers."""
    n = spec.model.layers
    return [f"h = {_rnn(spec, last_returns or i < n - 1, bidirectional)}(h)" for i in range(n)]


def body_lines(spec: RunSpec) -> list[str]:
    """The Dense baseline or the RNN stack read by its pooling (as ``models.recurrent_body``)."""
    m = spec.model
    if m.cell == "Dense":
        return ["h = keras.layers.Flatten()(h)"] + [
            f'h = keras.layers.Dense({m.units}, "relu")(h)' for _ in range(m.layers)
        ]
    lines = rnn_stack(spec, m.pooling != "last", m.bidirectional)
    if m.pooling == "max+mean":
        return lines + [
            "top = keras.layers.GlobalMaxPooling1D()(h)",
            "avg = keras.layers.GlobalAveragePooling1D()(h)",
            "h = keras.layers.Concatenate()([top, avg])",
        ]
    pool = {"max": "GlobalMaxPooling1D", "mean": "GlobalAveragePooling1D"}.get(m.pooling)
    return lines + ([f"h = keras.layers.{pool}()(h)"] if pool else [])


def classifier_lines(spec: RunSpec, input_shape: str, embed: bool, classes: int) -> list[str]:
    """Optional Embedding -> RNN stack or the Dense baseline -> classifier head."""
    m = spec.model
    lines = [f"inputs = keras.Input({input_shape})", "h = inputs"]
    if embed:
        lines.append(f"h = keras.layers.Embedding(NUM_WORDS, {m.embedding_dim})(h)")
        k = getattr(spec.data, "words_per_step", 1)
        if k > 1:  # k word vectors side by side per timestep
            lines.append(f"h = keras.layers.Reshape((-1, {k * m.embedding_dim}))(h)  # {k} words")
    lines += body_lines(spec)
    head = 'Dense(1, "sigmoid")' if classes == 2 else f'Dense({classes}, "softmax")'
    lines.append(f"outputs = keras.layers.{head}(h)")
    return lines


def _task_parts(spec: RunSpec) -> KerasCode:
    """The spec's task's parts of the script; ValueError when the task has no export."""
    from rnn_core.tasks import get_task

    parts = get_task(spec.task).keras_code(spec)
    if parts is None:
        raise ValueError(f"no Keras code export for task {spec.task!r}")
    return parts


def model_code(spec: RunSpec) -> str:
    """Only the model-building lines (inputs -> outputs -> ``model``) of :func:`keras_code`."""
    lines = _task_parts(spec).model
    return "\n".join([*lines, "model = keras.Model(inputs, outputs)"]) + "\n"


_UNTIL_CALLBACK = '''class StopAt(keras.callbacks.Callback):
    """Stop training once a validation metric reaches a threshold (RNN Lab's until)."""

    def __init__(self, metric, op, value):
        super().__init__()
        self.metric, self.op, self.value = metric, op, value

    def on_epoch_end(self, epoch, logs=None):
        v = (logs or {}).get(self.metric)
        ops = {">=": v >= self.value, "<=": v <= self.value, ">": v > self.value,
               "<": v < self.value} if v is not None else {}
        if ops.get(self.op):
            self.model.stop_training = True
'''


def _keras_rule(spec: RunSpec) -> bool:
    """True when the spec has a stop rule whose metric Keras itself logs (val_loss, val_<metric>),
    so the exported script can reproduce it with callbacks."""
    from rnn_core.engine.stopping import StopRule
    from rnn_core.tasks import get_task

    rule = StopRule.from_config(spec.train)
    if rule is None:
        return False
    task = get_task(spec.task)
    logged = {"val_loss", f"val_{task.info.metric}"}
    return all(m in logged for m in rule.metrics)


def _stopping(spec: RunSpec) -> str:
    """The script's "# Stopping" part: EarlyStopping for patience, a StopAt callback for until;
    or a comment when the rule watches a metric RNN Lab computes itself (not a Keras log)."""
    from rnn_core.engine.stopping import StopRule

    rule = StopRule.from_config(spec.train)
    if rule is None:
        return ""
    if not _keras_rule(spec):
        asked = " and ".join(
            filter(
                None, [spec.train.until, spec.train.patience and f"patience {spec.train.patience}"]
            )
        )
        return (
            f"# RNN Lab stopped this run on {asked}, watching {rule.monitor}, a metric RNN Lab\n"
            f"# computes itself (Keras does not log it): this script trains all "
            f"{spec.train.epochs} epochs.\n\n"
        )
    lines, calls = [], []
    if rule.patience:
        mode = "max" if rule.higher_is_better else "min"
        calls.append(
            f'keras.callbacks.EarlyStopping(monitor="{rule.monitor}", mode="{mode}", '
            f"patience={rule.patience}, restore_best_weights=True)"
        )
    if rule.until is not None:
        lines.append(_UNTIL_CALLBACK)
        u = rule.until
        calls.append(f'StopAt("{u.metric}", "{u.op}", {u.value!r})')
    return "# Stopping\n" + "\n".join([*lines, f"callbacks = [{', '.join(calls)}]"]) + "\n\n"


def _rate_lines(spec: RunSpec) -> str:
    """The script's ``rate =`` line: the learning rate, or its cosine fall to 0 over the run's
    steps (the training rows Keras keeps after ``validation_split``, in batches, × epochs)."""
    t, val = spec.train, spec.data.val_fraction
    if t.schedule != "cosine":
        return f"rate = {t.learning_rate}\n"
    return (
        f"steps = {t.epochs} * math.ceil(int(len(x) * (1 - {val})) / {t.batch_size})\n"
        f"rate = keras.optimizers.schedules.CosineDecay({t.learning_rate}, decay_steps=steps)\n"
    )


def _batching_note(spec: RunSpec) -> str:
    """What the script does differently from a run that batched its reviews by length."""
    if not spec.train.batch_by_length:
        return ""
    return (
        "# RNN Lab batched the reviews by length (each batch cut to its longest review); this\n"
        "# script lets Keras draw random batches of MAXLEN words: the same model, slower epochs.\n"
    )


def _compile_extras(steps: int, xla: bool = False) -> str:
    """The compile arguments for ``steps`` batches per call and XLA ("" for 1 and no XLA)."""
    return (f", steps_per_execution={steps}" if steps > 1 else "") + (
        ", jit_compile=True" if xla else ""
    )


def keras_code(spec: RunSpec, name: str = "") -> str:
    """A standalone script (numpy + keras only) that builds and trains the same model."""
    from rnn_core.tasks import get_task

    parts, metric = _task_parts(spec), get_task(spec.task).info.metric  # e.g. accuracy, mae
    data, loss, evaluate = parts.data, parts.loss, parts.evaluate
    t = spec.train
    title = name or f"{spec.model.cell} {spec.model.units}x{spec.model.layers}"
    val = spec.data.val_fraction
    optimizer = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD", "adamw": "AdamW"}[t.optimizer]
    return (
        f'"""RNN Lab export: {title} on the {spec.task} task, rebuilt with plain Keras."""\n\n'
        f"{'import math' + chr(10) if t.schedule == 'cosine' else ''}"
        "import keras\nimport numpy as np\n\n"
        f"{data}\n"
        f"# Model\n{model_code(spec)}"
        "model.summary()\n\n"
        f"{_stopping(spec)}"
        "# Training\n"
        f"{_batching_note(spec)}"
        f"{_rate_lines(spec)}"
        f"model.compile(keras.optimizers.{optimizer}(learning_rate=rate), "
        f'"{loss}", metrics=["{metric}"]{_compile_extras(t.steps_per_execution, t.jit_compile)})\n'
        f"model.fit(x, y, epochs={t.epochs}, batch_size={t.batch_size}, "
        f"validation_split={val}{', callbacks=callbacks' if _keras_rule(spec) else ''})\n"
        f"{evaluate}"
    )
