"""Task registry: every task, by name, implementing the :class:`~rnn_core.tasks.base.Task` protocol.

The CLI, the run flow and the pages all go through :func:`get_task`; this module is the only
place that names the tasks (a test checks that no other module switches on a task's name).
"""

from __future__ import annotations

from rnn_core.config import RunSpec
from rnn_core.tasks.addition import AdditionTask
from rnn_core.tasks.base import KerasCode, Report, Results, Task
from rnn_core.tasks.forecast import ForecastTask
from rnn_core.tasks.imdb import ImdbTask
from rnn_core.tasks.info import TaskInfo
from rnn_core.tasks.mnist import MnistTask
from rnn_core.tasks.text import TextTask

__all__ = [
    "TASKS",
    "AdditionTask",
    "KerasCode",
    "Report",
    "Results",
    "Task",
    "TaskInfo",
    "get_task",
    "run_name",
]

TASKS: dict[str, Task] = {
    t.info.name: t for t in (AdditionTask(), ImdbTask(), MnistTask(), TextTask(), ForecastTask())
}


def get_task(name: str) -> Task:
    """The registered task called ``name``; ValueError listing the choices otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]


def run_name(spec: RunSpec) -> str:
    """A short legend label such as ``LSTM 128×2``."""
    m = spec.model
    bi = "bi-" if m.bidirectional else ""
    return f"{bi}{m.cell} {m.units}×{m.layers}"
