"""Imports run one way (issue 10): no import cycle anywhere in services/ and gateway/ (module-level
or function-local imports alike), services never import the gateway, services never import one
another, and the gateway reaches a service only by RPC (it may import services.common and the
shared contracts in services.contracts, never a service's own modules).

The same check from the shell: ``python -m pytest tests/unit/test_import_graph.py -q``."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: every service: a folder of services/ with a service.py (notices was missing from a written list)
SERVICES = tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py")
                        if p.parent.name not in ("common", "contracts")))


def modules() -> dict[str, Path]:
    found = {}
    for base in ("services", "gateway"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return found


MODULES = modules()


def _targets(module: str, node) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                package = package.rsplit(".", 1)[0]
            base = package + ("." + node.module if node.module else "")
        else:
            base = node.module
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rsplit(".", 1)[0] if "." in name else None
        if name:
            out.append(name)
    return out


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(t for t in _targets(module, node) if t != module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


GRAPH = import_graph()


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_every_service_is_checked():
    assert set(SERVICES) >= {"staff", "intake", "cases", "complaints", "lending", "notices"}


def test_the_graph_sees_function_local_and_relative_imports():
    assert "services.cases.casebook" in GRAPH["services.cases.posts"]
    assert "services.common.db" in GRAPH["services.common.staffdir"]


def test_no_import_cycle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("layer", ["services", *[f"services.{s}" for s in SERVICES]])
def test_services_never_import_the_gateway_nor_each_other(layer):
    wrong = sorted(
        f"{m} -> {t}" for m, targets in GRAPH.items() if m.startswith(layer + ".") or m == layer
        for t in targets
        if t.startswith("gateway") or (layer != "services" and t.split(".")[1] in SERVICES and
                                       not t.startswith(layer))
    )
    assert wrong == []


def test_the_gateway_imports_no_service_module():
    wrong = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() if m.startswith("gateway")
                   for t in targets if t.startswith("services.") and t.split(".")[1] in SERVICES)
    assert wrong == []
