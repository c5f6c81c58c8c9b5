"""One run flow: a spec (and a budget) in, a typed :class:`Run` out.

The Train page, the Text page, the pretrained loader and the CLI all start runs through
:func:`start_run`: budget check of the spec, the run's data (through an injected loader, so a
page can pass its cached one), budget check of the data, the model (built, or a shipped
pretrained model's copy), the training job, and the Run that holds them. :func:`prime_start`
has an idle warm worker trace the model of a spec a page shows, before its Start. Nothing here
imports TensorFlow until a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from rnn_core.config import RunSpec
from rnn_core.tasks import Results, Task, get_task, run_name

if TYPE_CHECKING:
    from rnn_core.engine.budgets import Budget
    from rnn_core.engine.pool import WorkerPool
    from rnn_core.engine.sharing import ShareRegistry
    from rnn_core.pretrained import Pretrained

Origin = Literal["trained", "pretrained", "imported"]  # where a run's weights came from
DataLoader = Callable[[Task, Any], Any]  # (task, data config) -> the run's data


def own_data(task: Task, cfg: Any) -> Any:
    """The default loader: the task makes its data itself (no cache, no shared source)."""
    return task.make_data(cfg)


@dataclass(eq=False)
class Run:
    """One model of a session (or of a CLI call): its spec, job, data and test results."""

    name: str  # legend label, e.g. "LSTM 128×1" or "LSTM 128×1 · pretrained"
    spec: RunSpec  # the configuration that built it
    task: Task  # the registered task of ``spec.task`` (looked up once, at start)
    job: Any  # the training job (``rnn_core.engine``): holds the model, curves and reports
    params: int  # parameters of the model
    data: Any  # the run's data; None once released to save memory
    origin: Origin = "trained"  # trained here, a shipped pretrained model, or imported
    note: str = ""  # shown above the run: how much data it uses, or why it cannot train
    output_size: int = 0  # width of the model's output (text: the alphabet size)
    pretrained: str = ""  # the shipped model's name when origin is "pretrained"
    results: Results | None = None  # test results of the weights at results_version
    results_epoch: int = 0  # epochs trained when ``results`` were measured
    results_version: int = -1  # the job snapshot's version when ``results`` were measured
    ui: dict[str, Any] = field(default_factory=dict)  # the pages' cache (figures); core ignores
    kept: Any = None  # a ``run_file.RunFile`` of its weights, made when the model is released

    def scored(self) -> bool:
        """True when ``results`` belong to the job's current weights."""
        return self.results is not None and self.results_version == self.job.snapshot().version

    def score(self) -> Results | None:
        """The test results of the trained weights, once per set of them: those the training
        process measured as it ended (``Snapshot.results``), else ``task.evaluate`` on the
        run's data here (None: neither).

        Results are kept with the epoch and job version they were measured at.
        """
        snap = self.job.snapshot()
        if snap.epoch == 0 or snap.active:
            return self.results
        if self.results_version != snap.version and snap.results is not None:
            self.results = snap.results
            self.results_epoch, self.results_version = snap.epoch, snap.version
        if self.data is None:
            return self.results
        if self.results_version != snap.version:
            once = getattr(self.job, "score_once", None)  # a shared run: once for all watchers

            def evaluate() -> Results:
                """The task's test scores of this run's model."""
                return self.task.evaluate(self.job.model, self.data)

            self.results = once(snap.version, evaluate) if once else evaluate()
            self.results_epoch, self.results_version = snap.epoch, snap.version
        return self.results

    def test_figure(self) -> str:
        """The whole-test-set figure of the current weights for a table, or why there is none."""
        snap = self.job.snapshot()
        if snap.active:
            return "training…"
        if self.scored():
            return f"{self.results.headline[1]:.4f}"
        return "no epoch trained" if snap.epoch == 0 else "not scored"

    def release(self) -> None:
        """Free the model and the data (curves, reports, results and a weights file stay).

        The weights stay as a :class:`rnn_core.run_file.RunFile` (``kept``), so a session
        file still holds every run.
        """
        if self.job.model is not None and not self.job.snapshot().active:
            from rnn_core.run_file import RunFileError, run_to_file

            try:
                self.kept = run_to_file(self)
            except (RunFileError, OSError, ValueError):  # freeing memory must not fail
                self.kept = None
        self.job.release()
        self.data = None


