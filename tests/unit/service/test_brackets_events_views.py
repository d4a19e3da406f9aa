"""Brackets with derived cOIDs, the resumable event stream, positions/account/risk views."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from oms_harness import Harness


def _coid(sid: str, leg: str = "") -> ClientOrderId:
    return ClientOrderId.for_signal(SignalId(sid), leg)


async def test_bracket_sends_parent_and_legs_with_derived_coids(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "br", limit_price="100.00", take_profit="101.00",
                         stop_loss="99.00")
    await harness.step(svc)
    (place,) = [c.args[0] for c in harness.broker.calls if c.method == "place"]
    assert place.client_order_id == _coid("br")
    assert [leg.client_order_id for leg in place.legs] == [_coid("br", "tp"), _coid("br", "sl")]
    view = await svc.get_signal("br")
    assert view is not None and view.orders[0].order_ref == str(_coid("br"))
    assert {o.parent_id for o in view.orders[1:]} == {str(_coid("br"))}
    assert all(o.status == "SUBMITTED" for o in view.orders)
    # the parent fills, then the take-profit: the stop-loss is cancelled (one-cancels-all)
    harness.broker.fill(_coid("br"))
    harness.broker.fill(_coid("br", "tp"))
    await harness.step(svc)
    by_ref = {o.order_ref: o for o in (await svc.get_signal("br")).orders}  # type: ignore[union-attr]
    assert by_ref[str(_coid("br"))].status == "FILLED"
    assert by_ref[str(_coid("br", "tp"))].status == "FILLED"
    assert by_ref[str(_coid("br", "sl"))].status == "CANCELLED"
    for leg in ("", "tp", "sl"):
        assert len(harness.broker.orders_for(_coid("br", leg))) == 1
    positions = await svc.positions()
    assert positions[0].quantity == 0 and positions[0].realized_pnl > 0


async def test_bracket_in_doubt_resolves_parent_and_legs_without_resend(
    harness: Harness,
) -> None:
    from oms_harness import CrashingBroker

    broker = CrashingBroker(harness.broker)
    broker.mute_events = True
    svc = await harness.service(broker=broker)
    harness.broker.unknown_next("place", landed=True)
    await harness.submit(svc, "bd", take_profit="101.00", stop_loss="99.00")
    await harness.step(svc)
    assert {o.status for o in (await svc.get_signal("bd")).orders} == {"IN_DOUBT"}  # type: ignore[union-attr]
    await harness.step(svc, 2)
    view = await svc.get_signal("bd")
    assert view is not None and {o.status for o in view.orders} == {"SUBMITTED"}
    assert harness.places() == 1


async def test_events_are_journaled_numbered_and_resumable(harness: Harness) -> None:
    svc = await harness.service()
    start = svc.oms.ctx.journal.last_event_id()
    await harness.submit(svc, "ev", limit_price="100.02")
    await harness.step(svc)
    seen = []
    stream = svc.subscribe_events(start)
    async for event in stream:
        seen.append(event)
        if event.kind == "fill":
            break
    await stream.aclose()
    ids = [e.id for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {"signal", "order", "fill"} <= {e.kind for e in seen}
    # resume after the second event: exactly what followed it
    resumed = svc.subscribe_events(seen[1].id)
    first = await resumed.__anext__()
    await resumed.aclose()
    assert first.id == seen[2].id


async def test_a_live_subscriber_is_woken_by_new_events(harness: Harness) -> None:
    svc = await harness.service()
    stream = svc.subscribe_events(None)
    waiter = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    await harness.submit(svc, "live")
    event = await asyncio.wait_for(waiter, 2)
    await stream.aclose()
    assert event.kind == "signal" and event.data["id"] == "live"


async def test_positions_account_risk_and_health_views(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "pv", limit_price="100.02", quantity="4")
    await harness.step(svc)
    (position,) = await svc.positions()
    assert position.symbol == "AAPL" and position.quantity == Decimal(4)
    assert position.broker_quantity is None or position.broker_quantity == Decimal(4)
    account = await svc.account()
    assert account.account == "DU1234567" and account.buying_power is not None
    risk = await svc.risk()
    assert risk.limits["max_order_quantity"] == "1000" and not risk.broker_hold
    assert risk.open_orders == 0 and risk.trading_state == "ACTIVE"
    health = await svc.health(ready=True)
    assert health.ok and health.ready and health.startup_complete
    text = _metrics_text(svc)
    assert "catalyst_signals_total" in text and "catalyst_fills_total 1.0" in text


def _metrics_text(svc) -> str:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    return generate_latest(svc.metrics).decode()


async def test_questions_are_journaled_and_shown_on_the_signal(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "q-1")
    await harness.step(svc)
    svc.record_question(str(_coid("q-1")), message_id="o163",
                        text="price exceeds the Percentage constraint of 3%", answered=False)
    view = await svc.get_signal("q-1")
    assert view is not None
    (question,) = view.questions
    assert question.message_id == "o163" and question.answer is False
    assert "Percentage" in question.text


async def test_risk_view_values_a_position_with_no_quote_at_its_average_price(
    harness: Harness,
) -> None:
    svc = await harness.service()
    await harness.submit(svc, "nq", limit_price="100.02", quantity="3")
    await harness.step(svc)
    svc.oms.ctx.quotes.clear()  # e.g. just restarted: no quote seen yet
    risk = await svc.risk()
    assert risk.gross_exposure == Decimal("300.06")
