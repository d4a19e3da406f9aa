"""Small builders for core tests (orders and fills with sensible defaults)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import ClientOrderId, ConId, ExecutionId, SignalId
from catalyst_ibkr.core.orders import Order

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
CONID = ConId(265598)


def make_order(quantity: str | int = 10, side: Side = Side.BUY) -> Order:
    return Order(
        client_order_id=ClientOrderId("sig-1-0123456789abcdef"),
        signal_id=SignalId("sig-1"),
        conid=CONID,
        symbol="AAPL",
        side=side,
        quantity=Decimal(quantity),
        order_type=OrderType.LMT,
        limit_price=Decimal("190.00"),
        created_at=T0,
    )


def sent_order(quantity: str | int = 10, side: Side = Side.BUY) -> Order:
    order = make_order(quantity, side)
    order.mark_submitting(T0)
    return order


def working_order(quantity: str | int = 10, side: Side = Side.BUY) -> Order:
    order = sent_order(quantity, side)
    order.accept(T0)
    return order


def fill(
    exec_id: str,
    quantity: str | int | Decimal,
    price: str | int | Decimal = "189.99",
    side: Side = Side.BUY,
    commission: str | None = None,
    conid: ConId = CONID,
) -> Fill:
    return Fill(
        execution_id=ExecutionId(exec_id),
        conid=conid,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        time=T0,
        commission=None if commission is None else Decimal(commission),
    )
