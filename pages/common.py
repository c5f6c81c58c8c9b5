"""Helpers shared by the pages: per-session run store, show-code expander, TF loading."""

from __future__ import annotations

import gc
import inspect
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from pages._form import Form
from pages._plot import chart, page_theme
from rnn_core.charts import training as charts
from rnn_core.engine.memory import MB, MEMORY, ByteCache, cache_budget

MAX_RUNS = 8  # runs kept per session; the oldest finished one is dropped beyond this
SESSION_MB_ENV = "RNN_LAB_SESSION_MB"  # MB of models and data one session's runs may keep
SESSION_MB_DEFAULT = 300  # beyond it older finished runs keep only their curves and results
LIVE_REFRESH = 0.7  # seconds between redraws of an active run's live panel (queued too)
START_WATCH = 0.6  # seconds the page run after Start watches its run, at the end of the page
START_POLL = 0.05  # ... looking every this many seconds, for its end
STARTING_SECONDS = 5.0  # ... in a page run this long after Start at most
CURVES = Form("curves.")  # the live curves' view settings, one set for the whole session
SMOOTHING = 0.6  # TensorBoard's default smoothing of the per-batch curve


def show_code(*functions: Callable[..., Any], label: str = "Show the code this page runs") -> None:
    """An expander with the source of the ``rnn_core`` functions the page calls."""
    with st.expander(label):
        for fn in functions:
            st.caption(f"`{fn.__module__}.{fn.__qualname__}`")
            st.code(inspect.getsource(fn), language="python")


def budget() -> Any:
    """This server's budget: ``[budgets]`` in ``.streamlit/secrets.toml``, then RNN_LAB_MAX_*."""
    from rnn_core.engine.budgets import Budget

    try:
        table = dict(st.secrets.get("budgets", {}))
    except Exception:  # no secrets file at all: defaults and environment only
        table = {}
    return Budget.from_sources(table)


def runs() -> list[Any]:
    """This session's runs (``rnn_core.run.Run`` objects), oldest first."""
    return st.session_state.setdefault("runs", [])


def add_run(record: Any) -> None:
    """Keep a new run, dropping the oldest finished runs beyond MAX_RUNS.

    The runs belong to this browser tab (``pages._tabs``): a reload gets them back, and their
    trainings are stopped only after the tab's grace period.
    """
    from pages._tabs import attach_tab

    attach_tab(show=False)  # the tab holds this session's runs list (app.py did it already)
    store = runs()
    store.append(record)
    while len(store) > MAX_RUNS:
        idle = next((r for r in store if not r.job.snapshot().active), None)
        if idle is None:
            break
        store.remove(idle)
    free_old_models(store)


def session_bytes() -> int:
    """Bytes of models and data one session's runs may keep: ``$RNN_LAB_SESSION_MB`` or 300 MB."""
    raw = os.environ.get(SESSION_MB_ENV, "").strip()
    return (int(raw) if raw.isdigit() else SESSION_MB_DEFAULT) * MB


def free_old_models(store: list[Any], max_bytes: int | None = None) -> int:
    """Release model and data of finished runs, oldest first, until the runs' estimated bytes
    (``pages._tabs.run_bytes``) fit in ``max_bytes`` (default :func:`session_bytes`); the
    newest run keeps its own. Returns how many were released."""
    from pages._tabs import run_bytes

    limit = session_bytes() if max_bytes is None else max_bytes
    total = sum(run_bytes(r) for r in store)
    freed = 0
    for run in store[:-1]:
        if total <= limit:
            break
        if run.job.released or run.job.snapshot().active:
            continue
        total -= run_bytes(run)
        run.release()
        freed += 1
    if freed:
        gc.collect()  # Keras models hold reference cycles; free them now, not later
    return freed


def release_held_runs() -> int:
    """Memory pressure (a training waits for memory): release the model and data of every
    finished run of the tabs held after their session ended (nobody draws them; a reload
    finds their curves and results). Returns how many were released."""
    from pages._tabs import store

    freed = 0
    for run in store().held_runs():
        if not run.job.released and not run.job.snapshot().active:
            run.release()
            freed += 1
    if freed:
        gc.collect()
    return freed


