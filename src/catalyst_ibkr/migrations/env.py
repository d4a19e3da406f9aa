"""Alembic environment: use the caller's connection when given (programmatic upgrade),
else build an engine from `-x db_url=...` or CATALYST_DB_URL (CLI use)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from catalyst_ibkr.service.journal.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("db_url") or os.environ.get(
        "CATALYST_DB_URL"
    )
    if not url:
        raise SystemExit("give the database with -x db_url=URL or CATALYST_DB_URL")
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported; run against a database")
_main()
