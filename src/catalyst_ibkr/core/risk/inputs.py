"""Build risk inputs from the domain objects the OMS holds (Order, Position).

Why here and not in the OMS: the conventions (which orders count, at what price, what a
modify looks like to risk) are risk rules, and keeping them beside the checks means the
service cannot accidentally leave an in-doubt order out of the limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.core.positions import Position
from catalyst_ibkr.core.risk.context import (
    IntentAction,
    OrderIntent,
    PositionExposure,
    WorkingOrder,
)

__all__ = [
    "counts_as_working",
    "intent_for_modify",
    "intent_for_order",
    "position_exposures",
    "working_order_of",
    "working_orders_from",
]


def intent_for_order(order: Order) -> OrderIntent:
    """The risk view of a new order built from a signal."""
    return OrderIntent(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=order.quantity,
        order_type=order.order_type,
        tif=order.tif,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        conid=order.conid,
        strategy=order.strategy,
        outside_rth=order.outside_rth,
        action=IntentAction.NEW,
    )


def intent_for_modify(
    order: Order,
    *,
    quantity: Decimal | None = None,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> OrderIntent:
    """The order as it would be after a modify. Its size for the limits is what would still
    be open (new total minus what already filled): filled shares are already in the position."""
    total = quantity if quantity is not None else order.quantity
    return OrderIntent(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=total - order.filled_quantity,
        order_type=order.order_type,
        tif=order.tif,
        limit_price=limit_price if limit_price is not None else order.limit_price,
        stop_price=stop_price if stop_price is not None else order.stop_price,
        conid=order.conid,
        strategy=order.strategy,
        outside_rth=order.outside_rth,
        action=IntentAction.MODIFY,
    )


def working_orders_from(
    orders: Iterable[Order],
    mark: Callable[[ConId], Decimal | None],
    multiplier: Callable[[ConId], Decimal] = lambda _conid: Decimal(1),
) -> tuple[WorkingOrder, ...]:
    """Every open order (working, PENDING_SUBMIT or IN_DOUBT), at its remaining quantity
    (see `working_order_of`)."""
    out: list[WorkingOrder] = []
    for order in orders:
        if counts_as_working(order):
            out.append(working_order_of(order, mark(order.conid), multiplier(order.conid)))
    return tuple(out)


def counts_as_working(order: Order) -> bool:
    """Open with something left to fill: it counts against the exposure limits."""
    return order.is_open and order.quantity - order.filled_quantity > 0


def working_order_of(
    order: Order, mark: Decimal | None, multiplier: Decimal = Decimal(1)
) -> WorkingOrder:
    """One order that `counts_as_working`, priced at the highest of its limit, its stop and
    the current `mark`, like a new order.

    An open order with no price at all (a market order on an instrument with no mark) cannot
    be valued, so this raises ValueError: the caller must deny new orders until a mark
    exists (fail closed), never count such an order as zero.
    """
    prices = [p for p in (order.limit_price, order.stop_price, mark) if p is not None]
    if not prices:
        raise ValueError(
            f"open order {order.client_order_id} ({order.symbol}) has no price and no mark"
        )
    return WorkingOrder(
        client_order_id=order.client_order_id,
        conid=order.conid,
        side=order.side,
        remaining_quantity=order.quantity - order.filled_quantity,
        price=max(prices),
        multiplier=multiplier,
        in_doubt=order.is_in_flight,
    )


def position_exposures(
    positions: Iterable[Position], mark: Callable[[ConId], Decimal | None]
) -> dict[ConId, PositionExposure]:
    """Non-flat positions at their mark (falling back to their average price)."""
    out: dict[ConId, PositionExposure] = {}
    for position in positions:
        if position.is_flat:
            continue
        price = mark(position.conid)
        if price is None:
            price = abs(position.avg_price) if position.avg_price is not None else None
        if price is None:
            continue  # unreachable: a non-flat position has an average price
        out[position.conid] = PositionExposure(
            position.conid, position.quantity, price, position.multiplier
        )
    return out
