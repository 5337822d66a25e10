"""`make run`: the whole system on one machine.

Starts the six services and the gateway as separate processes on the local broker (each
applies its migrations first), waits until each answers /health, seeds the demo township 青山镇
when the system is empty, prints the gateway URL and tokens, and stops everything on Ctrl-C.
Configuration from the environment (see services/common/config.py); the gateway listens on
:8000 unless GATEWAY_PORT says otherwise.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.common import config as cfg  # noqa: E402
from services.common.stopping import grace_seconds  # noqa: E402

# RUN_SERVICES runs a subset (e.g. "staff,gateway"); the default is the whole system.
SERVICES = [s for s in os.environ.get("RUN_SERVICES", ",".join(cfg.SERVICES + ("gateway",))).split(",") if s]


def health_url(name: str) -> str:
    addr = cfg.http_address(name)
    host, port = addr.rsplit(":", 1)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{host}:{port}/health"


def _child_setup() -> None:
    """In the child, before exec: die with the runner (Linux: a SIGTERM if the runner itself is
    killed), so no service outlives a `make run` that was SIGKILLed."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: the runner's own stop() is what ends them
        pass


def start(name: str) -> subprocess.Popen:
    # a process group of its own: the terminal's Ctrl-C (SIGINT to the foreground group) reaches
    # only this runner, which then stops each service once, with SIGTERM (two signals made
    # nameko stop every container twice: 17 s and a screen of tracebacks)
    return subprocess.Popen([sys.executable, "-m", "services.run", name], cwd=ROOT,
                            process_group=0, preexec_fn=_child_setup)


def wait_healthy(procs: dict, timeout: float = 120) -> None:
    pending = set(procs)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            if procs[name].poll() is not None:
                raise SystemExit(f"{name} exited with {procs[name].returncode} while starting")
            try:
                if name == "gateway":  # up once it can check tokens (503 while a service is missing)
                    ok = requests.get(health_url(name), timeout=5).json()["checks"].get("tokens") == "ok"
                else:
                    ok = requests.get(health_url(name), timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                pending.discard(name)
                print(f"  {name:<11} up  ({health_url(name).rsplit('/', 1)[0]})", flush=True)
        time.sleep(0.5)
    if pending:
        raise SystemExit(f"not healthy after {timeout:.0f}s: {', '.join(sorted(pending))}")


def stop(procs: dict) -> None:
    """SIGTERM to each service, once; each stops gracefully within its STOP_GRACE (in-flight
    work finishes or goes back to the queue). A second Ctrl-C, or a service still running
    STOP_GRACE + 5 s later, gets SIGKILL."""
    def hurry(signum, frame):
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()

    signal.signal(signal.SIGINT, hurry)
    signal.signal(signal.SIGTERM, hurry)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds() + 5
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C, and SIGTERM from a supervisor, stop everything: a shell that starts us in the
    # background may have set SIGINT to "ignore", so the handlers are installed, not inherited
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"broker {cfg.amqp_uri().split('@')[-1]}; data in {cfg.var_dir()} (unless *_DATABASE_URL set)")
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name in SERVICES:
            procs[name] = start(name)
        wait_healthy(procs)
        from scripts.seed_demo import seed_if_empty

        info = seed_if_empty()
        port = cfg.http_address("gateway").rsplit(":", 1)[1]
        print(
            "\nThe system is up.\n"
            f"  gateway      http://localhost:{port}   (OpenAPI: /openapi.json, health: /health)\n"
            f"  township     {info['name']} (code {info['code']})\n"
            f"  director     export TOKEN={info['director_token']}\n"
            f"  clerk (民政)  export CLERK={info['clerk_token']}\n"
            f"  operator     export OPERATOR={info['operator_token']}\n"
            f"  try          curl -H \"Authorization: Bearer $TOKEN\" http://localhost:{port}/windows\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the system", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping …", flush=True)
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
