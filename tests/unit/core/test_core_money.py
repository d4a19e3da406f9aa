"""Decimal parsing, formatting and conservative rounding (reliability (b) 41-42)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.money import (
    ensure_aware_utc,
    format_decimal,
    parse_decimal,
    require_on_step,
    round_limit_price,
    round_quantity_to_lot,
)

decimals = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=10, allow_nan=False
)
ticks = st.sampled_from(
    [
        Decimal("0.01"),
        Decimal("0.05"),
        Decimal("0.25"),
        Decimal("0.0001"),
        Decimal("1"),
        Decimal("5"),
        Decimal("0.005"),
    ]
)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("101.25", Decimal("101.25")),
        (" 7 ", Decimal(7)),
        (3, Decimal(3)),
        (Decimal("0.5"), Decimal("0.5")),
        ("1E+3", Decimal(1000)),
        ("-0", Decimal(0)),
    ],
)
def test_parse_accepts_decimal_text_ints_and_decimals(raw: object, expected: Decimal) -> None:
    assert parse_decimal(raw, "price") == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        (Decimal("sNaN"), "finite"),
        (1.5, "not a float"),
        (True, "boolean"),
        ("abc", "not a decimal"),
        ("", "not a decimal"),
        ("١٢", "not a decimal"),  # Arabic-Indic digits: Decimal() would read them as 12
        ("1_000", "not a decimal"),
        ("1e308", "out of range"),
        ("0.123456789012", "decimal places"),
        (None, "NoneType"),
        ([1], "list"),
    ],
)
def test_parse_refuses_unusable_values_naming_the_field(raw: object, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_decimal(raw, "limit_price")
    assert info.value.field == "limit_price"
    assert needle in str(info.value)


def test_parse_sign_constraints() -> None:
    with pytest.raises(InvalidInput, match="greater than zero"):
        parse_decimal("0", "quantity", positive=True)
    with pytest.raises(InvalidInput, match="negative"):
        parse_decimal("-1", "cash", non_negative=True)
    assert parse_decimal("0", "cash", non_negative=True) == 0


def test_trailing_zeros_beyond_the_place_limit_are_not_extra_precision() -> None:
    assert parse_decimal("1.500000000000", "price") == Decimal("1.5")


@given(decimals)
def test_format_then_parse_round_trips(value: Decimal) -> None:
    text = format_decimal(value)
    assert "E" not in text and "e" not in text
    assert parse_decimal(text, "x") == value


def test_format_has_no_exponent_and_no_negative_zero() -> None:
    assert format_decimal(Decimal("1E+3")) == "1000"
    assert format_decimal(Decimal("-0.00")) == "0.00"
    assert format_decimal(Decimal("1.50")) == "1.50"
    with pytest.raises(ValueError):
        format_decimal(Decimal("NaN"))


@given(prices, ticks, st.sampled_from(Side))
def test_limit_rounding_is_only_ever_conservative(
    price: Decimal, tick: Decimal, side: Side
) -> None:
    try:
        rounded = round_limit_price(price, tick, side)
    except InvalidInput:
        assert price < tick  # only a price below one tick cannot be rounded for a buy
        return
    if side is Side.BUY:
        assert price - tick < rounded <= price  # never pay more than asked
    else:
        assert price <= rounded < price + tick  # never receive less than asked
    assert rounded % tick == 0
    assert round_limit_price(rounded, tick, side) == rounded


def test_limit_rounding_examples() -> None:
    assert round_limit_price(Decimal("101.237"), Decimal("0.01"), Side.BUY) == Decimal("101.23")
    assert round_limit_price(Decimal("101.231"), Decimal("0.01"), Side.SELL) == Decimal("101.24")
    assert round_limit_price(Decimal("101.21"), Decimal("0.05"), Side.SELL) == Decimal("101.25")
    assert str(round_limit_price(Decimal("101.20"), Decimal("0.05"), Side.SELL)) == "101.20"
    with pytest.raises(InvalidInput, match="limit_price"):
        round_limit_price(Decimal("0.004"), Decimal("0.01"), Side.BUY)


@given(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e6"), places=4),
    st.sampled_from([Decimal(1), Decimal(100), Decimal("0.0001"), Decimal("0.5")]),
)
def test_quantity_rounds_down_to_lots_or_is_refused(quantity: Decimal, lot: Decimal) -> None:
    try:
        rounded = round_quantity_to_lot(quantity, lot)
    except InvalidInput as exc:
        assert quantity < lot
        assert exc.field == "quantity"
        return
    assert quantity - lot < rounded <= quantity
    assert rounded % lot == 0


def test_off_step_values_are_refused_not_rounded() -> None:
    assert require_on_step(Decimal("100.05"), Decimal("0.05"), "stop_price") == Decimal("100.05")
    with pytest.raises(InvalidInput, match=r"stop_price: 100\.07 is not a multiple of 0\.05"):
        require_on_step(Decimal("100.07"), Decimal("0.05"), "stop_price")


def test_bad_step_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        round_limit_price(Decimal(1), Decimal(0), Side.BUY)


def test_ensure_aware_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    local = datetime(2026, 1, 5, 9, 30, tzinfo=eastern)
    assert ensure_aware_utc(local, "t") == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert ensure_aware_utc(local, "t").tzinfo is UTC
    with pytest.raises(InvalidInput, match="timezone-aware"):
        ensure_aware_utc(datetime(2026, 1, 5, 9, 30), "received_at")
