"""`RiskLimits`: the frozen `[risk]` configuration, with conservative defaults.

Why a hand-written parser instead of pydantic: the core is stdlib only, and the rules are
few but strict. A config that would silently weaken a limit (an unknown key that is really
a typo, a zero or negative limit, a float where a list was meant) refuses to load with a
`RiskConfigError` that names the key and says what to write instead. Every key, its unit and
its default are documented in docs/risk.md; keep the two in step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from catalyst_ibkr.core.enums import OrderType, TimeInForce

__all__ = ["RiskConfigError", "RiskLimits", "TradingHours"]

_E = TypeVar("_E", OrderType, TimeInForce)
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_HOURS_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class RiskConfigError(ValueError):
    """The `[risk]` table is invalid; the message names the key and the fix."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"[risk] {key}: {problem}")


@dataclass(frozen=True, slots=True)
class TradingHours:
    """An opt-in daily window (local exchange time) outside which no order is sent."""

    start: time
    end: time
    timezone: str
    weekdays: frozenset[int]  # 0 = Monday, as datetime.weekday()

    def contains(self, moment: datetime) -> bool:
        """Whether an aware UTC moment falls inside the window (start inclusive, end exclusive)."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if local.weekday() not in self.weekdays:
            return False
        return self.start <= local.time().replace(tzinfo=None) < self.end


def _default_order_types() -> frozenset[OrderType]:
    return frozenset(OrderType)


def _default_tifs() -> frozenset[TimeInForce]:
    return frozenset(TimeInForce)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Pre-trade limits. Defaults are deliberately small: raise them on purpose, in config.

    Money limits are in the quote currency (no FX conversion: one currency assumed);
    quantities in shares/contracts; a notional is quantity x price x multiplier.
    """

    max_order_quantity: Decimal = Decimal("1000")
    max_order_notional: Decimal = Decimal("50000")
    max_position_quantity: Decimal = Decimal("2000")
    max_gross_exposure: Decimal = Decimal("250000")
    price_collar_pct: Decimal = Decimal("3")
    quote_max_age_s: Decimal = Decimal("5")
    buying_power_use_pct: Decimal = Decimal("50")
    daily_loss_limit: Decimal = Decimal("2000")
    max_orders_per_second: int = 50
    duplicate_window_s: Decimal = Decimal("0")
    strategy_max_fills: int = 0
    strategy_fill_window_s: Decimal = Decimal("60")
    allowed_symbols: frozenset[str] = frozenset()
    denied_symbols: frozenset[str] = frozenset()
    allowed_conids: frozenset[int] = frozenset()
    denied_conids: frozenset[int] = frozenset()
    allowed_order_types: frozenset[OrderType] = field(default_factory=_default_order_types)
    allowed_tifs: frozenset[TimeInForce] = field(default_factory=_default_tifs)
    trading_hours: TradingHours | None = None

    def __post_init__(self) -> None:
        # The same rules hold however limits are built (from_mapping, a runtime change via
        # dataclasses.replace, a test): a RiskLimits that exists is a valid one.
        for key in _POSITIVE_DECIMALS:
            value = getattr(self, key)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise RiskConfigError(key, f"must be a positive finite Decimal, got {value!r}")
        if self.buying_power_use_pct > 100:
            raise RiskConfigError(
                "buying_power_use_pct", "must be at most 100 (a percent of buying power)"
            )
        window = self.duplicate_window_s
        if not isinstance(window, Decimal) or not window.is_finite() or window < 0:
            raise RiskConfigError(
                "duplicate_window_s", f"must be zero (off) or positive, got {window!r}"
            )
        rate = self.max_orders_per_second
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise RiskConfigError(
                "max_orders_per_second", f"must be a whole number > 0, got {rate!r}"
            )
        fills = self.strategy_max_fills
        if isinstance(fills, bool) or not isinstance(fills, int) or fills < 0:
            raise RiskConfigError(
                "strategy_max_fills", f"must be 0 (off) or a whole number > 0, got {fills!r}"
            )
        for key in ("allowed_order_types", "allowed_tifs"):
            if not getattr(self, key):
                raise RiskConfigError(key, "must list at least one value (empty blocks all orders)")
        _check_lists_disjoint(self)

    @property
    def quote_max_age(self) -> timedelta:
        return timedelta(seconds=float(self.quote_max_age_s))

    @property
    def duplicate_window(self) -> timedelta:
        return timedelta(seconds=float(self.duplicate_window_s))

    @property
    def strategy_fill_window(self) -> timedelta:
        return timedelta(seconds=float(self.strategy_fill_window_s))

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> RiskLimits:
        """Build limits from a parsed `[risk]` table (TOML values, or strings from env vars).

        Missing keys keep their defaults; anything unknown or invalid raises RiskConfigError.
        """
        if not isinstance(table, Mapping):
            raise RiskConfigError("<table>", "expected a table of key = value pairs")
        unknown = sorted(set(table) - _KNOWN_KEYS)
        if unknown:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise RiskConfigError(unknown[0], f"unknown key (a typo?); known keys: {known}")
        values: dict[str, Any] = {}
        for key in _POSITIVE_DECIMALS:
            if key in table:
                values[key] = _positive_decimal(key, table[key])
        if "duplicate_window_s" in table:
            values["duplicate_window_s"] = _non_negative_decimal(
                "duplicate_window_s", table["duplicate_window_s"]
            )
        if "strategy_max_fills" in table:
            values["strategy_max_fills"] = _non_negative_int(
                "strategy_max_fills", table["strategy_max_fills"]
            )
        if "max_orders_per_second" in table:
            values["max_orders_per_second"] = _positive_int(
                "max_orders_per_second", table["max_orders_per_second"]
            )
        for key in ("allowed_symbols", "denied_symbols"):
            if key in table:
                values[key] = frozenset(s.upper() for s in _str_list(key, table[key]))
        for key in ("allowed_conids", "denied_conids"):
            if key in table:
                values[key] = frozenset(_conid(key, v) for v in _list(key, table[key]))
        if "allowed_order_types" in table:
            values["allowed_order_types"] = _enum_set(
                "allowed_order_types", table["allowed_order_types"], OrderType
            )
        if "allowed_tifs" in table:
            values["allowed_tifs"] = _enum_set("allowed_tifs", table["allowed_tifs"], TimeInForce)
        values["trading_hours"] = _trading_hours(table)
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        """The effective settings as a `[risk]` table (for `config check`); round-trips."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "trading_hours":
                continue
            if isinstance(value, Decimal):
                out[f.name] = str(value)
            elif isinstance(value, frozenset):
                out[f.name] = sorted(str(v.value) if hasattr(v, "value") else v for v in value)
            else:
                out[f.name] = value
        hours = self.trading_hours
        if hours is None:
            out["trading_hours"] = ""
        else:
            out["trading_hours"] = f"{hours.start:%H:%M}-{hours.end:%H:%M}"
            out["trading_timezone"] = hours.timezone
            out["trading_days"] = [_WEEKDAYS[d] for d in sorted(hours.weekdays)]
        return out


_POSITIVE_DECIMALS = (
    "max_order_quantity",
    "max_order_notional",
    "max_position_quantity",
    "max_gross_exposure",
    "price_collar_pct",
    "quote_max_age_s",
    "buying_power_use_pct",
    "daily_loss_limit",
    "strategy_fill_window_s",
)
_KNOWN_KEYS = frozenset(
    {f.name for f in fields(RiskLimits)} | {"trading_timezone", "trading_days"}
)


def _decimal(key: str, raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise RiskConfigError(key, f"expected a number, got {type(raw).__name__} {raw!r}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise RiskConfigError(key, f"must be a finite number, got {raw!r}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise RiskConfigError(key, f"expected a number such as 100 or 2.5, got {raw!r}") from None
    if not value.is_finite():
        raise RiskConfigError(key, f"must be a finite number, got {raw!r}")
    return value


def _positive_decimal(key: str, raw: object) -> Decimal:
    value = _decimal(key, raw)
    if value <= 0:
        raise RiskConfigError(
            key, f"must be greater than zero, got {raw!r} (to loosen a limit, raise it)"
        )
    return value


def _non_negative_decimal(key: str, raw: object) -> Decimal:
    value = _decimal(key, raw)
    if value < 0:
        raise RiskConfigError(key, f"must be zero (off) or a positive number, got {raw!r}")
    return value


def _positive_int(key: str, raw: object) -> int:
    value = _decimal(key, raw)
    if value != value.to_integral_value():
        raise RiskConfigError(key, f"must be a whole number, got {raw!r}")
    if value <= 0:
        raise RiskConfigError(key, f"must be greater than zero, got {raw!r}")
    return int(value)


def _non_negative_int(key: str, raw: object) -> int:
    value = _decimal(key, raw)
    if value != value.to_integral_value() or value < 0:
        raise RiskConfigError(key, f"must be 0 (off) or a whole number > 0, got {raw!r}")
    return int(value)


def _list(key: str, raw: object) -> list[object]:
    # Env-var overrides arrive as one string: accept "AAPL,MSFT" as well as a TOML array.
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list | tuple):
        return list(raw)
    raise RiskConfigError(key, f"expected a list such as [\"A\", \"B\"], got {raw!r}")


def _str_list(key: str, raw: object) -> list[str]:
    items = _list(key, raw)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise RiskConfigError(key, f"expected non-empty strings, got {item!r}")
    return [str(item).strip() for item in items]


def _conid(key: str, raw: object) -> int:
    if isinstance(raw, bool):
        raise RiskConfigError(key, f"expected positive integer conids, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise RiskConfigError(key, f"expected positive integer conids, got {raw!r}") from None
    if value <= 0:
        raise RiskConfigError(key, f"expected positive integer conids, got {raw!r}")
    return value


def _enum_set(key: str, raw: object, enum: type[_E]) -> frozenset[_E]:
    names = _str_list(key, raw)
    if not names:
        raise RiskConfigError(key, "must list at least one value (an empty list blocks all orders)")
    out: set[_E] = set()
    for name in names:
        try:
            out.add(enum(name.upper()))
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise RiskConfigError(key, f"unknown value {name!r}; choose from {allowed}") from None
    return frozenset(out)


def _trading_hours(table: Mapping[str, Any]) -> TradingHours | None:
    raw = table.get("trading_hours", "")
    if not isinstance(raw, str):
        raise RiskConfigError("trading_hours", f'expected "HH:MM-HH:MM" or "", got {raw!r}')
    if not raw.strip():
        for dependent in ("trading_timezone", "trading_days"):
            if dependent in table:
                raise RiskConfigError(
                    dependent, 'only meaningful with trading_hours = "HH:MM-HH:MM"; set both'
                )
        return None
    match = _HOURS_RE.match(raw.strip())
    if match is None:
        raise RiskConfigError("trading_hours", f'expected "HH:MM-HH:MM" such as "09:30-16:00", '
                              f"got {raw!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise RiskConfigError("trading_hours", f"not a valid time of day: {raw!r}") from None
    if start >= end:
        raise RiskConfigError("trading_hours", f"start must be before end, got {raw!r}")
    tz_name = table.get("trading_timezone", "America/New_York")
    if not isinstance(tz_name, str):
        raise RiskConfigError("trading_timezone", f"expected an IANA name, got {tz_name!r}")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RiskConfigError(
            "trading_timezone", f"unknown time zone {tz_name!r}; use an IANA name such as "
            "America/New_York"
        ) from None
    days = _str_list("trading_days", table.get("trading_days", list(_WEEKDAYS[:5])))
    weekdays: set[int] = set()
    for day in days:
        if day.upper() not in _WEEKDAYS:
            raise RiskConfigError(
                "trading_days", f"unknown day {day!r}; use {', '.join(_WEEKDAYS)}"
            )
        weekdays.add(_WEEKDAYS.index(day.upper()))
    if not weekdays:
        raise RiskConfigError("trading_days", "must list at least one day")
    return TradingHours(start=start, end=end, timezone=tz_name, weekdays=frozenset(weekdays))


def _check_lists_disjoint(limits: RiskLimits) -> None:
    both = limits.allowed_symbols & limits.denied_symbols
    if both:
        raise RiskConfigError(
            "denied_symbols", f"{sorted(both)} are also in allowed_symbols; keep each in one list"
        )
    both_ids = limits.allowed_conids & limits.denied_conids
    if both_ids:
        raise RiskConfigError(
            "denied_conids", f"{sorted(both_ids)} are also in allowed_conids; keep each in one list"
        )
