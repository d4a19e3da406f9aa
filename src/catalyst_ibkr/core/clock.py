"""Time as an injected dependency.

Why: TTLs, quote freshness, throttles and daily loss windows all depend on "now". Reading the
system clock inside the core would make them untestable and would let a naive datetime slip
in; every consumer takes a :class:`Clock` instead, and tests use :class:`FixedClock`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from catalyst_ibkr.core.money import ensure_aware_utc

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current time as a tz-aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; the default for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_aware_utc(
            start if start is not None else datetime(2026, 1, 5, 14, 30, tzinfo=UTC), "start"
        )

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (seconds or a timedelta); moving backwards is refused."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("FixedClock.advance: time does not go backwards; use set()")
        self._now += step
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (any direction), e.g. to model a clock correction."""
        self._now = ensure_aware_utc(when, "when")
