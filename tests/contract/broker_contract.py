"""THE Broker contract: one suite that every Broker implementation must pass.

How an adapter runs it: in tests/contract/, add `test_<adapter>_broker.py` with

    from broker_contract import BrokerContract, BrokerHarness

    class TestMyBroker(BrokerContract):
        @pytest.fixture
        async def harness(self) -> AsyncIterator[BrokerHarness]:
            ...  # start the venue (e.g. ibkr_sim on a loopback port), build the adapter
            yield BrokerHarness(broker=adapter, venue=my_venue_control, symbol="AAPL")
            ...  # tear down

`venue` is any object with the `VenueControl` methods (for the simulator: `/sim/market` and
`/sim/faults drop_after_accept`). The suite never assumes effects are instant: it polls with
`eventually()` up to `harness.timeout_s`, so socket-backed adapters pass it unchanged. Every
test uses fresh cOIDs, so a venue whose state outlives one test still works.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

import pytest

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    Broker,
    BrokerEvent,
    CancelOrder,
    FillEvent,
    InstrumentNotFound,
    ModifyOrder,
    OrderEvent,
    OrderReport,
    OutcomeUnknown,
    PlaceOrder,
    Rejected,
)

__all__ = ["BrokerContract", "BrokerHarness", "VenueControl", "eventually"]

T = TypeVar("T")
BID, ASK, LAST = Decimal("100.00"), Decimal("100.02"), Decimal("100.01")
# Within IBKR's 3% percentage constraint, so no order-reply question is triggered:
PASSIVE_BUY = Decimal("98.00")  # 2% below the bid: rests, never fills
MARKETABLE_BUY = Decimal("100.50")  # above the ask: fills even if the market ticks up


class VenueControl(Protocol):
    """What the suite needs to steer the venue behind a Broker."""

    async def set_market(
        self, symbol: str, *, bid: Decimal, ask: Decimal, last: Decimal | None = None
    ) -> None: ...

    async def lose_next_response(self, command: Literal["place", "cancel"]) -> None:
        """The next such command takes effect at the venue, but its response is lost."""
        ...


@dataclass
class BrokerHarness:
    broker: Broker
    venue: VenueControl
    symbol: str = "AAPL"
    unknown_symbol: str = "ZZZZQX"
    timeout_s: float = 5.0


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout_s: float
) -> T:
    """Poll `probe` until `accept` holds; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {timeout_s}s; last: {value!r}")
        await asyncio.sleep(0.02)


def _near(value: Decimal | None, target: Decimal) -> bool:
    """Within 1%: a simulated market may tick after being set, but not wander off."""
    return value is not None and abs(value - target) <= target / 100


def new_coid() -> ClientOrderId:
    return ClientOrderId(f"contract-{uuid.uuid4().hex[:16]}")


