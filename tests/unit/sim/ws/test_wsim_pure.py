"""Pure parts of the websocket and history: cookie parsing, deltas, period/bar grammar,
bar sampling. The socket behaviour itself is tested over loopback in tests/integration/sim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibkr_sim.engine.history import (
    MAX_POINTS,
    HistoryError,
    bars,
    parse_bar,
    parse_period,
)
from ibkr_sim.web.ws import session_from_cookie
from ibkr_sim.web.ws_topics import order_delta

SID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("header", [
    f"api={SID}",
    f'api={{"session": "{SID}"}}',
    f'api={{"session":"{SID}"}}',
    f"x-sess-uuid=abc; api={SID}; other=1",
    f'api="{SID}"',
])
def test_both_cookie_spellings_give_the_session(header: str) -> None:
    assert session_from_cookie(header) == SID


@pytest.mark.parametrize("header", ["", "other=1", "api=", 'api={"nope": 1}', "api={broken"])
def test_missing_or_broken_cookie_gives_none(header: str) -> None:
    assert session_from_cookie(header) is None


def test_order_delta_keeps_the_keys_and_only_changes() -> None:
    before = {"acct": "DU1", "orderId": 7, "status": "Submitted", "ticker": "AAPL"}
    after = {**before, "status": "Filled", "avgPrice": "1.00"}
    assert order_delta(before, after) == {
        "acct": "DU1", "orderId": 7, "status": "Filled", "avgPrice": "1.00"}
    assert order_delta(after, dict(after)) is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("1min", 60), ("30min", 1800), ("8h", 28800), ("1000d", 86_400_000), ("2w", 1_209_600),
    ("6m", 6 * 30 * 86400), ("15y", 15 * 365 * 86400), ("1D", 86400),
])
def test_periods_ibkr_accepts(text: str, seconds: int) -> None:
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text", ["0d", "31min", "9h", "1001d", "793w", "183m", "16y", "d",
                                  "1s", "", "1 d"])
def test_periods_ibkr_refuses(text: str) -> None:
    with pytest.raises(HistoryError):
        parse_period(text)


def test_bar_sizes() -> None:
    assert parse_bar("5min") == 300 and parse_bar("1m") == 30 * 86400
    with pytest.raises(HistoryError, match="use one of"):
        parse_bar("7min")


class _Line:
    """A fake price process: price rises one cent per second from 100.00."""

    def price_at(self, conid: int, when: datetime) -> Decimal:
        return Decimal("100.00") + Decimal(int(when.timestamp()) % 100_000) / 100

    def is_open(self, now: datetime | None = None) -> bool:
        return True


END = datetime(2026, 1, 5, 16, tzinfo=UTC)


def test_bars_sample_open_close_and_extremes() -> None:
    out = bars(_Line(), 1, seed=0, end=END, period_s=3600, bar_s=600, regular_only=False)
    assert len(out) == 6
    for bar in out:
        assert bar.open == _Line().price_at(1, bar.time)
        assert bar.close == _Line().price_at(1, bar.time + timedelta(seconds=599))
        assert bar.low == bar.open and bar.high == bar.close  # a rising line
    assert out[-1].time + timedelta(minutes=10) == END


def test_too_many_bars_is_refused() -> None:
    with pytest.raises(HistoryError, match=str(MAX_POINTS)):
        bars(_Line(), 1, seed=0, end=END, period_s=86400, bar_s=60, regular_only=False)


@given(seed=st.integers(0, 2**31), start=st.integers(0, 10**6))
def test_volume_is_reproducible(seed: int, start: int) -> None:
    end = END + timedelta(seconds=start)
    one = bars(_Line(), 265598, seed=seed, end=end, period_s=3600, bar_s=900,
               regular_only=False)
    two = bars(_Line(), 265598, seed=seed, end=end, period_s=3600, bar_s=900,
               regular_only=False)
    assert [b.volume for b in one] == [b.volume for b in two]
    assert all(b.volume > 0 for b in one)
