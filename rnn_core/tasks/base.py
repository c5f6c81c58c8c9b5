"""The Task protocol: what every task (addition, imdb, mnist, text, ...) implements, the same way.

How to add a task (read this, then copy the shortest task module, ``addition.py``):

1. **Data config**: a frozen dataclass in ``rnn_core/config.py`` (one comment per field, a
   ``seed`` and a ``val_fraction`` (the Keras-code export reads it); ``data_dir`` if it reads
   files). ``RunSpec.data`` holds it.
2. **Data**: a frozen dataclass of arrays with at least ``config`` and ``note`` (one sentence on
   sizes, shown above a run) plus the training, validation and test arrays your methods read.
3. **Report** (per epoch) and **Results** (test set): frozen dataclasses subclassing
   :class:`Report` and :class:`Results` below. A report is what ``epoch_report``'s hook returns
   after every epoch; it crosses the process boundary (pickle) and is stored in snapshot JSON
   (``to_plain``/``from_plain``), so keep it to numbers, strings, tuples and nested frozen
   dataclasses (override ``from_plain`` when it nests dataclasses). Each defines ``score``, the
   number the page plots beside the curves. Results define ``headline`` (label, value); fields
   that are not scalar scores (whole-test-set predictions) are marked with :data:`DETAIL`.
4. **The task class**: subclass :class:`Task` and fill in the class attributes and the abstract
   methods; override the defaults only where the task differs. Every method is called the same
   way for every task: nobody probes a task with ``hasattr`` or switches on its name.
5. **Register** one instance in ``TASKS`` in ``rnn_core/tasks/__init__.py``; add presets to
   ``rnn_core/presets.py`` (the task finds its own by ``spec.task``) and a Train-page view module.

Runs are started by ``rnn_core.run.start_run`` (budget, data, build, job); the pages read a
run's typed reports (``job.snapshot().epoch_extras``) and results (``Run.results``) by attribute.
``tests/test_task_protocol.py`` checks a new task against this protocol once it has a tiny config
there.

Defaults mean "this task does not have that": no shared source (``source_key`` is None), no
dataset files, no Keras-code export (``keras_code`` is None), not steppable (``steppable``
False), no companion file beside a saved model. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from rnn_core.config import CELLS, RunSpec
from rnn_core.tasks.info import TaskInfo

DETAIL = {"detail": True}  # field metadata: not a scalar score (left out of ``scores()``)
LABEL = {"label": True}  # field metadata: a word on how the scores were made, kept with them


def detail() -> Any:
    """A Results field that is not a scalar score (e.g. every test prediction): default None,
    left out of ``scores()``, equality and repr."""
    return dataclasses.field(default=None, metadata=DETAIL, compare=False, repr=False)


def plain(value: Any) -> Any:
    """JSON-safe copy: dataclasses become dicts, arrays and tuples lists, NaN becomes None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _tuples(value: Any) -> Any:
    """Lists (from JSON) back to tuples, recursively, so frozen dataclasses stay hashable."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


class _Plain:
    """Conversion of a frozen dataclass to and from JSON-safe values."""

    def to_plain(self) -> dict[str, Any]:
        """The fields as JSON-safe values (for snapshot files and the CLI's ``--json``)."""
        return plain(self)

    @classmethod
    def from_plain(cls, values: Mapping[str, Any]) -> Any:
        """Rebuild from :meth:`to_plain` output; ValueError naming unknown or missing fields."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**{k: _tuples(v) for k, v in values.items()})
        except TypeError as exc:
            raise ValueError(f"{cls.__name__}: {exc}") from None


@dataclass(frozen=True)
class Report(_Plain):
    """Base of every task's per-epoch report (a frozen dataclass, picklable, JSON-able)."""

    @property
    def score(self) -> float:
        """The number plotted beside the training curves (e.g. held-out exact match)."""
        raise NotImplementedError(f"{type(self).__name__} defines no score")

    def val_scores(self) -> dict[str, float]:
        """Validation scores this report adds to its epoch's metrics (``val_exact_match`` …).

        The engine merges them into the epoch's logs (history, stop conditions); a report
        computed on anything but the validation split adds none (the default).
        """
        return {}


@dataclass(frozen=True)
class Results(_Plain):
    """Base of every task's test results (``Task.evaluate``): scores plus optional details."""

    LABEL_WORDS: ClassVar[Mapping[str, str]] = {}  # a LABEL field's value -> words for a table
    LABEL_NOTE: ClassVar[str] = ""  # why scores made differently (other labels) do not compare

    @classmethod
    def label_names(cls) -> tuple[str, ...]:
        """Names of the LABEL fields (how the scores were made); () for most tasks."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("label"))

    @classmethod
    def label_words(cls, labels: Mapping[str, str]) -> str:
        """Stored labels in words ("read straight through"); "not recorded" when one is
        missing (stored before it was kept); "" when these results have none."""
        names = cls.label_names()
        if any(n not in labels for n in names):
            return "not recorded"
        return ", ".join(cls.LABEL_WORDS.get(labels[n], labels[n]) for n in names)

    def scores(self) -> dict[str, float | int]:
        """The scalar scores by field name (fields marked DETAIL left out): the CLI's ``test``."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not f.metadata.get("detail") and not f.metadata.get("label")
        }

    def labels(self) -> dict[str, Any]:
        """The LABEL fields by name: how the scores were made (e.g. how a text was read)."""
        return {name: getattr(self, name) for name in self.label_names()}

    def stored(self) -> dict[str, Any]:
        """The scores plus the LABEL fields (how they were made): what a snapshot keeps."""
        return self.scores() | self.labels()

    @property
    def headline(self) -> tuple[str, float]:
        """(label, value) of the one figure to quote, e.g. ("test accuracy", 0.87)."""
        raise NotImplementedError(f"{type(self).__name__} defines no headline")


