"""The services as separate processes — exactly what `make run` and docker-compose start
(`python -m services.run <name>`) — on the tests' own vhost and databases."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    def __init__(self, name: str, env: dict, log_dir: Path):
        self.name = name
        self.env = env
        self.port = int(env.get("GATEWAY_PORT") or env[f"{name.upper()}_HTTP_ADDRESS"].rsplit(":", 1)[1])
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceProcess":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "services.run", self.name], cwd=ROOT,
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                r = requests.get(self.url + "/health", timeout=5)
                if r.status_code == 200:
                    return
                # the gateway answers 503 while a service it reports on is not running; it is
                # up for its clients once it can check tokens
                if self.name == "gateway" and r.json()["checks"].get("tokens") == "ok":
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not healthy after {timeout}s:\n{self.tail()}")

    def wait_seeing(self, services, timeout: float = 60) -> None:
        """The gateway's /health reports each of ``services`` answering (issue 7: its breakers
        and probes), so that the first requests of a test do not meet a breaker opened while
        the processes were starting."""
        deadline = time.monotonic() + timeout
        checks: dict = {}
        while time.monotonic() < deadline:
            try:
                checks = requests.get(self.url + "/health", timeout=5).json().get("checks", {})
                if all(checks.get(name) == "ok" for name in services):
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the gateway does not see {services} after {timeout}s: {checks}")

    def kill(self) -> None:
        """SIGKILL: a crash, no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def metrics(self) -> str:
        return requests.get(self.url + "/metrics", timeout=5).text

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def base_env(amqp_uri: str, tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({
        "AMQP_URI": amqp_uri,
        "VAR_DIR": str(tmp_path / "var"),
        "OUTBOX_POLL_INTERVAL": "0.2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextlib.contextmanager
def processes(amqp_uri: str, tmp_path: Path, databases: dict[str, str], names, **extra):
    """Start ``names`` as processes; ``databases``: service → database URL."""
    env = base_env(amqp_uri, tmp_path, **extra)
    for name, url in databases.items():
        env[f"{name.upper()}_DATABASE_URL"] = url
    started: dict[str, ServiceProcess] = {}
    try:
        for name in names:
            penv = dict(env)
            if name == "gateway":
                penv["GATEWAY_PORT"] = str(free_port())
                penv["GATEWAY_HOST"] = "127.0.0.1"
            else:
                penv[f"{name.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{free_port()}"
            started[name] = ServiceProcess(name, penv, tmp_path).start()
        for proc in started.values():
            proc.wait_healthy()
        if "gateway" in started:  # and the gateway sees every service started (its probes)
            started["gateway"].wait_seeing([n for n in started if n != "gateway"])
        yield started
    finally:
        for proc in started.values():
            proc.stop()
