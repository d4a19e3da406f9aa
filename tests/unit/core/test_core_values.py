"""Instrument, Quote, AccountSnapshot and Clock: small values with rules that risk relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalyst_ibkr.core.account import AccountSnapshot
from catalyst_ibkr.core.clock import Clock, FixedClock, SystemClock
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def test_instrument_normalises_and_rounds_on_its_grid() -> None:
    spy = Instrument(ConId(756733), "spy", tick=Decimal("0.01"), lot=Decimal(1))
    assert spy.symbol == "SPY" and spy.exchange == "SMART" and spy.currency == "USD"
    assert spy.round_limit_price(Decimal("500.019"), Side.BUY) == Decimal("500.01")
    assert spy.round_limit_price(Decimal("500.011"), Side.SELL) == Decimal("500.02")
    assert spy.round_quantity(Decimal("10.7")) == Decimal(10)
    with pytest.raises(InvalidInput, match="stop_price"):
        spy.check_stop_price(Decimal("499.995"))
    assert spy.notional(Decimal(-10), Decimal(500)) == Decimal(5000)


def test_instrument_multiplier_scales_notional() -> None:
    option = Instrument(ConId(1), "AAPL", sec_type="OPT", multiplier=Decimal(100))
    assert option.notional(Decimal(2), Decimal("3.50")) == Decimal(700)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tick": Decimal(0)}, "tick"),
        ({"lot": Decimal(-1)}, "lot"),
        ({"currency": "US"}, "currency"),
        ({"sec_type": "stock!"}, "sec_type"),
    ],
)
def test_instrument_refuses_bad_grids(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Instrument(ConId(1), "AAPL", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_quote_age_freshness_and_reference_prices() -> None:
    quote = Quote(ConId(1), Decimal("99.9"), Decimal("100.1"), Decimal(100), T0)
    assert quote.age(T0 + timedelta(seconds=3)) == timedelta(seconds=3)
    assert quote.is_fresh(T0 + timedelta(seconds=5), timedelta(seconds=5))
    assert not quote.is_fresh(T0 + timedelta(seconds=6), timedelta(seconds=5))
    assert not quote.is_fresh(T0 - timedelta(seconds=1), timedelta(seconds=5))  # from the future
    assert quote.reference_price(Side.BUY) == Decimal("100.1")
    assert quote.reference_price(Side.SELL) == Decimal("99.9")
    assert quote.mid == Decimal(100)
    assert not quote.is_crossed


def test_quote_missing_sides_fall_back_to_last_or_none() -> None:
    last_only = Quote(ConId(1), None, None, Decimal(50), T0)
    assert last_only.reference_price(Side.BUY) == Decimal(50)
    assert last_only.mid is None
    assert Quote(ConId(1), None, None, None, T0).reference_price(Side.SELL) is None
    assert Quote(ConId(1), Decimal(2), Decimal(1), None, T0).is_crossed


def test_quote_refuses_bad_values() -> None:
    with pytest.raises(InvalidInput, match="bid"):
        Quote(ConId(1), Decimal("NaN"), None, None, T0)
    with pytest.raises(InvalidInput, match="time"):
        Quote(ConId(1), None, None, None, datetime(2026, 1, 5))


def test_account_snapshot_keeps_missing_figures_missing() -> None:
    snap = AccountSnapshot("DU1234567", "usd", "100000", "400000", "100000.50", T0)  # type: ignore[arg-type]
    assert snap.net_liquidation == Decimal(100000) and snap.cash == Decimal("100000.50")
    assert snap.currency == "USD" and snap.is_paper
    assert snap.available_funds is None
    assert snap.age(T0 + timedelta(minutes=1)) == timedelta(minutes=1)
    with pytest.raises(InvalidInput, match="buying_power"):
        AccountSnapshot("DU1", "USD", Decimal(1), Decimal("NaN"), Decimal(1), T0)  # type: ignore[arg-type]


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(T0)
    assert isinstance(clock, Clock)
    assert clock.now() == T0
    assert clock.advance(1.5) == T0 + timedelta(seconds=1.5)
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.set(T0)
    assert clock.now() == T0
    with pytest.raises(InvalidInput):
        FixedClock(datetime(2026, 1, 1))


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC


def test_order_type_price_needs() -> None:
    assert OrderType.STP_LMT.needs_limit_price and OrderType.STP_LMT.needs_stop_price
    assert not OrderType.MKT.needs_limit_price and not OrderType.MKT.needs_stop_price
    assert Side.BUY.opposite is Side.SELL and Side.SELL.sign == -1
