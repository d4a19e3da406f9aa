"""Checks that need only the order itself, the config and the clock (no market data).

Each check is a pure function `(intent, context, limits) -> Denial | None`. None means "this
check has no objection", never "approved": only the engine, after every check, approves.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.risk.config import RiskLimits
from catalyst_ibkr.core.risk.context import IntentAction, OrderIntent, RiskContext
from catalyst_ibkr.core.risk.reasons import Denial, ReasonCode

__all__ = [
    "check_broker_hold",
    "check_duplicate",
    "check_halted",
    "check_instrument_known",
    "check_lists",
    "check_order_type_and_tif",
    "check_order_values",
    "check_quantity",
    "check_rate",
    "check_strategy_enabled",
    "check_trading_hours",
]

_RATE_WINDOW = timedelta(seconds=1)


def check_broker_hold(ctx: RiskContext) -> Denial | None:
    """While the broker is out (disconnected, session lost, reconciling) nothing is sent,
    not even a cancel: the hold clears by itself after reconnect and reconciliation."""
    if ctx.broker_hold_reason is None:
        return None
    return Denial(
        ReasonCode.BROKER_OUTAGE_HOLD,
        f"broker outage hold ({ctx.broker_hold_reason}); nothing is sent until the session is "
        "back and reconciled",
    )


def check_halted(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    if ctx.trading_state is not TradingState.HALTED:
        return None
    verb = "modifies" if intent.action is IntentAction.MODIFY else "new orders"
    return Denial(
        ReasonCode.TRADING_HALTED,
        f"trading is HALTED: {verb} are refused until an operator sets ACTIVE (cancels still "
        "work)",
    )


def check_strategy_enabled(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    """A strategy stopped by the fill circuit stays stopped until a person re-enables it."""
    if intent.strategy is None or intent.strategy not in ctx.disabled_strategies:
        return None
    return Denial(
        ReasonCode.STRATEGY_DISABLED,
        f"strategy {intent.strategy} is disabled after too many fills; an operator must "
        "re-enable it",
    )


def check_instrument_known(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    instrument = ctx.instrument
    if instrument is None:
        return Denial(
            ReasonCode.INSTRUMENT_NOT_FOUND,
            f"no resolved instrument for {intent.symbol!r}; refusing rather than guessing",
        )
    if intent.conid is not None and intent.conid != instrument.conid:
        return Denial(
            ReasonCode.INSTRUMENT_NOT_FOUND,
            f"order conid {intent.conid} does not match the resolved instrument "
            f"{instrument.symbol} ({instrument.conid})",
        )
    if intent.symbol.strip().upper() != instrument.symbol:
        return Denial(
            ReasonCode.INSTRUMENT_NOT_FOUND,
            f"order symbol {intent.symbol!r} does not match the resolved instrument "
            f"{instrument.symbol} ({instrument.conid})",
        )
    return None


def check_lists(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    """Deny lists win; a non-empty allow list admits only what it names."""
    if ctx.instrument is None:
        return check_instrument_known(intent, ctx, limits)
    symbol, conid = ctx.instrument.symbol, int(ctx.instrument.conid)
    if symbol in limits.denied_symbols:
        return Denial(ReasonCode.SYMBOL_NOT_ALLOWED, f"{symbol} is in [risk] denied_symbols")
    if limits.allowed_symbols and symbol not in limits.allowed_symbols:
        return Denial(ReasonCode.SYMBOL_NOT_ALLOWED, f"{symbol} is not in [risk] allowed_symbols")
    if conid in limits.denied_conids:
        return Denial(ReasonCode.CONID_NOT_ALLOWED, f"conid {conid} is in [risk] denied_conids")
    if limits.allowed_conids and conid not in limits.allowed_conids:
        return Denial(
            ReasonCode.CONID_NOT_ALLOWED, f"conid {conid} is not in [risk] allowed_conids"
        )
    return None


def check_order_type_and_tif(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    if intent.order_type not in limits.allowed_order_types:
        return Denial(
            ReasonCode.ORDER_TYPE_NOT_ALLOWED,
            f"order type {intent.order_type.value} is not in [risk] allowed_order_types",
        )
    if intent.tif not in limits.allowed_tifs:
        return Denial(
            ReasonCode.TIF_NOT_ALLOWED, f"time in force {intent.tif.value} is not in [risk] "
            "allowed_tifs",
        )
    return None


def _on_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def check_order_values(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    """Syntactic sanity against the instrument grid (IBKR would reject it anyway, later)."""
    instrument = ctx.instrument
    if instrument is None:
        return check_instrument_known(intent, ctx, limits)
    qty = intent.quantity
    if not qty.is_finite() or qty <= 0:
        return Denial(ReasonCode.INVALID_QUANTITY, f"quantity must be positive, got {qty}")
    if not _on_step(qty, instrument.lot):
        return Denial(
            ReasonCode.INVALID_QUANTITY,
            f"quantity {qty} is not a multiple of the lot size {instrument.lot}",
        )
    wants_limit = intent.order_type.needs_limit_price
    wants_stop = intent.order_type.needs_stop_price
    for name, price, wanted in (
        ("limit_price", intent.limit_price, wants_limit),
        ("stop_price", intent.stop_price, wants_stop),
    ):
        if wanted and price is None:
            return Denial(
                ReasonCode.INVALID_PRICE, f"a {intent.order_type.value} order needs {name}"
            )
        if not wanted and price is not None:
            return Denial(
                ReasonCode.INVALID_PRICE, f"a {intent.order_type.value} order takes no {name}"
            )
        if price is None:
            continue
        if not price.is_finite() or price <= 0:
            return Denial(ReasonCode.INVALID_PRICE, f"{name} must be positive, got {price}")
        if not _on_step(price, instrument.tick):
            return Denial(
                ReasonCode.INVALID_PRICE,
                f"{name} {price} is not on the tick size {instrument.tick}",
            )
    return None


def check_trading_hours(
    intent: OrderIntent, ctx: RiskContext, limits: RiskLimits
) -> Denial | None:
    hours = limits.trading_hours
    if hours is None or hours.contains(ctx.now):
        return None
    return Denial(
        ReasonCode.OUTSIDE_TRADING_HOURS,
        f"outside [risk] trading_hours {hours.start:%H:%M}-{hours.end:%H:%M} {hours.timezone}",
    )


def check_quantity(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    if intent.quantity <= limits.max_order_quantity:
        return None
    return Denial(
        ReasonCode.QUANTITY_EXCEEDS_MAX,
        f"quantity {intent.quantity} exceeds [risk] max_order_quantity "
        f"{limits.max_order_quantity}",
    )


def check_rate(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    """At most `max_orders_per_second` orders (new or modify) per strategy and symbol in any
    one-second window ending now; the recent orders come from the journal, so a denied
    order (never recorded) does not use up the budget."""
    start = ctx.now - _RATE_WINDOW
    symbol = intent.symbol.strip().upper()
    count = sum(
        1
        for r in ctx.recent_orders
        if r.strategy == intent.strategy and r.symbol == symbol and start < r.time <= ctx.now
    )
    if count < limits.max_orders_per_second:
        return None
    return Denial(
        ReasonCode.RATE_LIMIT,
        f"{count} orders for {symbol} by strategy {intent.strategy or '-'} in the last second; "
        f"[risk] max_orders_per_second is {limits.max_orders_per_second}",
    )


def check_duplicate(intent: OrderIntent, ctx: RiskContext, limits: RiskLimits) -> Denial | None:
    """Same strategy, symbol, side, quantity, type and prices within the window: a likely
    double-fire of one idea under two signal ids. Off when the window is zero."""
    if limits.duplicate_window_s <= 0 or intent.action is not IntentAction.NEW:
        return None
    start = ctx.now - limits.duplicate_window
    symbol = intent.symbol.strip().upper()
    for r in ctx.recent_orders:
        if (
            start <= r.time <= ctx.now
            and r.strategy == intent.strategy
            and r.symbol == symbol
            and r.side is intent.side
            and r.quantity == intent.quantity
            and r.order_type is intent.order_type
            and r.limit_price == intent.limit_price
            and r.stop_price == intent.stop_price
        ):
            return Denial(
                ReasonCode.DUPLICATE_ORDER,
                f"an identical {r.side.value} {r.quantity} {symbol} order was sent at "
                f"{r.time.isoformat()}, within [risk] duplicate_window_s "
                f"{limits.duplicate_window_s}",
            )
    return None
