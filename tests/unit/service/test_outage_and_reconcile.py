"""Broker-outage hold, TTL expiry during it, startup barrier, drift hold, external orders."""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.enums import Side, TradingState
from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from oms_harness import Harness


async def test_signals_wait_during_an_outage_and_expire_unsent(harness: Harness) -> None:
    svc = await harness.service()
    harness.broker.set_health(connected=False, detail="gateway down")
    await harness.step(svc)
    await harness.submit(svc, "o-1", ttl_s="5")
    await harness.submit(svc, "o-2", ttl_s="120")
    await harness.step(svc, 1)
    assert harness.places() == 0
    assert (await svc.get_signal("o-1")).status == "RECEIVED"  # type: ignore[union-attr]
    await harness.step(svc, 10)
    assert (await svc.get_signal("o-1")).status == "EXPIRED"  # type: ignore[union-attr]
    health = await svc.health(ready=True)
    assert health.ok and not health.ready and health.broker_connected is False
    alerts = [e.data["alert"] for e in svc.oms.ctx.journal.events_after(0) if e.kind == "alert"]
    assert alerts == ["broker_session"]  # raised once, not once per loop
    harness.broker.set_health()
    await harness.step(svc, 1)
    await harness.step(svc, 1)
    assert (await svc.get_signal("o-1")).status == "EXPIRED"  # never sent late
    assert (await svc.get_signal("o-2")).status == "SUBMITTED"  # type: ignore[union-attr]
    assert harness.broker_orders("o-1") == 0 and harness.places() == 1
    assert (await svc.health(ready=True)).ready


async def test_startup_barrier_holds_sends_until_the_broker_is_reconciled(
    harness: Harness,
) -> None:
    harness.broker.set_health(connected=False)
    svc = await harness.service()
    await harness.submit(svc, "b-1")
    await harness.step(svc)
    assert not (await svc.health(ready=False)).startup_complete
    assert harness.places() == 0
    assert (await svc.get_signal("b-1")).status == "RECEIVED"  # type: ignore[union-attr]
    harness.broker.set_health()
    await harness.step(svc, 1)
    await harness.step(svc)
    assert (await svc.health(ready=False)).startup_complete
    assert (await svc.get_signal("b-1")).status == "SUBMITTED"  # type: ignore[union-attr]
    runs = svc.oms.ctx.journal.reconciliation_runs()
    assert runs[0].reason == "startup" and runs[0].outcome == "unavailable"
    assert any(r.reason == "startup" and r.outcome == "ok" for r in runs)


async def test_unexplained_position_drift_raises_the_hold_and_alerts(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "d-1", limit_price="100.02")
    await harness.step(svc)
    assert (await svc.get_signal("d-1")).status == "FILLED"  # type: ignore[union-attr]
    # IBKR now reports 5 more shares than any execution we can see explains.
    conid = (await harness.broker.resolve("AAPL")).conid
    harness.broker._book.positions[conid].quantity += Decimal(5)
    await harness.step(svc, 31)  # periodic reconciliation
    risk = await svc.risk()
    assert risk.broker_hold and any(r.startswith("drift") for r in risk.hold_reasons)
    (position,) = await svc.positions()
    assert position.drift and position.broker_quantity == Decimal(15)
    await harness.submit(svc, "d-2")
    await harness.step(svc)
    assert (await svc.get_signal("d-2")).status == "RECEIVED"  # held, not sent
    assert harness.broker_orders("d-2") == 0
    kinds = [e.kind for e in svc.oms.ctx.journal.events_after(0)]
    assert "alert" in kinds
    harness.broker._book.positions[conid].quantity -= Decimal(5)
    await harness.step(svc, 31)
    assert not (await svc.risk()).broker_hold
    assert (await svc.get_signal("d-2")).status == "SUBMITTED"  # type: ignore[union-attr]


