"""No code probes a task with hasattr/getattr or switches on a task's name outside the registry."""

from __future__ import annotations

import ast
from pathlib import Path

from rnn_core.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "rnn_core" / "tasks" / "__init__.py"
TASK_NAMES = set(TASKS)
TASK_WORDS = {"task", "handler", "TASK"}  # variable names that hold a Task


def _sources() -> list[Path]:
    """Every Python file of the app and the library."""
    files = [REPO / "app.py", *(REPO / "pages").rglob("*.py"), *(REPO / "rnn_core").rglob("*.py")]
    return [f for f in files if f.is_file()]


def _is_task_expr(node: ast.AST, task_vars: set[str]) -> bool:
    """A Task object: ``get_task(...)``, ``TASKS[...]``, or a variable bound to one."""
    if isinstance(node, ast.Call):
        func = node.func
        return getattr(func, "id", getattr(func, "attr", "")) == "get_task"
    if isinstance(node, ast.Subscript):
        return getattr(node.value, "id", "") == "TASKS"
    return isinstance(node, ast.Name) and (node.id in task_vars or node.id in TASK_WORDS)


def _task_vars(tree: ast.AST) -> set[str]:
    """Names assigned from ``get_task(...)`` or ``TASKS[...]`` anywhere in the module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_task_expr(node.value, set()):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _probes(path: Path, root: Path = REPO) -> list[str]:
    """hasattr/getattr calls applied to a task object in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    task_vars = _task_vars(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") in ("hasattr", "getattr")
            and node.args
            and _is_task_expr(node.args[0], task_vars)
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def _switches(path: Path, root: Path = REPO) -> list[str]:
    """Comparisons with a registered task's name as a literal (``== "imdb"``, ``in ("a", …)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        literals = set()
        for side in sides:
            items = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
            literals |= {i.value for i in items if isinstance(i, ast.Constant)}
        text = ast.unparse(node)
        if literals & TASK_NAMES and "task" in text.lower():
            found.append(f"{path.relative_to(root)}:{node.lineno}: {text}")
    return found


def test_no_hasattr_or_getattr_on_a_task() -> None:
    found = [hit for f in _sources() for hit in _probes(f)]
    assert found == []


def test_no_task_name_switch_outside_the_registry() -> None:
    found = [hit for f in _sources() if f != REGISTRY for hit in _switches(f)]
    assert found == []


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from rnn_core.tasks import get_task\n"
        "t = get_task('imdb')\n"
        "if hasattr(t, 'files'):\n    pass\n"
        "x = getattr(get_task('mnist'), 'cells', ())\n"
        "if spec.task == 'addition':\n    pass\n"
        "if task in ('imdb', 'mnist'):\n    pass\n"
    )
    assert len(_probes(bad, tmp_path)) == 2 and len(_switches(bad, tmp_path)) == 2
