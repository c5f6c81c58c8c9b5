"""The text task's command-line pieces: its ``train`` flags and the ``generate`` command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np


def _floats(text: str) -> tuple[float, ...]:
    """``"0.2,0.5,1"`` -> (0.2, 0.5, 1.0), for --temperatures."""
    try:
        return tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def add_train_flags(p: argparse.ArgumentParser) -> None:
    """The text task's flags of ``train`` (--maxlen and --embedding-dim are shared)."""
    p.add_argument("--corpus", help="text: nietzsche, python-docs or a path to a UTF-8 .txt")
    p.add_argument("--step", type=int, help="text: characters between two training windows")
    p.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--max-chars", type=int, help="text: use only the first N characters")
    p.add_argument(
        "--every-position", action=argparse.BooleanOptionalAction, default=None,
        help="text: predict the next char after every prefix (--no-every-position: as Keras)",
    )  # fmt: skip
    p.add_argument("--temperatures", type=_floats, help="text: sampled each epoch, e.g. 0.2,0.5")
    p.add_argument(
        "--window-sampling", action=argparse.BooleanOptionalAction, default=None,
        help="text: sample by re-reading the last maxlen chars (Keras) instead of carrying h",
    )  # fmt: skip


def add_generate_parser(sub: Any) -> None:
    """The ``generate`` subcommand: continue a seed with a saved text model."""
    p = sub.add_parser("generate", help="continue a seed text with a saved text model")
    p.add_argument("--model", required=True, help="a .keras file saved by train --task text")
    p.add_argument("--seed", required=True, help="the text to continue")
    p.add_argument("--temperature", type=float, default=0.5, help="0 = always the likeliest")
    p.add_argument("--length", type=int, default=400, help="characters to generate")
    p.add_argument("--rng-seed", type=int, default=0, help="seed of the sampling generator")
    p.add_argument(
        "--window", action=argparse.BooleanOptionalAction, default=None,
        help="re-read the last maxlen chars for each char, exactly as Keras (slower); "
        "--no-window carries the state. Default: what the model was trained for "
        "(window_sampling in its .vocab.json)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def cmd_generate(args: argparse.Namespace) -> int:
    """Load a text model and its alphabet, generate, and report the generation time alone."""
    from rnn_core.tasks.text import read_sidecar

    vocab, meta = read_sidecar(args.model)
    seed = args.seed.lower() if meta.get("lowercase") else args.seed
    if not seed:
        raise ValueError("--seed is empty: give at least one character to continue")
    unknown = vocab.unknown(seed)
    if unknown:
        raise ValueError(
            f"the seed has {len(unknown)} character(s) outside the model's alphabet: "
            f"{', '.join(repr(c) for c in unknown[:10])}. The alphabet ({vocab.size}) is "
            f"{vocab.chars!r}"
        )
    if not 0 <= args.temperature <= 10:
        raise ValueError(f"--temperature must be 0-10 (0 = argmax), got {args.temperature}")
    if not 1 <= args.length <= 100_000:
        raise ValueError(f"--length must be 1-100000, got {args.length}")

    from rnn_core.sampling import CharGenerator
    from rnn_core.tasks.text import load_text_model

    model, vocab, meta = load_text_model(args.model)
    gen = CharGenerator.from_keras(model)
    use_window = meta.get("window_sampling", False) if args.window is None else args.window
    window = int(meta["maxlen"]) if use_window else None
    rng = np.random.default_rng(args.rng_seed)
    t0 = time.perf_counter()
    ids = gen.generate(vocab.encode(seed), args.length, [args.temperature], rng, window)  # (1, N)
    seconds = time.perf_counter() - t0
    text = vocab.decode(ids[0])
    print(seed + text)
    mode = "carry" if window is None else f"window {window}"
    print(f"{args.length} characters in {seconds * 1e3:.0f} ms ({mode} mode)", file=sys.stderr)
    if args.json:
        result = {
            "seed": seed,
            "temperature": args.temperature,
            "length": args.length,
            "mode": "window" if window else "carry",
            "text": text,
            "seconds": round(seconds, 4),
            "ms_per_char": round(seconds * 1e3 / args.length, 4),
        }
        print(json.dumps(result, ensure_ascii=False))
    return 0
