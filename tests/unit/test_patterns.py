"""One shape for one job (issue 10; ARCHITECTURE "One shape for one job"): each policy has one
definition, checked over the source so a copy cannot creep back in."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("staff", "intake", "cases", "complaints", "lending")


def production_files():
    for base in ("services", "gateway"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- staff reads: never inside an open transaction ------------------------------------------

def _opens_unit(node: ast.With) -> bool:
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                isinstance(call.func.value, ast.Name) and call.func.value.id == "self" and \
                call.func.attr in ("db", "_unit"):
            return True
    return False


def _remote_calls(node) -> list[str]:
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Attribute) and \
                isinstance(sub.value.value, ast.Name) and sub.value.value.id == "self" and \
                sub.value.attr in SERVICES:
            found.append(f"self.{sub.value.attr}.{sub.attr}")
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and \
                sub.func.attr in ("_staff_names",):
            found.append(sub.func.attr)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_calls_another_inside_an_open_unit_of_work(service):
    """Staff's organisation is read from the service's copy, else by the bounded RPC before the
    unit of work opens (services/common/staffdir.py) — never with a transaction open."""
    tree = ast.parse(source(ROOT / "services" / service / "service.py"))
    offending = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and _opens_unit(node):
            offending += [f"line {node.lineno}: {c}" for body in node.body for c in _remote_calls(body)]
    assert offending == []


# -- one definition per policy ----------------------------------------------------------------

def _hits(pattern: str, allowed: set[str]) -> list[str]:
    rx = re.compile(pattern)
    return [f"{rel(p)}:{n}" for p in production_files() if rel(p) not in allowed
            for n, line in enumerate(source(p).splitlines(), 1) if rx.search(line)]


@pytest.mark.parametrize("what, pattern, allowed", [
    ("the default time zone (clock.DEFAULT_TZ)", r"[\"']Asia/Shanghai[\"']", {"services/common/clock.py"}),
    # the idempotency records' purge (services/common/service.py) deletes in batches: no items to claim
    ("a sweep timer (services/common/sweep.py)", r"@timer\b|from nameko\.timer import|SWEEP_INTERVAL\s*=",
     {"services/common/sweep.py", "services/common/config.py", "services/common/service.py"}),
    ("an interval read at import", r"os\.environ\.get\(\"SWEEP_INTERVAL", {"services/common/config.py"}),
])
def test_each_policy_has_one_definition(what, pattern, allowed):
    assert _hits(pattern, allowed) == [], f"{what} defined outside its one place"