MEMORY.on_pressure(release_held_runs)  # once per process: this module is imported once

_SHARED: Any = None  # this server's ShareRegistry, made at first use
_SHARED_LOCK = threading.Lock()


def shared_runs() -> Any:
    """This server's registry of shared trainings (identical Starts train once), or None when
    ``RNN_LAB_SHARE_RUNS=0``."""
    from rnn_core.engine.sharing import ShareRegistry, sharing_on

    global _SHARED
    if not sharing_on():
        return None
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ShareRegistry()
        return _SHARED


def sharing_note(snap: Any) -> str:
    """What the live panel says about a shared run ("" when the run is not shared)."""
    n = snap.shared_with
    students = f"{n} student{'s' * (n != 1)}"
    if snap.reused and not snap.active:
        return (
            "Trained earlier on this server for an identical run (the same settings and seeds): "
            "these curves and weights come from that training, nothing was trained again. "
            "The weights are your own copy: Train more trains it for you alone."
        )
    if n and snap.active:
        return (
            f"Shared with {students}: the same settings and seeds were started on this server, "
            "so one training runs for all of you. Stop detaches only you and the run goes on "
            "for the others; when it ends you get your own copy of the weights."
        )
    if n and snap.state == "failed":
        return (
            f"Shared with {n} other student{'s' * (n != 1)} (the same settings and seeds): "
            "the run failed for all of you, for the reason below."
        )
    if n:
        return (
            f"Trained once for you and {n} other student{'s' * (n != 1)} (the same settings "
            "and seeds); these weights are your own copy."
        )
    return ""


_TF_READY = threading.Event()  # set once TensorFlow is imported and its devices are set up
_TF_LOCK = threading.Lock()


def _set_up_tensorflow() -> None:
    """Import the engine and set up TensorFlow's devices, in one thread at a time, once."""
    with _TF_LOCK:
        if not _TF_READY.is_set():
            import rnn_core.engine.job

            rnn_core.engine.job.set_up_tensorflow()
            _TF_READY.set()


def load_training() -> Any:
    """Import the TensorFlow-backed engine and set up TF's devices, once per process.

    The first time shows a spinner. Sessions run in threads of one process, and a class
    pressing Start together on a fresh server once crashed it (a segfault in the thread doing
    TensorFlow's first device setup, the CUDA probe, while other threads built models): the
    import and that setup happen here, in one thread, before any session uses TensorFlow.
    """
    if not _TF_READY.is_set():
        with st.spinner("Loading TensorFlow (first time only, a few seconds)…"):
            _set_up_tensorflow()
    import rnn_core.engine.job as training

    return training


_PREPARING = threading.Lock()  # held by the one call that starts prepare_training's thread
_prepared: list[threading.Thread] = []  # that thread, once started


def prepare_training() -> threading.Thread:
    """Set TensorFlow up in a background thread of this server, once (as :func:`load_training`
    would at the first Start), so that Start does not wait for it; the thread."""
    with _PREPARING:
        if not _prepared:
            thread = threading.Thread(target=_set_up_tensorflow, name="prepare-training")
            thread.daemon = True
            thread.start()
            _prepared.append(thread)
        return _prepared[0]


def prime_training(spec: Any, load_data: Any = None) -> None:
    """Let an idle warm worker trace ``spec``'s model while nothing trains
    (:func:`rnn_core.run.prime_start`, its small data made by ``load_data``, default: from
    the shared sources), once this server has set TensorFlow up (in the background: the page
    does not wait)."""
    from rnn_core.run import prime_start

    load = load_data or _prime_data
    setup = prepare_training()
    if not setup.is_alive():
        prime_start(spec, load_data=load)
        return

    def later() -> None:
        """Prime once the server's TensorFlow setup has ended."""
        setup.join()
        prime_start(spec, load_data=load)

    threading.Thread(target=later, name="prime-training", daemon=True).start()


