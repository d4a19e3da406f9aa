"""Order rules of the pure engine: types, time in force, sessions, rejections, cOIDs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sim_engine_env import AAPL, ACCOUNT, Env

from ibkr_sim.engine import EngineRejection, OrderNotFound

D = Decimal


def pin_100(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")


def test_market_buy_fills_at_the_ask_and_sell_at_the_bid(env: Env) -> None:
    pin_100(env)
    buy = env.submit(side="BUY", quantity=100)
    assert buy.status == "Submitted" and buy.filled_quantity == 0
    assert 1_000_000_000 <= buy.order_id < 10_000_000_000
    env.run()
    buy = env.now_order(buy)
    assert buy.status == "Filled" and buy.filled_quantity == 100
    assert buy.avg_fill_price == D("100.02") and buy.remaining_quantity == 0
    sell = env.submit(side="SELL", quantity=100)
    env.run()
    assert env.now_order(sell).avg_fill_price == D("100.00")
    assert sell.order_id > buy.order_id


def test_limit_rests_until_crossed_then_fills_at_the_touch(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="99.50")
    env.run(5)
    assert env.now_order(order).status == "Submitted"
    assert env.engine.executions(ACCOUNT) == []
    env.pin(bid="99.00", ask="99.40")
    env.run()
    order = env.now_order(order)
    assert order.status == "Filled" and order.avg_fill_price == D("99.40")  # price improvement


def test_sell_limit_fills_only_when_bid_reaches_it(env: Env) -> None:
    pin_100(env)
    order = env.submit(side="SELL", order_type="LMT", limit_price="100.50")
    env.run(3)
    assert env.now_order(order).status == "Submitted"
    env.pin(bid="100.60", ask="100.65")
    env.run()
    assert env.now_order(order).avg_fill_price == D("100.60")


@pytest.mark.parametrize(
    ("side", "stop", "move_to", "fill_at"),
    [
        ("BUY", "101.00", {"last": "101.00", "bid": "100.99", "ask": "101.01"}, "101.01"),
        ("SELL", "99.00", {"last": "98.90", "bid": "98.89", "ask": "98.91"}, "98.89"),
    ],
)
def test_stop_waits_presubmitted_then_triggers_on_last_and_fills_at_the_touch(
    env: Env, side: str, stop: str, move_to: dict[str, str], fill_at: str
) -> None:
    pin_100(env)
    order = env.submit(side=side, order_type="STP", stop_price=stop)
    assert order.status == "PreSubmitted"
    env.run(3)
    assert env.now_order(order).status == "PreSubmitted"
    env.pin(**move_to)
    env.run()
    order = env.now_order(order)
    assert order.triggered and order.status == "Filled"
    assert order.avg_fill_price == D(fill_at)


def test_stop_limit_triggers_then_works_as_a_limit(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="STP_LMT", stop_price="101.00", limit_price="101.05")
    env.pin(last="101.20", bid="101.19", ask="101.21")  # triggered, but ask above the limit
    env.run()
    order = env.now_order(order)
    assert order.triggered and order.status == "Submitted" and order.filled_quantity == 0
    env.pin(last="101.02", bid="101.01", ask="101.03")
    env.run()
    order = env.now_order(order)
    assert order.status == "Filled" and order.avg_fill_price == D("101.03")


def test_ioc_limit_not_crossed_is_cancelled_without_fill(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="99.00", tif="IOC")
    env.run()
    order = env.now_order(order)
    assert order.status == "Cancelled" and order.filled_quantity == 0


def test_ioc_fills_what_the_touch_offers_and_cancels_the_rest(env: Env) -> None:
    pin_100(env)
    touch = env.market.quote(AAPL).ask_size
    order = env.submit(quantity=touch + 1000, tif="IOC")
    env.run()
    order = env.now_order(order)
    assert order.status == "Cancelled"
    assert order.filled_quantity == touch
    assert order.remaining_quantity == 0


def test_large_order_fills_in_slices_no_larger_than_the_touch(env: Env) -> None:
    pin_100(env)
    order = env.submit(quantity=15_000)
    env.run()
    first = env.now_order(order)
    assert first.status == "Submitted" and 0 < first.filled_quantity < 15_000
    env.run(60)
    order = env.now_order(order)
    assert order.status == "Filled" and order.filled_quantity == 15_000
    execs = env.engine.executions(ACCOUNT)
    assert len(execs) > 1 and sum(e.quantity for e in execs) == 15_000
    for e in execs:
        quote = env.market.quote(AAPL, e.time)
        assert e.quantity <= quote.ask_size


def test_repeated_steps_in_one_second_do_not_exceed_the_touch(env: Env) -> None:
    pin_100(env)
    touch = env.market.quote(AAPL).ask_size
    order = env.submit(quantity=touch * 3)
    for _ in range(50):  # the server steps on every request: many per sim second
        env.engine.step()
    assert env.now_order(order).filled_quantity == touch


def test_day_order_expires_at_the_nyse_close_gtc_survives(make_env: Callable[..., Env]) -> None:
    env = make_env(hours="nyse")
    pin_100(env)
    day = env.submit(order_type="LMT", limit_price="90.00", tif="DAY")
    gtc = env.submit(order_type="LMT", limit_price="90.00", tif="GTC")
    assert day.expires_at == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    env.clock.advance(6 * 3600 - 1)  # 15:59:59 New York
    env.run()
    assert env.now_order(day).status == "Submitted"
    env.run(2)
    assert env.now_order(day).status == "Cancelled"
    assert env.now_order(gtc).status in ("Submitted", "PreSubmitted")
    assert not env.now_order(gtc).is_terminal


def test_day_order_never_expires_when_the_market_is_always_open(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="90.00", tif="DAY")
    assert order.expires_at is None
    env.clock.advance(3 * 86400)
    env.run()
    assert env.now_order(order).status == "Submitted"


def test_outside_rth_limit_trades_in_extended_hours_others_wait(
    make_env: Callable[..., Env],
) -> None:
    evening = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 18:00 New York
    env = make_env(hours="nyse", start=evening)
    pin_100(env)
    ext = env.submit(order_type="LMT", limit_price="101.00", outside_rth=True)
    rth_only = env.submit(order_type="LMT", limit_price="101.00")
    mkt_ext = env.submit(order_type="MKT", outside_rth=True)
    assert ext.status == "Submitted"
    assert rth_only.status == "PreSubmitted" and mkt_ext.status == "PreSubmitted"
    env.run()
    assert env.now_order(ext).status == "Filled"
    assert env.now_order(rth_only).status == "PreSubmitted"
    assert env.now_order(mkt_ext).status == "PreSubmitted"
    env.clock.advance(15.5 * 3600)  # 09:30 next day
    env.run()
    assert env.now_order(rth_only).status == "Filled"
    assert env.now_order(mkt_ext).status == "Filled"


def test_ioc_when_the_market_is_closed_is_cancelled(make_env: Callable[..., Env]) -> None:
    env = make_env(hours="nyse", start=datetime(2026, 11, 28, 15, 0, tzinfo=UTC))  # Saturday
    order = env.submit(tif="IOC")
    env.run()
    assert env.now_order(order).status == "Cancelled"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"conid": 1}, "No security definition has been found"),
        ({"quantity": 0}, "Order size 0 is not valid. Please enter size greater than 0."),
        ({"quantity": -5}, "Order size -5 is not valid"),
        ({"quantity": D("NaN")}, "Order size NaN is not valid"),
        ({"order_type": "LMT"}, "Invalid order price fields: a LMT order needs a limit price"),
        ({"order_type": "STP"}, "Invalid order price fields: a STP order needs a stop price"),
        ({"order_type": "STP_LMT", "stop_price": "10"}, "needs a limit price"),
        ({"order_type": "LMT", "limit_price": "10.001"}, "minimum price variation"),
        ({"order_type": "LMT", "limit_price": "-1"}, "must be a positive number"),
        ({"side": "buy"}, "Invalid Side (must be 'BUY' or 'SELL')."),
        ({"order_type": "TRAIL"}, "Unknown order type"),
        ({"tif": "OPG"}, "OPG time in force is not supported"),
        ({"account": "U999"}, "Account U999 is not a valid account"),
        ({"coid": "x" * 65}, "cOID must be 1 to 64"),
        ({"parent_coid": "nope"}, "Parent order with cOID nope was not found"),
        ({"quantity": 10_000_000}, "Equity with Loan Value"),
    ],
)
def test_bad_tickets_are_rejected_with_a_clear_message_and_change_nothing(
    env: Env, kw: dict[str, object], message: str
) -> None:
    with pytest.raises(EngineRejection) as info:
        env.submit(**kw)
    assert message in info.value.message
    assert env.engine.orders() == [] and env.events == []


def test_coid_is_unique_for_24_hours_with_ibkrs_wording(env: Env) -> None:
    first = env.submit(coid="sig-1")
    with pytest.raises(EngineRejection) as info:
        env.submit(coid="sig-1")
    assert info.value.message == (
        "Order couldn't be submitted: Local order ID=sig-1 is already registered."
    )
    env.run()
    with pytest.raises(EngineRejection):  # filled or not, still registered
        env.submit(coid="sig-1")
    assert env.engine.order_by_coid(ACCOUNT, "sig-1") == env.now_order(first)
    env.clock.advance(24 * 3600)
    again = env.submit(coid="sig-1")
    assert again.order_id != first.order_id
    assert env.engine.order_by_coid(ACCOUNT, "sig-1") == again


def test_cancel_working_order_and_errors(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="90.00")
    cancelled = env.engine.cancel(ACCOUNT, order.order_id)
    assert cancelled.status == "Cancelled" and cancelled.remaining_quantity == 0
    env.run()
    assert env.now_order(order).status == "Cancelled"
    with pytest.raises(OrderNotFound, match="OrderID 42 doesn't exist"):
        env.engine.cancel(ACCOUNT, 42)
    with pytest.raises(OrderNotFound):
        env.engine.cancel("DU0000000", order.order_id)
    filled = env.submit()
    env.run()
    assert env.engine.cancel(ACCOUNT, filled.order_id).status == "Filled"


def test_cancel_all_cancels_only_live_orders(env: Env) -> None:
    pin_100(env)
    done = env.submit()
    env.run()
    a = env.submit(order_type="LMT", limit_price="90.00")
    b = env.submit(order_type="STP", stop_price="120.00")
    cancelled = env.engine.cancel_all(ACCOUNT)
    assert {o.order_id for o in cancelled} == {a.order_id, b.order_id}
    assert env.now_order(done).status == "Filled"
    assert all(o.is_terminal for o in env.engine.orders(ACCOUNT))
    assert env.engine.cancel_all(ACCOUNT) == []


def test_modify_price_quantity_and_tif(env: Env) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="90.00", quantity=100)
    order = env.engine.modify(ACCOUNT, order.order_id, quantity=D(200), tif="GTC")
    assert order.quantity == 200 and order.tif == "GTC"
    env.run()
    assert env.now_order(order).filled_quantity == 0
    env.engine.modify(ACCOUNT, order.order_id, limit_price=D("100.05"))
    env.run()
    order = env.now_order(order)
    assert order.status == "Filled" and order.filled_quantity == 200


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"quantity": D(0)}, "Order size 0 is not valid"),
        ({"stop_price": D("95")}, "has no stop price"),
        ({"limit_price": D("90.001")}, "minimum price variation"),
        ({"tif": "FOK"}, "FOK time in force is not supported"),
    ],
)
def test_bad_modify_changes_nothing(env: Env, kw: dict[str, object], message: str) -> None:
    pin_100(env)
    order = env.submit(order_type="LMT", limit_price="90.00")
    with pytest.raises(EngineRejection, match=message):
        env.engine.modify(ACCOUNT, order.order_id, **kw)  # type: ignore[arg-type]
    assert env.now_order(order) == order


def test_modify_below_filled_or_after_fill_is_refused(env: Env) -> None:
    pin_100(env)
    touch = env.market.quote(AAPL).ask_size
    order = env.submit(quantity=touch * 3)
    env.engine.step()
    with pytest.raises(EngineRejection, match="already filled"):
        env.engine.modify(ACCOUNT, order.order_id, quantity=D(touch))
    env.run(10)
    with pytest.raises(EngineRejection, match="already Filled"):
        env.engine.modify(ACCOUNT, order.order_id, quantity=D(touch * 4))
    with pytest.raises(OrderNotFound):
        env.engine.modify(ACCOUNT, 7, quantity=D(1))


def test_fill_delay_holds_fills_for_sim_seconds(make_env: Callable[..., Env]) -> None:
    env = make_env(fill_delay_s=2.0)
    order = env.submit()
    env.run(2)
    assert env.now_order(order).filled_quantity == 0
    env.run()
    assert env.now_order(order).status == "Filled"


def test_step_quotes_only_instruments_with_working_orders(env: Env) -> None:
    asked: list[int] = []
    real_quote = env.market.quote

    def spy(conid: int, now: datetime | None = None) -> object:
        asked.append(conid)
        return real_quote(conid, now)

    env.market.quote = spy  # type: ignore[method-assign]
    for _ in range(10):
        env.engine.step()
    assert asked == []  # nothing working: a step looks at nothing
    env.submit(order_type="LMT", limit_price="1.00")
    asked.clear()
    env.engine.step()
    assert set(asked) == {AAPL}
