"""The journal on SQLite files and PostgreSQL: migrations, idempotent writes, CAS updates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from catalyst_ibkr.core.enums import OrderType, Side, TradingState
from catalyst_ibkr.core.ids import BrokerOrderId, ConId, ExecutionId, SignalId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_factory import orders_from_signal
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.ports.broker import ExecutionReport
from catalyst_ibkr.service.journal import Journal, StaleWrite, connect, migrate
from catalyst_ibkr.service.journal.schema import metadata
from catalyst_ibkr.service.journal.store import EventDraft

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
AAPL = Instrument(conid=ConId(265598), symbol="AAPL")


_ENGINES: list[Engine] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while _ENGINES:
        _ENGINES.pop().dispose()


def _journal(url: str) -> Journal:
    engine = connect(url)
    _ENGINES.append(engine)
    migrate(engine)
    return Journal(engine)


def _signal(sid: str = "s-1", **kw: object) -> Signal:
    body: dict[str, object] = {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": "10",
                               "order_type": "LMT", "limit_price": "100.05"}
    body.update(kw)
    return Signal.from_mapping(body, NOW)


def test_migrations_are_idempotent_and_match_the_metadata(db_url: str) -> None:
    engine = connect(db_url)
    _ENGINES.append(engine)
    migrate(engine)
    migrate(engine)  # a second start finds head and changes nothing
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    names = set(inspect(engine).get_table_names())
    assert {"signals", "orders", "order_events", "executions", "questions", "operator_state",
            "operator_audit", "service_events", "reconciliation_runs"} <= names
    columns = " ".join(c["name"] for table in names for c in inspect(engine).get_columns(table))
    for word in ("password", "secret", "token", "cookie", "api_key"):
        assert word not in columns


def test_sqlite_runs_wal_with_full_sync(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    _ENGINES.append(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_signal_round_trips_exactly_and_a_second_insert_returns_the_first(db_url: str) -> None:
    journal = _journal(db_url)
    signal = _signal(ttl_s="2.5", take_profit="110", stop_loss="95.5", strategy="mom")
    record, created = journal.insert_signal(signal, "fp-1", NOW)
    assert created and record.status == "RECEIVED"
    assert record.signal == signal
    assert record.signal.expires_at == NOW + timedelta(seconds=2.5)
    again, created_again = journal.insert_signal(_signal(quantity="99"), "fp-2", NOW)
    assert not created_again
    assert again.fingerprint == "fp-1" and again.signal.quantity == Decimal(10)


def test_settle_is_a_compare_and_swap_and_journals_intents_atomically(db_url: str) -> None:
    journal = _journal(db_url)
    signal = _signal(take_profit="110", stop_loss="95")
    journal.insert_signal(signal, "fp", NOW)
    orders = orders_from_signal(signal, AAPL)
    for order in orders:
        order.mark_submitting(NOW)
    assert journal.settle_signal("s-1", expect="RECEIVED", status="PENDING_SUBMIT", now=NOW,
                                 new_orders=orders, events=[EventDraft("signal", {"id": "s-1"})])
    # A second writer that read RECEIVED earlier loses and writes nothing.
    assert not journal.settle_signal("s-1", expect="RECEIVED", status="DENIED", now=NOW)
    stored = journal.orders(signal_id="s-1")
    assert [r.order_ref for r in stored] == sorted(str(o.client_order_id) for o in orders)
    assert stored[1].parent_ref == str(signal.client_order_id)
    assert all(r.order.status.value == "PENDING_SUBMIT" for r in stored)
    assert journal.get_signal("s-1").status == "PENDING_SUBMIT"  # type: ignore[union-attr]
    assert [e.kind for e in journal.events_after(0)] == ["signal"]


def test_order_updates_are_versioned_so_a_stale_writer_fails(db_url: str) -> None:
    journal = _journal(db_url)
    signal = _signal()
    journal.insert_signal(signal, "fp", NOW)
    (order,) = orders_from_signal(signal, AAPL)
    order.mark_submitting(NOW)
    journal.settle_signal("s-1", expect="RECEIVED", status="PENDING_SUBMIT", now=NOW,
                          new_orders=[order])
    first = journal.load_order(str(order.client_order_id))
    second = journal.load_order(str(order.client_order_id))
    assert first is not None and second is not None
    first.order.accept(NOW, BrokerOrderId("77"))
    journal.save_order(first, NOW)
    second.order.mark_in_doubt(NOW)
    with pytest.raises(StaleWrite):
        journal.save_order(second, NOW)
    reloaded = journal.find_order("77")
    assert reloaded is not None and reloaded.order.status.value == "SUBMITTED"
    # the lease is a CAS too: a holder that is alive keeps it
    assert journal.take_lease(reloaded, "proc-a", NOW + timedelta(seconds=30), NOW)
    other = journal.load_order(str(order.client_order_id))
    assert other is not None
    assert not journal.take_lease(other, "proc-b", NOW + timedelta(seconds=30), NOW)
    assert journal.take_lease(other, "proc-b", NOW + timedelta(seconds=90), NOW
                              + timedelta(seconds=31))


def test_a_replayed_execution_is_a_no_op(db_url: str) -> None:
    journal = _journal(db_url)
    report = ExecutionReport(
        execution_id=ExecutionId("e-1"), client_order_id=None, broker_order_id=BrokerOrderId(5),
        account="DU1", conid=ConId(265598), symbol="AAPL", side=Side.BUY,  # type: ignore[arg-type]
        quantity=Decimal("3"), price=Decimal("100.123456789"), time=NOW,
    )
    assert journal.record_execution(report, None, NOW)
    assert not journal.record_execution(report, None, NOW)
    ((ref, symbol, fill),) = journal.fills()
    assert ref is None and symbol == "AAPL"
    assert fill.price == Decimal("100.123456789") and fill.time == NOW


def test_events_are_numbered_monotonically_and_resumable(db_url: str) -> None:
    journal = _journal(db_url)
    journal.append_events(NOW, [EventDraft("health", {"ok": True}), EventDraft("alert", {})])
    journal.append_events(NOW, [EventDraft("order", {"qty": Decimal("1.5")})])
    events = journal.events_after(0)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert len({e.id for e in events}) == 3
    assert [e.kind for e in journal.events_after(events[0].id)] == ["alert", "order"]
    assert journal.events_after(events[1].id)[0].data == {"qty": "1.5"}
    assert journal.last_event_id() == events[-1].id


def test_operator_state_persists_with_an_audit_trail(db_url: str) -> None:
    journal = _journal(db_url)
    assert journal.trading_state()[0] is TradingState.ACTIVE
    journal.set_trading_state(TradingState.HALTED, "ops@desk", NOW, "kill")
    journal.set_kill_pending(True)
    again = _journal(db_url)
    state, actor, at = again.trading_state()
    assert (state, actor, at) == (TradingState.HALTED, "ops@desk", NOW)
    assert again.kill_pending()
    assert [e["action"] for e in again.audit_entries()] == ["set_trading_state"]


def test_signal_ids_are_unique_across_signals(db_url: str) -> None:
    journal = _journal(db_url)
    for i in range(3):
        journal.insert_signal(_signal(f"s-{i}", order_type="MKT", limit_price=None), "f", NOW)
    assert [r.signal.id for r in journal.signals_with_status("RECEIVED")] == [
        SignalId(f"s-{i}") for i in range(3)
    ]
    assert OrderType.MKT is journal.get_signal("s-0").signal.order_type  # type: ignore[union-attr]


def test_a_save_keeps_the_lease_unless_told_and_clears_in_doubt_once_resolved(
    db_url: str,
) -> None:
    journal = _journal(db_url)
    signal = _signal()
    journal.insert_signal(signal, "fp", NOW)
    (order,) = orders_from_signal(signal, AAPL)
    order.mark_submitting(NOW)
    until = NOW + timedelta(seconds=30)
    journal.settle_signal("s-1", expect="RECEIVED", status="PENDING_SUBMIT", now=NOW,
                          new_orders=[order], lease_owner="proc-a", lease_until=until)
    ref = str(order.client_order_id)
    record = journal.load_order(ref)
    assert record is not None
    record.order.mark_in_doubt(NOW)
    journal.save_order(record, NOW, in_doubt_since=NOW)
    again = journal.load_order(ref)
    assert again is not None
    assert (again.lease_owner, again.lease_until, again.in_doubt_since) == ("proc-a", until, NOW)
    again.order.accept(NOW, BrokerOrderId("9"))
    journal.save_order(again, NOW)
    final = journal.load_order(ref)
    assert final is not None and final.in_doubt_since is None and final.lease_owner == "proc-a"


def _brief(records: list) -> list[tuple[str, int, str, Decimal]]:  # type: ignore[type-arg]
    return [(r.order_ref, r.version, r.order.status.value, r.order.filled_quantity)
            for r in records]


def test_read_orders_matches_orders_and_decodes_only_what_changed(db_url: str) -> None:
    """The risk context's read: the same records as `orders`, each decoded once per version
    (shared between reads), and every change - a save or a fill - seen at once."""
    journal = _journal(db_url)
    for sid, extra in (("s-1", {"take_profit": "110", "stop_loss": "95"}), ("s-2", {})):
        signal = _signal(sid, **extra)
        journal.insert_signal(signal, "fp", NOW)
        orders = orders_from_signal(signal, AAPL)
        for order in orders:
            order.mark_submitting(NOW)
        journal.settle_signal(sid, expect="RECEIVED", status="PENDING_SUBMIT", now=NOW,
                              new_orders=orders)
    first = journal.read_orders()
    assert len(first) == 4 and _brief(first) == _brief(journal.orders())
    again = journal.read_orders()
    assert all(a is b for a, b in zip(first, again, strict=True))  # nothing re-decoded

    s2 = journal.load_order(str(_signal("s-2").client_order_id))
    assert s2 is not None
    s2.order.accept(NOW, BrokerOrderId("88"))
    s2 = journal.save_order(s2, NOW)
    report = ExecutionReport(
        execution_id=ExecutionId("e-9"), client_order_id=s2.order.client_order_id,
        broker_order_id=BrokerOrderId("88"), account="DU1",  # type: ignore[arg-type]
        conid=ConId(265598), symbol="AAPL", side=Side.BUY, quantity=Decimal("4"),
        price=Decimal("100.05"), time=NOW,
    )
    s2.order.apply_fill(report.to_fill())
    assert journal.record_fill(s2, report, NOW)
    after = journal.read_orders()
    assert _brief(after) == _brief(journal.orders())
    changed = {r.order_ref for r in after if r not in first}
    assert changed == {s2.order_ref}
    (filled,) = [r for r in after if r.order_ref == s2.order_ref]
    assert filled.order.status.value == "PARTIALLY_FILLED"
    assert filled.order.filled_quantity == Decimal("4")
    assert _brief(journal.read_orders(statuses=("PARTIALLY_FILLED",))) == _brief([filled])
    assert journal.read_orders(created_since=NOW + timedelta(seconds=1)) == []
