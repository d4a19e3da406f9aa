"""A point-in-time view of the IBKR account, as the risk engine consumes it.

Why a snapshot with a time: buying power and net liquidation move with the market; a risk
check must know how old its numbers are, and a missing figure must stay missing (None) rather
than default to zero, which would read as "no money" or, worse, "no margin used".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from catalyst_ibkr.core.ids import AccountId
from catalyst_ibkr.core.instruments import validate_currency
from catalyst_ibkr.core.money import ensure_aware_utc, parse_decimal

__all__ = ["AccountSnapshot"]

_REQUIRED = ("net_liquidation", "buying_power", "cash")
_OPTIONAL = (
    "available_funds",
    "excess_liquidity",
    "gross_position_value",
    "init_margin",
    "maint_margin",
    "realized_pnl",
    "unrealized_pnl",
)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """IBKR account summary figures (in ``currency``) at ``time``.

    Field names follow IBKR's summary tags: NetLiquidation, BuyingPower, TotalCashValue,
    AvailableFunds, ExcessLiquidity, GrossPositionValue, InitMarginReq, MaintMarginReq.
    """

    account: AccountId
    currency: str
    net_liquidation: Decimal
    buying_power: Decimal
    cash: Decimal
    time: datetime
    available_funds: Decimal | None = None
    excess_liquidity: Decimal | None = None
    gross_position_value: Decimal | None = None
    init_margin: Decimal | None = None
    maint_margin: Decimal | None = None
    realized_pnl: Decimal | None = None
    unrealized_pnl: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", AccountId(self.account))
        object.__setattr__(self, "currency", validate_currency(self.currency))
        for name in _REQUIRED:
            object.__setattr__(self, name, parse_decimal(getattr(self, name), name))
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_decimal(value, name))
        object.__setattr__(self, "time", ensure_aware_utc(self.time, "time"))

    def age(self, now: datetime) -> timedelta:
        return ensure_aware_utc(now, "now") - self.time

    @property
    def is_paper(self) -> bool:
        return self.account.is_paper
