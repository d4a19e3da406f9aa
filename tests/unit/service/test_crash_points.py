"""Crash at each step boundary, restart on the same journal: at most one broker order per
cOID, no accepted signal lost, positions equal the broker's."""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from oms_harness import CrashingBroker, Harness, crash_run


def _coid(sid: str) -> ClientOrderId:
    return ClientOrderId.for_signal(SignalId(sid))


async def test_intent_journaled_but_not_sent_is_sent_once_after_restart(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    await harness.submit(svc, "c-1")
    broker.crash_before_place = True
    await crash_run(svc)
    await harness.crash(svc)
    assert harness.broker_orders("c-1") == 0
    again = await harness.service(broker=broker)
    await harness.step(again, 31)  # the dead process's lease runs out; TTL (60 s) has not
    view = await again.get_signal("c-1")
    assert view is not None and view.status == "SUBMITTED", view
    assert harness.broker_orders("c-1") == 1


async def test_intent_journaled_but_not_sent_expires_if_the_ttl_passed(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    await harness.submit(svc, "c-2", ttl_s="10")
    broker.crash_before_place = True
    await crash_run(svc)
    await harness.crash(svc)
    again = await harness.service(broker=broker)
    await harness.step(again, 31)
    view = await again.get_signal("c-2")
    assert view is not None and view.status == "EXPIRED", view
    assert harness.broker_orders("c-2") == 0


async def test_sent_but_answer_not_journaled_is_adopted_not_resent(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    await harness.submit(svc, "c-3")
    broker.crash_after_place = True
    broker.mute_events = True  # and the stream's news of it died with the process
    await crash_run(svc)
    await harness.crash(svc)
    broker.mute_events = False
    again = await harness.service(broker=broker)  # startup reconciliation sees it working
    await harness.step(again, 31)
    view = await again.get_signal("c-3")
    assert view is not None and view.status == "SUBMITTED", view
    assert view.broker_order_id is not None
    assert harness.broker_orders("c-3") == 1 and harness.places() == 1


async def test_fill_while_down_is_recovered_from_executions_and_replays_are_no_ops(
    harness: Harness,
) -> None:
    svc = await harness.service()
    await harness.submit(svc, "c-4", quantity="10")
    await harness.step(svc)
    await harness.crash(svc)
    harness.broker.fill(_coid("c-4"), Decimal(4), Decimal("100.00"))  # nobody listening
    harness.broker.fill(_coid("c-4"), Decimal(6), Decimal("99.99"))
    again = await harness.service()
    view = await again.get_signal("c-4")
    assert view is not None and view.status == "FILLED" and len(view.fills) == 2
    harness.broker.replay_executions()  # TWS replays execDetails after a reconnect
    await harness.step(again, 1)
    view = await again.get_signal("c-4")
    assert view is not None and len(view.fills) == 2 and view.filled_quantity == Decimal(10)
    (position,) = await again.positions()
    assert position.quantity == Decimal(10) == position.broker_quantity and not position.drift
    assert not (await again.risk()).broker_hold


async def test_fill_received_but_not_journaled(harness: Harness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import catalyst_ibkr.service.oms.engine as engine_module
    from oms_harness import Crash

    svc = await harness.service()
    await harness.submit(svc, "c-5")
    await harness.step(svc)

    def die(*_a: object, **_k: object) -> bool:
        raise Crash("between fill receipt and journal write")

    monkeypatch.setattr(engine_module, "apply_execution", die)
    harness.broker.fill(_coid("c-5"))
    await svc.oms.quiesce()  # the consumer task dies with the Crash
    monkeypatch.undo()
    assert svc.oms.ctx.journal.fills() == []  # the fill never reached the journal
    await harness.crash(svc)
    again = await harness.service()
    view = await again.get_signal("c-5")
    assert view is not None and view.status == "FILLED" and len(view.fills) == 1
    assert (await again.positions())[0].quantity == Decimal(10)
    assert harness.broker_orders("c-5") == 1
