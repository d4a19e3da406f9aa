"""Stable reason codes for risk denials.

A denial is a local rejection: the order never reached IBKR. Callers (the signal API, the
CLI, dashboards, alert rules) match on these codes, so a code is never renamed or reused;
new codes are only appended. The human message beside it may change freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Denial", "ReasonCode"]


class ReasonCode(StrEnum):
    """Why the risk engine refused an order. Values are part of the public API."""

    # Gateway state
    BROKER_OUTAGE_HOLD = "BROKER_OUTAGE_HOLD"
    TRADING_HALTED = "TRADING_HALTED"
    REDUCE_ONLY = "REDUCE_ONLY"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    # Missing data: we fail closed rather than guess
    INSTRUMENT_NOT_FOUND = "INSTRUMENT_NOT_FOUND"
    NO_FRESH_QUOTE = "NO_FRESH_QUOTE"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    ACCOUNT_DATA_MISSING = "ACCOUNT_DATA_MISSING"
    # Static permissions
    SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
    CONID_NOT_ALLOWED = "CONID_NOT_ALLOWED"
    ORDER_TYPE_NOT_ALLOWED = "ORDER_TYPE_NOT_ALLOWED"
    TIF_NOT_ALLOWED = "TIF_NOT_ALLOWED"
    OUTSIDE_TRADING_HOURS = "OUTSIDE_TRADING_HOURS"
    # Order sanity
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    # Size and price limits
    QUANTITY_EXCEEDS_MAX = "QUANTITY_EXCEEDS_MAX"
    NOTIONAL_EXCEEDS_MAX = "NOTIONAL_EXCEEDS_MAX"
    PRICE_OUTSIDE_COLLAR = "PRICE_OUTSIDE_COLLAR"
    POSITION_EXCEEDS_MAX = "POSITION_EXCEEDS_MAX"
    GROSS_EXPOSURE_EXCEEDS_MAX = "GROSS_EXPOSURE_EXCEEDS_MAX"
    CUM_NOTIONAL_EXCEEDS_BUYING_POWER = "CUM_NOTIONAL_EXCEEDS_BUYING_POWER"
    # Flow controls
    RATE_LIMIT = "RATE_LIMIT"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    STRATEGY_DISABLED = "STRATEGY_DISABLED"


@dataclass(frozen=True, slots=True)
class Denial:
    """One failed check: a stable code for machines and a sentence for people."""

    reason_code: ReasonCode
    message: str

    def __str__(self) -> str:
        return f"{self.reason_code.value}: {self.message}"
