"""No private name crosses files in rnn_core: a module uses only the public names of another."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "rnn_core"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(("rnn_core", *parts)).removesuffix(".__init__")


def _defined(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, assignments, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if _private(n)}


def private_crossings(root: Path) -> list[str]:
    """Every import of, or attribute access to, another rnn_core module's private name."""
    paths = sorted(root.rglob("*.py"))
    trees = {_module(p, root): ast.parse(p.read_text(), str(p)) for p in paths}
    packages = {_module(p, root) for p in paths if p.name == "__init__.py"}
    defined = {m: _defined(t) for m, t in trees.items()}
    offenders = []
    for mod, tree in trees.items():
        package = mod if mod in packages else mod.rpartition(".")[0]
        aliases: dict[str, str] = {}  # local name -> rnn_core module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "rnn_core":
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # a relative import, resolved against this package
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                if base.split(".")[0] != "rnn_core":
                    continue
                for a in node.names:
                    if _private(a.name):
                        offenders.append(f"{mod}: from {base} import {a.name}")
                    if f"{base}.{a.name}" in trees:
                        aliases[a.asname or a.name] = f"{base}.{a.name}"
        others = set().union(*(d for m, d in defined.items() if m != mod))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            owner = ast.unparse(node.value)
            if aliases.get(owner, owner) in trees:  # module._name
                offenders.append(f"{mod}: {owner}.{node.attr}")
            elif node.attr in others and node.attr not in defined[mod]:
                # obj._name (or an inherited self._name) that another module's code defines
                offenders.append(f"{mod}: {owner}.{node.attr}")
    return offenders


def test_no_rnn_core_module_uses_a_private_name_of_another() -> None:
    assert private_crossings(CORE) == []
    assert len(list(CORE.rglob("*.py"))) >= 30  # the scan really looked at the package


def test_the_scan_finds_each_kind_of_crossing(tmp_path: Path) -> None:
    pkg = tmp_path / "rnn_core"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "__init__.py").write_text("")
    (pkg / "engine" / "job.py").write_text(
        "class _Stop(Exception):\n    pass\n\n"
        "class Job:\n    def _record(self):\n        self._lock = 1\n"
    )
    (pkg / "engine" / "worker.py").write_text(
        "from rnn_core.engine.job import _Stop\n"
        "import rnn_core.engine.job as job\n"
        "from rnn_core.engine import job as j2\n"
        "def f(x):\n    job._Stop\n    j2._Stop\n    x._record()\n    return x._lock\n"
        "class Sub(job.Job):\n    def run(self):\n        self._record()\n"
    )
    (pkg / "engine" / "ok.py").write_text(
        "class Own:\n    def _record(self):\n        self._lock = 2\n"
        "    def run(self):\n        return self._record(), self._lock\n"
    )
    found = private_crossings(pkg)
    assert sorted(found) == sorted(
        [
            "rnn_core.engine.worker: from rnn_core.engine.job import _Stop",
            "rnn_core.engine.worker: job._Stop",
            "rnn_core.engine.worker: j2._Stop",
            "rnn_core.engine.worker: x._record",
            "rnn_core.engine.worker: x._lock",
            "rnn_core.engine.worker: self._record",
        ]
    )  # and nothing from ok.py, which only uses its own private names
