"""Pure matching rules: when may an order trade, is its stop triggered, at what price.

Fills happen at the touch (IBKR's simulated paper fills behave similarly): a buy takes the
ask, a sell hits the bid. There is no queue position or book depth beyond the displayed touch
size, which ``SimEngine`` uses as the liquidity available per simulated second.
"""

from __future__ import annotations

from decimal import Decimal

from ibkr_sim.engine.types import SimOrder
from ibkr_sim.market import Quote

__all__ = ["fill_price", "session_allows", "stop_triggered", "touch_size"]


def session_allows(order: SimOrder, *, regular_open: bool, extended_open: bool) -> bool:
    """Regular hours admit everything; extended hours only outside-RTH limit-priced orders.

    IBKR holds market and stop orders for the regular session even with outsideRTH set.
    """
    if regular_open:
        return True
    return order.outside_rth and order.order_type in ("LMT", "STP_LMT") and extended_open


def stop_triggered(order: SimOrder, quote: Quote) -> bool:
    """IBKR's default trigger for US stocks: the last price reaches the stop."""
    if order.order_type not in ("STP", "STP_LMT") or order.triggered:
        return True
    assert order.stop_price is not None
    if order.side == "BUY":
        return quote.last >= order.stop_price
    return quote.last <= order.stop_price


def fill_price(order: SimOrder, quote: Quote) -> Decimal | None:
    """The touch price if the (triggered) order is marketable now, else None."""
    touch = quote.ask if order.side == "BUY" else quote.bid
    if order.order_type in ("MKT", "STP"):
        return touch
    limit = order.limit_price
    assert limit is not None
    if order.side == "BUY":
        return touch if touch <= limit else None
    return touch if touch >= limit else None


def touch_size(order: SimOrder, quote: Quote) -> Decimal:
    return Decimal(quote.ask_size if order.side == "BUY" else quote.bid_size)
