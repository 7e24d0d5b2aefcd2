"""The package's layers, as docs/architecture.md draws them: every import goes down the flow, never up.

model → notation → derivation → catalogue → rendering → {codegen, check, trajectory} → commands → cli.  A module
may import its own package and any earlier layer; codegen, check and trajectory do not import one another.  The
one exception is named here with its reason: a Derivation shows itself (``str``, Jupyter) through the renderer,
which it imports when it is shown, as SymPy's ``Basic.__str__`` imports its printer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

#: Each layer's packages and modules, in the order of the flow.
LAYERS: list[set[str]] = [
    {"symgrad", "symgrad.errors", "symgrad.files", "symgrad.cores"},
    {"symgrad.model"},
    {"symgrad.notation"},
    {"symgrad.derivation"},
    {"symgrad.catalogue"},
    {"symgrad.rendering"},
    {"symgrad.codegen", "symgrad.check", "symgrad.trajectory"},
    {"symgrad.commands"},
    {"symgrad.cli"},
    {"symgrad.__main__"},
]

#: (importing module, imported module): the imports that go up the flow on purpose, each with its reason.
UPWARD_ON_PURPOSE = {
    ("symgrad.derivation.steps", "symgrad.rendering.render"):
        "str(derivation) and Jupyter's display print it when it is shown",
}


def unit_of(module: str) -> str:
    """The layer entry a module belongs to: its subpackage (symgrad.model.graph → symgrad.model), or itself."""
    for layer in LAYERS:
        for unit in sorted(layer, key=len, reverse=True):
            if module == unit or module.startswith(unit + ".") and unit != "symgrad":
                return unit
    return "symgrad"


def layer_of(module: str) -> int:
    unit = unit_of(module)
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every symgrad module ``path`` imports (at any depth: in functions too), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("symgrad"):
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append(("<relative>", node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names if alias.name.startswith("symgrad"))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer():
    units = {unit_of(module_name(path)) for path in SOURCES}
    assert units <= set().union(*LAYERS)
    assert "symgrad.model" in units and "symgrad.commands" in units  # the table names real packages


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_import_runs_back_up_the_flow(path):
    importer = module_name(path)
    wrong = []
    for imported, line in imports_of(path):
        if imported == "<relative>":
            wrong.append(f"line {line}: a relative import (symgrad imports by full name)")
            continue
        if (importer, imported) in UPWARD_ON_PURPOSE:
            continue
        same_unit = unit_of(imported) == unit_of(importer)
        if not same_unit and layer_of(imported) >= layer_of(importer) and unit_of(imported) != "symgrad":
            wrong.append(f"line {line}: {imported} ({unit_of(imported)}) from {unit_of(importer)}")
    assert not wrong, wrong


def test_the_layer_test_can_fail():
    """A model module that imported the renderer, or codegen that imported the checker, would be caught."""
    assert layer_of("symgrad.rendering.render") > layer_of("symgrad.model.graph")
    assert layer_of("symgrad.check.judge") == layer_of("symgrad.codegen.lower")
    assert unit_of("symgrad.check.judge") != unit_of("symgrad.codegen.lower")


def module_imports(path: Path) -> set[str]:
    """The symgrad modules ``path`` imports, at the top or inside a function (an import put off until a call is
    still a circle), each named as a module: ``from symgrad.codegen.plan import Plan`` is symgrad.codegen.plan."""
    modules = {module_name(source) for source in SOURCES}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symgrad"):
            for alias in node.names:  # from symgrad.catalogue import models: the module models
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("symgrad"))
    return found


def test_no_import_circle():
    """No module imports, however indirectly, one that imports it (lower.py and layers.py once imported each
    other); the display exception of UPWARD_ON_PURPOSE aside."""
    graph = {module_name(path): module_imports(path) - {module_name(path)}
             - {imported for importer, imported in UPWARD_ON_PURPOSE if importer == module_name(path)}
             for path in SOURCES}
    state: dict[str, str] = {}

    def circle_from(module: str, trail: list[str]) -> list[str] | None:
        if state.get(module) == "open":
            return trail[trail.index(module):] + [module]
        if state.get(module) == "done":
            return None
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            found = circle_from(imported, [*trail, module])
            if found:
                return found
        state[module] = "done"
        return None

    circle = next((found for module in sorted(graph) if (found := circle_from(module, []))), None)
    assert circle is None, " → ".join(circle)
