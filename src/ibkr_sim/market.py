"""Deterministic simulated market: quotes per conid as a pure function of (seed, sim time).

Why a pure function rather than a random walk that is stepped forward: the server asks for
quotes on every request, the clock can jump by days (``POST /sim/clock``), and tests need the
same seed and the same sim instant to give the same quote. So the log-price of an instrument
is a sum of smooth "value noise" octaves (5 s to 30 days) hashed from the seed and the conid,
evaluated in O(octaves) at any instant, with no history to replay. The price therefore stays
within roughly +-15% of the instrument's base price, which is what a demo and a test want.

Quotes change once per simulated second (and are cached for that second), prices are whole
ticks (0.01), and the spread is 1-3 ticks for ordinary names and wider for expensive ones.
``set`` pins an override (``POST /sim/market``) that holds until ``reset``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from ibkr_sim.clock import SimClock
from ibkr_sim.universe import Instrument, Universe

__all__ = ["Market", "MarketHours", "NyseCalendar", "Quote", "UnknownInstrument"]

MarketHours = Literal["always", "nyse"]

_MASK64 = (1 << 64) - 1
# (period in seconds, amplitude of log-price): short wiggles to a slow multi-week drift.
_OCTAVES: tuple[tuple[float, float], ...] = (
    (5.0, 0.0004),
    (60.0, 0.0012),
    (900.0, 0.003),
    (3 * 3600.0, 0.006),
    (86400.0, 0.015),
    (7 * 86400.0, 0.03),
    (30 * 86400.0, 0.06),
)
_HIGH_LOW_SAMPLE_S = 900  # high/low are read from the process on a 15-minute grid


class UnknownInstrument(KeyError):
    """The conid is not in the universe."""


def _mix(value: int) -> int:
    """splitmix64 finaliser: a fast, well-spread integer hash that needs no imports."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _unit(key: int, *parts: int) -> float:
    """Deterministic float in [0, 1) from a per-instrument key and integer parts."""
    h = key
    for part in parts:
        h = _mix(h ^ (part & _MASK64))
    return h / 2.0**64


def _noise(key: int, octave: int, cell: int) -> float:
    """One lattice value in [-1, 1); a single mix keeps the hot path cheap."""
    return _mix(key ^ ((octave * 0x2545F4914F6CDD1D + cell) & _MASK64)) / 2.0**63 - 1.0


