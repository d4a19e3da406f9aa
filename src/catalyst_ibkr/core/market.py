"""Quotes: the market reference the price collar and market-order checks rely on.

Why a type: a quote without a timestamp is worthless for risk (reliability A3: "reject market
orders when no quote is younger than T"), so a :class:`Quote` always carries its time, and
``age(now)`` is the only way to ask whether it is fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.money import ensure_aware_utc, parse_decimal

__all__ = ["Quote"]


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book for one contract at ``time``. Any side may be missing (None)."""

    conid: ConId
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    time: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "conid", ConId(self.conid))
        for name in ("bid", "ask", "last"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_decimal(value, name, positive=True))
        object.__setattr__(self, "time", ensure_aware_utc(self.time, "time"))

    def age(self, now: datetime) -> timedelta:
        """How old the quote is at ``now`` (negative if ``now`` is before the quote time)."""
        return ensure_aware_utc(now, "now") - self.time

    def is_fresh(self, now: datetime, max_age: timedelta) -> bool:
        """True when the quote is no older than ``max_age`` and not from the future."""
        age = self.age(now)
        return timedelta(0) <= age <= max_age

    @property
    def is_crossed(self) -> bool:
        """Bid above ask: happens briefly in real markets; a collar should not trust it."""
        return self.bid is not None and self.ask is not None and self.bid > self.ask

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    def reference_price(self, side: Side) -> Decimal | None:
        """The price a marketable order on ``side`` would meet: ask to buy, bid to sell,
        falling back to last; None when none is known."""
        touch = self.ask if side is Side.BUY else self.bid
        return touch if touch is not None else self.last
