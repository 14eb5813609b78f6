"""The house's shape, checked on the source (README, *Where things live*): no module over ~500 lines, no import
cycle between the app's modules, and calls in one direction — the appendix rules are pure and the engine knows
nothing of the services, the web or the database above it."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(module: str, *, anywhere: bool) -> set[str]:
    """The app's modules `module` imports: at module level (what runs on import, leaving out TYPE_CHECKING
    blocks), or `anywhere` (late imports inside functions too). `from package import name` is the submodule
    when `name` is one, the package otherwise."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree) if anywhere else tree.body
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def test_no_module_is_over_the_house_limit():
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_app_modules_import_one_another_without_a_cycle():
    graph = {module: _imported(module, anywhere=False) for module in MODULES}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' → '.join(error.args[1])}")


@pytest.mark.parametrize(
    ("layer", "may_import"),
    [
        ("app.rules", ("app.rules", "app.messages")),  # pure functions over plain data; messages only marks texts
        ("app.engine", ("app.engine", "app.rules", "app.messages")),
    ],
)
def test_the_lower_layers_never_call_up(layer, may_import):
    reaching_up = {
        module: sorted(name for name in _imported(module, anywhere=True) if not name.startswith(may_import))
        for module in MODULES
        if module == layer or module.startswith(layer + ".")
    }
    assert {module: names for module, names in reaching_up.items() if names} == {}
