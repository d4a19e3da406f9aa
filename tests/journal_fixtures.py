"""pytest plugin: journal databases for the OMS tests (SQLite files and PostgreSQL).

``db_url`` is parametrized over both: a fresh SQLite file per test, and a throwaway schema
in the local PostgreSQL (``CATALYST_TEST_PG``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped afterwards. Where PostgreSQL
is unreachable the PostgreSQL half skips with the reason. ``pg_url`` / ``sqlite_url`` give
one of them directly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BASE = os.environ.get(
    "CATALYST_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_schema_url() -> Iterator[str]:
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_BASE, connect_args={"connect_timeout": 2})
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any connection failure means: no PostgreSQL here
        pytest.skip(f"PostgreSQL not reachable at {PG_BASE} ({type(exc).__name__}); "
                    "set CATALYST_TEST_PG or start it to run the PostgreSQL half")
    schema = f"oms_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'journal.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.db'}"
    else:
        yield from _pg_schema_url()
