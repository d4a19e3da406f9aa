"""Small closed vocabularies shared by signals, orders and risk.

``StrEnum`` so the wire value is the enum value (``"BUY"``, ``"STP_LMT"``), matching the
``POST /v1/signals`` body and the CLI without a translation table.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

__all__ = ["OrderType", "Side", "TimeInForce", "TradingState"]


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> Decimal:
        """+1 for a buy, -1 for a sell: signed quantity = sign * quantity."""
        return Decimal(1) if self is Side.BUY else Decimal(-1)

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MKT = "MKT"
    LMT = "LMT"
    STP = "STP"
    STP_LMT = "STP_LMT"

    @property
    def needs_limit_price(self) -> bool:
        return self in (OrderType.LMT, OrderType.STP_LMT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrderType.STP, OrderType.STP_LMT)


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"


class TradingState(StrEnum):
    """Operator trading state (persisted until a person changes it).

    ACTIVE: everything allowed. REDUCING: only orders that shrink |position|, plus cancels.
    HALTED: no submit or modify; cancels are always allowed.
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"
