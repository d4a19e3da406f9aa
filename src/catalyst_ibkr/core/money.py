"""Decimal parsing, formatting and conservative rounding; UTC normalisation.

Why this exists: floats cannot represent 0.1, ``Decimal("NaN")`` compares false with
everything (so a NaN limit would slip past every ``>`` check), and rounding a price to the tick
in the wrong direction silently makes an order more aggressive than the trader asked. So:

* every number from outside goes through :func:`parse_decimal` (finite, no floats, bounded);
* prices are rounded only in the direction that makes the order *less* aggressive (a buy
  limit down, a sell limit up) or refused (:func:`require_on_step`) where no direction is
  safe (stop prices: rounding either way moves the trigger);
* quantities are rounded down to the lot, never up, and refused if that leaves nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation, localcontext

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.errors import InvalidInput

__all__ = [
    "MAX_ABS_VALUE",
    "ensure_aware_utc",
    "format_decimal",
    "parse_decimal",
    "require_on_step",
    "round_limit_price",
    "round_quantity_to_lot",
]

#: Anything larger is a typo or an attack (1e308 quantities), not an order.
MAX_ABS_VALUE = Decimal("1e12")
#: Enough places for every IBKR tick and fractional share; more is noise.
MAX_PLACES = 10


def parse_decimal(
    value: object,
    field: str,
    *,
    positive: bool = False,
    non_negative: bool = False,
    max_places: int = MAX_PLACES,
    max_abs: Decimal = MAX_ABS_VALUE,
) -> Decimal:
    """Turn ``value`` (a ``Decimal``, ``int`` or decimal string) into a finite ``Decimal``.

    Floats are refused: by the time a float reaches us its decimal value is already lost, and
    the caller should parse JSON numbers as ``Decimal`` instead. Raises :class:`InvalidInput`
    naming ``field`` and what to send instead.
    """
    if isinstance(value, bool):
        raise InvalidInput(field, "must be a number, got a boolean")
    if isinstance(value, float):
        raise InvalidInput(field, "must be a decimal string or integer, not a float")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        # ASCII only: Decimal() would happily read Arabic-Indic or full-width digits.
        if not text or len(text) > 40 or not text.isascii() or "_" in text:
            raise InvalidInput(field, f"{value!r} is not a decimal number like '101.25'")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(field, f"{value!r} is not a decimal number like '101.25'") from None
    else:
        raise InvalidInput(field, f"must be a decimal number, got {type(value).__name__}")
    if not number.is_finite():
        raise InvalidInput(field, f"must be a finite number, got {number}")
    if abs(number) > max_abs:
        raise InvalidInput(field, f"{format_decimal(number)} is out of range (at most {max_abs})")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers have an int exponent
    if -exponent > max_places and number != number.quantize(Decimal(1).scaleb(-max_places)):
        raise InvalidInput(field, f"{number} has more than {max_places} decimal places")
    if positive and number <= 0:
        raise InvalidInput(field, f"must be greater than zero, got {format_decimal(number)}")
    if non_negative and number < 0:
        raise InvalidInput(field, f"must not be negative, got {format_decimal(number)}")
    if number == 0:
        number = abs(number)  # no "-0" leaking into output
    return number


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without exponent (``1E+3`` -> ``"1000"``); parse_decimal inverts it."""
    if not value.is_finite():
        raise ValueError(f"cannot format non-finite {value}")
    if value == 0:
        value = abs(value)  # "-0.00" -> "0.00"
    return format(value, "f")


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    if step <= 0 or not step.is_finite():
        raise ValueError(f"step must be a positive finite Decimal, got {step}")
    with localcontext() as ctx:
        ctx.prec = 60
        units = (value / step).to_integral_value(rounding=rounding)
        return (units * step).quantize(step)


def round_limit_price(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """Round a limit price onto the tick in the direction that never pays more / gets less.

    A buy limit rounds down, a sell limit rounds up: the order becomes, at most, a little less
    likely to fill; it never trades at a worse price than the trader wrote. A price already on
    the tick is returned unchanged (as the same number).
    """
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    rounded = _to_step(price, tick, rounding)
    if rounded <= 0:
        raise InvalidInput("limit_price", f"{price} rounds to {rounded} on tick {tick}")
    return price if rounded == price else rounded


def require_on_step(value: Decimal, step: Decimal, field: str) -> Decimal:
    """Refuse ``value`` unless it is a whole multiple of ``step``.

    For stop prices (either rounding direction changes when the order triggers) and anywhere
    else a silent change would alter meaning.
    """
    if _to_step(value, step, ROUND_FLOOR) != value:
        raise InvalidInput(field, f"{value} is not a multiple of {step}; send a value on the step")
    return value


def round_quantity_to_lot(quantity: Decimal, lot: Decimal, field: str = "quantity") -> Decimal:
    """Round a positive quantity down to a whole number of lots; refuse it if that is zero.

    Down, because trading less than asked is recoverable and trading more is not.
    """
    rounded = _to_step(quantity, lot, ROUND_FLOOR)
    if rounded <= 0:
        raise InvalidInput(field, f"{quantity} is less than one lot of {lot}")
    return quantity if rounded == quantity else rounded


def ensure_aware_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes, whose meaning depends on the host."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(field, "must be timezone-aware (e.g. 2026-01-05T14:30:00Z)")
    return value.astimezone(UTC)