def start_run(
    spec: RunSpec,
    budget: Budget | None,
    load_data: DataLoader | None = None,
    *,
    name: str = "",
    in_process: bool = False,
    pretrained: Pretrained | None = None,
    weights: list[Any] | None = None,
    share: ShareRegistry | None = None,
    owner: Any = None,
) -> Run:
    """Check, load, build and wrap a run; the job is created but not started.

    A stop condition (``spec.train.until``) on a metric the task does not measure on
    validation raises ValueError before the data is loaded.
    ``budget`` None skips the budget checks (a pretrained model is loaded, not trained).
    ``load_data(task, cfg)`` makes the run's data (default: the task's own ``make_data``); a
    BudgetError (a ValueError) for the spec is raised before it is called. With
    ``pretrained`` (a snapshot from ``rnn_core.pretrained``) the model is a copy of its
    ``weights`` (read from its file when None) and the job starts with its recorded history;
    when ``load_data`` returns None for it, the run can generate but not train.
    ``in_process`` trains in a thread of this process instead of a child process.
    With ``share`` (a server's registry) a run identical to one queued, running or finished
    there watches that training instead of training again (its job is a
    :class:`~rnn_core.engine.sharing.Watch`; ``owner`` tells students apart).
    """
    from rnn_core.engine.budgets import check_data, check_spec
    from rnn_core.engine.stopping import check_rule

    if budget is not None:
        check_spec(spec, budget)
    task = get_task(spec.task)
    check_rule(spec.train, task.val_metrics(), True, task.info.name)  # before loading data
    if spec.train.batch_by_length and not task.length_batches:
        raise ValueError(
            f"batch_by_length: only IMDB reviews (word ids padded with 0) can be batched by "
            f"length, not {task.info.label}"
        )
    if spec.train.batch_by_length and spec.train.jit_compile:
        raise ValueError(
            "XLA compiles one program per batch shape, and batching by length gives each "
            "batch its own length: turn off one of them"
        )
    data = None
    if pretrained is None and share is not None:  # watchers of one training share its data
        from rnn_core.engine.sharing import spec_key

        data = share.data_for(spec_key(spec))
    if data is None:
        data = (load_data or own_data)(task, spec.data)
    if data is not None and budget is not None:
        check_data(data, budget)
    if data is not None:
        check_rule(spec.train, task.val_metrics(), task.splits(data)[1] is not None, spec.task)
    if pretrained is None and share is not None:
        return _shared_run(spec, task, data, name, in_process, share, owner)
    if pretrained is None:
        model = task.build(spec, data)
        job = _new_job(model, task, data, spec, in_process)
        return Run(
            name or run_name(spec), spec, task, job, int(model.count_params()), data,
            note=data.note, output_size=int(model.output_shape[-1]),
        )  # fmt: skip
    return _pretrained_run(spec, task, data, pretrained, weights, name, in_process)