def run_controls(record: Any, snap: Any) -> None:
    """Stop while training; "Train more" with an epoch count once it has ended."""
    job = record.job
    b1, b2, _ = st.columns([1, 1, 3], vertical_alignment="bottom")
    if job.released:
        st.caption(
            f"To save memory a session keeps the models and data of its newest runs up to "
            f"{session_bytes() // MB} MB; this one keeps its curves and results. Start a new "
            "run to train again."
        )
    elif snap.active:
        label = "■ Leave the queue" if snap.state == "queued" else "■ Stop"
        why = "Stops after this batch."
        if snap.shared_with:
            why = "Detaches only you (with the weights so far); the run goes on for the others."
        b1.button(label, on_click=job.stop, type="primary", help=why)
    else:
        limit = budget().max_epochs
        left = max(1, limit - snap.epoch)
        more = b2.number_input("Epochs to add", 1, left, value=min(5, left))
        if b1.button("⟳ Train more", help="Continue this model and its curves."):
            from rnn_core.engine.budgets import BudgetError, check_epochs

            try:
                check_epochs(snap.epoch, int(more), budget())
            except BudgetError as exc:
                st.warning(str(exc))
                return
            job.start(int(more))
            st.rerun()


SHARED_TRAININGS_DRAWN = 8  # shared trainings whose figures are kept for all their watchers
VARIANTS_KEPT = 3  # figures kept per shared training and figure name (watchers' settings)
_shared_figures: OrderedDict[str, dict[str, list[tuple[Any, Any]]]] = OrderedDict()
_shared_lock = threading.Lock()


def shared_scope(record: Any) -> str | None:
    """The key of the shared training ``record`` watches (every watcher draws the same
    figures from it), or None for a run of its own."""
    job = getattr(record, "job", None)
    if getattr(job, "shared", False) and getattr(job, "entry", None) is not None:
        return job.entry.key
    return None


def cached_figure(record: Any, name: str, key: Any, build: Callable[[], Any]) -> Any:
    """A figure of this run, rebuilt only when ``key`` (plain values) changed since last time.

    Building a Plotly figure costs tens of milliseconds of the server's one interpreter; a
    live panel redraws every second or so, for every student, mostly with the same data.
    The watchers of one shared training (a class on the same link) share its figures, so
    each new batch is drawn once for the class, not once per student.
    """
    scope = shared_scope(record)
    if scope is None:
        figures = record.ui.setdefault("figures", {})
        if name not in figures or figures[name][0] != key:
            figures[name] = (key, build())
        return figures[name][1]
    with _shared_lock:
        kept = _shared_figures.setdefault(scope, {}).setdefault(name, [])
        _shared_figures.move_to_end(scope)
        for seen, fig in kept:
            if seen == key:
                return fig
    fig = build()  # outside the lock: one slow build does not hold the other watchers up
    with _shared_lock:
        kept = _shared_figures.setdefault(scope, {}).setdefault(name, [])
        kept.insert(0, (key, fig))
        del kept[VARIANTS_KEPT:]
        while len(_shared_figures) > SHARED_TRAININGS_DRAWN:
            _shared_figures.popitem(last=False)
    return fig


def curve_settings() -> tuple[float, bool]:
    """Smoothing slider and log-scale toggle of the live curves: (EMA weight, log loss)."""
    CURVES.start({"smoothing": SMOOTHING, "log_loss": False})
    a, b = st.columns([3, 1], vertical_alignment="bottom")
    smoothing = CURVES(
        a.slider, "Smoothing of the per-batch curve", "smoothing", 0.0, 0.99, step=0.01,
        help="TensorBoard's exponential moving average (debiased): 0 draws the batches as "
        "they are; closer to 1 averages over more batches. The raw curve stays, faded.",
    )  # fmt: skip
    log_loss = CURVES(
        b.toggle, "Log-scale loss", "log_loss",
        help="Loss axis on a log scale: late, small improvements stay visible.",
    )  # fmt: skip
    return float(smoothing), bool(log_loss)


