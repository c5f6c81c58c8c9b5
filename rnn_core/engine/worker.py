"""Child side of a :class:`~rnn_core.engine.process.ProcessRunner`: fit, stream progress.

Run as ``python -m rnn_core.engine.worker [--spare]``. Imports TensorFlow first (a ``--spare``
also fits a tiny model once, ahead of need), then reads one request frame on stdin (model bytes,
task name, data, config, epochs), trains, and writes frames on stdout: ``epoch_begin``,
``batch``, ``epoch_end`` (with the task's report and the weights), then ``done`` (with the
final weights, the model bytes, optimizer state included, and why it stopped) or ``failed``.
A line on stdin (or stdin closing) asks it to stop after the current batch. Fit is driven by
the same :class:`~rnn_core.engine.runner.ProgressCallback` as in a thread, with a
:class:`FrameSink`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any

from rnn_core.engine import memory
from rnn_core.engine.process import read_frame, write_frame


def _watch_stdin(stream: IO[bytes], stop: threading.Event) -> None:
    """Any line, or the parent going away, means stop."""
    stream.readline()
    stop.set()


def _warm_up() -> None:
    """Fit a tiny model with every cell once, so TensorFlow's lazy imports and first-trace
    costs are paid while this worker waits, not by the user's first batch."""
    import keras
    import numpy as np

    inp = keras.Input((4,), dtype="int32")
    h = keras.layers.Embedding(8, 4)(inp)
    h = keras.layers.SimpleRNN(4, return_sequences=True)(h)
    h = keras.layers.GRU(4, return_sequences=True)(h)
    h = keras.layers.LSTM(4)(h)
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"], jit_compile=False)
    x, y = np.zeros((8, 4), "int32"), np.zeros((8, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0)


class FrameSink:
    """The child's :class:`~rnn_core.engine.runner.ProgressSink`: each event becomes a frame."""

    def __init__(self, send: Callable[..., None], model: Any) -> None:
        """Send through ``send(kind, *payload)``; ``model``'s weights go with every epoch."""
        self.send, self.model = send, model

    def epoch_begin(self) -> None:
        """Frame ``("epoch_begin",)``."""
        self.send("epoch_begin")

    def batch(self, batch: int, logs: Mapping[str, float], seconds: float | None = None) -> None:
        """Frame ``("batch", batch, logs, seconds)``: the duration measured here."""
        self.send("batch", batch, dict(logs), seconds)

    def epoch_end(self, epoch: int, logs: Mapping[str, float], report: Any) -> None:
        """Frame ``("epoch_end", epoch, logs, report, weights)``."""
        self.send("epoch_end", epoch, dict(logs), report, self.model.get_weights())


def run(request: dict[str, Any], send: Callable[..., None], stop: threading.Event) -> None:
    """Train as the request says, reporting through ``send(kind, *payload)``."""
    from rnn_core.engine.runner import ProgressCallback, StopRequested, fit_model
    from rnn_core.engine.stopping import StopRule
    from rnn_core.export import model_bytes, model_from_bytes
    from rnn_core.tasks import get_task

    model = model_from_bytes(request["model"])
    task = get_task(request["task"])
    data = request["data"]
    train, val = task.splits(data)
    rule = StopRule.from_config(request["cfg"])
    callback = ProgressCallback(FrameSink(send, model), stop, task.epoch_report(data), rule)
    args = (request["cfg"], request["call"], request["initial"], request["target"])
    try:
        fit_model(model, train, val, *args, [callback])
        stopped = False
    except StopRequested:
        stopped = True
    send("done", stopped, model.get_weights(), model_bytes(model), callback.reason)


def main() -> int:
    """Entry point of the child process."""
    out = os.fdopen(os.dup(1), "wb")  # frames go to the real stdout ...
    os.dup2(2, 1)  # ... and anything a library prints goes to stderr
    memory.child_setup()  # OOM killer's first choice; TF threads = this slot's share of cores
    if "--spare" in sys.argv:  # started ahead of need: pay the first-trace costs now
        _warm_up()

    try:
        request = read_frame(sys.stdin.buffer)
    except EOFError:  # a spare worker whose server has gone: nothing to do
        return 0
    stop = threading.Event()
    threading.Thread(target=_watch_stdin, args=(sys.stdin.buffer, stop), daemon=True).start()

    def send(*message: Any) -> None:
        write_frame(out, message)

    try:
        run(request, send, stop)
    except Exception as exc:  # reported to the page as a failed run, not a crash
        send("failed", f"{type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
