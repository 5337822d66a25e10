"""Seed the demo township 青山镇 when the system is empty, through the services' RPCs (so every
event flows as in real use); either way, make sure the demo people can sign in and return their
user names and passwords (random, kept in ``var/demo-accounts.json``, readable by its owner
only)."""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import secrets
from contextlib import contextmanager

from services.common.green import patch

patch()

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from services.common import config as cfg  # noqa: E402
from services.common.errors import Conflict, DomainError, NotFound  # noqa: E402
from services.staff import demo as staff_demo  # noqa: E402

AREAS = ("discipline", "intake", "cases", "complaints", "lending")
#: the broker is trusted: whoever reaches it may act as the platform (as the admin command may)
OPERATOR_CONTEXT = {"roles": ["operator"], "user_id": "seed-demo"}
#: who of the demo township gets an account printed by ``make run``: person key → user name
DEMO_ACCOUNTS = {
    "director": "qingshan.director",
    "clerk_civil_a": "qingshan.wang",
    "clerk_civil_b": "qingshan.li",
    "head_civil": "qingshan.chen",
    "inspector": "qingshan.cao",
    "complaints": "qingshan.peng",
    "guard_1": "qingshan.luo",
    "clerk_fees_a": "qingshan.qian",  # C8: the fee window's clerk
    "agent_1": "qingshan.xie",  # I6: the village agent of 柳溪村
}
DEMO_OPERATOR = "demo-operator"


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


def accounts_file():
    return cfg.var_dir() / "demo-accounts.json"


def _saved() -> dict:
    try:
        return json.loads(accounts_file().read_text())
    except (OSError, ValueError):
        return {}


def _save(accounts: dict) -> None:
    path = accounts_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(accounts, fh, ensure_ascii=False, indent=1)


def _works(staff, username: str, password: str | None) -> bool:
    if not password:
        return False
    try:
        staff.start_session(username, password)
        return True
    except DomainError:
        return False


def demo_accounts(township: dict, people: dict, amqp_uri: str | None = None) -> list[dict]:
    """Every demo account that can sign in, made (or re-made with a new password) when the
    saved password no longer works (a fresh database, or var/ cleared)."""
    saved = _saved()
    out = []
    with cluster(OPERATOR_CONTEXT, amqp_uri) as op, \
            cluster({"township_id": township["id"], "roles": ["director"], "user_id": "seed-demo"}, amqp_uri) as d:
        for key, username in DEMO_ACCOUNTS.items():
            person = people[key]
            password = saved.get(username)
            if not _works(op.staff, username, password):
                password = secrets.token_urlsafe(9)
                made = d.staff.create_account(person["id"], username)
                op.staff.activate_account(username, made["activation_code"], password)
            out.append({"key": key, "name": person["name"], "roles": person["roles"], "username": username,
                        "password": password})
        username, password = saved.get("operator:username", DEMO_OPERATOR), saved.get("operator:password")
        if not _works(op.staff, username, password):
            password = secrets.token_urlsafe(9)
            try:
                made = op.staff.create_operator(username)
            except Conflict:  # the saved password was lost: a new operator account
                username = f"{DEMO_OPERATOR}-{secrets.token_hex(3)}"
                made = op.staff.create_operator(username)
            op.staff.activate_account(username, made["activation_code"], password)
        out.append({"key": "operator", "name": "operator", "roles": ["operator"], "username": username,
                    "password": password})
    keep = {a["username"]: a["password"] for a in out if a["key"] != "operator"}
    keep.update({"operator:username": username, "operator:password": password})
    _save(keep)
    return out


def seed_if_empty(amqp_uri: str | None = None) -> dict:
    """Seed when the demo township does not exist; return its name and the demo people's user
    names and passwords (``accounts``: key, name, roles, username, password)."""
    with cluster(OPERATOR_CONTEXT, amqp_uri) as op:
        try:
            township = op.staff.resolve_township(staff_demo.TOWNSHIP["code"])
        except NotFound:
            township = None
    if township is None:
        print("seeding the demo township 青山镇 …", flush=True)
        township = seed(amqp_uri)["township"]
    with cluster({"township_id": township["id"], "roles": ["director"], "user_id": "seed"}, amqp_uri) as c:
        by_badge = {p["badge_no"]: p for p in c.staff.list_people()}
    people = {"director": by_badge[staff_demo.TOWNSHIP["director"]["badge_no"]]}
    people.update({key: by_badge[row[5]] for key, row in staff_demo.PEOPLE.items()})
    return {"name": township["name"], "code": township["code"],
            "accounts": demo_accounts(township, people, amqp_uri)}


if __name__ == "__main__":
    info = seed_if_empty()
    for account in info["accounts"]:
        print(f"{account['key']:<15} {account['username']:<20} {account['password']}")
