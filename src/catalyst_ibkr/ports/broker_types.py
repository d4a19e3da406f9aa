"""Values that cross the Broker port: errors, requests, outcomes, reports and events.

Frozen dataclasses of domain values only (Decimal, aware UTC datetimes, explicit ids), so no
wire type of either IBKR API leaks past an adapter. Requests validate themselves so that no
adapter can send an impossible combination. `catalyst_ibkr.ports.broker` re-exports all of
these beside the `Broker` protocol; import them from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from catalyst_ibkr.core.account import AccountSnapshot
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import (
    AccountId,
    BrokerOrderId,
    ClientOrderId,
    ConId,
    ExecutionId,
    StrategyId,
)
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_fsm import OrderStatus

__all__ = [
    "Accepted",
    "AccountSummary",
    "BracketLeg",
    "BrokerError",
    "BrokerEvent",
    "BrokerUnavailable",
    "CancelOrder",
    "CommandOutcome",
    "EventStream",
    "ExecutionReport",
    "FillEvent",
    "HealthEvent",
    "InstrumentNotFound",
    "ModifyOrder",
    "OrderEvent",
    "OrderReport",
    "OutcomeUnknown",
    "PlaceOrder",
    "PositionReport",
    "Rejected",
    "SessionHealth",
]


# -- errors -------------------------------------------------------------------------------


class BrokerError(Exception):
    """Base of everything a Broker raises; adapters translate transport errors into these."""


class OutcomeUnknown(BrokerError):
    """The command may or may not have reached IBKR. Reconcile by cOID; never resend blind."""

    def __init__(self, client_order_id: ClientOrderId | None, detail: str) -> None:
        self.client_order_id = client_order_id
        self.detail = detail
        super().__init__(f"outcome unknown for cOID {client_order_id}: {detail}")


class BrokerUnavailable(BrokerError):
    """The broker could not be asked: nothing was sent, or a read could not be answered."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class BrokerMisconfigured(BrokerUnavailable):
    """The gateway answered and our configuration does not fit it (an account it does not
    hold): nothing was sent, and waiting will not help. A service refuses to start on it
    (a gateway that is merely down is waited for); one-shot commands treat it as
    unavailable."""


class InstrumentNotFound(BrokerError):
    """The broker definitively has no contract for this symbol (IB error 200 / empty secdef)."""

    def __init__(self, symbol: str, detail: str = "") -> None:
        self.symbol = symbol
        self.detail = detail
        super().__init__(f"no contract for {symbol!r}" + (f": {detail}" if detail else ""))


# -- requests -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BracketLeg:
    """A child of a bracket: same quantity, opposite side, active once the parent fills."""

    client_order_id: ClientOrderId
    order_type: OrderType  # LMT for a take-profit, STP for a stop-loss
    price: Decimal


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A new order. Validated here so no adapter sends an impossible combination."""

    client_order_id: ClientOrderId
    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType
    tif: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    outside_rth: bool = False
    account: AccountId | None = None  # None: the adapter's configured account
    strategy: StrategyId | None = None
    legs: tuple[BracketLeg, ...] = ()

    def __post_init__(self) -> None:
        _check_quantity(self.quantity)
        _check_prices(self.order_type, self.limit_price, self.stop_price)
        ids = [self.client_order_id, *(leg.client_order_id for leg in self.legs)]
        if len(set(ids)) != len(ids):
            raise ValueError("every bracket leg needs its own cOID, distinct from the parent's")
        for leg in self.legs:
            if leg.order_type not in (OrderType.LMT, OrderType.STP):
                raise ValueError(
                    f"a bracket leg is a LMT (take-profit) or STP (stop-loss), not "
                    f"{leg.order_type.value}"
                )
            _check_price(leg.price)


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    """Change a working order's quantity and/or prices; fields left None keep their value."""

    client_order_id: ClientOrderId
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    broker_order_id: BrokerOrderId | None = None  # a hint that saves the adapter a lookup

    def __post_init__(self) -> None:
        if self.quantity is None and self.limit_price is None and self.stop_price is None:
            raise ValueError("a modify must change quantity, limit_price or stop_price")
        if self.quantity is not None:
            _check_quantity(self.quantity)
        for price in (self.limit_price, self.stop_price):
            if price is not None:
                _check_price(price)


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel one order, named by our cOID or (for external orders) by the broker's id."""

    client_order_id: ClientOrderId | None = None
    broker_order_id: BrokerOrderId | None = None

    def __post_init__(self) -> None:
        if self.client_order_id is None and self.broker_order_id is None:
            raise ValueError("a cancel needs a client_order_id or a broker_order_id")


