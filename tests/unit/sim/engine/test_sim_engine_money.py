"""Commissions, positions, P&L, account balances, executions, events, reset, determinism."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from sim_engine_env import AAPL, ACCOUNT, Env

from ibkr_sim.engine import ExecutionAdded, FixedCommission, OrderChanged

D = Decimal
START = D(1_000_000)


@pytest.mark.parametrize(
    ("qty", "price", "expected"),
    [
        (100, "25", "1.00"),  # IBKR's published examples
        (1000, "25", "5.00"),
        (1000, "0.25", "2.50"),
        (100, "10", "1.00"),  # 0.50 raised to the 1.00 minimum
        (1000, "50", "5.00"),  # 0.005/share
        (201, "50", "1.01"),  # 1.005 rounded half up to cents
        (100, "0.50", "0.50"),  # 1% of a 50.00 trade caps below the minimum
        (10_000, "0.20", "20.00"),  # 1% cap beats 50.00 per-share
    ],
)
def test_fixed_commission_schedule(qty: int, price: str, expected: str) -> None:
    assert FixedCommission().order_total(D(qty), D(qty) * D(price)) == D(expected)


def test_fractional_share_orders_have_a_one_cent_minimum() -> None:
    assert FixedCommission().order_total(D("0.5"), D("50")) == D("0.01")
    assert FixedCommission().order_total(D("0"), D("0")) == D("0")


def test_commission_minimum_applies_once_per_order_not_per_slice() -> None:
    schedule = FixedCommission()
    slices = [(D(100), D("100")), (D(50), D("100")), (D(250), D("100"))]
    paid = D(0)
    q = v = D(0)
    for qty, price in slices:
        paid += schedule.for_fill(q, v, qty, qty * price)
        q, v = q + qty, v + qty * price
    assert paid == schedule.order_total(q, v) == D("2.00")


def test_buy_then_sell_books_cash_avg_cost_and_realized_pnl(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    env.submit(quantity=100)
    env.run()
    [pos] = env.engine.positions(ACCOUNT)
    assert pos.quantity == 100 and pos.symbol == "AAPL" and pos.conid == AAPL
    assert pos.avg_cost == D("100.03")  # 100.02 + 1.00 commission / 100 shares
    acct = env.engine.account(ACCOUNT)
    assert acct.cash == START - D("10002") - D(1)
    assert acct.net_liquidation == acct.cash + D(100) * D("100.01")
    assert acct.unrealized_pnl == D(100) * (D("100.01") - D("100.03"))
    env.pin(last="110.01", bid="110.00", ask="110.02")
    env.submit(side="SELL", quantity=40)
    env.run()
    [pos] = env.engine.positions(ACCOUNT)
    assert pos.quantity == 60 and pos.avg_cost == D("100.03")
    assert pos.realized_pnl == D(40) * (D("110.00") - D("100.03")) - D(1)
    acct = env.engine.account(ACCOUNT)
    assert acct.realized_pnl == pos.realized_pnl
    assert acct.commissions == D(2)
    assert acct.net_liquidation - START == acct.realized_pnl + acct.unrealized_pnl


def test_sell_through_zero_opens_a_short_at_the_fill_price(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    env.submit(quantity=100)
    env.run()
    env.submit(side="SELL", quantity=300)
    env.run()
    [pos] = env.engine.positions(ACCOUNT)
    assert pos.quantity == -200
    # short avg cost = proceeds net of its share (2/3) of the 1.50 commission per share
    assert pos.avg_cost == D("100.00") - D("1.00") / D(200)
    assert pos.market_value == D(-200) * D("100.01")
    acct = env.engine.account(ACCOUNT)
    assert acct.gross_position_value == D(200) * D("100.01")
    assert abs(acct.net_liquidation - START - acct.realized_pnl - acct.unrealized_pnl) < D(
        "1e-8"
    )
    assert str(pos.avg_cost) == "99.995"  # tidy: no 28-digit tails in responses


def test_margin_figures_follow_the_documented_reg_t_rules(env: Env) -> None:
    env.pin(last="100.00", bid="99.99", ask="100.01")
    env.submit(quantity=1000)
    env.run()
    acct = env.engine.account(ACCOUNT)
    gross = D(1000) * D("100.00")
    assert acct.init_margin == gross / 2
    assert acct.maint_margin == gross / 4
    assert acct.available_funds == acct.net_liquidation - gross / 2
    assert acct.excess_liquidity == acct.net_liquidation - gross / 4
    assert acct.buying_power == acct.available_funds * 4


def test_daily_pnl_counts_from_the_first_look_of_the_day(env: Env) -> None:
    env.pin(last="100.00", bid="99.99", ask="100.01")
    env.submit(quantity=100)
    env.run()
    first = env.engine.account(ACCOUNT)
    env.pin(last="101.00", bid="100.99", ask="101.01")
    later = env.engine.account(ACCOUNT)
    assert later.daily_pnl - first.daily_pnl == D(100)
    env.clock.advance(86400)
    assert env.engine.account(ACCOUNT).daily_pnl == 0


def test_executions_have_ibkr_like_unique_ids_and_since_filter(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    order = env.submit(quantity=env.market.quote(AAPL).ask_size * 2, coid="c-1")
    env.run(5)
    execs = env.engine.executions(ACCOUNT)
    assert len(execs) >= 2
    pattern = re.compile(r"^[0-9a-f]{8}\.[0-9a-f]{8}\.[0-9a-f]{2}\.01$")
    assert all(pattern.match(e.execution_id) for e in execs)
    assert len({e.execution_id for e in execs}) == len(execs)
    first = execs[0]
    assert (first.order_id, first.coid, first.side, first.symbol) == (
        order.order_id,
        "c-1",
        "BUY",
        "AAPL",
    )
    assert first.exchange == "ISLAND"  # NASDAQ listing executes on IBKR's "ISLAND"
    assert sum(e.commission for e in execs) == env.now_order(order).commission
    assert env.engine.executions(ACCOUNT, since=execs[-1].time) == [execs[-1]]
    assert env.engine.executions("DU0000000") == []


def test_events_report_order_changes_and_executions(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    order = env.submit()
    assert env.events == [OrderChanged(order)]
    env.run()
    kinds = [type(e) for e in env.events]
    assert ExecutionAdded in kinds
    last_order = [e for e in env.events if isinstance(e, OrderChanged)][-1].order
    assert last_order.status == "Filled"
    execution = next(e for e in env.events if isinstance(e, ExecutionAdded)).execution
    assert execution.order_id == order.order_id


def test_a_failing_listener_does_not_stop_the_engine(env: Env) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("websocket gone")

    env.engine.subscribe(broken)
    seen: list[object] = []
    unsubscribe = env.engine.subscribe(seen.append)
    order = env.submit()
    env.run()
    assert env.now_order(order).status == "Filled"
    assert seen
    unsubscribe()
    count = len(seen)
    env.submit()
    assert len(seen) == count


def test_reset_returns_to_the_start_state(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    first = env.submit(coid="r")
    env.run()
    env.submit(order_type="LMT", limit_price="90.00")
    env.engine.reset()
    assert env.engine.orders() == [] and env.engine.positions(ACCOUNT) == []
    assert env.engine.executions(ACCOUNT) == []
    acct = env.engine.account(ACCOUNT)
    assert acct.cash == acct.net_liquidation == START
    assert not env.market.quote(AAPL).pinned
    again = env.submit(coid="r")  # the cOID registry is cleared too
    assert again.order_id > first.order_id  # ids never repeat, even across a reset


def test_same_seed_and_actions_give_identical_results(make_env: Callable[..., Env]) -> None:
    def scenario(seed: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
        env = make_env(seed=seed)
        env.submit(quantity=3000)
        env.submit(side="SELL", quantity=500, order_type="LMT", limit_price="1.00")
        env.run(30)
        return [(e.execution_id, e.quantity, e.price, e.commission) for e in
                env.engine.executions(ACCOUNT)]

    assert scenario(5) == scenario(5)
    assert scenario(5) != scenario(6)
