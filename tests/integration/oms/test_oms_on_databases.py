"""The OMS on real journal files and on PostgreSQL, including two service processes sharing
one journal (the production shape on PostgreSQL): one broker order per cOID, always."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from oms_harness import CrashingBroker, Harness, crash_run


class YieldingBroker(CrashingBroker):
    """Gives the event loop away around every call, so two services really interleave."""

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            result = await attr(*args, **kwargs)
            await asyncio.sleep(0)
            return result

        return call

    async def place(self, request: Any) -> Any:
        await asyncio.sleep(0)
        result = await super().place(request)
        await asyncio.sleep(0)
        return result


@pytest.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    h = Harness(db_url=db_url)
    yield h
    for svc in list(h.services):
        await svc.stop()


def _coid(sid: str) -> ClientOrderId:
    return ClientOrderId.for_signal(SignalId(sid))


async def test_lifecycle_crash_after_send_and_restart(harness: Harness) -> None:
    broker = CrashingBroker(harness.broker)
    svc = await harness.service(broker=broker)
    await harness.submit(svc, "db-1", limit_price="100.02")
    await harness.submit(svc, "db-2")
    broker.crash_after_place = True
    broker.mute_events = True
    await crash_run(svc)
    await harness.crash(svc)
    broker.mute_events = False
    again = await harness.service(broker=broker)
    await harness.step(again, 31)
    await harness.step(again, 1)
    one = await again.get_signal("db-1")
    two = await again.get_signal("db-2")
    assert one is not None and one.status == "FILLED"
    assert two is not None and two.status == "SUBMITTED"
    assert harness.broker_orders("db-1") == 1 and harness.broker_orders("db-2") == 1
    assert broker.resends_of_landed == []
    (position,) = await again.positions()
    assert position.quantity == Decimal(10) == position.broker_quantity


async def test_two_processes_share_a_journal_and_never_send_one_intent_twice(
    harness: Harness,
) -> None:
    broker = YieldingBroker(harness.broker)
    a = await harness.service(broker=broker)
    b = await harness.service(broker=broker)
    assert a.oms.ctx.owner != b.oms.ctx.owner
    sids = [f"mp-{i}" for i in range(8)]
    for i, sid in enumerate(sids):
        if i % 3 == 0:
            harness.broker.unknown_next("place", landed=i % 2 == 0)
        await harness.submit(a if i % 2 else b, sid)
    for seconds in (0, 0, 2, 2, 31, 2, 2):
        harness.clock.advance(seconds)
        harness.quote()
        await asyncio.gather(a.oms.run_once(), b.oms.run_once())
        await asyncio.gather(a.oms.quiesce(), b.oms.quiesce())
    for sid in sids:
        assert harness.broker_orders(sid) == 1, sid
        view = await a.get_signal(sid)
        assert view is not None and view.status == "SUBMITTED", (sid, view.status if view else None)
    assert broker.resends_of_landed == []


async def test_a_crashed_process_intent_is_recovered_by_the_survivor_once(
    harness: Harness,
) -> None:
    broker = CrashingBroker(harness.broker)
    dying = await harness.service(broker=broker)
    survivor = await harness.service(broker=broker)
    await harness.submit(dying, "orphan")
    broker.crash_before_place = True
    await crash_run(dying)
    await harness.crash(dying)
    await harness.step(survivor, 5)  # the dead process's lease still stands: hands off
    assert harness.broker_orders("orphan") == 0
    await harness.step(survivor, 30)  # lease ran out: proof of absence, same cOID, once
    await harness.step(survivor, 2)
    assert harness.broker_orders("orphan") == 1
    view = await survivor.get_signal("orphan")
    assert view is not None and view.status == "SUBMITTED"
