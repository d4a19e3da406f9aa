"""The simulator's single notion of time.

Every IBKR duration the simulator models (pacing windows, penalty box, idle expiry, relogin
delay, fill delays, the NYSE session) is expressed in IBKR seconds and compared against this
clock.  Running the clock ``time_scale`` times faster than real time therefore divides every
such duration by the scale in wall-clock terms, which is how tests avoid waiting real IBKR
durations.  ``advance`` lets a test (or ``POST /sim/clock``) jump over a window instantly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]


class SimClock:
    """Thread-safe simulated clock: scaled real time plus explicit jumps.

    ``now()`` and ``monotonic()`` are both derived from one real monotonic reading, so they
    advance together and ``monotonic()`` can never go backwards, even if the host's wall clock
    is adjusted.
    """

    def __init__(self, time_scale: float = 1.0, start: datetime | None = None) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        self._time_scale = float(time_scale)
        self._start_arg = start
        self._lock = threading.Lock()
        self._real_origin = 0.0
        self._wall_origin = datetime.now(UTC)
        self._offset = 0.0
        self.reset()

    @property
    def time_scale(self) -> float:
        """How many simulated seconds pass per real second."""
        return self._time_scale

    def reset(self) -> None:
        """Go back to the start instant (or the real current time if none was given)."""
        with self._lock:
            self._real_origin = time.monotonic()
            start = self._start_arg if self._start_arg is not None else datetime.now(UTC)
            self._wall_origin = start.astimezone(UTC)
            self._offset = 0.0

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real_origin) * self._time_scale + self._offset

    def monotonic(self) -> float:
        """Simulated seconds since the clock's origin; never decreases."""
        with self._lock:
            return self._elapsed()

    def now(self) -> datetime:
        """The simulated current instant, tz-aware UTC."""
        with self._lock:
            return self._wall_origin + timedelta(seconds=self._elapsed())

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward; a negative jump is refused (time never goes back)."""
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds!r} s)")
        with self._lock:
            self._offset += float(seconds)
