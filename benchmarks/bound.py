"""The bound of the intake benchmark: the least the intake path itself can cost on this stack.

Where the floor (benchmarks/floor.py) is one HTTP request and one RPC, an application must also
be written durably, handed on by event, and written durably again as a case. This is that path
with nothing else: no validation, rules, calendar, receipt, audit trail or copies back, the same
libraries, process layout and worker counts as the system (nameko 2.14 on eventlet, SQLAlchemy
Core on psycopg2, PostgreSQL with its defaults, three processes; 100 workers in the gateway, 10
in a service, a pool of workers + 3 connections):

* ``gateway``: nameko HTTP ``POST /applications`` → RPC ``bound_intake.submit(body)``;
* ``intake``: one transaction: the application row and its outbox row (the transactional
  outbox); after the commit the event is published at once by the worker (nameko's dispatcher,
  publisher confirms on) and its outbox row is not even marked sent — a lower bound;
* ``cases``: ``@event_handler``: one transaction: the processed-event record and the case row.

What the real path costs above this bound is the domain's work and our implementation of it;
what the bound costs above the floor, no implementation on this stack can remove.

    python benchmarks/bound.py --role gateway|intake|cases --amqp amqp://… --db postgresql://…
                               [--port 8124]
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from services.common.green import patch  # noqa: E402

patch()

import argparse  # noqa: E402
import json  # noqa: E402
import uuid  # noqa: E402

from nameko.events import EventDispatcher, event_handler  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.floor import http_to_rpc, serve  # noqa: E402


def workers(role: str) -> int:
    """The system's own worker counts (services/common/config.py): the gateway 100, a service 10."""
    return int(os.environ.get("GATEWAY_WORKERS", "100") if role == "gateway" else os.environ.get("MAX_WORKERS", "10"))

SCHEMA = {
    "intake": ["CREATE TABLE IF NOT EXISTS applications (id uuid PRIMARY KEY, township_id text NOT NULL, "
               "body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())",
               "CREATE TABLE IF NOT EXISTS outbox (id uuid PRIMARY KEY, type text NOT NULL, body jsonb NOT NULL, "
               "created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz)"],
    "cases": ["CREATE TABLE IF NOT EXISTS processed_events (id uuid PRIMARY KEY)",
              "CREATE TABLE IF NOT EXISTS cases (id uuid PRIMARY KEY, application_id uuid NOT NULL UNIQUE, "
              "township_id text NOT NULL, opened_at timestamptz NOT NULL DEFAULT now())"],
}
INSERT_APPLICATION = text("INSERT INTO applications (id, township_id, body) VALUES (:id, :tid, :body)")
INSERT_OUTBOX = text("INSERT INTO outbox (id, type, body) VALUES (:id, 'application_accepted', :body)")
INSERT_PROCESSED = text("INSERT INTO processed_events (id) VALUES (:id) ON CONFLICT DO NOTHING")
INSERT_CASE = text("INSERT INTO cases (id, application_id, township_id) VALUES (:id, :aid, :tid)")

engine = None


class BoundIntake:
    name = "bound_intake"
    dispatch = EventDispatcher()

    @rpc
    def submit(self, body):
        app_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        event = {"id": event_id, "application_id": app_id, "township_id": "t1"}
        with engine.begin() as conn:
            conn.execute(INSERT_APPLICATION, {"id": app_id, "tid": "t1", "body": json.dumps(body)})
            conn.execute(INSERT_OUTBOX, {"id": event_id, "body": json.dumps(event)})
        self.dispatch("application_accepted", event)
        return {"id": app_id}


class BoundCases:
    name = "bound_cases"

    @event_handler("bound_intake", "application_accepted")
    def on_accepted(self, event):
        with engine.begin() as conn:
            if conn.execute(INSERT_PROCESSED, {"id": event["id"]}).rowcount:
                conn.execute(INSERT_CASE, {"id": str(uuid.uuid4()), "aid": event["application_id"],
                                           "tid": event["township_id"]})


BoundGateway = http_to_rpc("bound_gateway", "/applications", "bound_intake", "submit")


ROLES = {"gateway": BoundGateway, "intake": BoundIntake, "cases": BoundCases}


def prepare(role: str, url: str) -> None:
    """Create the role's tables (idempotent)."""
    setup = create_engine(url)
    try:
        with setup.begin() as conn:
            for statement in SCHEMA.get(role, []):
                conn.execute(text(statement))
    finally:
        setup.dispose()


def main():
    global engine
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=sorted(ROLES), required=True)
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--db", help="PostgreSQL URL (intake, cases)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (gateway)")
    args = parser.parse_args()
    if args.role != "gateway":
        prepare(args.role, args.db)
        engine = create_engine(args.db, pool_size=workers(args.role) + 3, max_overflow=5)  # as db.make_engine
    config = {"AMQP_URI": args.amqp, "max_workers": workers(args.role), "serializer": "json"}
    if args.port:
        config["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{args.port}"
    serve(config, ROLES[args.role])


if __name__ == "__main__":
    main()