# ----------------------------------------------------------------------------- calendar
class NyseCalendar:
    """NYSE regular (09:30-16:00 ET) and extended (04:00-20:00 ET) sessions, weekdays only.

    US Eastern time is computed from the US DST rule (second Sunday of March to the first
    Sunday of November, 02:00 local) so no tz database is needed. Exchange holidays and
    half days are NOT modelled.
    """

    REGULAR = (timedelta(hours=9, minutes=30), timedelta(hours=16))
    EXTENDED = (timedelta(hours=4), timedelta(hours=20))

    @staticmethod
    def _nth_sunday(year: int, month: int, n: int) -> date:
        first = date(year, month, 1)
        offset = (6 - first.weekday()) % 7
        return first + timedelta(days=offset + 7 * (n - 1))

    @classmethod
    def utc_offset(cls, when: datetime) -> timedelta:
        """Eastern offset from UTC at ``when`` (-4 h in DST, -5 h otherwise)."""
        utc = when.astimezone(UTC).replace(tzinfo=None)
        year = utc.year
        dst_start = datetime.combine(cls._nth_sunday(year, 3, 2), datetime.min.time()) + (
            timedelta(hours=7)  # 02:00 EST == 07:00 UTC
        )
        dst_end = datetime.combine(cls._nth_sunday(year, 11, 1), datetime.min.time()) + (
            timedelta(hours=6)  # 02:00 EDT == 06:00 UTC
        )
        return timedelta(hours=-4) if dst_start <= utc < dst_end else timedelta(hours=-5)

    @classmethod
    def local(cls, when: datetime) -> datetime:
        """Naive US Eastern wall-clock time for ``when``."""
        return when.astimezone(UTC).replace(tzinfo=None) + cls.utc_offset(when)

    @classmethod
    def to_utc(cls, local_day: date, at: timedelta) -> datetime:
        """The UTC instant of Eastern wall-clock ``local_day`` + ``at``."""
        naive = datetime.combine(local_day, datetime.min.time()) + at
        guess = (naive - timedelta(hours=-5)).replace(tzinfo=UTC)
        return (naive - cls.utc_offset(guess)).replace(tzinfo=UTC)

    @classmethod
    def is_regular(cls, when: datetime) -> bool:
        return cls._within(when, cls.REGULAR)

    @classmethod
    def is_extended(cls, when: datetime) -> bool:
        return cls._within(when, cls.EXTENDED)

    @classmethod
    def _within(cls, when: datetime, window: tuple[timedelta, timedelta]) -> bool:
        local = cls.local(when)
        if local.weekday() >= 5:
            return False
        into_day = local - datetime.combine(local.date(), datetime.min.time())
        return window[0] <= into_day < window[1]

    @classmethod
    def next_close(cls, after: datetime, *, extended: bool = False) -> datetime:
        """The first session close (16:00, or 20:00 with ``extended``) strictly after ``after``."""
        close_at = cls.EXTENDED[1] if extended else cls.REGULAR[1]
        day = cls.local(after).date()
        while True:
            if day.weekday() < 5:
                close = cls.to_utc(day, close_at)
                if close > after:
                    return close
            day += timedelta(days=1)

    @classmethod
    def previous_weekday(cls, day: date) -> date:
        day -= timedelta(days=1)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day


# ----------------------------------------------------------------------------- quotes
DayRange = tuple[Decimal | None, Decimal | None]