@dataclass(frozen=True)
class KerasCode:
    """The task's parts of the standalone "as Keras code" script (see ``rnn_core.export``)."""

    data: str  # code that defines x, y (and x_test, y_test when evaluated) from public data
    model: tuple[str, ...]  # lines from ``inputs = keras.Input(...)`` to ``outputs = ...``
    loss: str  # the Keras loss name to compile with
    evaluate: str = ""  # code run after fit (e.g. printing the test accuracy), or ""


EpochHook = Callable[[Any, int], Report]  # (model, epoch 1-based) -> the task's report


class Task(ABC):
    """One learning task: its data, model, per-epoch report, test results and UI facts.

    Class attributes every task sets: ``info``, ``data_config``, ``report_type``,
    ``results_type``. The engine calls only :meth:`splits` and :meth:`epoch_report`; the run
    flow (``rnn_core.run``) calls :meth:`make_data` and :meth:`build`; pages, CLI, links,
    export and stepper call the rest.
    """

    info: ClassVar[TaskInfo]  # name (registry key), label, rnn_type, metric, description
    data_config: ClassVar[type]  # the frozen config class of ``RunSpec.data`` for this task
    report_type: ClassVar[type[Report]]  # what the epoch hook returns
    results_type: ClassVar[type[Results]]  # what ``evaluate`` returns
    files: ClassVar[tuple[str, ...]] = ()  # dataset files it reads (the data dir); () = none
    cells: ClassVar[tuple[str, ...]] = CELLS  # cell choices; add "Dense" for a baseline
    default_preset: ClassVar[str] = ""  # preset a run starts from when none is named; "" = none
    steppable: ClassVar[bool] = False  # the stepper can open this task's trained runs
    length_batches: ClassVar[bool] = False  # inputs are word ids padded with 0: batch_by_length

    # ----- data ---------------------------------------------------------------------------
    def source_key(self, cfg: Any) -> tuple | None:
        """Cache key of :meth:`load_source` for ``cfg``; None (default): no shared source."""
        return None

    def load_source(self, cfg: Any) -> Any:
        """The slow, shareable, read-only part of loading (default: None, no source)."""
        return None

    @abstractmethod
    def make_data(self, cfg: Any, source: Any = None) -> Any:
        """A run's data (fresh copies) for ``cfg``, from ``source`` when given (else loaded).

        Raises ValueError for bad settings and ``DataMissingError`` for missing files.
        """

    @abstractmethod
    def splits(self, data: Any) -> tuple[tuple[Any, Any], tuple[Any, Any] | None]:
        """((x_train, y_train), (x_val, y_val) or None): what the engine fits on."""

    # ----- model ----------------------------------------------------------------------------
    @abstractmethod
    def build(self, spec: RunSpec, data: Any) -> Any:
        """A compiled Keras model for ``spec`` shaped for ``data`` (reads shapes, not values)."""

    @abstractmethod
    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """The model's answer per input row of ``x`` (class ids, P(positive), character ids)."""

    @abstractmethod
    def epoch_report(self, data: Any) -> EpochHook:
        """A hook ``(model, epoch) -> report_type`` the engine calls after every epoch."""

    @abstractmethod
    def evaluate(self, model: Any, data: Any) -> Results:
        """Test scores of ``model`` (its test split, scored once after training)."""

    def val_metrics(self) -> dict[str, str]:
        """Validation metrics a stop condition may watch: name -> "max" or "min" (better).

        Keras's ``val_loss`` and ``val_<metric>``, plus those the task's report adds.
        """
        better = "min" if self.info.metric in ("mae", "mse", "loss") else "max"
        return {"val_loss": "min", f"val_{self.info.metric}": better}

    # ----- presets and defaults -----------------------------------------------------------
    def presets(self) -> dict[str, Any]:
        """This task's presets by name, in ``rnn_core.presets.PRESETS`` order."""
        from rnn_core.presets import PRESETS

        return {n: p for n, p in PRESETS.items() if p.spec.task == self.info.name}

    def default_spec(self) -> RunSpec:
        """The spec a run starts from: ``default_preset``'s, else the config's defaults."""
        if self.default_preset:
            return self.presets()[self.default_preset].spec
        return RunSpec(task=self.info.name, data=self.data_config())

    # ----- reports and results from JSON (snapshots) --------------------------------------
    def report_from_plain(self, values: Mapping[str, Any] | None) -> Report | None:
        """A stored per-epoch report (None stays None)."""
        return None if values is None else self.report_type.from_plain(values)

    def results_from_plain(self, values: Mapping[str, Any]) -> Results:
        """Stored test results (a snapshot's ``test``)."""
        return self.results_type.from_plain(values)

    # ----- saving and export --------------------------------------------------------------
    def companion(self, data: Any) -> tuple[str, str] | None:
        """(suffix, text) of a file saved beside the model (text: its alphabet); None: none."""
        return None

    def save(self, model: Any, data: Any, path: str) -> None:
        """Save the model to ``path`` and its :meth:`companion` file, if any, beside it."""
        from pathlib import Path

        model.save(path)
        extra = self.companion(data)
        if extra is not None:
            suffix, text = extra
            Path(str(path) + suffix).write_text(text)

    def keras_code(self, spec: RunSpec) -> KerasCode | None:
        """The task's parts of the plain-Keras script; None (default): no export."""
        return None

    # ----- stepper ------------------------------------------------------------------------
    def stepper_choices(self, data: Any, limit: int) -> list[str]:
        """Labels of the first ``limit`` test inputs the stepper can open (steppable tasks)."""
        raise ValueError(f"The stepper does not know the task {self.info.name!r} yet.")

    def stepper_input(self, model: Any, data: Any, index: int, top: int) -> dict[str, Any]:
        """``StepperInput`` fields (x, labels, span, readout ...) for test input ``index``.

        ``top`` is the units of the top recurrent layer (the readout's length).
        """
        raise ValueError(f"The stepper does not know the task {self.info.name!r} yet.")
