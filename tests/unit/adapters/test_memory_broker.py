"""MemoryBroker specifics beyond the contract: its fault knobs, matching and call log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalyst_ibkr.adapters.memory import DEFAULT_INSTRUMENTS, MemoryBroker
from catalyst_ibkr.core.clock import FixedClock
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import BrokerOrderId, ClientOrderId
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    BracketLeg,
    BrokerUnavailable,
    CancelOrder,
    FillEvent,
    HealthEvent,
    InstrumentNotFound,
    ModifyOrder,
    OrderEvent,
    OutcomeUnknown,
    PlaceOrder,
    Rejected,
)

D = Decimal
AAPL = DEFAULT_INSTRUMENTS[0]


def limit(cid: str, price: str, side: Side = Side.BUY, qty: str = "10",
          tif: TimeInForce = TimeInForce.DAY) -> PlaceOrder:
    return PlaceOrder(ClientOrderId(cid), AAPL, side, D(qty), OrderType.LMT, tif,
                      limit_price=D(price))


@pytest.fixture
def broker() -> MemoryBroker:
    b = MemoryBroker(clock=FixedClock())
    b.set_quote("AAPL", bid=D("100.00"), ask=D("100.10"), last=D("100.05"))
    return b


async def test_reject_next_is_definitive_and_leaves_nothing(broker: MemoryBroker) -> None:
    broker.reject_next("place", "No trading permissions.", "201")
    outcome = await broker.place(limit("r-1", "90.00"))
    assert outcome == Rejected(ClientOrderId("r-1"), "No trading permissions.", "201")
    assert await broker.order(ClientOrderId("r-1")) is None
    assert isinstance(await broker.place(limit("r-1", "90.00")), Accepted)  # knob used up


async def test_unknown_but_landed_leaves_exactly_one_order(broker: MemoryBroker) -> None:
    broker.unknown_next("place", landed=True)
    with pytest.raises(OutcomeUnknown) as caught:
        await broker.place(limit("u-1", "90.00"))
    assert caught.value.client_order_id == "u-1"
    assert len(broker.orders_for(ClientOrderId("u-1"))) == 1


async def test_unknown_not_landed_leaves_no_order(broker: MemoryBroker) -> None:
    broker.unknown_next("place", landed=False)
    with pytest.raises(OutcomeUnknown):
        await broker.place(limit("u-2", "90.00"))
    assert await broker.order(ClientOrderId("u-2")) is None
    assert broker.orders_for(ClientOrderId("u-2")) == []


async def test_unknown_cancel_not_landed_keeps_the_order_working(broker: MemoryBroker) -> None:
    await broker.place(limit("u-3", "90.00"))
    broker.unknown_next("cancel", landed=False)
    with pytest.raises(OutcomeUnknown):
        await broker.cancel(CancelOrder(ClientOrderId("u-3")))
    report = await broker.order(ClientOrderId("u-3"))
    assert report is not None and report.status is OrderStatus.SUBMITTED


async def test_unavailable_means_nothing_was_sent(broker: MemoryBroker) -> None:
    broker.unavailable_next("place")
    with pytest.raises(BrokerUnavailable):
        await broker.place(limit("n-1", "90.00"))
    assert await broker.order(ClientOrderId("n-1")) is None


async def test_a_bad_session_refuses_every_call_and_is_announced(broker: MemoryBroker) -> None:
    stream = broker.events()
    broker.set_health(authenticated=False, detail="session expired")
    event = await anext(stream)
    assert isinstance(event, HealthEvent) and not event.health.ok
    assert not (await broker.health()).ok
    with pytest.raises(BrokerUnavailable, match="session expired"):
        await broker.place(limit("h-1", "90.00"))
    with pytest.raises(BrokerUnavailable):
        await broker.open_orders()
    broker.set_health()
    assert isinstance(await broker.place(limit("h-1", "90.00")), Accepted)
    await stream.aclose()


async def test_fill_limit_gives_partial_fills_and_the_rest_keeps_working(
    broker: MemoryBroker,
) -> None:
    broker.set_fill_limit(D(4))
    await broker.place(limit("p-1", "100.10"))
    report = await broker.order(ClientOrderId("p-1"))
    assert report is not None
    assert report.status is OrderStatus.PARTIALLY_FILLED and report.filled_quantity == 4
    broker.set_quote("AAPL", bid=D("100.00"), ask=D("100.05"))  # next pass: 4 more
    broker.set_fill_limit(None)
    broker.set_quote("AAPL", bid=D("100.00"), ask=D("100.06"))
    report = await broker.order(ClientOrderId("p-1"))
    assert report is not None and report.status is OrderStatus.FILLED
    fills = [x for x in await broker.executions(report.updated_at) if x.client_order_id == "p-1"]
    assert [x.quantity for x in fills] == [D(4), D(4), D(2)]
    assert report.avg_fill_price == (D(4) * D("100.10") + D(4) * D("100.05")
                                     + D(2) * D("100.06")) / 10


async def test_explicit_fill_and_positions_with_average_cost(broker: MemoryBroker) -> None:
    await broker.place(limit("f-1", "95.00"))
    broker.fill(ClientOrderId("f-1"), D(4), D("95.00"))
    broker.fill(ClientOrderId("f-1"), D(6), D("94.00"))
    [position] = await broker.positions()
    assert position.quantity == 10 and position.avg_cost == D("94.4")
    await broker.place(limit("f-2", "99.00", side=Side.SELL, qty="15"))  # flips to short
    [position] = await broker.positions()
    assert position.quantity == -5 and position.avg_cost == D("100.00")


async def test_market_order_waits_for_a_quote_then_fills_at_the_touch() -> None:
    broker = MemoryBroker()
    mkt = PlaceOrder(ClientOrderId("m-1"), AAPL, Side.SELL, D(5), OrderType.MKT)
    await broker.place(mkt)
    report = await broker.order(ClientOrderId("m-1"))
    assert report is not None and report.status is OrderStatus.SUBMITTED
    broker.set_quote("AAPL", bid=D("99.00"), ask=D("99.10"))
    report = await broker.order(ClientOrderId("m-1"))
    assert report is not None and report.status is OrderStatus.FILLED
    assert report.avg_fill_price == D("99.00")


async def test_stop_triggers_when_the_touch_reaches_it(broker: MemoryBroker) -> None:
    stop = PlaceOrder(ClientOrderId("s-1"), AAPL, Side.BUY, D(1), OrderType.STP,
                      stop_price=D("101.00"))
    await broker.place(stop)
    assert (await broker.order(ClientOrderId("s-1"))).status is OrderStatus.SUBMITTED  # type: ignore[union-attr]
    broker.set_quote("AAPL", bid=D("100.90"), ask=D("101.00"))
    report = await broker.order(ClientOrderId("s-1"))
    assert report is not None and report.status is OrderStatus.FILLED


async def test_ioc_remainder_is_cancelled(broker: MemoryBroker) -> None:
    await broker.place(limit("i-1", "90.00", tif=TimeInForce.IOC))
    report = await broker.order(ClientOrderId("i-1"))
    assert report is not None and report.status is OrderStatus.CANCELLED


async def test_modify_rules(broker: MemoryBroker) -> None:
    await broker.place(limit("x-1", "90.00"))
    broker.fill(ClientOrderId("x-1"), D(3), D("90.00"))
    below_filled = await broker.modify(ModifyOrder(ClientOrderId("x-1"), quantity=D(3)))
    assert isinstance(below_filled, Rejected)
    no_stop = await broker.modify(ModifyOrder(ClientOrderId("x-1"), stop_price=D("1.00")))
    assert isinstance(no_stop, Rejected)
    missing = await broker.modify(ModifyOrder(ClientOrderId("nope"), limit_price=D("1.00")))
    assert isinstance(missing, Rejected)
    ok = await broker.modify(ModifyOrder(ClientOrderId("x-1"), quantity=D(20)))
    assert isinstance(ok, Accepted)
    report = await broker.order(ClientOrderId("x-1"))
    assert report is not None and report.quantity == 20 and report.remaining_quantity == 17


async def test_external_orders_are_cancelled_by_cancel_all_and_by_broker_id(
    broker: MemoryBroker,
) -> None:
    first = broker.add_external_order("AAPL", Side.SELL, D(1), D("150.00"))
    second = broker.add_external_order("AAPL", Side.SELL, D(1), D("151.00"))
    assert first.client_order_id is None
    outcome = await broker.cancel(CancelOrder(broker_order_id=first.broker_order_id))
    assert isinstance(outcome, Accepted)
    assert [o.broker_order_id for o in await broker.open_orders()] == [second.broker_order_id]
    await broker.cancel_all()
    assert await broker.open_orders() == []
    unknown = await broker.cancel(CancelOrder(broker_order_id=BrokerOrderId("42")))
    assert isinstance(unknown, Rejected)


async def test_events_come_fill_first_then_status_and_replays_repeat_ids(
    broker: MemoryBroker,
) -> None:
    stream = broker.events()
    await broker.place(limit("e-1", "100.10"))
    events = stream.pending()
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["OrderEvent", "FillEvent", "OrderEvent"]
    assert isinstance(events[0], OrderEvent) and events[0].report.status is OrderStatus.SUBMITTED
    assert isinstance(events[2], OrderEvent) and events[2].report.status is OrderStatus.FILLED
    broker.replay_executions()
    [replayed] = stream.pending()
    assert isinstance(replayed, FillEvent) and replayed == events[1]
    await broker.close()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_call_log_counts_every_call_in_order(broker: MemoryBroker) -> None:
    await broker.health()
    await broker.resolve("AAPL")
    with pytest.raises(InstrumentNotFound):
        await broker.resolve("NOPE")
    await broker.quotes([AAPL.conid])
    await broker.place(limit("l-1", "90.00"))
    await broker.account()
    assert [c.method for c in broker.calls] == [
        "health", "resolve", "resolve", "quotes", "place", "account"
    ]
    assert broker.call_count() == 6 and broker.call_count("resolve") == 2


async def test_unknown_instrument_is_rejected_at_place() -> None:
    broker = MemoryBroker(instruments=DEFAULT_INSTRUMENTS[1:])
    outcome = await broker.place(limit("z-1", "90.00"))
    assert isinstance(outcome, Rejected) and outcome.code == "200"


async def test_bracket_children_wait_for_the_parent_and_cancel_each_other(
    broker: MemoryBroker,
) -> None:
    parent = PlaceOrder(
        ClientOrderId("b-1"), AAPL, Side.BUY, D(10), OrderType.LMT, limit_price=D("95.00"),
        legs=(BracketLeg(ClientOrderId("b-1-tp"), OrderType.LMT, D("110.00")),
              BracketLeg(ClientOrderId("b-1-sl"), OrderType.STP, D("90.00"))),
    )
    assert isinstance(await broker.place(parent), Accepted)
    tp = await broker.order(ClientOrderId("b-1-tp"))
    assert tp is not None and tp.side is Side.SELL and tp.quantity == 10
    assert tp.status is OrderStatus.SUBMITTED
    broker.set_quote("AAPL", bid=D("80.00"), ask=D("85.00"))  # below the stop: parent fills
    parent_report = await broker.order(ClientOrderId("b-1"))
    assert parent_report is not None and parent_report.status is OrderStatus.FILLED
    sl = await broker.order(ClientOrderId("b-1-sl"))
    tp = await broker.order(ClientOrderId("b-1-tp"))
    assert sl is not None and sl.status is OrderStatus.FILLED  # stop hit once active
    assert tp is not None and tp.status is OrderStatus.CANCELLED  # one cancels the other
    assert await broker.positions() == []


@pytest.mark.parametrize(
    "legs",
    [
        (BracketLeg(ClientOrderId("b-9"), OrderType.LMT, D("110.00")),),  # parent's cOID
        (BracketLeg(ClientOrderId("b-9-x"), OrderType.MKT, D("110.00")),),
        (BracketLeg(ClientOrderId("b-9-x"), OrderType.LMT, D("-1")),),
        (BracketLeg(ClientOrderId("b-9-x"), OrderType.LMT, D("110.00")),
         BracketLeg(ClientOrderId("b-9-x"), OrderType.STP, D("90.00"))),
    ],
)
def test_place_order_refuses_malformed_brackets(legs: tuple[BracketLeg, ...]) -> None:
    with pytest.raises(ValueError):
        PlaceOrder(ClientOrderId("b-9"), AAPL, Side.BUY, D(1), OrderType.LMT,
                   limit_price=D("100.00"), legs=legs)


@pytest.mark.parametrize(
    ("order_type", "limit", "stop"),
    [
        (OrderType.LMT, None, None),
        (OrderType.MKT, D("1.00"), None),
        (OrderType.STP, None, None),
        (OrderType.STP_LMT, D("1.00"), None),
        (OrderType.LMT, D("0"), None),
    ],
)
def test_place_order_refuses_impossible_price_combinations(
    order_type: OrderType, limit: Decimal | None, stop: Decimal | None
) -> None:
    with pytest.raises(ValueError):
        PlaceOrder(ClientOrderId("v-1"), AAPL, Side.BUY, D(1), order_type,
                   limit_price=limit, stop_price=stop)
    with pytest.raises(ValueError):
        PlaceOrder(ClientOrderId("v-1"), AAPL, Side.BUY, D(0), OrderType.MKT)