def curves_table(
    epoch_logs: list[dict[str, float]],
    metric: str,
    extra: list[tuple[float, float]],
    extra_label: str = "",
) -> list[dict[str, Any]]:
    """The live curves' per-epoch points as table rows (one per epoch; None where not measured)."""
    scores = {round(epoch): value for epoch, value in extra}
    name = metric.replace("_", " ")
    rows = []
    for log in epoch_logs:
        epoch = round(log.get("epoch", len(rows) + 1))
        row = {"epoch": epoch}
        for key, label in (
            ("loss", "train loss"),
            ("val_loss", "val loss"),
            (metric, f"train {name}"),
            (f"val_{metric}", f"val {name}"),
        ):
            row[label] = round(log[key], 4) if key in log else None
        if extra_label:
            row[extra_label] = round(scores[epoch], 4) if epoch in scores else None
        rows.append(row)
    return rows


def curves_as_table(epoch_logs: list[dict[str, float]], *table: Any) -> None:
    """The curves' per-epoch numbers in a folded table (for screen readers and exact values)."""
    with st.expander("Curves as a table", icon=":material/table:"):
        if not epoch_logs:
            st.caption("No epoch has ended yet: the table gets a row at the end of each epoch.")
            return
        st.caption("One row per epoch, as drawn in the curves (the thin per-batch line is not).")
        st.dataframe(curves_table(epoch_logs, *table), hide_index=True, width="stretch")


def refresh_period(snap: Any) -> float | None:
    """Seconds between the live panel's redraws: :data:`LIVE_REFRESH` while the run is
    active (queued, starting or training), None once it ended.

    One period for the whole run, so the page is rerun only when the run ends: the browser
    sets a fragment's redraw timer again only from a run of the whole page, and a page rerun
    while the timer's ticks are in flight can lose that message (Streamlit drops the
    messages of a finished script run that a new run overtakes), which freezes the panel.
    """
    return LIVE_REFRESH if snap.active else None


def starting(snap: Any) -> bool:
    """True while an active run that is not waiting in a queue has no batch of its call yet."""
    queued = snap.state == "queued" and bool(snap.queue_position or snap.queue_reason)
    return bool(snap.active and not queued and snap.batch == 0 and not snap.samples_per_sec)


def starting_for(record: Any, snap: Any, now: float | None = None) -> float:
    """Seconds the panel of ``record`` has shown its current call starting (0 for a new
    call), kept in ``record.ui``."""
    now = time.monotonic() if now is None else now
    call = (snap.call_start_epoch, snap.epochs_target)
    seen = record.ui.get("starting_since")
    if seen is None or seen[0] != call:
        record.ui["starting_since"] = (call, now)
        return 0.0
    return now - seen[1]


def await_end(job: Any, snap: Any, seconds: float = START_WATCH) -> Any:
    """Looks at ``job`` every :data:`START_POLL` s, for at most ``seconds``, until its run
    ends; returns the last snapshot (``snap`` if the run has already ended)."""
    deadline = time.monotonic() + seconds
    while snap.active and time.monotonic() + START_POLL <= deadline:
        time.sleep(START_POLL)
        snap = job.snapshot()
    return snap


_STARTING_JOBS = "_live_panels_starting"  # jobs a page run drew starting, for app.py's wait


@contextmanager
def settle_started_runs() -> Iterator[None]:
    """Around a page run (app.py): once the page is fully drawn, watches each run its live
    panels drew starting for up to :data:`START_WATCH`, and reruns the page at once if one
    ended meanwhile (a short run on a warm worker), to show its results.

    Nothing waits before the page is fully drawn (what a page run has not drawn yet shows
    the previous run's results meanwhile); the panel's own redraws, one period apart, show
    the batches of a run still going. A page run that stops or reruns early watches nothing.
    """
    st.session_state[_STARTING_JOBS] = []
    yield
    jobs = st.session_state.pop(_STARTING_JOBS, [])
    deadline = time.monotonic() + START_WATCH
    if any(not await_end(j, j.snapshot(), deadline - time.monotonic()).active for j in jobs):
        st.rerun()


def needs_page_rerun(drawn: float | None, snap: Any) -> bool:
    """Whether a redraw of a panel drawn with period ``drawn`` must rerun the page: the run
    it drew active has ended (Start is enabled again and the results show)."""
    return drawn is not None and refresh_period(snap) is None


