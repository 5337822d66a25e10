"""Benchmark: the system as processes (staff + gateway), measured over HTTP.

    .venv/bin/python benchmarks/bench_gateway.py [--requests 2000] [--concurrency 8]

Starts staff and the gateway as separate processes (`python -m services.run`) on a vhost and a
PostgreSQL database of its own, creates a township through the API, then measures
- authenticated reads (GET /windows: token check, RPC to staff, a tenant-scoped query),
- writes (POST /people: validation, RPC, insert + outbox event, relay publish),
and prints throughput and latency percentiles. Not part of `make test`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.common.green import patch  # noqa: E402

patch()  # the operator-token helper speaks nameko RPC


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(label, fn, n, concurrency):
    latencies = []

    def one(i):
        t0 = time.perf_counter()
        status = fn(i)
        latencies.append(time.perf_counter() - t0)
        return status

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - t0
    bad = [s for s in statuses if s >= 400]
    print(f"{label:<34} {n:>6} req  {n / elapsed:8.1f} req/s   p50 {1000 * statistics.median(latencies):7.1f} ms"
          f"   p95 {1000 * percentile(latencies, 95):7.1f} ms   p99 {1000 * percentile(latencies, 99):7.1f} ms"
          f"   errors {len(bad)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    from tests.support.infra import postgres_server, rabbit_vhost
    from tests.support.processes import processes
    from services.common.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    with rabbit_vhost() as broker, postgres_server() as pg:
        db = pg.create_database("bench_staff")
        upgrade("staff", db)
        try:
            with processes(broker.uri, tmp, {"staff": db}, ["staff", "gateway"],
                           GATEWAY_JWT_SECRET="bench-secret-" + "b" * 40) as procs:
                from tests.support.system import Api, Township, operator_token

                api = procs["gateway"].url
                op = operator_token(broker.uri, key="bench-secret-" + "b" * 40)
                token = Township(Api(api), Api(api, op), "bench", "基准镇").director_token
                session = requests.Session()
                session.headers["Authorization"] = f"Bearer {token}"
                session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=args.concurrency))
                session.post(api + "/windows", json={"number": 1, "name": "民政"}).raise_for_status()
                print(f"staff + gateway as processes, PostgreSQL, concurrency {args.concurrency}")
                measure("GET /windows (read)", lambda i: session.get(api + "/windows").status_code,
                        args.requests, args.concurrency)
                measure("POST /people (write + event)",
                        lambda i: session.post(api + "/people", json={"name": f"员工{i}", "roles": ["clerk"]}).status_code,
                        max(args.requests // 4, 1), args.concurrency)
                measure("GET /openapi.json (public)", lambda i: session.get(api + "/openapi.json").status_code,
                        max(args.requests // 10, 1), args.concurrency)
        finally:
            pg.drop_database(db)


if __name__ == "__main__":
    main()
