"""Text generation: a character RNN learns a corpus live; sample it at chosen temperatures."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from pages import _snapshots
from pages._chrome import settings_box
from pages._export import export_buttons
from pages._text_corpus import choose_corpus, corpus_summary
from pages._text_views import compare, own_seed, samples_view, summary, temperature_explorer
from pages.common import add_run, budget, live_panel, load_training, runs, show_code, use_the_router
from rnn_core.config import CELLS, OPTIMIZERS, ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.data.corpus import make_windows
from rnn_core.data.loaders import data_status
from rnn_core.presets import PRESETS
from rnn_core.sampling import CharGenerator, apply_temperature
from rnn_core.tasks import get_task, run_name
from rnn_core.tasks.text import (
    NGRAM_DISCOUNT,
    NGRAM_ORDER,
    VALIDITY_LENGTH,
    VALIDITY_SEEDS,
    build_text_model,
)

use_the_router()

TASK = get_task("text")
TEMPS = (0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0)  # choices for the per-epoch samples
FORM = {  # widget key -> (config section, field)
    "tx_cell": ("model", "cell"),
    "tx_units": ("model", "units"),
    "tx_layers": ("model", "layers"),
    "tx_embedding_dim": ("model", "embedding_dim"),
    "tx_maxlen": ("data", "maxlen"),
    "tx_step": ("data", "step"),
    "tx_every_position": ("data", "every_position"),
    "tx_temperatures": ("data", "temperatures"),
    "tx_sample_length": ("data", "sample_length"),
    "tx_seed_text": ("data", "seed_text"),
    "tx_window_sampling": ("data", "window_sampling"),
    "tx_epochs": ("train", "epochs"),
    "tx_batch_size": ("train", "batch_size"),
    "tx_optimizer": ("train", "optimizer"),
    "tx_learning_rate": ("train", "learning_rate"),
    "tx_seed": ("train", "seed"),
}


def put_spec_in_widgets(spec: RunSpec) -> None:
    """Write a spec's values into the form's widget state."""
    for key, (section, name) in FORM.items():
        value = getattr(getattr(spec, section), name)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value


def apply_preset() -> None:
    """on_change of the preset picker: load the preset into the form."""
    name = st.session_state.get("tx_preset")
    if name in PRESETS:
        put_spec_in_widgets(PRESETS[name].spec)


def spec_from_widgets(corpus_name: str) -> RunSpec:
    """Read the corpus options and the form back into a frozen RunSpec."""
    s = st.session_state
    values: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    for key, (section, name) in FORM.items():
        values[section][name] = s[key]
    values["data"]["temperatures"] = tuple(sorted(float(t) for t in s.tx_temperatures))
    seed = int(s.tx_seed)
    data = TextConfig(
        corpus=corpus_name, lowercase=bool(s.tx_lowercase), max_chars=s.tx_max_chars or None,
        data_dir=s.get("data_dir") or None, **values["data"], seed=seed,
    )  # fmt: skip
    model = ModelConfig(**values["model"], seed=seed)
    return RunSpec(task="text", data=data, model=model, train=TrainConfig(**values["train"]))


def config_form(busy: bool, ready: bool) -> bool:
    """The model and training form; True when Start was pressed."""
    with st.form("tx_config"):
        a, b, c, d = st.columns(4)
        a.selectbox("Cell", CELLS, key="tx_cell")
        a.number_input("Units", 8, 1024, step=32, key="tx_units", help="Hidden units per layer.")
        a.number_input("Layers", 1, 4, key="tx_layers", help="Stacked recurrent layers.")
        a.number_input(
            "Embedding dim (0 = one-hot)", 0, 256, step=8, key="tx_embedding_dim",
            help="Each character id becomes a learned vector of this length. 0 feeds one-hot "
            "vectors instead, as the Keras example does (built inside the model, per batch).",
        )  # fmt: skip
        b.number_input(
            "Window (maxlen)", 5, 200, key="tx_maxlen",
            help="Characters the model reads in one training example (Keras: 40).",
        )  # fmt: skip
        b.number_input(
            "Step", 1, 200, key="tx_step",
            help="Characters between the starts of two windows (Keras: 3). With a next "
            "character after every prefix, a step near the window length already uses "
            "every character once per epoch.",
        )  # fmt: skip
        b.checkbox(
            "Learn from every prefix", key="tx_every_position",
            help="On: every window gives maxlen targets (one per prefix), a much stronger "
            "signal per epoch. Off: only the character after the window, as in Keras.",
        )  # fmt: skip
        c.number_input("Epochs", 1, 500, key="tx_epochs")
        c.selectbox("Batch size", [32, 64, 128, 256, 512], key="tx_batch_size")
        c.selectbox("Optimizer", OPTIMIZERS, key="tx_optimizer")
        c.number_input("Learning rate", 1e-5, 1.0, format="%.4f", step=1e-3, key="tx_learning_rate")
        d.number_input("Random seed", 0, 2**31 - 1, key="tx_seed")
        st.markdown("**Samples after every epoch**")
        e, f, g = st.columns([2, 1, 3])
        e.multiselect(
            "Temperatures", TEMPS, key="tx_temperatures",
            help="After every epoch the same seed is continued at each temperature.",
        )  # fmt: skip
        f.number_input("Characters", 20, 2000, step=50, key="tx_sample_length")
        g.text_input(
            "Seed text", key="tx_seed_text", placeholder="(empty: a sentence of the held-out text)",
            help="What every epoch's samples continue. Empty: a sentence the model never "
            "trains on.",
        )  # fmt: skip
        g.checkbox(
            "Sample as Keras does (re-read the window)", key="tx_window_sampling",
            help="On: every new character is predicted from the last maxlen characters only, "
            "read from a zero state, as the Keras example's generator does; right for a model "
            "trained only on the character after a full window. Off: the RNN state is carried "
            "from character to character (one cell step per character).",
        )  # fmt: skip
        return st.form_submit_button(
            "▶ Start training", type="primary", disabled=busy or not ready,
            help=None if ready else "Choose a corpus that loads first.",
        )  # fmt: skip


def start_run(spec: RunSpec, corpus: Any) -> None:
    """Cut the corpus into windows, build the model and start training it live."""
    from rnn_core.engine.budgets import check_spec
    from rnn_core.run import start_run as start

    check_spec(spec, budget())  # BudgetError is a ValueError: shown under the form, before TF
    load_training()

    def windows(task: Any, cfg: TextConfig) -> Any:
        """The run flow's loader: the chosen (or uploaded) corpus cut into windows."""
        with st.spinner("Cutting the text into windows…"):
            return task.make_data(cfg, corpus)

    with st.spinner("Building the model…"):
        run = start(spec, budget(), windows, name=f"{run_name(spec)} · {corpus.name}")
    add_run(run)
    st.session_state.tx_current = run
    run.job.start()
    st.rerun()  # redraw the whole page with the new run (Stop enabled, Start disabled)


