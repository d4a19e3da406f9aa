"""The simulated market: deterministic, realistic quotes; overrides; NYSE hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibkr_sim.clock import SimClock
from ibkr_sim.market import Market, NyseCalendar, UnknownInstrument
from ibkr_sim.universe import Universe

UNIVERSE = Universe.load()
AAPL = 265598
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 ET
TICK = Decimal("0.01")


def make(seed: int = 7, hours: str = "always", start: datetime = T0) -> tuple[Market, SimClock]:
    clock = SimClock(1.0, start)
    return Market(UNIVERSE, clock, seed=seed, market_hours=hours), clock  # type: ignore[arg-type]


conids = st.sampled_from([i.conid for i in UNIVERSE.all()])
instants = st.integers(min_value=0, max_value=3 * 365 * 86400).map(
    lambda s: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
)


@given(conid=conids, when=instants, seed=st.integers(0, 2**32))
def test_same_seed_and_time_give_the_same_quote(conid: int, when: datetime, seed: int) -> None:
    a, _ = make(seed)
    b, _ = make(seed)
    qa, qb = a.quote(conid, when), b.quote(conid, when)
    assert qa == qb
    assert (qa.high, qa.low) == (qb.high, qb.low)  # computed on read, not part of ==


@given(conid=conids, when=instants, hours=st.sampled_from(["always", "nyse"]))
def test_quotes_are_sane(conid: int, when: datetime, hours: str) -> None:
    market, _ = make(3, hours)
    q = market.quote(conid, when)
    assert Decimal(0) < q.bid < q.ask
    spread_ticks = (q.ask - q.bid) / TICK
    assert spread_ticks == spread_ticks.to_integral_value()
    assert 1 <= spread_ticks <= 4
    assert q.bid <= q.last <= q.ask
    for price in (q.last, q.bid, q.ask, q.prior_close):
        assert price == price.quantize(TICK)
    assert q.bid_size >= 100 and q.ask_size >= 100 and q.last_size >= 100
    if q.high is not None and q.low is not None and q.close is None:
        assert q.low <= q.last <= q.high
    base = UNIVERSE.by_conid(conid).base_price  # type: ignore[union-attr]
    assert base * Decimal("0.7") < q.last < base * Decimal("1.4")


def test_different_seeds_give_different_paths() -> None:
    a, _ = make(1)
    b, _ = make(2)
    times = [T0 + timedelta(minutes=m) for m in range(30)]
    assert [a.quote(AAPL, t).last for t in times] != [b.quote(AAPL, t).last for t in times]


def test_prices_move_over_time_and_quote_follows_the_clock() -> None:
    market, clock = make()
    seen = set()
    for _ in range(120):
        seen.add(market.quote(AAPL).last)
        clock.advance(30)
    assert len(seen) > 5
    assert market.quote(AAPL).updated == clock.now().replace(microsecond=0)


def test_volume_grows_during_the_day() -> None:
    market, _ = make(hours="nyse")
    early = market.quote(AAPL, T0)
    later = market.quote(AAPL, T0 + timedelta(hours=2))
    assert later.volume > early.volume > 0
    assert later.open == early.open is not None


def test_unknown_conid() -> None:
    market, _ = make()
    with pytest.raises(UnknownInstrument):
        market.quote(1)
    with pytest.raises(UnknownInstrument):
        market.set(1, last=Decimal("10"))


def test_pin_last_only_puts_bid_and_ask_around_it_until_reset() -> None:
    market, clock = make()
    q = market.set(AAPL, last=Decimal("190.00"))
    assert q.last == Decimal("190.00") and q.bid < Decimal("190.00") < q.ask
    assert q.pinned
    clock.advance(3600)
    assert market.quote(AAPL).last == Decimal("190.00")
    market.reset()
    assert market.quote(AAPL).last != Decimal("190.00")


def test_pin_bid_ask_moves_last_to_mid_and_missing_side_follows() -> None:
    market, _ = make()
    q = market.set(AAPL, bid=Decimal("100.00"), ask=Decimal("100.10"))
    assert (q.bid, q.ask, q.last) == (Decimal("100.00"), Decimal("100.10"), Decimal("100.05"))
    q = market.set(AAPL, bid=Decimal("50.00"))
    assert q.bid == Decimal("50.00") and q.ask > q.bid
    q = market.set(AAPL, ask=Decimal("60.00"))
    assert q.ask == Decimal("60.00") and q.bid < q.ask


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "at least one"),
        ({"last": Decimal("-1")}, "positive"),
        ({"bid": Decimal("0")}, "positive"),
        ({"bid": Decimal("10"), "ask": Decimal("9")}, "below ask"),
        ({"last": Decimal("NaN")}, "positive"),
    ],
)
def test_bad_pins_are_refused_and_change_nothing(
    kwargs: dict[str, Decimal], fragment: str
) -> None:
    market, _ = make()
    before = market.quote(AAPL)
    with pytest.raises(ValueError, match=fragment):
        market.set(AAPL, **kwargs)
    assert market.quote(AAPL) == before


def test_always_mode_is_always_open() -> None:
    market, _ = make()
    saturday = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    assert market.is_open(saturday) and market.is_extended_open(saturday)
    assert market.session_close_after(saturday) is None


@pytest.mark.parametrize(
    ("when", "regular", "extended"),
    [
        (datetime(2026, 11, 24, 14, 29, tzinfo=UTC), False, True),  # 09:29 EST
        (datetime(2026, 11, 24, 14, 30, tzinfo=UTC), True, True),  # 09:30 EST
        (datetime(2026, 11, 24, 20, 59, tzinfo=UTC), True, True),  # 15:59 EST
        (datetime(2026, 11, 24, 21, 0, tzinfo=UTC), False, True),  # 16:00 EST
        (datetime(2026, 11, 25, 1, 0, tzinfo=UTC), False, False),  # 20:00 EST
        (datetime(2026, 7, 1, 13, 30, tzinfo=UTC), True, True),  # 09:30 EDT
        (datetime(2026, 7, 1, 13, 29, tzinfo=UTC), False, True),
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), False, False),  # Saturday
    ],
)
def test_nyse_hours(when: datetime, regular: bool, extended: bool) -> None:
    market, _ = make(hours="nyse")
    assert market.is_open(when) is regular
    assert market.is_extended_open(when) is extended


def test_nyse_day_order_expiry_is_the_next_close() -> None:
    market, _ = make(hours="nyse")
    assert market.session_close_after(T0) == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert market.session_close_after(friday_evening) == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    assert market.session_close_after(T0, outside_rth=True) == datetime(
        2026, 11, 25, 1, 0, tzinfo=UTC
    )


@given(when=instants)
def test_eastern_offset_matches_the_tz_database(when: datetime) -> None:
    expected = when.astimezone(ZoneInfo("America/New_York")).utcoffset()
    assert NyseCalendar.utc_offset(when) == expected


def test_nyse_quote_has_no_open_before_the_session_and_a_close_after() -> None:
    market, _ = make(hours="nyse")
    pre = market.quote(AAPL, datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert pre.open is None and pre.high is None and pre.close is None and pre.volume == 0
    post = market.quote(AAPL, datetime(2026, 11, 24, 22, 0, tzinfo=UTC))
    assert post.close is not None and post.open is not None
    next_day = market.quote(AAPL, datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    assert next_day.prior_close == post.close


def test_high_and_low_are_walked_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep for last/bid/ask must not pay for the day's high/low grid walk; reading them
    later gives what reading them at once gives."""
    market, clock = make(5)
    fresh, _ = make(5)  # a second market, read at once
    walks: list[int] = []
    real = Market._extend_extremes

    def counting(self: Market, *args: object) -> None:
        walks.append(1)
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Market, "_extend_extremes", counting)
    quote = market.quote(AAPL)
    assert quote.last and quote.bid and quote.ask and quote.volume >= 0
    assert walks == []
    clock.advance(3600)  # later reads (and other quotes) do not change this quote's range
    market.quote(AAPL)
    at_once = fresh.quote(AAPL, quote.updated)
    assert (quote.high, quote.low) == (at_once.high, at_once.low)
    assert walks
