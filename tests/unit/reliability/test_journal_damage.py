"""Reliability (b)14 and (a)27: a damaged journal is found at start, never traded on blindly.

Three kinds of damage, each checked against a real SQLite file:
- not a database at all (overwritten, wrong file): start refuses with a sentence naming the
  file and what to do, the file is left untouched;
- a committed journal cut short (disk full, bad copy): `quick_check` at start finds the
  missing pages instead of the first read failing mid-trading;
- a torn last write-ahead-log frame (power loss while appending): SQLite's frame checksums
  drop the torn transaction, every earlier commit is still there, and the journal opens.
A PostgreSQL journal that cannot be reached is refused the same way, without its password.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.journal import Journal, JournalUnreadable, connect, migrate

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
_ENGINES: list[Engine] = []


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    yield
    while _ENGINES:
        _ENGINES.pop().dispose()


def _open(path: Path) -> Journal:
    engine = connect(f"sqlite:///{path}")
    _ENGINES.append(engine)
    migrate(engine)
    return Journal(engine)


def _signal(n: int) -> Signal:
    return Signal.from_mapping({"id": f"s-{n}", "symbol": "AAPL", "side": "BUY",
                                "quantity": "1", "order_type": "MKT"}, NOW)


def _journal_with(path: Path, count: int) -> Journal:
    journal = _open(path)
    for n in range(count):
        journal.insert_signal(_signal(n), f"fp-{n}", NOW)
    return journal


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    garbage = bytes(range(256)) * 32
    path.write_bytes(garbage)
    with pytest.raises(JournalUnreadable) as caught:
        _open(path)
    message = str(caught.value)
    assert str(path) in message and "not a database" in message
    assert "move it aside" in message and "Nothing was sent" in message
    assert path.read_bytes() == garbage  # evidence kept for the operator


def test_a_journal_cut_short_is_found_at_start(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    _journal_with(path, 400)
    while _ENGINES:  # checkpoint the WAL into the main file, then close
        _ENGINES.pop().dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    assert size > 16 * 4096, size  # enough pages that cutting loses rows and index pages
    with path.open("r+b") as handle:
        handle.truncate(size // 2 + 123)  # mid-page, like a torn copy
    with pytest.raises(JournalUnreadable) as caught:
        _open(path)
    assert str(path) in str(caught.value)


def test_a_damaged_page_the_start_does_not_read_is_found_by_the_integrity_check(
    tmp_path: Path,
) -> None:
    # Opening and migrating read only the schema; without the integrity check this journal
    # would start and fail at the first read of a signal row, mid-trading.
    path = tmp_path / "journal.db"
    _journal_with(path, 400)
    while _ENGINES:
        _ENGINES.pop().dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = path.stat().st_size // 4096
    with path.open("r+b") as handle:
        handle.seek((pages // 2) * 4096 + 100)
        handle.write(b"\xff" * 2000)
    with pytest.raises(JournalUnreadable) as caught:
        _open(path)
    assert "database is damaged" in str(caught.value)
    assert "***" not in str(caught.value)


def test_a_torn_last_wal_frame_drops_only_the_torn_commit(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    journal = _journal_with(live, 5)
    # Snapshot the files the way a SIGKILL leaves them: main file plus an unchecked WAL.
    crashed = tmp_path / "crashed.db"
    shutil.copy(live, crashed)
    wal = Path(f"{live}-wal")
    assert wal.stat().st_size > 0, "the test needs commits still in the WAL"
    before_last = wal.stat().st_size
    journal.insert_signal(_signal(5), "fp-5", NOW)
    tail = wal.stat().st_size
    assert tail > before_last
    torn = wal.read_bytes()[: before_last + (tail - before_last) // 2]
    Path(f"{crashed}-wal").write_bytes(torn)

    reopened = _open(crashed)  # starts: no exception
    for n in range(5):
        record = reopened.get_signal(f"s-{n}")
        assert record is not None and record.signal == _signal(n), n
    assert reopened.get_signal("s-5") is None  # the torn commit is gone, nothing half-applied
    # and the journal takes writes again (the id is free, as its 202 never went out)
    record, created = reopened.insert_signal(_signal(5), "fp-5", NOW)
    assert created and record.status == "RECEIVED"


def test_an_unreachable_postgres_journal_is_refused_without_its_password() -> None:
    engine = connect("postgresql+psycopg://trader:s3cret-pw@127.0.0.1:1/journal"
                     "?connect_timeout=2")
    _ENGINES.append(engine)
    with pytest.raises(JournalUnreadable) as caught:
        migrate(engine)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "127.0.0.1:1" in message and "cannot open the journal" in message
