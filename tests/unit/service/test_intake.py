"""Signal intake: journaled before the answer, idempotent, risk on every signal."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.errors import IdempotencyConflict, InvalidRequest
from oms_harness import Harness, fingerprint, settings_with


async def test_intake_journals_without_calling_the_broker_and_survives_a_restart(
    harness: Harness,
) -> None:
    svc = await harness.service()
    before = len(harness.broker.calls)
    view = await harness.submit(svc, "s-1")
    assert view.status == "RECEIVED" and view.client_order_id.startswith("s-1-")
    assert len(harness.broker.calls) == before  # intake never waits on the broker
    await harness.crash(svc)
    again = await harness.service()
    stored = await again.get_signal("s-1")
    assert stored is not None and stored.quantity == Decimal(10)
    await harness.step(again)
    assert (await again.get_signal("s-1")).status == "SUBMITTED"  # type: ignore[union-attr]
    assert harness.broker_orders("s-1") == 1


async def test_same_id_and_body_returns_the_first_answer_and_sends_once(harness: Harness) -> None:
    svc = await harness.service()
    first = await harness.submit(svc, "dup")
    await harness.step(svc)
    second = await harness.submit(svc, "dup")
    assert second.id == first.id and second.received_at == first.received_at
    await harness.step(svc)
    assert harness.broker_orders("dup") == 1 and harness.places() == 1


async def test_concurrent_duplicates_all_get_the_first_answer(harness: Harness) -> None:
    svc = await harness.service()
    body = {"id": "race", "symbol": "AAPL", "side": "BUY", "quantity": "5", "order_type": "MKT"}
    signals = [Signal.from_mapping(body, harness.clock.now()) for _ in range(20)]
    views = await asyncio.gather(
        *(svc.submit_signal(s, body_fingerprint=fingerprint(body)) for s in signals)
    )
    assert {(v.id, v.received_at, v.status) for v in views} == {
        ("race", views[0].received_at, "RECEIVED")
    }
    await asyncio.gather(harness.step(svc), svc.oms.run_once(), svc.oms.run_once())
    await harness.step(svc)
    assert harness.broker_orders("race") == 1


async def test_same_id_different_body_is_a_conflict_and_changes_nothing(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "s-1", quantity="10")
    with pytest.raises(IdempotencyConflict, match="different body"):
        await harness.submit(svc, "s-1", quantity="11")
    assert (await svc.get_signal("s-1")).quantity == Decimal(10)  # type: ignore[union-attr]
    (entry,) = svc.oms.ctx.journal.audit_entries()
    assert entry["action"] == "idempotency_conflict" and "s-1" in entry["detail"]


async def test_a_risk_denial_is_recorded_and_makes_no_broker_command(harness: Harness) -> None:
    svc = await harness.service()
    view = await harness.submit(svc, "big", quantity="5000")
    await harness.step(svc)
    denied = await svc.get_signal("big")
    assert denied is not None and denied.status == "DENIED"
    assert denied.reason_code == "QUANTITY_EXCEEDS_MAX" and denied.risk_decision == "DENIED"
    assert view.status == "RECEIVED"
    assert harness.places() == 0 and harness.broker_orders("big") == 0


async def test_unknown_symbol_is_denied_not_sent(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "zz", symbol="ZZZZ")
    await harness.step(svc)
    view = await svc.get_signal("zz")
    assert view is not None and view.reason_code == "INSTRUMENT_NOT_FOUND"
    assert harness.places() == 0


async def test_halted_denies_new_signals(harness: Harness) -> None:
    svc = await harness.service()
    risk = await svc.set_trading_state(TradingState.HALTED, actor="ops")
    assert risk.trading_state == "HALTED" and risk.trading_state_changed_by == "ops"
    await harness.submit(svc, "h-1")
    await harness.step(svc)
    view = await svc.get_signal("h-1")
    assert view is not None and view.reason_code == "TRADING_HALTED"
    assert harness.places() == 0
    with pytest.raises(InvalidRequest, match="actor"):
        await svc.set_trading_state(TradingState.ACTIVE, actor=" ")


async def test_working_and_in_doubt_orders_count_against_limits(harness: Harness) -> None:
    # A position cap of 1000 shares: an in-doubt 400 and a working 400 leave room for 200.
    harness.settings = settings_with("[risk]\nmax_position_quantity = 1000\n")
    svc = await harness.service()
    harness.broker.unknown_next("place", landed=False)
    await harness.submit(svc, "a", quantity="400")
    await harness.step(svc)
    assert (await svc.get_signal("a")).status == "IN_DOUBT"  # type: ignore[union-attr]
    await harness.submit(svc, "b", quantity="400")
    await harness.submit(svc, "c", quantity="400")
    await harness.step(svc)
    c = await svc.get_signal("c")
    assert c is not None and c.status == "DENIED", c
    assert c.reason_code == "POSITION_EXCEEDS_MAX"


async def test_dry_run_decides_but_never_sends(harness: Harness) -> None:
    from catalyst_ibkr.service.bootstrap import build_service

    svc = build_service(harness.settings, broker=harness.broker, db_url=harness.db_url,
                        clock=harness.clock, dry_run=True, run_workers=False)
    harness.services.append(svc)
    await svc.start()
    await harness.step(svc)
    await harness.submit(svc, "dry")
    await harness.step(svc)
    view = await svc.get_signal("dry")
    assert view is not None and view.risk_decision == "ALLOWED" and view.reason_code == "DRY_RUN"
    assert harness.places() == 0
