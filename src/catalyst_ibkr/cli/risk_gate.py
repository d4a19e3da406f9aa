"""The pre-trade risk defaults for the CLI's ``buy``/``sell``, evaluated before anything is sent.

The CLI has no journal, so the context is assembled from the broker at the moment of the
command: a fresh quote, the account's positions and working orders (every one counts, ours
or not), and buying power. What the CLI cannot know is stated, never guessed as zero:

- today's P&L is taken from IBKR's partitioned P&L when it answers, else 0 (the daily loss
  limit then cannot trip from the CLI; the service, which journals fills, enforces it);
- recent orders are empty (a single command has no rate or duplicate history).

A working order with no price and no quote of its own makes the context unvaluable and the
order is denied (fail closed), like the service does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.risk import (
    Decision,
    Denial,
    OrderIntent,
    PositionExposure,
    ReasonCode,
    RiskContext,
    RiskEngine,
    RiskLimits,
    WorkingOrder,
)
from catalyst_ibkr.ports.broker import Broker, BrokerUnavailable, PlaceOrder

__all__ = ["evaluate_order"]


async def evaluate_order(broker: Broker, request: PlaceOrder, limits: RiskLimits) -> Decision:
    """The risk decision for ``request`` against the account as the broker reports it now."""
    instrument = request.instrument
    quotes = await broker.quotes([instrument.conid])
    quote: Quote | None = quotes[0] if quotes else None
    mark = _mark(quote)
    positions: dict[ConId, PositionExposure] = {}
    for held in await broker.positions():
        price = mark if held.conid == instrument.conid and mark is not None else abs(held.avg_cost)
        if price <= 0:
            return Decision(Denial(
                ReasonCode.NO_REFERENCE_PRICE,
                f"position {held.symbol} has no price to value it at (no quote, no average cost)",
            ))
        positions[held.conid] = PositionExposure(held.conid, held.quantity, price)
    working: list[WorkingOrder] = []
    for order in await broker.open_orders():
        remaining = order.quantity - order.filled_quantity
        if remaining <= 0:
            continue
        order_price = order.limit_price or order.stop_price
        if order_price is None and order.conid == instrument.conid:
            order_price = mark
        if order_price is None:
            return Decision(Denial(
                ReasonCode.NO_REFERENCE_PRICE,
                f"working order {order.broker_order_id} ({order.symbol}) has no price to "
                "value it at; cancel it or use the service",
            ))
        working.append(WorkingOrder(
            client_order_id=order.client_order_id
            or ClientOrderId(f"external-{order.broker_order_id}"),
            conid=order.conid, side=order.side, remaining_quantity=remaining, price=order_price,
        ))
    try:
        summary = await broker.account()
        buying_power: Decimal | None = summary.buying_power
    except BrokerUnavailable:
        buying_power = None
    context = RiskContext(
        now=datetime.now(UTC),
        instrument=instrument,
        quote=quote,
        positions=positions,
        working_orders=tuple(working),
        buying_power=buying_power,
    )
    return RiskEngine(limits).evaluate(_intent(request, instrument), context)


def _mark(quote: Quote | None) -> Decimal | None:
    if quote is None:
        return None
    return quote.mid or quote.last or quote.reference_price(Side.BUY)


def _intent(request: PlaceOrder, instrument: Instrument) -> OrderIntent:
    return OrderIntent(
        client_order_id=request.client_order_id,
        symbol=instrument.symbol,
        side=request.side,
        quantity=request.quantity,
        order_type=request.order_type,
        tif=request.tif,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        conid=ConId(instrument.conid),
        outside_rth=request.outside_rth,
    )
