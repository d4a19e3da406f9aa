"""Value types the engine hands out: tickets in, frozen snapshots out.

Every object a caller receives is frozen, so the server (and later the TWS view) can keep,
serialise or compare it without being able to change the engine's book behind its back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "TERMINAL_STATUSES",
    "AccountState",
    "Execution",
    "OrderStatus",
    "OrderTicket",
    "OrderType",
    "Origin",
    "Side",
    "SimOrder",
    "SimPosition",
    "TimeInForce",
]

Side = Literal["BUY", "SELL"]
OrderType = Literal["MKT", "LMT", "STP", "STP_LMT"]
TimeInForce = Literal["DAY", "GTC", "IOC"]
Origin = Literal["cp", "tws"]
OrderStatus = Literal[
    "PendingSubmit", "PreSubmitted", "Submitted", "Filled", "Cancelled", "Inactive"
]
TERMINAL_STATUSES: frozenset[str] = frozenset({"Filled", "Cancelled", "Inactive"})


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """What a client asked for, already translated from REST or TWS wire shapes."""

    account: str
    conid: int
    side: str
    order_type: str
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: str = "DAY"
    outside_rth: bool = False
    coid: str | None = None
    parent_coid: str | None = None
    oca_group: str | None = None
    origin: Origin = "cp"


@dataclass(frozen=True, slots=True)
class SimOrder:
    """One order as the engine sees it at one moment (a new snapshot replaces it on change)."""

    order_id: int
    coid: str | None
    account: str
    conid: int
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce
    outside_rth: bool
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    parent_coid: str | None = None
    oca_group: str | None = None
    reject_reason: str | None = None
    origin: Origin = "cp"
    listing_exchange: str = ""
    triggered: bool = False
    commission: Decimal = Decimal(0)
    parent_order_id: int | None = None
    expires_at: datetime | None = None

    @property
    def remaining_quantity(self) -> Decimal:
        """What is still to fill; zero once the order is done, whatever way it ended."""
        if self.status in TERMINAL_STATUSES:
            return Decimal(0)
        return self.quantity - self.filled_quantity

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill. ``execution_id`` follows IBKR's dotted-hex shape ("0000e0d5.6576fd38.01.01")."""

    execution_id: str
    order_id: int
    coid: str | None
    account: str
    conid: int
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    time: datetime
    exchange: str
    position_after: Decimal
    realized_pnl: Decimal

    @property
    def net_amount(self) -> Decimal:
        """Cash effect of the fill without commission (IBKR's trades ``net_amount``)."""
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class SimPosition:
    conid: int
    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    realized_pnl: Decimal
    market_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    account: str = ""


@dataclass(frozen=True, slots=True)
class AccountState:
    """Balances derived from cash and positions at one instant (see portfolio.py for rules)."""

    account: str
    cash: Decimal
    net_liquidation: Decimal
    gross_position_value: Decimal
    buying_power: Decimal
    available_funds: Decimal
    excess_liquidity: Decimal
    init_margin: Decimal
    maint_margin: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    daily_pnl: Decimal
    commissions: Decimal
