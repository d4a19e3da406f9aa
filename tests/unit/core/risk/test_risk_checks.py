"""Each check at its boundary: exactly at the limit passes, one unit or one tick over denies.

Every test runs the full engine on a loose baseline (risk_builders.loose), so the reason
code proves which check fired and that no earlier check masked it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from risk_builders import AAPL, MSFT, NOW, context, intent, loose, quote

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce, TradingState
from catalyst_ibkr.core.ids import ClientOrderId, StrategyId
from catalyst_ibkr.core.risk import (
    CancelIntent,
    Decision,
    IntentAction,
    OrderIntent,
    PositionExposure,
    ReasonCode,
    RecentOrder,
    RiskContext,
    RiskEngine,
    RiskLimits,
    WorkingOrder,
)

D = Decimal


def decide(limits: RiskLimits, order: OrderIntent | CancelIntent, ctx: RiskContext) -> Decision:
    return RiskEngine(limits).evaluate(order, ctx)


def code(limits: RiskLimits, order: OrderIntent | CancelIntent, ctx: RiskContext) -> str | None:
    reason = decide(limits, order, ctx).reason_code
    return None if reason is None else reason.value


def test_baseline_order_is_allowed() -> None:
    decision = decide(loose(), intent(), context())
    assert decision.allowed and decision.denial is None and decision.trip_to is None


# -- size -----------------------------------------------------------------------------------


def test_max_order_quantity_boundary() -> None:
    limits = loose(max_order_quantity=D(100))
    assert code(limits, intent(quantity=D(100)), context()) is None
    assert code(limits, intent(quantity=D(101)), context()) == "QUANTITY_EXCEEDS_MAX"


def test_max_order_notional_boundary_at_the_limit_price() -> None:
    limits = loose(max_order_notional=D(10000))
    ctx = context(quote=quote("99.00", "99.00"))
    assert code(limits, intent(quantity=D(100), limit_price=D("100.00")), ctx) is None
    assert code(limits, intent(quantity=D(100), limit_price=D("100.01")), ctx) == (
        "NOTIONAL_EXCEEDS_MAX"
    )


def test_market_order_notional_uses_the_ask_and_the_multiplier() -> None:
    option = AAPL.__class__(conid=AAPL.conid, symbol="AAPL", multiplier=D(100))
    limits = loose(max_order_notional=D(10000))
    mkt = intent(order_type=OrderType.MKT, limit_price=None, quantity=D(1))
    assert code(limits, mkt, context(instrument=option, quote=quote("99", "100.00"))) is None
    assert code(limits, mkt, context(instrument=option, quote=quote("99", "100.01"))) == (
        "NOTIONAL_EXCEEDS_MAX"
    )


# -- price collar and quotes -----------------------------------------------------------------


def test_buy_collar_boundary_through_the_ask() -> None:
    limits = loose(price_collar_pct=D(3))
    ctx = context(quote=quote("99.00", "100.00"))
    assert code(limits, intent(limit_price=D("103.00")), ctx) is None
    assert code(limits, intent(limit_price=D("103.01")), ctx) == "PRICE_OUTSIDE_COLLAR"


def test_sell_collar_boundary_through_the_bid() -> None:
    limits = loose(price_collar_pct=D(3))
    ctx = context(quote=quote("100.00", "101.00"))
    sell = Side.SELL
    assert code(limits, intent(side=sell, limit_price=D("97.00")), ctx) is None
    assert code(limits, intent(side=sell, limit_price=D("96.99")), ctx) == "PRICE_OUTSIDE_COLLAR"


def test_passive_limits_far_from_the_market_are_allowed() -> None:
    limits = loose(price_collar_pct=D(3))
    ctx = context(quote=quote("100.00", "100.10"))
    assert code(limits, intent(side=Side.BUY, limit_price=D("1.00")), ctx) is None
    assert code(limits, intent(side=Side.SELL, limit_price=D("500.00")), ctx) is None


def test_collar_falls_back_to_last_when_the_touch_is_missing() -> None:
    limits = loose(price_collar_pct=D(3))
    ctx = context(quote=quote(None, None, "50.00"))
    assert code(limits, intent(limit_price=D("51.50")), ctx) is None
    assert code(limits, intent(limit_price=D("51.51")), ctx) == "PRICE_OUTSIDE_COLLAR"


def test_stop_limit_collar_is_measured_from_the_stop_once_it_is_beyond_the_touch() -> None:
    limits = loose(price_collar_pct=D(3))
    ctx = context(quote=quote("99.00", "100.00"))
    stop_buy = {"order_type": OrderType.STP_LMT, "stop_price": D("110.00")}
    assert code(limits, intent(limit_price=D("113.30"), **stop_buy), ctx) is None
    assert code(limits, intent(limit_price=D("113.31"), **stop_buy), ctx) == (
        "PRICE_OUTSIDE_COLLAR"
    )
    stop_sell = {"order_type": OrderType.STP_LMT, "stop_price": D("90.00"), "side": Side.SELL}
    assert code(limits, intent(limit_price=D("87.30"), **stop_sell), ctx) is None
    assert code(limits, intent(limit_price=D("87.29"), **stop_sell), ctx) == (
        "PRICE_OUTSIDE_COLLAR"
    )


def test_quote_age_boundary() -> None:
    limits = loose(quote_max_age_s=D(5))
    mkt = intent(order_type=OrderType.MKT, limit_price=None)
    assert code(limits, mkt, context(quote=quote(age_s=5))) is None
    assert code(limits, mkt, context(quote=quote(age_s=5.001))) == "NO_FRESH_QUOTE"


@pytest.mark.parametrize("order_type", [OrderType.MKT, OrderType.LMT])
def test_no_order_without_a_quote(order_type: OrderType) -> None:
    order = intent(order_type=order_type,
                   limit_price=D("100.00") if order_type is OrderType.LMT else None)
    assert code(loose(), order, context(quote=None)) == "NO_FRESH_QUOTE"


def test_quote_from_the_future_is_not_fresh() -> None:
    assert code(loose(), intent(), context(quote=quote(age_s=-1))) == "NO_FRESH_QUOTE"


def test_crossed_or_empty_quote_gives_no_reference_price() -> None:
    assert code(loose(), intent(), context(quote=quote("101", "100"))) == "NO_REFERENCE_PRICE"
    assert code(loose(), intent(), context(quote=quote(None, None, None))) == (
        "NO_REFERENCE_PRICE"
    )


# -- positions and exposure ------------------------------------------------------------------


def held(qty: str, mark: str = "100.00") -> dict[object, PositionExposure]:
    return {AAPL.conid: PositionExposure(AAPL.conid, D(qty), D(mark))}


def working(qty: str, side: Side = Side.BUY, price: str = "100.00", cid: str = "w-1",
            in_doubt: bool = False) -> WorkingOrder:
    return WorkingOrder(ClientOrderId(cid), AAPL.conid, side, D(qty), D(price), in_doubt=in_doubt)


def test_max_position_boundary_counts_held_and_same_side_working_orders() -> None:
    limits = loose(max_position_quantity=D(100))
    ctx = context(positions=held("50"), working_orders=(working("20"),))
    assert code(limits, intent(quantity=D(30)), ctx) is None
    assert code(limits, intent(quantity=D(31)), ctx) == "POSITION_EXCEEDS_MAX"


def test_max_position_short_side_boundary() -> None:
    limits = loose(max_position_quantity=D(100))
    ctx = context(positions=held("-60"))
    assert code(limits, intent(side=Side.SELL, quantity=D(40)), ctx) is None
    assert code(limits, intent(side=Side.SELL, quantity=D(41)), ctx) == "POSITION_EXCEEDS_MAX"


def test_an_order_reducing_an_oversized_position_passes_the_position_limit() -> None:
    limits = loose(max_position_quantity=D(100))
    ctx = context(positions=held("500"))
    assert code(limits, intent(side=Side.SELL, quantity=D(10)), ctx) is None


def test_gross_exposure_boundary_counts_positions_and_working_orders() -> None:
    limits = loose(max_gross_exposure=D(10000))
    other = {MSFT.conid: PositionExposure(MSFT.conid, D(-20), D("100.00"))}  # 2000 short
    ctx = context(positions=other, working_orders=(working("30"),))  # 3000 working
    assert code(limits, intent(quantity=D(50)), ctx) is None  # 5000 -> exactly 10000
    assert code(limits, intent(quantity=D(50), limit_price=D("100.01")), ctx) == (
        "GROSS_EXPOSURE_EXCEEDS_MAX"
    )


def test_buying_power_boundary_counts_working_and_in_doubt_orders() -> None:
    limits = loose(buying_power_use_pct=D(50))
    pending = (working("10", cid="w-1"), working("10", cid="w-2", in_doubt=True))  # 2000
    ctx = context(buying_power=D(10000), working_orders=pending)
    assert code(limits, intent(quantity=D(30)), ctx) is None  # 2000 + 3000 = 5000
    assert code(limits, intent(quantity=D(31)), ctx) == "CUM_NOTIONAL_EXCEEDS_BUYING_POWER"


def test_buying_power_unknown_fails_closed_but_reducing_orders_pass() -> None:
    ctx = context(buying_power=None, positions=held("10"))
    assert code(loose(), intent(), ctx) == "ACCOUNT_DATA_MISSING"
    assert code(loose(), intent(side=Side.SELL, quantity=D(10)), ctx) is None


def test_a_modify_replaces_its_own_working_order() -> None:
    limits = loose(buying_power_use_pct=D(100))
    ctx = context(buying_power=D(5000), working_orders=(working("40", cid="c-1"),))
    grow = intent(quantity=D(50), action=IntentAction.MODIFY)  # 5000, not 4000 + 5000
    assert code(limits, grow, ctx) is None
    assert code(limits, intent(quantity=D(50)), ctx) == "CUM_NOTIONAL_EXCEEDS_BUYING_POWER"


# -- operator state and daily loss -----------------------------------------------------------


def test_reducing_allows_only_orders_toward_flat() -> None:
    ctx = context(trading_state=TradingState.REDUCING, positions=held("100"))
    sell = Side.SELL
    assert code(loose(), intent(side=sell, quantity=D(100)), ctx) is None  # to flat
    assert code(loose(), intent(side=sell, quantity=D(101)), ctx) == "REDUCE_ONLY"  # flips
    assert code(loose(), intent(side=Side.BUY, quantity=D(1)), ctx) == "REDUCE_ONLY"
    flat = context(trading_state=TradingState.REDUCING)
    assert code(loose(), intent(side=sell, quantity=D(1)), flat) == "REDUCE_ONLY"


def test_reducing_counts_working_orders_on_the_same_side() -> None:
    ctx = context(
        trading_state=TradingState.REDUCING,
        positions=held("100"),
        working_orders=(working("60", side=Side.SELL),),
    )
    assert code(loose(), intent(side=Side.SELL, quantity=D(40)), ctx) is None
    assert code(loose(), intent(side=Side.SELL, quantity=D(41)), ctx) == "REDUCE_ONLY"


def test_daily_loss_boundary_trips_reducing() -> None:
    limits = loose(daily_loss_limit=D(1000))
    inside = decide(limits, intent(), context(daily_pnl=D("-999.99")))
    assert inside.allowed and inside.trip_to is None
    at_limit = decide(limits, intent(), context(daily_pnl=D(-1000)))
    assert at_limit.reason_code is ReasonCode.DAILY_LOSS_LIMIT
    assert at_limit.trip_to is TradingState.REDUCING
    closing = decide(
        limits, intent(side=Side.SELL, quantity=D(10)),
        context(daily_pnl=D(-5000), positions=held("10")),
    )
    assert closing.allowed and closing.trip_to is TradingState.REDUCING


def test_daily_loss_does_not_downgrade_halted() -> None:
    decision = decide(loose(daily_loss_limit=D(1)), intent(),
                      context(trading_state=TradingState.HALTED, daily_pnl=D(-5)))
    assert decision.reason_code is ReasonCode.TRADING_HALTED and decision.trip_to is None


def test_halted_denies_new_and_modify_but_never_cancel() -> None:
    ctx = context(trading_state=TradingState.HALTED)
    assert code(loose(), intent(), ctx) == "TRADING_HALTED"
    assert code(loose(), intent(action=IntentAction.MODIFY), ctx) == "TRADING_HALTED"
    assert code(loose(), CancelIntent(ClientOrderId("c-1")), ctx) is None
    # A cancel needs no instrument, quote or account data either.
    bare = RiskContext(now=NOW, instrument=None, trading_state=TradingState.HALTED)
    assert code(loose(), CancelIntent(ClientOrderId("c-1")), bare) is None


def test_broker_outage_hold_stops_everything_including_cancels() -> None:
    ctx = context(broker_hold_reason="session lost")
    assert code(loose(), intent(), ctx) == "BROKER_OUTAGE_HOLD"
    assert code(loose(), CancelIntent(ClientOrderId("c-1")), ctx) == "BROKER_OUTAGE_HOLD"


# -- permissions and sanity ------------------------------------------------------------------


def test_allow_and_deny_lists() -> None:
    assert code(loose(denied_symbols=frozenset({"AAPL"})), intent(), context()) == (
        "SYMBOL_NOT_ALLOWED"
    )
    assert code(loose(allowed_symbols=frozenset({"MSFT"})), intent(), context()) == (
        "SYMBOL_NOT_ALLOWED"
    )
    assert code(loose(allowed_symbols=frozenset({"AAPL"})), intent(), context()) is None
    assert code(loose(denied_conids=frozenset({int(AAPL.conid)})), intent(), context()) == (
        "CONID_NOT_ALLOWED"
    )
    assert code(loose(allowed_conids=frozenset({1})), intent(), context()) == (
        "CONID_NOT_ALLOWED"
    )
    assert code(loose(allowed_conids=frozenset({int(AAPL.conid)})), intent(), context()) is None


def test_order_types_and_tifs_allowed() -> None:
    limits = loose(allowed_order_types=frozenset({OrderType.LMT}),
                   allowed_tifs=frozenset({TimeInForce.DAY}))
    assert code(limits, intent(), context()) is None
    mkt = intent(order_type=OrderType.MKT, limit_price=None)
    assert code(limits, mkt, context()) == "ORDER_TYPE_NOT_ALLOWED"
    assert code(limits, intent(tif=TimeInForce.GTC), context()) == "TIF_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity": D(0)}, "INVALID_QUANTITY"),
        ({"quantity": D("1.5")}, "INVALID_QUANTITY"),  # AAPL lot is 1
        ({"limit_price": D("100.005")}, "INVALID_PRICE"),  # off the 0.01 tick
        ({"limit_price": None}, "INVALID_PRICE"),
        ({"order_type": OrderType.MKT}, "INVALID_PRICE"),  # MKT with a limit price
        ({"order_type": OrderType.STP, "limit_price": None}, "INVALID_PRICE"),
        ({"limit_price": D("-1.00")}, "INVALID_PRICE"),
    ],
)
def test_order_sanity(changes: dict[str, object], reason: str) -> None:
    assert code(loose(), intent(**changes), context()) == reason


def test_unknown_or_mismatched_instrument_fails_closed() -> None:
    assert code(loose(), intent(), context(instrument=None)) == "INSTRUMENT_NOT_FOUND"
    assert code(loose(), intent(conid=MSFT.conid), context()) == "INSTRUMENT_NOT_FOUND"
    assert code(loose(), intent(symbol="MSFT"), context()) == "INSTRUMENT_NOT_FOUND"


def test_trading_hours_opt_in() -> None:
    limits = RiskLimits.from_mapping({"trading_hours": "09:30-16:00"})
    hours = limits.trading_hours
    open_limits = loose(trading_hours=hours)
    assert code(open_limits, intent(), context(now=NOW)) is None  # 10:00 New York
    late = NOW + timedelta(hours=6)  # 16:00 New York: end is exclusive
    assert code(open_limits, intent(), context(now=late, quote=quote().__class__(
        AAPL.conid, D(100), D(100), None, late))) == "OUTSIDE_TRADING_HOURS"


# -- flow ------------------------------------------------------------------------------------


def recent(n: int, *, age_s: float = 0.5, strategy: str = "s1", symbol: str = "AAPL",
           **kw: object) -> tuple[RecentOrder, ...]:
    base = {"side": Side.BUY, "quantity": D(10), "order_type": OrderType.LMT,
            "limit_price": D("100.00")}
    base.update(kw)
    return tuple(
        RecentOrder(time=NOW - timedelta(seconds=age_s), symbol=symbol,
                    strategy=StrategyId(strategy), **base)  # type: ignore[arg-type]
        for _ in range(n)
    )


def test_rate_limit_boundary_per_strategy_and_symbol() -> None:
    limits = loose(max_orders_per_second=50)
    assert code(limits, intent(), context(recent_orders=recent(49))) is None
    assert code(limits, intent(), context(recent_orders=recent(50))) == "RATE_LIMIT"
    # Other strategies and symbols do not count; orders older than 1 s do not count.
    others = recent(50, strategy="s2") + recent(50, symbol="MSFT") + recent(50, age_s=1.0)
    assert code(limits, intent(), context(recent_orders=others)) is None


def test_duplicate_window_is_off_by_default_and_has_a_boundary_when_on() -> None:
    same = recent(1, age_s=10)
    assert code(loose(), intent(), context(recent_orders=same)) is None  # default: off
    limits = loose(duplicate_window_s=D(10))
    assert code(limits, intent(), context(recent_orders=same)) == "DUPLICATE_ORDER"
    assert code(limits, intent(), context(recent_orders=recent(1, age_s=10.001))) is None
    assert code(limits, intent(quantity=D(11)), context(recent_orders=same)) is None
    assert code(limits, intent(action=IntentAction.MODIFY), context(recent_orders=same)) is None


def test_disabled_strategy_is_denied_but_others_and_cancels_pass() -> None:
    ctx = context(disabled_strategies=frozenset({StrategyId("s1")}))
    assert code(loose(), intent(), ctx) == "STRATEGY_DISABLED"
    assert code(loose(), intent(strategy=StrategyId("s2")), ctx) is None
    assert code(loose(), CancelIntent(ClientOrderId("c-1")), ctx) is None
