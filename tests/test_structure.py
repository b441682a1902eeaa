"""The shape of the code: the import graph has no cycle and never climbs a layer; modules are small and say
their job.

The graph is read from the source with ``ast`` (nothing is imported), counting every import, the lazy ones
inside functions included: a cycle through a function-level import is still two modules that need each
other.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("prompts", "catalog_ingest", "sample", "agent", "api", "evals", "lakescout")
"""The project's Python packages, bottom layer first; ``sample`` counts once it exists."""

MAY_IMPORT = {
    "prompts": set(),
    "catalog_ingest": set(),
    "sample": {"catalog_ingest"},
    "agent": {"catalog_ingest", "prompts"},
    "api": {"agent", "catalog_ingest", "prompts"},
    "evals": {"api", "agent", "catalog_ingest", "prompts", "sample"},
    "lakescout": {"evals", "api", "agent", "catalog_ingest", "prompts", "sample"},
}
"""Which of the other packages each package may import: CLI -> evals -> api -> agent -> catalog_ingest,
with the sample lake used only from the top (CLI, evals; tests and bench are outside the graph)."""

SIZED_PACKAGES = ("agent", "api", "catalog_ingest", "lakescout")
MAX_MODULE_LINES = 400
DATA_MODULES: frozenset[str] = frozenset()
"""Modules that are mostly data tables, exempt from the size limit for good."""


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of every package present."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = module_files()


def imported_modules(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports: each import resolved to the deepest module that exists, so
    ``from agent.sql import guard`` is an edge to ``agent.sql.guard`` and ``from agent.tools import X`` one to
    ``agent.tools``."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            named.update(f"{source}.{alias.name}" for alias in node.names)
    found = set()
    for dotted in named:
        parts = dotted.split(".")
        while parts and ".".join(parts) not in MODULES:
            parts.pop()
        if parts:
            found.add(".".join(parts))
    return found - {name}


GRAPH = {name: imported_modules(name, path) for name, path in MODULES.items()}


def top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_graph_sees_every_package_and_its_edges():
    assert {top(name) for name in MODULES} >= set(PACKAGES) - {"sample"}
    assert set(PACKAGES) == set(MAY_IMPORT)
    assert "catalog_ingest.store" in GRAPH["catalog_ingest.ingest"]
    assert "evals.cli" in GRAPH["lakescout.cli"]  # a lazy import counts as much as a top-level one


def test_no_import_cycle_between_modules():
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as cycle:
        pytest.fail("import cycle: " + " -> ".join(cycle.args[1]))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_never_climb_a_layer(package):
    climbing = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if top(name) == package
        for target in targets
        if top(target) != package and top(target) not in MAY_IMPORT[package]
    )
    assert not climbing, f"{package} may import only {sorted(MAY_IMPORT[package])}:\n  " + "\n  ".join(climbing)


def sized_modules() -> dict[str, Path]:
    return {str(path.relative_to(ROOT)): path for name, path in MODULES.items() if top(name) in SIZED_PACKAGES}


@pytest.mark.parametrize("relative", sorted(sized_modules()))
def test_module_says_its_job_and_fits_a_screenful_or_so(relative):
    path = sized_modules()[relative]
    source = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(source)), f"{relative} has no module docstring saying its job"
    lines = len(source.splitlines())
    if relative in DATA_MODULES:
        return
    assert lines <= MAX_MODULE_LINES, f"{relative} is {lines} lines, over {MAX_MODULE_LINES}: split it by job"


def test_size_allowances_name_real_modules():
    missing = sorted(DATA_MODULES - set(sized_modules()))
    assert not missing, f"allowed to be long but no longer there: {missing}; take them out of the list"
