"""Hypothesis strategies for the risk engine: intents, contexts and limits near the edges."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from hypothesis import strategies as st
from risk_builders import AAPL, MSFT, NOW

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce, TradingState
from catalyst_ibkr.core.ids import ClientOrderId, StrategyId
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.risk import (
    IntentAction,
    OrderIntent,
    PositionExposure,
    RecentOrder,
    RiskContext,
    RiskLimits,
)
from catalyst_ibkr.core.risk.context import WorkingOrder

D = Decimal
cents = st.integers(min_value=9000, max_value=11000).map(lambda c: D(c) / 100)
quantities = st.sampled_from([D(1), D(5), D(10), D(50), D(100)]) | st.integers(1, 3000).map(D)
signed_quantities = st.integers(min_value=-3000, max_value=3000).map(D)


@st.composite
def intents(draw: st.DrawFn) -> OrderIntent:
    order_type = draw(st.sampled_from(list(OrderType)))
    limit = draw(cents) if order_type.needs_limit_price else None
    stop = draw(cents) if order_type.needs_stop_price else None
    return OrderIntent(
        client_order_id=ClientOrderId(draw(st.sampled_from(["c-1", "c-2"]))),
        symbol="AAPL",
        side=draw(st.sampled_from(list(Side))),
        quantity=draw(quantities),
        order_type=order_type,
        tif=draw(st.sampled_from(list(TimeInForce))),
        limit_price=limit,
        stop_price=stop,
        strategy=StrategyId("s1"),
        action=draw(st.sampled_from(list(IntentAction))),
    )


@st.composite
def quotes(draw: st.DrawFn) -> Quote | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    bid = draw(cents)
    spread = draw(st.integers(min_value=0, max_value=50))
    age = draw(st.floats(min_value=0, max_value=8, allow_nan=False))
    return Quote(AAPL.conid, bid, bid + D(spread) / 100, None, NOW - timedelta(seconds=age))


@st.composite
def contexts(draw: st.DrawFn) -> RiskContext:
    positions: dict[object, PositionExposure] = {}
    for instrument in (AAPL, MSFT):
        if draw(st.booleans()):
            positions[instrument.conid] = PositionExposure(
                instrument.conid, draw(signed_quantities), draw(cents)
            )
    working = tuple(
        WorkingOrder(ClientOrderId(f"c-{i}"), draw(st.sampled_from([AAPL.conid, MSFT.conid])),
                     draw(st.sampled_from(list(Side))), draw(quantities), draw(cents),
                     in_doubt=draw(st.booleans()))
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    )
    recent = tuple(
        RecentOrder(NOW - timedelta(seconds=draw(st.floats(0, 20, allow_nan=False))), "AAPL",
                    draw(st.sampled_from(list(Side))), draw(quantities), OrderType.LMT,
                    draw(cents), None, StrategyId("s1"))
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    )
    return RiskContext(
        now=NOW,
        instrument=draw(st.sampled_from([AAPL] * 9 + [None])),
        quote=draw(quotes()),
        trading_state=draw(st.sampled_from([TradingState.ACTIVE] * 6 + list(TradingState))),
        broker_hold_reason=draw(st.sampled_from([None] * 9 + ["down"])),
        positions=positions,  # type: ignore[arg-type]
        working_orders=working,
        buying_power=draw(st.sampled_from([D(10**6)] * 3 + [None]) | _pos(0, 10**6)),
        daily_pnl=D(draw(st.integers(min_value=-5000, max_value=5000))),
        recent_orders=recent,
    )


def _pos(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=lo, max_value=hi).map(D)


def _limit(lo: int, hi: int, generous: int) -> st.SearchStrategy[Decimal]:
    """Half the time a generous value, so later checks are reached, else anything."""
    return st.just(D(generous)) | _pos(lo, hi)


@st.composite
def limits(draw: st.DrawFn) -> RiskLimits:
    return RiskLimits(
        max_order_quantity=draw(_limit(1, 6000, 10**6)),
        max_order_notional=draw(_limit(100, 600_000, 10**9)),
        max_position_quantity=draw(_limit(1, 6000, 10**6)),
        max_gross_exposure=draw(_limit(100, 2_000_000, 10**9)),
        price_collar_pct=draw(_limit(1, 30, 50)),
        quote_max_age_s=draw(_limit(1, 10, 10)),
        buying_power_use_pct=draw(_limit(1, 100, 100)),
        daily_loss_limit=draw(_limit(1, 6000, 10**6)),
        max_orders_per_second=draw(st.just(50) | st.integers(min_value=1, max_value=8)),
        duplicate_window_s=draw(_pos(0, 30)),
        denied_symbols=frozenset(draw(st.sets(st.sampled_from(["MSFT", "SPY"])))),
        allowed_order_types=draw(
            st.just(frozenset(OrderType)) | st.frozensets(st.sampled_from(list(OrderType)),
                                                           min_size=1)
        ),
        allowed_tifs=draw(
            st.just(frozenset(TimeInForce)) | st.frozensets(st.sampled_from(list(TimeInForce)),
                                                             min_size=1)
        ),
    )


@st.composite
def tightened(draw: st.DrawFn, base: RiskLimits) -> RiskLimits:
    """Limits at least as strict as `base` in every dimension (possibly equal)."""

    def shrink(value: Decimal) -> Decimal:
        pct = draw(st.integers(min_value=10, max_value=100))
        return max(value * pct / 100, D("0.01"))

    return dataclasses.replace(
        base,
        max_order_quantity=shrink(base.max_order_quantity),
        max_order_notional=shrink(base.max_order_notional),
        max_position_quantity=shrink(base.max_position_quantity),
        max_gross_exposure=shrink(base.max_gross_exposure),
        price_collar_pct=shrink(base.price_collar_pct),
        quote_max_age_s=shrink(base.quote_max_age_s),
        buying_power_use_pct=shrink(base.buying_power_use_pct),
        daily_loss_limit=shrink(base.daily_loss_limit),
        max_orders_per_second=draw(st.integers(1, base.max_orders_per_second)),
        duplicate_window_s=base.duplicate_window_s + draw(_pos(0, 10)),
        denied_symbols=base.denied_symbols | draw(st.sets(st.sampled_from(["AAPL", "MSFT"]))),
        allowed_order_types=frozenset(
            draw(st.sets(st.sampled_from(sorted(base.allowed_order_types)), min_size=1))
        ),
        allowed_tifs=frozenset(
            draw(st.sets(st.sampled_from(sorted(base.allowed_tifs)), min_size=1))
        ),
    )
