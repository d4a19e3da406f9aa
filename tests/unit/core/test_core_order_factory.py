"""Signal -> order(s): conservative rounding on the instrument grid, deterministic cOIDs,
bracket children on the exit side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from core_builders import T0
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ClientOrderId, ConId, SignalId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_factory import order_from_signal, orders_from_signal
from catalyst_ibkr.core.orders import OrderStatus
from catalyst_ibkr.core.signals import Signal

AAPL = Instrument(ConId(265598), "AAPL", tick=Decimal("0.01"))


def signal(**fields: Any) -> Signal:
    body: dict[str, Any] = {
        "id": "s-7",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": "10",
        "order_type": "LMT",
        "limit_price": "190.00",
    }
    body.update(fields)
    return Signal.from_mapping({k: v for k, v in body.items() if v is not None}, T0)


def test_parent_is_rounded_conservatively_on_the_grid() -> None:
    order = order_from_signal(
        signal(side="SELL", quantity="10.9", limit_price="190.123", strategy="mr"), AAPL
    )
    assert order.limit_price == Decimal("190.13")  # a sell limit rounds up
    assert order.quantity == Decimal(10)  # down to whole lots
    assert order.client_order_id == ClientOrderId.for_signal(SignalId("s-7"))
    assert order.strategy == "mr" and order.status is OrderStatus.INITIALIZED
    assert order.created_at == T0 and order.parent_id is None


def test_stop_off_the_tick_is_refused() -> None:
    with pytest.raises(InvalidInput, match="stop_price"):
        order_from_signal(signal(order_type="STP", limit_price=None, stop_price="190.005"), AAPL)


def test_less_than_one_lot_is_refused() -> None:
    lots = Instrument(ConId(1), "XYZ", lot=Decimal(100))
    with pytest.raises(InvalidInput, match="quantity"):
        order_from_signal(signal(symbol="XYZ", quantity="50"), lots)


@pytest.mark.parametrize(
    ("fields", "field"), [({"conid": 1}, "conid"), ({"symbol": "MSFT"}, "symbol")]
)
def test_signal_for_another_instrument_is_refused(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        order_from_signal(signal(**fields), AAPL)
    assert info.value.field == field


def test_bracket_children_sit_on_the_exit_side() -> None:
    parent, tp, sl = orders_from_signal(
        signal(take_profit="200.005", stop_loss="185.00", tif="GTC"), AAPL
    )
    assert parent.client_order_id == ClientOrderId.for_signal(SignalId("s-7"))
    assert (tp.side, tp.order_type, tp.limit_price) == (Side.SELL, OrderType.LMT, Decimal("200.01"))
    assert (sl.side, sl.order_type, sl.stop_price) == (Side.SELL, OrderType.STP, Decimal(185))
    assert tp.parent_id == sl.parent_id == parent.client_order_id
    assert tp.client_order_id == ClientOrderId.for_signal(SignalId("s-7"), "tp")
    assert sl.client_order_id == ClientOrderId.for_signal(SignalId("s-7"), "sl")
    assert tp.quantity == sl.quantity == parent.quantity
    assert tp.tif == parent.tif


def test_bracket_stop_off_the_tick_names_stop_loss() -> None:
    with pytest.raises(InvalidInput) as info:
        orders_from_signal(signal(stop_loss="185.005"), AAPL)
    assert info.value.field == "stop_loss"


def test_plain_signal_gives_one_order() -> None:
    assert len(orders_from_signal(signal(), AAPL)) == 1
    only_tp = orders_from_signal(signal(side="SELL", take_profit="180"), AAPL)
    assert [o.side for o in only_tp] == [Side.SELL, Side.BUY]
    assert only_tp[1].limit_price == Decimal(180)  # a buy limit on the grid already


@given(
    st.sampled_from(Side),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("10000"), places=4),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=2),
    st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("0.25")]),
    st.sampled_from([Decimal(1), Decimal("0.5")]),
)
def test_an_order_is_never_more_aggressive_or_larger_than_its_signal(
    side: Side, quantity: Decimal, limit: Decimal, tick: Decimal, lot: Decimal
) -> None:
    instrument = Instrument(ConId(265598), "AAPL", tick=tick, lot=lot)
    sig = signal(side=side.value, quantity=str(quantity), limit_price=str(limit))
    try:
        order = order_from_signal(sig, instrument)
    except InvalidInput as exc:
        assert exc.field in ("quantity", "limit_price")
        return
    assert order.limit_price is not None
    if side is Side.BUY:
        assert order.limit_price <= limit
    else:
        assert order.limit_price >= limit
    assert abs(order.limit_price - limit) < tick and order.limit_price % tick == 0
    assert quantity - lot < order.quantity <= quantity and order.quantity % lot == 0
