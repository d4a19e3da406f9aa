"""A trading signal: the validated body of ``POST /v1/signals``.

Why validate here and not only in the HTTP layer: the CLI, the service and tests all create
signals, and every one of them must refuse the same bad input with the same message before
anything is journaled or sent (team brief: "bad input gets a clear error ... and changes
nothing"). :meth:`Signal.from_mapping` reports every bad field at once, so the API can answer
422 with one message per field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.errors import InvalidInput, Issue
from catalyst_ibkr.core.ids import ClientOrderId, ConId, SignalId, StrategyId
from catalyst_ibkr.core.instruments import validate_currency, validate_symbol
from catalyst_ibkr.core.money import ensure_aware_utc, parse_decimal

__all__ = ["DEFAULT_TTL_S", "MAX_TTL_S", "SIGNAL_FIELDS", "Signal"]

DEFAULT_TTL_S = Decimal(60)
#: A signal older than a day is not a signal any more; IBKR's cOID window is also 24 h.
MAX_TTL_S = Decimal(86400)

SIGNAL_FIELDS = frozenset(
    {
        "id", "symbol", "side", "quantity", "order_type", "limit_price", "stop_price", "tif",
        "outside_rth", "conid", "exchange", "currency", "strategy", "ttl_s", "take_profit",
        "stop_loss",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Signal:
    """A request to trade, as received. Immutable: what we were asked stays on record.

    ``take_profit`` / ``stop_loss`` ask for bracket children (a limit and a stop on the
    opposite side for the same quantity).
    """

    id: SignalId
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    received_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    outside_rth: bool = False
    conid: ConId | None = None
    exchange: str | None = None
    currency: str | None = None
    strategy: StrategyId | None = None
    ttl_s: Decimal = DEFAULT_TTL_S
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        fix = _Fixer(self, issues)
        fix("id", SignalId)
        fix("symbol", validate_symbol)
        fix("side", lambda v: _enum(Side, v, "side"))
        fix("order_type", lambda v: _enum(OrderType, v, "order_type"))
        fix("tif", lambda v: _enum(TimeInForce, v, "tif"))
        fix("quantity", lambda v: parse_decimal(v, "quantity", positive=True))
        for name in ("limit_price", "stop_price", "take_profit", "stop_loss"):
            fix(name, _optional_price(name))
        fix("outside_rth", _boolean)
        fix("conid", lambda v: None if v is None else ConId(v))
        fix("exchange", lambda v: None if v is None else _exchange(v))
        fix("currency", lambda v: None if v is None else validate_currency(v))
        fix("strategy", lambda v: None if v is None else StrategyId(v))
        fix("ttl_s", _ttl)
        fix("received_at", lambda v: ensure_aware_utc(v, "received_at"))
        if not issues:
            issues.extend(self._cross_field_issues())
        if issues:
            raise InvalidInput(issues)

    def _cross_field_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        kind = self.order_type
        for name, needed in (
            ("limit_price", kind.needs_limit_price),
            ("stop_price", kind.needs_stop_price),
        ):
            present = getattr(self, name) is not None
            if needed and not present:
                issues.append(Issue(name, f"is required for order_type {kind}"))
            elif present and not needed:
                issues.append(Issue(name, f"must be omitted for order_type {kind}"))
        if self.outside_rth and kind is OrderType.MKT:
            issues.append(
                Issue("outside_rth", "is only allowed for priced orders (LMT, STP, STP_LMT)")
            )
        if issues:
            return issues
        # The bracket children must sit on the profitable / protective side of the entry.
        up = self.side is Side.BUY
        entry = self.limit_price if self.limit_price is not None else self.stop_price
        tp, sl = self.take_profit, self.stop_loss
        word = "above" if up else "below"
        other = "below" if up else "above"
        if tp is not None and entry is not None and (tp <= entry if up else tp >= entry):
            issues.append(Issue("take_profit", f"must be {word} the entry price {entry}"))
        if sl is not None and entry is not None and (sl >= entry if up else sl <= entry):
            issues.append(Issue("stop_loss", f"must be {other} the entry price {entry}"))
        if tp is not None and sl is not None and (tp <= sl if up else tp >= sl):
            issues.append(Issue("take_profit", f"must be {word} stop_loss {sl} for a {self.side}"))
        return issues

    @classmethod
    def from_mapping(
        cls, body: Mapping[str, Any], received_at: datetime, *,
        default_ttl_s: Decimal | None = None,
    ) -> Signal:
        """Build a signal from a decoded JSON body; unknown keys and bad values are refused.
        ``default_ttl_s``: the ttl of a body that sends none (None: DEFAULT_TTL_S)."""
        if not isinstance(body, Mapping):
            raise InvalidInput("body", "must be a JSON object")
        issues = [
            Issue(str(key), "is not a known field; remove it (see POST /v1/signals)")
            for key in sorted(map(str, body))
            if key not in SIGNAL_FIELDS
        ]
        issues += [
            Issue(name, "is required")
            for name in ("id", "symbol", "side", "quantity", "order_type")
            if body.get(name) is None
        ]
        if issues:
            raise InvalidInput(issues)
        kwargs = {key: value for key, value in body.items() if value is not None}
        if "ttl_s" in kwargs and isinstance(kwargs["ttl_s"], float):
            raise InvalidInput("ttl_s", "must be an integer or decimal string, not a float")
        if "ttl_s" not in kwargs and default_ttl_s is not None:
            kwargs["ttl_s"] = default_ttl_s
        return cls(received_at=received_at, **kwargs)

    @property
    def client_order_id(self) -> ClientOrderId:
        """The cOID of the (parent) order for this signal; the same on every retry."""
        return ClientOrderId.for_signal(self.id)

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=float(self.ttl_s))

    @property
    def expires_at(self) -> datetime:
        return self.received_at + self.ttl

    def is_expired(self, now: datetime) -> bool:
        """A signal unsent at ``expires_at`` becomes EXPIRED and is never sent late."""
        return now >= self.expires_at

    @property
    def signed_quantity(self) -> Decimal:
        return self.side.sign * self.quantity


class _Fixer:
    """Normalise one field in place, recording the problem instead of stopping at the first."""

    def __init__(self, signal: Signal, issues: list[Issue]) -> None:
        self._signal = signal
        self._issues = issues

    def __call__(self, name: str, convert: Callable[[Any], Any]) -> None:
        try:
            object.__setattr__(self._signal, name, convert(getattr(self._signal, name)))
        except InvalidInput as exc:
            self._issues.extend(Issue(name, issue.problem) for issue in exc.issues)


_E = TypeVar("_E", Side, OrderType, TimeInForce)


def _enum(kind: type[_E], value: Any, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(field, f"{value!r} is not one of {allowed}") from None


def _optional_price(field: str) -> Callable[[Any], Decimal | None]:
    def convert(value: Any) -> Decimal | None:
        return None if value is None else parse_decimal(value, field, positive=True)

    return convert


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("outside_rth", f"must be true or false, got {value!r}")
    return value


def _exchange(value: Any) -> str:
    if not isinstance(value, str) or not value.strip().isalnum() or len(value.strip()) > 12:
        raise InvalidInput("exchange", f"{value!r} is not an exchange code like 'SMART'")
    return value.strip().upper()


def _ttl(value: Any) -> Decimal:
    ttl = parse_decimal(value, "ttl_s", positive=True, max_places=3)
    if ttl > MAX_TTL_S:
        raise InvalidInput("ttl_s", f"must be at most {MAX_TTL_S} seconds, got {ttl}")
    return ttl
