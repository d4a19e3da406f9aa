"""The TWS adapter under the socket faults of reliability.md (b) 18-19, over real loopback:
a lost answer, a dropped socket with replayed executions, order ids after a reconnect,
1100/1102 holds, data-farm notices, client id 326 and outbound pacing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from ib_async import IB

from catalyst_ibkr.adapters.tws import TwsBroker, make_tws_broker
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    BrokerEvent,
    BrokerUnavailable,
    CancelOrder,
    FillEvent,
    OutcomeUnknown,
    PlaceOrder,
)
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)


def coid() -> ClientOrderId:
    return ClientOrderId(f"tws-{uuid.uuid4().hex[:12]}")


def limit(inst: Instrument, price: str, qty: int = 1) -> PlaceOrder:
    return PlaceOrder(coid(), inst, Side.BUY, Decimal(qty), OrderType.LMT,
                      limit_price=Decimal(price))


async def until(probe: Callable[[], Any], within_s: float = 5.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within_s}s")
        await asyncio.sleep(0.02)


async def ready(broker: TwsBroker, sim: RunningSim) -> Instrument:
    await asyncio.to_thread(sim.set_market, "AAPL", bid="100.00", ask="100.02", last="100.01")
    return await broker.resolve("AAPL")


def sim_orders(sim: RunningSim, cid: str) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["cOID"] == cid]


async def test_lost_place_answer_is_unknown_then_found_once(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    request = limit(inst, "90.00")
    tws_sim.fault("tws_disconnect", on="place")
    with pytest.raises(OutcomeUnknown) as caught:
        await broker.place(request)
    assert caught.value.client_order_id == request.client_order_id
    report = await until(lambda: broker.order(request.client_order_id))
    assert report.status is OrderStatus.SUBMITTED
    assert len(sim_orders(tws_sim, request.client_order_id)) == 1
    assert (await broker.health()).ok  # reconnected by itself
    # reconciling, not resending: the same cOID is refused without reaching the venue
    again = await broker.place(request)
    assert not isinstance(again, Accepted)
    assert len(sim_orders(tws_sim, request.client_order_id)) == 1


async def test_replayed_executions_after_reconnect_count_once(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    stream = broker.events()
    seen: list[BrokerEvent] = []

    async def collect() -> None:
        async for event in stream:
            seen.append(event)

    collector = asyncio.create_task(collect())
    try:
        request = limit(inst, "100.02", qty=3)
        assert isinstance(await broker.place(request), Accepted)
        report = await until(lambda: _filled(broker, request.client_order_id))
        first = {e.execution.execution_id for e in seen if isinstance(e, FillEvent)}
        assert first, "the fill was published"
        generation = broker._conn.generation
        tws_sim.fault("tws_disconnect")  # TWS replays executions on the next startup sync
        await until(lambda: _reconnected(broker, generation), within_s=10)
        since = report.updated_at - timedelta(days=1)
        replayed = await broker.executions(since)
        assert first <= {x.execution_id for x in replayed}
        await asyncio.sleep(0.2)
        fills = [e.execution.execution_id for e in seen if isinstance(e, FillEvent)]
        assert len(fills) == len(set(fills)), f"a fill was published twice: {fills}"
        total = sum(e.execution.quantity for e in seen if isinstance(e, FillEvent)
                    and e.execution.client_order_id == request.client_order_id)
        assert total == 3
    finally:
        await stream.aclose()
        collector.cancel()


async def _filled(broker: TwsBroker, cid: ClientOrderId) -> Any:
    report = await broker.order(cid)
    return report if report is not None and report.status is OrderStatus.FILLED else None


async def _healthy(broker: TwsBroker) -> bool:
    return (await broker.health()).ok


async def _reconnected(broker: TwsBroker, generation: int) -> bool:
    """The socket was lost (the generation moved) and the adapter is healthy again."""
    return broker._conn.generation > generation and (await broker.health()).ok


async def _unhealthy(broker: TwsBroker) -> bool:
    return not (await broker.health()).ok


async def test_order_ids_are_never_reused_after_a_reconnect(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker(client_id=4)
    inst = await ready(broker, tws_sim)
    first = limit(inst, "90.00")
    assert isinstance(await broker.place(first), Accepted)
    fake = tws_sim.threaded.server.tws
    assert fake is not None
    used = max(oid for (client, oid) in fake._by_client if client == 4)
    fake._max_id[4] = 0  # a Gateway whose nextValidId went backwards (e.g. after a restart)
    generation = broker._conn.generation
    tws_sim.fault("tws_disconnect")
    await until(lambda: _reconnected(broker, generation), within_s=10)
    second = limit(inst, "89.00")
    assert isinstance(await broker.place(second), Accepted)
    newest = max(oid for (client, oid) in fake._by_client if client == 4)
    assert newest > used
    await broker.cancel_all()


@pytest.mark.parametrize("restore", [1101, 1102])
async def test_1100_holds_orders_until_restored_and_reconciles(
    make_broker: Callable[..., Any], tws_sim: RunningSim, restore: int
) -> None:
    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    tws_sim.fault("tws_disconnect", notice=restore, seconds=1.0)
    await until(lambda: _unhealthy(broker))
    health = await broker.health()
    assert "1100" in health.detail and health.authenticated
    before = len(tws_sim.state()["orders"])
    with pytest.raises(BrokerUnavailable):
        await broker.place(limit(inst, "90.00"))
    assert len(tws_sim.state()["orders"]) == before  # nothing was sent during the hold
    await until(lambda: _healthy(broker), within_s=10)
    request = limit(inst, "90.00")
    assert isinstance(await broker.place(request), Accepted)
    await broker.cancel(CancelOrder(request.client_order_id))


async def test_data_farm_notices_never_touch_the_order_channel(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    for code in (2103, 2105, 2107, 2108, 2157):
        broker.ib.wrapper.error(-1, code, "Market data farm connection is broken:usfarm", "")
    assert (await broker.health()).ok
    request = limit(inst, "90.00")
    assert isinstance(await broker.place(request), Accepted)
    await broker.cancel(CancelOrder(request.client_order_id))


async def test_client_id_in_use_is_a_clear_error(tws_sim: RunningSim) -> None:
    holder = IB()
    await holder.connectAsync("127.0.0.1", tws_sim.tws_port, clientId=21, timeout=3)
    try:
        broker = make_tws_broker(f"tws://127.0.0.1:{tws_sim.tws_port}", 21,
                                 connect_timeout_s=2.0)
        with pytest.raises(BrokerUnavailable) as caught:
            await broker.start()
        assert "client id 21 is already in use" in str(caught.value)
        await broker.close()
    finally:
        holder.disconnect()


@pytest.mark.sim_options(pacing=True)
async def test_outbound_pacing_stays_under_fifty_per_second(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker(request_timeout_s=20.0)
    codes: list[int] = []
    broker.ib.errorEvent += lambda req_id, code, msg, c: codes.append(code)
    inst = await ready(broker, tws_sim)
    await asyncio.gather(*(broker.quotes([inst.conid]) for _ in range(70)))
    assert 100 not in codes


async def test_bracket_legs_are_linked_and_held_until_the_parent_fills(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    from catalyst_ibkr.ports.broker import BracketLeg

    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    parent = coid()
    take, stop = ClientOrderId(f"{parent}-tp"), ClientOrderId(f"{parent}-sl")
    request = PlaceOrder(parent, inst, Side.BUY, Decimal(2), OrderType.LMT,
                         limit_price=Decimal("90.00"),
                         legs=(BracketLeg(take, OrderType.LMT, Decimal("110.00")),
                               BracketLeg(stop, OrderType.STP, Decimal("80.00"))))
    assert isinstance(await broker.place(request), Accepted)
    rows = await until(lambda: _rows(tws_sim, {parent, take, stop}))
    by_coid = {r["cOID"]: r for r in rows}
    assert by_coid[parent]["status"] == "Submitted"
    assert by_coid[take]["status"] == by_coid[stop]["status"] == "PreSubmitted"  # held
    assert by_coid[take]["side"] == by_coid[stop]["side"] == "SELL"
    await broker.cancel(CancelOrder(parent))
    await until(lambda: _all_cancelled(tws_sim, {parent, take, stop}))


async def _rows(sim: RunningSim, coids: set[str]) -> list[dict[str, Any]] | None:
    rows = [o for o in (await asyncio.to_thread(sim.state))["orders"] if o["cOID"] in coids]
    return rows if len(rows) == len(coids) else None


async def _all_cancelled(sim: RunningSim, coids: set[str]) -> bool:
    rows = await _rows(sim, coids)
    return rows is not None and all(r["status"] == "Cancelled" for r in rows)


async def test_unsupported_order_type_is_a_rejection_not_a_hang(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    await ready(broker, tws_sim)
    from ib_async import Contract, Order

    trade = broker.ib.placeOrder(Contract(conId=265598, exchange="SMART", currency="USD"),
                                 Order(action="BUY", totalQuantity=1, orderType="TRAIL",
                                       orderRef=str(coid())))

    async def dead() -> bool:
        return str(trade.orderStatus.status) == "Cancelled"

    await until(dead)


async def test_a_restarted_adapter_finds_its_orders_and_refuses_their_coids(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    first = await make_broker(client_id=6)
    inst = await ready(first, tws_sim)
    request = limit(inst, "90.00")
    assert isinstance(await first.place(request), Accepted)
    await first.close()  # the service stops; the order keeps working at IB
    second = await make_broker(client_id=6)
    report = await second.order(request.client_order_id)
    assert report is not None and report.status is OrderStatus.SUBMITTED
    assert request.client_order_id in {o.client_order_id for o in await second.open_orders()}
    assert not isinstance(await second.place(request), Accepted)
    assert len(sim_orders(tws_sim, request.client_order_id)) == 1
    from catalyst_ibkr.ports.broker import ModifyOrder

    modified = await second.modify(ModifyOrder(request.client_order_id,
                                               limit_price=Decimal("91.00")))
    assert isinstance(modified, Accepted)
    assert isinstance(await second.cancel(CancelOrder(request.client_order_id)), Accepted)


async def test_partial_fills_accumulate_and_survive_a_cancel(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    inst = await ready(broker, tws_sim)
    stream = broker.events()
    try:
        request = limit(inst, "100.02", qty=15000)  # far more than the touch: fills in slices
        assert isinstance(await broker.place(request), Accepted)
        fills: list[Any] = []
        reports: list[Any] = []
        async with asyncio.timeout(10):
            while len(fills) < 2:
                event = await anext(stream)
                if isinstance(event, FillEvent):
                    fills.append(event.execution)
                elif hasattr(event, "report") and event.report.client_order_id == \
                        request.client_order_id:
                    reports.append(event.report)
        await broker.cancel(CancelOrder(request.client_order_id))
        final = await until(lambda: _closed(broker, request.client_order_id))
    finally:
        await stream.aclose()
    filled = [r.filled_quantity for r in reports]
    assert filled == sorted(filled)
    assert final.status is OrderStatus.CANCELLED and 0 < final.filled_quantity < 15000
    executions = [x for x in await broker.executions(final.updated_at - timedelta(days=1))
                  if x.client_order_id == request.client_order_id]
    assert sum(x.quantity for x in executions) == final.filled_quantity


async def _closed(broker: TwsBroker, cid: ClientOrderId) -> Any:
    report = await broker.order(cid)
    return report if report is not None and report.status.is_closed else None


async def test_an_answer_wakes_the_waiting_command_at_once(
    make_broker: Callable[..., Any], tws_sim: RunningSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """place/cancel wait for TWS's answer on an event, not by polling: with the fallback
    poll pushed out to a minute, both still finish well inside their deadline."""
    from catalyst_ibkr.adapters.tws import broker as tws_broker

    monkeypatch.setattr(tws_broker, "POLL_S", 60.0)
    broker = await make_broker(client_id=31, request_timeout_s=30.0)
    inst = await ready(broker, tws_sim)
    request = limit(inst, "90.00")
    assert isinstance(await asyncio.wait_for(broker.place(request), 10), Accepted)
    cancelled = await asyncio.wait_for(broker.cancel(CancelOrder(request.client_order_id)), 10)
    assert isinstance(cancelled, Accepted)


async def test_a_new_order_reads_no_order_lists_but_a_lookup_before_a_resend_does(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    """Placing a fresh cOID sends no open/completed-order requests (their cost grew with
    the day's orders); a cOID placed elsewhere is refused once an order(cOID) lookup (what
    the service does before any re-send) has re-read the lists."""
    ours = await make_broker(client_id=41)
    elsewhere = await make_broker(client_id=42)
    inst = await ready(ours, tws_sim)
    reads = 0
    refresh = ours._refresh

    async def counting() -> None:
        nonlocal reads
        reads += 1
        await refresh()

    ours._refresh = counting  # type: ignore[method-assign]
    assert isinstance(await ours.place(limit(inst, "90.00")), Accepted)
    assert reads == 0
    theirs = limit(inst, "89.00")
    assert isinstance(await elsewhere.place(theirs), Accepted)
    found = await ours.order(theirs.client_order_id)
    assert found is not None and reads == 1
    again = await ours.place(theirs)
    assert not isinstance(again, Accepted) and again.code == "DUPLICATE_COID"
    assert len(sim_orders(tws_sim, theirs.client_order_id)) == 1
