"""docker-compose.yml, Prometheus and k8s cannot run here (no Docker): keep them correct by
reading them against the code's own configuration."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.common import config as cfg

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROM = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
K8S = list(yaml.safe_load_all((ROOT / "deploy/k8s/township-centre.yaml").read_text()))


@pytest.mark.parametrize("name", cfg.SERVICES + ("gateway",))
def test_compose_runs_each_service_with_its_database_and_port(name):
    svc = COMPOSE["services"][name]
    assert svc["command"] == ["python", "-m", "services.run", name]
    env = svc["environment"]
    assert env["AMQP_URI"].startswith("amqp://") and "@rabbitmq:5672" in env["AMQP_URI"]
    port = cfg.DEFAULT_HTTP_PORTS[name]
    assert env["PORT"] == str(port)
    if name != "gateway":
        assert env[f"{name.upper()}_DATABASE_URL"].endswith(f"/{name}")
        assert env[f"{name.upper()}_HTTP_ADDRESS"] == f"0.0.0.0:{port}"
        assert f"CREATE DATABASE {name};" in (ROOT / "deploy/postgres/init.sql").read_text()


@pytest.mark.parametrize("name", cfg.SERVICES + ("gateway",))
def test_prometheus_scrapes_every_replica_of_each_service(name):
    jobs = {j["job_name"]: j for j in PROM["scrape_configs"]}
    sd = jobs[name]["dns_sd_configs"][0]
    assert sd["names"] == [name] and sd["port"] == cfg.DEFAULT_HTTP_PORTS[name]


def test_k8s_has_a_deployment_per_service_with_probes_on_its_port():
    deployments = {d["metadata"]["name"]: d for d in K8S if d["kind"] == "Deployment"}
    assert set(deployments) == set(cfg.SERVICES) | {"gateway"}
    for name, dep in deployments.items():
        container = dep["spec"]["template"]["spec"]["containers"][0]
        port = cfg.DEFAULT_HTTP_PORTS[name]
        assert container["command"][-1] == name
        # the gateway is ready while it can serve: a service that is down costs only its routes
        path = "/ready" if name == "gateway" else "/health"
        assert container["readinessProbe"]["httpGet"] == {"path": path, "port": port}
        assert dep["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)


def _networks(value: str):
    import ipaddress

    return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]


def test_both_deployments_name_the_trusted_proxies_in_front_of_the_gateway():
    """Issue 8: without them, behind an ingress every client shares the proxy's address and
    5 wrong receipt guesses from anyone lock out a whole township. Networks, never everyone."""
    import re

    compose = COMPOSE["services"]["gateway"]["environment"]["GATEWAY_TRUSTED_PROXIES"]
    default = re.fullmatch(r"\$\{GATEWAY_TRUSTED_PROXIES:-([^}]+)\}", compose)
    assert default, compose
    deployments = {d["metadata"]["name"]: d for d in K8S if d["kind"] == "Deployment"}
    env = {e["name"]: e.get("value") for e in deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    for value in (default.group(1), env["GATEWAY_TRUSTED_PROXIES"]):
        nets = _networks(value)
        assert nets and all(n.prefixlen >= 8 and n.is_private for n in nets), value
    assert "GATEWAY_TRUSTED_PROXIES" not in COMPOSE["services"]["staff"]["environment"]  # the gateway's alone


def test_the_image_runs_the_same_entrypoint_as_make_run():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "services.run", "gateway"]' in dockerfile
    assert "pip install ." in dockerfile


COMMON_METRICS = {
    "up", "entrypoint_calls_total", "entrypoint_errors_total", "entrypoint_latency_seconds_bucket",
    "outbox_backlog", "dead_letter_queue_depth", "dead_letters_total", "events_handled_total",
    "events_duplicate_total", "http_responses_total", "gateway_rpc_calls_total", "gateway_breaker_state",
}


def service_gauges() -> set[str]:
    from services.common.metrics import Metrics
    from services.run import service_class

    names = set()
    for name in cfg.SERVICES:
        for value in vars(service_class(name)).values():
            if isinstance(value, Metrics):
                names |= set(value.gauges)
    return names


def metric_names(expr: str) -> set[str]:
    import re

    names = set(re.findall(r"\b([a-z][a-z0-9_]*)(?=\{|\[)", expr))
    for alternatives in re.findall(r'__name__=~"([^"]+)"', expr):
        names |= set(alternatives.split("|"))
    return names - {"__name__"}


def test_alerts_and_dashboard_use_only_metrics_the_code_exports():
    import json

    known = COMMON_METRICS | service_gauges()
    assert {"cases_open", "cases_overdue", "complaints_open", "lending_items_lent"} <= known
    assert {"notices_sent", "notices_unacknowledged", "notices_overdue", "notice_deliveries_failed"} <= known
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    exprs = [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/overview.json").read_text())
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = set().union(*(metric_names(e) for e in exprs))
    assert used and used <= known, f"unknown metrics: {sorted(used - known)}"
    assert {"notices_overdue", "notice_deliveries_failed"} <= used  # N1: alerted on
