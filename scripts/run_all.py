"""`make run`: the whole system on one machine.

Starts the six services and the gateway as separate processes on the local broker (each
applies its migrations first), waits until each answers /health, seeds the demo township 青山镇
when the system is empty, prints the gateway URL and the demo people's user names and
passwords (with the lines that sign them in), and stops everything on Ctrl-C.
Configuration from the environment (see services/common/config.py); the gateway listens on
:8000 unless GATEWAY_PORT says otherwise.

``SCALE="gateway=2 intake=2 cases=2"`` starts that many instances of a service (on PostgreSQL:
set ``<SERVICE>_DATABASE_URL``; instances share the work through the broker's queues and the
database's claims). Instance k (from 2) listens on its first instance's port + 100·(k-1):
the gateway on :8000 and :8100, intake's /health on :9102 and :9202; all are printed.
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
PORT_STEP = 100  # instance k listens on the first instance's port + PORT_STEP·(k-1)


def scale(spec: str | None = None) -> dict[str, int]:
    """``SCALE="gateway=2 intake=2"`` (spaces or commas) → ``{"gateway": 2, "intake": 2}``."""
    counts = {}
    for part in (os.environ.get("SCALE", "") if spec is None else spec).replace(",", " ").split():
        name, _, n = part.partition("=")
        if name not in cfg.SERVICES + ("gateway",) or not n.isdigit() or int(n) < 1:
            raise SystemExit(f"SCALE: {part!r} is not <service>=<instances ≥ 1>")
        counts[name] = int(n)
    return counts


def instance_key(name: str, k: int) -> str:
    return name if k == 1 else f"{name}#{k}"


def split_key(key: str) -> tuple[str, int]:
    name, _, k = key.partition("#")
    return name, int(k or 1)


def address(key: str) -> str:
    """host:port where instance ``key`` serves (the gateway its API, a service /health)."""
    name, k = split_key(key)
    host, port = cfg.http_address(name).rsplit(":", 1)
    return f"{host}:{int(port) + PORT_STEP * (k - 1)}"


def health_url(key: str) -> str:
    host, port = address(key).rsplit(":", 1)
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


def start(key: str) -> subprocess.Popen:
    name, k = split_key(key)
    env = dict(os.environ)
    if k > 1:
        host, port = address(key).rsplit(":", 1)
        if name == "gateway":
            env["GATEWAY_HOST"], env["GATEWAY_PORT"] = host, port
        else:
            env[f"{name.upper()}_HTTP_ADDRESS"] = f"{host}:{port}"
    # a process group of its own: the terminal's Ctrl-C (SIGINT to the foreground group) reaches
    # only this runner, which then stops each service once, with SIGTERM (two signals made
    # nameko stop every container twice: 17 s and a screen of tracebacks)
    # the first instance applied the migrations
    extra = ["--no-migrate"] if k > 1 and name != "gateway" else []
    return subprocess.Popen([sys.executable, "-m", "services.run", name, *extra], cwd=ROOT, env=env,
                            process_group=0, preexec_fn=_child_setup)


def wait_healthy(procs: dict, timeout: float = 120) -> None:
    pending = set(procs)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            if procs[name].poll() is not None:
                raise SystemExit(f"{name} exited with {procs[name].returncode} while starting")
            try:
                if split_key(name)[0] == "gateway":  # up once it can check tokens (503 while a service is missing)
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


def sign_in_text(info: dict, port) -> str:
    """The demo people's user names and passwords, and the sign-in lines of the README."""
    rows = "\n".join(f"    {a['key']:<15} {a['name']:<6} {a['username']:<20} {a['password']}" for a in info["accounts"])
    by_key = {a["key"]: a for a in info["accounts"]}

    def sign_in(var, key):
        a = by_key[key]
        body = '{"username": "%s", "password": "%s"}' % (a["username"], a["password"])
        return (f"  export {var}=$(curl -s -X POST $G/sessions -H 'Content-Type: application/json' "
                f"-d '{body}' | jq -r .token)")

    return (
        "\nThe system is up.\n"
        f"  gateway      http://localhost:{port}   (OpenAPI: /openapi.json, health: /health)\n"
        f"  township     {info['name']} (code {info['code']})\n"
        "  demo accounts (user name, password; kept in var/demo-accounts.json):\n"
        f"{rows}\n"
        "  sign in (access tokens last 8 hours, never past midnight):\n"
        f"  export G=http://localhost:{port}\n"
        f"{sign_in('TOKEN', 'director')}\n{sign_in('CLERK', 'clerk_civil_a')}\n{sign_in('OPERATOR', 'operator')}\n"
        "  try          curl -H \"Authorization: Bearer $TOKEN\" $G/windows\n"
        "Ctrl-C stops everything."
    )


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
        counts = scale()
        for name, n in counts.items():
            if n > 1 and name != "gateway" and not cfg.database_url(name).startswith("postgresql"):
                raise SystemExit(f"SCALE {name}={n}: several instances need PostgreSQL "
                                 f"({name.upper()}_DATABASE_URL=postgresql://…)")
        for name in SERVICES:
            procs[name] = start(name)
        wait_healthy(procs)
        more = {}
        for name in SERVICES:  # after the first instances: they have applied the migrations
            for k in range(2, counts.get(name, 1) + 1):
                more[instance_key(name, k)] = start(instance_key(name, k))
        wait_healthy(more)
        procs.update(more)
        gateways = [f"http://localhost:{address(key).rsplit(':', 1)[1]}" for key in procs
                    if split_key(key)[0] == "gateway"]
        if len(gateways) > 1:
            print(f"  {len(gateways)} gateways: {' '.join(gateways)}", flush=True)
        from scripts.seed_demo import seed_if_empty

        info = seed_if_empty()
        port = cfg.http_address("gateway").rsplit(":", 1)[1]
        print(sign_in_text(info, port), flush=True)
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
