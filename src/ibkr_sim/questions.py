"""The "reply" questions the gateway asks before it accepts an order (cpapi.md §6.2, §6.3a).

Clients such as ibind answer these by matching substrings of IBKR's wording, so the texts
below follow the recorded wording exactly where it is known (o163, o354, o383, o451, o10153)
and keep IBKR's known opening where only that is recorded (o10151).  Which questions fire is
decided here from the order, the quote and the session's suppression list; the order in
which they are asked follows the recorded chain (o163 -> o354 -> ... -> o10153).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Question", "QuestionContext", "exchange_display", "fmt_qty", "questions_for"]


@dataclass(frozen=True)
class Question:
    message_id: str
    text: str

    def to_json(self, reply_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": reply_id,
            "message": [self.text],
            "isSuppressed": False,
            "messageIds": [self.message_id],
            "messageOptions": ["Yes", "No"],
        }
        if self.message_id == "o10153":
            body["isSuppressible"] = True
            body["defaultSuppressionOption"] = "Accept and Continue"
            body["messageOptions"] = ["Decline", "Accept and Continue"]
        return body


@dataclass(frozen=True)
class QuestionContext:
    """What the question rules look at for one order."""

    side: str
    order_type: str
    quantity: Decimal
    symbol: str
    listing_exchange: str
    limit_price: Decimal | None
    last: Decimal | None
    entitled: bool
    size_limit: Decimal
    value_limit: Decimal
    price_constraint_pct: Decimal


def new_reply_id() -> str:
    return str(uuid.uuid4())


def exchange_display(listing_exchange: str) -> str:
    """IBKR prints NASDAQ listings as ``NASDAQ.NMS`` in order descriptions."""
    return "NASDAQ.NMS" if listing_exchange == "NASDAQ" else listing_exchange


def fmt_qty(quantity: Decimal) -> str:
    text = format(quantity.normalize(), "f")
    return text


def _money(value: Decimal, places: str = "0.01") -> str:
    return f"{value.quantize(Decimal(places)):,}"


def _far_from_last(ctx: QuestionContext) -> bool:
    if ctx.limit_price is None or ctx.last is None or ctx.last <= 0:
        return False
    distance = abs(ctx.limit_price - ctx.last) / ctx.last * 100
    return distance > ctx.price_constraint_pct


def questions_for(ctx: QuestionContext, suppressed: frozenset[str]) -> list[Question]:
    """Every question this order triggers, in asking order, minus suppressed ids."""
    exchange = exchange_display(ctx.listing_exchange)
    desc = f"{ctx.side} {fmt_qty(ctx.quantity)} {ctx.symbol} {exchange}"
    out: list[Question] = []
    limit_order = ctx.order_type in ("LMT", "STP_LMT")
    if limit_order and _far_from_last(ctx):
        assert ctx.limit_price is not None
        out.append(Question(
            "o163",
            f'The following order "{desc} @ {_money(ctx.limit_price)}" price exceeds \n'
            f"the Percentage constraint of {ctx.price_constraint_pct.normalize()}%.\n"
            "Are you sure you want to submit this order?",
        ))
    if not ctx.entitled:
        out.append(Question(
            "o354",
            "You are submitting an order without market data. We strongly recommend against "
            "this as it may result in erroneous and unexpected trades. Are you sure you want "
            "to submit this order?",
        ))
    if ctx.quantity > ctx.size_limit:
        out.append(Question(
            "o383",
            f'The following order "{desc}" size exceeds the Size Limit of '
            f"{fmt_qty(ctx.size_limit)}.\nAre you sure you want to submit this order?",
        ))
    price = ctx.limit_price if ctx.limit_price is not None else ctx.last
    if price is not None and ctx.quantity * price > ctx.value_limit:
        out.append(Question(
            "o451",
            f'The following order "{desc}" value estimate of {_money(ctx.quantity * price)} USD '
            f"exceeds \nthe Total Value Limit of {_money(ctx.value_limit, '1')} USD.\n"
            "Are you sure you want to submit this order?",
        ))
    if ctx.order_type == "MKT":
        out.append(Question(
            "o10151",
            "A Market Order is an instruction to trade your order at any available price in the "
            "market. Market orders may be executed at prices far from the last price when "
            "liquidity is thin or the market moves fast.\nAre you sure you want to submit this "
            "order?",
        ))
    if limit_order and _far_from_last(ctx):
        out.append(Question(
            "o10153",
            "<h4>Confirm Mandatory Cap Price</h4>To avoid trading at a price that is not "
            "consistent with a fair and orderly market, IB may set a cap (for a buy order) or "
            "sell order). THIS MAY CAUSE AN ORDER THAT WOULD OTHERWISE BE MARKETABLE TO NOT BE "
            "TRADED.",
        ))
    return [q for q in out if q.message_id not in suppressed]
