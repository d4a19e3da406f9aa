"""The inputs of a risk decision: what is being asked (intent) and what is true now (context).

Why plain frozen snapshots: the checks must be pure functions, so everything they look at is
handed in, assembled by the OMS from its journal and the broker's last reports. An order
counts against the limits from the moment it is journaled, so `working_orders` holds every
order that is not closed, including PendingSubmit and in-doubt (OutcomeUnknown) ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce, TradingState
from catalyst_ibkr.core.ids import ClientOrderId, ConId, StrategyId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote

__all__ = [
    "CancelIntent",
    "IntentAction",
    "OrderIntent",
    "PositionExposure",
    "RecentOrder",
    "RiskContext",
    "WorkingOrder",
]


class IntentAction(StrEnum):
    NEW = "NEW"
    MODIFY = "MODIFY"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order as it would be after this request: a new order, or a working order after a
    modify (the OMS merges the changed fields into the original before asking)."""

    client_order_id: ClientOrderId
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    tif: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    conid: ConId | None = None
    strategy: StrategyId | None = None
    outside_rth: bool = False
    action: IntentAction = IntentAction.NEW


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """A cancel. Only the broker-outage hold stops it: HALTED always lets cancels through.
    `client_order_id` is None for an external order (named by the broker's id instead)."""

    client_order_id: ClientOrderId | None


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A journaled order that is not closed (working, pending or in doubt).

    `price` is the per-unit price its exposure is counted at (limit, stop, or the quote
    when it was sent for a market order): always positive.
    """

    client_order_id: ClientOrderId
    conid: ConId
    side: Side
    remaining_quantity: Decimal
    price: Decimal
    multiplier: Decimal = Decimal(1)
    in_doubt: bool = False

    @property
    def notional(self) -> Decimal:
        return abs(self.remaining_quantity) * self.price * self.multiplier


@dataclass(frozen=True, slots=True)
class PositionExposure:
    """A held position (signed quantity) valued at its latest mark."""

    conid: ConId
    quantity: Decimal
    mark_price: Decimal
    multiplier: Decimal = Decimal(1)

    @property
    def notional(self) -> Decimal:
        return abs(self.quantity) * self.mark_price * self.multiplier


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """An order already allowed and journaled, remembered for the throttle and duplicates."""

    time: datetime
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    strategy: StrategyId | None = None

    @classmethod
    def of(cls, intent: OrderIntent, time: datetime) -> RecentOrder:
        return cls(
            time=time,
            symbol=intent.symbol.upper(),
            side=intent.side,
            quantity=intent.quantity,
            order_type=intent.order_type,
            limit_price=intent.limit_price,
            stop_price=intent.stop_price,
            strategy=intent.strategy,
        )


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Everything true at decision time. Missing facts are None and make checks fail closed.

    - `instrument`: the resolved instrument of the intent (None: unknown, deny).
    - `quote`: the latest quote for it, fresh or not (freshness is judged by the checks).
    - `broker_hold_reason`: set while the broker-outage hold lasts (nothing is sent).
    - `buying_power`: from the last account summary (None: unknown, deny increasing orders).
    - `daily_pnl`: realized + unrealized P&L since the trading day began (negative = loss).
    - `disabled_strategies`: strategies stopped by the fill circuit (`StrategyFills`) until
      a person re-enables them.
    """

    now: datetime
    instrument: Instrument | None
    quote: Quote | None = None
    trading_state: TradingState = TradingState.ACTIVE
    broker_hold_reason: str | None = None
    positions: Mapping[ConId, PositionExposure] = field(default_factory=dict)
    working_orders: tuple[WorkingOrder, ...] = ()
    buying_power: Decimal | None = None
    daily_pnl: Decimal = Decimal(0)
    recent_orders: tuple[RecentOrder, ...] = ()
    disabled_strategies: frozenset[StrategyId] = frozenset()
