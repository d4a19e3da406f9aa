"""The risk gate: a denied request makes ZERO broker calls; an allowed one makes exactly one."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from risk_builders import AAPL, context, loose, quote
from risk_strategies import contexts, limits

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce, TradingState
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.risk import (
    IntentAction,
    OrderIntent,
    ReasonCode,
    RiskContext,
    RiskEngine,
    RiskLimits,
)
from catalyst_ibkr.ports.broker import (
    Accepted,
    CancelOrder,
    ModifyOrder,
    OutcomeUnknown,
    PlaceOrder,
    Rejected,
)
from catalyst_ibkr.ports.risk_gate import (
    Denied,
    cancel_checked,
    intent_for_place,
    modify_checked,
    place_checked,
)

D = Decimal


def order(qty: str = "10", limit: str = "100.00", cid: str = "g-1") -> PlaceOrder:
    return PlaceOrder(ClientOrderId(cid), AAPL, Side.BUY, D(qty), OrderType.LMT,
                      TimeInForce.DAY, limit_price=D(limit))


def state_of(broker: MemoryBroker) -> tuple[object, ...]:
    book = broker._book
    return (tuple(book.orders), tuple(book.executions), book.cash,
            tuple((k, v.quantity) for k, v in book.positions.items()))


async def test_denied_place_makes_zero_broker_calls() -> None:
    broker = MemoryBroker()
    engine = RiskEngine(loose(max_order_quantity=D(5)))
    outcome = await place_checked(broker, engine, order("6"), context())
    assert isinstance(outcome, Denied)
    assert outcome.denial.reason_code is ReasonCode.QUANTITY_EXCEEDS_MAX
    assert broker.call_count() == 0


async def test_allowed_place_makes_exactly_one_place_call() -> None:
    broker = MemoryBroker()
    outcome = await place_checked(broker, RiskEngine(loose()), order(), context())
    assert isinstance(outcome, Accepted)
    assert broker.call_count() == 1 and broker.call_count("place") == 1


async def test_broker_reject_and_unknown_outcome_pass_through_untouched() -> None:
    broker = MemoryBroker()
    broker.reject_next("place", "Invalid order price fields")
    rejected = await place_checked(broker, RiskEngine(loose()), order(cid="g-2"), context())
    assert isinstance(rejected, Rejected) and rejected.reason == "Invalid order price fields"
    broker.unknown_next("place", landed=True)
    with pytest.raises(OutcomeUnknown):
        await place_checked(broker, RiskEngine(loose()), order(cid="g-3"), context())
    assert broker.call_count("place") == 2  # never retried by the gate


async def test_halted_denies_modify_without_a_call_but_lets_cancel_through() -> None:
    broker = MemoryBroker()
    await place_checked(broker, RiskEngine(loose()), order(limit="90.00"), context())
    halted = context(trading_state=TradingState.HALTED)
    engine = RiskEngine(loose())
    resulting = OrderIntent(ClientOrderId("g-1"), "AAPL", Side.BUY, D(10), OrderType.LMT,
                            limit_price=D("91.00"), action=IntentAction.MODIFY)
    calls = broker.call_count()
    denied = await modify_checked(broker, engine,
                                  ModifyOrder(ClientOrderId("g-1"), limit_price=D("91.00")),
                                  resulting, halted)
    assert isinstance(denied, Denied) and broker.call_count() == calls
    cancelled = await cancel_checked(broker, engine, CancelOrder(ClientOrderId("g-1")), halted)
    assert isinstance(cancelled, Accepted) and broker.call_count("cancel") == 1


async def test_outage_hold_stops_even_a_cancel() -> None:
    broker = MemoryBroker()
    held = context(broker_hold_reason="session expired")
    outcome = await cancel_checked(broker, RiskEngine(loose()),
                                   CancelOrder(ClientOrderId("x-1")), held)
    assert isinstance(outcome, Denied)
    assert outcome.denial.reason_code is ReasonCode.BROKER_OUTAGE_HOLD
    assert broker.call_count() == 0


async def test_modify_gate_refuses_a_mismatched_intent() -> None:
    new_intent = intent_for_place(order())
    with pytest.raises(ValueError, match="MODIFY intent"):
        await modify_checked(MemoryBroker(), RiskEngine(loose()),
                             ModifyOrder(ClientOrderId("g-1"), quantity=D(5)), new_intent,
                             context())


def test_intent_for_place_carries_every_risk_relevant_field() -> None:
    request = PlaceOrder(ClientOrderId("g-9"), AAPL, Side.SELL, D(3), OrderType.STP_LMT,
                         TimeInForce.GTC, limit_price=D("99.00"), stop_price=D("99.50"),
                         outside_rth=True)
    intent = intent_for_place(request)
    assert (intent.client_order_id, intent.symbol, intent.conid, intent.side, intent.quantity,
            intent.order_type, intent.tif, intent.limit_price, intent.stop_price,
            intent.outside_rth, intent.action) == (
        request.client_order_id, "AAPL", AAPL.conid, Side.SELL, D(3), OrderType.STP_LMT,
        TimeInForce.GTC, D("99.00"), D("99.50"), True, IntentAction.NEW)


@given(contexts(), limits())
def test_property_any_denied_place_leaves_the_broker_untouched(
    ctx: RiskContext, lim: RiskLimits
) -> None:
    ctx = dataclasses.replace(ctx, quote=quote("99.00", "101.00"), instrument=AAPL)
    broker = MemoryBroker()
    broker.set_quote("AAPL", bid=D("99.00"), ask=D("101.00"))
    before_calls, before_state = broker.call_count(), state_of(broker)
    outcome = asyncio.run(place_checked(broker, RiskEngine(lim), order("40"), ctx))
    if isinstance(outcome, Denied):
        assert broker.call_count() == before_calls
        assert state_of(broker) == before_state
    else:
        assert broker.call_count("place") == 1
