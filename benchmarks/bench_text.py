"""Text generation on Nietzsche: word validity over training time, generation speed, peak RSS.

Trains through the live-training engine until the pooled word validity of 400-character
samples at T=0.5 reaches the goal (or time runs out), printing one line per epoch; then times
400 generated characters three ways on the same model: the Keras example's per-character
``model.predict`` on the window, the stateful NumPy generator carrying the state, and the
stateful generator in exact-window mode. Last line: one JSON object.

Each epoch line also shows validation bits per character and the counting 5-gram's; ``--until``
(e.g. ``val_bits_per_char<=2.0``) and ``--patience`` stop on the validation text as the app does.
Every figure here is on the validation text (the text task has no test split). The default
``--goal`` (word validity 0.85) predates the distinct-word definition of 2026-12-02, under which
real held-out Nietzsche text of the same length scores 0.775: pass a goal on that scale.

Usage: python benchmarks/bench_text.py [--data-dir ../shared/data] [--max-seconds 300] ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from rnn_core.config import RunSpec, update
from rnn_core.engine.job import TrainingJob
from rnn_core.presets import PRESETS
from rnn_core.sampling import CharGenerator
from rnn_core.tasks import get_task

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """Peak resident memory of this whole process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def predict_loop(model, seed_ids: np.ndarray, length: int, maxlen: int, rng) -> float:
    """The Keras example's generator: ``model.predict`` on the last maxlen chars, per char."""
    ids = list(seed_ids)
    t0 = time.perf_counter()
    for _ in range(length):
        x = np.asarray(ids[-maxlen:], np.int32)[None]  # (1, maxlen)
        p = model.predict(x, verbose=0)  # (1, maxlen, V) or (1, V)
        p = np.asarray(p[0, -1] if p.ndim == 3 else p[0], np.float64)  # (V,)
        q = np.exp(np.log(np.maximum(p, 1e-30)) / 0.5)
        ids.append(int(rng.choice(len(q), p=q / q.sum())))
    return time.perf_counter() - t0


def main() -> None:
    """Train to the validity goal, then time generation; print lines and a JSON summary."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--preset", default="text-fast", help="start from this preset")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--corpus", default="nietzsche")
    p.add_argument("--cell")
    p.add_argument("--units", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--embedding-dim", type=int)
    p.add_argument("--maxlen", type=int)
    p.add_argument("--step", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, dest="learning_rate")
    p.add_argument("--optimizer")
    p.add_argument("--seed", type=int)
    p.add_argument("--goal", type=float, default=0.85)
    p.add_argument("--max-epochs", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--keep-going", action="store_true", help="train on after the goal")
    p.add_argument("--until", help="also stop on validation, e.g. val_bits_per_char<=2.0")
    p.add_argument("--patience", type=int, help="early stopping on val_loss (best weights kept)")
    p.add_argument("--predict-chars", type=int, default=400, help="chars for the predict loop")
    a = p.parse_args()
    v = vars(a) | {"epochs": a.max_epochs}
    base = PRESETS[a.preset].spec
    spec = RunSpec(
        task="text",
        data=update(base.data, **v),
        model=update(base.model, **v),
        train=update(base.train, **v),
    )
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    task = get_task("text")
    data = task.make_data(spec.data)
    print(data.note, flush=True)
    model = task.build(spec, data)
    print(f"{spec.model.cell} {spec.model.units}x{spec.model.layers}: "
          f"{model.count_params():,} parameters", flush=True)  # fmt: skip
    report = task.epoch_report(data)
    curve: list[dict[str, float]] = []
    reached: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()

    def on_epoch(m, epoch: int) -> dict:
        out = report(m, epoch)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        curve.append(
            {"epoch": epoch, "wall": round(wall, 1), "cpu": round(cpu, 1),
             "validity": round(out.word_validity, 3),
             "bits_per_char": round(out.bits_per_char, 4)}
        )  # fmt: skip
        print(
            f"epoch {epoch:3d}  wall {wall:6.1f}s  cpu {cpu:6.1f}s  "
            f"word_validity {out.word_validity:.3f}  bits/char {out.bits_per_char:.3f} "
            f"(5-gram {out.ngram_bits_per_char:.3f})  "
            f"T=0.5: {out.samples[min(1, len(out.samples) - 1)][:70]!r}",
            flush=True,
        )
        if out.word_validity >= a.goal and not reached:
            reached.update(epoch=epoch, seconds=round(wall, 1))
            if not a.keep_going:
                job.stop()
        if wall > a.max_seconds:
            job.stop()
        return out

    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, on_epoch=on_epoch)
    job.start()
    snap = job.wait()
    if snap.stop_reason:
        print(snap.stop_reason, flush=True)
    for point, loss in zip(curve, job.history().get("val_loss", []), strict=False):
        point["val_loss"] = round(loss, 4)
    train_rss = peak_rss_mb()
    test = task.evaluate(model, data).scores()  # the test half, scored once, after training
    print("test (the held-out tail's second half): " + json.dumps(test), flush=True)

    # ----- generation speed, same model, same run ------------------------------------------
    gen = CharGenerator.from_keras(model)
    seed_ids = data.vocab.encode(data.seed_text)
    n = 400
    timings = {}
    for name, window in (("carry", None), ("window", spec.data.maxlen)):
        gen.generate(seed_ids, 5, [0.5], np.random.default_rng(0), window)  # warm up
        t = time.perf_counter()
        gen.generate(seed_ids, n, [0.5], np.random.default_rng(1), window)
        timings[name] = time.perf_counter() - t
    predict_loop(model, seed_ids, 3, spec.data.maxlen, np.random.default_rng(0))  # warm up
    k = a.predict_chars
    slow = predict_loop(model, seed_ids, k, spec.data.maxlen, np.random.default_rng(2)) * n / k
    print(
        f"400 chars: model.predict per char {slow:.2f} s ({slow / n * 1e3:.1f} ms/char)"
        + (f" (timed {k}, scaled)" if k != n else "")
        + f"; carry {timings['carry'] * 1e3:.0f} ms ({slow / timings['carry']:.0f}x faster)"
        + f"; window {timings['window'] * 1e3:.0f} ms ({slow / timings['window']:.0f}x faster)",
        flush=True,
    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    result = {
        "config": spec.to_dict(),
        "params": int(model.count_params()),
        "goal": a.goal,
        "reached": bool(reached),
        "epochs_to_goal": reached.get("epoch"),
        "seconds_to_goal": reached.get("seconds"),
        "epochs_run": snap.epoch,
        "train_seconds": round(snap.train_seconds, 1),
        "curve": curve,
        "test": test,
        "generate_400": {
            "predict_per_char_s": round(slow, 3),
            "carry_s": round(timings["carry"], 4),
            "window_s": round(timings["window"], 4),
            "speedup_carry": round(slow / timings["carry"], 1),
            "speedup_window": round(slow / timings["window"], 1),
        },
        "peak_rss_mb_training": round(train_rss, 1),
        "peak_rss_mb_total": round(peak_rss_mb(), 1),
        "load_average": [round(x, 2) for x in load],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
