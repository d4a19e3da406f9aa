"""Turn a Client Portal order body into engine tickets, refusing bad input IBKR's way.

Everything is checked before anything is created, so a malformed order changes nothing.
Field meanings follow cpapi.md §6.1: ``price`` is the limit price for LMT and STP LMT and the
stop price for STP; ``auxPrice`` is the stop price of a STP LMT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ibkr_sim.engine.types import OrderTicket
from ibkr_sim.web.errors import ApiError

__all__ = ["ORDER_TYPES", "parse_order", "parse_orders"]

ORDER_TYPES = {
    "MKT": "MKT", "MARKET": "MKT",
    "LMT": "LMT", "LIMIT": "LMT",
    "STP": "STP", "STOP": "STP",
    "STP LMT": "STP_LMT", "STP_LMT": "STP_LMT", "STOP_LIMIT": "STP_LMT", "STOPLIMIT": "STP_LMT",
}
TIFS = ("DAY", "GTC", "IOC")
MAX_COID = 64


class OrderRejected(Exception):
    """A definitive refusal IBKR answers with HTTP 200 and ``{"error": ...}``."""


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


def _number(order: dict[str, Any], key: str) -> Decimal | None:
    value = order.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _bad(f"orders request includes parameter with incorrect type: {key} must be a number")
    number = Decimal(value)
    if not number.is_finite():
        raise _bad(f"{key} must be a finite number")
    return number


def _conid(order: dict[str, Any]) -> int:
    raw = order.get("conid")
    if raw is None and isinstance(order.get("conidex"), str):
        raw = order["conidex"].split("@", 1)[0]
    if raw is None:
        raise _bad("conid or conidex is required")
    if isinstance(raw, bool):
        raise _bad("orders request includes parameter with incorrect type: conid")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    raise _bad("orders request includes parameter with incorrect type: conid")


def parse_order(order: Any, account: str, *, oca_group: str | None = None) -> OrderTicket:
    if not isinstance(order, dict):
        raise _bad("each order must be a JSON object")
    acct = order.get("acctId")
    if acct is not None and acct != account:
        raise _bad(f"acctId {acct!r} does not match the account in the path ({account})")
    conid = _conid(order)
    side = order.get("side")
    if not isinstance(side, str) or side.upper() not in ("BUY", "SELL"):
        raise _bad("Invalid Side (must be 'BUY' or 'SELL').")
    raw_type = order.get("orderType")
    if not isinstance(raw_type, str) or raw_type.upper() not in ORDER_TYPES:
        raise _bad("Unknown order type")
    order_type = ORDER_TYPES[raw_type.upper()]
    quantity = _number(order, "quantity")
    if quantity is None:
        raise _bad("quantity is required")
    price = _number(order, "price")
    aux = _number(order, "auxPrice")
    tif = order.get("tif")
    if tif is None:
        raise OrderRejected("null time in force is not supported for this order")
    if not isinstance(tif, str) or tif.upper() not in TIFS:
        raise _bad(f"tif must be one of {', '.join(TIFS)} (the simulator's supported set)")
    outside = order.get("outsideRTH", False)
    if not isinstance(outside, bool):
        raise _bad("orders request includes parameter with incorrect type: outsideRTH")
    coid = order.get("cOID")
    if coid is not None and (not isinstance(coid, str) or not coid or len(coid) > MAX_COID):
        raise _bad(f"cOID must be a non-empty string of at most {MAX_COID} characters")
    parent = order.get("parentId")
    if parent is not None and not isinstance(parent, str):
        raise _bad("orders request includes parameter with incorrect type: parentId")
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    if order_type == "LMT":
        limit_price = price
    elif order_type == "STP":
        stop_price = price if price is not None else aux
    elif order_type == "STP_LMT":
        limit_price, stop_price = price, aux
    if order_type != "MKT" and limit_price is None and stop_price is None:
        raise OrderRejected("Invalid order price fields")
    if order_type == "STP_LMT" and (limit_price is None or stop_price is None):
        raise OrderRejected("Invalid order price fields")
    return OrderTicket(
        account=account, conid=conid, side=side.upper(), order_type=order_type,
        quantity=quantity, limit_price=limit_price, stop_price=stop_price, tif=tif.upper(),
        outside_rth=outside, coid=coid, parent_coid=parent, oca_group=oca_group, origin="cp",
    )


def parse_orders(body: Any, account: str) -> list[OrderTicket]:
    """Parse ``{"orders": [...]}``; OCA legs (``isSingleGroup``) share one group name."""
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        raise _bad('body must be {"orders": [{...}]}')
    orders: list[Any] = body["orders"]
    if not orders:
        raise _bad("orders must not be empty")
    if len(orders) > 20:
        raise _bad("at most 20 orders (a parent with its children) per request")
    oca: str | None = None
    if any(isinstance(o, dict) and o.get("isSingleGroup") is True for o in orders):
        first = orders[0] if isinstance(orders[0], dict) else {}
        oca = f"OCA_{first.get('cOID') or id(body)}"
    # A bracket parent is never in its children's OCA group: its fill must release them,
    # not cancel them. Only the legs that say isSingleGroup join the group.
    parents = {
        o["parentId"] for o in orders if isinstance(o, dict) and isinstance(o.get("parentId"), str)
    }
    return [
        parse_order(o, account, oca_group=oca if _joins_oca(o, parents) else None)
        for o in orders
    ]


def _joins_oca(order: Any, parents: set[str]) -> bool:
    if not isinstance(order, dict) or order.get("isSingleGroup") is not True:
        return False
    return order.get("cOID") is None or order.get("cOID") not in parents
