"""I6: the gauge of village agents' collections past their deadline (intake) is on the Grafana
overview and has an alert, like the other overdue gauges (cases, lending, notices) — read
against the service's own gauge table so a renamed gauge fails here."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from services.intake.service import IntakeService

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = json.loads((ROOT / "deploy/grafana/dashboards/overview.json").read_text())
ALERTS = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]


def exprs(panels):
    return [t.get("expr", "") for p in panels for t in p.get("targets", [])]


@pytest.mark.parametrize("gauge", ["intake_agent_collections_overdue"])
def test_I6_the_overdue_gauge_is_charted_and_alerted(gauge):
    assert gauge in IntakeService.metrics.gauges
    assert any(re.search(rf"\b{gauge}\b", e) for e in exprs(DASHBOARD["panels"])), "not on the dashboard"
    [rule] = [r for r in ALERTS if re.search(rf"\b{gauge}\b", r["expr"])]
    assert "township_id" in rule["expr"] and rule["labels"]["severity"] == "ticket" and "I6" in \
        rule["annotations"]["summary"]
