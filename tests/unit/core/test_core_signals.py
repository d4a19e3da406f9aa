"""Signal validation: every bad field is named with what to fix, nothing partial is built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from catalyst_ibkr.core.signals import SIGNAL_FIELDS, Signal

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "sig-1",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": "10",
        "order_type": "LMT",
        "limit_price": "190.50",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def issues_of(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        Signal.from_mapping(payload, NOW)
    return {issue.field: issue.problem for issue in info.value.issues}


def test_a_valid_body_becomes_a_typed_signal() -> None:
    signal = Signal.from_mapping(body(symbol="aapl", tif="GTC", strategy="mom-1", ttl_s=30), NOW)
    assert signal.id == SignalId("sig-1")
    assert signal.symbol == "AAPL"
    assert signal.side is Side.BUY and signal.order_type is OrderType.LMT
    assert signal.tif is TimeInForce.GTC
    assert signal.quantity == Decimal(10) and signal.limit_price == Decimal("190.50")
    assert signal.signed_quantity == Decimal(10)
    assert signal.client_order_id == ClientOrderId.for_signal(SignalId("sig-1"))
    assert signal.expires_at == NOW + timedelta(seconds=30)


def test_defaults_match_the_interface() -> None:
    signal = Signal.from_mapping(body(order_type="MKT", limit_price=None), NOW)
    assert signal.tif is TimeInForce.DAY
    assert signal.ttl_s == Decimal(60)
    assert not signal.outside_rth


def test_every_bad_field_is_reported_at_once() -> None:
    problems = issues_of(body(side="HOLD", quantity="-1", tif="FOK"))
    assert set(problems) == {"side", "quantity", "tif"}
    assert "BUY, SELL" in problems["side"]
    assert "greater than zero" in problems["quantity"]


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"quantity": "NaN"}, "quantity", "finite"),
        ({"quantity": "Infinity"}, "quantity", "finite"),
        ({"quantity": 0}, "quantity", "greater than zero"),
        ({"quantity": 1.5}, "quantity", "float"),
        ({"quantity": "1e308"}, "quantity", "out of range"),
        ({"limit_price": "190.123456789012"}, "limit_price", "decimal places"),
        ({"limit_price": None}, "limit_price", "required for order_type LMT"),
        ({"order_type": "MKT"}, "limit_price", "omitted for order_type MKT"),
        ({"order_type": "STP"}, "stop_price", "required"),
        ({"order_type": "STP_LMT", "stop_price": None}, "stop_price", "required"),
        ({"symbol": "ΑAPL"}, "symbol", "not a ticker"),  # Greek Alpha homoglyph
        ({"symbol": "X" * 21}, "symbol", "not a ticker"),
        ({"id": "has space"}, "id", "not allowed"),
        ({"conid": -3}, "conid", "positive"),
        ({"currency": "dollars"}, "currency", "ISO currency"),
        ({"exchange": "NY SE"}, "exchange", "exchange code"),
        ({"strategy": "a b"}, "strategy", "not allowed"),
        ({"ttl_s": 0}, "ttl_s", "greater than zero"),
        ({"ttl_s": 90000}, "ttl_s", "at most 86400"),
        ({"outside_rth": "yes"}, "outside_rth", "true or false"),
        ({"order_type": "MKT", "limit_price": None, "outside_rth": True}, "outside_rth", "priced"),
        ({"take_profit": "180"}, "take_profit", "above the entry price"),
        ({"stop_loss": "195"}, "stop_loss", "below the entry price"),
        ({"side": "SELL", "take_profit": "195"}, "take_profit", "below the entry price"),
        ({"side": "SELL", "stop_loss": "180"}, "stop_loss", "above the entry price"),
        (
            {"order_type": "MKT", "limit_price": None, "take_profit": "1", "stop_loss": "2"},
            "take_profit",
            "above stop_loss",
        ),
        ({"surprise": 1}, "surprise", "not a known field"),
        ({"side": None}, "side", "required"),
    ],
)
def test_bad_input_names_the_field_and_the_fix(
    overrides: dict[str, Any], field: str, needle: str
) -> None:
    payload = body()
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not None}
    problems = issues_of(payload)
    assert field in problems, problems
    assert needle in problems[field]


def test_a_valid_bracket_is_accepted() -> None:
    signal = Signal.from_mapping(body(take_profit="200", stop_loss="185"), NOW)
    assert (signal.take_profit, signal.stop_loss) == (Decimal(200), Decimal(185))


def test_received_at_must_be_aware() -> None:
    with pytest.raises(InvalidInput, match="received_at"):
        Signal.from_mapping(body(), datetime(2026, 1, 5, 14, 30))


def test_body_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="body"):
        Signal.from_mapping(["not", "a", "dict"], NOW)  # type: ignore[arg-type]


def test_expiry_is_at_ttl() -> None:
    signal = Signal.from_mapping(body(ttl_s="1.5"), NOW)
    assert not signal.is_expired(NOW + timedelta(seconds=1.499))
    assert signal.is_expired(NOW + timedelta(seconds=1.5))


@given(
    st.dictionaries(
        st.sampled_from(sorted(SIGNAL_FIELDS | {"junk"})),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=12),
            st.floats(allow_nan=True),
            st.decimals(allow_nan=True),
        ),
    )
)
def test_arbitrary_bodies_either_build_or_raise_invalid_input(payload: dict[str, Any]) -> None:
    try:
        signal = Signal.from_mapping(payload, NOW)
    except InvalidInput as exc:
        assert exc.issues and all(issue.problem for issue in exc.issues)
    else:
        assert signal.quantity > 0 and signal.quantity.is_finite()
