"""Text page, after training: samples per epoch with a timeline, own seed, temperature explorer."""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from pages._compare import best_column, compare_by_metric
from pages._plot import chart, page_theme
from pages.common import score_test_set
from rnn_core.charts import text as text_charts
from rnn_core.compare import metric_label
from rnn_core.sampling import CharGenerator, apply_temperature, entropy_bits, generate_text
from rnn_core.tasks.text import NGRAM_ORDER, held_out_reading, sampling_mode

LOG_TEMPS = (0.0, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
SAMPLE_CSS = (
    "font-family: ui-monospace, monospace; font-size: 0.82rem; white-space: pre-wrap; "
    "background: rgba(128,128,128,0.08); padding: 0.6rem; border-radius: 0.4rem; "
    "max-height: 17rem; overflow-y: auto; line-height: 1.35"
)


def sample_box(seed: str, sample: str) -> str:
    """HTML of a sample: the seed faded, the model's continuation in the page's text colour."""
    return (
        f'<div style="{SAMPLE_CSS}"><span style="opacity:0.45">{html.escape(seed)}</span>'
        f"{html.escape(sample)}</div>"
    )


def mode_label(mode: str) -> str:
    """How a sample was made, in words: "carry" or "window W" (see ``sampling_mode``)."""
    if mode == "carry":
        return "carry mode: the RNN state is carried from character to character"
    return (
        f"{mode} mode: the last {mode.split()[-1]} characters are re-read for every new "
        "one, as the Keras example does"
    )


def quality_view(run: Any, snap: Any) -> None:
    """Test bits/char of the RNN and the counting n-gram (the test half, scored once training
    stops), the latest validation figure and its per-epoch curve, and the one word validity."""
    reports = [e for e in snap.epoch_extras if e is not None]
    scored = [e for e in reports if np.isfinite(e.bits_per_char)]
    corpus_here = getattr(run.data, "y_test", None) is not None  # not released, not gen-only
    if corpus_here and not snap.active:
        read = getattr(run.data, "test_read", None)
        count = None if read is None else int(np.size(read[1]))  # test characters
        score_test_set(run, "characters", count)  # once per set of weights, never in training
    test = run.results if run.scored() or not corpus_here else None
    bits = _finite(test.bits_per_char) if test is not None else None
    ngram = _finite(test.ngram_bits_per_char) if test is not None else None
    val = scored[-1] if scored else None
    a, b, c, d = st.columns(4)
    a.metric(
        f"validation bits/char (epoch {val.epoch})" if val else "validation bits/char",
        f"{val.bits_per_char:.3f}" if val else "—",
        help="the held-out tail's first half, scored after every epoch; patience and the "
        "stop condition watch it",
    )  # fmt: skip
    b.metric(
        "test bits/char: your RNN", f"{bits:.3f}" if bits is not None else "—",
        help="the held-out tail's second half, scored once when training stops",
    )  # fmt: skip
    c.metric(
        f"test bits/char: counting {NGRAM_ORDER}-gram",
        f"{ngram:.3f}" if ngram is not None else "—",
    )  # fmt: skip
    current = [e for e in reports if e.words_scored]  # older snapshots: another definition
    validity = current[-1] if current else run.results
    if validity is not None and validity.words_scored:
        words = validity.words_scored
        d.metric(
            "word validity (T=0.5)", f"{validity.word_validity:.3f}",
            help=f"over {words} generated words",
        )  # fmt: skip
        d.caption(f"over {words} generated words")
    else:
        d.metric("word validity (T=0.5)", "—")
    if scored:
        fig = text_charts.bits_per_char_curve(
            [e.epoch for e in scored], [e.bits_per_char for e in scored],
            scored[-1].ngram_bits_per_char, f"counting {NGRAM_ORDER}-gram", theme=page_theme(),
        )  # fmt: skip
        chart(fig, f"tx_bits_{id(run)}", "bits-per-char")
    if bits is not None and ngram is not None:
        verdict = "beats" if bits < ngram else "is still behind"
        st.caption(
            f"**Your RNN vs counting**: {bits:.3f} against {ngram:.3f} bits per character on "
            f"the test half of the held-out text (scored once, never used to pick an epoch), "
            f"so the RNN {verdict} a {NGRAM_ORDER}-gram model that only counts which character "
            "followed the last few in the training text."
        )
    elif snap.active:
        st.caption("The test half is scored once, when training stops.")
    elif run.origin == "pretrained" and bits is None and not corpus_here:
        st.caption("Test bits/char needs the corpus, which is not on this machine.")
    reading_caption(run.spec.data, val, test if bits is not None else None)


def reading_caption(cfg: Any, val: Any, test: Any) -> None:
    """One line on how the shown validation and test figures read their half of the text."""
    said = [(name, held_out_reading(cfg, reading=r.reading)) for name, r in
            (("validation", val), ("test", test)) if r is not None]  # fmt: skip
    if not said:
        return
    if len({how for _, how in said}) == 1:
        names = " and ".join(name for name, _ in said)
        line = f"The {names} figures score {said[0][1]}"
    else:
        line = "; ".join(f"the {name} figures score {how}" for name, how in said)
        line = line[0].upper() + line[1:]
    st.caption(f"{line}; the {NGRAM_ORDER}-gram scores the same characters with the same text "
               "before each.")  # fmt: skip


def _finite(value: float | None) -> float | None:
    """The value when it is a finite number, else None (shown as "—")."""
    return value if value is not None and np.isfinite(value) else None


def samples_view(record: Any):
    """After each epoch: bits/char against the n-gram, then the seed at every temperature."""
    key, seen = f"tx_epoch_{id(record)}", f"tx_seen_{id(record)}"
    default_mode = sampling_mode(
        record.spec.data.maxlen if record.spec.data.window_sampling else None
    )

    def view(snap: Any) -> None:
        quality_view(record, snap)
        extras = [e for e in snap.epoch_extras if e is not None]
        if not extras:
            st.caption("Samples appear here after the first epoch.")
            return
        epochs = [e.epoch for e in extras]
        shown = st.session_state.get(key)
        if shown not in epochs or shown == st.session_state.get(seen):  # was at the newest
            st.session_state[key] = epochs[-1]  # follow each new epoch
        st.session_state[seen] = epochs[-1]
        if len(epochs) > 1:
            st.select_slider(
                "Timeline: the same seed after each epoch (at the right end it follows new "
                "epochs; drag back to see how the text improved)", options=epochs, key=key,
                format_func=lambda e: f"epoch {e}",
            )  # fmt: skip
        extra = extras[epochs.index(st.session_state[key])]
        mode = extra.mode or default_mode
        st.markdown(
            f"**After epoch {extra.epoch}** · sampled in {mode_label(mode)} · grey: the seed"
        )
        cols = st.columns(len(extra.samples))
        for col, t, sample in zip(cols, extra.temperatures, extra.samples, strict=True):
            col.markdown(f"**T = {t:g}** · {mode}")
            col.html(sample_box(extra.seed, sample))
            if not sample.strip():
                col.caption(
                    "Only spaces and line breaks: at a low temperature a young model keeps "
                    "picking its likeliest character, the space."
                )

    return view


def own_seed(record: Any) -> None:
    """Generate from the user's own seed; characters outside the alphabet are reported."""
    data = record.data
    vocab, cfg = data.vocab, data.config
    with st.form("tx_own"):
        st.markdown("**Continue your own text**")
        a, b, c = st.columns([3, 1, 1])
        seed = a.text_area("Seed", value=data.seed_text, key="tx_own_seed", height=90)
        t = b.select_slider("Temperature", LOG_TEMPS, value=0.5, key="tx_own_t")
        n = b.number_input("Characters", 10, 3000, value=400, step=100, key="tx_own_n")
        window = c.toggle(
            "Keras window", key="tx_own_window", value=bool(cfg.window_sampling),
            help=f"Off: carry the RNN state from character to character (fast). On: re-read "
            f"only the last {cfg.maxlen} characters for every new one, exactly as the Keras "
            "example does (slower).",
        )  # fmt: skip
        go = c.form_submit_button("Generate", type="primary")
    if not go:
        return
    seed = seed.lower() if cfg.lowercase else seed
    unknown = vocab.unknown(seed)
    if unknown:
        st.warning(
            f"Your seed has {len(unknown)} character(s) this corpus never uses: "
            f"{', '.join(repr(ch) for ch in unknown[:20])}. The model has no input for them, "
            "so they were left out.",
            icon=":material/warning:",
        )
        seed = "".join(ch for ch in seed if ch not in set(unknown))
    if not seed:
        st.error("Nothing is left to continue: type some characters of the corpus alphabet.")
        return
    gen = CharGenerator.from_keras(record.job.model)
    rng = np.random.default_rng()
    t0 = time.perf_counter()
    out = generate_text(gen, vocab, seed, int(n), [float(t)], rng, cfg.maxlen if window else None)
    ms = (time.perf_counter() - t0) * 1e3
    st.html(sample_box(seed, out[0]))
    mode = sampling_mode(cfg.maxlen if window else None)
    st.caption(
        f"{int(n)} characters in {ms:.0f} ms ({ms / int(n):.2f} ms per character), sampled in "
        f"{mode_label(mode)}."
    )


def temperature_explorer(record: Any) -> None:
    """Bars of the likeliest next characters; a log-scale temperature slider reshapes them."""
    data = record.data
    vocab, cfg = data.vocab, data.config

    @st.fragment
    def explorer() -> None:
        st.markdown("**Temperature explorer**: what could come next?")
        a, b = st.columns([3, 2])
        context = a.text_area(
            "Context", value=data.seed_text[-cfg.maxlen :], key="tx_ctx", height=80,
            help=f"The model reads the last {cfg.maxlen} characters of this text.",
        )  # fmt: skip
        t = b.select_slider(
            "Temperature (log scale; 0 = always the likeliest)", LOG_TEMPS, value=1.0,
            key="tx_ctx_t", format_func=lambda v: "0 (argmax)" if v == 0 else f"{v:g}",
        )  # fmt: skip
        ctx = context.lower() if cfg.lowercase else context
        unknown = vocab.unknown(ctx)
        if unknown:
            st.warning(
                f"Not in this corpus's alphabet, left out: {', '.join(repr(c) for c in unknown)}"
            )
            ctx = "".join(c for c in ctx if c not in set(unknown))
        if not ctx:
            st.info("Type a context the model can read.")
            return
        gen = CharGenerator.from_keras(record.job.model)
        probs = gen.next_probs(vocab.encode(ctx[-cfg.maxlen :]))[0]  # (V,)
        entropy = entropy_bits(apply_temperature(probs, float(t)))
        fig = text_charts.next_char_bars(probs, vocab.chars, float(t), theme=page_theme())
        chart(fig, "tx_bars", "next-character")
        st.caption(
            f"Bars: p^(1/T), renormalised (computed as softmax(log p / T) with the maximum "
            f"subtracted, so T = 0.05 cannot overflow). Dashes: the model's own probabilities. "
            f"Uncertainty at this temperature: {entropy:.2f} bits (0 = a certain choice; "
            f"{np.log2(vocab.size):.1f} = all {vocab.size} characters equally likely)."
        )

    explorer()


def summary(model: Any) -> None:
    """Parameters per layer, by formula and by Keras."""
    from rnn_core.params import summary_rows

    with st.expander("Model summary: parameters per layer, by formula and by Keras"):
        st.dataframe(pd.DataFrame(summary_rows(model)), hide_index=True)
        st.caption(
            "Embedding: alphabet × dimension (one-hot: a fixed identity table, not trained). "
            "LSTM: 4·(inputs+units+1)·units. GRU: 3·(inputs+units+2)·units. Dense softmax: "
            "(units+1) × alphabet."
        )


def compare(past: list[Any]) -> None:
    """Every text run of this session by the metric picked (validation loss first), and a
    summary table ranked by it."""
    st.subheader("Compare runs")
    named = [(f"{i + 1}. {r.name}", r) for i, r in enumerate(past)]
    by, values, order = compare_by_metric(named, "val_loss", "tx_compare_metric")
    rows = []
    for i in order:
        name, r = named[i]
        s = r.job.snapshot()
        reports = [e for e in s.epoch_extras if e is not None]
        valid = [e.word_validity for e in reports if e.words_scored]
        bits = [e.bits_per_char for e in reports if np.isfinite(e.bits_per_char)]
        test = _finite(r.results.bits_per_char) if r.scored() else None
        rows.append(
            {
                "run": name,
                "params": r.params,
                "epochs": s.epoch,
                "s/epoch": round(s.train_seconds / s.epoch, 1) if s.epoch else None,
                best_column(by): round(values[i], 4) if values[i] is not None else None,
                "last validation bits/char": round(bits[-1], 3) if bits else None,
                "test bits/char": round(test, 3) if test is not None else None,
                "last word validity": round(valid[-1], 3) if valid else None,
                "state": s.state,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if by:
        st.caption(f"Best first by {metric_label(by)}.")
