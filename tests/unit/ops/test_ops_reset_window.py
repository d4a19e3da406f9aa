"""The daily-reset window in the account region's local time, across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalyst_ibkr.service.watchdog import DailyResetWindow

NY = DailyResetWindow.from_settings("America/New_York", "23:55", 4800)


def test_window_spans_midnight_and_the_one_am_break() -> None:
    # 2026-01-15: New York is UTC-5; 23:55 local = 04:55 UTC next day
    assert NY.contains(datetime(2026, 1, 16, 4, 56, tzinfo=UTC))
    assert NY.contains(datetime(2026, 1, 16, 6, 10, tzinfo=UTC))  # 01:10 local
    assert not NY.contains(datetime(2026, 1, 16, 6, 16, tzinfo=UTC))  # 01:16 local
    assert not NY.contains(datetime(2026, 1, 16, 4, 54, tzinfo=UTC))


def test_window_follows_daylight_saving() -> None:
    # July: New York is UTC-4; 23:55 local = 03:55 UTC
    assert NY.contains(datetime(2026, 7, 16, 3, 56, tzinfo=UTC))
    assert not NY.contains(datetime(2026, 7, 16, 3, 54, tzinfo=UTC))


def test_next_start_is_after_now() -> None:
    now = datetime(2026, 1, 16, 12, 0, tzinfo=UTC)
    start = NY.next_start(now)
    assert start > now and start - now < timedelta(days=1)
    assert start.astimezone(UTC) == datetime(2026, 1, 17, 4, 55, tzinfo=UTC)


def test_zero_length_window_never_holds() -> None:
    window = DailyResetWindow.from_settings("UTC", "00:00", 0)
    assert not window.contains(datetime(2026, 1, 16, 0, 0, tzinfo=UTC))
