"""reliability.md (b) rows 31-39, end to end through the risk gate onto the memory broker.

Each scenario asserts the reason code AND that the broker saw zero calls for the denial.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from risk_builders import AAPL, NOW, context, quote

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.core.clock import FixedClock
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce, TradingState
from catalyst_ibkr.core.ids import ClientOrderId, StrategyId
from catalyst_ibkr.core.risk import (
    OrderHistory,
    PositionExposure,
    ReasonCode,
    RecentOrder,
    RiskContext,
    RiskEngine,
    RiskLimits,
    WorkingOrder,
)
from catalyst_ibkr.ports.broker import Accepted, CancelOrder, PlaceOrder
from catalyst_ibkr.ports.risk_gate import (
    Denied,
    GateOutcome,
    cancel_checked,
    intent_for_place,
    place_checked,
)

D = Decimal
DEFAULTS = RiskLimits()  # the shipped conservative defaults


def buy(qty: str = "10", limit: str | None = "100.00", cid: str = "o-1",
        order_type: OrderType = OrderType.LMT, tif: TimeInForce = TimeInForce.DAY,
        side: Side = Side.BUY) -> PlaceOrder:
    return PlaceOrder(ClientOrderId(cid), AAPL, side, D(qty), order_type, tif,
                      limit_price=None if limit is None else D(limit),
                      strategy=StrategyId("s1"))


async def attempt(request: PlaceOrder, ctx: RiskContext,
                  limits: RiskLimits = DEFAULTS) -> tuple[GateOutcome, MemoryBroker]:
    broker = MemoryBroker()
    outcome = await place_checked(broker, RiskEngine(limits), request, ctx)
    return outcome, broker


async def assert_denied(request: PlaceOrder, ctx: RiskContext, code: ReasonCode,
                        limits: RiskLimits = DEFAULTS) -> None:
    outcome, broker = await attempt(request, ctx, limits)
    assert isinstance(outcome, Denied), outcome
    assert outcome.denial.reason_code is code
    assert broker.call_count() == 0


async def test_b31_quantity_over_the_maximum() -> None:
    await assert_denied(buy("1001", "10.00"), context(), ReasonCode.QUANTITY_EXCEEDS_MAX)


async def test_b32_notional_over_the_maximum() -> None:
    await assert_denied(buy("501"), context(), ReasonCode.NOTIONAL_EXCEEDS_MAX)


async def test_b33_limit_ten_percent_through_a_three_percent_collar() -> None:
    await assert_denied(buy("1", "110.00"), context(), ReasonCode.PRICE_OUTSIDE_COLLAR)
    await assert_denied(buy("1", None, order_type=OrderType.MKT), context(quote=quote(age_s=6)),
                        ReasonCode.NO_FRESH_QUOTE)


async def test_b34_open_orders_plus_new_order_over_buying_power_even_in_doubt() -> None:
    in_doubt = WorkingOrder(ClientOrderId("d-1"), AAPL.conid, Side.BUY, D(40), D(100),
                            in_doubt=True)
    ctx = context(buying_power=D(10000), working_orders=(in_doubt,))  # 50% -> 5000 usable
    await assert_denied(buy("11"), ctx, ReasonCode.CUM_NOTIONAL_EXCEEDS_BUYING_POWER)
    outcome, _ = await attempt(buy("10"), ctx)
    assert isinstance(outcome, Accepted)


async def test_b35_a_burst_over_the_rate_never_reaches_the_broker() -> None:
    """60 orders inside one second at the default 50/s: 50 sent, 10 denied, IB sees 50."""
    broker, engine, history = MemoryBroker(), RiskEngine(DEFAULTS), OrderHistory(DEFAULTS)
    clock = FixedClock(NOW)
    broker.set_quote("AAPL", bid=D("99.00"), ask=D("99.01"))
    sent = denied = 0
    for i in range(60):
        now = clock.advance(timedelta(milliseconds=10))
        request = buy("1", "90.00", cid=f"burst-{i}")
        ctx = context(now=now, quote=dataclasses.replace(quote(), time=now),
                      recent_orders=history.recent(now))
        outcome = await place_checked(broker, engine, request, ctx)
        if isinstance(outcome, Denied):
            assert outcome.denial.reason_code is ReasonCode.RATE_LIMIT
            denied += 1
        else:
            history.record(RecentOrder.of(intent_for_place(request), now))
            sent += 1
    assert (sent, denied) == (50, 10)
    assert broker.call_count("place") == 50
    # A second later the budget is back.
    later = clock.advance(timedelta(seconds=1))
    ctx = context(now=later, quote=dataclasses.replace(quote(), time=later),
                  recent_orders=history.recent(later))
    assert isinstance(await place_checked(broker, engine, buy("1", "90.00", cid="after"), ctx),
                      Accepted)


async def test_b37_daily_loss_trips_reducing_only_reducing_orders_and_cancels_pass() -> None:
    long = {AAPL.conid: PositionExposure(AAPL.conid, D(10), D(100))}
    ctx = context(daily_pnl=D(-2000), positions=long)
    await assert_denied(buy("1"), ctx, ReasonCode.DAILY_LOSS_LIMIT)
    outcome, _ = await attempt(buy("10", "100.00", side=Side.SELL), ctx)
    assert isinstance(outcome, Accepted)
    broker = MemoryBroker()
    await broker.place(buy("1", "90.00", cid="resting"))
    cancel = await cancel_checked(broker, RiskEngine(DEFAULTS),
                                  CancelOrder(ClientOrderId("resting")), ctx)
    assert isinstance(cancel, Accepted)
    assert RiskEngine(DEFAULTS).evaluate(intent_for_place(buy()), ctx).trip_to is (
        TradingState.REDUCING
    )


async def test_b38_halted_denies_submits_but_cancels_pass() -> None:
    ctx = context(trading_state=TradingState.HALTED)
    await assert_denied(buy(), ctx, ReasonCode.TRADING_HALTED)
    broker = MemoryBroker()
    await broker.place(buy("1", "90.00", cid="resting"))
    cancel = await cancel_checked(broker, RiskEngine(DEFAULTS),
                                  CancelOrder(ClientOrderId("resting")), ctx)
    assert isinstance(cancel, Accepted)


async def test_b39_restricted_conid_order_type_tif_and_hours() -> None:
    limits = RiskLimits.from_mapping({
        "denied_conids": [int(AAPL.conid)],
    })
    await assert_denied(buy(), context(), ReasonCode.CONID_NOT_ALLOWED, limits)
    limits = RiskLimits.from_mapping({"allowed_order_types": ["LMT"], "allowed_tifs": ["DAY"]})
    await assert_denied(buy("1", None, order_type=OrderType.MKT), context(),
                        ReasonCode.ORDER_TYPE_NOT_ALLOWED, limits)
    await assert_denied(buy(tif=TimeInForce.GTC), context(), ReasonCode.TIF_NOT_ALLOWED, limits)
    limits = RiskLimits.from_mapping({"trading_hours": "09:30-16:00"})
    evening = NOW + timedelta(hours=8)  # 18:00 New York
    await assert_denied(buy(), context(now=evening, quote=dataclasses.replace(quote(),
                        time=evening)), ReasonCode.OUTSIDE_TRADING_HOURS, limits)
