"""The package's shape: layers import downwards only, and nothing imports in a cycle.

Each top-level module or package of ``flanlab`` sits in one layer; a module may import (at any depth, lazy
imports included) only from its own layer or the layers below. So ``sweeps`` never reaches up into the pipeline,
``analysis`` never into the report command, and the task loaders load in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

PACKAGE = ROOT / "flanlab"
LAYERS = [  # lowest first
    {"errors", "faults", "io", "paths", "hardware", "metrics", "splits", "estimand", "results"},
    {"tasks", "provenance"},
    {"templates", "audit"},
    {"data"},
    {"models", "tracking"},
    {"training", "scoring", "config_checks"},
    {"analysis", "sweeps", "export"},
    {"pipeline", "cli_checks", "config_summary", "report_command", "catalogue_command", "export_command", "__main__"},
]


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, top_level_only: bool, modules: set[str]) -> set[str]:
    """The flanlab modules ``path`` imports; ``from package import module`` depends on the module only."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "flanlab":
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "flanlab"}
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {i for i in _imports(p, top_level_only, set(files)) if i in files and i != m}
            for m, p in files.items()}


def _unit(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    return next((c for n in sorted(graph) if n not in state and (c := visit(n))), None)


def test_every_top_level_unit_has_a_layer():
    units = {_unit(m) for m in _graph(True)} - {"flanlab"}
    assert units == set().union(*LAYERS), "add new modules and packages to LAYERS"


def test_imports_only_go_down_the_layers():
    upward = sorted(f"{m} -> {i}" for m, deps in _graph(False).items() if m != "flanlab"
                    for i in deps if _unit(i) != "flanlab" and _layer(_unit(i)) > _layer(_unit(m)))
    assert upward == []


def test_no_import_cycle_between_modules_or_units():
    """Imports inside functions count too: a lazy import is still a dependency."""
    assert _cycle(_graph(False)) is None
    units: dict[str, set[str]] = {}
    for module, deps in _graph(False).items():
        units.setdefault(_unit(module), set()).update(_unit(d) for d in deps if _unit(d) != _unit(module))
    units.pop("flanlab", None)
    assert _cycle({u: d - {"flanlab"} for u, d in units.items()}) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_a_task_loader_imports_alone_in_a_fresh_interpreter():
    """It once could not: ``combined`` and ``bigbench`` imported each other."""
    subprocess.run([sys.executable, "-c", "import flanlab.tasks.bigbench"], check=True, cwd=ROOT, timeout=120)


def _top_level_names() -> dict[str, list[str]]:
    """Module-level functions, classes and constants of ``flanlab``, by name: the modules defining each."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                names = []
            for name in names:
                found.setdefault(name, []).append(_module_name(path))
    return found


def test_names_that_once_collided_are_defined_once():
    """Two ``ambiguity``s, ``task_rows``s, ``run_cell``s, ``PRECISIONS``, ``MEAN``s and ``SHUFFLED``s of different
    kinds, and three ``RESULTS_FILE``s, confused readers (issue 26); each is now one definition or renamed."""
    names = _top_level_names()
    for name in ("ambiguity", "task_rows", "run_cell", "PRECISIONS", "MEAN", "SHUFFLED", "RESULTS_FILE",
                 "SCHEMA_VERSION", "summarize_cell"):
        assert len(names.get(name, [])) <= 1, (name, names.get(name))
    assert names["RESULTS_FILE"] == ["flanlab.results"]
