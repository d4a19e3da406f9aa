"""IBKR's daily session reset as a planned window, so it is held through, not alarmed on.

Why a window and not an instant: IBKR documents both a midnight reset of the connecting
region and a brief ``/iserver`` break around 01:00 local (cpapi.md §2.7; the two tables even
disagree). ``[watchdog] daily_reset_start`` (local HH:MM in ``daily_reset_timezone``) and
``daily_reset_window_s`` cover both; inside the window a lost session is expected, so the
watchdog holds trading, keeps reauthenticating cheaply and sends no alert. DST is handled by
doing the arithmetic in the local zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DailyResetWindow"]


@dataclass(frozen=True)
class DailyResetWindow:
    timezone: str
    start: time
    length: timedelta

    @classmethod
    def from_settings(cls, timezone: str, start_hhmm: str, length_s: float) -> DailyResetWindow:
        hour, minute = (int(part) for part in start_hhmm.split(":"))
        return cls(timezone, time(hour, minute), timedelta(seconds=length_s))

    def _starts_around(self, now: datetime) -> list[datetime]:
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        day = local.date()
        return [
            datetime.combine(day + timedelta(days=offset), self.start, tzinfo=zone)
            for offset in (-1, 0, 1)
        ]

    def current(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The (start, end) of the window ``now`` is in (aware datetimes), or None."""
        if self.length <= timedelta(0):
            return None
        for start in self._starts_around(now):
            end = start + self.length
            if start <= now < end:
                return start, end
        return None

    def contains(self, now: datetime) -> bool:
        return self.current(now) is not None

    def next_start(self, now: datetime) -> datetime:
        """The next window start strictly after ``now``."""
        return min(start for start in self._starts_around(now) if start > now)
