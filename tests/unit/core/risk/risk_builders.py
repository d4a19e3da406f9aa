"""Builders for risk tests: a loose baseline where every limit but the one under test is huge."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import ClientOrderId, ConId, StrategyId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.risk import OrderIntent, RiskContext, RiskLimits

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
AAPL = Instrument(conid=ConId(265598), symbol="AAPL")
MSFT = Instrument(conid=ConId(272093), symbol="MSFT")
HUGE = Decimal("1e12")
D = Decimal


def loose(**overrides: Any) -> RiskLimits:
    """Limits that deny nothing by size, so one limit can be tested at its boundary."""
    base = RiskLimits(
        max_order_quantity=HUGE,
        max_order_notional=HUGE,
        max_position_quantity=HUGE,
        max_gross_exposure=HUGE,
        price_collar_pct=D(1000),
        quote_max_age_s=D(5),
        buying_power_use_pct=D(100),
        daily_loss_limit=HUGE,
        max_orders_per_second=10**9,
    )
    return dataclasses.replace(base, **overrides)


def quote(
    bid: str | None = "100.00",
    ask: str | None = "100.00",
    last: str | None = None,
    *,
    age_s: float = 0,
    instrument: Instrument = AAPL,
) -> Quote:
    return Quote(
        conid=instrument.conid,
        bid=None if bid is None else D(bid),
        ask=None if ask is None else D(ask),
        last=None if last is None else D(last),
        time=NOW - timedelta(seconds=age_s),
    )


def intent(**overrides: Any) -> OrderIntent:
    values: dict[str, Any] = {
        "client_order_id": ClientOrderId("c-1"),
        "symbol": "AAPL",
        "side": Side.BUY,
        "quantity": D(10),
        "order_type": OrderType.LMT,
        "tif": TimeInForce.DAY,
        "limit_price": D("100.00"),
        "strategy": StrategyId("s1"),
    }
    values.update(overrides)
    return OrderIntent(**values)


def context(**overrides: Any) -> RiskContext:
    values: dict[str, Any] = {
        "now": NOW,
        "instrument": AAPL,
        "quote": quote(),
        "buying_power": HUGE,
    }
    values.update(overrides)
    return RiskContext(**values)