def prime_start(
    spec: RunSpec, pool: WorkerPool | None = None, load_data: DataLoader | None = None
) -> None:
    """Have an idle warm worker of ``pool`` (default: the server's) train a few batches of
    ``spec``'s model while nothing trains, so that a Start of ``spec`` soon after finds its
    model traced and its first batch comes without tracing it. The model is built here, in a
    background thread of the pool, on :data:`PRIME_BATCHES` batches of a small copy of the
    spec's data made by ``load_data(task, cfg)``; without a loader only tasks that read no
    dataset files are primed (their data is made by the task itself). Nothing is primed when
    trainings go to a Ray cluster (``RNN_LAB_RAY_ADDRESS``): no local worker would serve them."""
    from rnn_core.engine.pool import POOL
    from rnn_core.engine.ray_runner import cluster_address

    task = get_task(spec.task)
    if (load_data is None and task.files) or cluster_address():
        return

    def make() -> tuple[dict[str, Any], str]:
        """The prime's request and model key: ``spec``'s model on a small copy of its data."""
        from rnn_core.engine.process import ProcessRunner

        small = _small_data(spec)
        data = (load_data or own_data)(task, small)
        model = task.build(replace(spec, data=small), data)
        return ProcessRunner(spec.task, data).prime(model, spec.train)

    (pool if pool is not None else POOL).prime(repr(spec), make)


PRIME_BATCHES = 4  # training batches of a prime (its model is traced on the first)


def _small_data(spec: RunSpec) -> Any:
    """``spec``'s data config cut to :data:`PRIME_BATCHES` batches of training examples and
    one batch of test examples, where it has those sizes (the shapes stay those of the run)."""
    cfg, batch = spec.data, spec.train.batch_size
    sizes = {"train_size": PRIME_BATCHES * batch, "test_size": batch}
    cut = {
        name: min(size, getattr(cfg, name) or size)
        for name, size in sizes.items()
        if hasattr(cfg, name)
    }
    return replace(cfg, **cut)


def _new_job(model: Any, task: Task, data: Any, spec: RunSpec, in_process: bool) -> Any:
    """The engine's job for this model and data, with its training's memory estimate."""
    from rnn_core.engine.memory import estimate
    from rnn_core.engine.process import new_job

    job = new_job(model, task.info.name, data, spec.train, in_process=in_process)
    params = int(model.count_params())
    job.memory_need = estimate(task.info.name, data, spec.model, spec.train, params)
    return job


def _shared_run(
    spec: RunSpec,
    task: Task,
    data: Any,
    name: str,
    in_process: bool,
    share: ShareRegistry,
    owner: Any,
) -> Run:
    """A Run watching the registry's training of this spec (built and registered if none)."""
    from rnn_core.engine.sharing import Watch, spec_key

    key = spec_key(spec)
    entry = share.find(key)
    reused = entry is not None and entry.final is not None
    if entry is None:  # nobody trains this spec: build it; an identical Start may win the race
        model = task.build(spec, data)
        job = _new_job(model, task, data, spec, in_process)
        params, width = int(model.count_params()), int(model.output_shape[-1])
        entry = share.add(key, job, params, width, data)
    watch = Watch(
        share, entry,
        own_job=lambda model: _new_job(model, task, data, spec, in_process),
        build=lambda: task.build(spec, data),
        owner=owner, reused=reused,
    )  # fmt: skip
    return Run(
        name or run_name(spec), spec, task, watch, entry.params, data,
        note=data.note, output_size=entry.output_size,
    )  # fmt: skip


def _pretrained_run(
    spec: RunSpec,
    task: Task,
    data: Any,
    snap: Pretrained,
    weights: list[Any] | None,
    name: str,
    in_process: bool,
) -> Run:
    """A Run whose model is a copy of a shipped snapshot and whose curves are its history."""
    from rnn_core import pretrained

    model = pretrained.build_model(snap, weights, data)
    note = "" if data is None else data.note
    if data is None:  # no dataset here: a job with nothing to train on, released at once
        job = _new_job(model, task, pretrained.empty_data(snap), spec, True)
    else:
        job = _new_job(model, task, data, spec, in_process)
    job.preload(snap.epoch_logs, snap.train_seconds, snap.epoch_extras, snap.batch_logs)
    if data is None:
        job.release(keep_model=True)  # Train more is off; the model still predicts
    return Run(
        name or f"{run_name(spec)} · pretrained", spec, task, job, snap.params, data,
        origin="pretrained", note=note, output_size=int(model.output_shape[-1]),
        pretrained=snap.name,
    )  # fmt: skip
