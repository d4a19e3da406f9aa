"""`OrderHistory`: the short memory the throttle and the duplicate window read.

Why it is separate from the engine: the engine stays stateless and pure; the OMS records an
order here only once it is allowed and journaled, and hands `recent(now)` to the context.
A denied order is never recorded, so it cannot eat into the rate budget.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from catalyst_ibkr.core.ids import StrategyId
from catalyst_ibkr.core.risk.config import RiskLimits
from catalyst_ibkr.core.risk.context import RecentOrder

__all__ = ["OrderHistory", "StrategyFills"]


class OrderHistory:
    """Allowed orders of the last max(1 s, duplicate window), oldest first."""

    def __init__(self, limits: RiskLimits) -> None:
        self._horizon = max(timedelta(seconds=1), limits.duplicate_window)
        self._orders: deque[RecentOrder] = deque()

    def record(self, order: RecentOrder) -> None:
        self._orders.append(order)
        self._prune(order.time)

    def recent(self, now: datetime) -> tuple[RecentOrder, ...]:
        self._prune(now)
        return tuple(self._orders)

    def _prune(self, now: datetime) -> None:
        cutoff = now - self._horizon
        while self._orders and self._orders[0].time < cutoff:
            self._orders.popleft()


class StrategyFills:
    """The repeated-execution circuit (RTS 6 Art 15(3), reliability A11): after
    `strategy_max_fills` fills of one strategy within `strategy_fill_window_s`, that strategy
    is to be disabled until a person re-enables it. This only counts and says so; the service
    persists the disabled set and passes it as `RiskContext.disabled_strategies`.
    """

    def __init__(self, limits: RiskLimits) -> None:
        self._max = limits.strategy_max_fills
        self._window = limits.strategy_fill_window
        self._fills: dict[StrategyId, deque[datetime]] = {}

    def record(self, strategy: StrategyId | None, time: datetime) -> bool:
        """Count one new (deduplicated) fill; True when the strategy must now be disabled."""
        if self._max <= 0 or strategy is None:
            return False
        times = self._fills.setdefault(strategy, deque())
        times.append(time)
        cutoff = time - self._window
        while times and times[0] <= cutoff:
            times.popleft()
        return len(times) >= self._max
