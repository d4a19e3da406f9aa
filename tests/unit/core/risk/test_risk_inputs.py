"""Risk inputs built from domain orders and positions: open orders count, closed ones do not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from risk_builders import AAPL, NOW, context, loose

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import ClientOrderId, ConId, ExecutionId
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.core.positions import Position
from catalyst_ibkr.core.risk import (
    IntentAction,
    RiskEngine,
    intent_for_modify,
    intent_for_order,
    position_exposures,
    working_orders_from,
)

D = Decimal


def make(cid: str, qty: str = "10", order_type: OrderType = OrderType.LMT,
         limit: str | None = "99.00") -> Order:
    return Order(ClientOrderId(cid), None, AAPL.conid, "AAPL", Side.BUY, D(qty), order_type,
                 NOW, limit_price=None if limit is None else D(limit))


def fill(order: Order, qty: str, exec_id: str, price: str = "99.00") -> Fill:
    return Fill(ExecutionId(exec_id), order.conid, order.side, D(qty), D(price), NOW,
                client_order_id=order.client_order_id)


def test_open_orders_count_from_journaling_and_closed_ones_do_not() -> None:
    pending = make("p")
    pending.mark_submitting(NOW)
    in_doubt = make("d")
    in_doubt.mark_submitting(NOW)
    in_doubt.mark_in_doubt(NOW, "timeout")
    partly = make("f")
    partly.mark_submitting(NOW)
    partly.accept(NOW)
    partly.apply_fill(fill(partly, "4", "x1"))
    denied = make("n")
    denied.deny("QUANTITY_EXCEEDS_MAX", NOW)
    fresh = make("i")  # INITIALIZED: not journaled for sending yet
    working = working_orders_from([pending, in_doubt, partly, denied, fresh], lambda c: None)
    by_id = {w.client_order_id: w for w in working}
    assert set(by_id) == {"p", "d", "f"}
    assert by_id["d"].in_doubt and by_id["p"].in_doubt and not by_id["f"].in_doubt
    assert by_id["f"].remaining_quantity == 6
    assert by_id["f"].price == D("99.00")


def test_working_orders_are_priced_at_the_higher_of_limit_and_mark() -> None:
    order = make("m")
    order.mark_submitting(NOW)
    [w] = working_orders_from([order], lambda c: D("101.00"), lambda c: D(100))
    assert w.price == D("101.00") and w.multiplier == 100 and w.notional == D(101000)


def test_an_open_market_order_without_a_mark_cannot_be_valued() -> None:
    order = make("mk", order_type=OrderType.MKT, limit=None)
    order.mark_submitting(NOW)
    with pytest.raises(ValueError, match="no price and no mark"):
        working_orders_from([order], lambda c: None)


def test_intent_for_modify_is_sized_at_what_would_stay_open() -> None:
    order = make("mod", qty="10")
    order.mark_submitting(NOW)
    order.accept(NOW)
    order.apply_fill(fill(order, "4", "x2"))
    intent = intent_for_modify(order, quantity=D(20), limit_price=D("98.00"))
    assert intent.action is IntentAction.MODIFY and intent.quantity == 16
    assert intent.limit_price == D("98.00") and intent.client_order_id == "mod"
    unchanged = intent_for_modify(order, limit_price=D("97.00"))
    assert unchanged.quantity == 6


def test_intent_for_order_round_trips_through_the_engine() -> None:
    order = make("new", limit="100.00")
    intent = intent_for_order(order)
    assert intent.action is IntentAction.NEW and intent.conid == AAPL.conid
    assert RiskEngine(loose()).evaluate(intent, context()).allowed


def test_position_exposures_skip_flat_and_fall_back_to_average_price() -> None:
    long = Position(AAPL.conid)
    long.apply_fill(Fill(ExecutionId("e1"), AAPL.conid, Side.BUY, D(5), D("90.00"), NOW))
    flat = Position(ConId(8314))
    exposures = position_exposures([long, flat], lambda c: None)
    assert list(exposures) == [AAPL.conid]
    assert exposures[AAPL.conid].quantity == 5 and exposures[AAPL.conid].mark_price == D(90)
    marked = position_exposures([long], lambda c: D("95.00"))
    assert marked[AAPL.conid].notional == D("475.00")
