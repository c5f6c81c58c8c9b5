"""Child side of a :class:`~rnn_core.engine.process.ProcessRunner`: fit, stream progress.

Run as ``python -m rnn_core.engine.worker [--warm]``. Imports TensorFlow (with ``--warm`` also
fits a tiny model once, ahead of need), says ``("ready",)`` and serves runs one after another:
each ``("run", request)`` frame on stdin (model bytes, or for the model it keeps only that
model's new state; task name, data, config, epochs) is trained from a fresh process's Keras
and TensorFlow state (asking ``("need_model",)`` for the bytes, sent as ``("model", bytes)``,
when it does not keep the model after all), reporting frames on stdout:
``epoch_begin``, ``batch``, ``epoch_end`` (with the task's report and the weights), then
``done`` (with the final weights, the model bytes, optimizer state included, and why it
stopped) or ``failed``; a request with ``score`` also gets ``scored`` after ``done``: the test
results of the final weights, scored here (so the server need not score them);
then it frees the run (keeping the last model for a run of the same architecture) and says
``ready`` again. A ``("stop",)`` frame (or stdin closing) stops
the current run after its batch; end-of-file on stdin ends the process once idle. Fit is driven
by the same :class:`~rnn_core.engine.runner.ProgressCallback` as in a thread, with a
:class:`FrameSink`.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import queue
import sys
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any

from rnn_core.engine import memory
from rnn_core.engine.pool import model_key, read_frame, write_frame


def _read_requests(
    stream: IO[bytes], runs: queue.Queue, busy: threading.Event, models: queue.Queue
) -> None:
    """Queue each ``run`` frame with a fresh stop flag, and the bytes of each ``model`` frame
    (the model a run asked for) in ``models``; ``stop`` (or end-of-file) sets the flag of the
    run read last, and end-of-file also queues None (the end) in both.

    End-of-file while no run is queued or training (the server has gone, or let this worker
    go) ends the process at once, even in the middle of TensorFlow's import or the warm-up.
    """
    stop = threading.Event()
    try:
        while True:
            kind, *payload = read_frame(stream)
            if kind == "run":
                stop = threading.Event()
                runs.put((payload[0], stop))
            elif kind == "model":
                models.put(payload[0])
            elif kind == "stop":
                stop.set()
    except (EOFError, OSError, ValueError):
        stop.set()
        if runs.empty() and not busy.is_set():
            os._exit(0)
        models.put(None)
        runs.put(None)


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
    _warm_run()


def _warm_run() -> None:
    """One tiny addition run through :func:`run` itself (model bytes, task, tf.data, report)."""
    from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
    from rnn_core.export import model_bytes
    from rnn_core.tasks import get_task

    cfg = TrainConfig(epochs=1, batch_size=16, publish_every=1)
    spec = RunSpec(
        task="addition",
        data=AdditionConfig(digits=1, train_size=40, test_size=10),
        model=ModelConfig(cell="LSTM", units=4),
        train=cfg,
    )
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = model_bytes(task.build(spec, data))
    request = {"task": spec.task, "data": data, "cfg": cfg, "call": 1, "initial": 0}
    run(request | {"target": 1, "model": model}, lambda *message: None, threading.Event())


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


def run(
    request: dict[str, Any],
    send: Callable[..., None],
    stop: threading.Event,
    fetch: Callable[[], bytes | None] | None = None,
) -> None:
    """Train as the request says, reporting through ``send(kind, *payload)``.

    The process's Keras and TensorFlow state is first made that of a fresh worker
    (:func:`_reset_state`), so a run in a reused worker trains exactly as in a fresh one; a
    request of the last run's architecture trains the kept, already traced model, given the
    request's whole state (:func:`_reuse`), which trains exactly as the fresh model would.

    A request may carry, instead of the model bytes, the model's variables and optimizer
    config (``"state"``) under the server's key of the kept model (``"key"``): the kept model
    takes that state without loading any model (:func:`_reuse_state`). When nothing is kept
    under that key, the worker sends ``("need_model",)`` and trains on the model bytes that
    ``fetch()`` then returns (the server's next ``("model", bytes)`` frame).
    """
    from rnn_core.engine.runner import ProgressCallback, StopRequested, fit_model
    from rnn_core.engine.stopping import StopRule
    from rnn_core.export import model_bytes, model_from_bytes
    from rnn_core.tasks import get_task

    blob, model = request.get("model"), None
    _reset_state(kernels=blob is not None)  # the kept model's instantiated functions stay
    task = get_task(request["task"])
    data = request["data"]
    train, val = task.splits(data)
    if blob is None:
        model = _reuse_state(request["state"], request["key"])
        if model is None:
            send("need_model")
            blob = fetch() if fetch is not None else None
            if blob is None:
                raise RuntimeError("the server sent no model")
            _reset_state()
    if model is None:
        fresh = model_from_bytes(blob)
        model = _reuse(fresh, model_key(fresh, request["cfg"], train, val))
        _CACHE.request_key = request.get("key", "")
    rule = StopRule.from_config(request["cfg"])
    callback = ProgressCallback(FrameSink(send, model), stop, task.epoch_report(data), rule)
    args = (request["cfg"], request["call"], request["initial"], request["target"])
    try:
        fit_model(model, train, val, *args, [callback])
        stopped = False
    except StopRequested:
        stopped = True
    except BaseException:
        _forget()  # a model whose fit failed half-way is not kept
        raise
    scores = bool(request.get("score")) and not stopped
    send("done", stopped, model.get_weights(), model_bytes(model), callback.reason, scores)
    if scores:
        _score(task, model, data, stop, send)


def _score(
    task: Any, model: Any, data: Any, stop: threading.Event, send: Callable[..., None]
) -> None:
    """Send ``("scored", task.evaluate(model, data))``: the test results of the weights just
    sent, or None when scoring fails or Stop comes first. After Stop the scoring goes on in
    its thread and is waited for before this returns (the next run finds the model free);
    only the answer comes at once."""
    out: list[Any] = []
    finished = threading.Event()

    def evaluate() -> None:
        """Score, then say so."""
        try:
            out.append(task.evaluate(model, data))
        finally:
            finished.set()

    scorer = threading.Thread(target=evaluate, name="score", daemon=True)
    scorer.start()
    while not finished.wait(0.05):  # ends with the scoring, or at once on Stop
        if stop.is_set():
            break
    send("scored", out[0] if out else None)
    scorer.join()


class _Cache:
    """The last run's model (compiled, its train/test/predict functions traced) and its key."""

    def __init__(self) -> None:
        """Empty: nothing kept yet."""
        self.key, self.model = "", None
        self.request_key = ""  # the server's key of the request that trained it ("": none)
        self.hits = 0  # runs served by the kept model
        self.dropped = False  # a kept model was let go: it may sit in gc's frozen generation


_CACHE = _Cache()


def _copy_state(src: Any, dst: Any) -> bool:
    """Give ``dst`` every variable of ``src``: weights, non-trainable ones, dropout seed states,
    and the optimizer's (iterations, moments, learning rate; built first if ``src`` never
    trained). False, nothing copied, when the two do not line up variable for variable."""
    if not src.optimizer.built:
        src.optimizer.build(src.trainable_variables)  # as fit would build it
    pairs = []
    opt_a, opt_b = src.optimizer.variables, dst.optimizer.variables
    for a, b in ((src.variables, dst.variables), (opt_a, opt_b)):
        if len(a) != len(b):
            return False
        pairs += list(zip(a, b, strict=True))
    if any(a.shape != b.shape or a.dtype != b.dtype for a, b in pairs):
        return False
    for a, b in pairs:
        b.assign(a.value)
    return True


def _reuse(fresh: Any, key: str) -> Any:
    """The model to train: the kept one, given ``fresh``'s whole state, when it was kept under
    the same :func:`~rnn_core.engine.pool.model_key` ``key`` (built and compiled alike, the same
    batch size and shapes: its traced functions serve again); otherwise ``fresh``, kept from now
    on in place of the last (at most one model is kept)."""
    kept = _CACHE.model
    if kept is not None and _CACHE.key == key and _copy_state(fresh, kept):
        kept.optimizer.name = fresh.optimizer.name  # as saved in the run's model bytes
        _CACHE.hits += 1
        return kept
    _forget()
    _CACHE.key, _CACHE.model = key, fresh
    return fresh


def _reuse_state(state: dict[str, Any], key: str) -> Any:
    """The kept model given a server model's state (its ``variables`` as arrays and its
    serialized ``optimizer``, never trained), when the kept model was last trained for a
    request of the server's key ``key`` and their variables line up; else None.

    The optimizer is made from its config and built as fit would build it, so the kept
    model starts exactly as a model loaded from the server model's bytes would.
    """
    import keras
    import numpy as np

    kept = _CACHE.model
    if kept is None or not key or _CACHE.request_key != key:
        return None
    values = [np.asarray(v) for v in state["variables"]]
    opt = keras.optimizers.deserialize(state["optimizer"])
    opt.build(kept.trainable_variables)  # as fit would build the loaded model's optimizer
    opt_vars, kept_opt = opt.variables, kept.optimizer.variables
    if len(values) != len(kept.variables) or len(opt_vars) != len(kept_opt):
        return None
    same = all(
        a.shape == tuple(b.shape) and a.dtype == np.dtype(b.dtype)
        for a, b in zip(values, kept.variables, strict=True)
    ) and all(
        a.shape == b.shape and a.dtype == b.dtype for a, b in zip(opt_vars, kept_opt, strict=True)
    )
    if not same:
        return None
    for a, b in zip(values, kept.variables, strict=True):
        b.assign(a)
    for a, b in zip(opt_vars, kept_opt, strict=True):
        b.assign(a.value)
    kept.optimizer.name = opt.name  # as the server named it
    _CACHE.hits += 1
    return kept


def _forget() -> None:
    """Let the kept model go (collected by the next :func:`_free`)."""
    if _CACHE.model is not None:
        _CACHE.key, _CACHE.model, _CACHE.dropped = "", None, True
        _CACHE.request_key = ""


def _reset_state(kernels: bool = True) -> None:
    """Keras's global state cleared and no global TensorFlow seed, as in a fresh process;
    with ``kernels``, TensorFlow's kernel cache emptied too (what a fresh process has).

    Randomness stays per model: each layer's initializers and dropout carry their own seed and
    the shuffle its own op seed (:func:`~rnn_core.engine.runner.make_dataset`); a global seed,
    being process-wide, would change the shuffle order of every later run here. Emptying the
    kernel cache drops the instantiated (optimised) functions of every model, the kept one's
    too: its next fit then spends about a second instantiating them again. A run on the kept
    model therefore keeps them (``kernels`` False); the model's random ops are stateless
    (seeded by its variables), so its run is the same either way.
    """
    import tensorflow as tf

    _clear_keras(kernels)
    if tf.compat.v1.random.get_seed(None)[0] is not None:  # a global seed was set
        tf.random.set_seed(None)  # (this also empties the kernel cache)


def _clear_keras(kernels: bool) -> None:
    """``keras.backend.clear_session(free_memory=False)``; without ``kernels``, minus its
    emptying of TensorFlow's kernel cache."""
    import keras
    from tensorflow.python.eager import context

    if kernels:
        keras.backend.clear_session(free_memory=False)
        return
    ctx = context.context()
    ctx.clear_kernel_cache = lambda: None  # the instance's, for this one call
    try:
        keras.backend.clear_session(free_memory=False)
    finally:
        del ctx.clear_kernel_cache


def _free() -> None:
    """Give a finished run's memory back (Keras's state, cycles, glibc's free lists), then
    freeze what is left, so the next collection does not walk TensorFlow's objects again.

    TensorFlow's kernel cache is left to the next run (:func:`_reset_state`), so a run on
    the kept model finds its functions instantiated."""
    _clear_keras(kernels=False)
    if _CACHE.dropped:  # the model kept before was frozen with the rest: free it too
        gc.unfreeze()
        _CACHE.dropped = False
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    gc.freeze()


def main() -> int:
    """Entry point of the child process."""
    out = os.fdopen(os.dup(1), "wb")  # frames go to the real stdout ...
    os.dup2(2, 1)  # ... and anything a library prints goes to stderr
    runs: queue.Queue = queue.Queue()
    models: queue.Queue = queue.Queue()  # model bytes a run asked for (``need_model``)
    busy = threading.Event()  # set while a run is taken from the queue and not yet done
    reader = threading.Thread(
        target=_read_requests, args=(sys.stdin.buffer, runs, busy, models), daemon=True
    )
    reader.start()  # before TensorFlow's import: a server gone during it ends this process
    memory.child_setup()  # OOM killer's first choice; TF threads = this slot's share of cores

    def send(*message: Any) -> None:
        write_frame(out, message)

    try:
        if "--warm" in sys.argv:  # started ahead of need: pay the first-trace costs now
            _warm_up()
            _free()
        while True:
            send("ready")
            item = runs.get()
            if item is None:  # the server closed our stdin: nothing more to do
                return 0
            busy.set()
            request, stop = item
            try:
                run(request, send, stop, models.get)
            except Exception as exc:  # reported to the page as a failed run, not a crash
                send("failed", f"{type(exc).__name__}: {exc}")  # the pipe gone: ends below
            del request, item
            _free()
            busy.clear()
    except (BrokenPipeError, OSError):  # the server stopped reading: it has gone or let us go
        return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown (seconds with TensorFlow loaded): gone at once