# -- command outcomes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """IBKR took the command. For a cancel this means "cancel requested", not "cancelled"."""

    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    """IBKR definitively refused the command; nothing is working because of it."""

    client_order_id: ClientOrderId | None
    reason: str
    code: str | None = None  # IBKR's error code or message id where there is one


CommandOutcome = Accepted | Rejected


# -- reports ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderReport:
    """The broker's current view of one order (client_order_id None: an external order)."""

    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId
    account: AccountId
    conid: ConId
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    filled_quantity: Decimal
    status: OrderStatus
    updated_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    avg_fill_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """One execution (fill). `execution_id` is unique per fill; replays repeat it unchanged."""

    execution_id: ExecutionId
    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId
    account: AccountId
    conid: ConId
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal | None = None  # may arrive later (TWS commissionReport)

    def to_fill(self) -> Fill:
        """The domain fill this execution is evidence of (positions are built from these)."""
        return Fill(
            execution_id=self.execution_id,
            conid=self.conid,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            time=self.time,
            commission=self.commission,
            client_order_id=self.client_order_id,
            broker_order_id=self.broker_order_id,
            account=self.account,
        )


@dataclass(frozen=True, slots=True)
class PositionReport:
    account: AccountId
    conid: ConId
    symbol: str
    quantity: Decimal  # signed: negative is short
    avg_cost: Decimal


#: The account summary is the core's validated snapshot (one type, not a copy): buying power,
#: net liquidation and cash are required; margin and P&L figures are optional (None = unknown).
AccountSummary = AccountSnapshot


@dataclass(frozen=True, slots=True)
class SessionHealth:
    """Whether orders can be sent now. `competing`: another login holds the brokerage session."""

    connected: bool
    authenticated: bool
    time: datetime
    competing: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.connected and self.authenticated and not self.competing


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    report: OrderReport


@dataclass(frozen=True, slots=True)
class FillEvent:
    execution: ExecutionReport


@dataclass(frozen=True, slots=True)
class HealthEvent:
    health: SessionHealth


BrokerEvent = OrderEvent | FillEvent | HealthEvent


class EventStream(Protocol):
    """An async iterator of broker events that can be closed (async generators qualify)."""

    def __aiter__(self) -> AsyncIterator[BrokerEvent]: ...

    async def __anext__(self) -> BrokerEvent: ...

    async def aclose(self) -> None: ...


def _check_quantity(quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise ValueError(f"quantity must be a positive finite Decimal, got {quantity!r}")


def _check_price(price: Decimal) -> None:
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise ValueError(f"price must be a positive finite Decimal, got {price!r}")


def _check_prices(order_type: OrderType, limit: Decimal | None, stop: Decimal | None) -> None:
    needs_limit = order_type in (OrderType.LMT, OrderType.STP_LMT)
    needs_stop = order_type in (OrderType.STP, OrderType.STP_LMT)
    if needs_limit != (limit is not None):
        verb = "needs" if needs_limit else "must not have"
        raise ValueError(f"a {order_type.value} order {verb} a limit_price")
    if needs_stop != (stop is not None):
        verb = "needs" if needs_stop else "must not have"
        raise ValueError(f"a {order_type.value} order {verb} a stop_price")
    for price in (limit, stop):
        if price is not None:
            _check_price(price)
