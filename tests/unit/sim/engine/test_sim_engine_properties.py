"""Hypothesis: whatever sequence of orders, price moves and cancels happens, the books agree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sim_engine_env import ACCOUNT, Env, new_env

from ibkr_sim.engine import EngineRejection, FixedCommission

D = Decimal
CONIDS = (265598, 756733, 72063691)  # AAPL, SPY, BRK B
START = D(1_000_000)

prices = st.integers(min_value=5_000, max_value=15_000).map(lambda c: D(c) / 100)
submit = st.fixed_dictionaries(
    {
        "conid": st.sampled_from(CONIDS),
        "side": st.sampled_from(["BUY", "SELL"]),
        "order_type": st.sampled_from(["MKT", "LMT", "STP", "STP_LMT"]),
        "quantity": st.integers(1, 6000).map(D),
        "limit_price": prices,
        "stop_price": prices,
        "tif": st.sampled_from(["DAY", "GTC", "IOC"]),
    }
).map(lambda kw: ("submit", kw))
move = st.tuples(st.just("pin"), st.sampled_from(CONIDS), prices)
wait = st.tuples(st.just("run"), st.integers(1, 5))
cancel = st.tuples(st.just("cancel"), st.integers(0, 30))
actions = st.lists(st.one_of(submit, move, wait, cancel), min_size=1, max_size=30)


def play(env: Env, script: list[Any]) -> None:
    for action in script:
        if action[0] == "submit":
            before = (env.engine.orders(), env.engine.account(ACCOUNT).cash)
            try:
                env.submit(**action[1])
            except EngineRejection:  # e.g. margin: a rejection leaves the books untouched
                assert (env.engine.orders(), env.engine.account(ACCOUNT).cash) == before
        elif action[0] == "pin":
            env.market.set(action[1], last=action[2])
        elif action[0] == "run":
            env.run(action[1])
        elif action[0] == "cancel":
            orders = env.engine.orders()
            if orders:
                env.engine.cancel(ACCOUNT, orders[action[1] % len(orders)].order_id)
        env.engine.step()
        check_invariants(env)


def check_invariants(env: Env) -> None:
    engine = env.engine
    execs = engine.executions(ACCOUNT)
    by_order: dict[int, list[Any]] = {}
    for e in execs:
        by_order.setdefault(e.order_id, []).append(e)
    for order in engine.orders():
        filled = sum((e.quantity for e in by_order.get(order.order_id, [])), D(0))
        assert order.filled_quantity == filled
        assert 0 <= order.filled_quantity <= order.quantity
        assert order.remaining_quantity >= 0
        if order.status == "Filled":
            assert order.filled_quantity == order.quantity
        if filled:
            value = sum(e.quantity * e.price for e in by_order[order.order_id])
            assert order.commission == FixedCommission().order_total(filled, value)
    cash = START - sum(
        ((e.quantity if e.side == "BUY" else -e.quantity) * e.price + e.commission for e in execs),
        D(0),
    )
    acct = engine.account(ACCOUNT)
    assert acct.cash == cash
    positions = {p.conid: p for p in engine.positions(ACCOUNT)}
    for conid in CONIDS:
        net = sum(
            (e.quantity if e.side == "BUY" else -e.quantity for e in execs if e.conid == conid),
            D(0),
        )
        assert (positions[conid].quantity if conid in positions else D(0)) == net
    value = sum((p.market_value for p in positions.values()), D(0))
    assert acct.net_liquidation == cash + value
    assert acct.gross_position_value == sum((abs(p.market_value) for p in positions.values()),
                                            D(0))
    drift = acct.net_liquidation - START - (acct.realized_pnl + acct.unrealized_pnl)
    assert abs(drift) < D("1e-8")  # derived figures are rounded to 10 places
    assert len({e.execution_id for e in execs}) == len(execs)


@given(script=actions)
def test_books_stay_consistent(script: list[Any]) -> None:
    play(new_env(), script)


@given(script=actions, seed=st.integers(0, 1000))
def test_same_seed_same_script_same_outcome(script: list[Any], seed: int) -> None:
    a, b = new_env(seed=seed), new_env(seed=seed)
    play(a, script)
    play(b, script)
    assert a.engine.orders() == b.engine.orders()
    assert a.engine.executions(ACCOUNT) == b.engine.executions(ACCOUNT)
    assert a.engine.account(ACCOUNT) == b.engine.account(ACCOUNT)
