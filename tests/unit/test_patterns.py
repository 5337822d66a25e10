"""One shape for one job (issue 10; ARCHITECTURE "One shape for one job"): each policy has one
definition, checked over the source so a copy cannot creep back in."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("staff", "intake", "cases", "complaints", "lending", "notices")


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

def _hits(pattern: str, allowed: set[str], under: str = "") -> list[str]:
    rx = re.compile(pattern)
    return [f"{rel(p)}:{n}" for p in production_files() if rel(p) not in allowed and rel(p).startswith(under)
            for n, line in enumerate(source(p).splitlines(), 1) if rx.search(line)]


@pytest.mark.parametrize("what, pattern, allowed", [
    ("the default time zone (clock.DEFAULT_TZ)", r"[\"']Asia/Shanghai[\"']", {"services/common/clock.py"}),
    # the idempotency records' purge (services/common/service.py) deletes in batches: no items to claim
    ("a sweep timer (services/common/sweep.py)", r"@timer\b|from nameko\.timer import timer|SWEEP_INTERVAL\s*=",
     {"services/common/sweep.py", "services/common/config.py", "services/common/service.py"}),
    ("masking (services/common/privacy.py)", r"\"\*\" \*|\"\*{4,}\"", {"services/common/privacy.py"}),
    ("an interval read at import", r"os\.environ\.get\(\"SWEEP_INTERVAL", {"services/common/config.py"}),
])
def test_each_policy_has_one_definition(what, pattern, allowed):
    assert _hits(pattern, allowed) == [], f"{what} defined outside its one place"


def test_services_use_narrow_providers_not_the_metrics_as_a_service_locator():
    """``self.config`` (services.common.config.Config) and ``self.db`` (the Database provider,
    ``self.db.health()`` for /health) — not ``self.metrics.container`` / ``metrics.database()``."""
    assert _hits(r"metrics\.database\(\)|metrics\.container", {"services/common/metrics.py"}, "services/") == []


def test_the_config_provider_hands_out_a_read_only_view():
    from types import SimpleNamespace

    from services.common.config import Config

    provider = Config()
    provider.container = SimpleNamespace(config={"AMQP_URI": "amqp://x", "SWEEP_INTERVAL": 30.0})
    config = provider.get_dependency(worker_ctx=None)
    assert config["SWEEP_INTERVAL"] == 30.0 and config.get("INSTANCE", "?") == "?"
    with pytest.raises(TypeError):
        config["SWEEP_INTERVAL"] = 0  # a worker cannot change the service's configuration


# -- roles: sets derived from tenancy.ROLES ---------------------------------------------------

def _role_literals(tree) -> list[int]:
    from services.common.tenancy import ROLES

    def roles_only(nodes) -> bool:
        names = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        return len(nodes) >= 2 and len(names) == len(nodes) and all(n in ROLES for n in names)

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and roles_only(node.elts):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and roles_only(node.args) and not (
                isinstance(node.func, ast.Name) and node.func.id == "role_set"):
            lines.append(node.lineno)
    return lines


def test_role_sets_are_built_from_tenancy_roles_not_written_as_literals():
    """A role set is ``tenancy.STAFF/LEADERS/DECIDERS/DESK/AUDITORS/GATE`` or ``role_set(...)``
    (each name checked against ``tenancy.ROLES`` at import), never a tuple of strings."""
    found = [f"{rel(p)}:{n}" for p in production_files()
             if rel(p).startswith("services/") and rel(p) != "services/common/tenancy.py"
             for n in _role_literals(ast.parse(source(p)))]
    assert found == []


@pytest.mark.parametrize("names", [("director", "deputy_director"), ("guard",)])
def test_a_role_set_names_known_roles_only(names):
    from services.common.tenancy import role_set

    assert role_set(*names) == names
    with pytest.raises(ValueError, match="directr"):
        role_set(*names, "directr")
