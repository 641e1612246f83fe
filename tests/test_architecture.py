"""The package's layers, read from the imports of every module with ``ast``.

Layers, lowest first (a module may import its own layer and those below, never one above):

0. the core, which reads like the paper: ``addressing``, ``memory``, ``heads``, ``controller``,
   ``model``, ``baseline``, ``checkpoint``, ``limits`` and ``tasks/``, and the fast engine:
   ``fused``, ``native`` (its C loops), ``sequence`` (a whole run) and ``cuda_graphs``;
1. ``figures/``: data in, Plotly figures out;
2. the services the pages call: ``training/``, ``playground/``, ``stepper/``, ``catalogue``,
   ``evaluate``, ``generalisation``, ``seeds``, ``urlcheck``, ``lessons/``, the ``train``
   entry point;
3. ``app/``: the only Streamlit code under ``ntm/``.

``devtools/`` (test and benchmark plumbing) stands apart: nothing in ``ntm/`` imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ntm"
CORE = {"ntm", "ntm.addressing", "ntm.memory", "ntm.heads", "ntm.controller", "ntm.model",
        "ntm.baseline", "ntm.checkpoint", "ntm.limits", "ntm.fused", "ntm.native",
        "ntm.sequence", "ntm.cuda_graphs"}
LAYERS = [("core", 0), ("figures", 1), ("training", 2), ("playground", 2), ("stepper", 2),
          ("catalogue", 2), ("plaintext", 2), ("evaluate", 2), ("generalisation", 2), ("seeds", 2), ("urlcheck", 2), ("lessons", 2), ("train", 2),
          ("app", 3), ("devtools", 4)]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> tuple[str, int]:
    if module in CORE or module.startswith("ntm.tasks"):
        return "core", 0
    top = module.split(".")[1]
    for name, rank in LAYERS:
        if top == name:
            return name, rank
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_architecture.py")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (function bodies included)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    for block in ast.walk(tree):  # ``if TYPE_CHECKING:`` imports exist only for type checkers
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING":
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            # ``from . import memory`` imports the module ``ntm.memory``
            found.update(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))
    return found


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


GRAPH = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def internal(deps: set[str]) -> set[str]:
    return {d for d in deps if d == "ntm" or d.startswith("ntm.")}


def test_every_module_is_in_a_layer():
    for module in GRAPH:
        layer(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_layer_above_its_own(module):
    name, rank = layer(module)
    for dep in internal(GRAPH[module]):
        if dep == "ntm" and name != "core":
            continue  # ``import ntm`` from above the core only reaches the core's exports
        dep_name, dep_rank = layer(dep)
        assert dep_rank <= rank or name == "devtools", f"{module} ({name}) imports {dep} ({dep_name})"
        assert dep_name != "devtools", f"{module} imports test plumbing {dep}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_only_the_app_layer_imports_streamlit(module):
    uses = any(d == "streamlit" or d.startswith("streamlit.") for d in GRAPH[module])
    assert not uses or layer(module)[0] == "app", f"{module} imports streamlit"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return [*path, m, d]
            if d not in state and (cycle := visit(d, [*path, m])):
                return cycle
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m, [])):
            return cycle
    return None


def test_no_import_cycles():
    graph = {m: {d for d in internal(deps) if d in GRAPH and d != m} for m, deps in GRAPH.items()}
    # a package's __init__ re-exporting its own submodules is not a cycle of behaviour, and
    # ``ntm/__init__`` only gathers the core's public names
    for m in graph:
        graph[m] = {d for d in graph[m] if d != "ntm" and not d.startswith(m + ".")}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_checker_sees_relative_and_function_level_imports():
    deps = GRAPH["ntm.checkpoint"]
    assert {"ntm.model", "ntm.baseline"} <= deps  # imported inside _model_types()
    assert "ntm.addressing" in GRAPH["ntm.model"]
