"""`make bench`: the intake path end to end, against the framework's floor, and the heavy timers.

    .venv/bin/python benchmarks/bench_intake.py [--quick] [--skip http,bound,sweep,recompute,days]
                                                [--instances 1,2] [--seconds 10]

1. HTTP (processes on PostgreSQL, a vhost of its own): `POST /intake/applications` with the
   README's marriage registration (结婚登记) and a clerk's token, through the gateway; a request
   counts as done when its case exists in cases (throughput = applications / time until the last
   case exists). At 1, 10 and 50 clients, and the floor (benchmarks/floor.py: a bare nameko HTTP
   entrypoint calling an RPC echo service, max_workers 50, same broker) measured in the same run,
   with the ratios; and the bound (benchmarks/bound.py: the same path with no domain work, on the
   same stack) at the same client counts. ``--instances 1,2`` repeats the intake path with two
   instances of the gateway, intake and cases.
2. The overdue sweep (C5) in-process over 10^5 and 10^6 open cases with 1 % due (bulk-inserted).
3. A township's calendar change recomputing 10^4 open cases (services/cases/recompute), and the
   worst latency of a small query made meanwhile (does it stall other requests?).
4. 10^6 working-day additions (services/common/calendar).

Prints a table and writes benchmarks/results/<UTC time>.json. Noisy on a shared machine:
compare ratios to the floor, and the load average printed with them.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-" + "b" * 40
os.environ["GATEWAY_JWT_SECRET"] = SECRET
os.environ["RUN_SERVICES"] = "staff,intake,cases"

from services.common.green import patch  # noqa: E402

patch()

import eventlet  # noqa: E402

MARRIAGE = {
    "item_code": "MZ-001",
    "applicant": {"name": "张伟", "phone": "13912345678", "id_no": "330102199001011234"},
    "materials_brought": ["男女双方居民身份证", "男女双方户口簿",
                          "本人无配偶及与对方无禁止结婚亲属关系的签字声明", "双方近期半身免冠合影照片"],
}
SYSTEM = ["staff", "intake", "cases", "gateway"]
SCALED = ("gateway", "intake", "cases")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


# -- load generator: green clients, one keep-alive connection each ----------------------------

def load(ports: list[int], path: str, body: bytes, headers: dict, clients: int, seconds: float):
    """``clients`` clients post ``body`` back to back for ``seconds`` (spread over ``ports``);
    returns (latencies of 2xx answers, error statuses, elapsed)."""
    latencies, errors = [], []
    stop_at = time.monotonic() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=60)
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=60)
                continue
            if 200 <= status < 300:
                latencies.append(time.perf_counter() - t0)
            else:
                errors.append(status)
        conn.close()

    t0 = time.monotonic()
    pool = eventlet.GreenPool(clients)
    for i in range(clients):
        pool.spawn(client, i)
    pool.waitall()
    return latencies, errors, time.monotonic() - t0


def row(label, n, elapsed, latencies, errors, **extra) -> dict:
    return {"label": label, "n": n, "req_s": n / elapsed if elapsed else 0.0,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": 1000 * pct(latencies, 99), "errors": len(errors),
            "error_kinds": {str(k): errors.count(k) for k in set(errors)}, "load": loadavg(), **extra}


def print_http(rows):
    print(f"{'':44} {'n':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>4}  load")
    for r in rows:
        print(f"{r['label']:<44} {r['n']:>6} {r['req_s']:8.1f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
              f"{r['errors']:>4}  {r['load']}", flush=True)


# -- 1. the HTTP path ----------------------------------------------------------------------------

def start_floor(amqp_uri, log_dir):
    from tests.support.processes import free_port

    port = free_port()
    log = open(log_dir / "floor.log", "ab")
    proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "floor.py"), "--amqp", amqp_uri,
                             "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    wait_http(port, "the floor service")
    return proc, port


def start_bound(amqp_uri, log_dir, dbs):
    """benchmarks/bound.py: its gateway, intake and cases as three processes; returns them and
    the gateway's port."""
    from tests.support.processes import free_port

    port = free_port()
    procs = []
    for role in ("cases", "intake", "gateway"):
        extra = ["--port", str(port)] if role == "gateway" else ["--db", dbs[role]]
        log = open(log_dir / f"bound-{role}.log", "ab")
        procs.append(subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bound.py"), "--role", role,
                                       "--amqp", amqp_uri, *extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    wait_http(port, "the bound's gateway")
    return procs, port


def wait_http(port, what):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            eventlet.sleep(0.2)
    raise SystemExit(f"{what} did not start")


def start_system(amqp_uri, tmp, dbs, instances: int):
    from tests.support.processes import ServiceProcess, base_env, free_port

    # the gateway's bulkhead (issue 7) refuses a 16th concurrent call to one service at once (503):
    # right for a slow service, but here it would measure shedding, not throughput
    env = base_env(amqp_uri, tmp, GATEWAY_JWT_SECRET=SECRET, OUTBOX_POLL_INTERVAL="0.5",
                   GATEWAY_SERVICE_LIMIT=os.environ.get("GATEWAY_SERVICE_LIMIT", "60"))
    for name, url in dbs.items():
        env[f"{name.upper()}_DATABASE_URL"] = url
    procs = []
    for name in SYSTEM:
        for i in range(instances if name in SCALED else 1):
            penv = dict(env)
            if name == "gateway":
                penv["GATEWAY_PORT"] = str(free_port())
                penv["GATEWAY_HOST"] = "127.0.0.1"
            else:
                penv[f"{name.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{free_port()}"
            procs.append(ServiceProcess(name, penv, tmp).start())
    for p in procs:
        p.wait_healthy(120)
    return procs


def count_cases(url) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from cases")).scalar_one()
    finally:
        engine.dispose()


def wait_cases(url, expected, timeout=120) -> float:
    """Monotonic time at which cases holds ``expected`` rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_cases(url) >= expected:
            return time.monotonic()
        eventlet.sleep(0.05)
    raise SystemExit(f"cases never reached {expected} (has {count_cases(url)}): something was lost")


def bench_http(args, results):
    from services.common.migrate import upgrade
    from tests.support.infra import postgres_server, rabbit_vhost

    clients = args.clients
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    body = json.dumps(MARRIAGE).encode()
    rows = []
    with rabbit_vhost() as broker, postgres_server() as pg:
        os.environ["AMQP_URI"] = broker.uri
        floor_proc, floor_port = start_floor(broker.uri, tmp)
        try:
            for c in clients:
                lat, err, el = load([floor_port], "/echo", body, {"Content-Type": "application/json"}, c, args.seconds)
                rows.append(row(f"floor (nameko http -> rpc echo), {c} clients", len(lat), el, lat, err,
                                kind="floor", clients=c))
                print_http(rows[-1:])
        finally:
            floor_proc.terminate()
            floor_proc.wait(15)
        if "bound" not in args.skip:
            rows += bench_bound(args, broker.uri, pg, tmp, body)
        for instances in args.instances:
            dbs = {}
            for name in ("staff", "intake", "cases"):
                dbs[name] = pg.create_database(f"bench_{name}")
                upgrade(name, dbs[name])
            procs = start_system(broker.uri, tmp, dbs, instances)
            try:
                from scripts.seed_demo import seed_if_empty

                os.environ["VAR_DIR"] = str(tmp / "var")  # the demo accounts' passwords
                info = seed_if_empty(broker.uri)
                clerk = next(a for a in info["accounts"] if a["key"] == "clerk_civil_a")
                ports = [p.port for p in procs if p.name == "gateway"]
                conn = http.client.HTTPConnection("127.0.0.1", ports[0])
                conn.request("POST", "/sessions", body=json.dumps({"username": clerk["username"],
                                                                    "password": clerk["password"]}),
                             headers={"Content-Type": "application/json"})
                token = json.loads(conn.getresponse().read())["token"]
                headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
                conn.request("POST", "/attendance/sign-in", headers=headers)
                conn.getresponse().read()
                # warm-up (connections, caches), not counted
                load(ports, "/intake/applications", body, headers, 2, 1.0)
                for c in clients:
                    before = count_cases(dbs["cases"])
                    t0 = time.monotonic()
                    lat, err, el = load(ports, "/intake/applications", body, headers, c, args.seconds)
                    done_at = wait_cases(dbs["cases"], before + len(lat))
                    label = f"POST /intake/applications, {c} clients" + (f", x{instances}" if instances > 1 else "")
                    rows.append(row(label, len(lat), done_at - t0, lat, err, kind="intake", clients=c,
                                    instances=instances, http_req_s=len(lat) / el))
                    print_http(rows[-1:])
            finally:
                for p in procs:
                    p.stop()
                for url in dbs.values():
                    pg.drop_database(url)
    floor = {r["clients"]: r for r in rows if r["kind"] == "floor"}
    print("\nagainst the floor (same run):")
    for r in rows:
        if r["kind"] == "floor":
            continue
        f = floor[r["clients"]]
        r["vs_floor"] = {"throughput": r["req_s"] / f["req_s"], "p50": r["p50_ms"] / f["p50_ms"],
                         "p99": r["p99_ms"] / f["p99_ms"]}
        print(f"  {r['label']:<44} throughput {100 * r['vs_floor']['throughput']:5.1f} % of the floor, "
              f"p50 {r['vs_floor']['p50']:5.1f}x, p99 {r['vs_floor']['p99']:5.1f}x")
    results["http"] = rows


def bench_bound(args, amqp_uri, pg, tmp, body) -> list[dict]:
    """The bound (benchmarks/bound.py) at each client count: done when its case row exists."""
    dbs = {role: pg.create_database(f"bench_bound_{role}") for role in ("intake", "cases")}
    procs, port = start_bound(amqp_uri, tmp, dbs)
    rows = []
    try:
        load([port], "/applications", body, {"Content-Type": "application/json"}, 2, 1.0)  # warm-up
        for c in args.clients:
            before = count_cases(dbs["cases"])
            t0 = time.monotonic()
            lat, err, el = load([port], "/applications", body, {"Content-Type": "application/json"}, c, args.seconds)
            done_at = wait_cases(dbs["cases"], before + len(lat))
            rows.append(row(f"bound (the path with no domain), {c} clients", len(lat), done_at - t0, lat, err,
                            kind="bound", clients=c, http_req_s=len(lat) / el))
            print_http(rows[-1:])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)
        for url in dbs.values():
            pg.drop_database(url)
    return rows


# -- 2-4. in-process, on PostgreSQL -----------------------------------------------------------------

class Frozen:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


def bulk_cases(engine, township_id, n, due_fraction, today, started=None):
    """``n`` open (under_review) cases of one township, ``due_fraction`` of them past due."""
    from services.cases.models import Case

    table = Case.__table__
    at = datetime.now(timezone.utc)
    step = max(1, round(1 / due_fraction)) if due_fraction else None
    batch = []
    with engine.begin() as conn:
        for i in range(n):
            overdue = step is not None and i % step == 0
            batch.append(dict(
                id=f"{i:032x}", township_id=township_id, application_id=f"a{i}", receipt_no=f"R{i}",
                item_code="MZ-002", item_version=1, item_name="低保", kind="promised", original_kind="promised",
                state="in_review", transitions=1, handler_person_id="p1", holder_person_id="p1",
                accepted_at=at, accepted_on=today - timedelta(days=30), deemed_accepted=False,
                clock_started_on=started or (today - timedelta(days=30)), promised_days=20 if not overdue else 5,
                extension_days=0, paused_days=0,
                due_date=today - timedelta(days=1) if overdue else today + timedelta(days=40),
                provisional=False, tacit_allowed=False, departments=[], major=False, proxy=False,
                created_at=at))
            if len(batch) == 10000:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
        conn.exec_driver_sql("ANALYZE cases")


def cases_units(pg, name):
    from services.cases.models import Base
    from services.common.migrate import upgrade
    from tests.support.units import UnitsOfWork

    url = pg.create_database(name)
    upgrade("cases", url)
    return url, UnitsOfWork(Base, "cases", Frozen(datetime.now(timezone.utc)), url=url)


def bench_sweep(args, results):
    from services.cases import timers
    from tests.support.infra import postgres_server

    rows = []
    with postgres_server() as pg:
        for n in args.sweep_sizes:
            url, units = cases_units(pg, "bench_sweep")
            try:
                today = units.clock.now().date()
                t0 = time.monotonic()
                bulk_cases(units.engine, "t1", n, 0.01, today)
                insert_s = time.monotonic() - t0
                t0 = time.monotonic()
                run = units.sweep_run(chunk=50)
                done = timers.sweep_overdue(run)
                if run.errors:
                    raise SystemExit(f"the sweep failed: {run.errors}")
                el = time.monotonic() - t0
                rows.append({"open_cases": n, "due": n // 100, "marked": done, "seconds": el,
                             "insert_seconds": insert_s, "load": loadavg()})
                print(f"overdue sweep: {n:>8} open, {n // 100:>6} due: {done:>6} marked in {el:7.2f} s"
                      f"   (bulk insert {insert_s:.1f} s)  load {loadavg()}", flush=True)
            finally:
                units.engine.dispose()
                pg.drop_database(url)
    results["sweep"] = rows


def bench_recompute(args, results):
    from sqlalchemy import text

    from services.cases import recompute
    from services.common.db import NATIONAL
    from tests.support.infra import postgres_server

    n = args.recompute_cases
    with postgres_server() as pg:
        url, units = cases_units(pg, "bench_recompute")
        try:
            today = units.clock.now().date()
            bulk_cases(units.engine, "t1", n, 0.0, today, started=today - timedelta(days=2))
            # a local holiday tomorrow: every deadline moves by a day
            with units.unit_of_work("t1") as uow:
                uow.session.execute(uow.common.calendar_days.insert().values(
                    scope="t1", day=today + timedelta(days=1), working=False, note="bench"))
                recompute.mark(uow, "t1")
            assert NATIONAL
            worst = [0.0]
            running = [True]

            def other_requests():
                while running[0]:
                    t0 = time.perf_counter()
                    with units.engine.connect() as conn:
                        conn.execute(text("select count(*) from calendar_days"))
                    worst[0] = max(worst[0], time.perf_counter() - t0)
                    eventlet.sleep(0.01)

            probe = eventlet.spawn(other_requests)
            t0 = time.monotonic()
            done = recompute.Recomputer().settle(units)
            el = time.monotonic() - t0
            running[0] = False
            probe.wait()
            results["recompute"] = {"open_cases": n, "seconds": el, "done": done,
                                    "worst_other_ms": 1000 * worst[0], "load": loadavg()}
            print(f"calendar change: {n} open cases recomputed ({done['changed']} changed) in {el:.2f} s; "
                  f"worst latency of a query meanwhile {1000 * worst[0]:.0f} ms  load {loadavg()}", flush=True)
        finally:
            units.engine.dispose()
            pg.drop_database(url)


def bench_days(args, results):
    from services.common.calendar import WorkingCalendar

    cal = WorkingCalendar({})
    n = args.additions
    start = date(2025, 1, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        cal.add_working_days(start + timedelta(days=i % 365), 1 + i % 20)
    el, cpu = time.perf_counter() - t0, time.process_time() - c0
    results["working_days"] = {"additions": n, "seconds": el, "per_s": n / el, "cpu_seconds": cpu,
                               "per_cpu_s": n / cpu, "load": loadavg()}
    print(f"working-day additions: {n} in {el:.2f} s = {n / el:,.0f}/s ({n / cpu:,.0f} per CPU-second)"
          f"  load {loadavg()}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts and shorter runs, to iterate")
    parser.add_argument("--skip", default="", help="comma-separated: http,bound,sweep,recompute,days")
    parser.add_argument("--instances", default="1,2", help="instances of gateway, intake, cases to measure")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per HTTP measurement")
    parser.add_argument("--clients", default="1,10,50", help="concurrent clients to measure")
    parser.add_argument("--sweep-sizes", default=None, help="open cases of the sweep runs, e.g. 100000,1000000")
    args = parser.parse_args()
    skip = args.skip = set(filter(None, args.skip.split(",")))
    args.instances = [int(x) for x in args.instances.split(",")]
    args.clients = [int(x) for x in args.clients.split(",")]
    args.seconds = args.seconds or (4.0 if args.quick else 15.0)
    args.sweep_sizes = ([int(x) for x in args.sweep_sizes.split(",")] if args.sweep_sizes
                        else [10_000, 100_000] if args.quick else [100_000, 1_000_000])
    args.recompute_cases = 2_000 if args.quick else 10_000
    args.additions = 100_000 if args.quick else 1_000_000
    results = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": args.quick,
               "load_at_start": loadavg(), "cpus": os.cpu_count()}
    print(f"load average at start {loadavg()} ({os.cpu_count()} cpus)", flush=True)
    for name, fn in (("days", bench_days), ("http", bench_http), ("sweep", bench_sweep),
                     ("recompute", bench_recompute)):
        if name not in skip:
            fn(args, results)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{results['started'].replace(':', '')[:17]}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwritten {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
