"""Historical bars read off the market's price process (for ``/iserver/marketdata/history``).

Why bars are sampled from the process instead of recorded: the process is a pure function
of (seed, conid, second), so any window, past or future, at any bar size, comes out the same
for the same seed, and the bars agree with the live quotes a client saw at those instants.
Each bar's open and close are the process price at its first and last second; high and low
are the extremes of a fixed number of evenly spaced samples in between (so a bar never
costs more than :data:`SAMPLES_PER_BAR` price evaluations).  Volume is a deterministic hash
of (seed, conid, bar start) scaled to the bar's length.  Overrides pinned with
``POST /sim/market`` move live quotes only, not history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

__all__ = [
    "BAR_SECONDS",
    "MAX_POINTS",
    "Bar",
    "HistoryError",
    "PriceProcess",
    "bars",
    "parse_bar",
    "parse_period",
]

MAX_POINTS = 1000
SAMPLES_PER_BAR = 8

# IBKR's accepted bar sizes (cpapi.md §5.3); months are taken as 30 days.
BAR_SECONDS: dict[str, int] = {
    "1min": 60, "2min": 120, "3min": 180, "5min": 300, "10min": 600, "15min": 900,
    "30min": 1800, "1h": 3600, "2h": 7200, "3h": 10800, "4h": 14400, "8h": 28800,
    "1d": 86400, "1w": 7 * 86400, "1m": 30 * 86400,
}
# Period units and IBKR's allowed ranges: {1-30}min, {1-8}h, {1-1000}d, {1-792}w, {1-182}m,
# {1-15}y.
_PERIOD_UNITS: dict[str, tuple[int, int]] = {
    "min": (60, 30), "h": (3600, 8), "d": (86400, 1000), "w": (7 * 86400, 792),
    "m": (30 * 86400, 182), "y": (365 * 86400, 15),
}
_PERIOD_RE = re.compile(r"^(\d+)(min|h|d|w|m|y)$")


class HistoryError(ValueError):
    """A request the gateway would refuse; the message says what to change."""


class PriceProcess(Protocol):
    """What bars need from the market: the process price of an instrument at an instant."""

    def price_at(self, conid: int, when: datetime) -> Decimal: ...

    def is_open(self, now: datetime | None = None) -> bool: ...


@dataclass(frozen=True, slots=True)
class Bar:
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def parse_period(text: str) -> int:
    """``"1w"`` -> seconds; raises HistoryError naming the allowed forms."""
    match = _PERIOD_RE.match(text.strip().lower())
    if match is None:
        raise HistoryError(
            f"period {text!r} is not valid; use e.g. 30min, 8h, 5d, 2w, 6m or 1y"
        )
    count, unit = int(match.group(1)), match.group(2)
    seconds, most = _PERIOD_UNITS[unit]
    if not 1 <= count <= most:
        raise HistoryError(f"period {text!r}: {unit} periods must be 1..{most}")
    return count * seconds


def parse_bar(text: str) -> int:
    seconds = BAR_SECONDS.get(text.strip().lower())
    if seconds is None:
        raise HistoryError(
            f"bar {text!r} is not valid; use one of {', '.join(BAR_SECONDS)}"
        )
    return seconds


def _volume(seed: int, conid: int, start: int, bar_s: int) -> int:
    # hash() of a tuple of ints is not randomised per process, so this is reproducible.
    spread = (hash((seed, conid, start)) & 0xFFFF) / 0xFFFF  # 0..1
    per_minute = 2_000 + int(spread * 20_000)
    return max(100, per_minute * bar_s // 60 // 100 * 100)


def bars(
    market: PriceProcess,
    conid: int,
    *,
    seed: int,
    end: datetime,
    period_s: int,
    bar_s: int,
    regular_only: bool,
) -> list[Bar]:
    """The bars of ``[end - period_s, end)`` aligned to ``bar_s`` (UTC epoch multiples).

    With ``regular_only`` (``outsideRth=false``) intraday bars whose start falls outside the
    market's regular session are left out, as IBKR leaves them out.
    """
    if bar_s > period_s:
        raise HistoryError("bar must not be longer than period (e.g. period=1d, bar=5min)")
    end_s = int(end.timestamp()) // bar_s * bar_s
    first = end_s - (period_s // bar_s) * bar_s
    count = (end_s - first) // bar_s
    if count > MAX_POINTS:
        raise HistoryError(
            f"{count} bars requested; at most {MAX_POINTS} data points per request "
            "(choose a shorter period or a longer bar)"
        )
    out: list[Bar] = []
    step = max(1, bar_s // SAMPLES_PER_BAR)
    for start in range(first, end_s, bar_s):
        when = datetime.fromtimestamp(start, UTC)
        if regular_only and bar_s < 86400 and not market.is_open(when):
            continue
        prices = [
            market.price_at(conid, when + timedelta(seconds=offset))
            for offset in range(0, bar_s, step)
        ]
        prices.append(market.price_at(conid, when + timedelta(seconds=bar_s - 1)))
        out.append(Bar(
            time=when, open=prices[0], high=max(prices), low=min(prices), close=prices[-1],
            volume=_volume(seed, conid, start, bar_s),
        ))
    return out
