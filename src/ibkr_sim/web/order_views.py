"""How the gateway spells an order: live-orders rows (camelCase), order status (snake_case).

Kept apart from the routes because the websocket ``sor`` topic will reuse the same rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ibkr_sim.engine.types import Execution, SimOrder
from ibkr_sim.questions import exchange_display, fmt_qty
from ibkr_sim.universe import Instrument

__all__ = ["live_order_row", "order_description", "order_status_body", "trade_row"]

_TYPE_WORDS = {"MKT": "Market", "LMT": "Limit", "STP": "Stop", "STP_LMT": "Stop Limit"}
_ORIG_TYPES = {"MKT": "MARKET", "LMT": "LIMIT", "STP": "STOP", "STP_LMT": "STOP_LIMIT"}
_TIF_WORDS = {"DAY": "Day", "GTC": "GTC", "IOC": "IOC"}
_COLOURS = {
    "Inactive": ("#000000", "#AFAFAF"),
    "PendingSubmit": ("#FFFFFF", "#3399CC"),
    "PreSubmitted": ("#FFFFFF", "#997EE5"),
    "Submitted": ("#000000", "#00F000"),
    "Filled": ("#FFFFFF", "#000000"),
    "Cancelled": ("#FFFFFF", "#AA0000"),
}


def _px(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _yymmddhhmmss(when: datetime) -> str:
    return when.strftime("%y%m%d%H%M%S")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _type_phrase(order: SimOrder) -> str:
    word = _TYPE_WORDS.get(order.order_type, order.order_type)
    if order.order_type == "LMT":
        return f"{word} {_px(order.limit_price)}"
    if order.order_type == "STP":
        return f"{word} {_px(order.stop_price)}"
    if order.order_type == "STP_LMT":
        return f"{word} {_px(order.limit_price)}, {_px(order.stop_price)}"
    return word


def order_description(order: SimOrder, *, with_ticker: bool) -> str:
    """``Buy 1 AAPL Limit 1.00, Day`` while working; ``Bought 5 Market, GTC`` once filled."""
    filled = order.status == "Filled"
    if filled:
        verb = "Bought" if order.side == "BUY" else "Sold"
        qty = order.filled_quantity
    else:
        verb = "Buy" if order.side == "BUY" else "Sell"
        qty = order.quantity
    ticker = f" {order.symbol}" if with_ticker or not filled else ""
    tif = _TIF_WORDS.get(order.tif, order.tif)
    return f"{verb} {fmt_qty(qty)}{ticker} {_type_phrase(order)}, {tif}"


def _size_and_fills(order: SimOrder) -> str:
    if order.remaining_quantity == 0:
        return fmt_qty(order.filled_quantity)
    return f"{fmt_qty(order.filled_quantity)}/{fmt_qty(order.remaining_quantity)}"


def _price_field(order: SimOrder) -> str | None:
    if order.order_type in ("LMT", "STP_LMT"):
        return _px(order.limit_price)
    if order.order_type == "STP":
        return _px(order.stop_price)
    return None


def live_order_row(order: SimOrder, inst: Instrument | None) -> dict[str, Any]:
    listing = exchange_display(inst.listing_exchange if inst else order.listing_exchange)
    bg, fg = _COLOURS.get(order.status, ("#000000", "#FFFFFF"))
    row: dict[str, Any] = {
        "acct": order.account, "account": order.account, "conidex": str(order.conid),
        "conid": order.conid, "orderId": order.order_id, "cashCcy": "USD",
        "sizeAndFills": _size_and_fills(order),
        "orderDesc": order_description(order, with_ticker=False),
        "description1": order.symbol, "ticker": order.symbol, "secType": "STK",
        "listingExchange": listing, "remainingQuantity": float(order.remaining_quantity),
        "filledQuantity": float(order.filled_quantity), "totalSize": float(order.quantity),
        "companyName": inst.name.upper() if inst else order.symbol,
        "status": order.status, "order_ccp_status": order.status,
        "origOrderType": _ORIG_TYPES.get(order.order_type, order.order_type),
        "supportsTaxOpt": "1", "lastExecutionTime": _yymmddhhmmss(order.updated_at),
        "orderType": _TYPE_WORDS.get(order.order_type, order.order_type),
        "bgColor": bg, "fgColor": fg, "timeInForce": order.tif,
        "lastExecutionTime_r": _ms(order.updated_at), "side": order.side,
        "outsideRTH": order.outside_rth, "isEventTrading": "0",
    }
    if order.coid is not None:
        row["order_ref"] = order.coid
    price = _price_field(order)
    if price is not None:
        row["price"] = price
    if order.order_type == "STP_LMT":
        row["auxPrice"] = _px(order.stop_price)
    if order.avg_fill_price is not None and order.filled_quantity > 0:
        row["avgPrice"] = _px(order.avg_fill_price)
    return row


_STATUS_DESCRIPTIONS = {
    "Inactive": "Order Inactive",
    "PendingSubmit": "Order Pending Submit",
    "PreSubmitted": "Order Submitted",
    "Submitted": "Order Submitted",
    "Filled": "Order Filled",
    "Cancelled": "Order Cancelled",
}


def order_status_body(order: SimOrder, inst: Instrument | None) -> dict[str, Any]:
    listing = exchange_display(inst.listing_exchange if inst else order.listing_exchange)
    terminal = order.is_terminal
    body: dict[str, Any] = {
        "sub_type": None, "request_id": "0", "server_id": "0", "order_id": order.order_id,
        "conidex": str(order.conid), "conid": order.conid, "symbol": order.symbol,
        "side": "B" if order.side == "BUY" else "S", "contract_description_1": order.symbol,
        "listing_exchange": listing, "option_acct": "c",
        "company_name": inst.name.upper() if inst else order.symbol,
        "size": f"{order.remaining_quantity:.1f}", "total_size": f"{order.quantity:.1f}",
        "currency": "USD", "account": order.account,
        "order_type": _ORIG_TYPES.get(order.order_type, order.order_type),
        "cum_fill": f"{order.filled_quantity:.1f}", "order_status": order.status,
        "order_ccp_status": order.status,
        "order_status_description": _STATUS_DESCRIPTIONS.get(order.status, order.status),
        "tif": order.tif, "fg_color": _COLOURS.get(order.status, ("", "#FFFFFF"))[1],
        "bg_color": _COLOURS.get(order.status, ("#000000", ""))[0],
        "order_not_editable": terminal, "editable_fields": "" if terminal else "\u001e",
        "cannot_cancel_order": terminal, "deactivate_order": False, "sec_type": "STK",
        "available_chart_periods": "#R|1",
        "order_description": order_description(order, with_ticker=False),
        "order_description_with_contract": order_description(order, with_ticker=True),
        "alert_active": 1, "child_order_type": "0", "order_clearing_account": order.account,
        "size_and_fills": _size_and_fills(order), "outside_rth": order.outside_rth,
        "all_or_none": False, "order_time": _yymmddhhmmss(order.created_at),
        "allowed_duplicate_opposite": True,
    }
    if order.limit_price is not None:
        body["limit_price"] = _px(order.limit_price)
    if order.stop_price is not None:
        body["stop_price"] = _px(order.stop_price)
    if order.avg_fill_price is not None and order.filled_quantity > 0:
        body["average_price"] = _px(order.avg_fill_price)
    if order.reject_reason:
        body["reject_reason"] = order.reject_reason
    return body


def trade_row(ex: Execution, inst: Instrument | None) -> dict[str, Any]:
    verb = "Bot" if ex.side == "BUY" else "Sold"
    listing = exchange_display(inst.listing_exchange if inst else "")
    return {
        "execution_id": ex.execution_id, "symbol": ex.symbol, "supports_tax_opt": "1",
        "side": "B" if ex.side == "BUY" else "S",
        "order_description": f"{verb} {fmt_qty(ex.quantity)} @ {ex.price} on {ex.exchange}",
        "trade_time": ex.time.strftime("%Y%m%d-%H:%M:%S"), "trade_time_r": _ms(ex.time),
        "size": float(ex.quantity), "price": str(ex.price),
        "order_ref": ex.coid, "submitter": "simuser1", "exchange": ex.exchange,
        "commission": f"{ex.commission:.2f}", "net_amount": float(ex.net_amount),
        "account": ex.account, "accountCode": ex.account,
        "account_allocation_name": ex.account,
        "company_name": inst.name.upper() if inst else ex.symbol,
        "contract_description_1": ex.symbol, "sec_type": "STK", "listing_exchange": listing,
        "conid": ex.conid, "conidEx": str(ex.conid), "position": fmt_qty(ex.position_after),
        "clearing_id": "IB", "clearing_name": "IB", "liquidation_trade": "0",
        "is_event_trading": "0", "order_id": ex.order_id,
    }
