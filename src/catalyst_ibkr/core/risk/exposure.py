"""Arithmetic shared by the market and exposure checks: projected positions and notionals.

Conventions (conservative, and the same everywhere so limits never disagree):
- a working order counts at its full remaining quantity from the moment it is journaled,
  in doubt or not; a modify replaces the order it modifies, so that one is left out;
- "before" is the position if every working order on the SAME side of this intent filled;
  opposite-side working orders are ignored (counting them would let a pending buy excuse a
  sell that could otherwise flip the position);
- an intent is *reducing* when it moves "before" toward zero without crossing it.
"""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.risk.context import (
    IntentAction,
    OrderIntent,
    RiskContext,
    WorkingOrder,
)

__all__ = [
    "is_reducing",
    "order_price",
    "other_working_orders",
    "position_after",
    "position_before",
]


def other_working_orders(intent: OrderIntent, ctx: RiskContext) -> tuple[WorkingOrder, ...]:
    """Working orders other than the one this intent modifies."""
    if intent.action is IntentAction.MODIFY:
        return tuple(w for w in ctx.working_orders if w.client_order_id != intent.client_order_id)
    return ctx.working_orders


def position_before(intent: OrderIntent, ctx: RiskContext) -> Decimal:
    # Callers check the instrument first; the fallback keeps this total, not permissive.
    conid = ctx.instrument.conid if ctx.instrument is not None else intent.conid
    held = ctx.positions.get(conid) if conid is not None else None
    position = held.quantity if held is not None else Decimal(0)
    pending = sum(
        (w.remaining_quantity for w in other_working_orders(intent, ctx)
         if w.conid == conid and w.side is intent.side),
        Decimal(0),
    )
    return position + intent.side.sign * pending


def position_after(intent: OrderIntent, ctx: RiskContext) -> Decimal:
    return position_before(intent, ctx) + intent.side.sign * intent.quantity


def is_reducing(intent: OrderIntent, ctx: RiskContext) -> bool:
    before = position_before(intent, ctx)
    after = position_after(intent, ctx)
    if before == 0:
        return False
    same_sign_or_flat = after == 0 or (after > 0) == (before > 0)
    return same_sign_or_flat and abs(after) < abs(before)


def order_price(intent: OrderIntent, quote: Quote | None) -> Decimal | None:
    """The per-unit price an order's exposure is counted at: the highest of its own limit and
    stop prices and the touch it would meet now (ask to buy, bid to sell, else last).

    Highest, for both sides, because exposure and notional limits guard size, and a higher
    price is the larger exposure. None when nothing is known (the caller denies).
    """
    candidates = [p for p in (intent.limit_price, intent.stop_price) if p is not None]
    if quote is not None and not quote.is_crossed:
        touch = quote.reference_price(intent.side)
        if touch is not None:
            candidates.append(touch)
    return max(candidates) if candidates else None
