"""Text page, after training: samples per epoch with a timeline, own seed, temperature explorer."""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnn_core.charts import text as text_charts
from rnn_core.charts import training as charts
from rnn_core.sampling import CharGenerator, apply_temperature, generate_text

LOG_TEMPS = (0.0, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
SAMPLE_CSS = (
    "font-family: ui-monospace, monospace; font-size: 0.82rem; white-space: pre-wrap; "
    "background: rgba(128,128,128,0.08); padding: 0.6rem; border-radius: 0.4rem; "
    "max-height: 17rem; overflow-y: auto; line-height: 1.35"
)


def sample_box(seed: str, sample: str) -> str:
    """HTML of a sample: the seed in grey, the model's continuation in black."""
    return (
        f'<div style="{SAMPLE_CSS}"><span style="opacity:0.45">{html.escape(seed)}</span>'
        f"{html.escape(sample)}</div>"
    )


def samples_view(record: Any):
    """After each epoch: the same seed at every temperature, side by side, with a timeline."""
    key, seen = f"tx_epoch_{id(record)}", f"tx_seen_{id(record)}"

    def view(snap: Any) -> None:
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
        st.markdown(
            f"**After epoch {extra.epoch}** · word validity at T = 0.5: "
            f"**{extra.word_validity:.0%}** (share of generated words that are words of "
            "the corpus) · grey: the seed"
        )
        cols = st.columns(len(extra.samples))
        for col, t, sample, valid in zip(
            cols, extra.temperatures, extra.samples, extra.validity_by_t, strict=True
        ):
            col.markdown(f"**T = {t:g}** · {valid:.0%} real words")
            col.html(sample_box(extra.seed, sample))
            if not sample.strip():
                col.caption(
                    "Only spaces and line breaks: at a low temperature a young model keeps "
                    "picking its likeliest character, the space."
                )
        if len(epochs) > 1:
            with st.expander("Real words per temperature, epoch by epoch"):
                fig = text_charts.validity_by_temperature(extras)
                st.plotly_chart(fig, key=f"tx_validity_{id(record)}")

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
            "Keras window", key="tx_own_window",
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
    st.caption(f"{int(n)} characters in {ms:.0f} ms ({ms / int(n):.2f} ms per character).")


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
        q = apply_temperature(probs, float(t))
        nz = q[q > 0]
        entropy = float(-(nz * np.log2(nz)).sum())
        st.plotly_chart(
            text_charts.next_char_bars(probs, vocab.chars, float(t)), key="tx_bars",
            config={"displayModeBar": False},
        )  # fmt: skip
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
    """Validation loss of every text run of this session, and a summary table."""
    st.subheader("Compare runs")
    series = [(f"{i + 1}. {r.name}", r.job.snapshot().epoch_logs) for i, r in enumerate(past)]
    st.plotly_chart(charts.compare_curves(series, "val_loss"), key="tx_compare")
    rows = []
    for (name, _), r in zip(series, past, strict=True):
        s = r.job.snapshot()
        val = [log["val_loss"] for log in s.epoch_logs if "val_loss" in log]
        valid = [e.word_validity for e in s.epoch_extras if e is not None]
        rows.append(
            {
                "run": name,
                "params": r.params,
                "epochs": s.epoch,
                "s/epoch": round(s.train_seconds / s.epoch, 1) if s.epoch else None,
                "best val loss": round(min(val), 4) if val else None,
                "last word validity": round(valid[-1], 3) if valid else None,
                "state": s.state,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
