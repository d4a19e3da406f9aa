"""SimClock: scaled time, jumps, never backwards."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from ibkr_sim.clock import SimClock

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_starts_at_the_given_instant_tz_aware() -> None:
    clock = SimClock(1.0, START)
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert START <= now < START + timedelta(seconds=5)


def test_time_scale_speeds_up_sim_time() -> None:
    clock = SimClock(1000.0, START)
    before = clock.monotonic()
    time.sleep(0.02)
    elapsed = clock.monotonic() - before
    assert elapsed >= 1000.0 * 0.02 * 0.9  # at least ~20 sim seconds for 20 ms real
    assert clock.time_scale == 1000.0


def test_advance_moves_now_and_monotonic_together() -> None:
    clock = SimClock(1.0, START)
    mono, now = clock.monotonic(), clock.now()
    clock.advance(3600)
    assert clock.monotonic() - mono >= 3600
    assert clock.now() - now >= timedelta(hours=1)
    assert clock.now() - now < timedelta(hours=1, seconds=5)


def test_time_never_goes_back() -> None:
    clock = SimClock(1.0, START)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)
    readings = [clock.monotonic() for _ in range(1000)]
    assert readings == sorted(readings)


def test_reset_returns_to_the_start() -> None:
    clock = SimClock(1.0, START)
    clock.advance(86400)
    clock.reset()
    assert clock.now() < START + timedelta(seconds=5)
    assert clock.monotonic() < 5


@pytest.mark.parametrize("scale", [0, -1.0, float("nan")])
def test_bad_scale_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="time_scale"):
        SimClock(scale)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(1.0, datetime(2026, 1, 1))


def test_concurrent_advances_are_not_lost() -> None:
    clock = SimClock(1.0, START)
    threads = [threading.Thread(target=lambda: [clock.advance(1) for _ in range(500)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.monotonic() >= 2000
