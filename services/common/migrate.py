"""Alembic migrations, one history per service (``services/<service>/migrations``).

    python -m services.common.migrate upgrade cases            # to head (the run command does this)
    python -m services.common.migrate revision cases -m "add x" # autogenerate a new revision

A service's ``migrations/env.py`` is one line: ``run_env(Base.metadata)``.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

from . import config as cfg

TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
from alembic import op
import sqlalchemy as sa
import services.common.db
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


def package_dir(service: str) -> Path:
    module = "gateway" if service == "gateway" else f"services.{service}"
    return Path(importlib.import_module(module).__file__).parent


def alembic_config(service: str, url: str | None = None) -> Config:
    script_location = package_dir(service) / "migrations"
    (script_location / "versions").mkdir(parents=True, exist_ok=True)
    template = script_location / "script.py.mako"
    if not template.exists():
        template.write_text(TEMPLATE)
    conf = Config()
    conf.set_main_option("script_location", str(script_location))
    conf.set_main_option("sqlalchemy.url", (url or cfg.database_url(service)).replace("%", "%%"))
    conf.attributes["service"] = service
    return conf


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def run_env(metadata) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    conf = context.config
    url = conf.get_main_option("sqlalchemy.url")
    render_as_batch = url.startswith("sqlite")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=render_as_batch)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(conf.get_section(conf.config_ini_section) or {"sqlalchemy.url": url},
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        if connection.dialect.name == "postgresql":
            # several replicas may start at once: one migrates, the others wait, then find head
            from sqlalchemy import text

            connection.execute(text("SELECT pg_advisory_lock(7301)"))
            connection.commit()
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=render_as_batch)
        with context.begin_transaction():
            context.run_migrations()


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("upgrade")
    up.add_argument("service", nargs="+")
    rev = sub.add_parser("revision")
    rev.add_argument("service")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "upgrade":
        for service in args.service:
            upgrade(service)
    else:
        command.revision(alembic_config(args.service), message=args.message, autogenerate=True)


if __name__ == "__main__":
    main()