st.title("Text generation")
st.caption(f"**{TASK.info.label}** — {TASK.info.rnn_type}. {TASK.info.description}")

if "tx_cell" not in st.session_state:  # first visit: the fast preset, a corpus already here
    put_spec_in_widgets(TASK.default_spec())
    here = data_status(st.session_state.get("data_dir") or None)["nietzsche.txt"]
    st.session_state.setdefault("tx_source", "nietzsche" if here else "python-docs")
    st.session_state.setdefault("tx_lowercase", True)
    st.session_state.setdefault("tx_max_chars", 0)

current = st.session_state.get("tx_current")
busy = current is not None and current.job.snapshot().active

with settings_box("Corpus and model"):
    corpus = choose_corpus()
    if corpus is not None:
        corpus_summary(corpus)
    names = list(TASK.presets())
    st.selectbox(
        "Preset", ["(custom)", *names], key="tx_preset", on_change=apply_preset,
        format_func=lambda n: n if n == "(custom)" else f"{n} — {PRESETS[n].title}",
        help="Loads a ready-made configuration into the form below.",
    )  # fmt: skip
    if st.session_state.tx_preset in PRESETS:
        st.caption(PRESETS[st.session_state.tx_preset].results_line())
    started = config_form(busy, corpus is not None)
_snapshots.text_page()  # start from the pretrained character model

if started and corpus is not None:
    source = st.session_state.tx_source
    name = f"upload:{corpus.name}" if source == "upload" else source
    try:
        start_run(spec_from_widgets(name), corpus)
    except ValueError as exc:  # bad settings, or a seed outside the alphabet
        st.error(str(exc))

if current is not None:
    data = current.data  # None once the run was released to save memory
    st.subheader(f"Run: {current.name} · {current.params:,} parameters")
    st.info(current.note)
    real = getattr(data, "reference_validity", float("nan"))
    st.caption(
        "**held-out bits/char** (the main measure): the model's cross-entropy of the next "
        f"character on the corpus's last {current.spec.data.val_fraction:.0%} (never trained "
        "on), in bits; lower is better, "
        f"log2 of the alphabet size = {np.log2(current.output_size):.2f} means guessing. "
        "Beside it, the same figure for a counting baseline: a character "
        f"{NGRAM_ORDER}-gram model with absolute discounting {NGRAM_DISCOUNT}, fitted on the "
        "same training text. **train loss**: the same cross-entropy in nats on the training "
        "text. **val accuracy**: how often the likeliest next character is right on the "
        "held-out text. **word validity** (secondary, the only word figure on this page): in "
        f"{VALIDITY_SEEDS} samples of {VALIDITY_LENGTH} characters at T = 0.5 from held-out "
        "seeds, the distinct words (two letters or more) that are words of the corpus, per "
        "word generated, so repeating a word does not raise it"
        + (
            f"; real held-out text of the same length scores {real:.3f}."
            if np.isfinite(real)
            else "."
        )
    )
    live_panel(
        current,
        metric="accuracy",
        metric_label="val accuracy (next char)",
        after_epoch=samples_view(current),
    )
    if data is None or current.job.model is None:
        st.caption("Generating needs the model: start a new run to write with one again.")
    elif current.job.snapshot().epoch > 0:
        own_seed(current)
        temperature_explorer(current)
    if current.job.model is not None:
        summary(current.job.model)
    export_buttons(current)  # .keras plus the alphabet file `generate` reads

past = [r for r in runs() if r.spec.task == TASK.info.name]
if len(past) > 1:
    compare(past)

show_code(build_text_model, make_windows, CharGenerator.generate, apply_temperature)
