"""The position book is built from the journal's fills once per change, not per read.

A book reused after a fill or a baseline changed would let risk see a stale position, so
both changes are checked to rebuild it; reuse itself is checked through object identity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ConId, ExecutionId
from catalyst_ibkr.ports.broker import ExecutionReport
from catalyst_ibkr.service.journal import Journal, connect, migrate
from catalyst_ibkr.service.positions import PositionManager

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
AAPL = ConId(265598)


def _journal(tmp_path: Path) -> Journal:
    engine = connect(f"sqlite:///{tmp_path / 'journal.db'}")
    migrate(engine)
    return Journal(engine)


def _fill(journal: Journal, exec_id: str, qty: str, at: datetime) -> None:
    report = ExecutionReport(ExecutionId(exec_id), None, BrokerOrderId("1"),
                             AccountId("DU1234567"), AAPL, "AAPL", Side.BUY, Decimal(qty),
                             Decimal("100"), at)
    assert journal.record_execution(report, None, at)


def test_the_book_is_reused_until_a_fill_lands(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    manager = PositionManager(journal)
    _fill(journal, "e1", "10", NOW)
    first, _ = manager.book()
    assert first.quantity(AAPL) == 10
    again, _ = manager.book()
    assert again is first  # nothing changed: not replayed
    _fill(journal, "e2", "5", NOW + timedelta(seconds=1))
    after, symbols = manager.book()
    assert after is not first and after.quantity(AAPL) == 15 and symbols[int(AAPL)] == "AAPL"


def test_a_fill_written_by_another_process_is_seen(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    mine = PositionManager(journal)
    assert mine.book()[0].quantity(AAPL) == 0
    other = Journal(connect(f"sqlite:///{tmp_path / 'journal.db'}"))
    _fill(other, "e1", "7", NOW)
    assert mine.book()[0].quantity(AAPL) == 7


def test_new_baselines_rebuild_the_book(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    manager = PositionManager(journal)
    _fill(journal, "e1", "10", NOW)
    before, _ = manager.book()
    journal.set_baselines({int(AAPL): ("AAPL", Decimal(100), Decimal("90"))}, NOW)
    after, _ = manager.book()
    assert after is not before and after.quantity(AAPL) == 110