class BrokerContract:
    """Subclass and provide a `harness` fixture; every test here then runs on your Broker."""

    @pytest.fixture
    async def harness(self) -> BrokerHarness:  # pragma: no cover - overridden
        raise NotImplementedError("a contract test class must provide a `harness` fixture")

    # -- helpers -------------------------------------------------------------------------

    async def _ready(self, h: BrokerHarness) -> Instrument:
        await h.venue.set_market(h.symbol, bid=BID, ask=ASK, last=LAST)
        return await h.broker.resolve(h.symbol)

    def _limit(self, instrument: Instrument, price: Decimal, side: Side = Side.BUY,
               qty: Decimal = Decimal(1), tif: TimeInForce = TimeInForce.DAY) -> PlaceOrder:
        return PlaceOrder(new_coid(), instrument, side, qty, OrderType.LMT, tif,
                          limit_price=price)

    async def _status(self, h: BrokerHarness, cid: ClientOrderId,
                      accept: Callable[[OrderReport | None], bool]) -> OrderReport | None:
        return await eventually(lambda: h.broker.order(cid), accept, h.timeout_s)

    async def _working(self, h: BrokerHarness, cid: ClientOrderId) -> OrderReport:
        report = await self._status(h, cid, lambda r: r is not None and r.status.is_working)
        assert report is not None
        return report

    # -- session, contracts, quotes -------------------------------------------------------

    async def test_session_is_healthy(self, harness: BrokerHarness) -> None:
        health = await harness.broker.health()
        assert health.ok and health.connected and health.authenticated and not health.competing
        assert health.time.tzinfo is not None

    async def test_resolve_known_and_unknown_symbols(self, harness: BrokerHarness) -> None:
        instrument = await harness.broker.resolve(harness.symbol)
        assert instrument.symbol == harness.symbol and instrument.conid > 0
        with pytest.raises(InstrumentNotFound):
            await harness.broker.resolve(harness.unknown_symbol)

    async def test_quotes_reflect_the_market(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        quotes = await eventually(
            lambda: harness.broker.quotes([instrument.conid]),
            lambda qs: len(qs) == 1 and _near(qs[0].bid, BID) and _near(qs[0].ask, ASK),
            harness.timeout_s,
        )
        assert quotes[0].conid == instrument.conid and quotes[0].time.tzinfo is not None

    async def test_account_summary(self, harness: BrokerHarness) -> None:
        summary = await harness.broker.account()
        assert summary.net_liquidation > 0 and summary.buying_power >= 0
        assert len(summary.currency) == 3 and summary.time.tzinfo is not None

    # -- place and lookup -----------------------------------------------------------------

    async def test_passive_limit_rests_and_is_found_by_coid(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        outcome = await harness.broker.place(request)
        assert isinstance(outcome, Accepted)
        assert outcome.client_order_id == request.client_order_id
        report = await self._working(harness, request.client_order_id)
        assert report.client_order_id == request.client_order_id
        assert report.conid == instrument.conid and report.side is Side.BUY
        assert report.quantity == 1 and report.filled_quantity == 0
        assert report.limit_price == PASSIVE_BUY
        if outcome.broker_order_id is not None:
            assert report.broker_order_id == outcome.broker_order_id
        open_ids = {o.client_order_id for o in await harness.broker.open_orders()}
        assert request.client_order_id in open_ids
        await harness.broker.cancel(CancelOrder(request.client_order_id))

    async def test_lookups_are_idempotent(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        await harness.broker.place(request)
        first = await self._working(harness, request.client_order_id)
        second = await harness.broker.order(request.client_order_id)
        assert second is not None
        key = ("client_order_id", "broker_order_id", "status", "quantity", "filled_quantity")
        assert [getattr(first, k) for k in key] == [getattr(second, k) for k in key]
        opens = [o for o in await harness.broker.open_orders()
                 if o.client_order_id == request.client_order_id]
        assert len(opens) == 1
        await harness.broker.cancel(CancelOrder(request.client_order_id))

    async def test_unknown_coid_is_none(self, harness: BrokerHarness) -> None:
        assert await harness.broker.order(new_coid()) is None

    async def test_marketable_limit_fills_with_executions_and_position(
        self, harness: BrokerHarness
    ) -> None:
        broker = harness.broker
        instrument = await self._ready(harness)
        before = {p.conid: p.quantity for p in await broker.positions()}
        request = self._limit(instrument, MARKETABLE_BUY, qty=Decimal(2))
        assert isinstance(await broker.place(request), Accepted)
        report = await self._status(
            harness, request.client_order_id, lambda r: r is not None and r.status.is_closed
        )
        assert report is not None and report.status is OrderStatus.FILLED
        assert report.filled_quantity == 2 and report.avg_fill_price is not None
        started = report.updated_at - timedelta(days=1)  # venue time, not our wall clock
        fills = await eventually(
            lambda: broker.executions(started),
            lambda xs: sum(x.quantity for x in xs
                           if x.client_order_id == request.client_order_id) == 2,
            harness.timeout_s,
        )
        mine = [x for x in fills if x.client_order_id == request.client_order_id]
        assert len({x.execution_id for x in mine}) == len(mine)
        assert all(x.side is Side.BUY and x.conid == instrument.conid for x in mine)
        again = await broker.executions(started)
        assert {x.execution_id for x in mine} <= {x.execution_id for x in again}
        after_last = max(x.time for x in mine) + timedelta(seconds=1)
        later = {x.execution_id for x in await broker.executions(after_last)}
        assert not later & {x.execution_id for x in mine}
        expected = before.get(instrument.conid, Decimal(0)) + 2
        await eventually(
            broker.positions,
            lambda ps: any(p.conid == instrument.conid and p.quantity == expected for p in ps),
            harness.timeout_s,
        )
        assert request.client_order_id not in {
            o.client_order_id for o in await broker.open_orders()
        }

    async def test_duplicate_coid_never_makes_a_second_order(
        self, harness: BrokerHarness
    ) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        assert isinstance(await harness.broker.place(request), Accepted)
        await self._working(harness, request.client_order_id)
        second = await harness.broker.place(request)
        assert isinstance(second, Rejected)
        opens = [o for o in await harness.broker.open_orders()
                 if o.client_order_id == request.client_order_id]
        assert len(opens) == 1
        await harness.broker.cancel(CancelOrder(request.client_order_id))

    # -- modify and cancel ----------------------------------------------------------------

    async def test_modify_changes_the_limit(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        await harness.broker.place(request)
        await self._working(harness, request.client_order_id)
        new_price = Decimal("98.50")
        outcome = await harness.broker.modify(
            ModifyOrder(request.client_order_id, limit_price=new_price)
        )
        assert isinstance(outcome, Accepted)
        await self._status(harness, request.client_order_id,
                           lambda r: r is not None and r.limit_price == new_price)
        await harness.broker.cancel(CancelOrder(request.client_order_id))

    async def test_cancel_a_working_order(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        await harness.broker.place(request)
        await self._working(harness, request.client_order_id)
        outcome = await harness.broker.cancel(CancelOrder(request.client_order_id))
        assert isinstance(outcome, Accepted)
        report = await self._status(
            harness, request.client_order_id,
            lambda r: r is not None and r.status is OrderStatus.CANCELLED,
        )
        assert report is not None and report.filled_quantity == 0
        assert request.client_order_id not in {
            o.client_order_id for o in await harness.broker.open_orders()
        }
        again = await harness.broker.cancel(CancelOrder(request.client_order_id))
        assert isinstance(again, Accepted | Rejected)  # definitive either way, never a raise
        final = await harness.broker.order(request.client_order_id)
        assert final is not None and final.status is OrderStatus.CANCELLED

    async def test_cancel_of_an_unknown_order_is_rejected(self, harness: BrokerHarness) -> None:
        outcome = await harness.broker.cancel(CancelOrder(new_coid()))
        assert isinstance(outcome, Rejected)

    async def test_cancel_all_leaves_no_working_orders(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        requests = [self._limit(instrument, PASSIVE_BUY - Decimal(i) / 10) for i in range(3)]
        for request in requests:
            await harness.broker.place(request)
        for request in requests:
            await self._working(harness, request.client_order_id)
        assert isinstance(await harness.broker.cancel_all(), Accepted)
        await eventually(harness.broker.open_orders, lambda os: len(os) == 0, harness.timeout_s)
        for request in requests:
            report = await harness.broker.order(request.client_order_id)
            assert report is not None and report.status is OrderStatus.CANCELLED

    # -- unknown outcomes -----------------------------------------------------------------

    async def test_place_with_a_lost_response_raises_outcome_unknown_and_is_found_by_coid(
        self, harness: BrokerHarness
    ) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        await harness.venue.lose_next_response("place")
        with pytest.raises(OutcomeUnknown) as caught:
            await harness.broker.place(request)
        assert caught.value.client_order_id == request.client_order_id
        report = await self._working(harness, request.client_order_id)
        assert report.quantity == 1
        await harness.broker.cancel(CancelOrder(request.client_order_id))

    async def test_cancel_with_a_lost_response_raises_outcome_unknown(
        self, harness: BrokerHarness
    ) -> None:
        instrument = await self._ready(harness)
        request = self._limit(instrument, PASSIVE_BUY)
        await harness.broker.place(request)
        await self._working(harness, request.client_order_id)
        await harness.venue.lose_next_response("cancel")
        with pytest.raises(OutcomeUnknown) as caught:
            await harness.broker.cancel(CancelOrder(request.client_order_id))
        assert caught.value.client_order_id == request.client_order_id
        await self._status(harness, request.client_order_id,
                           lambda r: r is not None and r.status is OrderStatus.CANCELLED)

    # -- the event stream -----------------------------------------------------------------

    async def test_events_report_status_and_fills_in_order(self, harness: BrokerHarness) -> None:
        instrument = await self._ready(harness)
        stream = harness.broker.events()
        try:
            request = self._limit(instrument, MARKETABLE_BUY, qty=Decimal(3))
            await harness.broker.place(request)
            cid = request.client_order_id
            seen: list[BrokerEvent] = []

            def finished() -> bool:
                fills = {e.execution.execution_id: e.execution.quantity for e in seen
                         if isinstance(e, FillEvent) and e.execution.client_order_id == cid}
                statuses = [e.report.status for e in seen
                            if isinstance(e, OrderEvent) and e.report.client_order_id == cid]
                return sum(fills.values()) == 3 and OrderStatus.FILLED in statuses

            async with asyncio.timeout(harness.timeout_s):
                while not finished():
                    seen.append(await anext(stream))
        finally:
            await stream.aclose()
        reports = [e.report for e in seen
                   if isinstance(e, OrderEvent) and e.report.client_order_id == cid]
        filled = [r.filled_quantity for r in reports]
        assert filled == sorted(filled), "filled quantity went backwards"
        executions = [e.execution for e in seen
                      if isinstance(e, FillEvent) and e.execution.client_order_id == cid]
        by_id = {x.execution_id: x for x in executions}
        for x in executions:  # a redelivered fill is identical
            assert by_id[x.execution_id] == x
        assert all(x.time.tzinfo is not None for x in executions)
