"""Checks that need market data, positions or the account: the money limits.

All of them fail closed: without a fresh quote, a reference price or buying power, an order
that could add risk is denied rather than let through on a guess. Same signature as in
checks_order: `(intent, context, limits) -> Denial | None`.
"""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType, Side, TradingState
from catalyst_ibkr.core.risk.checks_order import check_instrument_known
from catalyst_ibkr.core.risk.config import RiskLimits
from catalyst_ibkr.core.risk.context import OrderIntent, RiskContext
from catalyst_ibkr.core.risk.exposure import (
    is_reducing,
    order_price,
    other_working_orders,
    position_after,
    position_before,
)
from catalyst_ibkr.core.risk.reasons import Denial, ReasonCode

__all__ = [
    "check_buying_power",
    "check_fresh_quote",
    "check_gross_exposure",
    "check_notional",
    "check_position",
    "check_price_collar",
    "check_reduce_only",
    "daily_loss_breached",
]

_HUNDRED = Decimal(100)


def check_fresh_quote(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    """Every order needs a fresh, uncrossed quote: a market order to be priced at all, and a
    priced order so the collar can be verified (no quote means the collar cannot hold)."""
    quote = ctx.quote
    age = limits.quote_max_age_s
    if quote is None:
        return Denial(
            ReasonCode.NO_FRESH_QUOTE, f"no quote for {intent.symbol}; an order needs one "
            f"younger than [risk] quote_max_age_s {age}s",
        )
    if not quote.is_fresh(ctx.now, limits.quote_max_age):
        return Denial(
            ReasonCode.NO_FRESH_QUOTE,
            f"the {intent.symbol} quote is {quote.age(ctx.now).total_seconds():g}s old; "
            f"[risk] quote_max_age_s is {age}",
        )
    if quote.is_crossed:
        return Denial(
            ReasonCode.NO_REFERENCE_PRICE,
            f"the {intent.symbol} quote is crossed (bid {quote.bid} > ask {quote.ask})",
        )
    if quote.reference_price(intent.side) is None:
        side = "ask" if intent.side is Side.BUY else "bid"
        return Denial(
            ReasonCode.NO_REFERENCE_PRICE, f"the {intent.symbol} quote has no {side} and no last"
        )
    return None


def check_price_collar(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    """A limit price may not be more than `price_collar_pct` THROUGH the market: a buy above
    the ask, a sell below the bid. A passive limit far from the market is fine.

    A stop-limit only becomes live once the market reaches its stop, so its reference is the
    worse of the touch and the stop (max for a buy, min for a sell).
    """
    limit = intent.limit_price
    quote = ctx.quote
    if limit is None or quote is None:
        return None
    touch = quote.reference_price(intent.side)
    if touch is None:
        return None  # check_fresh_quote has already denied this
    reference = touch
    if intent.order_type is OrderType.STP_LMT and intent.stop_price is not None:
        pick = max if intent.side is Side.BUY else min
        reference = pick(touch, intent.stop_price)
    band = limits.price_collar_pct / _HUNDRED
    if intent.side is Side.BUY:
        bound = reference * (1 + band)
        if limit > bound:
            return Denial(
                ReasonCode.PRICE_OUTSIDE_COLLAR,
                f"buy limit {limit} is above {bound.normalize():f}, more than "
                f"{limits.price_collar_pct}% through the reference {reference}",
            )
    else:
        bound = reference * (1 - band)
        if limit < bound:
            return Denial(
                ReasonCode.PRICE_OUTSIDE_COLLAR,
                f"sell limit {limit} is below {bound.normalize():f}, more than "
                f"{limits.price_collar_pct}% through the reference {reference}",
            )
    return None


def _notional(intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
    if ctx.instrument is None:
        return None
    price = order_price(intent, ctx.quote)
    if price is None:
        return None
    return ctx.instrument.notional(intent.quantity, price)


def _no_price(intent: OrderIntent) -> Denial:
    return Denial(
        ReasonCode.NO_REFERENCE_PRICE, f"cannot value the {intent.symbol} order: no price known"
    )


def check_notional(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    notional = _notional(intent, ctx)
    if notional is None:
        return _no_price(intent)
    if notional <= limits.max_order_notional:
        return None
    return Denial(
        ReasonCode.NOTIONAL_EXCEEDS_MAX,
        f"order notional {notional} exceeds [risk] max_order_notional {limits.max_order_notional}",
    )


def daily_loss_breached(ctx: RiskContext, limits: RiskLimits) -> bool:
    """A loss of exactly the limit trips (the limit is the most the day may lose)."""
    return ctx.daily_pnl <= -limits.daily_loss_limit


def check_reduce_only(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    """In REDUCING (set by an operator, or tripped by the daily loss limit) only orders that
    shrink |position| without flipping it pass."""
    if ctx.instrument is None:
        return check_instrument_known(intent, ctx, limits)
    operator_reducing = ctx.trading_state is TradingState.REDUCING
    loss_tripped = daily_loss_breached(ctx, limits)
    if not (operator_reducing or loss_tripped) or is_reducing(intent, ctx):
        return None
    before, after = position_before(intent, ctx), position_after(intent, ctx)
    if operator_reducing:
        return Denial(
            ReasonCode.REDUCE_ONLY,
            f"trading is REDUCING: this order would take the position from {before} to {after}",
        )
    return Denial(
        ReasonCode.DAILY_LOSS_LIMIT,
        f"daily P&L {ctx.daily_pnl} breaches [risk] daily_loss_limit {limits.daily_loss_limit}; "
        f"only reducing orders pass (this one: {before} -> {after})",
    )


def check_position(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    if ctx.instrument is None:
        return check_instrument_known(intent, ctx, limits)
    before, after = position_before(intent, ctx), position_after(intent, ctx)
    if abs(after) <= limits.max_position_quantity or abs(after) <= abs(before):
        return None
    return Denial(
        ReasonCode.POSITION_EXCEEDS_MAX,
        f"position would reach {after} (held plus working orders), beyond [risk] "
        f"max_position_quantity {limits.max_position_quantity}",
    )


def _working_notional(intent: OrderIntent, ctx: RiskContext) -> Decimal:
    return sum((w.notional for w in other_working_orders(intent, ctx)), Decimal(0))


def check_gross_exposure(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    """Held positions at their marks plus every working order plus this one."""
    if ctx.instrument is None:
        return check_instrument_known(intent, ctx, limits)
    if is_reducing(intent, ctx):
        return None
    notional = _notional(intent, ctx)
    if notional is None:
        return _no_price(intent)
    held = sum((p.notional for p in ctx.positions.values()), Decimal(0))
    total = held + _working_notional(intent, ctx) + notional
    if total <= limits.max_gross_exposure:
        return None
    return Denial(
        ReasonCode.GROSS_EXPOSURE_EXCEEDS_MAX,
        f"gross exposure would reach {total} (positions {held} + working orders + this order), "
        f"beyond [risk] max_gross_exposure {limits.max_gross_exposure}",
    )


def check_buying_power(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    """Working and in-doubt orders plus this one may use at most `buying_power_use_pct` of
    buying power. An order that only reduces a position frees capital and is exempt."""
    if ctx.instrument is None:
        return check_instrument_known(intent, ctx, limits)
    if is_reducing(intent, ctx):
        return None
    if ctx.buying_power is None:
        return Denial(
            ReasonCode.ACCOUNT_DATA_MISSING, "buying power is unknown (no account summary yet)"
        )
    notional = _notional(intent, ctx)
    if notional is None:
        return _no_price(intent)
    working = _working_notional(intent, ctx)
    allowed = ctx.buying_power * limits.buying_power_use_pct / _HUNDRED
    if working + notional <= allowed:
        return None
    return Denial(
        ReasonCode.CUM_NOTIONAL_EXCEEDS_BUYING_POWER,
        f"working orders {working} + this order {notional} exceed {allowed} "
        f"([risk] buying_power_use_pct {limits.buying_power_use_pct}% of buying power "
        f"{ctx.buying_power})",
    )
