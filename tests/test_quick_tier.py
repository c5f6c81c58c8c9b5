"""The quick tier stays quick: every test that starts a Streamlit server, Chromium, Ray or a
training child process carries a mark that the Makefile's QUICK expression leaves out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

# names whose use starts something slow, and the mark each calls for
HEAVY = {
    "streamlit_server": "process",  # a Streamlit server (tests/browser.py)
    "chromium_page": "browser",  # Chromium through Playwright
    "sync_playwright": "browser",
    "ProcessRunner": "process",  # a training child process (rnn_core/engine/process.py)
    "WorkerPool": "process",  # warm training workers (rnn_core/engine/pool.py)
    "spawn_worker": "process",
    "warm_workers": "process",
    "ray": "ray",  # a Ray instance (rnn_core/engine/ray_runner.py)
    "ray_runner": "ray",
}


def quick_expression(makefile: Path = REPO / "Makefile") -> str:
    """The quick tier's marker expression: the Makefile's ``QUICK := ...`` line."""
    found = re.search(r"^QUICK\s*:?=\s*(.+)$", makefile.read_text(), re.M)
    assert found, f"no QUICK := ... line in {makefile}"
    return found.group(1).strip()


def left_out(expression: str) -> set[str]:
    """The marks ``expression`` (``not a and not b ...``) keeps out of the quick tier."""
    terms = [t.strip() for t in expression.split(" and ")]
    assert all(re.fullmatch(r"not \w+", t) for t in terms), f"not a 'not a and not b': {expression}"
    return {t.removeprefix("not ") for t in terms}


def _marks(node: ast.AST) -> set[str]:
    """The ``pytest.mark.X`` names anywhere under ``node`` (a decorator, ``pytestmark``)."""
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Attribute)
        and n.value.attr == "mark"
    }


def _names(node: ast.AST) -> set[str]:
    """Every name ``node`` uses: variables, attributes, imports and its own parameters."""
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.alias):
            out.add(n.asname or n.name.split(".")[0])
            out.add(n.name.rsplit(".", 1)[-1])
        elif isinstance(n, ast.arg):
            out.add(n.arg)  # a test's fixtures are its parameters
    return out


def _decorator_marks(decorators: list[ast.expr], named: dict[str, set[str]]) -> set[str]:
    """The marks in ``decorators``, through the module-level names they use (``KINDS``)."""
    marks = set().union(*map(_marks, decorators))
    for n in (n for d in decorators for n in ast.walk(d)):
        if isinstance(n, ast.Name):
            marks |= named.get(n.id, set())
    return marks


class Module:
    """One test module's top-level functions: the names each uses and the marks on each."""

    def __init__(self, name: str, source: str) -> None:
        tree = ast.parse(source)
        self.name = name
        self.uses: dict[str, set[str]] = {}  # top-level function or class: names it uses
        self.marks: dict[str, set[str]] = {}  # test function: its marks and the module's
        self.imported: dict[str, tuple[str, str]] = {}  # alias: (tests module, its name)
        module_marks: set[str] = set()
        named: dict[str, set[str]] = {}  # module-level name: the marks in its value
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        named[target.id] = _marks(node.value)
                        if target.id == "pytestmark":
                            module_marks |= named[target.id]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests."):
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module[6:], alias.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.uses[node.name] = _names(node) - {node.name}
                if node.name.startswith("test_"):  # a mark in a pytest.param counts too
                    self.marks[node.name] = _decorator_marks(node.decorator_list, named)
        for test in self.marks:
            self.marks[test] |= module_marks


def heavy_functions(modules: dict[str, Module]) -> dict[tuple[str, str], str]:
    """(module, function): the heavy name it reaches, itself or through its helpers, its
    fixtures and the helpers it imports from other test modules."""
    heavy: dict[tuple[str, str], str] = {}
    changed = True
    while changed:  # a fixpoint: each pass adds the callers of what the last pass found
        changed = False
        for mod in modules.values():
            for fn, names in mod.uses.items():
                found = [
                    name if name in HEAVY else heavy.get(mod.imported.get(name, (mod.name, name)))
                    for name in sorted(names)
                ]
                why = next(filter(None, found), None)
                if why and (mod.name, fn) not in heavy:
                    heavy[mod.name, fn] = why
                    changed = True
    return heavy


def unmarked(modules: dict[str, Module], out: set[str]) -> list[str]:
    """``module::test (uses X; mark it M)`` for each heavy test with none of the marks ``out``."""
    heavy = heavy_functions(modules)
    return [
        f"{mod.name}::{test} (uses {heavy[mod.name, test]}: mark it {HEAVY[heavy[mod.name, test]]})"
        for mod in modules.values()
        for test, marks in mod.marks.items()
        if (mod.name, test) in heavy and not marks & out
    ]


def _suite() -> dict[str, Module]:
    """Every module of tests/ (helpers too, for what test modules import from them)."""
    paths = sorted((REPO / "tests").glob("*.py"))
    return {p.stem: Module(p.stem, p.read_text()) for p in paths}


def test_the_quick_tier_leaves_out_the_browser_process_ray_and_slow_tests() -> None:
    assert left_out(quick_expression()) == {"browser", "process", "ray", "slow"}
    makefile = (REPO / "Makefile").read_text()
    for target, run in (("test", '-m "$(QUICK)"'), ("test-all", '-m "not ($(QUICK))"')):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n")[0]
        assert run in recipe, target  # the quick tier, and the rest: each test runs once
    assert "make test-all" in (REPO / ".ci" / "run").read_text()  # CI runs every test


def test_every_test_that_starts_something_slow_is_out_of_the_quick_tier() -> None:
    assert unmarked(_suite(), left_out(quick_expression())) == []


SAMPLE = """
import pytest
from tests.other import start_child as child

pytestmark = pytest.mark.slow

def _server():
    with streamlit_server() as url:
        return url

@pytest.fixture
def pool():
    return WorkerPool(1)

def test_plain():
    assert 1

def test_via_helper():
    _server()

def test_via_fixture(pool):
    assert pool

@pytest.mark.parametrize("kind", ["thread", pytest.param("process", marks=pytest.mark.process)])
def test_marked(kind):
    _server()

def test_via_import():
    child()

def test_ray_inside():
    import ray
"""


def test_the_check_finds_heavy_tests_through_helpers_fixtures_and_imports() -> None:
    other = Module("other", "def start_child():\n    return ProcessRunner('addition', None)\n")
    modules = {"sample": Module("sample", SAMPLE), "other": other}
    assert unmarked(modules, {"process", "ray"}) == [
        "sample::test_via_helper (uses streamlit_server: mark it process)",
        "sample::test_via_fixture (uses WorkerPool: mark it process)",
        "sample::test_via_import (uses ProcessRunner: mark it process)",
        "sample::test_ray_inside (uses ray: mark it ray)",
    ]
    assert unmarked(modules, {"slow"}) == []  # the module's pytestmark counts for each test
