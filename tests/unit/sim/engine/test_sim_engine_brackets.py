"""Brackets (parent cOID + children) and OCA groups."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_engine_env import AAPL, ACCOUNT, Env

from ibkr_sim.engine import EngineRejection, SimOrder

D = Decimal


def bracket(env: Env, qty: int = 100) -> tuple[SimOrder, SimOrder, SimOrder]:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    parent = env.submit(order_type="LMT", limit_price="99.00", quantity=qty, coid="b-1")
    take = env.submit(
        side="SELL", order_type="LMT", limit_price="105.00", quantity=qty, parent_coid="b-1"
    )
    stop = env.submit(
        side="SELL", order_type="STP", stop_price="95.00", quantity=qty, parent_coid="b-1"
    )
    return parent, take, stop


def test_children_wait_presubmitted_until_the_parent_fills(env: Env) -> None:
    parent, take, stop = bracket(env)
    assert take.status == stop.status == "PreSubmitted"
    assert take.parent_order_id == parent.order_id and take.parent_coid == "b-1"
    env.pin(last="106.00", bid="105.99", ask="106.01")  # would fill the take-profit
    env.run(2)
    assert env.now_order(take).filled_quantity == 0  # parent not filled: child inert
    env.pin(last="98.99", bid="98.98", ask="99.00")
    env.run()
    assert env.now_order(parent).status == "Filled"
    assert env.now_order(take).status == "Submitted"
    assert env.now_order(stop).status == "PreSubmitted"  # a stop rests until triggered


def test_take_profit_fill_cancels_the_stop_loss(env: Env) -> None:
    _, take, stop = bracket(env)
    env.pin(last="98.99", bid="98.98", ask="99.00")
    env.run()
    env.pin(last="105.10", bid="105.05", ask="105.12")
    env.run()
    assert env.now_order(take).status == "Filled"
    assert env.now_order(stop).status == "Cancelled"
    assert env.engine.positions(ACCOUNT) == []


def test_stop_loss_fill_cancels_the_take_profit(env: Env) -> None:
    _, take, stop = bracket(env)
    env.pin(last="98.99", bid="98.98", ask="99.00")
    env.run()
    env.pin(last="94.00", bid="93.99", ask="94.01")
    env.run()
    assert env.now_order(stop).status == "Filled"
    assert env.now_order(stop).avg_fill_price == D("93.99")
    assert env.now_order(take).status == "Cancelled"


def test_partial_child_fill_reduces_the_sibling(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    touch = env.market.quote(AAPL).ask_size
    qty = touch * 3
    parent, take, stop = bracket(env, qty)
    env.pin(last="98.99", bid="98.98", ask="99.00")
    env.run(10)
    assert env.now_order(parent).status == "Filled"
    env.pin(last="105.10", bid="105.05", ask="105.12")
    env.engine.step()  # one slice of the take-profit
    take_now = env.now_order(take)
    assert 0 < take_now.filled_quantity < qty
    assert env.now_order(stop).quantity == qty - take_now.filled_quantity
    env.run(10)
    assert env.now_order(take).status == "Filled"
    assert env.now_order(stop).status == "Cancelled"


def test_cancelling_an_unfilled_parent_cancels_its_children(env: Env) -> None:
    parent, take, stop = bracket(env)
    env.engine.cancel(ACCOUNT, parent.order_id)
    assert env.now_order(take).status == "Cancelled"
    assert env.now_order(stop).status == "Cancelled"


def test_child_of_a_cancelled_parent_is_refused(env: Env) -> None:
    parent, _, _ = bracket(env)
    env.engine.cancel(ACCOUNT, parent.order_id)
    with pytest.raises(EngineRejection, match="is Cancelled"):
        env.submit(side="SELL", order_type="LMT", limit_price="105.00", parent_coid="b-1")


def test_child_of_an_already_filled_parent_works_at_once(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    env.submit(coid="p")
    env.run()
    child = env.submit(side="SELL", order_type="LMT", limit_price="100.00", parent_coid="p")
    assert child.status == "Submitted"
    env.run()
    assert env.now_order(child).status == "Filled"


def test_explicit_oca_group_cancels_the_others_on_the_first_fill(env: Env) -> None:
    env.pin(last="100.01", bid="100.00", ask="100.02")
    a = env.submit(order_type="LMT", limit_price="99.00", oca_group="g")
    b = env.submit(order_type="LMT", limit_price="100.05", oca_group="g")
    c = env.submit(order_type="LMT", limit_price="98.00", oca_group="g")
    other = env.submit(order_type="LMT", limit_price="98.00", oca_group="h")
    env.run()
    assert env.now_order(b).status == "Filled"
    assert env.now_order(a).status == env.now_order(c).status == "Cancelled"
    assert env.now_order(other).status == "Submitted"
