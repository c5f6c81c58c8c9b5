"""Child side of a :class:`~rnn_core.engine.process.ProcessTrainingJob`: fit, stream progress.

Run as ``python -m rnn_core.engine.worker [--spare]``. Imports TensorFlow first (a ``--spare``
also fits a tiny model once, ahead of need), then reads one request frame on stdin (model bytes,
task name, data, config, epochs), trains, and writes frames on stdout: ``epoch_begin``,
``batch``, ``epoch_end`` (with the task's report and the weights), then ``done`` (with the
final weights and the model bytes, optimizer state included) or ``failed``. A line on stdin
(or stdin closing) asks it to stop after the current batch.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, Any

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


def run(request: dict[str, Any], send: Any, stop: threading.Event) -> None:
    """Train as the request says, reporting through ``send(kind, *payload)``."""
    import keras

    from rnn_core.engine.job import _StopRequested, fit_model
    from rnn_core.export import model_bytes, model_from_bytes
    from rnn_core.tasks import get_task

    model = model_from_bytes(request["model"])
    task = get_task(request["task"])
    data = request["data"]
    train, val = task.splits(data)
    report = task.epoch_report(data)

    class Relay(keras.callbacks.Callback):
        """Forwards fit's events and honours the stop flag before and after every batch."""

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            if stop.is_set():
                raise _StopRequested

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            now = time.perf_counter()
            seconds, self.t = now - self.t, now  # measured here: messages arrive in bursts
            send("batch", batch, {k: float(v) for k, v in (logs or {}).items()}, seconds)
            if stop.is_set():
                raise _StopRequested

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.t = time.perf_counter()
            send("epoch_begin")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            extra = report(model, epoch + 1)
            logs = {k: float(v) for k, v in (logs or {}).items()}
            send("epoch_end", epoch, logs, extra, model.get_weights())

    args = (request["cfg"], request["call"], request["initial"], request["target"])
    try:
        fit_model(model, train, val, *args, [Relay()])
        stopped = False
    except _StopRequested:
        stopped = True
    send("done", stopped, model.get_weights(), model_bytes(model))


def main() -> int:
    """Entry point of the child process."""
    out = os.fdopen(os.dup(1), "wb")  # frames go to the real stdout ...
    os.dup2(2, 1)  # ... and anything a library prints goes to stderr
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