def _no_range() -> DayRange:
    return None, None


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book and today's statistics for one instrument at one simulated second.

    ``high`` and ``low`` are computed when first read: they walk the day's price grid, which
    was 95 % of building a quote, and most readers (a sweep asking for last, bid and ask)
    never look at them. The values do not depend on when they are read.
    """

    conid: int
    last: Decimal
    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    last_size: int
    volume: int
    open: Decimal | None
    close: Decimal | None
    prior_close: Decimal
    updated: datetime
    pinned: bool = False
    day_range: Callable[[], DayRange] = field(default=_no_range, repr=False, compare=False)

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def high(self) -> Decimal | None:
        return self.day_range()[0]

    @property
    def low(self) -> Decimal | None:
        return self.day_range()[1]


@dataclass(slots=True)
class _DayStats:
    day: date
    trading_day: bool
    start_s: int
    end_s: int
    open_ticks: int
    close_ticks: int
    prior_close_ticks: int
    daily_volume: int
    samples_done: int
    high_ticks: int
    low_ticks: int


@dataclass(frozen=True, slots=True)
class _Pin:
    last: Decimal
    bid: Decimal
    ask: Decimal


class Market:
    """Quotes for every instrument of a universe, seeded and driven by the sim clock."""

    def __init__(
        self,
        universe: Universe,
        clock: SimClock,
        seed: int = 0,
        market_hours: MarketHours = "always",
    ) -> None:
        if market_hours not in ("always", "nyse"):
            raise ValueError(f"market_hours must be 'always' or 'nyse', got {market_hours!r}")
        self.universe = universe
        self.clock = clock
        self.seed = int(seed)
        self.market_hours: MarketHours = market_hours
        self._lock = threading.Lock()
        self._pins: dict[int, _Pin] = {}
        self._cache: dict[int, tuple[int, Quote]] = {}
        self._days: dict[int, _DayStats] = {}
        self._keys: dict[int, int] = {}
        self._lattice: dict[int, list[tuple[int, float, float]]] = {}
        self._day_span: tuple[int, int, date] = (0, 0, date.min)

    # -- hours ---------------------------------------------------------------------------
    def is_open(self, now: datetime | None = None) -> bool:
        """Regular trading hours: always with "always", 09:30-16:00 ET weekdays with "nyse"."""
        if self.market_hours == "always":
            return True
        return NyseCalendar.is_regular(now if now is not None else self.clock.now())

    def is_extended_open(self, now: datetime | None = None) -> bool:
        """Whether an outside-RTH order may trade now (04:00-20:00 ET weekdays with "nyse")."""
        if self.market_hours == "always":
            return True
        return NyseCalendar.is_extended(now if now is not None else self.clock.now())

    def session_close_after(
        self, when: datetime, *, outside_rth: bool = False
    ) -> datetime | None:
        """When a DAY order placed at ``when`` expires; None when the market never closes."""
        if self.market_hours == "always":
            return None
        return NyseCalendar.next_close(when, extended=outside_rth)

    # -- overrides -----------------------------------------------------------------------
    def set(
        self,
        conid: int,
        *,
        last: Decimal | None = None,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
    ) -> Quote:
        """Pin last/bid/ask for ``conid`` until ``reset``; missing sides follow consistently.

        Only last: bid/ask straddle it with the instrument's usual spread. Only bid and/or ask:
        last moves to their midpoint (rounded to a tick) and a missing side is placed one
        spread away. Raises ValueError (with what to fix) for non-positive or crossed prices.
        """
        inst = self._instrument(conid)
        for name, value in (("last", last), ("bid", bid), ("ask", ask)):
            if value is not None and (not value.is_finite() or value <= 0):
                raise ValueError(f"{name} must be a positive price, got {value}")
        if last is None and bid is None and ask is None:
            raise ValueError("give at least one of last, bid, ask")
        if bid is not None and ask is not None and bid >= ask:
            raise ValueError(f"bid {bid} must be below ask {ask}")
        anchor = last if last is not None else (bid if bid is not None else ask)
        assert anchor is not None
        spread = inst.tick * self._spread_ticks(inst, anchor, False)
        if bid is None and ask is None:
            assert last is not None
            half = inst.tick * max(1, self._spread_ticks(inst, last, False) // 2)
            bid, ask = last - half, last + half
            if bid <= 0:
                bid = last / 2
        elif bid is None:
            assert ask is not None
            bid = ask - spread if ask - spread > 0 else ask / 2
        elif ask is None:
            ask = bid + spread
        if last is None:
            last = ((bid + ask) / 2).quantize(inst.tick)
        pin = _Pin(last=last, bid=bid, ask=ask)
        with self._lock:
            self._pins[conid] = pin
            self._cache.pop(conid, None)
        return self.quote(conid)

    def pinned(self) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
        """Every override as ``conid -> (last, bid, ask)`` (what a persisted book saves)."""
        with self._lock:
            return {conid: (p.last, p.bid, p.ask) for conid, p in self._pins.items()}

    def reset(self) -> None:
        """Drop every override and cache; the process itself depends only on the seed."""
        with self._lock:
            self._pins.clear()
            self._cache.clear()
            self._days.clear()

    # -- quotes --------------------------------------------------------------------------
    def quote(self, conid: int, now: datetime | None = None) -> Quote:
        """The quote for ``conid`` at ``now`` (default: the clock). Raises UnknownInstrument."""
        when = now if now is not None else self.clock.now()
        second = math.floor(when.timestamp())
        cached = self._cache.get(conid)
        if cached is not None and cached[0] == second:
            return cached[1]
        inst = self._instrument(conid)
        quote = self._build(inst, second)
        with self._lock:
            self._cache[conid] = (second, quote)
        return quote

    def price_at(self, conid: int, when: datetime) -> Decimal:
        """The process price (what ``last`` would be without a pin) at any instant.

        Pure in (seed, conid, second) and cache-free for the caller, so historical bars can
        read any window without disturbing the live quote cache. Raises UnknownInstrument.
        """
        inst = self._instrument(conid)
        return inst.tick * self._price_ticks(inst, math.floor(when.timestamp()))

    def _instrument(self, conid: int) -> Instrument:
        inst = self.universe.by_conid(conid)
        if inst is None:
            raise UnknownInstrument(conid)
        return inst

    def _key(self, conid: int) -> int:
        key = self._keys.get(conid)
        if key is None:
            key = self._keys[conid] = _mix(_mix(self.seed & _MASK64) ^ conid)
        return key

    def _price_ticks(self, inst: Instrument, second: int) -> int:
        """The process price at ``second``, in whole ticks (never below one tick)."""
        key = self._key(inst.conid)
        lattice = self._lattice.get(inst.conid)
        if lattice is None:
            lattice = self._lattice[inst.conid] = [(-1, 0.0, 0.0)] * len(_OCTAVES)
        log_move = 0.0
        for index, (period, amplitude) in enumerate(_OCTAVES):
            x = second / period
            cell = math.floor(x)
            known = lattice[index]
            if known[0] != cell:  # slow octaves change cell rarely: reuse their lattice values
                known = lattice[index] = (
                    cell, _noise(key, index, cell), _noise(key, index, cell + 1)
                )
            frac = x - cell
            smooth = frac * frac * (3.0 - 2.0 * frac)
            log_move += amplitude * (known[1] + (known[2] - known[1]) * smooth)
        base_ticks = float(inst.base_price / inst.tick)
        return max(1, round(base_ticks * math.exp(log_move)))

    @staticmethod
    def _spread_ticks(inst: Instrument, price: Decimal, wider: bool) -> int:
        """1-2 ticks below $100, 2-3 below $300, 3-4 above; liquid cheap ETFs stay at 1."""
        base = 1 if price < 100 else 2 if price < 300 else 3
        if inst.is_etf and base == 1:
            return 1
        return base + (1 if wider else 0)

    def _build(self, inst: Instrument, second: int) -> Quote:
        tick = inst.tick
        when = datetime.fromtimestamp(second, UTC)
        # one hash per instrument-second; its bytes drive spread, sizes and where last sits
        bits = _mix(self._key(inst.conid) ^ ((second * 0x9E3779B97F4A7C15) & _MASK64))
        pin = self._pins.get(inst.conid)
        if pin is not None:
            last, bid, ask = pin.last, pin.bid, pin.ask
        else:
            last_ticks = self._price_ticks(inst, second)
            last = tick * last_ticks
            spread = self._spread_ticks(inst, last, (bits & 0xFF) < 77)  # ~30% one tick wider
            # last trades at the bid or the ask (or inside a wide spread)
            below = ((bits >> 8) & 0xFF) * (spread + 1) >> 8
            bid_ticks = max(1, last_ticks - below)
            bid = tick * bid_ticks
            ask = tick * (bid_ticks + spread)
        bid_size = 100 * (3 + (((bits >> 16) & 0xFF) * 38 >> 8))
        ask_size = 100 * (3 + (((bits >> 24) & 0xFF) * 38 >> 8))
        last_size = 100 * (1 + (((bits >> 32) & 0xFF) * 5 >> 8))
        open_, close, prior_close, volume = self._day_stats(inst, second, when)

        def day_range() -> DayRange:
            return self._day_range(inst, second, when, last)

        return Quote(
            conid=inst.conid,
            last=last,
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
            last_size=last_size,
            volume=volume,
            open=open_,
            close=close,
            prior_close=prior_close,
            updated=when,
            pinned=pin is not None,
            day_range=day_range,
        )

    def _day_stats(
        self, inst: Instrument, second: int, when: datetime
    ) -> tuple[Decimal | None, Decimal | None, Decimal, int]:
        """open/close/prior close/volume for the Eastern trading day of ``when``."""
        tick = inst.tick
        day = self._day(inst, self._local_day(second, when))
        prior_close = tick * day.prior_close_ticks
        if not day.trading_day or second < day.start_s:
            return None, None, prior_close, 0
        upto = min(second, day.end_s)
        close = tick * day.close_ticks if second >= day.end_s else None
        fraction = (upto - day.start_s) / max(1, day.end_s - day.start_s)
        volume = int(day.daily_volume * fraction)
        return tick * day.open_ticks, close, prior_close, volume

    def _day_range(self, inst: Instrument, second: int, when: datetime,
                   last: Decimal) -> DayRange:
        """high/low of the Eastern trading day of ``when`` up to ``second``."""
        tick = inst.tick
        day = self._day(inst, self._local_day(second, when))
        if not day.trading_day or second < day.start_s:
            return None, None
        upto = min(second, day.end_s)
        with self._lock:  # the grid walk mutates the day's memo; readers may be threads
            self._extend_extremes(inst, day, upto)
            hi, lo = day.high_ticks, day.low_ticks
        if upto == second:  # during the session the current last counts too
            last_ticks = int(last / tick)
            hi, lo = max(hi, last_ticks), min(lo, last_ticks)
        return tick * hi, tick * lo

    def _local_day(self, second: int, when: datetime) -> date:
        """The New York calendar day of ``second``, cached for the span of that day."""
        start, end, day = self._day_span
        if start <= second < end:
            return day
        day = NyseCalendar.local(when).date()
        start = math.floor(NyseCalendar.to_utc(day, timedelta(0)).timestamp())
        end = math.floor(NyseCalendar.to_utc(day + timedelta(days=1), timedelta(0)).timestamp())
        self._day_span = (start, end, day)
        return day

    def _day(self, inst: Instrument, local_day: date) -> _DayStats:
        """Per-conid facts about one Eastern day, computed once (the hot path reuses them)."""
        cached = self._days.get(inst.conid)
        if cached is not None and cached.day == local_day:
            return cached
        if self.market_hours == "nyse":
            start = NyseCalendar.to_utc(local_day, NyseCalendar.REGULAR[0])
            end = NyseCalendar.to_utc(local_day, NyseCalendar.REGULAR[1])
            prior_day = NyseCalendar.previous_weekday(local_day)
            prior_close_at = NyseCalendar.to_utc(prior_day, NyseCalendar.REGULAR[1])
            trading_day = local_day.weekday() < 5
        else:
            start = NyseCalendar.to_utc(local_day, timedelta(0))
            end = start + timedelta(days=1)
            prior_close_at = start
            trading_day = True
        start_s, end_s = math.floor(start.timestamp()), math.floor(end.timestamp())
        open_ticks = self._price_ticks(inst, start_s)
        stats = _DayStats(
            day=local_day,
            trading_day=trading_day,
            start_s=start_s,
            end_s=end_s,
            open_ticks=open_ticks,
            close_ticks=self._price_ticks(inst, end_s),
            prior_close_ticks=self._price_ticks(inst, math.floor(prior_close_at.timestamp())),
            daily_volume=500_000 + int(_unit(self._key(inst.conid), 23) * 30_000_000),
            samples_done=0,
            high_ticks=open_ticks,
            low_ticks=open_ticks,
        )
        self._days[inst.conid] = stats
        return stats

    def _extend_extremes(self, inst: Instrument, day: _DayStats, upto: int) -> None:
        """High/low over the 15-minute grid since the open, extended incrementally.

        Reading the grid (not the quotes that happened to be asked for) keeps high/low a
        function of the sim time alone. A jump back in time (reset) rebuilds from the open.
        """
        samples = (upto - day.start_s) // _HIGH_LOW_SAMPLE_S
        if samples < day.samples_done:
            day.samples_done, day.high_ticks, day.low_ticks = 0, day.open_ticks, day.open_ticks
        for index in range(day.samples_done + 1, samples + 1):
            ticks = self._price_ticks(inst, day.start_s + index * _HIGH_LOW_SAMPLE_S)
            day.high_ticks = max(day.high_ticks, ticks)
            day.low_ticks = min(day.low_ticks, ticks)
        day.samples_done = max(day.samples_done, samples)
