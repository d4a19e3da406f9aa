"""Ticket checks that refuse an order before it exists, in IBKR's words where IBKR has them.

Each message says what is wrong and, where IBKR's text does not, what to fix. Nothing here
touches the book: a refused ticket changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from ibkr_sim.engine.errors import EngineRejection
from ibkr_sim.engine.types import OrderTicket, SimOrder
from ibkr_sim.universe import Instrument, Universe

__all__ = [
    "MAX_COID_LENGTH",
    "check_modification",
    "check_price",
    "check_quantity",
    "check_ticket",
]

ORDER_TYPES = ("MKT", "LMT", "STP", "STP_LMT")
TIFS = ("DAY", "GTC", "IOC")
MAX_COID_LENGTH = 64


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def check_quantity(quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        shown = _text(quantity) if isinstance(quantity, Decimal) else repr(quantity)
        raise EngineRejection(
            f"Order size {shown} is not valid. Please enter size greater than 0."
        )


def check_price(name: str, price: Decimal, tick: Decimal) -> None:
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise EngineRejection(f"Invalid order price fields: {name} must be a positive number")
    min_tick = tick if price >= 1 else Decimal("0.0001")
    if price % min_tick != 0:
        raise EngineRejection(
            "The price does not conform to the minimum price variation for this contract. "
            f"({name} {_text(price)} is not a multiple of {min_tick})"
        )


def check_ticket(ticket: OrderTicket, universe: Universe, account_id: str) -> Instrument:
    """Return the instrument the ticket trades, or raise EngineRejection."""
    if ticket.account != account_id:
        raise EngineRejection(
            f"Account {ticket.account} is not a valid account; use {account_id}"
        )
    inst = universe.by_conid(ticket.conid)
    if inst is None:
        raise EngineRejection(
            f"No security definition has been found for the request (conid {ticket.conid})"
        )
    if ticket.side not in ("BUY", "SELL"):
        raise EngineRejection("Invalid Side (must be 'BUY' or 'SELL').")
    if ticket.order_type not in ORDER_TYPES:
        raise EngineRejection(f"Unknown order type {ticket.order_type!r}; use one of MKT, LMT, "
                              "STP, STP_LMT")
    check_quantity(ticket.quantity)
    if ticket.order_type in ("LMT", "STP_LMT"):
        if ticket.limit_price is None:
            raise EngineRejection(
                f"Invalid order price fields: a {ticket.order_type} order needs a limit price"
            )
        check_price("limit price", ticket.limit_price, inst.tick)
    if ticket.order_type in ("STP", "STP_LMT"):
        if ticket.stop_price is None:
            raise EngineRejection(
                f"Invalid order price fields: a {ticket.order_type} order needs a stop price"
            )
        check_price("stop price", ticket.stop_price, inst.tick)
    if ticket.tif not in TIFS:
        shown = "null" if ticket.tif is None else str(ticket.tif)
        raise EngineRejection(
            f"{shown} time in force is not supported for this order (use DAY, GTC or IOC)"
        )
    if ticket.coid is not None and not 0 < len(ticket.coid) <= MAX_COID_LENGTH:
        raise EngineRejection(f"cOID must be 1 to {MAX_COID_LENGTH} characters long")
    return inst


def check_modification(
    order: SimOrder,
    tick: Decimal,
    *,
    quantity: Decimal | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    tif: str | None,
) -> dict[str, object]:
    """The field changes a modify request makes, or EngineRejection if any is invalid."""
    changes: dict[str, object] = {}
    if quantity is not None:
        check_quantity(quantity)
        if quantity <= order.filled_quantity:
            raise EngineRejection(
                f"Order size {_text(quantity)} is not valid: {_text(order.filled_quantity)} "
                "already filled; enter a larger size or cancel the order"
            )
        changes["quantity"] = quantity
    if limit_price is not None:
        if order.order_type not in ("LMT", "STP_LMT"):
            raise EngineRejection(f"a {order.order_type} order has no limit price")
        check_price("limit price", limit_price, tick)
        changes["limit_price"] = limit_price
    if stop_price is not None:
        if order.order_type not in ("STP", "STP_LMT"):
            raise EngineRejection(f"a {order.order_type} order has no stop price")
        check_price("stop price", stop_price, tick)
        changes["stop_price"] = stop_price
    if tif is not None:
        if tif not in TIFS:
            raise EngineRejection(f"{tif} time in force is not supported for this order")
        changes["tif"] = tif
    return changes
