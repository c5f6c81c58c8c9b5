"""Text generation: a character RNN learns a corpus live; sample it at chosen temperatures."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import streamlit as st

from pages import _snapshots
from pages._board_db import hand_in_form
from pages._chrome import settings_box
from pages._export import export_buttons
from pages._form import START_SHORTCUT, Form, follow_in_address_bar, share_box, spec_from_link
from pages._session import import_model
from pages._stop_form import patience_control, until_control, until_text, until_values
from pages._tabs import KEY
from pages._text_corpus import SOURCES, choose_corpus, corpus_summary
from pages._text_views import compare, own_seed, samples_view, summary, temperature_explorer
from pages._train_form import on_train_page, steps_per_execution_control, xla_control
from pages.common import (
    add_run,
    budget,
    live_panel,
    load_training,
    prime_training,
    runs,
    shared_runs,
    show_code,
)
from rnn_core.config import (
    CELLS,
    OPTIMIZERS,
    SCHEDULES,
    ModelConfig,
    RunSpec,
    TextConfig,
    TrainConfig,
)
from rnn_core.data.corpus import make_windows
from rnn_core.data.loaders import ENV_VAR, data_status
from rnn_core.presets import PRESETS
from rnn_core.sampling import CharGenerator, apply_temperature
from rnn_core.tasks import get_task, run_name
from rnn_core.tasks.text import (
    NGRAM_DISCOUNT,
    NGRAM_ORDER,
    VALIDITY_LENGTH,
    VALIDITY_SEEDS,
    build_text_model,
    prime_corpus,
)

TASK = get_task("text")
TEMPS = (0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0)  # choices for the per-epoch samples
FORM = Form("tx_")  # the page's values: kept across pages for the whole session
FIELDS = {  # form field -> (config section, field)
    "cell": ("model", "cell"),
    "units": ("model", "units"),
    "layers": ("model", "layers"),
    "embedding_dim": ("model", "embedding_dim"),
    "maxlen": ("data", "maxlen"),
    "step": ("data", "step"),
    "every_position": ("data", "every_position"),
    "temperatures": ("data", "temperatures"),
    "sample_length": ("data", "sample_length"),
    "seed_text": ("data", "seed_text"),
    "window_sampling": ("data", "window_sampling"),
    "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"),
    "optimizer": ("train", "optimizer"),
    "learning_rate": ("train", "learning_rate"),
    "schedule": ("train", "schedule"),
    "seed": ("train", "seed"),
    "patience": ("train", "patience"),
    "steps_per_execution": ("train", "steps_per_execution"),
    "jit_compile": ("train", "jit_compile"),
}
CORPORA = ("nietzsche", "python-docs")  # corpora a link can name (an upload is sent again)
UPLOAD = "upload:"  # an uploaded corpus's name in a spec: "upload:<file name>"


def spec_values(spec: RunSpec, corpus: bool = True) -> dict[str, Any]:
    """A text spec as form values; with ``corpus``, the corpus choice and options too."""
    values = {}
    for field, (section, name) in FIELDS.items():
        value = getattr(getattr(spec, section), name)
        values[field] = list(value) if isinstance(value, tuple) else value
    values |= until_values(spec.train.until, TASK.val_metrics())
    if corpus:
        name = spec.data.corpus
        values["source"] = name if name in CORPORA else "upload"
        values["lowercase"], values["max_chars"] = spec.data.lowercase, spec.data.max_chars or 0
    return values


def apply_preset() -> None:
    """on_change of the preset picker: its model and training settings, the corpus is kept."""
    name = FORM.get("preset")
    if name in PRESETS:
        FORM.fill(spec_values(PRESETS[name].spec, corpus=False))


def spec_from_widgets(corpus_name: str) -> RunSpec:
    """Read the corpus options and the form back into a frozen RunSpec."""
    values: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    for field, (section, name) in FIELDS.items():
        values[section][name] = FORM.get(field)
    values["data"]["temperatures"] = tuple(sorted(float(t) for t in FORM.get("temperatures")))
    metric, threshold = FORM.get("until_metric"), FORM.get("until_value")
    values["train"]["until"] = until_text(metric, threshold, TASK.val_metrics())
    seed = int(FORM.get("seed"))
    data = TextConfig(
        corpus=corpus_name, lowercase=bool(FORM.get("lowercase")),
        max_chars=FORM.get("max_chars") or None, data_dir=st.session_state.get("data_dir") or None,
        **values["data"], seed=seed,
    )  # fmt: skip
    model = ModelConfig(**values["model"], seed=seed)
    return RunSpec(task="text", data=data, model=model, train=TrainConfig(**values["train"]))


def load_from_link() -> None:
    """Once per link: a ``?preset=NAME`` or a shared ``?task=text&…`` fills the form."""
    found = spec_from_link("text", TASK.info.name)
    if found is None:
        return
    spec, name = found
    if spec.task != TASK.info.name:
        st.warning("This link is not a text-generation configuration; the form is unchanged.")
        return
    FORM.fill(spec_values(spec, corpus=name is None))  # a preset keeps the chosen corpus
    FORM.fill({"preset": name or "(custom)"})
    if name is None and spec.data.corpus not in CORPORA:  # a file's text is never in a link
        st.session_state.tx_link_upload = spec.data.corpus.removeprefix(UPLOAD)


def corpus_name(corpus: Any) -> str | None:
    """The corpus as a spec names it (None while an upload is missing or refused)."""
    source = FORM.get("source")
    if source != "upload":
        return source
    return None if corpus is None else f"{UPLOAD}{corpus.name}"


def follow_form(corpus: Any) -> dict[str, str] | None:
    """The address bar shows the form's configuration as it changes (share it, reload it);
    returns that link's parameters (None while the form cannot make a spec)."""
    from rnn_core.links import to_query

    name = corpus_name(corpus)
    try:
        spec = spec_from_widgets(name) if name else None
    except (TypeError, ValueError):  # a value the config refuses: Start will say why
        return None
    if spec is None:
        return None
    query = to_query(spec)
    follow_in_address_bar("text", query)
    return query


