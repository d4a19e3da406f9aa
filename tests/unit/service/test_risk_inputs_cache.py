"""The risk inputs derived from journaled orders are reused only while they still hold.

A cached exposure that outlived its order's version or its mark would let risk count an
order at a stale size or price, so each way the cache can go stale is checked here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.oms.risk_inputs import RiskInputs

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
D = Decimal


def record(ref: str, *, qty: str = "10", limit: str | None = "99.00", version: int = 1,
           order_type: OrderType = OrderType.LMT) -> OrderRecord:
    order = Order(ClientOrderId(ref), None, ConId(265598), "AAPL", Side.BUY, D(qty),
                  order_type, NOW, limit_price=None if limit is None else D(limit))
    order.mark_submitting(NOW)
    return OrderRecord(order_ref=ref, order=order, version=version, external=False,
                       send_attempts=1, lease_owner=None, lease_until=None,
                       in_doubt_since=None, created_at=NOW, updated_at=NOW, parent_ref=None)


def test_the_same_record_at_the_same_mark_is_derived_once() -> None:
    inputs = RiskInputs()
    r = record("a")
    first = inputs.working(r, D("98"))
    assert first is not None and first.price == D("99.00") and first.remaining_quantity == 10
    assert inputs.working(r, D("98")) is first
    assert inputs.recent(r) is inputs.recent(r)


def test_a_new_version_of_the_order_is_derived_again() -> None:
    inputs = RiskInputs()
    old = record("a", qty="10")
    assert inputs.working(old, None).remaining_quantity == 10  # type: ignore[union-attr]
    assert inputs.recent(old).quantity == 10
    newer = record("a", qty="25", version=2)  # read_orders hands out a new object per version
    assert inputs.working(newer, None).remaining_quantity == 25  # type: ignore[union-attr]
    assert inputs.recent(newer).quantity == 25


def test_a_moved_mark_prices_the_order_again() -> None:
    inputs = RiskInputs()
    r = record("a", limit="99.00")
    assert inputs.working(r, D("98")).price == D("99.00")  # type: ignore[union-attr]
    assert inputs.working(r, D("120")).price == D("120")  # type: ignore[union-attr]


def test_an_order_that_does_not_work_counts_for_nothing() -> None:
    order = Order(ClientOrderId("b"), None, ConId(265598), "AAPL", Side.BUY, D(1),
                  OrderType.LMT, NOW, limit_price=D(1))
    unsent = replace(record("a"), order=order)
    assert RiskInputs().working(unsent, None) is None  # INITIALIZED: never journaled


def test_a_market_order_without_a_mark_still_fails_closed() -> None:
    r = record("m", limit=None, order_type=OrderType.MKT)
    with pytest.raises(ValueError, match="no price and no mark"):
        RiskInputs().working(r, None)


def test_orders_no_longer_read_are_forgotten() -> None:
    inputs = RiskInputs()
    many = [record(f"o{i}") for i in range(1500)]
    for r in many:
        inputs.working(r, None)
        inputs.recent(r)
    keep = many[-10:]
    inputs.prune(keep)
    assert set(inputs._working) == {r.order_ref for r in keep}
    assert set(inputs._recent) == {r.order_ref for r in keep}
