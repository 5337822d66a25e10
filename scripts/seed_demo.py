"""Seed the demo township 青山镇 when the system is empty, through the services' RPCs (so every
event flows as in real use); print-ready tokens either way."""
from __future__ import annotations

import importlib
import importlib.util
import os
from contextlib import contextmanager

from services.common.green import patch

patch()

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from gateway import auth  # noqa: E402
from gateway.tokens import OPERATOR_CONTEXT, operator_token  # noqa: E402
from services.common import config as cfg  # noqa: E402
from services.common.errors import NotFound  # noqa: E402
from services.staff import demo as staff_demo  # noqa: E402

AREAS = ("discipline", "intake", "cases", "complaints", "lending")


def person_context(township_id: str, person: dict) -> dict:
    return {"township_id": township_id, "person_id": person["id"], "user_id": person["id"],
            "roles": list(person["roles"])}


@contextmanager
def cluster(context: dict, amqp_uri: str | None = None):
    with ClusterRpcProxy({"AMQP_URI": amqp_uri or cfg.amqp_uri()}, context_data=context, timeout=30) as proxy:
        yield proxy


def demo_organisation(amqp_uri: str | None = None):
    """Create 青山镇's organisation through staff; return ``(org, rpc)`` where
    ``rpc(service, person_key)`` gives an RPC proxy acting as that person (what every
    ``services/<svc>/demo.py`` seed takes)."""
    with cluster(OPERATOR_CONTEXT, amqp_uri) as op:
        @contextmanager
        def director_staff(township_id, director_id):
            with cluster({"township_id": township_id, "person_id": director_id, "user_id": director_id,
                          "roles": ["director"]}, amqp_uri) as c:
                yield c.staff

        org = staff_demo.seed(op.staff, director_staff)

    @contextmanager
    def rpc(service: str, person_key: str):
        with cluster(person_context(org["township"]["id"], org["people"][person_key]), amqp_uri) as c:
            yield getattr(c, service)

    return org, rpc


def seed(amqp_uri: str | None = None, areas=AREAS) -> dict:
    """The whole demo township: organisation, then each area's demo data."""
    org, rpc = demo_organisation(amqp_uri)
    running = os.environ.get("RUN_SERVICES", ",".join(AREAS + ("staff",))).split(",")
    for area in areas:
        if area == "discipline":
            staff_demo.seed_discipline(rpc, org)
        elif area in running and importlib.util.find_spec(f"services.{area}.demo") is not None:
            module = importlib.import_module(f"services.{area}.demo")
            if hasattr(module, "seed"):
                module.seed(rpc, org)
    return org


def seed_if_empty(amqp_uri: str | None = None) -> dict:
    """Seed when the demo township does not exist; return its name and fresh tokens."""
    with cluster(OPERATOR_CONTEXT, amqp_uri) as op:
        try:
            township = op.staff.resolve_township(staff_demo.TOWNSHIP["code"])
        except NotFound:
            township = None
    if township is None:
        print("seeding the demo township 青山镇 …", flush=True)
        township = seed(amqp_uri)["township"]
    with cluster({"township_id": township["id"], "roles": ["director"], "user_id": "seed"}, amqp_uri) as c:
        people = {p["badge_no"]: p for p in c.staff.list_people()}
    director = people[staff_demo.TOWNSHIP["director"]["badge_no"]]
    clerk = people[staff_demo.PEOPLE["clerk_civil_a"][5]]
    with cluster(OPERATOR_CONTEXT, amqp_uri) as op:
        director_record = op.staff.bootstrap_token(township["id"], director["id"], 30)
        clerk_record = op.staff.bootstrap_token(township["id"], clerk["id"], 30)
    return {
        "name": township["name"], "code": township["code"],
        "director_token": auth.sign(director_record),
        "clerk_token": auth.sign(clerk_record),
        "operator_token": operator_token(30, amqp_uri=amqp_uri),
    }


if __name__ == "__main__":
    info = seed_if_empty()
    for k, v in info.items():
        print(f"{k}: {v}")