def upload_link_note() -> None:
    """A link made with an uploaded file: say that its text is not in the link."""
    name = st.session_state.get("tx_link_upload")
    if name and FORM.get("source") == "upload" and not st.session_state.get("tx_upload_good"):
        st.info(
            f"This link was made with an uploaded file, **{name}**. A link never carries a "
            "file's text: upload that file (or another) above, or choose a built-in corpus.",
            icon=":material/link:",
        )


def share_settings(query: dict[str, str] | None) -> None:
    """The form's share link, folded: corpus choice, model and sampling settings."""
    if query is None:
        return
    upload = query.get("d.corpus", "").startswith(UPLOAD)
    with st.expander("Share these settings", icon=":material/share:"):
        share_box(
            query,
            "This link opens this page with these settings: the corpus choice, the model, "
            "training and sampling settings (not a trained model)."
            + (
                " It names your uploaded file but never carries its text: whoever opens it is "
                "asked to upload a file."
                if upload
                else ""
            ),
        )


def config_form(busy: bool, ready: bool) -> bool:
    """The model and training controls, then Start; True when Start was pressed.

    Not an ``st.form``: each change reaches the server at once, so it is kept when the
    student leaves the page and the address bar can follow it.
    """
    f = FORM
    with st.container(border=True):
        a, b, c, d = st.columns(4)
        f(a.selectbox, "Cell", "cell", CELLS)
        f(a.number_input, "Units", "units", 8, 1024, step=32, help="Hidden units per layer.")
        f(a.number_input, "Layers", "layers", 1, 4, help="Stacked recurrent layers.")
        f(
            a.number_input, "Embedding dim (0 = one-hot)", "embedding_dim", 0, 256, step=8,
            help="Each character id becomes a learned vector of this length. 0 feeds one-hot "
            "vectors instead, as the Keras example does (built inside the model, per batch).",
        )  # fmt: skip
        f(
            b.number_input, "Window (maxlen)", "maxlen", 5, 200,
            help="Characters the model reads in one training example (Keras: 40).",
        )  # fmt: skip
        f(
            b.number_input, "Step", "step", 1, 200,
            help="Characters between the starts of two windows (Keras: 3). With a next "
            "character after every prefix, a step near the window length already uses "
            "every character once per epoch.",
        )  # fmt: skip
        f(
            b.checkbox, "Learn from every prefix", "every_position",
            help="On: every window gives maxlen targets (one per prefix), a much stronger "
            "signal per epoch. Off: only the character after the window, as in Keras.",
        )  # fmt: skip
        f(c.number_input, "Epochs", "epochs", 1, 500)
        f(c.selectbox, "Batch size", "batch_size", [32, 64, 128, 256, 512])
        f(c.selectbox, "Optimizer", "optimizer", OPTIMIZERS)
        f(c.number_input, "Learning rate", "learning_rate", 1e-5, 1.0, format="%.4f", step=1e-3)
        f(
            c.selectbox, "Learning-rate schedule", "schedule", SCHEDULES,
            help="cosine: the rate falls smoothly from the learning rate to 0 by the last "
            "epoch, so the last steps make small, careful changes.",
        )  # fmt: skip
        f(d.number_input, "Random seed", "seed", 0, 2**31 - 1)
        steps_per_execution_control(d, f)
        xla_control(d, f)
        until_control(d, f, TASK.val_metrics())
        patience_control(d, f)
        st.markdown("**Samples after every epoch**")
        e, g, h = st.columns([2, 1, 3])
        f(
            e.multiselect, "Temperatures", "temperatures", TEMPS,
            help="After every epoch the same seed is continued at each temperature.",
        )  # fmt: skip
        f(g.number_input, "Characters", "sample_length", 20, 2000, step=50)
        f(
            h.text_input, "Seed text", "seed_text",
            placeholder="(empty: a sentence of the validation text)",
            help="What every epoch's samples continue. Empty: a sentence the model never "
            "trains on.",
        )  # fmt: skip
        f(
            h.checkbox, "Sample as Keras does (re-read the window)", "window_sampling",
            help="On: every new character is predicted from the last maxlen characters only, "
            "read from a zero state, as the Keras example's generator does; right for a model "
            "trained only on the character after a full window. Off: the RNN state is carried "
            "from character to character (one cell step per character).",
        )  # fmt: skip
        return st.button(
            "▶ Start training", type="primary", disabled=busy or not ready, key="tx_start",
            shortcut=START_SHORTCUT,
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

    # only a built-in corpus is shared: an upload's text is not in its spec
    builtin = spec.data.corpus in SOURCES and spec.data.corpus != "upload"
    share, owner = (shared_runs() if builtin else None), st.session_state.get(KEY)
    with st.spinner("Building the model…"):  # an identical run of a built-in corpus is watched
        name = f"{run_name(spec)} · {corpus.name}"
        run = start(spec, budget(), windows, name=name, share=share, owner=owner)
    add_run(run)
    st.session_state.tx_current = run
    run.job.start()
    st.rerun()  # redraw the whole page with the new run (Stop enabled, Start disabled)


def prime_text(spec: RunSpec, corpus: Any) -> None:
    """Have an idle warm worker trace the form's model before its Start, on windows of a
    short text with the corpus's alphabet (the same model as the whole corpus gives)."""
    from rnn_core.run import PRIME_BATCHES

    def windows(task: Any, cfg: TextConfig) -> Any:
        """The prime's data: a few batches' worth of windows."""
        return task.make_data(cfg, prime_corpus(corpus, cfg, PRIME_BATCHES * spec.train.batch_size))

    prime_training(spec, windows)


def not_a_text_model(task: str) -> str:
    """Why an imported model of ``task`` cannot be used here; "" for a text model."""
    return f"it is a model of the {task} task, not a text model" if on_train_page(task) else ""


st.title("Text generation")
st.caption(f"**{TASK.info.label}** — {TASK.info.rnn_type}. {TASK.info.description}")

if FORM.get("cell") is None:  # first visit: the fast preset, a corpus already here
    Form("").start({"data_dir": os.environ.get(ENV_VAR, "")})
    here = data_status(st.session_state.get("data_dir") or None)["nietzsche.txt"]
    source = "nietzsche" if here else "python-docs"
    FORM.start(spec_values(TASK.default_spec()) | {"preset": "(custom)", "source": source})
load_from_link()

current = st.session_state.get("tx_current")
busy = current is not None and current.job.snapshot().active

with settings_box("Corpus and model"):
    corpus = choose_corpus()
    upload_link_note()
    if corpus is not None:
        corpus_summary(corpus)
    names = list(TASK.presets())
    FORM(
        st.selectbox, "Preset", "preset", ["(custom)", *names], on_change=apply_preset,
        format_func=lambda n: n if n == "(custom)" else f"{n} — {PRESETS[n].title}",
        help="Loads a ready-made configuration into the form below.",
    )  # fmt: skip
    if FORM.get("preset") in PRESETS:
        st.caption(PRESETS[FORM.get("preset")].results_line())
    started = config_form(busy, corpus is not None)
    share_settings(follow_form(corpus))  # the address bar shows the form as it is now
_snapshots.text_page()  # start from the pretrained character model


import_model(
    "tx",
    not_a_text_model,
    "Import a text model exported by RNN Lab (.keras and its alphabet .keras.vocab.json)",
)

if started and corpus is not None:
    try:
        start_run(spec_from_widgets(corpus_name(corpus)), corpus)
    except ValueError as exc:  # bad settings, or a seed outside the alphabet
        st.error(str(exc))
elif not busy and corpus is not None:
    with contextlib.suppress(ValueError):  # a form that cannot make a spec is not primed
        prime_text(spec_from_widgets(corpus_name(corpus)), corpus)

if current is not None:
    data = current.data  # None once the run was released to save memory
    st.subheader(f"Run: {current.name} · {current.params:,} parameters")
    st.info(current.note)
    real = getattr(data, "reference_validity", float("nan"))
    st.caption(
        "**bits/char** (the main measure): the model's cross-entropy of the next character, "
        "in bits; lower is better, "
        f"log2 of the alphabet size = {np.log2(current.output_size):.2f} means guessing. The "
        f"corpus's last {current.spec.data.val_fraction:.0%} is never trained on: its first "
        "half is the **validation** text, scored after every epoch (the curve; patience and "
        "the stop condition watch it), its second half the **test** text, scored once when "
        "training stops (the figure to quote). Beside it, the same figure for a counting "
        f"baseline: a character {NGRAM_ORDER}-gram model with absolute discounting "
        f"{NGRAM_DISCOUNT}, fitted on the same training text and scored on the same "
        "characters of the same half, with the same text before each (how each half was read "
        "is said under the figures). "
        "**train loss**: the same cross-entropy in nats on the training text. The loss "
        "chart's **validation** line and **val accuracy** (how often the likeliest next "
        "character is right) are Keras's own figures: they read the validation text in windows "
        f"of {current.spec.data.maxlen}, each from a zero state, as training reads its text, so "
        "they compare with the training figures. "
        "**word validity** (secondary, the only word figure on this page): in "
        f"{VALIDITY_SEEDS} samples of {VALIDITY_LENGTH} characters at T = 0.5 from validation "
        "seeds, the distinct words (two letters or more) that are words of the corpus, per "
        "word generated, so repeating a word does not raise it"
        + (
            f"; real validation text of the same length scores {real:.3f}."
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
    hand_in_form(current)

past = [r for r in runs() if r.spec.task == TASK.info.name]
if len(past) > 1:
    compare(past)

show_code(build_text_model, make_windows, CharGenerator.generate, apply_temperature)
