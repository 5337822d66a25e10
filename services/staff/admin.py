"""Platform administration on staff's own database (whoever can reach it runs the platform).

    python -m services.staff.admin create-operator USERNAME
    python -m services.staff.admin reset-operator USERNAME

``create-operator`` opens an operator account and prints its one-time activation code (valid
``STAFF_ACTIVATION_DAYS``, default 7). The operator then sets a password and signs in::

    curl -X POST $G/accounts/activation -H 'Content-Type: application/json' \\
         -d '{"username": "…", "code": "…", "password": "…"}'
    curl -X POST $G/sessions -H 'Content-Type: application/json' -d '{"username": "…", "password": "…"}'

``reset-operator`` issues a new code for a forgotten password (the old password and every
session end). The database is ``STAFF_DATABASE_URL`` (default ``var/staff.db``); migrations
are applied first. A running staff service publishes the account's events from the outbox.
"""
from __future__ import annotations

import argparse
import sys

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.common import config as cfg
from services.common.clock import SystemClock
from services.common.db import UnitOfWork, make_engine
from services.common.errors import DomainError, NotFound
from services.common.migrate import upgrade

from . import accounts
from .models import Account, Base


def unit_of_work(url: str):
    engine = make_engine(url)
    session = sessionmaker(engine, expire_on_commit=False)()
    return engine, UnitOfWork(session, Base.common, "staff", None, SystemClock(), call_id="admin-cli")


def run(command: str, username: str, url: str | None = None) -> dict:
    url = url or cfg.database_url("staff")
    upgrade("staff", url)
    engine, uow = unit_of_work(url)
    try:
        if command == "create-operator":
            made = accounts.create_operator(uow, username, by="admin-cli")
        else:
            account = uow.session.scalar(select(Account).where(Account.username == accounts.normalise(username),
                                                               Account.kind == "operator"))
            if account is None:
                raise NotFound(f"no operator {username}")
            account.password_hash = None
            uow.session.flush()
            accounts.bump(uow, account)
            made = accounts._new_code(uow, account)
        uow.session.commit()
        return made
    except BaseException:
        uow.session.rollback()
        raise
    finally:
        uow.session.close()
        engine.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["create-operator", "reset-operator"])
    parser.add_argument("username")
    args = parser.parse_args(argv)
    try:
        made = run(args.command, args.username)
    except DomainError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1
    print(f"operator {made['username']}: one-time activation code {made['activation_code']} "
          f"(valid until {made['code_expires_at']}); set a password with POST /accounts/activation, "
          "then sign in with POST /sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
