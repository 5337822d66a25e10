"""`make run` itself (scripts/run_all.py): starts the services as processes, seeds the demo,
prints the gateway URL and the demo people's user names and passwords (which sign in), and
Ctrl-C stops all of it — within 5 s and without a traceback (issue 7, must-show 5)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.processes import ROOT, base_env, free_port

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_make_run_starts_seeds_prints_tokens_and_stops_on_ctrl_c(broker, tmp_path, stop_signal):
    gateway_port, staff_port = free_port(), free_port()
    env = base_env(broker.uri, tmp_path, RUN_SERVICES="staff,gateway", GATEWAY_PORT=gateway_port,
                   STAFF_HTTP_ADDRESS=f"127.0.0.1:{staff_port}", GATEWAY_JWT_SECRET="run-secret-" + "r" * 40)
    out = open(tmp_path / "run.log", "wb")
    # a session of its own, like a terminal's foreground job: Ctrl-C goes to the whole group
    proc = subprocess.Popen([sys.executable, "scripts/run_all.py"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while b"The system is up" not in (tmp_path / "run.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        text = (tmp_path / "run.log").read_text()
        assert f"http://localhost:{gateway_port}" in text
        # it prints the demo people's user names and passwords and the lines that sign them in
        line = next(line for line in text.splitlines() if "export TOKEN=" in line)
        body = json.loads(re.search(r"-d '(\{.*\})'", line).group(1))
        assert body["username"] == "qingshan.director" and f"{body['username']:<20} {body['password']}" in text
        r = requests.post(f"http://127.0.0.1:{gateway_port}/sessions", json=body)
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        assert token not in text  # no token is printed, let alone one that never ends
        r = requests.get(f"http://127.0.0.1:{gateway_port}/windows", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and len(r.json()) == 7  # the demo township's windows (the 7th takes fees, C8)
        # SQLite files under VAR_DIR, one per service, when no database URL is set
        assert (tmp_path / "var" / "staff.db").exists()

        stopped_at = time.monotonic()
        if stop_signal == signal.SIGINT:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        else:
            proc.send_signal(signal.SIGTERM)  # a supervisor stopping make run
        assert proc.wait(40) == 0
        # issue 7 must-show 5: each service stopped once, quickly, without a traceback
        took = time.monotonic() - stopped_at
        assert took < 5, f"make run took {took:.1f}s to stop"
        output = (tmp_path / "run.log").read_text(errors="replace")
        assert "Traceback" not in output and "AssertionError" not in output, output[-3000:]
        assert output.count("SIGTERM: stopping") == 2  # staff and gateway, one signal each
        for port in (gateway_port, staff_port):
            with pytest.raises(requests.ConnectionError):
                requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out.close()


def test_scale_starts_several_instances_of_a_service_and_of_the_gateway(broker, postgres, tmp_path):
    """issue 9: ``SCALE="staff=2 gateway=2" make run`` on PostgreSQL — two gateways on distinct
    (printed) ports and two staff instances, each serving; the demo is seeded once."""
    gateway_port, staff_port = free_port(), free_port()
    db = postgres.create_database("scale_staff")
    env = base_env(broker.uri, tmp_path, RUN_SERVICES="staff,gateway", GATEWAY_PORT=gateway_port,
                   STAFF_HTTP_ADDRESS=f"127.0.0.1:{staff_port}", STAFF_DATABASE_URL=db,
                   SCALE="staff=2 gateway=2", GATEWAY_JWT_SECRET="run-secret-" + "r" * 40)
    out = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "scripts/run_all.py"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b"The system is up" not in (tmp_path / "run.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        text = (tmp_path / "run.log").read_text()
        second = gateway_port + 100
        assert f"2 gateways: http://localhost:{gateway_port} http://localhost:{second}" in text
        line = next(line for line in text.splitlines() if "export TOKEN=" in line)
        body = json.loads(re.search(r"-d '(\{.*\})'", line).group(1))
        r = requests.post(f"http://127.0.0.1:{second}/sessions", json=body)  # signs in on either gateway
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        for port in (gateway_port, second):
            r = requests.get(f"http://127.0.0.1:{port}/windows", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and len(r.json()) == 7  # seeded once: seven windows, not fourteen
        for port in (staff_port, staff_port + 100):
            assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out.close()
        postgres.drop_database(db)


def test_scale_refuses_several_instances_on_sqlite(tmp_path):
    env = base_env("amqp://guest:guest@127.0.0.1:1/", tmp_path, SCALE="staff=2")
    run = subprocess.run([sys.executable, "scripts/run_all.py"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0 and "STAFF_DATABASE_URL=postgresql" in run.stderr + run.stdout
