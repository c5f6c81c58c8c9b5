"""rnn_core is a UI-free library: no streamlit anywhere, and a cheap package import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "rnn_core"


def test_no_module_in_rnn_core_imports_streamlit() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders
    assert len(list(CORE.rglob("*.py"))) >= 30  # the scan really looked at the package


def test_importing_every_core_module_loads_no_streamlit() -> None:
    modules = [
        "rnn_core." + ".".join(p.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        for p in CORE.rglob("*.py")
        if p.stem != "__main__"
    ]
    code = "import importlib, sys\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        cwd=CORE.parent,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_package_and_light_modules_do_not_import_tensorflow() -> None:
    code = (
        "import sys, rnn_core, rnn_core.config, rnn_core.tasks.addition, rnn_core.tasks, "
        "rnn_core.presets, rnn_core.charts.training, rnn_core.params\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=CORE.parent
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False False"
