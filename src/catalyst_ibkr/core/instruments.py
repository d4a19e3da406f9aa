"""What can be traded and on what grid.

Why: tick and lot size decide whether a price or quantity is even expressible at IBKR, and the
multiplier turns price moves into money. Keeping them on one frozen value means a risk check, a
position and an order all round and value the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.money import (
    parse_decimal,
    require_on_step,
    round_limit_price,
    round_quantity_to_lot,
)

__all__ = ["Instrument", "validate_currency", "validate_symbol"]

# IBKR symbols: letters, digits, and the separators IBKR uses in share classes ("BRK B").
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9 ./-]{0,19}")
_CODE = re.compile(r"[A-Z0-9]{2,12}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def validate_symbol(value: object, field: str = "symbol") -> str:
    """Return the upper-cased symbol, or raise naming the field.

    ASCII only on purpose: a homoglyph (Cyrillic "А" for "A") must not resolve to a real
    ticker.
    """
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string, got {type(value).__name__}")
    symbol = value.strip().upper()
    if _SYMBOL.fullmatch(symbol) is None:
        raise InvalidInput(
            field, f"{value!r} is not a ticker; use 1-20 of A-Z, 0-9, space, '.', '/', '-'"
        )
    return symbol


def validate_currency(value: object, field: str = "currency") -> str:
    if not isinstance(value, str) or _CURRENCY.fullmatch(value.strip().upper()) is None:
        raise InvalidInput(field, f"{value!r} is not an ISO currency code such as 'USD'")
    return value.strip().upper()


def _validate_code(value: object, field: str) -> str:
    if not isinstance(value, str) or _CODE.fullmatch(value.strip().upper()) is None:
        raise InvalidInput(field, f"{value!r} is not a code like 'SMART' or 'STK'")
    return value.strip().upper()


@dataclass(frozen=True, slots=True)
class Instrument:
    """One IBKR contract. ``tick``: price step; ``lot``: quantity step; ``multiplier``: money
    per 1.0 price move per unit (1 for stocks, 100 for US equity options)."""

    conid: ConId
    symbol: str
    sec_type: str = "STK"
    exchange: str = "SMART"
    currency: str = "USD"
    tick: Decimal = Decimal("0.01")
    lot: Decimal = Decimal(1)
    multiplier: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "conid", ConId(self.conid))
        object.__setattr__(self, "symbol", validate_symbol(self.symbol))
        object.__setattr__(self, "sec_type", _validate_code(self.sec_type, "sec_type"))
        object.__setattr__(self, "exchange", _validate_code(self.exchange, "exchange"))
        object.__setattr__(self, "currency", validate_currency(self.currency))
        for name in ("tick", "lot", "multiplier"):
            object.__setattr__(self, name, parse_decimal(getattr(self, name), name, positive=True))

    def round_limit_price(self, price: Decimal, side: Side) -> Decimal:
        """The limit price on this instrument's tick, rounded the conservative way."""
        return round_limit_price(price, self.tick, side)

    def check_stop_price(self, price: Decimal) -> Decimal:
        """Stop prices are not rounded (either way moves the trigger); off-tick is refused."""
        return require_on_step(price, self.tick, "stop_price")

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """The quantity rounded down to whole lots; refused if that leaves nothing."""
        return round_quantity_to_lot(quantity, self.lot)

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Money value of ``quantity`` at ``price`` (absolute, in the instrument currency)."""
        return abs(quantity) * price * self.multiplier