def live_panel(
    record: Any,
    metric: str,
    metric_label: str,
    extra_label: str = "",
    after_epoch: Callable[[Any], None] | None = None,
) -> None:
    """Controls, progress, metric tiles, curves and a task's after-epoch view of one run.

    With ``extra_label``, each epoch report's ``score`` (the task's own per-epoch number,
    e.g. held-out exact match) gets a tile and a curve under that label.

    The body is a fragment that refreshes itself while the job is active, so the rest of
    the page is not rerun. The buttons are drawn inside it, from the same snapshot as the
    curves, so Stop turns into Train more on the refresh that sees the run end even if the
    page rerun it then asks for (to re-enable Start and show results) comes late. It
    redraws every :data:`LIVE_REFRESH` while the run is active, and the redraw that finds the
    run ended reruns the page. A redraw is kept short (no waiting in it): a redraw longer
    than the period makes the browser's next tick wait behind it, and Streamlit drops the
    unsent drawing of a run that the next run starts right after. A run that ends within
    moments of Start is watched at the end of the page run (:func:`settle_started_runs`).
    """
    first = record.job.snapshot()
    drawn = refresh_period(first)
    if starting(first) and starting_for(record, first) < STARTING_SECONDS:
        st.session_state.setdefault(_STARTING_JOBS, []).append(record.job)

    @st.fragment(run_every=drawn)
    def body() -> None:
        snap = record.job.snapshot()
        run_controls(record, snap)
        st.progress(snap.progress, text=charts.progress_text(snap))
        if note := sharing_note(snap):
            st.info(note, icon=":material/group:")
        if snap.state == "failed":
            st.error(f"Training failed: {snap.error}")
        elif snap.detached:
            st.info(
                f"You left the shared run after {snap.epoch} epoch(s); it goes on for the other "
                "students. Your copy keeps the weights learned so far."
            )
        elif snap.state == "done" and snap.stopped_early:
            st.info(f"Stopped after {snap.epoch} epoch(s); the weights learned so far are kept.")
        elif snap.state == "done" and snap.stop_reason:  # the stop condition or patience
            st.success(f"Training {snap.stop_reason}.", icon=":material/flag:")
        last = snap.epoch_logs[-1] if snap.epoch_logs else {}
        reports = [r for r in snap.epoch_extras if r is not None]
        cols = st.columns(4 if extra_label else 3)
        cols[0].metric("epochs done", snap.epoch)
        cols[1].metric("train loss", f"{last['loss']:.4f}" if last else "—")
        val = last.get(f"val_{metric}")
        cols[2].metric(metric_label, f"{val:.3f}" if val is not None else "—")
        series: list[tuple[float, float]] = []
        if extra_label:
            series = [(i + 1.0, r.score) for i, r in enumerate(snap.epoch_extras) if r is not None]
            cols[3].metric(extra_label, f"{reports[-1].score:.3f}" if reports else "—")
        smoothing, log_loss = curve_settings()
        b, e, theme = snap.batch_logs, snap.epoch_logs, page_theme()
        key = (len(b), b[-1:], len(e), e[-1:], series, extra_label, smoothing, log_loss, theme)
        fig = cached_figure(
            record, "curves", key,
            lambda: charts.training_curves(
                b, e, metric, series, extra_label, smoothing=smoothing, log_loss=log_loss,
                theme=theme,
            ),
        )  # fmt: skip
        chart(fig, f"curves_{id(record)}", "training-curves")
        curves_as_table(e, metric, series, extra_label)
        if after_epoch is not None:
            after_epoch(snap)
        if needs_page_rerun(drawn, snap):
            st.rerun(scope="app")  # ended: re-enable Start, show the results

    body()


