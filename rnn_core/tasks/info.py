"""TaskInfo: what the UI and the CLI say about a task (shared by every task module)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    """What the UI says about a task."""

    name: str  # registry key, used by the CLI's --task
    label: str  # shown in the task picker
    rnn_type: str  # one-to-one, one-to-many, many-to-one or many-to-many
    metric: str  # the Keras metric key plotted as accuracy
    description: str  # one or two sentences for the page
