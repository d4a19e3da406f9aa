"""The short memories beside the engine: OrderHistory (throttle, duplicates) and the
repeated-execution circuit (StrategyFills)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from risk_builders import NOW, intent

from catalyst_ibkr.core.ids import StrategyId
from catalyst_ibkr.core.risk import OrderHistory, RecentOrder, RiskLimits, StrategyFills


def test_order_history_keeps_one_second_or_the_duplicate_window() -> None:
    history = OrderHistory(RiskLimits())
    history.record(RecentOrder.of(intent(), NOW))
    history.record(RecentOrder.of(intent(), NOW + timedelta(milliseconds=500)))
    assert len(history.recent(NOW + timedelta(seconds=1))) == 2
    assert len(history.recent(NOW + timedelta(seconds=1, milliseconds=1))) == 1
    long = OrderHistory(RiskLimits(duplicate_window_s=Decimal(30)))
    long.record(RecentOrder.of(intent(), NOW))
    assert len(long.recent(NOW + timedelta(seconds=30))) == 1
    assert long.recent(NOW + timedelta(seconds=31)) == ()


def test_recent_order_normalizes_the_symbol() -> None:
    assert RecentOrder.of(intent(symbol="aapl"), NOW).symbol == "AAPL"


def test_strategy_fill_circuit_boundary() -> None:
    limits = RiskLimits.from_mapping({"strategy_max_fills": 3, "strategy_fill_window_s": 10})
    circuit = StrategyFills(limits)
    s1 = StrategyId("s1")
    assert not circuit.record(s1, NOW)
    assert not circuit.record(s1, NOW + timedelta(seconds=5))
    assert not circuit.record(StrategyId("s2"), NOW + timedelta(seconds=6))  # per strategy
    assert circuit.record(s1, NOW + timedelta(seconds=9))  # third inside 10 s: trip
    later = StrategyFills(limits)
    later.record(s1, NOW)
    later.record(s1, NOW + timedelta(seconds=5))
    assert not later.record(s1, NOW + timedelta(seconds=10))  # the first left the window


def test_strategy_fill_circuit_is_off_by_default() -> None:
    defaults = RiskLimits()
    assert defaults.strategy_max_fills == 0
    assert defaults.strategy_fill_window_s == Decimal(60)
    off = StrategyFills(defaults)
    assert not any(off.record(StrategyId("s1"), NOW) for _ in range(1000))
    assert not StrategyFills(RiskLimits(strategy_max_fills=1)).record(None, NOW)