_SOURCES = ByteCache(cache_budget())  # loaded sources of all sessions, bounded in bytes
_TASK_DATA = ByteCache(cache_budget() // 4)  # generated data (addition), bounded in bytes


def _cached_source(task: str, key: tuple, cfg: Any) -> Any:
    """The slow part of loading a task's data, once per source key for all sessions.

    Sources hold read-only arrays, so sharing them cannot let a session change another's. The
    cache is bounded in bytes and emptied when a training waits for memory.
    """
    from rnn_core.tasks import get_task

    return _SOURCES.get((task, key), lambda: get_task(task).load_source(cfg))


def _cached_task_data(task: str, cfg: Any) -> Any:
    """Data of a task without a shared source (addition); each session gets its own copy."""
    import copy

    from rnn_core.tasks import get_task

    return copy.deepcopy(_TASK_DATA.get((task, cfg), lambda: get_task(task).make_data(cfg)))


def show_missing_data(exc: Any) -> None:
    """Say which dataset file is missing, where we looked, and the exact fix."""
    from rnn_core.data.loaders import ENV_VAR, keras_cache_dirs

    looked = [str(exc.data_dir)] if exc.data_dir else []
    looked += [str(d) for d in keras_cache_dirs()]
    target = exc.data_dir or "DIR"
    st.error(
        f"**Dataset file `{exc.filename}` is not available** ({exc.reason or 'not found'}).\n\n"
        f"Looked in: {', '.join(f'`{p}`' for p in looked)}.\n\n"
        "**Fix** (any one): while online, download everything once with "
        f"`python -m rnn_core fetch --data-dir {target}` and use that folder as the data "
        f"directory; or copy `{exc.filename}` into a folder and enter it in *Data directory* "
        f"above, or start the app with `{ENV_VAR}=/that/folder`.",
        icon=":material/folder_off:",
    )


def task_source(task: str, cfg: Any) -> Any:
    """A task's shared, read-only source (None if the task has none); stops on missing files."""
    from rnn_core.data.loaders import DataMissingError
    from rnn_core.tasks import get_task

    key = get_task(task).source_key(cfg)
    if key is None:  # the task has no shared source
        return None
    try:
        with st.spinner(f"Loading the {task} data (first time only, a few seconds)…"):
            return _cached_source(task, key, cfg)
    except DataMissingError as exc:
        show_missing_data(exc)
        st.stop()


def _prime_data(task: Any, cfg: Any) -> Any:
    """A prime's data (:func:`prime_training`): as :func:`cached_data` loads it, from the
    sources all sessions share, without the page's spinner; missing files raise (no prime)."""
    key = task.source_key(cfg)
    if key is None:
        return task.make_data(cfg)
    return task.make_data(cfg, _cached_source(task.info.name, key, cfg))


def cached_data(task: Any, cfg: Any) -> Any:
    """A run's data (the run flow's loader): the source is loaded once per (task, num_words,
    maxlen, …) for all sessions, the run's subset is a fresh copy; missing files show the fix,
    then stop the page.
    """
    source = task_source(task.info.name, cfg)
    if source is None:
        with st.spinner("Preparing the data…"):
            return _cached_task_data(task.info.name, cfg)
    return task.make_data(cfg, source)


def score_test_set(run: Any, what: str, count: int | None = None) -> None:
    """Once training has stopped: ``run.score()`` (the training process's test results, else
    task.evaluate here, with a spinner naming ``count`` test ``what``, by default the number of
    test targets; once per set of weights)."""
    snap = run.job.snapshot()
    if run.scored() or snap.epoch == 0 or (run.data is None and snap.results is None):
        return  # already scored these weights, nothing trained yet, or nothing to score with
    if snap.results is not None:  # scored where it trained
        run.score()
        return
    count = len(run.data.y_test) if count is None else count
    with st.spinner(f"Scoring all {count:,} test {what}…"):
        run.score()


def sample_accuracy_label(record: Any, hook_size: int, what: str) -> str:
    """Label of a classifier's per-epoch accuracy on its first validation items (older
    pretrained files recorded it on test items, and say so)."""
    reports = [r for r in record.job.snapshot().epoch_extras if r is not None]
    if reports and reports[-1].split != "validation":
        return f"test accuracy ({reports[-1].sample_size:,} {what}, recorded)"
    y_val = None if record.data is None else record.data.y_val
    n_val = 0 if y_val is None else len(y_val)
    n = reports[-1].sample_size if reports else min(hook_size, n_val)
    return f"val accuracy ({n:,} {what})"
