"""Open the journal database and bring its schema to the newest migration.

Why these SQLite settings: WAL lets readers (the API) run beside the single writer;
`synchronous=FULL` makes a commit durable before we answer or send (the write-ahead rule:
the intent is on disk before the order leaves); a busy timeout turns a second process's
momentary lock into a short wait instead of an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

__all__ = ["BUSY_TIMEOUT_MS", "JournalUnreadable", "connect", "migrate"]

BUSY_TIMEOUT_MS = 5000


def connect(db_url: str) -> Engine:
    """An Engine for `sqlite:///PATH` or `postgresql+psycopg://...` with journal settings."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ValueError(
        f"database URL must be sqlite:///PATH or postgresql+psycopg://..., got {url.drivername!r}"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


class JournalUnreadable(Exception):
    """The journal cannot be opened or migrated (not a database, corrupted, unreachable).

    Why a type of its own: starting without the journal would mean trading without the
    write-ahead record, so the service must refuse to start, and the person starting it needs
    a sentence saying which database and what to do, not a driver traceback. The message
    never carries the database password.
    """

    def __init__(self, engine: Engine, cause: BaseException) -> None:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(cause, "orig", None) or cause).splitlines()[0]
        super().__init__(
            f"cannot open the journal {where}: {reason}. Nothing was sent. If the file is "
            "damaged, move it aside and start on a fresh one (the startup reconciliation then "
            "imports IBKR's orders and positions and halts until you check them), or restore "
            "it from a backup; check --db / [oms] db_url if it is the wrong path."
        )


def alembic_config() -> Config:
    """The shipped migrations as an Alembic Config (no URL: the caller supplies a connection)."""
    location = resources.files("catalyst_ibkr") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade to head. Idempotent; safe when several processes start at once on PostgreSQL
    (an advisory lock serialises them)."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(742501)")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if connection.dialect.name == "sqlite":
                _check_integrity(connection.exec_driver_sql("PRAGMA quick_check").all())
    except DBAPIError as exc:
        raise JournalUnreadable(engine, exc) from exc


def _check_integrity(rows: Sequence[Any]) -> None:
    """A damaged page may open fine and only fail at the first read of a row, mid-trading;
    `quick_check` finds it at start instead (O(size), fine for a day's journal)."""
    lines = [line.strip() for row in rows for line in str(row[0]).splitlines()]
    problems = [line for line in lines if line and line != "ok" and not line.startswith("***")]
    if problems:
        raise _Damaged("; ".join(problems[:3]))


class _Damaged(DBAPIError):
    """quick_check's findings, shaped like a driver error so one handler reports both."""

    def __init__(self, detail: str) -> None:
        super().__init__("PRAGMA quick_check", None, Exception(f"database is damaged: {detail}"))
