"""Unknown outcomes: reconciled from evidence, resent only on proof of absence, same cOID."""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from catalyst_ibkr.ports.broker import PlaceOrder
from oms_harness import CrashingBroker, Harness


def _coid(sid: str) -> ClientOrderId:
    return ClientOrderId.for_signal(SignalId(sid))


async def test_unknown_outcome_resolved_by_the_stream(harness: Harness) -> None:
    svc = await harness.service()
    harness.broker.unknown_next("place", landed=True)
    await harness.submit(svc, "u-0")
    await harness.step(svc)
    view = await svc.get_signal("u-0")
    assert view is not None and view.status == "SUBMITTED"  # the order event is evidence
    assert harness.places() == 1


async def test_unknown_outcome_that_landed_is_found_not_resent(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    broker.mute_events = True
    svc = await harness.service(broker=broker)
    harness.broker.unknown_next("place", landed=True)
    await harness.submit(svc, "u-1")
    await harness.step(svc)
    assert (await svc.get_signal("u-1")).status == "IN_DOUBT"  # type: ignore[union-attr]
    await harness.step(svc, 2)
    view = await svc.get_signal("u-1")
    assert view is not None and view.status == "SUBMITTED" and view.broker_order_id
    assert harness.places() == 1 and harness.broker_orders("u-1") == 1


async def test_unknown_outcome_that_did_not_land_is_sent_again_with_the_same_coid(
    harness: Harness,
) -> None:
    svc = await harness.service()
    harness.broker.unknown_next("place", landed=False)
    await harness.submit(svc, "u-2")
    await harness.step(svc)
    assert (await svc.get_signal("u-2")).status == "IN_DOUBT"  # type: ignore[union-attr]
    await harness.step(svc, 2)
    view = await svc.get_signal("u-2")
    assert view is not None and view.status == "SUBMITTED"
    sent = [c.args[0].client_order_id for c in harness.broker.calls if c.method == "place"]
    assert sent == [_coid("u-2"), _coid("u-2")]  # never a new cOID
    assert harness.broker_orders("u-2") == 1


async def test_already_registered_means_the_first_landed_and_is_adopted(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    await harness.submit(svc, "r-1")
    broker.mute_events = True
    instrument = await harness.broker.resolve("AAPL")
    # An earlier attempt landed at IBKR (we never heard of it) ...
    await harness.broker.place(PlaceOrder(_coid("r-1"), instrument, Side.BUY, Decimal(10),
                                          OrderType.LMT, limit_price=Decimal("100.00")))
    # ... so IBKR refuses our copy as a duplicate cOID.
    harness.broker.reject_next("place", "Order couldn't be submitted: Local order ID="
                               f"{_coid('r-1')} is already registered.", "DUPLICATE_COID")
    await harness.step(svc)
    assert (await svc.get_signal("r-1")).status == "IN_DOUBT"  # type: ignore[union-attr]
    await harness.step(svc, 2)
    view = await svc.get_signal("r-1")
    assert view is not None and view.status == "SUBMITTED", view  # adopted, not REJECTED
    assert harness.broker_orders("r-1") == 1


async def test_a_coid_found_at_ibkr_before_its_signal_was_decided_is_linked_not_resent(
    harness: Harness,
) -> None:
    svc = await harness.service()
    await harness.submit(svc, "lost")
    instrument = await harness.broker.resolve("AAPL")
    await harness.broker.place(PlaceOrder(_coid("lost"), instrument, Side.BUY, Decimal(10),
                                          OrderType.LMT, limit_price=Decimal("100.00")))
    await harness.step(svc)  # the stream adopted it before the signal was decided
    await harness.step(svc)
    view = await svc.get_signal("lost")
    assert view is not None and view.status == "SUBMITTED" and len(view.orders) == 1
    assert harness.broker_orders("lost") == 1 and harness.places() == 1


async def test_a_definitive_reject_rejects(harness: Harness) -> None:
    svc = await harness.service()
    harness.broker.reject_next("place", "Insufficient margin", "201")
    await harness.submit(svc, "rj")
    await harness.step(svc)
    view = await svc.get_signal("rj")
    assert view is not None and view.status == "REJECTED" and view.reason == "Insufficient margin"
    await harness.step(svc, 5)
    assert harness.places() == 1


async def test_no_evidence_within_the_budget_alerts_and_holds_but_never_guesses(
    harness: Harness,
) -> None:
    broker = CrashingBroker(harness.broker)
    broker.mute_events = True  # the stream's message about it was lost
    svc = await harness.service(broker=broker)
    harness.broker.unknown_next("place", landed=True)
    await harness.submit(svc, "b-1", ttl_s="600")
    await harness.step(svc)
    assert (await svc.get_signal("b-1")).status == "IN_DOUBT"  # type: ignore[union-attr]
    harness.broker.set_health(connected=False, detail="gateway unreachable")
    for _ in range(20):
        await harness.step(svc, 2)
    view = await svc.get_signal("b-1")
    assert view is not None and view.status == "IN_DOUBT"  # not assumed either way
    risk = await svc.risk()
    assert risk.broker_hold and any(r.startswith("in_doubt") for r in risk.hold_reasons)
    alerts = [e async for e in _events(svc) if e.kind == "alert"]
    assert any(e.data.get("alert") == "in_doubt_budget" for e in alerts)
    harness.broker.set_health()
    await harness.step(svc, 2)
    await harness.step(svc, 2)
    assert (await svc.get_signal("b-1")).status == "SUBMITTED"  # type: ignore[union-attr]
    assert not (await svc.risk()).broker_hold
    assert harness.places() == 1


async def test_absent_after_ttl_is_not_sent_late(harness: Harness) -> None:
    svc = await harness.service()
    harness.broker.unknown_next("place", landed=False)
    await harness.submit(svc, "late", ttl_s="1")
    await harness.step(svc)
    await harness.step(svc, 2)
    view = await svc.get_signal("late")
    assert view is not None and view.status == "REJECTED" and "never sent late" in (view.reason
                                                                                    or "")
    assert harness.places() == 1 and harness.broker_orders("late") == 0


async def test_repeated_absence_gives_up_after_max_sends_with_an_alert(harness: Harness) -> None:
    svc = await harness.service()
    for _ in range(5):
        harness.broker.unknown_next("place", landed=False)
    await harness.submit(svc, "gone", ttl_s="600")
    for _ in range(6):
        await harness.step(svc, 2)
    view = await svc.get_signal("gone")
    assert view is not None and view.status == "REJECTED"
    assert harness.places() == 3 and harness.broker_orders("gone") == 0
    assert {c.args[0].client_order_id for c in harness.broker.calls if c.method == "place"} == {
        _coid("gone")
    }


async def _events(svc):  # type: ignore[no-untyped-def]
    stream = svc.subscribe_events(0)
    latest = svc.oms.ctx.journal.last_event_id()
    async for event in stream:
        yield event
        if event.id >= latest:
            break
    await stream.aclose()
