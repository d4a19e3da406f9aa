"""`[risk]` config: defaults are conservative, bad values refuse to load naming the key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.core.enums import OrderType, TimeInForce
from catalyst_ibkr.core.risk import RiskConfigError, RiskLimits


def test_empty_table_gives_the_documented_conservative_defaults() -> None:
    limits = RiskLimits.from_mapping({})
    assert limits == RiskLimits()
    assert limits.max_order_quantity == Decimal(1000)
    assert limits.max_order_notional == Decimal(50000)
    assert limits.price_collar_pct == Decimal(3)
    assert limits.max_orders_per_second == 50
    assert limits.duplicate_window_s == 0  # off by default (interfaces.md)
    assert limits.trading_hours is None  # opt-in
    assert limits.allowed_order_types == frozenset(OrderType)
    assert limits.allowed_tifs == frozenset(TimeInForce)


def test_every_documented_key_is_in_docs_risk_md() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[4] / "docs" / "risk.md").read_text()
    for key in RiskLimits().to_mapping():
        assert f"`{key}`" in doc, key
    assert "`trading_timezone`" in doc and "`trading_days`" in doc


def test_values_parse_from_toml_types_and_env_strings() -> None:
    limits = RiskLimits.from_mapping(
        {
            "max_order_quantity": 500,
            "max_order_notional": "25000.50",
            "price_collar_pct": 2.5,
            "max_orders_per_second": "20",
            "duplicate_window_s": 0,
            "allowed_symbols": "aapl, MSFT",
            "denied_conids": [8314, "9999"],
            "allowed_order_types": ["lmt", "MKT"],
            "allowed_tifs": "DAY",
        }
    )
    assert limits.max_order_quantity == Decimal(500)
    assert limits.max_order_notional == Decimal("25000.50")
    assert limits.price_collar_pct == Decimal("2.5")
    assert limits.max_orders_per_second == 20
    assert limits.allowed_symbols == {"AAPL", "MSFT"}
    assert limits.denied_conids == {8314, 9999}
    assert limits.allowed_order_types == {OrderType.LMT, OrderType.MKT}
    assert limits.allowed_tifs == {TimeInForce.DAY}


@pytest.mark.parametrize(
    ("table", "key", "hint"),
    [
        ({"max_order_qty": 5}, "max_order_qty", "unknown key"),
        ({"max_order_quantity": 0}, "max_order_quantity", "greater than zero"),
        ({"max_order_notional": -1}, "max_order_notional", "greater than zero"),
        ({"max_gross_exposure": "lots"}, "max_gross_exposure", "expected a number"),
        ({"max_position_quantity": True}, "max_position_quantity", "expected a number"),
        ({"price_collar_pct": float("nan")}, "price_collar_pct", "finite"),
        ({"quote_max_age_s": "Infinity"}, "quote_max_age_s", "finite"),
        ({"daily_loss_limit": [1]}, "daily_loss_limit", "expected a number"),
        ({"buying_power_use_pct": 150}, "buying_power_use_pct", "at most 100"),
        ({"max_orders_per_second": 2.5}, "max_orders_per_second", "whole number"),
        ({"max_orders_per_second": 0}, "max_orders_per_second", "greater than zero"),
        ({"duplicate_window_s": -1}, "duplicate_window_s", "zero (off)"),
        ({"strategy_max_fills": -1}, "strategy_max_fills", "0 (off)"),
        ({"strategy_max_fills": 1.5}, "strategy_max_fills", "0 (off)"),
        ({"strategy_fill_window_s": 0}, "strategy_fill_window_s", "greater than zero"),
        ({"allowed_symbols": 5}, "allowed_symbols", "expected a list"),
        ({"allowed_symbols": [""]}, "allowed_symbols", "non-empty"),
        ({"allowed_conids": ["abc"]}, "allowed_conids", "positive integer"),
        ({"denied_conids": [0]}, "denied_conids", "positive integer"),
        ({"allowed_order_types": ["MOC"]}, "allowed_order_types", "choose from"),
        ({"allowed_order_types": []}, "allowed_order_types", "at least one"),
        ({"allowed_tifs": ["OPG"]}, "allowed_tifs", "choose from"),
        ({"allowed_symbols": ["AAPL"], "denied_symbols": ["aapl"]}, "denied_symbols", "one list"),
        ({"allowed_conids": [1], "denied_conids": [1]}, "denied_conids", "one list"),
        ({"trading_hours": "9:30-16:00"}, "trading_hours", "HH:MM-HH:MM"),
        ({"trading_hours": "16:00-09:30"}, "trading_hours", "before end"),
        ({"trading_hours": "25:00-26:00"}, "trading_hours", "valid time"),
        ({"trading_hours": 930}, "trading_hours", "HH:MM-HH:MM"),
        ({"trading_hours": "09:30-16:00", "trading_timezone": "Mars/Base"}, "trading_timezone",
         "IANA"),
        ({"trading_hours": "09:30-16:00", "trading_days": ["FUNDAY"]}, "trading_days", "unknown"),
        ({"trading_timezone": "UTC"}, "trading_timezone", "only meaningful"),
    ],
)
def test_invalid_config_refuses_to_load_naming_the_key(
    table: dict[str, Any], key: str, hint: str
) -> None:
    with pytest.raises(RiskConfigError) as caught:
        RiskLimits.from_mapping(table)
    assert caught.value.key == key
    assert hint in caught.value.problem
    assert str(caught.value).startswith(f"[risk] {key}: ")


def test_a_non_mapping_is_refused() -> None:
    with pytest.raises(RiskConfigError):
        RiskLimits.from_mapping([("max_order_quantity", 1)])  # type: ignore[arg-type]


def test_to_mapping_round_trips() -> None:
    original = RiskLimits.from_mapping(
        {
            "max_order_quantity": "12.5",
            "allowed_symbols": ["SPY"],
            "denied_conids": [5],
            "allowed_tifs": ["DAY", "IOC"],
            "duplicate_window_s": 3,
            "trading_hours": "09:30-16:00",
            "trading_timezone": "Europe/Berlin",
            "trading_days": ["MON", "WED"],
        }
    )
    assert RiskLimits.from_mapping(original.to_mapping()) == original
    assert RiskLimits.from_mapping(RiskLimits().to_mapping()) == RiskLimits()


def test_trading_hours_window_in_the_exchange_zone() -> None:
    hours = RiskLimits.from_mapping({"trading_hours": "09:30-16:00"}).trading_hours
    assert hours is not None
    # Monday 2026-01-05; New York is UTC-5 in January.
    assert not hours.contains(datetime(2026, 1, 5, 14, 29, 59, tzinfo=UTC))
    assert hours.contains(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    assert hours.contains(datetime(2026, 1, 5, 20, 59, 59, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 1, 5, 21, 0, tzinfo=UTC))
    # Saturday: not a default trading day.
    assert not hours.contains(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))


def test_every_reason_code_is_documented() -> None:
    from pathlib import Path

    from catalyst_ibkr.core.risk import ReasonCode

    doc = (Path(__file__).resolve().parents[4] / "docs" / "risk.md").read_text()
    for code in ReasonCode:
        assert f"`{code.value}`" in doc, code


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"max_order_quantity": Decimal(0)}, "max_order_quantity"),
        ({"daily_loss_limit": Decimal("-1")}, "daily_loss_limit"),
        ({"price_collar_pct": Decimal("NaN")}, "price_collar_pct"),
        ({"buying_power_use_pct": Decimal(101)}, "buying_power_use_pct"),
        ({"duplicate_window_s": Decimal(-1)}, "duplicate_window_s"),
        ({"max_orders_per_second": 0}, "max_orders_per_second"),
        ({"max_orders_per_second": True}, "max_orders_per_second"),
        ({"allowed_tifs": frozenset()}, "allowed_tifs"),
        ({"allowed_symbols": frozenset({"X"}), "denied_symbols": frozenset({"X"})},
         "denied_symbols"),
    ],
)
def test_limits_built_in_code_obey_the_same_rules(changes: dict[str, Any], key: str) -> None:
    import dataclasses

    with pytest.raises(RiskConfigError) as caught:
        dataclasses.replace(RiskLimits(), **changes)
    assert caught.value.key == key
