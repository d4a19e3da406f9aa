"""Properties of the risk engine over random orders, contexts and limits."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_strategies import contexts, intents, limits, tightened

from catalyst_ibkr.core.enums import OrderType, Side, TradingState
from catalyst_ibkr.core.risk import (
    ORDER_CHECKS,
    CancelIntent,
    IntentAction,
    OrderIntent,
    RiskContext,
    RiskEngine,
    RiskLimits,
)
from catalyst_ibkr.core.risk.checks_order import check_broker_hold


@given(intents(), contexts(), limits())
def test_evaluation_is_pure_and_deterministic(
    intent: OrderIntent, ctx: RiskContext, lim: RiskLimits
) -> None:
    positions_before = copy.deepcopy(dict(ctx.positions))
    engine = RiskEngine(lim)
    first = engine.evaluate(intent, ctx)
    assert engine.evaluate(intent, ctx) == first
    assert dict(ctx.positions) == positions_before  # nothing in the context was touched
    assert engine.limits is lim


@given(st.data(), intents(), contexts(), limits())
def test_tightening_a_limit_never_turns_a_deny_into_an_allow(
    data: st.DataObject, intent: OrderIntent, ctx: RiskContext, lim: RiskLimits
) -> None:
    stricter = data.draw(tightened(lim))
    loose_decision = RiskEngine(lim).evaluate(intent, ctx)
    strict_decision = RiskEngine(stricter).evaluate(intent, ctx)
    if not loose_decision.allowed:
        assert not strict_decision.allowed, (loose_decision, stricter)


@given(intents(), contexts(), limits())
def test_the_reason_is_the_first_failing_check_and_an_allow_means_all_passed(
    intent: OrderIntent, ctx: RiskContext, lim: RiskLimits
) -> None:
    decision = RiskEngine(lim).evaluate(intent, ctx)
    denials = [check_broker_hold(ctx)] + [check(intent, ctx, lim) for check in ORDER_CHECKS]
    failing = [d for d in denials if d is not None]
    if decision.allowed:
        assert failing == []
    else:
        assert decision.denial == failing[0]


@given(contexts(), limits())
def test_cancels_are_denied_only_by_the_outage_hold(ctx: RiskContext, lim: RiskLimits) -> None:
    from catalyst_ibkr.core.ids import ClientOrderId

    decision = RiskEngine(lim).evaluate(CancelIntent(ClientOrderId("c-1")), ctx)
    assert decision.allowed == (ctx.broker_hold_reason is None)


def _independent_position(intent: OrderIntent, ctx: RiskContext) -> tuple[Decimal, Decimal]:
    """Held + same-side working (other than the modified order) before and after, recomputed
    here without the engine's helpers."""
    conid = ctx.instrument.conid  # type: ignore[union-attr]
    held = ctx.positions[conid].quantity if conid in ctx.positions else Decimal(0)
    sign = Decimal(1) if intent.side is Side.BUY else Decimal(-1)
    pending = Decimal(0)
    for w in ctx.working_orders:
        modified = intent.action is IntentAction.MODIFY and (
            w.client_order_id == intent.client_order_id
        )
        if w.conid == conid and w.side is intent.side and not modified:
            pending += w.remaining_quantity
    before = held + sign * pending
    return before, before + sign * intent.quantity


@settings(max_examples=300)  # about one example in ten is allowed; want enough of those
@given(intents(), contexts(), limits())
def test_an_allowed_order_is_inside_every_limit(
    intent: OrderIntent, ctx: RiskContext, lim: RiskLimits
) -> None:
    decision = RiskEngine(lim).evaluate(intent, ctx)
    if not decision.allowed:
        return
    assert ctx.instrument is not None and ctx.quote is not None
    assert ctx.broker_hold_reason is None and ctx.trading_state is not TradingState.HALTED
    assert intent.quantity <= lim.max_order_quantity
    touch = ctx.quote.ask if intent.side is Side.BUY else ctx.quote.bid
    touch = touch if touch is not None else ctx.quote.last
    assert touch is not None
    worst = max(p for p in (intent.limit_price, intent.stop_price, touch) if p is not None)
    assert intent.quantity * worst <= lim.max_order_notional
    before, after = _independent_position(intent, ctx)
    reducing = before != 0 and abs(after) < abs(before) and (after == 0 or (after > 0) == (
        before > 0))
    assert abs(after) <= lim.max_position_quantity or abs(after) <= abs(before)
    if ctx.trading_state is TradingState.REDUCING or ctx.daily_pnl <= -lim.daily_loss_limit:
        assert reducing
    if not reducing:
        assert ctx.buying_power is not None
        working = sum(
            (w.notional for w in ctx.working_orders
             if not (intent.action is IntentAction.MODIFY
                     and w.client_order_id == intent.client_order_id)),
            Decimal(0),
        )
        assert working + intent.quantity * worst <= (
            ctx.buying_power * lim.buying_power_use_pct / 100
        )
    if intent.limit_price is not None and intent.order_type is OrderType.LMT:
        band = lim.price_collar_pct / 100
        if intent.side is Side.BUY:
            assert intent.limit_price <= touch * (1 + band)
        else:
            assert intent.limit_price >= touch * (1 - band)