async def test_opening_positions_become_the_baseline_not_drift(harness: Harness) -> None:
    conid = (await harness.broker.resolve("MSFT")).conid
    harness.quote("MSFT", "300.00", "300.05")
    ext = harness.broker.add_external_order("MSFT", Side.BUY, Decimal(7), Decimal("300.05"))
    assert ext.filled_quantity == Decimal(7)
    harness.broker._book.executions.clear()  # yesterday's fill: outside the lookback
    svc = await harness.service()
    assert not (await svc.risk()).broker_hold
    (position,) = await svc.positions()
    assert position.conid == conid and position.quantity == Decimal(7)


async def test_orders_placed_elsewhere_are_adopted_as_external_and_can_be_cancelled(
    harness: Harness,
) -> None:
    svc = await harness.service()
    ext = harness.broker.add_external_order("AAPL", Side.SELL, Decimal(3), Decimal("105.00"))
    await harness.step(svc)
    (order,) = await svc.list_orders(open_only=True)
    assert order.external and order.client_order_id is None
    assert order.broker_order_id == ext.broker_order_id and order.status == "SUBMITTED"
    result = await svc.cancel_order(str(ext.broker_order_id))
    assert result.status == "ACCEPTED"
    await harness.step(svc)
    assert await svc.list_orders(open_only=True) == []
    assert not harness.broker._book.orders[ext.broker_order_id].status.is_working


async def test_external_orders_seen_only_by_reconciliation_are_adopted(harness: Harness) -> None:
    from oms_harness import CrashingBroker

    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    broker.mute_events = True
    harness.broker.add_external_order("AAPL", Side.BUY, Decimal(2), Decimal("90.00"))
    await harness.step(svc, 31)
    orders = await svc.list_orders(open_only=True)
    assert [o.external for o in orders] == [True]


async def test_a_new_journal_on_a_used_account_imports_and_halts(harness: Harness) -> None:
    harness.broker.add_external_order("AAPL", Side.BUY, Decimal(5), Decimal("100.02"))
    harness.broker.add_external_order("AAPL", Side.BUY, Decimal(1), Decimal("90.00"))
    svc = await harness.service()
    risk = await svc.risk()
    assert risk.trading_state == "HALTED" and risk.trading_state_changed_by == "startup:new-journal"
    (order,) = await svc.list_orders(open_only=True)
    assert order.external
    (position,) = await svc.positions()
    assert position.quantity == Decimal(5) and not position.drift
    # a restart on the same journal is not "new" any more; the operator's decision stands
    await svc.set_trading_state(TradingState.ACTIVE, actor="ops")
    await harness.crash(svc)
    again = await harness.service()
    assert (await again.risk()).trading_state == "ACTIVE"


async def test_a_day_order_ibkr_forgot_after_a_day_is_expired_not_left_working(
    harness: Harness,
) -> None:
    svc = await harness.service()
    await harness.submit(svc, "yday")
    await harness.step(svc)
    harness.broker._book.orders.clear()  # the next session: IBKR has forgotten it
    harness.broker._book.by_coid.clear()
    await harness.step(svc, 31)
    assert (await svc.get_signal("yday")).status == "SUBMITTED"  # type: ignore[union-attr]
    await harness.step(svc, 86400)
    assert (await svc.get_signal("yday")).status == "EXPIRED"  # type: ignore[union-attr]
    assert await svc.list_orders(open_only=True) == []


async def test_a_report_without_coid_is_not_adopted_while_one_of_ours_awaits_its_ack(
    harness: Harness,
) -> None:
    from dataclasses import replace

    from catalyst_ibkr.service.oms.apply import apply_report
    from oms_harness import CrashingBroker

    broker = CrashingBroker(harness.broker)
    broker.mute_events = True
    svc = await harness.service(broker=broker)
    harness.broker.unknown_next("place", landed=True)
    await harness.submit(svc, "na")
    await harness.step(svc)
    (ours,) = harness.broker.orders_for(ClientOrderId.for_signal(SignalId("na")))
    ctx = svc.oms.ctx
    assert apply_report(ctx, replace(ours, client_order_id=None)) is None  # deferred
    assert [o.external for o in await svc.list_orders()] == [False]
    await harness.step(svc, 2)  # the resolver finds it by cOID
    (order,) = await svc.list_orders()
    assert not order.external and order.broker_order_id == ours.broker_order_id
