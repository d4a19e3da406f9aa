"""Helpers for the pure engine tests: a clock frozen at a known Tuesday, a seeded market.

A uniquely named module (not conftest) so `import` cannot pick up another directory's
conftest; conftest.py here only re-exports the fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ibkr_sim.clock import SimClock
from ibkr_sim.engine import EngineEvent, OrderTicket, SimEngine, SimOrder
from ibkr_sim.market import Market
from ibkr_sim.universe import Universe

ACCOUNT = "DU1234567"
AAPL = 265598
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York
UNIVERSE = Universe.load()


class FrozenClock(SimClock):
    """A SimClock that only moves when told: tests decide every sim second."""

    def __init__(self, start: datetime) -> None:
        super().__init__(1.0, start)
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)
        self._mono += seconds


@dataclass
class Env:
    clock: FrozenClock
    market: Market
    engine: SimEngine
    events: list[EngineEvent] = field(default_factory=list)

    def ticket(self, **kw: Any) -> OrderTicket:
        defaults: dict[str, Any] = {
            "account": ACCOUNT,
            "conid": AAPL,
            "side": "BUY",
            "order_type": "MKT",
            "quantity": Decimal(100),
        }
        defaults.update(kw)
        for key in ("quantity", "limit_price", "stop_price"):
            if isinstance(defaults.get(key), (int, str)):
                defaults[key] = Decimal(str(defaults[key]))
        return OrderTicket(**defaults)

    def submit(self, **kw: Any) -> SimOrder:
        return self.engine.submit(self.ticket(**kw))

    def pin(self, conid: int = AAPL, **prices: str) -> None:
        self.market.set(conid, **{k: Decimal(v) for k, v in prices.items()})

    def run(self, seconds: int = 1) -> None:
        """Step once per simulated second."""
        for _ in range(seconds):
            self.engine.step()
            self.clock.advance(1)

    def now_order(self, order: SimOrder) -> SimOrder:
        current = self.engine.order(order.order_id)
        assert current is not None
        return current


def new_env(
    *, seed: int = 11, hours: str = "always", start: datetime = T0, **engine_kw: Any
) -> Env:
    """A fresh clock, market and engine (usable inside Hypothesis examples)."""
    clock = FrozenClock(start)
    market = Market(UNIVERSE, clock, seed=seed, market_hours=hours)  # type: ignore[arg-type]
    engine = SimEngine(clock=clock, universe=UNIVERSE, market=market, **engine_kw)
    env = Env(clock, market, engine)
    engine.subscribe(env.events.append)
    return env


@pytest.fixture
def make_env() -> Callable[..., Env]:
    return new_env


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()
